package kafka

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/spate-io/spate/sdk"
	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/network"
	"github.com/spate-io/spate/worker/task"
)

// KafkaSourceBuilder configures a KafkaSource (Flink's KafkaSourceBuilder).
// Its setters record the first mistake; Build reports it.
type KafkaSourceBuilder[T any] struct {
	s   KafkaSource[T]
	err error
}

// NewSourceBuilder starts a KafkaSource reading Ts (Flink's KafkaSource.builder()).
func NewSourceBuilder[T any]() *KafkaSourceBuilder[T] {
	return &KafkaSourceBuilder[T]{s: KafkaSource[T]{
		conn:          connection{connectTimeout: 30 * time.Second},
		start:         Earliest(),
		readCommitted: true,
		discovery:     30 * time.Second,
		skipped:       new(atomic.Int64),
	}}
}

func (b *KafkaSourceBuilder[T]) fail(format string, a ...any) *KafkaSourceBuilder[T] {
	if b.err == nil {
		b.err = fmt.Errorf("kafka source: "+format, a...)
	}
	return b
}

// SetBootstrapServers sets the brokers to start from: "host:port,host:port".
func (b *KafkaSourceBuilder[T]) SetBootstrapServers(servers string) *KafkaSourceBuilder[T] {
	b.s.conn.bootstrap = splitList(servers)
	return b
}

// SetTopics reads every partition of these topics.
func (b *KafkaSourceBuilder[T]) SetTopics(topics ...string) *KafkaSourceBuilder[T] {
	b.s.topics = topics
	return b
}

// SetTopicPattern reads every partition of the topics whose names match.
func (b *KafkaSourceBuilder[T]) SetTopicPattern(re *regexp.Regexp) *KafkaSourceBuilder[T] {
	b.s.pattern = re
	return b
}

// SetPartitions reads exactly these partitions (no discovery).
func (b *KafkaSourceBuilder[T]) SetPartitions(tps ...TopicPartition) *KafkaSourceBuilder[T] {
	b.s.partitions = tps
	return b
}

// SetGroupID names the consumer group whose committed offsets Committed
// starts from, and to which the source commits its offsets when a checkpoint
// completes. The commits are for monitoring (lag) only: a restore resumes from
// the offsets in the checkpoint.
func (b *KafkaSourceBuilder[T]) SetGroupID(group string) *KafkaSourceBuilder[T] {
	b.s.group = group
	return b
}

// SetStartingOffsets says where partitions start on a fresh start (default
// Earliest). A partition discovered later starts at its earliest offset, as
// does one that appeared after the checkpoint a job restores.
func (b *KafkaSourceBuilder[T]) SetStartingOffsets(o OffsetsInitializer) *KafkaSourceBuilder[T] {
	b.s.start = o
	return b
}

// SetBounded makes the source end when every partition reaches its stopping
// offset, looked up when the subtask first reads the partition (Latest: the
// end of the input as it stands at start) and kept in the checkpoints, so a
// restored job stops at the same place. A bounded source discovers no new
// partitions.
func (b *KafkaSourceBuilder[T]) SetBounded(stop OffsetsInitializer) *KafkaSourceBuilder[T] {
	if stop.kind == committed {
		return b.fail("SetBounded(Committed(...)) is not supported: stop at Latest, a Timestamp or given Offsets")
	}
	b.s.stop = &stop
	return b
}

// SetDeserializer turns records into Ts (required).
func (b *KafkaSourceBuilder[T]) SetDeserializer(d Deserializer[T]) *KafkaSourceBuilder[T] {
	b.s.deser = d
	return b
}

// SetDeserializationErrors says what to do with a record the deserializer
// rejects (default FailOnError).
func (b *KafkaSourceBuilder[T]) SetDeserializationErrors(p DeserializationErrors) *KafkaSourceBuilder[T] {
	b.s.onError = p
	return b
}

// SetReadCommitted chooses the isolation level: true (the default) reads only
// records of committed transactions, as an exactly-once pipeline needs;
// false reads every record (read_uncommitted).
func (b *KafkaSourceBuilder[T]) SetReadCommitted(on bool) *KafkaSourceBuilder[T] {
	b.s.readCommitted = on
	return b
}

