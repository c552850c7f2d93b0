package kafka_test

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/spate-io/spate/integration/kafkatest"
	"github.com/spate-io/spate/sdk"
	"github.com/spate-io/spate/sdk/connectors/kafka"
)

// byPartition reads every committed record of topic and returns, per
// partition, its values sorted.
func byPartition(t *testing.T, topic string, partitions int) map[int32][]string {
	t.Helper()
	want := len(readCommitted(t, topic))
	parts := map[string]map[int32]kgo.Offset{topic: {}}
	for p := range partitions {
		parts[topic][int32(p)] = kgo.NewOffset().AtStart()
	}
	cl, err := broker.Client(kgo.ConsumePartitions(parts), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	out := map[int32][]string{}
	for n := 0; n < want; {
		fs := cl.PollFetches(ctx(t))
		if errs := fs.Errors(); len(errs) > 0 {
			t.Fatal(errs[0].Err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			out[r.Partition] = append(out[r.Partition], string(r.Value))
			n++
		})
	}
	for _, vs := range out {
		sort.Strings(vs)
	}
	return out
}

// TestSinkPartitioning: a user Partitioner places each record where it
// says, at both delivery guarantees; so does a serializer that names the
// partition; the user's partitioner sees the topic's partition count.
func TestSinkPartitioning(t *testing.T) {
	key := func(line string) int { k, _, _ := strings.Cut(line, ","); n, _ := strconv.Atoi(k); return n }
	cases := []struct {
		name string
		g    kafka.DeliveryGuarantee
		ser  func(out string) kafka.Serializer[string]
		part kafka.Partitioner[string]
	}{
		{"partitioner/exactly-once", kafka.ExactlyOnce, kafka.StringValueTo, func(v string, r *kafka.ProducerRecord, n int) int {
			if n != 3 || string(r.Value) != v {
				panic(fmt.Sprintf("partitioner asked with %d partitions, value %q for %q", n, r.Value, v))
			}
			return key(v) % n
		}},
		{"partitioner/at-least-once", kafka.AtLeastOnce, kafka.StringValueTo, func(v string, _ *kafka.ProducerRecord, n int) int { return key(v) % n }},
		{"explicit/exactly-once", kafka.ExactlyOnce, func(out string) kafka.Serializer[string] {
			return func(v string) (kafka.ProducerRecord, error) {
				// A key that hashes elsewhere: the named partition wins.
				return kafka.ProducerRecord{Topic: out, Key: []byte("k"), Value: []byte(v), Partition: int32(key(v) % 3)}, nil
			}
		}, nil},
	}
	in := topic(t, 4)
	lines(t, in, 9, 20)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := topic(t, 3)
			e := env(t, map[string]string{"execution.checkpointing.interval": "40 ms"})
			e.SetParallelism(2)
			b := kafka.NewSinkBuilder[string]().SetBootstrapServers(broker.Bootstrap).SetRecordSerializer(c.ser(out)).
				SetDeliveryGuarantee(c.g).SetTransactionTimeout(time.Minute)
			if c.part != nil {
				b.SetPartitioner(c.part)
			}
			snk, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			kafka.SinkTo(kafka.FromSource(e, source(t, in, true), "Source: kafka"), snk, "Sink: kafka")
			if _, err := e.Execute(ctx(t), "partitioner"); err != nil {
				t.Fatal(err)
			}
			got := byPartition(t, out, 3)
			for p := range int32(3) {
				var want []string
				for k := int(p); k < 9; k += 3 {
					for s := 1; s <= 20; s++ {
						want = append(want, fmt.Sprintf("%d,%d", k, s))
					}
				}
				sort.Strings(want)
				if fmt.Sprint(got[p]) != fmt.Sprint(want) {
					t.Fatalf("partition %d holds %d records %.60v, want %d %.60v", p, len(got[p]), got[p], len(want), want)
				}
			}
		})
	}
}

