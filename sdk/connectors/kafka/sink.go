package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/sdk"
	"github.com/spate-io/spate/sdk/codec"
	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/task"
)

// DeliveryGuarantee is what a KafkaSink promises (Flink's DeliveryGuarantee).
type DeliveryGuarantee int

const (
	// None writes without waiting: records may be lost or duplicated on failure.
	None DeliveryGuarantee = iota
	// AtLeastOnce flushes every record before a checkpoint completes: none is
	// lost, but a recovery writes again those after the checkpoint.
	AtLeastOnce
	// ExactlyOnce writes each checkpoint's records in a Kafka transaction that
	// commits when the checkpoint completes: a read_committed consumer sees
	// every record once.
	ExactlyOnce
)

func (g DeliveryGuarantee) String() string {
	switch g {
	case None:
		return "none"
	case AtLeastOnce:
		return "at-least-once"
	case ExactlyOnce:
		return "exactly-once"
	}
	return "DeliveryGuarantee(" + strconv.Itoa(int(g)) + ")"
}

// ProducerRecord is what a Serializer makes of a value.
type ProducerRecord struct {
	Topic     string // "": the sink's SetTopic
	Key       []byte // records with equal keys go to the same partition (murmur2, as Kafka's Java client)
	Value     []byte
	Partition int32 // -1 (or any negative): chosen by the sink's Partitioner, else by the key (spread when the key is nil)
	Timestamp int64 // ms; 0: now
	Headers   []Header
}

// Partitioner picks the partition of the record made from v (Flink's
// FlinkKafkaPartitioner): a number in [0, numPartitions), numPartitions being
// the topic's partitions as the producer knows them now. A result out of
// that range fails the job naming it. r is the serialized record; it must not
// be changed.
type Partitioner[T any] func(v T, r *ProducerRecord, numPartitions int) int

// Serializer turns a T into a record (Flink's KafkaRecordSerializationSchema).
type Serializer[T any] func(v T) (ProducerRecord, error)

// StringValueTo writes each string as the value of a record to topic, unkeyed.
func StringValueTo(topic string) Serializer[string] {
	return func(v string) (ProducerRecord, error) {
		return ProducerRecord{Topic: topic, Value: []byte(v), Partition: -1}, nil
	}
}

// JSONValueTo writes each value as the JSON value (encoding/json) of a record
// to topic, unkeyed: what JSONValue reads.
func JSONValueTo[T any](topic string) Serializer[T] {
	return func(v T) (ProducerRecord, error) {
		b, err := json.Marshal(v)
		return ProducerRecord{Topic: topic, Value: b, Partition: -1}, err
	}
}

// AvroValueTo writes each value as the Avro binary encoding of a record to
// topic, unkeyed, with the schema sdk/codec derives from T: what AvroValue
// reads. It fails at once if T has no Avro schema.
func AvroValueTo[T any](topic string) (Serializer[T], error) {
	c, err := codec.For[T]()
	if err != nil {
		return nil, fmt.Errorf("kafka.AvroValueTo: %w", err)
	}
	return func(v T) (ProducerRecord, error) {
		return ProducerRecord{Topic: topic, Value: c.Append(nil, v), Partition: -1}, nil
	}, nil
}

// KafkaSinkBuilder configures a KafkaSink (Flink's KafkaSinkBuilder).
type KafkaSinkBuilder[T any] struct {
	s   KafkaSink[T]
	err error
}

// NewSinkBuilder starts a KafkaSink writing Ts (Flink's KafkaSink.builder()).
func NewSinkBuilder[T any]() *KafkaSinkBuilder[T] {
	return &KafkaSinkBuilder[T]{s: KafkaSink[T]{
		conn:         connection{connectTimeout: 30 * time.Second},
		guarantee:    AtLeastOnce,
		txnTimeout:   15 * time.Minute,
		beforeCommit: nil,
	}}
}

// SetBootstrapServers sets the brokers to start from: "host:port,host:port".
func (b *KafkaSinkBuilder[T]) SetBootstrapServers(servers string) *KafkaSinkBuilder[T] {
	b.s.conn.bootstrap = splitList(servers)
	return b
}

