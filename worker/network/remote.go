package network

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spate-io/spate/sdk/codec"
)

// Channels between processes. A producer's RemoteWriter encodes each buffer
// in Avro binary (the compiled codecs of sdk/codec) and sends it as one
// message; the consumer's RemoteReceiver copies it into a free buffer of the
// consumer's local Channel, where the task polls it as any other, and Poll
// decodes it on the task's goroutine. Credit-based
// flow control, as Flink's: the receiver announces one credit per free buffer
// of the channel, the writer sends a data buffer only against a credit, and
// the receiver announces a credit again each time the consumer recycles a
// buffer (the link may coalesce announcements: worker's DataPlane sends the
// credits of all channels of a connection recycled meanwhile in one write).
// Events (barriers, watermarks, end of partition) travel in order with the
// data and take no credit. So a receiver always has room for what
// arrives: the connection's reader never blocks on one channel, and one slow
// channel never holds back the others of a multiplexed connection.
//
// When the consumer's gate closes (its task is cancelled or released), the
// receiver tells the writer (MsgError with the reason), which fails the
// producer as a closed local gate does: a producer waiting for credit that
// will never come is woken. What was on its way meanwhile reaches a closed
// gate and is dropped: that is the end of a channel, not a broken peer.
//
//	RemoteWriter ──Buffer/Event──▶ link ──▶ RemoteReceiver ──enqueue──▶ Channel ──Poll──▶ task
//	     ▲                                                                 │
//	     └──────────────AddCredit◀── link ◀──Credit(1)◀── recycle hook ◀───┘

// MessageKind says what a RemoteMessage carries.
type MessageKind uint8

const (
	// MsgBuffer carries an encoded data buffer; it uses one credit.
	MsgBuffer MessageKind = iota + 1
	// MsgEvent carries an encoded event.
	MsgEvent
	// MsgCredit announces Credits more free buffers at the receiver.
	MsgCredit
	// MsgError tells the writer that the receiver closed its end of the
	// channel; Payload is the reason (UTF-8). Nothing more comes back.
	MsgError
)

// RemoteMessage is what one logical channel of a connection carries.
type RemoteMessage struct {
	Kind    MessageKind
	Credits int
	Payload []byte
}

// Link sends the messages of one logical channel to the other end. Send may
// keep Payload only until it returns. It must not block for long: the
// transport queues and writes. Fail ends the link's connection, whose peer
// broke the protocol with err; it closes the gates of every channel on it.
type Link interface {
	Send(m RemoteMessage) error
	Fail(err error)
}

// ErrCreditExceeded is the receiver's error when a sender sent a data buffer
// without a credit: a broken peer, whose connection must be closed.
var ErrCreditExceeded = errors.New("remote channel: a data buffer arrived without a credit")

// ErrBadMessage wraps the decoding errors of a message that is not what the
// channel's record type and batch size allow.
var ErrBadMessage = errors.New("remote channel: bad message")

// RemoteWriter is the producer's end of a channel to another process. It
// implements ChannelWriter; its methods are for the producer's goroutine,
// except AddCredit and Close, which the connection calls.
type RemoteWriter[T any] struct {
	link  Link
	codec *codec.Codec[T]
	batch int

	mu      sync.Mutex
	cond    *sync.Cond
	credits int
	err     error
	free    []Buffer[T]

	scratch []byte // the producer goroutine's encoding buffer

	waited  atomic.Int64 // nanoseconds spent waiting for credit
	waiting atomic.Int32 // producers waiting for credit now
	sent    atomic.Int64 // payload bytes sent
}

var _ ChannelWriter[int] = (*RemoteWriter[int])(nil)