// TestMissingOutputTopic: a sink whose topic does not exist fails the job
// for good when it starts, at every delivery guarantee, naming the topic; a
// topic only the serializer names fails at its first record.
func TestMissingOutputTopic(t *testing.T) {
	in := topic(t, 1)
	lines(t, in, 1, 3)
	for _, g := range []kafka.DeliveryGuarantee{kafka.ExactlyOnce, kafka.AtLeastOnce} {
		for _, where := range []string{"SetTopic", "serializer"} {
			t.Run(g.String()+"/"+where, func(t *testing.T) {
				b := kafka.NewSinkBuilder[string]().SetBootstrapServers(broker.Bootstrap).SetDeliveryGuarantee(g).SetTransactionTimeout(time.Minute)
				if where == "SetTopic" {
					b.SetTopic("no-such-output").SetRecordSerializer(kafka.StringValueTo(""))
				} else {
					b.SetRecordSerializer(kafka.StringValueTo("no-such-output"))
				}
				snk, err := b.Build()
				if err != nil {
					t.Fatal(err)
				}
				e := env(t, map[string]string{"execution.checkpointing.interval": "40 ms",
					"restart-strategy.type": "fixed-delay", "restart-strategy.fixed-delay.attempts": "3"})
				kafka.SinkTo(kafka.FromSource(e, source(t, in, true), "Source: kafka"), snk, "Sink: kafka")
				res, err := e.Execute(ctx(t), "missing-output")
				want := `kafka sink: output topic does not exist: "no-such-output" (UNKNOWN_TOPIC_OR_PARTITION: This server does not host this topic-partition.); create it (the brokers do not create topics for the sink), or fix the topic name`
				if !errors.Is(err, kafka.ErrMissingTopic) || !strings.Contains(err.Error(), want) {
					t.Fatalf("error %v, want ErrMissingTopic: %s", err, want)
				}
				if res != nil && res.Restarts != 0 {
					t.Fatalf("%d restarts, want none: a missing topic is final", res.Restarts)
				}
			})
		}
	}
}

// TestFinalGroupCommit: a bounded job too short for any checkpoint still
// leaves its consumer group's offsets at the end of the input, for lag
// monitoring.
func TestFinalGroupCommit(t *testing.T) {
	in := topic(t, 4)
	want := lines(t, in, 8, 10)
	group := in + "-group"
	src, err := kafka.NewSourceBuilder[string]().SetBootstrapServers(broker.Bootstrap).SetTopics(in).SetGroupID(group).
		SetBounded(kafka.Latest()).SetDeserializer(kafka.StringValue()).Build()
	if err != nil {
		t.Fatal(err)
	}
	e := env(t, nil) // no checkpoints
	e.SetParallelism(2)
	c := sdk.Collect(kafka.FromSource(e, src, "Source: kafka"))
	if _, err := e.Execute(ctx(t), "final-commit"); err != nil {
		t.Fatal(err)
	}
	if got := c.Items(); len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	if n := committedOffsets(t, group, in); n != int64(len(want)) {
		t.Fatalf("group %s committed offsets summing to %d, want %d", group, n, len(want))
	}
}

// order is a value of the Avro and JSON round trips.
type order struct {
	ID   int64
	Item string
}

// TestAvroAndJSONRoundTrip writes orders with AvroValueTo and JSONValueTo,
// with a record between them that is not a valid value, and reads them back
// with AvroValue and JSONValue: FailOnError fails the job naming the record,
// SkipOnError reads exactly the orders and counts the bad record.
func TestAvroAndJSONRoundTrip(t *testing.T) {
	avroTo, err := kafka.AvroValueTo[order]("")
	if err != nil {
		t.Fatal(err)
	}
	avro, err := kafka.AvroValue[order]()
	if err != nil {
		t.Fatal(err)
	}
	orders := []order{{1, "bolt"}, {2, "nut"}, {3, "washer, 8 mm"}}
	for _, f := range []struct {
		name  string
		ser   kafka.Serializer[order]
		deser kafka.Deserializer[order]
		bad   string
		why   string
	}{
		// A string field's length with no bytes behind it.
		{"avro", avroTo, avro, "\x02\x10", "offset 1 does not deserialize: "},
		{"json", kafka.JSONValueTo[order](""), kafka.JSONValue[order](), `{"ID": 2, "Item": `, "offset 1 does not deserialize: unexpected end of JSON input"},
	} {
		t.Run(f.name, func(t *testing.T) {
			in := topic(t, 1)
			var vals []string
			for i, o := range orders {
				r, err := f.ser(o)
				if err != nil {
					t.Fatal(err)
				}
				vals = append(vals, string(r.Value))
				if i == 0 {
					vals = append(vals, f.bad)
				}
			}
			if err := broker.ProduceTo(ctx(t), in, 0, vals); err != nil {
				t.Fatal(err)
			}
			read := func(p kafka.DeserializationErrors) (*kafka.KafkaSource[order], []order, error) {
				src, err := kafka.NewSourceBuilder[order]().SetBootstrapServers(broker.Bootstrap).SetTopics(in).
					SetBounded(kafka.Latest()).SetDeserializer(f.deser).SetDeserializationErrors(p).Build()
				if err != nil {
					t.Fatal(err)
				}
				e := env(t, nil)
				c := sdk.Collect(kafka.FromSource(e, src, "Source: kafka"))
				_, err = e.Execute(ctx(t), f.name)
				return src, c.Items(), err
			}
			_, _, err := read(kafka.FailOnError)
			if want := fmt.Sprintf("kafka source: record %s-0 %s", in, f.why); err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("FailOnError: %v, want it to contain %q", err, want)
			}
			src, got, err := read(kafka.SkipOnError)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(orders) || src.Skipped() != 1 {
				t.Fatalf("SkipOnError: read %v, %d skipped; want %v, 1 skipped", got, src.Skipped(), orders)
			}
		})
	}
}