// SetRecordSerializer turns values into records (required).
func (b *KafkaSinkBuilder[T]) SetRecordSerializer(s Serializer[T]) *KafkaSinkBuilder[T] {
	b.s.ser = s
	return b
}

// SetTopic sets the topic of the records whose serializer names none
// (ProducerRecord.Topic ""). The sink checks that it exists when it starts,
// so a misspelt topic fails the job before it reads anything; a topic only a
// serializer names is checked at its first record.
func (b *KafkaSinkBuilder[T]) SetTopic(topic string) *KafkaSinkBuilder[T] {
	b.s.topic = topic
	return b
}

// SetPartitioner makes p choose the partition of each record that does not
// name one (Flink's setPartitioner), instead of the hash of its key.
func (b *KafkaSinkBuilder[T]) SetPartitioner(p Partitioner[T]) *KafkaSinkBuilder[T] {
	b.s.partitioner = p
	return b
}

// SetDeliveryGuarantee chooses None, AtLeastOnce (the default, as Flink's) or
// ExactlyOnce.
func (b *KafkaSinkBuilder[T]) SetDeliveryGuarantee(g DeliveryGuarantee) *KafkaSinkBuilder[T] {
	b.s.guarantee = g
	return b
}

// SetTransactionalIDPrefix sets the prefix of the exactly-once sink's
// transactional ids, "<prefix>-<subtask>-<n>". By default it is derived from
// the job's lineage (kept across restores and resumes) and the operator, so
// two jobs never share one.
func (b *KafkaSinkBuilder[T]) SetTransactionalIDPrefix(prefix string) *KafkaSinkBuilder[T] {
	b.s.prefix = prefix
	return b
}

// SetTransactionTimeout sets how long the broker keeps a transaction open
// before it aborts it (default 15 min, the broker's default cap
// transaction.max.timeout.ms). It must exceed the checkpoint interval plus the
// time a recovery takes: a transaction the broker aborted before its commit
// has lost its records.
func (b *KafkaSinkBuilder[T]) SetTransactionTimeout(d time.Duration) *KafkaSinkBuilder[T] {
	if d <= 0 && b.err == nil {
		b.err = fmt.Errorf("kafka sink: transaction timeout must be positive, got %s", d)
	}
	b.s.txnTimeout = d
	return b
}

// SetConnectTimeout bounds how long the sink tries to reach the brokers and
// to flush before it fails (default 30 s).
func (b *KafkaSinkBuilder[T]) SetConnectTimeout(d time.Duration) *KafkaSinkBuilder[T] {
	if d <= 0 && b.err == nil {
		b.err = fmt.Errorf("kafka sink: connect timeout must be positive, got %s", d)
	}
	b.s.conn.connectTimeout = d
	return b
}

// SetProperty sets a Kafka client property by its Java client name
// (security.protocol, sasl.*, ssl.*; see "Security" in the package
// documentation). It wins over the job's properties.* configuration keys.
// Build rejects unknown ones.
func (b *KafkaSinkBuilder[T]) SetProperty(key, value string) *KafkaSinkBuilder[T] {
	if b.s.conn.properties == nil {
		b.s.conn.properties = map[string]string{}
	}
	b.s.conn.properties[key] = value
	return b
}

// SetClientOptions adds franz-go client options (TLS, SASL, ...), applied last.
func (b *KafkaSinkBuilder[T]) SetClientOptions(opts ...kgo.Opt) *KafkaSinkBuilder[T] {
	b.s.conn.extra = append(b.s.conn.extra, opts...)
	return b
}

// Build checks the configuration.
func (b *KafkaSinkBuilder[T]) Build() (*KafkaSink[T], error) {
	if b.err != nil {
		return nil, b.err
	}
	s := b.s
	if err := s.conn.check("kafka sink"); err != nil {
		return nil, err
	}
	if s.ser == nil {
		return nil, errors.New("kafka sink: no serializer: call SetRecordSerializer (e.g. kafka.StringValueTo(topic))")
	}
	if s.guarantee < None || s.guarantee > ExactlyOnce {
		return nil, fmt.Errorf("kafka sink: unknown delivery guarantee %d", s.guarantee)
	}
	return &s, nil
}