// NewRemoteWriter returns the writer of one channel over link, sending
// buffers of up to batchSize records. It has no credit until the receiver
// announces some (AddCredit).
func NewRemoteWriter[T any](link Link, c *codec.Codec[T], batchSize int) *RemoteWriter[T] {
	w := &RemoteWriter[T]{link: link, codec: c, batch: batchSize}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// AddCredit records n more free buffers at the receiver.
func (w *RemoteWriter[T]) AddCredit(n int) {
	w.mu.Lock()
	w.credits += n
	w.mu.Unlock()
	w.cond.Broadcast()
}

// Close fails every current and later call with err (the connection broke,
// or the job is cancelled).
func (w *RemoteWriter[T]) Close(err error) {
	if err == nil {
		err = ErrGateClosed
	}
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
	w.cond.Broadcast()
}

// AcquireBuffer waits for a credit and returns an empty buffer for it.
func (w *RemoteWriter[T]) AcquireBuffer() (Buffer[T], error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.credits == 0 && w.err == nil {
		start := time.Now()
		w.waiting.Add(1)
		for w.credits == 0 && w.err == nil {
			w.cond.Wait()
		}
		w.waiting.Add(-1)
		w.waited.Add(int64(time.Since(start)))
	}
	if w.err != nil {
		return Buffer[T]{}, w.err
	}
	w.credits--
	if n := len(w.free); n > 0 {
		b := w.free[n-1]
		w.free = w.free[:n-1]
		return b, nil
	}
	return Buffer[T]{Records: make([]T, 0, w.batch)}, nil
}

// SendBuffer encodes b and sends it; b's slices are reused afterwards.
func (w *RemoteWriter[T]) SendBuffer(b Buffer[T]) error {
	w.mu.Lock()
	err := w.err
	w.mu.Unlock()
	if err != nil {
		return err
	}
	w.scratch = appendBuffer(w.scratch[:0], w.codec, b)
	err = w.link.Send(RemoteMessage{Kind: MsgBuffer, Payload: w.scratch})
	w.sent.Add(int64(len(w.scratch)))
	clear(b.Records)
	w.mu.Lock()
	w.free = append(w.free, Buffer[T]{Records: b.Records[:0], Timestamps: b.Timestamps[:0]})
	w.mu.Unlock()
	return err
}

// SendEvent sends e after every buffer sent before it; it takes no credit.
func (w *RemoteWriter[T]) SendEvent(e Event) error {
	w.mu.Lock()
	err := w.err
	w.mu.Unlock()
	if err != nil {
		return err
	}
	return w.link.Send(RemoteMessage{Kind: MsgEvent, Payload: appendEvent(nil, e)})
}

// Err is the error the writer was closed with, or nil while it is open.
func (w *RemoteWriter[T]) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Credits is the credit the writer holds now.
func (w *RemoteWriter[T]) Credits() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.credits
}

// WaitedForCredit is the time the producer spent waiting for credit: its
// back-pressure.
func (w *RemoteWriter[T]) WaitedForCredit() time.Duration { return time.Duration(w.waited.Load()) }

// Blocked reports whether the producer is waiting for credit now.
func (w *RemoteWriter[T]) Blocked() bool { return w.waiting.Load() > 0 }

// BytesSent is the payload bytes sent so far.
func (w *RemoteWriter[T]) BytesSent() int64 { return w.sent.Load() }

// RemoteReceiver is the consumer's end of a channel from another process: it
// decodes the messages of one logical channel into channel ch of a local
// InputGate and announces credits back through link.
type RemoteReceiver[T any] struct {
	ch    *Channel[T]
	codec *codec.Codec[T]
	link  Link
}

// NewRemoteReceiver attaches a receiver to channel ch (of a gate whose
// producer is remote) and returns it. Call Start once the link is up: it
// announces the channel's credits.
func NewRemoteReceiver[T any](ch *Channel[T], c *codec.Codec[T], link Link) *RemoteReceiver[T] {
	r := &RemoteReceiver[T]{ch: ch, codec: c, link: link}
	ch.onRecycle = r.recycled
	ch.decode = r.decode
	ch.gate.mu.Lock()
	ch.onClose = r.closed
	ch.gate.mu.Unlock()
	return r
}

// Start announces every free buffer of the channel as a credit; if the gate
// is closed already, it tells the writer so instead.
func (r *RemoteReceiver[T]) Start() error {
	if err := r.ch.gate.closed(); err != nil {
		return r.link.Send(RemoteMessage{Kind: MsgError, Payload: []byte(err.Error())})
	}
	return r.link.Send(RemoteMessage{Kind: MsgCredit, Credits: r.ch.Credits()})
}