// SetPartitionDiscoveryInterval sets how often the source looks for new
// partitions of its topics (default 30 s; 0 disables discovery).
func (b *KafkaSourceBuilder[T]) SetPartitionDiscoveryInterval(d time.Duration) *KafkaSourceBuilder[T] {
	if d < 0 {
		return b.fail("partition discovery interval must not be negative, got %s", d)
	}
	b.s.discovery = d
	return b
}

// SetWatermarks makes the source emit watermarks from its partitions'
// record timestamps (Flink's per-split watermarks): each partition's
// watermark trails its highest timestamp by outOfOrderness, the subtask's is
// the lowest over its partitions, and a partition without records for
// idleness (0: never) stops holding it back. Use it instead of
// AssignTimestampsAndWatermarks, which sees one merged stream.
func (b *KafkaSourceBuilder[T]) SetWatermarks(outOfOrderness, idleness time.Duration) *KafkaSourceBuilder[T] {
	if outOfOrderness < 0 || idleness < 0 {
		return b.fail("watermark out-of-orderness and idleness must not be negative, got %s and %s", outOfOrderness, idleness)
	}
	b.s.watermarks, b.s.outOfOrderness, b.s.idleness = true, outOfOrderness.Milliseconds(), idleness.Milliseconds()
	return b
}

// SetTimestampAssigner takes each record's event time from its value instead
// of the Kafka record timestamp.
func (b *KafkaSourceBuilder[T]) SetTimestampAssigner(fn func(v T) int64) *KafkaSourceBuilder[T] {
	b.s.timestamp = fn
	return b
}

// SetConnectTimeout bounds how long the source tries to reach the brokers
// before it fails with ErrUnreachable (default 30 s).
func (b *KafkaSourceBuilder[T]) SetConnectTimeout(d time.Duration) *KafkaSourceBuilder[T] {
	if d <= 0 {
		return b.fail("connect timeout must be positive, got %s", d)
	}
	b.s.conn.connectTimeout = d
	return b
}

// SetProperty sets a Kafka client property by its Java client name
// (security.protocol, sasl.*, ssl.*; see "Security" in the package
// documentation). It wins over the job's properties.* configuration keys.
// Build rejects unknown ones.
func (b *KafkaSourceBuilder[T]) SetProperty(key, value string) *KafkaSourceBuilder[T] {
	if b.s.conn.properties == nil {
		b.s.conn.properties = map[string]string{}
	}
	b.s.conn.properties[key] = value
	return b
}

// SetClientOptions adds franz-go client options (TLS, SASL, ...), applied
// last.
func (b *KafkaSourceBuilder[T]) SetClientOptions(opts ...kgo.Opt) *KafkaSourceBuilder[T] {
	b.s.conn.extra = append(b.s.conn.extra, opts...)
	return b
}

// Build checks the configuration.
func (b *KafkaSourceBuilder[T]) Build() (*KafkaSource[T], error) {
	if b.err != nil {
		return nil, b.err
	}
	s := b.s
	if err := s.conn.check("kafka source"); err != nil {
		return nil, err
	}
	n := 0
	for _, set := range []bool{len(s.topics) > 0, s.pattern != nil, len(s.partitions) > 0} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, errors.New("kafka source: set exactly one of SetTopics, SetTopicPattern and SetPartitions")
	}
	if s.deser == nil {
		return nil, errors.New("kafka source: no deserializer: call SetDeserializer (e.g. kafka.StringValue())")
	}
	if s.start.kind == committed && s.group == "" {
		return nil, errors.New("kafka source: starting offsets Committed need a consumer group: call SetGroupID")
	}
	return &s, nil
}

// KafkaSource reads Kafka topics (Flink's KafkaSource). Each subtask reads
// the partitions that Owner gives it and keeps, per partition, the offset of
// the next record in its checkpoints, so a restore resumes exactly there,
// at any parallelism: every subtask sees every partition's offset and takes
// those it owns. Add it to a job with FromSource.
type KafkaSource[T any] struct {
	conn                     connection
	topics                   []string
	pattern                  *regexp.Regexp
	partitions               []TopicPartition
	group                    string
	start                    OffsetsInitializer
	stop                     *OffsetsInitializer
	deser                    Deserializer[T]
	onError                  DeserializationErrors
	readCommitted            bool
	discovery                time.Duration
	watermarks               bool
	outOfOrderness, idleness int64
	timestamp                func(T) int64
	skipped                  *atomic.Int64
}

// Skipped counts the records that SkipOnError dropped, in this process.
func (s *KafkaSource[T]) Skipped() int64 { return s.skipped.Load() }