// KafkaSink writes a stream to Kafka (Flink's KafkaSink). Add it with SinkTo.
//
// Exactly-once, each subtask writes the records between two checkpoint
// barriers in one transaction, with its own transactional id
// "<prefix>-<subtask>-<n>" (n counts the subtask's transactions). On a
// barrier it flushes the transaction and records its id, producer id and
// epoch in the checkpoint; when the checkpoint completes it commits it. A
// recovery first commits the transactions of the restored checkpoint (an
// EndTxn with the saved producer id and epoch; committing twice is harmless),
// then aborts every transaction opened after it, by initializing the
// transactional ids from the restored n upward until one was never used.
type KafkaSink[T any] struct {
	conn        connection
	ser         Serializer[T]
	topic       string
	partitioner Partitioner[T]
	guarantee   DeliveryGuarantee
	prefix      string
	txnTimeout  time.Duration
	// beforeCommit, if set, runs before a checkpoint's transactions commit
	// (tests inject failures there).
	beforeCommit func(checkpointID int64) error
}

// SinkTo adds sink at the end of s, named name.
func SinkTo[T any](s sdk.Stream[T], sink *KafkaSink[T], name string) sdk.Sink {
	interval := conf.CheckpointingInterval.Get(s.Env().Config())
	f := preparedFactory{Factory: task.NewSinkFactory(func(ctx *task.OperatorContext) (task.OneInput[T], error) {
		return sink.create(ctx)
	}), prepare: func(int) error {
		if err := sink.conn.configure(s.Env().Config(), "kafka sink"); err != nil {
			return err
		}
		return sink.checkTimeout(interval)
	}}
	return sdk.ToSink[T](s, name, f)
}

type preparedFactory struct {
	task.Factory
	prepare func(parallelism int) error
}

func (p preparedFactory) Prepare(parallelism int) error { return p.prepare(parallelism) }

// ErrTransactionTimeout is wrapped by the error of an exactly-once sink whose
// transaction timeout is not above the checkpoint interval.
var ErrTransactionTimeout = errors.New("kafka sink: transaction timeout too short")

func (s *KafkaSink[T]) checkTimeout(interval time.Duration) error {
	if s.guarantee != ExactlyOnce || interval <= 0 {
		return nil
	}
	if s.txnTimeout <= interval {
		return fmt.Errorf("%w: %s is not above execution.checkpointing.interval %s, so the broker would abort transactions before their checkpoint completes and lose their records; raise SetTransactionTimeout (up to the broker's transaction.max.timeout.ms) or shorten the interval",
			ErrTransactionTimeout, s.txnTimeout, interval)
	}
	return nil
}

// TxnState is one sink subtask's part of a checkpoint.
type TxnState struct {
	Prefix  string
	Subtask int
	// Next is n of the transaction open after the barrier: a recovery aborts
	// it and any later one.
	Next int64
	// Pending are the flushed transactions not known to be committed.
	Pending []PendingTxn
}

// PendingTxn is a flushed transaction waiting for its checkpoint.
type PendingTxn struct {
	CheckpointID    int64
	TransactionalID string
	ProducerID      int64
	Epoch           int16
}

const sinkStateName = "_kafka-transactions"

// endOfInput is the checkpoint ID of the transaction flushed at the end of
// the input, committed when the whole job has finished.
const endOfInput int64 = math.MaxInt64

type txn struct {
	n       int64
	id      string
	cl      *kgo.Client
	written bool
	pending PendingTxn
}

type sinkWriter[T any] struct {
	ctx     *task.OperatorContext
	sink    *KafkaSink[T]
	prefix  string
	cl      *kgo.Client // at-least-once and none
	cur     *txn        // exactly-once: the open transaction
	pending []*txn      // flushed, not committed; oldest first
	run     context.Context
	cancel  context.CancelFunc

	closed bool
	topics map[string]bool // known to exist
	last   string          // the topic of the last record: most records go where the one before went

	mu   sync.Mutex
	perr error // first failed produce
}