func (r *RemoteReceiver[T]) recycled() {
	// A failed send means the connection is gone; the gate is closed with it.
	_ = r.link.Send(RemoteMessage{Kind: MsgCredit, Credits: 1})
}

// closed is the gate's close hook: the writer must stop waiting for credit.
func (r *RemoteReceiver[T]) closed(err error) {
	// A failed send means the connection is gone, and the writer with it.
	_ = r.link.Send(RemoteMessage{Kind: MsgError, Payload: []byte(err.Error())})
}

// decode decodes the records of b, which arrived encoded; on the consumer's
// goroutine (Poll).
func (r *RemoteReceiver[T]) decode(b Buffer[T]) (Buffer[T], error) {
	enc := b.encoded
	d, err := decodeBuffer(Buffer[T]{Records: b.Records[:0], Timestamps: b.Timestamps[:0]}, r.codec, enc, r.ch.batchSize)
	d.encoded = enc[:0]
	if err != nil {
		r.link.Fail(err)
	}
	return d, err
}

// Deliver queues one message from the sender on the channel: a buffer as
// its bytes, which Poll decodes on the consumer's goroutine (the header is
// checked here), an event decoded. It never blocks. A message for a closed
// gate is dropped: the writer sent it before it learnt of the close. An error
// means the peer broke the protocol (or sent garbage) and its connection must
// be closed.
func (r *RemoteReceiver[T]) Deliver(m RemoteMessage) error {
	switch m.Kind {
	case MsgBuffer:
		if _, _, err := bufferHeader(m.Payload, r.ch.batchSize); err != nil {
			return err
		}
		b, ok, closed := r.ch.takeFree()
		if closed {
			return nil
		}
		if !ok {
			return ErrCreditExceeded
		}
		b.encoded = append(b.encoded[:0], m.Payload...)
		if r.ch.SendBuffer(b) != nil { // closed since takeFree: dropped
			r.ch.returnFree(b)
		}
		return nil
	case MsgEvent:
		e, err := decodeEvent(m.Payload)
		if err != nil {
			return err
		}
		_ = r.ch.SendEvent(e) // fails only on a closed gate: dropped
		return nil
	}
	return fmt.Errorf("%w: kind %d on a receiving channel", ErrBadMessage, m.Kind)
}

// takeFree takes a free buffer without blocking; closed reports a closed
// gate (and no buffer).
func (c *Channel[T]) takeFree() (b Buffer[T], ok, closed bool) {
	g := c.gate
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closeErr != nil {
		return Buffer[T]{}, false, true
	}
	n := len(c.free)
	if n == 0 {
		return Buffer[T]{}, false, false
	}
	b = c.free[n-1]
	c.free = c.free[:n-1]
	if b.Records == nil {
		b.Records = make([]T, 0, c.batchSize)
	}
	return Buffer[T]{Records: b.Records[:0], Timestamps: b.Timestamps[:0], encoded: b.encoded[:0]}, true, false
}

// returnFree gives back a buffer taken by takeFree and not queued.
func (c *Channel[T]) returnFree(b Buffer[T]) {
	clear(b.Records)
	c.gate.mu.Lock()
	c.free = append(c.free, Buffer[T]{Records: b.Records[:0], Timestamps: b.Timestamps[:0], encoded: b.encoded[:0]})
	c.gate.mu.Unlock()
}

// The encodings. A buffer: uvarint record count, a flags byte (bit 0: the
// records have timestamps), the timestamps as zigzag varints, then the
// records in Avro binary. An event: its kind, a flags byte (idle, savepoint,
// stop, drain), then zigzag varints of its timestamp and checkpoint id.

const flagTimestamps = 1

func appendBuffer[T any](dst []byte, c *codec.Codec[T], b Buffer[T]) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b.Records)))
	if len(b.Timestamps) == 0 {
		dst = append(dst, 0)
	} else {
		dst = append(dst, flagTimestamps)
		for _, ts := range b.Timestamps {
			dst = binary.AppendVarint(dst, ts)
		}
	}
	for _, v := range b.Records {
		dst = c.Append(dst, v)
	}
	return dst
}