// Bounded reports whether the source ends.
func (s *KafkaSource[T]) Bounded() bool { return s.stop != nil }

// FromSource adds src to env as a source named name.
func FromSource[T any](env *sdk.Env, src *KafkaSource[T], name string) sdk.Stream[T] {
	f := task.NewSourceFactory(task.SourceSpec[T]{Bounded: src.Bounded(), Create: src.create,
		Prepare: func(int) error { return src.conn.configure(env.Config(), "kafka source") }})
	return sdk.FromSource[T](env, name, src.Bounded(), f)
}

// PartitionState is one partition's position in a source checkpoint.
type PartitionState struct {
	Topic     string
	Partition int32
	Next      int64 // offset of the next record to read
	Stop      int64 // bounded: the offset to stop at; -1 when unbounded
}

// sourceStateName names the partitions' positions in snapshots; union state,
// so that a restore at any parallelism finds every partition.
const sourceStateName = "_kafka-partitions"

// maxDiscoveryFailures is how many periodic discoveries in a row may fail
// before the source does.
const maxDiscoveryFailures = 10

type partition struct {
	next, stop int64
	done       bool
}

type sourceReader[T any] struct {
	ctx      *task.OperatorContext
	src      *KafkaSource[T]
	out      task.Output[T]
	run      context.Context
	cancel   context.CancelFunc
	adm      *kadm.Client
	admCl    *kgo.Client
	consumer *kgo.Client
	parts    map[TopicPartition]*partition
	fetching map[TopicPartition]bool // handed to the consumer
	restored bool
	opened   bool // the first discovery is done

	discoveryFailures int // in a row

	buf      []T
	ts       []int64
	rec      Record
	wm       *partitionWatermarks
	idle     bool
	lastWm   time.Time
	lastDisc time.Time
	commits  map[int64]kadm.Offsets // checkpoint → the offsets it recorded, for the group
	logged   int
}