func (s *KafkaSink[T]) create(ctx *task.OperatorContext) (task.OneInput[T], error) {
	w := &sinkWriter[T]{ctx: ctx, sink: s, topics: map[string]bool{}}
	w.run, w.cancel = context.WithCancel(context.Background())
	w.prefix = s.prefix
	if w.prefix == "" {
		w.prefix = "spate-" + ctx.Lineage + "-" + ctx.OperatorID
	}
	sf := task.NewSinkFunc(ctx, w.write, w.finish, w.close)
	if s.guarantee != ExactlyOnce {
		cl, err := kgo.NewClient(s.conn.opts(kgo.RecordPartitioner(sinkPartitioner{}))...)
		if err != nil {
			return nil, fmt.Errorf("kafka sink: %w", err)
		}
		w.cl = cl
		if err := s.conn.ping(w.run, cl); err != nil {
			w.close()
			return nil, fmt.Errorf("kafka sink: %w", err)
		}
		if err := w.checkTopic(cl, s.topic); err != nil {
			w.close()
			return nil, err
		}
		if s.guarantee == AtLeastOnce {
			sf.Snapshot = func(int64) ([]state.Part, error) { return nil, w.flush(w.cl) }
		}
		return sf, nil
	}
	next, err := w.recover()
	if err != nil {
		w.close()
		return nil, err
	}
	if err := w.begin(next); err != nil {
		w.close()
		return nil, err
	}
	sf.Snapshot = w.snapshot
	sf.Complete = w.commit
	sf.CommitAtEnd = func() error { return w.commit(endOfInput) }
	return sf, nil
}

func (w *sinkWriter[T]) txnID(prefix string, subtask int, n int64) string {
	return prefix + "-" + strconv.Itoa(subtask) + "-" + strconv.FormatInt(n, 10)
}

// recover commits the restored checkpoint's transactions of the old
// subtasks this subtask stands in for, aborts those opened after it, and
// returns the n of this subtask's first transaction.
func (w *sinkWriter[T]) recover() (int64, error) {
	type old struct {
		prefix string
		next   int64
	}
	probe := map[int]old{}
	var pending []PendingTxn
	if rs := w.ctx.Restored; rs != nil {
		sts, err := state.RestoreList[TxnState](rs, sinkStateName, state.UnionKind)
		if err != nil {
			return 0, err
		}
		for _, st := range sts {
			// Old subtask o is this one's if o mod p is this subtask, so each
			// old subtask's transactions are handled exactly once on rescale.
			if st.Subtask%w.ctx.Parallelism != w.ctx.Subtask {
				continue
			}
			pending = append(pending, st.Pending...)
			probe[st.Subtask] = old{st.Prefix, st.Next}
		}
	}
	// A restart before the first checkpoint, a subtask new after a rescale,
	// and a fresh start under a prefix the user chose (an earlier run may have
	// used it) abort what may linger from transaction 0 on.
	if _, ok := probe[w.ctx.Subtask]; !ok && (w.ctx.Restored != nil || w.ctx.Attempt > 0 || w.sink.prefix != "") {
		probe[w.ctx.Subtask] = old{w.prefix, 0}
	}
	if len(pending) == 0 && len(probe) == 0 {
		// A fresh start under the default prefix: its lineage is new.
		return 0, w.checkTopicWith(w.sink.topic)
	}
	cl, err := kgo.NewClient(w.sink.conn.opts()...)
	if err != nil {
		return 0, fmt.Errorf("kafka sink: %w", err)
	}
	defer cl.Close()
	if err := w.sink.conn.ping(w.run, cl); err != nil {
		return 0, fmt.Errorf("kafka sink: %w", err)
	}
	if err := w.checkTopic(cl, w.sink.topic); err != nil {
		return 0, err
	}
	for _, p := range pending {
		if err := endTxn(w.run, cl, p, true, w.sink.conn.connectTimeout); err != nil {
			return 0, sdk.SuppressRestarts(fmt.Errorf("kafka sink: commit the restored transaction %s of checkpoint %d: %w; if the broker aborted it because the transaction timeout (%s) passed, its records are lost: raise SetTransactionTimeout",
				p.TransactionalID, p.CheckpointID, err, w.sink.txnTimeout))
		}
	}
	next := int64(0)
	for sub, o := range probe {
		n, err := w.abortFrom(cl, o.prefix, sub, o.next)
		if err != nil {
			return 0, err
		}
		if sub == w.ctx.Subtask && o.prefix == w.prefix {
			next = n
		}
	}
	w.ctx.Log.Info().Int("committed", len(pending)).Int64("next", next).Msg("kafka sink: recovered transactions")
	return next, nil
}