// TestRescaleWithPendingTransactions takes a savepoint of an exactly-once
// job at parallelism 2 (a savepoint commits nothing: its transactions stay
// flushed and pending), lets the job write more into the transactions opened
// after it, cancels it, and restores from the savepoint at parallelism 3:
// the savepoint's transactions are committed by the subtasks that stand in
// for their old subtasks, the later ones aborted, and the output holds every
// record once.
func TestRescaleWithPendingTransactions(t *testing.T) {
	in, out := topic(t, 8), topic(t, 4)
	first := lines(t, in, 16, 50)
	var passed atomic.Int64
	waitPassed := func(n int) {
		for deadline := time.Now().Add(30 * time.Second); passed.Load() < int64(n); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d records reached the sink", passed.Load(), n)
			}
		}
	}
	// No periodic checkpoint comes to commit the savepoint's transactions.
	e := env(t, map[string]string{"execution.checkpointing.interval": "10 min"})
	e.SetParallelism(2)
	s := kafka.FromSource(e, source(t, in, false), "Source: kafka").UID("src")
	counted := sdk.Map(s, func(v string) string { passed.Add(1); return v }).UID("count")
	snk, err := kafka.NewSinkBuilder[string]().SetBootstrapServers(broker.Bootstrap).SetRecordSerializer(kafka.StringValueTo(out)).
		SetDeliveryGuarantee(kafka.ExactlyOnce).SetTransactionTimeout(15 * time.Minute).Build()
	if err != nil {
		t.Fatal(err)
	}
	kafka.SinkTo(counted, snk, "Sink: kafka").UID("sink")
	client, err := e.ExecuteAsync(ctx(t), "pending")
	if err != nil {
		t.Fatal(err)
	}
	waitPassed(len(first))
	sp, err := client.TriggerSavepoint(ctx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	var later []string
	var kvs []kafkatest.KV
	for k := range 16 {
		v := fmt.Sprintf("%d,%d", k, 51)
		kvs = append(kvs, kafkatest.KV{Key: strconv.Itoa(k), Value: v})
		later = append(later, v)
	}
	if err := broker.Produce(ctx(t), in, kvs); err != nil {
		t.Fatal(err)
	}
	waitPassed(len(first) + len(later))
	if got, err := broker.ReadCommittedNow(ctx(t), out); err != nil || len(got) != 0 {
		t.Fatalf("%d records committed before any checkpoint completed for the tasks (%v)", len(got), err)
	}
	client.Cancel()
	client.Wait()
	var second []string
	for k := range 16 {
		v := fmt.Sprintf("%d,%d", k, 52)
		second = append(second, v)
		if err := broker.Produce(ctx(t), in, []kafkatest.KV{{Key: strconv.Itoa(k), Value: v}}); err != nil {
			t.Fatal(err)
		}
	}
	e2 := env(t, map[string]string{"execution.checkpointing.interval": "40 ms", "execution.savepoint.path": sp})
	e2.SetParallelism(3)
	s2 := kafka.FromSource(e2, source(t, in, true), "Source: kafka").UID("src")
	kafka.SinkTo(sdk.Map(s2, func(v string) string { return v }).UID("count"), sink(t, out, kafka.ExactlyOnce), "Sink: kafka").UID("sink")
	if _, err := e2.Execute(ctx(t), "pending"); err != nil {
		t.Fatal(err)
	}
	want := append(append(first, later...), second...)
	sort.Strings(want)
	sameLines(t, readCommitted(t, out), want)
}