func (s *KafkaSource[T]) create(ctx *task.OperatorContext, out task.Output[T]) (task.Source, error) {
	r := &sourceReader[T]{ctx: ctx, src: s, out: out, parts: map[TopicPartition]*partition{}, fetching: map[TopicPartition]bool{}, commits: map[int64]kadm.Offsets{}}
	r.run, r.cancel = context.WithCancel(context.Background())
	if s.watermarks {
		r.wm = newPartitionWatermarks(s.outOfOrderness, s.idleness)
	}
	var err error
	if r.admCl, err = kgo.NewClient(s.conn.opts()...); err != nil {
		r.cancel()
		return nil, fmt.Errorf("kafka source: %w", err)
	}
	r.adm = kadm.NewClient(r.admCl)
	if err := r.open(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func (r *sourceReader[T]) open() error {
	if err := r.src.conn.ping(r.run, r.admCl); err != nil {
		return fmt.Errorf("kafka source: %w", err)
	}
	if rs := r.ctx.Restored; rs != nil {
		sts, err := state.RestoreList[PartitionState](rs, sourceStateName, state.UnionKind)
		if err != nil {
			return err
		}
		r.restored = true
		for _, st := range sts {
			tp := TopicPartition{st.Topic, st.Partition}
			if Owner(tp, r.ctx.Parallelism) == r.ctx.Subtask {
				r.parts[tp] = &partition{next: st.Next, stop: st.Stop, done: st.Stop >= 0 && st.Next >= st.Stop}
			}
		}
	}
	if err := r.discover(); err != nil {
		return err
	}
	// A restored bounded partition that had no stop (the job ran unbounded
	// before) gets one now.
	var noStop []TopicPartition
	for tp, p := range r.parts {
		if r.src.stop != nil && p.stop < 0 {
			noStop = append(noStop, tp)
		}
	}
	if err := r.setStops(noStop); err != nil {
		return err
	}
	r.opened = true
	return r.consume(r.ownedActive(nil))
}

// discover adds the partitions this subtask owns and does not read yet.
func (r *sourceReader[T]) discover() error {
	r.lastDisc = time.Now()
	var all []TopicPartition
	if len(r.src.partitions) > 0 {
		all = r.src.partitions
	} else {
		ctx, cancel := context.WithTimeout(r.run, r.src.conn.connectTimeout)
		defer cancel()
		var match func(string) bool
		if r.src.pattern != nil {
			match = r.src.pattern.MatchString
		}
		var err error
		if all, err = listPartitions(ctx, r.adm, r.src.topics, match); err != nil {
			var te *topicError
			if errors.As(err, &te) {
				return sdk.SuppressRestarts(fmt.Errorf("kafka source: %w", err))
			}
			return fmt.Errorf("kafka source: %w", err)
		}
	}
	var fresh []TopicPartition
	for _, tp := range all {
		if _, ok := r.parts[tp]; !ok && Owner(tp, r.ctx.Parallelism) == r.ctx.Subtask {
			fresh = append(fresh, tp)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	init := r.src.start
	if r.restored || r.opened {
		init = Earliest() // a partition that appeared since the start
	}
	ctx, cancel := context.WithTimeout(r.run, r.src.conn.connectTimeout)
	defer cancel()
	offs, err := init.resolve(ctx, r.adm, r.src.group, r.src.readCommitted, fresh)
	if err != nil {
		return fmt.Errorf("kafka source: starting offsets (%s) of %v: %w", init, fresh, err)
	}
	for _, tp := range fresh {
		r.parts[tp] = &partition{next: offs[tp], stop: -1}
	}
	if err := r.setStops(fresh); err != nil {
		return err
	}
	r.ctx.Log.Info().Int("subtask", r.ctx.Subtask).Int("partitions", len(fresh)).Str("from", init.String()).Msg("kafka source: reading new partitions")
	return nil
}

// setStops looks up the stopping offsets of a bounded source's tps.
func (r *sourceReader[T]) setStops(tps []TopicPartition) error {
	if r.src.stop == nil || len(tps) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(r.run, r.src.conn.connectTimeout)
	defer cancel()
	stops, err := r.src.stop.resolve(ctx, r.adm, r.src.group, r.src.readCommitted, tps)
	if err != nil {
		return fmt.Errorf("kafka source: stopping offsets (%s): %w", r.src.stop, err)
	}
	for _, tp := range tps {
		p := r.parts[tp]
		p.stop = stops[tp]
		p.done = p.next >= p.stop
	}
	return nil
}

// ownedActive returns the partitions to fetch (of only, if not nil).
func (r *sourceReader[T]) ownedActive(only []TopicPartition) map[string]map[int32]kgo.Offset {
	m := map[string]map[int32]kgo.Offset{}
	for tp, p := range r.parts {
		if p.done {
			continue
		}
		if m[tp.Topic] == nil {
			m[tp.Topic] = map[int32]kgo.Offset{}
		}
		m[tp.Topic][tp.Partition] = kgo.NewOffset().At(p.next)
		if r.wm != nil {
			r.wm.Add(tp, time.Now().UnixMilli())
		}
	}
	return m
}

// consume starts fetching partitions.
func (r *sourceReader[T]) consume(m map[string]map[int32]kgo.Offset) error {
	if len(m) == 0 {
		return nil
	}
	for t, ps := range m {
		for p := range ps {
			r.fetching[TopicPartition{t, p}] = true
		}
	}
	if r.consumer != nil {
		r.consumer.AddConsumePartitions(m)
		return nil
	}
	iso := kgo.ReadUncommitted()
	if r.src.readCommitted {
		iso = kgo.ReadCommitted()
	}
	cl, err := kgo.NewClient(r.src.conn.opts(kgo.ConsumePartitions(m), kgo.FetchIsolationLevel(iso),
		// Control records advance the position past transaction markers, so a
		// bounded partition ending in a commit marker reaches its stop.
		kgo.KeepControlRecords(), kgo.FetchMaxWait(100*time.Millisecond))...)
	if err != nil {
		return fmt.Errorf("kafka source: %w", err)
	}
	r.consumer = cl
	return nil
}

func (r *sourceReader[T]) allDone() bool {
	for _, p := range r.parts {
		if !p.done {
			return false
		}
	}
	return true
}

func (r *sourceReader[T]) PollNext() (st task.InputStatus, err error) {
	if r.src.stop != nil && r.allDone() {
		return task.EndOfInput, nil
	}
	if r.src.stop == nil && len(r.src.partitions) == 0 && r.src.discovery > 0 && time.Since(r.lastDisc) >= r.src.discovery {
		before := len(r.parts)
		if err := r.discover(); err != nil {
			// A broker that is away for a while (a restart) is no reason to
			// fail: discovery tries again at the next interval, a few times.
			if r.discoveryFailures++; r.discoveryFailures >= maxDiscoveryFailures {
				return task.EndOfInput, fmt.Errorf("partition discovery failed %d times in a row: %w", r.discoveryFailures, err)
			}
			r.ctx.Log.Warn().Err(err).Int("failures", r.discoveryFailures).Msg("kafka source: partition discovery failed; trying again at the next interval")
		} else {
			r.discoveryFailures = 0
		}
		if len(r.parts) > before {
			if err := r.consume(r.newOnly()); err != nil {
				return task.EndOfInput, err
			}
		}
	}
	if r.consumer == nil {
		time.Sleep(50 * time.Millisecond) // nothing to read: do not spin
		return task.NothingAvailable, r.emitWatermark()
	}
	pctx, cancel := context.WithTimeout(r.run, 100*time.Millisecond)
	fs := r.consumer.PollRecords(pctx, r.ctx.BatchSize)
	cancel()
	for _, fe := range fs.Errors() {
		if errors.Is(fe.Err, context.DeadlineExceeded) || errors.Is(fe.Err, context.Canceled) {
			continue
		}
		return task.EndOfInput, fmt.Errorf("kafka source: fetch %s-%d: %w", fe.Topic, fe.Partition, fe.Err)
	}
	buf, ts := r.buf[:0], r.ts[:0]
	now := time.Now().UnixMilli()
	var ferr error
	var ended []TopicPartition
	fs.EachRecord(func(kr *kgo.Record) {
		if ferr != nil {
			return
		}
		tp := TopicPartition{kr.Topic, kr.Partition}
		p := r.parts[tp]
		if p == nil || p.done || kr.Offset < p.next {
			return
		}
		if p.stop >= 0 && kr.Offset >= p.stop {
			p.done = true
			ended = append(ended, tp)
			return
		}
		p.next = kr.Offset + 1
		if p.stop >= 0 && p.next >= p.stop {
			p.done = true
			ended = append(ended, tp)
		}
		if kr.Attrs.IsControl() {
			return
		}
		r.rec = Record{Topic: kr.Topic, Partition: kr.Partition, Offset: kr.Offset, Key: kr.Key, Value: kr.Value, Timestamp: kr.Timestamp.UnixMilli()}
		r.rec.Headers = r.rec.Headers[:0]
		for _, h := range kr.Headers {
			r.rec.Headers = append(r.rec.Headers, Header{Key: h.Key, Value: h.Value})
		}
		v, err := r.deserialize(&r.rec)
		if err != nil {
			if r.src.onError == FailOnError {
				ferr = sdk.SuppressRestarts(fmt.Errorf("kafka source: record %s offset %d does not deserialize: %w; fix the record or the deserializer, or skip such records with SetDeserializationErrors(kafka.SkipOnError)", tp, kr.Offset, err))
				return
			}
			r.src.skipped.Add(1)
			if r.logged < 10 {
				r.logged++
				r.ctx.Log.Warn().Str("partition", tp.String()).Int64("offset", kr.Offset).Err(err).Msg("kafka source: skipped a record that does not deserialize")
			}
			return
		}
		t := r.rec.Timestamp
		if r.src.timestamp != nil {
			t = r.src.timestamp(v)
		}
		buf, ts = append(buf, v), append(ts, t)
		if r.wm != nil {
			r.wm.Observe(tp, t, now)
		}
	})
	r.buf, r.ts = buf, ts
	if ferr != nil {
		return task.EndOfInput, ferr
	}
	if len(ended) > 0 {
		rm := map[string][]int32{}
		for _, tp := range ended {
			rm[tp.Topic] = append(rm[tp.Topic], tp.Partition)
			if r.wm != nil {
				r.wm.Remove(tp)
			}
		}
		r.consumer.RemoveConsumePartitions(rm)
	}
	if len(buf) > 0 {
		r.ctx.Metrics.RecordsOut.Add(int64(len(buf)))
		if err := r.out.Push(buf, ts); err != nil {
			return task.EndOfInput, err
		}
	}
	if err := r.emitWatermark(); err != nil {
		return task.EndOfInput, err
	}
	if len(buf) == 0 {
		return task.NothingAvailable, nil
	}
	return task.MoreAvailable, nil
}

// newOnly returns the partitions not fetched yet: those that discover added.
func (r *sourceReader[T]) newOnly() map[string]map[int32]kgo.Offset {
	m := map[string]map[int32]kgo.Offset{}
	for tp, p := range r.parts {
		if p.done || r.fetching[tp] {
			continue
		}
		if m[tp.Topic] == nil {
			m[tp.Topic] = map[int32]kgo.Offset{}
		}
		m[tp.Topic][tp.Partition] = kgo.NewOffset().At(p.next)
		if r.wm != nil {
			r.wm.Add(tp, time.Now().UnixMilli())
		}
	}
	return m
}

func (r *sourceReader[T]) deserialize(rec *Record) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("deserializer panicked: %v", p)
		}
	}()
	return r.src.deser(rec)
}

// emitWatermark sends the subtask's watermark, or its idleness, every
// pipeline.auto-watermark-interval.
func (r *sourceReader[T]) emitWatermark() error {
	if r.wm == nil {
		return nil
	}
	now := time.Now()
	if now.Sub(r.lastWm) < max(r.ctx.WatermarkInterval, time.Millisecond) {
		return nil
	}
	r.lastWm = now
	wm, idle, ok := r.wm.Current(now.UnixMilli())
	if idle != r.idle && (idle || ok) {
		r.idle = idle
		if err := r.out.Emit(network.Event{Kind: network.WatermarkStatus, Idle: idle}); err != nil {
			return err
		}
	}
	if ok && wm != math.MinInt64 {
		return r.out.Emit(network.WatermarkEvent(wm))
	}
	return nil
}

// SnapshotState records every owned partition's next offset (and stop).
func (r *sourceReader[T]) SnapshotState(id int64) ([]state.Part, error) {
	sts := make([]PartitionState, 0, len(r.parts))
	for tp, p := range r.parts {
		sts = append(sts, PartitionState{Topic: tp.Topic, Partition: tp.Partition, Next: p.next, Stop: p.stop})
	}
	if r.src.group != "" {
		r.commits[id] = r.offsets()
	}
	p, err := state.SnapshotList(sourceStateName, state.UnionKind, sts)
	if err != nil {
		return nil, err
	}
	return []state.Part{p}, nil
}

// NotifyCheckpointComplete commits the checkpoint's offsets to the consumer
// group, for monitoring; a failure is logged, never fatal.
func (r *sourceReader[T]) NotifyCheckpointComplete(id int64) error {
	offs, ok := r.commits[id]
	for c := range r.commits {
		if c <= id {
			delete(r.commits, c)
		}
	}
	if !ok || len(offs) == 0 {
		return nil
	}
	r.commitGroup(offs, id)
	return nil
}

// offsets are the owned partitions' next offsets, as the group's.
func (r *sourceReader[T]) offsets() kadm.Offsets {
	offs := kadm.Offsets{}
	for tp, p := range r.parts {
		offs.Add(kadm.Offset{Topic: tp.Topic, Partition: tp.Partition, At: p.next, LeaderEpoch: -1})
	}
	return offs
}

// commitGroup commits offs to the consumer group; a failure is logged,
// never fatal: the group's offsets are for monitoring only.
func (r *sourceReader[T]) commitGroup(offs kadm.Offsets, checkpoint int64) {
	ctx, cancel := context.WithTimeout(r.run, 5*time.Second)
	defer cancel()
	resp, err := r.adm.CommitOffsets(ctx, r.src.group, offs)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		r.ctx.Log.Warn().Err(err).Str("group", r.src.group).Int64("checkpoint", checkpoint).Msg("kafka source: committing offsets to the consumer group failed (monitoring only; the checkpoint holds the offsets)")
	}
}

// Finish commits the final offsets to the consumer group, since no
// checkpoint may follow the end of a bounded source, and emits the final
// watermark.
func (r *sourceReader[T]) Finish() error {
	if r.src.group != "" && len(r.parts) > 0 {
		r.commitGroup(r.offsets(), -1)
	}
	return r.out.Emit(network.WatermarkEvent(network.MaxWatermark))
}

func (r *sourceReader[T]) Close() error {
	r.cancel()
	if r.consumer != nil {
		r.consumer.Close()
	}
	if r.admCl != nil {
		r.admCl.Close()
	}
	return nil
}

var (
	_ task.Source             = (*sourceReader[int])(nil)
	_ task.Snapshotter        = (*sourceReader[int])(nil)
	_ task.CheckpointListener = (*sourceReader[int])(nil)
)

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