// maxProbe bounds the transactional ids a recovery initializes: one per
// checkpoint a failed run got through after the restored one.
const maxProbe = 10000

// abortFrom initializes "<prefix>-<subtask>-<n>" for n = from, from+1, ...,
// which aborts any transaction open under that id, until an id that was
// never used (epoch 0); it returns that n.
func (w *sinkWriter[T]) abortFrom(cl *kgo.Client, prefix string, subtask int, from int64) (int64, error) {
	for n := from; n < from+maxProbe; n++ {
		id := w.txnID(prefix, subtask, n)
		epoch, err := initProducer(w.run, cl, id, w.sink.txnTimeout, w.sink.conn.connectTimeout)
		if err != nil {
			return 0, fmt.Errorf("kafka sink: abort the transactions of %s: %w", id, err)
		}
		if epoch == 0 {
			return n, nil
		}
	}
	return 0, fmt.Errorf("kafka sink: more than %d transactional ids of %s-%d were in use after the restored checkpoint", maxProbe, prefix, subtask)
}

// retry runs req until it succeeds, fails with a non-retriable error, or
// timeout passes (the coordinator answers CONCURRENT_TRANSACTIONS while it
// completes an earlier transaction of the id).
func retry(ctx context.Context, timeout time.Duration, req func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := req(ctx)
		if err == nil || !kerr.IsRetriable(err) && !errors.Is(err, kerr.ConcurrentTransactions) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("still failing after %s: %w", timeout, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func initProducer(ctx context.Context, cl *kgo.Client, id string, txnTimeout, timeout time.Duration) (int16, error) {
	var epoch int16
	err := retry(ctx, timeout, func(ctx context.Context) error {
		req := kmsg.NewPtrInitProducerIDRequest()
		req.TransactionalID = &id
		req.TransactionTimeoutMillis = int32(txnTimeout.Milliseconds())
		req.ProducerID, req.ProducerEpoch = -1, -1
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return err
		}
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			return err
		}
		epoch = resp.ProducerEpoch
		return nil
	})
	return epoch, err
}

func endTxn(ctx context.Context, cl *kgo.Client, p PendingTxn, commit bool, timeout time.Duration) error {
	return retry(ctx, timeout, func(ctx context.Context) error {
		req := kmsg.NewPtrEndTxnRequest()
		req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = p.TransactionalID, p.ProducerID, p.Epoch, commit
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return err
		}
		return kerr.ErrorForCode(resp.ErrorCode)
	})
}

// begin opens transaction n of this subtask.
func (w *sinkWriter[T]) begin(n int64) error {
	id := w.txnID(w.prefix, w.ctx.Subtask, n)
	cl, err := kgo.NewClient(w.sink.conn.opts(kgo.TransactionalID(id), kgo.TransactionTimeout(w.sink.txnTimeout),
		kgo.RecordPartitioner(sinkPartitioner{}))...)
	if err != nil {
		return fmt.Errorf("kafka sink: %w", err)
	}
	ctx, cancel := context.WithTimeout(w.run, w.sink.conn.connectTimeout)
	defer cancel()
	if _, _, err := cl.ProducerID(ctx); err != nil {
		cl.Close()
		if errors.Is(err, kerr.InvalidTransactionTimeout) {
			return sdk.SuppressRestarts(fmt.Errorf("kafka sink: the broker refuses transaction timeout %s: it must not exceed the broker's transaction.max.timeout.ms; lower SetTransactionTimeout or raise that setting", w.sink.txnTimeout))
		}
		if cerr := w.sink.conn.credentialsError(err); cerr != nil {
			return fmt.Errorf("kafka sink: %w", cerr)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("kafka sink: %w at %v within %s: initializing transactional id %s: check the bootstrap servers and that the brokers run", ErrUnreachable, w.sink.conn.bootstrap, w.sink.conn.connectTimeout, id)
		}
		return fmt.Errorf("kafka sink: initialize transactional id %s: %w", id, err)
	}
	if err := cl.BeginTransaction(); err != nil {
		cl.Close()
		return fmt.Errorf("kafka sink: begin transaction %s: %w", id, err)
	}
	w.cur = &txn{n: n, id: id, cl: cl}
	return nil
}

