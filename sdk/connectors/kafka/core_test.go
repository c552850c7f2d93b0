package kafka

import (
	"math"
	"testing"
)

// TestJavaStringHash pins the hash to Java's String.hashCode.
func TestJavaStringHash(t *testing.T) {
	for s, want := range map[string]int32{"": 0, "a": 97, "hello": 99162322, "orders-topic": -392051641, "€": 8364, "😀": 1772899} {
		if got := javaStringHash(s); got != want {
			t.Errorf("javaStringHash(%q) = %d, want %d", s, got, want)
		}
	}
}

// TestOwnerDealsEveryPartitionOnce: at every parallelism each partition has
// one owner, a topic's partitions go round-robin from one start, and the
// subtasks' shares differ by at most one per topic.
func TestOwnerDealsEveryPartitionOnce(t *testing.T) {
	for p := 1; p <= 5; p++ {
		for _, topic := range []string{"in", "orders", "x"} {
			count := make([]int, p)
			start := Owner(TopicPartition{topic, 0}, p)
			for part := int32(0); part < 8; part++ {
				o := Owner(TopicPartition{topic, part}, p)
				if o < 0 || o >= p {
					t.Fatalf("p=%d %s-%d: owner %d", p, topic, part, o)
				}
				if want := (start + int(part)) % p; o != want {
					t.Fatalf("p=%d %s-%d: owner %d, want %d", p, topic, part, o, want)
				}
				count[o]++
			}
			lo, hi := math.MaxInt, 0
			for _, c := range count {
				lo, hi = min(lo, c), max(hi, c)
			}
			if hi-lo > 1 {
				t.Fatalf("p=%d %s: shares %v", p, topic, count)
			}
		}
	}
}

// TestPartitionWatermarks: the lowest partition holds the watermark back
// until it turns idle; the watermark never goes back; all idle is reported.
func TestPartitionWatermarks(t *testing.T) {
	a, b := TopicPartition{"t", 0}, TopicPartition{"t", 1}
	w := newPartitionWatermarks(10, 100)
	w.Add(a, 0)
	w.Add(b, 0)
	type step struct {
		obs      func()
		now      int64
		wm       int64
		idle, ok bool
	}
	steps := []step{
		{func() { w.Observe(a, 1000, 5) }, 5, math.MinInt64, false, false}, // b has nothing yet
		{func() { w.Observe(b, 500, 6) }, 6, 489, false, true},
		{func() { w.Observe(a, 2000, 50) }, 50, 489, false, false},   // b holds it back
		{nil, 120, 1989, false, true},                                // b idle since 6: only a counts
		{func() { w.Observe(b, 600, 130) }, 130, 1989, false, false}, // b is back, lower: no step back
		{nil, 400, 1989, true, false},                                // both idle
		{func() { w.Observe(a, 3000, 405) }, 900, 2989, false, true}, // a delivered since the last look: active, however late
	}
	for i, s := range steps {
		if s.obs != nil {
			s.obs()
		}
		wm, idle, ok := w.Current(s.now)
		if wm != s.wm || idle != s.idle || ok != s.ok {
			t.Fatalf("step %d: Current(%d) = %d, %v, %v; want %d, %v, %v", i, s.now, wm, idle, ok, s.wm, s.idle, s.ok)
		}
	}
}

// TestBuildErrors: each mistake is named with what to change.
func TestBuildErrors(t *testing.T) {
	src := func(f func(b *KafkaSourceBuilder[string])) error {
		b := NewSourceBuilder[string]().SetBootstrapServers("127.0.0.1:9092").SetTopics("in").SetDeserializer(StringValue())
		f(b)
		_, err := b.Build()
		return err
	}
	for name, c := range map[string]struct {
		err  error
		want string
	}{
		"no servers":   {src(func(b *KafkaSourceBuilder[string]) { b.SetBootstrapServers("") }), "kafka source: no bootstrap servers: call SetBootstrapServers(\"host:port,...\")"},
		"no port":      {src(func(b *KafkaSourceBuilder[string]) { b.SetBootstrapServers("broker") }), "kafka source: bootstrap server \"broker\" must be host:port"},
		"two subjects": {src(func(b *KafkaSourceBuilder[string]) { b.SetPartitions(TopicPartition{"in", 0}) }), "kafka source: set exactly one of SetTopics, SetTopicPattern and SetPartitions"},
		"no deser":     {src(func(b *KafkaSourceBuilder[string]) { b.SetDeserializer(nil) }), "kafka source: no deserializer: call SetDeserializer (e.g. kafka.StringValue())"},
		"no group":     {src(func(b *KafkaSourceBuilder[string]) { b.SetStartingOffsets(Committed(Earliest())) }), "kafka source: starting offsets Committed need a consumer group: call SetGroupID"},
		"bad stop":     {src(func(b *KafkaSourceBuilder[string]) { b.SetBounded(Committed(Latest())) }), "kafka source: SetBounded(Committed(...)) is not supported: stop at Latest, a Timestamp or given Offsets"},
		"no ser": {func() error {
			_, err := NewSinkBuilder[string]().SetBootstrapServers("h:1").Build()
			return err
		}(), "kafka sink: no serializer: call SetRecordSerializer (e.g. kafka.StringValueTo(topic))"},
	} {
		if c.err == nil || c.err.Error() != c.want {
			t.Errorf("%s: error %v, want %q", name, c.err, c.want)
		}
	}
}

// TestTransactionTimeoutCheck: exactly-once refuses a timeout not above the
// checkpoint interval; the other guarantees need none.
func TestTransactionTimeoutCheck(t *testing.T) {
	s, err := NewSinkBuilder[string]().SetBootstrapServers("h:1").SetRecordSerializer(StringValueTo("out")).
		SetDeliveryGuarantee(ExactlyOnce).SetTransactionTimeout(60e9).Build()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.checkTimeout(30e9); err != nil {
		t.Fatal(err)
	}
	err = s.checkTimeout(60e9)
	want := "kafka sink: transaction timeout too short: 1m0s is not above execution.checkpointing.interval 1m0s, so the broker would abort transactions before their checkpoint completes and lose their records; raise SetTransactionTimeout (up to the broker's transaction.max.timeout.ms) or shorten the interval"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	s.guarantee = AtLeastOnce
	if err := s.checkTimeout(60e9); err != nil {
		t.Fatal(err)
	}
}
