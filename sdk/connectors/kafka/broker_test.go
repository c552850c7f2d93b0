package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/integration/kafkatest"
	"github.com/spate-io/spate/sdk"
	"github.com/spate-io/spate/sdk/connectors/kafka"
)

// broker is the real broker all tests of this binary share (scripts/kafka.sh).
var broker *kafkatest.Broker

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	b, err := kafkatest.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer b.Stop()
	broker = b
	return m.Run()
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

var topicSeq atomic.Int64

// topic creates a fresh topic.
func topic(t *testing.T, partitions int) string {
	t.Helper()
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' {
			return r
		}
		return '-'
	}, fmt.Sprintf("%s-%d", t.Name(), topicSeq.Add(1)))
	if err := broker.CreateTopic(ctx(t), name, partitions); err != nil {
		t.Fatal(err)
	}
	return name
}

// lines writes keys×perKey lines "key,seq", keyed by key, and returns them sorted.
func lines(t *testing.T, topic string, keys, perKey int) []string {
	t.Helper()
	var kvs []kafkatest.KV
	var want []string
	for s := 1; s <= perKey; s++ {
		for k := range keys {
			v := fmt.Sprintf("%d,%d", k, s)
			kvs = append(kvs, kafkatest.KV{Key: strconv.Itoa(k), Value: v})
			want = append(want, v)
		}
	}
	if err := broker.Produce(ctx(t), topic, kvs); err != nil {
		t.Fatal(err)
	}
	sort.Strings(want)
	return want
}