func (w *sinkWriter[T]) produced(_ *kgo.Record, err error) {
	if err != nil {
		w.mu.Lock()
		if w.perr == nil {
			w.perr = err
		}
		w.mu.Unlock()
	}
}

func (w *sinkWriter[T]) produceErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.perr
}

func (w *sinkWriter[T]) write(batch []T) error {
	if err := w.produceErr(); err != nil {
		return fmt.Errorf("kafka sink: produce: %w", err)
	}
	cl := w.cl
	if w.cur != nil {
		cl = w.cur.cl
		w.cur.written = w.cur.written || len(batch) > 0
	}
	for _, v := range batch {
		pr, err := w.sink.ser(v)
		if err != nil {
			return sdk.SuppressRestarts(fmt.Errorf("kafka sink: serialize %.80v: %w", v, err))
		}
		if pr.Topic == "" {
			pr.Topic = w.sink.topic
		}
		if pr.Topic == "" {
			return sdk.SuppressRestarts(fmt.Errorf("kafka sink: the serializer gave record %.80v no topic: set ProducerRecord.Topic, or the sink's SetTopic", v))
		}
		if pr.Topic != w.last {
			if err := w.checkTopic(cl, pr.Topic); err != nil {
				return err
			}
			w.last = pr.Topic
		}
		r := &kgo.Record{Topic: pr.Topic, Key: pr.Key, Value: pr.Value}
		if pr.Timestamp != 0 {
			r.Timestamp = time.UnixMilli(pr.Timestamp)
		}
		for _, h := range pr.Headers {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
		}
		switch {
		case pr.Partition >= 0:
			r.Partition, r.Context = pr.Partition, explicitPartition
		case w.sink.partitioner != nil:
			r.Context = &userPartition[T]{Context: explicitPartition, v: v, r: pr, p: w.sink.partitioner}
		}
		cl.Produce(w.run, r, w.produced)
	}
	return nil
}

// ErrMissingTopic is wrapped by the error of a sink whose output topic does
// not exist.
var ErrMissingTopic = errors.New("kafka sink: output topic does not exist")

// checkTopic fails, for good, if topic does not exist. Topics found are
// remembered, so each is looked up once.
func (w *sinkWriter[T]) checkTopic(cl *kgo.Client, topic string) error {
	if topic == "" || w.topics[topic] {
		return nil
	}
	ctx, cancel := context.WithTimeout(w.run, w.sink.conn.connectTimeout)
	defer cancel()
	det, err := kadm.NewClient(cl).ListTopics(ctx, topic)
	if err != nil {
		return fmt.Errorf("kafka sink: look up output topic %q: %w", topic, err)
	}
	if d, ok := det[topic]; !ok || d.Err != nil {
		cause := error(kerr.UnknownTopicOrPartition)
		if ok {
			cause = d.Err
		}
		return sdk.SuppressRestarts(fmt.Errorf("%w: %q (%v); create it (the brokers do not create topics for the sink), or fix the topic name", ErrMissingTopic, topic, cause))
	}
	w.topics[topic] = true
	return nil
}

// checkTopicWith is checkTopic on a client of its own.
func (w *sinkWriter[T]) checkTopicWith(topic string) error {
	if topic == "" {
		return nil
	}
	cl, err := kgo.NewClient(w.sink.conn.opts()...)
	if err != nil {
		return fmt.Errorf("kafka sink: %w", err)
	}
	defer cl.Close()
	if err := w.sink.conn.ping(w.run, cl); err != nil {
		return fmt.Errorf("kafka sink: %w", err)
	}
	return w.checkTopic(cl, topic)
}

// flush waits until cl has written everything, within the connect timeout.
func (w *sinkWriter[T]) flush(cl *kgo.Client) error {
	ctx, cancel := context.WithTimeout(w.run, w.sink.conn.connectTimeout)
	defer cancel()
	if err := cl.Flush(ctx); err != nil {
		return fmt.Errorf("kafka sink: flush within %s: %w", w.sink.conn.connectTimeout, err)
	}
	if err := w.produceErr(); err != nil {
		return fmt.Errorf("kafka sink: produce: %w", err)
	}
	return nil
}

