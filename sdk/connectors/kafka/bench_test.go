package kafka_test

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/spate-io/spate/sdk"
	"github.com/spate-io/spate/sdk/connectors/kafka"
)

// BenchmarkKafkaExactlyOnce measures Kafka → keyed count → Kafka
// exactly-once with 1 s checkpoints, beside franz-go's raw produce and
// consume rates on the same broker in the same run. Each iteration moves
// 200 000 records of about 100 bytes through 4 partitions.
func BenchmarkKafkaExactlyOnce(b *testing.B) {
	const n = 200_000
	ctx := context.Background()
	seq := 0
	fresh := func(parts int) string {
		seq++
		name := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), seq)
		if err := broker.CreateTopic(ctx, name, parts); err != nil {
			b.Fatal(err)
		}
		return name
	}
	value := make([]byte, 100)
	produce := func(topic string) time.Duration {
		cl, err := broker.Client(kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)), kgo.ProducerLinger(5*time.Millisecond))
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		start := time.Now()
		var failed atomic.Value
		for i := range n {
			v := append(strconv.AppendInt(nil, int64(i%1000), 10), ',')
			v = append(v, value[:90]...)
			cl.Produce(ctx, &kgo.Record{Topic: topic, Key: v[:3], Value: v}, func(_ *kgo.Record, err error) {
				if err != nil {
					failed.Store(err)
				}
			})
		}
		if err := cl.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		if err, _ := failed.Load().(error); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	consume := func(topic string) time.Duration {
		cl, err := broker.Client(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		start := time.Now()
		for got := 0; got < n; {
			fs := cl.PollFetches(ctx)
			if errs := fs.Errors(); len(errs) > 0 {
				b.Fatal(errs[0].Err)
			}
			got += fs.NumRecords()
		}
		return time.Since(start)
	}
	var job, raw, rawIn time.Duration
	for b.Loop() {
		in, out := fresh(4), fresh(4)
		raw += produce(in)
		rawIn += consume(in)
		src, err := kafka.NewSourceBuilder[string]().SetBootstrapServers(broker.Bootstrap).SetTopics(in).
			SetBounded(kafka.Latest()).SetDeserializer(kafka.StringValue()).Build()
		if err != nil {
			b.Fatal(err)
		}
		snk, err := kafka.NewSinkBuilder[string]().SetBootstrapServers(broker.Bootstrap).
			SetRecordSerializer(kafka.StringValueTo(out)).SetDeliveryGuarantee(kafka.ExactlyOnce).
			SetTransactionTimeout(time.Minute).Build()
		if err != nil {
			b.Fatal(err)
		}
		e := env(b, map[string]string{"execution.checkpointing.interval": "1 s"})
		e.SetParallelism(2)
		lines := kafka.FromSource(e, src, "Source: kafka")
		counts := sdk.Sum(sdk.KeyBy(lines, func(l string) string { return l[:3] }), func(string) int64 { return 1 })
		counted := sdk.Map(counts, func(kv sdk.KeyValue[string, int64]) string { return kv.Key + "," + strconv.FormatInt(kv.Value, 10) })
		kafka.SinkTo(counted, snk, "Sink: kafka")
		start := time.Now()
		if _, err := e.Execute(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
		job += time.Since(start)
	}
	runs := float64(b.N)
	b.ReportMetric(n*runs/job.Seconds(), "job-records/s")
	b.ReportMetric(n*runs/raw.Seconds(), "raw-produce-records/s")
	b.ReportMetric(n*runs/rawIn.Seconds(), "raw-consume-records/s")
}