func env(t testing.TB, settings map[string]string) *sdk.Env {
	t.Helper()
	cfg := conf.New()
	dir := t.TempDir()
	all := map[string]string{
		"state.checkpoints.dir": filepath.Join(dir, "checkpoints"),
		"state.savepoints.dir":  filepath.Join(dir, "savepoints"),
		"execution.batch-size":  "64",
	}
	for k, v := range settings {
		all[k] = v
	}
	for k, v := range all {
		if err := cfg.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	return sdk.NewEnv(sdk.WithConfig(cfg), sdk.WithLogger(zerolog.New(logWriter())))
}

func logWriter() io.Writer {
	if os.Getenv("SPATE_TEST_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}

func source(t *testing.T, in string, bounded bool) *kafka.KafkaSource[string] {
	t.Helper()
	b := kafka.NewSourceBuilder[string]().SetBootstrapServers(broker.Bootstrap).SetTopics(in).
		SetDeserializer(kafka.StringValue()).SetPartitionDiscoveryInterval(200 * time.Millisecond)
	if bounded {
		b.SetBounded(kafka.Latest())
	}
	s, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sink(t *testing.T, out string, g kafka.DeliveryGuarantee) *kafka.KafkaSink[string] {
	t.Helper()
	s, err := kafka.NewSinkBuilder[string]().SetBootstrapServers(broker.Bootstrap).
		SetRecordSerializer(kafka.StringValueTo(out)).SetDeliveryGuarantee(g).SetTransactionTimeout(time.Minute).Build()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readCommitted(t *testing.T, topic string) []string {
	t.Helper()
	got, err := broker.ReadCommitted(ctx(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func sameLines(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("record %d: got %q, want %q (duplicates or losses)", i, got[i], want[i])
		}
	}
}

// TestBoundedExactlyOnceWithFailures reads a bounded 8-partition topic at
// parallelism 1, 2 and 4, fails the job twice while it processes, and writes
// with the exactly-once sink: a read_committed consumer sees every input
// record exactly once, and the job ends by itself.
func TestBoundedExactlyOnceWithFailures(t *testing.T) {
	in := topic(t, 8)
	want := lines(t, in, 16, 150)
	for _, p := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("p=%d", p), func(t *testing.T) {
			out := topic(t, 4)
			e := env(t, map[string]string{
				"execution.checkpointing.interval":      "40 ms",
				"restart-strategy.type":                 "fixed-delay",
				"restart-strategy.fixed-delay.attempts": "5",
				"restart-strategy.fixed-delay.delay":    "10 ms",
			})
			e.SetParallelism(p)
			var seen atomic.Int64
			failAt := []int64{int64(len(want)) / 3, 2 * int64(len(want)) / 3}
			s := kafka.FromSource(e, source(t, in, true), "Source: kafka").UID("src")
			slow := sdk.Map(s, func(v string) string {
				n := seen.Add(1)
				if n == failAt[0] || n == failAt[1] {
					panic(fmt.Sprintf("injected failure at record %d", n))
				}
				time.Sleep(100 * time.Microsecond) // let checkpoints fall between records
				return v
			}).UID("map")
			kafka.SinkTo(slow, sink(t, out, kafka.ExactlyOnce), "Sink: kafka").UID("sink")
			res, err := e.Execute(ctx(t), "bounded")
			if err != nil {
				t.Fatal(err)
			}
			if res.Restarts != 2 {
				t.Fatalf("%d restarts, want 2", res.Restarts)
			}
			sameLines(t, readCommitted(t, out), want)
		})
	}
}

// TestCommitFailureRecovers fails the sink after a checkpoint completed and
// before its transactions commit: the recovery commits them from the
// checkpoint (EndTxn with the saved producer id and epoch) and aborts the
// ones opened after it.
func TestCommitFailureRecovers(t *testing.T) {
	in, out := topic(t, 4), topic(t, 2)
	want := lines(t, in, 8, 200)
	e := env(t, map[string]string{
		"execution.checkpointing.interval":      "30 ms",
		"restart-strategy.type":                 "fixed-delay",
		"restart-strategy.fixed-delay.attempts": "3",
		"restart-strategy.fixed-delay.delay":    "10 ms",
	})
	e.SetParallelism(2)
	snk := sink(t, out, kafka.ExactlyOnce)
	var fails atomic.Int64
	kafka.SetBeforeCommit(snk, func(id int64) error {
		if id >= 3 && fails.Add(1) == 1 {
			return errors.New("injected failure before the commit")
		}
		return nil
	})
	s := kafka.FromSource(e, source(t, in, true), "Source: kafka").UID("src")
	slow := sdk.Map(s, func(v string) string { time.Sleep(200 * time.Microsecond); return v }).UID("map")
	kafka.SinkTo(slow, snk, "Sink: kafka").UID("sink")
	res, err := e.Execute(ctx(t), "commitfailure")
	if err != nil {
		t.Fatal(err)
	}
	if res.Restarts != 1 {
		t.Fatalf("%d restarts, want 1", res.Restarts)
	}
	sameLines(t, readCommitted(t, out), want)
}

// TestRescaleFromSavepoint reads an unbounded topic at parallelism 2, stops
// with a savepoint, adds records, and finishes bounded from the savepoint at
// parallelism 3: every partition's offset went to its new owner, so the
// output holds every record once.
func TestRescaleFromSavepoint(t *testing.T) {
	in, out := topic(t, 8), topic(t, 4)
	first := lines(t, in, 16, 100)
	e := env(t, map[string]string{"execution.checkpointing.interval": "40 ms"})
	e.SetParallelism(2)
	group := in + "-group"
	grouped, err := kafka.NewSourceBuilder[string]().SetBootstrapServers(broker.Bootstrap).SetTopics(in).
		SetDeserializer(kafka.StringValue()).SetGroupID(group).Build()
	if err != nil {
		t.Fatal(err)
	}
	s := kafka.FromSource(e, grouped, "Source: kafka").UID("src")
	kafka.SinkTo(s, sink(t, out, kafka.ExactlyOnce), "Sink: kafka").UID("sink")
	client, err := e.ExecuteAsync(ctx(t), "rescale")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(readCommitted(t, out)) < len(first) {
		if time.Now().After(deadline) {
			t.Fatal("the first run did not commit its input")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The offsets of completed checkpoints reach the consumer group.
	for committedOffsets(t, group, in) != int64(len(first)) {
		if time.Now().After(deadline) {
			t.Fatalf("group %s committed offsets summing to %d, want %d", group, committedOffsets(t, group, in), len(first))
		}
		time.Sleep(50 * time.Millisecond)
	}
	sp, err := client.StopWithSavepoint(ctx(t), "", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Wait(); err != nil {
		t.Fatal(err)
	}
	var kvs []kafkatest.KV
	var second []string
	for k := range 16 {
		v := fmt.Sprintf("%d,%d", k, 101)
		kvs = append(kvs, kafkatest.KV{Key: strconv.Itoa(k), Value: v})
		second = append(second, v)
	}
	if err := broker.Produce(ctx(t), in, kvs); err != nil {
		t.Fatal(err)
	}
	e2 := env(t, map[string]string{"execution.checkpointing.interval": "40 ms", "execution.savepoint.path": sp})
	e2.SetParallelism(3)
	s2 := kafka.FromSource(e2, source(t, in, true), "Source: kafka").UID("src")
	kafka.SinkTo(s2, sink(t, out, kafka.ExactlyOnce), "Sink: kafka").UID("sink")
	if _, err := e2.Execute(ctx(t), "rescale"); err != nil {
		t.Fatal(err)
	}
	want := append(first, second...)
	sort.Strings(want)
	sameLines(t, readCommitted(t, out), want)
}

// TestPartitionDiscovery adds partitions to the input while an unbounded
// job runs: the records written to them arrive.
func TestPartitionDiscovery(t *testing.T) {
	in, out := topic(t, 2), topic(t, 1)
	want := lines(t, in, 4, 10)
	e := env(t, map[string]string{"execution.checkpointing.interval": "40 ms"})
	e.SetParallelism(2)
	s := kafka.FromSource(e, source(t, in, false), "Source: kafka").UID("src")
	kafka.SinkTo(s, sink(t, out, kafka.ExactlyOnce), "Sink: kafka").UID("sink")
	client, err := e.ExecuteAsync(ctx(t), "discovery")
	if err != nil {
		t.Fatal(err)
	}
	defer client.Cancel()
	waitLines := func(n int) {
		deadline := time.Now().Add(30 * time.Second)
		for len(readCommitted(t, out)) < n {
			if time.Now().After(deadline) {
				t.Fatalf("only %d of %d records arrived", len(readCommitted(t, out)), n)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitLines(len(want))
	if err := broker.AddPartitions(ctx(t), in, 6); err != nil {
		t.Fatal(err)
	}
	more := lines(t, in, 64, 1) // 64 keys land on all 6 partitions
	want = append(want, more...)
	sort.Strings(want)
	waitLines(len(want))
	sameLines(t, readCommitted(t, out), want)
}

// TestDeserializationErrors: a record the deserializer rejects fails the
// job naming it, or is skipped and counted.
func TestDeserializationErrors(t *testing.T) {
	in := topic(t, 1)
	if err := broker.Produce(ctx(t), in, []kafkatest.KV{{Key: "a", Value: "1"}, {Key: "a", Value: "x"}, {Key: "a", Value: "3"}}); err != nil {
		t.Fatal(err)
	}
	build := func(p kafka.DeserializationErrors) *kafka.KafkaSource[int] {
		s, err := kafka.NewSourceBuilder[int]().SetBootstrapServers(broker.Bootstrap).SetTopics(in).SetBounded(kafka.Latest()).
			SetDeserializer(func(r *kafka.Record) (int, error) { return strconv.Atoi(string(r.Value)) }).
			SetDeserializationErrors(p).Build()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	e := env(t, nil)
	sdk.Collect(kafka.FromSource(e, build(kafka.FailOnError), "Source: kafka"))
	_, err := e.Execute(ctx(t), "fail")
	want := fmt.Sprintf("kafka source: record %s-0 offset 1 does not deserialize: strconv.Atoi: parsing \"x\": invalid syntax; fix the record or the deserializer, or skip such records with SetDeserializationErrors(kafka.SkipOnError)", in)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want it to contain %q", err, want)
	}
	e = env(t, nil)
	src := build(kafka.SkipOnError)
	c := sdk.Collect(kafka.FromSource(e, src, "Source: kafka"))
	if _, err := e.Execute(ctx(t), "skip"); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(c.Items()); got != "[1 3]" || src.Skipped() != 1 {
		t.Fatalf("got %s, %d skipped; want [1 3], 1 skipped", got, src.Skipped())
	}
}

// TestUnreachableAndMissing: an unreachable broker and a missing topic are
// clear errors within the connect timeout, not endless retries.
func TestUnreachableAndMissing(t *testing.T) {
	s, err := kafka.NewSourceBuilder[string]().SetBootstrapServers("127.0.0.1:1").SetTopics("in").
		SetDeserializer(kafka.StringValue()).SetConnectTimeout(time.Second).Build()
	if err != nil {
		t.Fatal(err)
	}
	e := env(t, nil)
	sdk.Collect(kafka.FromSource(e, s, "Source: kafka"))
	start := time.Now()
	_, err = e.Execute(ctx(t), "unreachable")
	if !errors.Is(err, kafka.ErrUnreachable) || !strings.Contains(err.Error(), "kafka: no broker reachable at 127.0.0.1:1 within 1s") {
		t.Fatalf("error %v, want ErrUnreachable naming 127.0.0.1:1", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %s", d)
	}
	s, err = kafka.NewSourceBuilder[string]().SetBootstrapServers(broker.Bootstrap).SetTopics("no-such-topic").
		SetDeserializer(kafka.StringValue()).Build()
	if err != nil {
		t.Fatal(err)
	}
	e = env(t, nil)
	sdk.Collect(kafka.FromSource(e, s, "Source: kafka"))
	_, err = e.Execute(ctx(t), "missing")
	if err == nil || !strings.Contains(err.Error(), `kafka source: topic "no-such-topic": UNKNOWN_TOPIC_OR_PARTITION`) || !strings.Contains(err.Error(), "create it, or fix the topic names") {
		t.Fatalf("error %v, want the missing topic named", err)
	}
}

// TestIdlePartitionDoesNotHoldBackEventTime: event-time windows over a
// 2-partition topic whose second partition never gets a record. Without
// idleness that partition holds the watermark back and no window fires; with
// idleness the windows up to the watermark fire, with exact counts.
func TestIdlePartitionDoesNotHoldBackEventTime(t *testing.T) {
	for _, idleness := range []time.Duration{0, 300 * time.Millisecond} {
		t.Run(fmt.Sprintf("idleness=%s", idleness), func(t *testing.T) {
			in := topic(t, 2)
			var vals []string
			for ts := 1000; ts <= 5000; ts += 250 { // 4 per second, 1000..5000
				vals = append(vals, strconv.Itoa(ts))
			}
			src, err := kafka.NewSourceBuilder[int64]().SetBootstrapServers(broker.Bootstrap).SetTopics(in).
				SetDeserializer(func(r *kafka.Record) (int64, error) { return strconv.ParseInt(string(r.Value), 10, 64) }).
				SetTimestampAssigner(func(v int64) int64 { return v }).
				SetWatermarks(0, idleness).Build()
			if err != nil {
				t.Fatal(err)
			}
			e := env(t, map[string]string{"pipeline.auto-watermark-interval": "20 ms"})
			e.SetParallelism(1)
			var read atomic.Int64
			s := sdk.Map(kafka.FromSource(e, src, "Source: kafka"), func(v int64) [2]int64 { read.Add(1); return [2]int64{v / 1000 * 1000, 1} })
			counts := sdk.KeyBy(s, func(v [2]int64) int64 { return 0 }).Window(sdk.TumblingEventTimeWindows(time.Second)).
				Reduce(func(a, b [2]int64) [2]int64 { return [2]int64{a[0], a[1] + b[1]} })
			var mu sync.Mutex
			var fired []string
			sdk.SinkFunc(counts, func(batch [][2]int64) error {
				mu.Lock()
				defer mu.Unlock()
				for _, c := range batch {
					fired = append(fired, fmt.Sprintf("%d:%d", c[0], c[1]))
				}
				return nil
			})
			client, err := e.ExecuteAsync(ctx(t), "idle")
			if err != nil {
				t.Fatal(err)
			}
			defer client.Cancel()
			if err := broker.ProduceTo(ctx(t), in, 0, vals); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(20 * time.Second)
			for read.Load() < int64(len(vals)) {
				if time.Now().After(deadline) {
					t.Fatalf("read %d of %d records", read.Load(), len(vals))
				}
				time.Sleep(10 * time.Millisecond)
			}
			got := func() string {
				mu.Lock()
				defer mu.Unlock()
				return strings.Join(fired, " ")
			}
			// A trickle on partition 0 keeps it active (at event time 5250)
			// while partition 1 stays empty.
			trickle := func() {
				if err := broker.ProduceTo(ctx(t), in, 0, []string{"5250"}); err != nil {
					t.Fatal(err)
				}
				time.Sleep(100 * time.Millisecond)
			}
			if idleness == 0 {
				for range 10 {
					trickle()
				}
				if g := got(); g != "" {
					t.Fatalf("windows fired while a partition without records should hold the watermark back: %s", g)
				}
				return
			}
			// The watermark reaches 5249: every window up to [4000, 5000) fires.
			want := "1000:4 2000:4 3000:4 4000:4"
			for got() != want {
				if time.Now().After(deadline) {
					client.Cancel()
					_, err := client.Wait()
					t.Fatalf("fired %q, want %q (job: %v)", got(), want, err)
				}
				trickle()
			}
		})
	}
}

// TestSASL reads over the broker's SASL_PLAINTEXT listener with PLAIN,
// SCRAM-SHA-256 and SCRAM-SHA-512, the password from a file; a wrong
// password fails with ErrAuthentication naming what to check.
func TestSASL(t *testing.T) {
	in := topic(t, 2)
	want := lines(t, in, 4, 5)
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good"), filepath.Join(dir, "bad")
	if err := os.WriteFile(good, []byte(kafkatest.SASLPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	read := func(mech, file string) ([]string, error) {
		s, err := kafka.NewSourceBuilder[string]().SetBootstrapServers(broker.SASLBootstrap).SetTopics(in).
			SetBounded(kafka.Latest()).SetDeserializer(kafka.StringValue()).SetConnectTimeout(5*time.Second).
			SetProperty("security.protocol", "SASL_PLAINTEXT").SetProperty("sasl.mechanism", mech).
			SetProperty("sasl.username", kafkatest.SASLUser).SetProperty("sasl.password.file", file).Build()
		if err != nil {
			t.Fatal(err)
		}
		e := env(t, nil)
		c := sdk.Collect(kafka.FromSource(e, s, "Source: kafka"))
		_, err = e.Execute(ctx(t), "sasl")
		got := c.Items()
		sort.Strings(got)
		return got, err
	}
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		got, err := read(mech, good)
		if err != nil {
			t.Fatalf("%s: %v", mech, err)
		}
		sameLines(t, got, want)
	}
	_, err := read("SCRAM-SHA-256", bad)
	if !errors.Is(err, kafka.ErrAuthentication) || !strings.Contains(err.Error(), "check sasl.mechanism, sasl.username and sasl.password.file") {
		t.Fatalf("wrong password: %v, want ErrAuthentication", err)
	}
	_, err = kafka.NewSourceBuilder[string]().SetBootstrapServers(broker.SASLBootstrap).SetTopics(in).
		SetDeserializer(kafka.StringValue()).SetProperty("sasl.password", "x").Build()
	if err == nil || !strings.Contains(err.Error(), "property sasl.password would put a secret in the job's configuration: write the password to a file readable only by the job's user and set sasl.password.file") {
		t.Fatalf("inline password: %v", err)
	}
}

// committedOffsets sums group's committed offsets of topic.
func committedOffsets(t *testing.T, group, topic string) int64 {
	t.Helper()
	cl, err := broker.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).FetchOffsets(ctx(t), group)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	resp.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.Err == nil {
			sum += o.At
		}
	})
	return sum
}

// TestFreshStartAbortsLingering: a transaction left open under a chosen
// transactional id prefix (a killed run that is never resumed) would hold
// back read_committed consumers until its timeout; a fresh start under the
// same prefix aborts it, and its own output is readable at once.
func TestFreshStartAbortsLingering(t *testing.T) {
	in, out := topic(t, 2), topic(t, 1)
	want := lines(t, in, 4, 20)
	prefix := out + "-tx"
	for _, n := range []int{0, 1, 2} { // a killed run's transactions 0..2 of subtask 0, open
		cl, err := broker.Client(kgo.TransactionalID(fmt.Sprintf("%s-0-%d", prefix, n)), kgo.TransactionTimeout(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: out, Value: []byte("lingering")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		cl.Close() // open, as a killed process leaves it
	}
	snk, err := kafka.NewSinkBuilder[string]().SetBootstrapServers(broker.Bootstrap).SetRecordSerializer(kafka.StringValueTo(out)).
		SetDeliveryGuarantee(kafka.ExactlyOnce).SetTransactionalIDPrefix(prefix).SetTransactionTimeout(time.Minute).Build()
	if err != nil {
		t.Fatal(err)
	}
	e := env(t, map[string]string{"execution.checkpointing.interval": "40 ms"})
	e.SetParallelism(1)
	kafka.SinkTo(kafka.FromSource(e, source(t, in, true), "Source: kafka"), snk, "Sink: kafka")
	if _, err := e.Execute(ctx(t), "lingering"); err != nil {
		t.Fatal(err)
	}
	sameLines(t, readCommitted(t, out), want)
}

// TestBrokerRestart restarts the broker under a running exactly-once job:
// the job rides it out (by retries, or by failing over to its last
// checkpoint), and the records written before and after are all in the
// output once.
func TestBrokerRestart(t *testing.T) {
	in, out := topic(t, 4), topic(t, 2)
	first := lines(t, in, 8, 20)
	e := env(t, map[string]string{
		"execution.checkpointing.interval":      "100 ms",
		"restart-strategy.type":                 "fixed-delay",
		"restart-strategy.fixed-delay.attempts": "20",
		"restart-strategy.fixed-delay.delay":    "500 ms",
	})
	e.SetParallelism(2)
	kafka.SinkTo(kafka.FromSource(e, source(t, in, false), "Source: kafka").UID("src"), sink(t, out, kafka.ExactlyOnce), "Sink: kafka").UID("sink")
	client, err := e.ExecuteAsync(ctx(t), "restart")
	if err != nil {
		t.Fatal(err)
	}
	defer client.Cancel()
	wait := func(n int) {
		deadline := time.Now().Add(40 * time.Second)
		for {
			got, err := broker.ReadCommitted(ctx(t), out)
			if err == nil && len(got) >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d records arrived (%v)", len(got), n, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	wait(len(first))
	if err := broker.Restart(); err != nil {
		t.Fatal(err)
	}
	var kvs []kafkatest.KV
	var second []string
	for k := range 8 {
		v := fmt.Sprintf("%d,%d", k, 21)
		kvs = append(kvs, kafkatest.KV{Key: strconv.Itoa(k), Value: v})
		second = append(second, v)
	}
	if err := broker.Produce(ctx(t), in, kvs); err != nil {
		t.Fatal(err)
	}
	want := append(first, second...)
	sort.Strings(want)
	wait(len(want))
	// Two more checkpoints complete, each committing a transaction: nothing
	// more may appear.
	for done, deadline := client.CheckpointStats().Completed+2, time.Now().Add(30*time.Second); client.CheckpointStats().Completed < done; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no further checkpoint completed")
		}
	}
	sameLines(t, readCommitted(t, out), want)
	t.Logf("restarts: %d", client.Restarts())
}