// precommit flushes the open transaction as checkpoint id's and opens the
// next one; an empty transaction stays open for the next checkpoint.
func (w *sinkWriter[T]) precommit(id int64, reopen bool) error {
	if !w.cur.written {
		return nil
	}
	if err := w.flush(w.cur.cl); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(w.run, w.sink.conn.connectTimeout)
	defer cancel()
	pid, epoch, err := w.cur.cl.ProducerID(ctx)
	if err != nil {
		return fmt.Errorf("kafka sink: producer id of %s: %w", w.cur.id, err)
	}
	w.cur.pending = PendingTxn{CheckpointID: id, TransactionalID: w.cur.id, ProducerID: pid, Epoch: epoch}
	w.pending = append(w.pending, w.cur)
	n := w.cur.n + 1
	w.cur = nil
	if !reopen {
		return nil
	}
	return w.begin(n)
}

func (w *sinkWriter[T]) snapshot(id int64) ([]state.Part, error) {
	if err := w.precommit(id, true); err != nil {
		return nil, err
	}
	st := TxnState{Prefix: w.prefix, Subtask: w.ctx.Subtask}
	if w.cur != nil {
		st.Next = w.cur.n
	} else if len(w.pending) > 0 {
		st.Next = w.pending[len(w.pending)-1].n + 1
	}
	for _, t := range w.pending {
		st.Pending = append(st.Pending, t.pending)
	}
	p, err := state.SnapshotList(sinkStateName, state.UnionKind, []TxnState{st})
	if err != nil {
		return nil, err
	}
	return []state.Part{p}, nil
}

// commit commits every flushed transaction up to checkpoint id.
func (w *sinkWriter[T]) commit(id int64) error {
	if w.sink.beforeCommit != nil {
		if err := w.sink.beforeCommit(id); err != nil {
			return err
		}
	}
	if w.closed {
		return w.commitClosed(id)
	}
	for len(w.pending) > 0 && w.pending[0].pending.CheckpointID <= id {
		t := w.pending[0]
		ctx, cancel := context.WithTimeout(w.run, w.sink.conn.connectTimeout)
		err := t.cl.EndTransaction(ctx, kgo.TryCommit)
		cancel()
		if err != nil {
			return w.commitErr(t, err)
		}
		t.cl.Close()
		w.pending = w.pending[1:]
	}
	return nil
}

func (w *sinkWriter[T]) commitErr(t *txn, err error) error {
	return fmt.Errorf("kafka sink: commit transaction %s of checkpoint %d: %w; if the transaction timeout (%s) passed, the broker aborted it: raise SetTransactionTimeout",
		t.id, t.pending.CheckpointID, err, w.sink.txnTimeout)
}

// commitClosed commits after Close, as CommitAtJobEnd does once the whole
// job has finished: the transactions' clients are gone, so it ends them by
// their saved producer id and epoch, as a recovery does.
func (w *sinkWriter[T]) commitClosed(id int64) error {
	if len(w.pending) == 0 || w.pending[0].pending.CheckpointID > id {
		return nil
	}
	cl, err := kgo.NewClient(w.sink.conn.opts()...)
	if err != nil {
		return fmt.Errorf("kafka sink: %w", err)
	}
	defer cl.Close()
	for len(w.pending) > 0 && w.pending[0].pending.CheckpointID <= id {
		t := w.pending[0]
		if err := endTxn(context.Background(), cl, t.pending, true, w.sink.conn.connectTimeout); err != nil {
			return w.commitErr(t, err)
		}
		w.pending = w.pending[1:]
	}
	return nil
}

func (w *sinkWriter[T]) finish() error {
	if w.cur == nil {
		return w.flush(w.cl)
	}
	return w.precommit(endOfInput, false)
}

// close releases the clients. It ends no transaction: the flushed ones may
// still be committed by a recovery, and the open one is aborted by it (or by
// the broker when its timeout passes).
func (w *sinkWriter[T]) close() error {
	w.closed = true
	w.cancel()
	if w.cl != nil {
		w.cl.Close()
	}
	if w.cur != nil {
		w.cur.cl.Close()
	}
	for _, t := range w.pending {
		t.cl.Close()
	}
	return nil
}