// bufferHeader checks the header of an encoded buffer of at most max records
// and returns its record count and the bytes after the header.
func bufferHeader(p []byte, max int) (n uint64, flags byte, err error) {
	n, k := binary.Uvarint(p)
	if k <= 0 || len(p) == k {
		return 0, 0, fmt.Errorf("%w: truncated buffer header", ErrBadMessage)
	}
	if n > uint64(max) {
		return 0, 0, fmt.Errorf("%w: %d records in one buffer, more than the batch size %d", ErrBadMessage, n, max)
	}
	flags = p[k]
	if flags&^flagTimestamps != 0 {
		return 0, 0, fmt.Errorf("%w: unknown buffer flags %#x", ErrBadMessage, flags)
	}
	return n, flags, nil
}

// decodeBuffer decodes p into b (emptied), refusing more than max records.
func decodeBuffer[T any](b Buffer[T], c *codec.Codec[T], p []byte, max int) (Buffer[T], error) {
	n, flags, err := bufferHeader(p, max)
	if err != nil {
		return b, err
	}
	_, k := binary.Uvarint(p)
	p = p[k+1:]
	if flags&flagTimestamps != 0 {
		for range n {
			ts, k := binary.Varint(p)
			if k <= 0 {
				return b, fmt.Errorf("%w: truncated timestamps", ErrBadMessage)
			}
			b.Timestamps = append(b.Timestamps, ts)
			p = p[k:]
		}
	}
	if p, err = decodeRecords(&b, c, p, n); err != nil {
		return b, err
	}
	if len(p) != 0 {
		return b, fmt.Errorf("%w: %d bytes after the last record", ErrBadMessage, len(p))
	}
	return b, nil
}

// decodeRecords decodes n records into b.Records, in place; n is at most
// the batch size, within the buffer's capacity.
func decodeRecords[T any](b *Buffer[T], c *codec.Codec[T], p []byte, n uint64) ([]byte, error) {
	recs, rest, err := c.DecodeAppend(b.Records, p, int(n))
	b.Records = recs
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	return rest, nil
}

const (
	evIdle = 1 << iota
	evSavepoint
	evStop
	evDrain
)

func appendEvent(dst []byte, e Event) []byte {
	var f byte
	if e.Idle {
		f |= evIdle
	}
	if e.Savepoint {
		f |= evSavepoint
	}
	if e.Stop {
		f |= evStop
	}
	if e.Drain {
		f |= evDrain
	}
	dst = append(dst, byte(e.Kind), f)
	dst = binary.AppendVarint(dst, e.Timestamp)
	return binary.AppendVarint(dst, e.CheckpointID)
}

func decodeEvent(p []byte) (Event, error) {
	if len(p) < 2 {
		return Event{}, fmt.Errorf("%w: truncated event", ErrBadMessage)
	}
	kind, f := EventKind(p[0]), p[1]
	if kind == NoEvent || kind > CheckpointBarrier {
		return Event{}, fmt.Errorf("%w: unknown event kind %d", ErrBadMessage, kind)
	}
	if f&^(evIdle|evSavepoint|evStop|evDrain) != 0 {
		return Event{}, fmt.Errorf("%w: unknown event flags %#x", ErrBadMessage, f)
	}
	p = p[2:]
	ts, k := binary.Varint(p)
	if k <= 0 {
		return Event{}, fmt.Errorf("%w: truncated event timestamp", ErrBadMessage)
	}
	id, k2 := binary.Varint(p[k:])
	if k2 <= 0 || k+k2 != len(p) {
		return Event{}, fmt.Errorf("%w: bad event checkpoint id", ErrBadMessage)
	}
	return Event{Kind: kind, Timestamp: ts, CheckpointID: id, Idle: f&evIdle != 0, Savepoint: f&evSavepoint != 0,
		Stop: f&evStop != 0, Drain: f&evDrain != 0}, nil
}
