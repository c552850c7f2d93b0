package network

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/spate-io/spate/sdk/codec"
)

// pipeLink stands in for one logical channel of a connection: it copies each
// message, as bytes on a wire would be, and hands it to the other end's
// handler on a goroutine of its own, in order (the connection's reader).
type pipeLink struct {
	mu      sync.Mutex
	queue   []RemoteMessage
	wake    chan struct{}
	handler func(RemoteMessage) error
	errs    chan error
}

func newPipeLink() *pipeLink {
	return &pipeLink{wake: make(chan struct{}, 1), errs: make(chan error, 16)}
}

func (l *pipeLink) Fail(err error) { l.errs <- err }

func (l *pipeLink) Send(m RemoteMessage) error {
	m.Payload = slices.Clone(m.Payload)
	l.mu.Lock()
	l.queue = append(l.queue, m)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return nil
}

func (l *pipeLink) run(done <-chan struct{}) {
	for {
		l.mu.Lock()
		q := l.queue
		l.queue = nil
		l.mu.Unlock()
		for _, m := range q {
			if err := l.handler(m); err != nil {
				l.errs <- err
			}
		}
		select {
		case <-l.wake:
		case <-done:
			return
		}
	}
}

// remotePair connects a RemoteWriter to channel 0 of a one-channel gate
// through two pipeLinks: data one way, credits the other.
func remotePair[T any](t *testing.T, credits, batch int) (*RemoteWriter[T], *InputGate[T], *pipeLink) {
	t.Helper()
	c, err := codec.For[T]()
	if err != nil {
		t.Fatal(err)
	}
	data, back := newPipeLink(), newPipeLink()
	wr := NewRemoteWriter[T](data, c, batch)
	g := NewInputGate[T](1, credits, batch, make(chan struct{}, 1))
	r := NewRemoteReceiver(g.Channel(0), c, back)
	data.handler = r.Deliver
	back.handler = func(m RemoteMessage) error {
		if m.Kind != MsgCredit {
			return fmt.Errorf("kind %d on the credit link", m.Kind)
		}
		wr.AddCredit(m.Credits)
		return nil
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go data.run(done)
	go back.run(done)
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	return wr, g, data
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

type event struct {
	Key   string
	Value int64
}

// TestRemoteChannelRoundTrip: records, timestamps and events cross a remote
// channel through a RecordWriter exactly, in order.
func TestRemoteChannelRoundTrip(t *testing.T) {
	w, g, _ := remotePair[event](t, 2, 4)
	rw, err := NewRecordWriter([]ChannelWriter[event]{w}, PartitionForward, nil, 128, 4, time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	done := make(chan error, 1)
	go func() {
		for i := range 10 {
			e := event{Key: fmt.Sprintf("k%d", i%3), Value: int64(i)}
			var err error
			if i < 6 {
				err = rw.Push([]event{e}, []int64{int64(100 + i)})
			} else {
				err = rw.Push([]event{e}, nil)
			}
			if err != nil {
				done <- err
				return
			}
			if i == 4 {
				if err := rw.Emit(Event{Kind: CheckpointBarrier, CheckpointID: 7, Savepoint: true, Stop: true}); err != nil {
					done <- err
					return
				}
			}
		}
		if err := rw.Emit(WatermarkEvent(-5)); err != nil {
			done <- err
			return
		}
		done <- rw.Finish()
	}()
	for i := range 10 {
		ts := "none"
		if i < 6 {
			ts = fmt.Sprint(100 + i)
		}
		want = append(want, fmt.Sprintf("k%d=%d@%s", i%3, i, ts))
		if i == 4 {
			want = append(want, "CheckpointBarrier(7) savepoint stop")
		}
	}
	want = append(want, "Watermark(-5)", "EndOfPartition")
	var got []string
	for !g.Finished() {
		b, ch, ok := g.Poll()
		if !ok {
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				done <- nil
			default:
			}
			time.Sleep(time.Millisecond)
			continue
		}
		if b.Event.Kind != NoEvent {
			s := b.Event.String()
			if b.Event.Savepoint {
				s += " savepoint"
			}
			if b.Event.Stop {
				s += " stop"
			}
			got = append(got, s)
			continue
		}
		for i, r := range b.Records {
			ts := "none"
			if len(b.Timestamps) > 0 && b.Timestamps[i] != NoTimestamp {
				ts = fmt.Sprint(b.Timestamps[i])
			}
			got = append(got, fmt.Sprintf("%s=%d@%s", r.Key, r.Value, ts))
		}
		g.RecycleBuffer(ch, b)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}

// TestRemoteChannelCredits: with a consumer that does not poll, the sender
// ships exactly as many buffers as the channel has credits and then waits;
// each recycled buffer lets exactly one more through. Bytes buffered at the
// receiver are bounded by the credits.
func TestRemoteChannelCredits(t *testing.T) {
	const credits, batch = 2, 8
	w, g, _ := remotePair[int64](t, credits, batch)
	waitUntil(t, "the initial credits", func() bool { return w.Credits() == credits })
	c, _ := codec.For[int64]()
	one := len(appendBuffer(nil, c, Buffer[int64]{Records: []int64{0, 1, 2, 3, 4, 5, 6, 7}}))
	sent := make(chan int, 10)
	go func() {
		for i := range 10 {
			b, err := w.AcquireBuffer()
			if err != nil {
				return
			}
			for j := range batch {
				b.Records = append(b.Records, int64(i*batch+j)%8)
			}
			if err := w.SendBuffer(b); err != nil {
				return
			}
			sent <- i
		}
	}()
	waitUntil(t, "the producer to wait for credit", w.Blocked)
	if len(sent) != credits || w.Credits() != 0 || w.BytesSent() != int64(credits*one) {
		t.Fatalf("blocked after %d buffers, %d credits left, %d bytes sent; want %d, 0, %d", len(sent), w.Credits(), w.BytesSent(), credits, credits*one)
	}
	waitUntil(t, "both buffers queued", func() bool { return g.Stats().Queued == credits })
	b, ch, ok := g.Poll()
	if !ok || len(b.Records) != batch {
		t.Fatalf("poll: %v, %v", b, ok)
	}
	g.RecycleBuffer(ch, b)
	waitUntil(t, "one more buffer", func() bool { return len(sent) == credits+1 && w.Blocked() })
	if w.BytesSent() != int64((credits+1)*one) || g.Stats().Queued != credits {
		t.Fatalf("after one recycle: %d bytes sent, %d queued", w.BytesSent(), g.Stats().Queued)
	}
	w.Close(errors.New("test over"))
}

// TestRemoteReceiverRefusesBrokenPeers: data beyond the credits and messages
// that do not decode are errors of the connection, never a panic or a block:
// what Deliver can tell at once (a header, an event, a kind) it returns; a
// buffer whose records do not decode fails the link when the consumer polls
// it, and is not handed out.
func TestRemoteReceiverRefusesBrokenPeers(t *testing.T) {
	c, _ := codec.For[int64]()
	g := NewInputGate[int64](1, 1, 4, make(chan struct{}, 1))
	link := &recordLink{}
	r := NewRemoteReceiver(g.Channel(0), c, link)
	good := appendBuffer(nil, c, Buffer[int64]{Records: []int64{1, 2}})
	if err := r.Deliver(RemoteMessage{Kind: MsgBuffer, Payload: good}); err != nil {
		t.Fatal(err)
	}
	if err := r.Deliver(RemoteMessage{Kind: MsgBuffer, Payload: good}); !errors.Is(err, ErrCreditExceeded) {
		t.Fatalf("second buffer on one credit: %v", err)
	}
	b, ch, _ := g.Poll()
	if !reflect.DeepEqual(b.Records, []int64{1, 2}) {
		t.Fatalf("polled %v", b.Records)
	}
	g.RecycleBuffer(ch, b)
	check := func(name string, err error, want string) {
		t.Helper()
		if !errors.Is(err, ErrBadMessage) || len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
			t.Errorf("%s: %v, want %q", name, err, want)
		}
	}
	for _, tc := range []struct {
		name string
		m    RemoteMessage
		want string
	}{
		{"empty", RemoteMessage{Kind: MsgBuffer}, "remote channel: bad message: truncated buffer header"},
		{"too many records", RemoteMessage{Kind: MsgBuffer, Payload: appendBuffer(nil, c, Buffer[int64]{Records: make([]int64, 5)})},
			"remote channel: bad message: 5 records in one buffer, more than the batch size 4"},
		{"unknown flags", RemoteMessage{Kind: MsgBuffer, Payload: []byte{1, 0x80, 2}}, "remote channel: bad message: unknown buffer flags 0x80"},
		{"unknown event", RemoteMessage{Kind: MsgEvent, Payload: []byte{99, 0, 0, 0}}, "remote channel: bad message: unknown event kind 99"},
		{"credit on a receiver", RemoteMessage{Kind: MsgCredit, Credits: 1}, "remote channel: bad message: kind 3 on a receiving channel"},
	} {
		check(tc.name, r.Deliver(tc.m), tc.want)
	}
	for i, tc := range []struct {
		name    string
		payload []byte
		want    string
	}{
		{"trailing bytes", append(slices.Clone(good), 0), "remote channel: bad message: 1 bytes after the last record"},
		{"truncated record", []byte{2, 0, 2}, "remote channel: bad message: codec: decode int64"},
	} {
		if err := r.Deliver(RemoteMessage{Kind: MsgBuffer, Payload: tc.payload}); err != nil {
			t.Fatalf("%s: Deliver: %v", tc.name, err)
		}
		if b, _, ok := g.Poll(); ok {
			t.Fatalf("%s: polled %v", tc.name, b)
		}
		if len(link.failed) != i+1 {
			t.Fatalf("%s: the link failed %d times, want %d", tc.name, len(link.failed), i+1)
		}
		check(tc.name, link.failed[i], tc.want)
	}
	// After all that, the channel still has its credit: nothing leaked.
	if err := r.Deliver(RemoteMessage{Kind: MsgBuffer, Payload: good}); err != nil {
		t.Fatalf("a good buffer after bad ones: %v", err)
	}
	if b, _, ok := g.Poll(); !ok || !reflect.DeepEqual(b.Records, []int64{1, 2}) {
		t.Fatalf("the good buffer after bad ones: %v, %v", b.Records, ok)
	}
}

// recordLink keeps what is sent through it.
type recordLink struct {
	mu     sync.Mutex
	sent   []RemoteMessage
	failed []error
}

func (l *recordLink) Fail(err error) {
	l.mu.Lock()
	l.failed = append(l.failed, err)
	l.mu.Unlock()
}

func (l *recordLink) Send(m RemoteMessage) error {
	m.Payload = slices.Clone(m.Payload)
	l.mu.Lock()
	l.sent = append(l.sent, m)
	l.mu.Unlock()
	return nil
}

// TestRemoteReceiverAfterClose: closing the gate tells the writer once, with
// the reason; a buffer or event still on its way to the closed gate is
// dropped, not an error of the connection; and a receiver attached to a gate
// closed already tells the writer at Start instead of granting credits.
func TestRemoteReceiverAfterClose(t *testing.T) {
	c, _ := codec.For[int64]()
	g := NewInputGate[int64](2, 2, 4, make(chan struct{}, 1))
	link := &recordLink{}
	r := NewRemoteReceiver(g.Channel(0), c, link)
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	good := appendBuffer(nil, c, Buffer[int64]{Records: []int64{1, 2}})
	if err := r.Deliver(RemoteMessage{Kind: MsgBuffer, Payload: good}); err != nil {
		t.Fatal(err)
	}
	g.Close(errors.New("task cancelled"))
	g.Close(errors.New("released"))
	for _, m := range []RemoteMessage{
		{Kind: MsgBuffer, Payload: good},
		{Kind: MsgBuffer, Payload: good},
		{Kind: MsgBuffer, Payload: good}, // beyond the credits: a closed gate does not count
		{Kind: MsgEvent, Payload: appendEvent(nil, Event{Kind: EndOfPartition})},
	} {
		if err := r.Deliver(m); err != nil {
			t.Fatalf("kind %d after close: %v", m.Kind, err)
		}
	}
	if q := g.Stats().Queued; q != 1 {
		t.Fatalf("%d buffers queued, want the 1 before the close", q)
	}
	late := NewRemoteReceiver(g.Channel(1), c, link)
	if err := late.Start(); err != nil {
		t.Fatal(err)
	}
	want := []RemoteMessage{
		{Kind: MsgCredit, Credits: 2},
		{Kind: MsgError, Payload: []byte("task cancelled")},
		{Kind: MsgError, Payload: []byte("task cancelled")},
	}
	if !reflect.DeepEqual(link.sent, want) {
		t.Fatalf("sent %+v, want %+v", link.sent, want)
	}
}

func TestEventEncoding(t *testing.T) {
	for _, e := range []Event{
		{Kind: EndOfPartition},
		WatermarkEvent(MaxWatermark),
		WatermarkEvent(NoTimestamp),
		{Kind: WatermarkStatus, Idle: true},
		{Kind: CheckpointBarrier, CheckpointID: 1 << 40, Timestamp: 1733050000000, Savepoint: true, Stop: true, Drain: true},
	} {
		got, err := decodeEvent(appendEvent(nil, e))
		if err != nil || !reflect.DeepEqual(got, e) {
			t.Errorf("round trip of %+v: %+v, %v", e, got, err)
		}
	}
}

// FuzzDecodeBuffer: any bytes decode to at most the batch size of records or
// fail with ErrBadMessage, and what decodes survives encoding again.
func FuzzDecodeBuffer(f *testing.F) {
	c, _ := codec.For[event]()
	f.Add(appendBuffer(nil, c, Buffer[event]{Records: []event{{"a", 1}, {"bb", -2}}, Timestamps: []int64{5, NoTimestamp}}))
	f.Add(appendBuffer(nil, c, Buffer[event]{Records: []event{{"", 0}}}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f, 0})
	f.Fuzz(func(t *testing.T, p []byte) {
		b, err := decodeBuffer(Buffer[event]{}, c, p, 16)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error %v does not wrap ErrBadMessage", err)
			}
			return
		}
		if len(b.Records) > 16 {
			t.Fatalf("%d records", len(b.Records))
		}
		back, err := decodeBuffer(Buffer[event]{}, c, appendBuffer(nil, c, b), 16)
		if err != nil || !slices.Equal(back.Records, b.Records) || len(back.Timestamps) != len(b.Timestamps) {
			t.Fatalf("round trip of %+v: %+v, %v", b, back, err)
		}
	})
}

// FuzzDecodeEvent: any bytes decode to a known event or fail with ErrBadMessage.
func FuzzDecodeEvent(f *testing.F) {
	f.Add(appendEvent(nil, Event{Kind: CheckpointBarrier, CheckpointID: 3, Savepoint: true}))
	f.Add(appendEvent(nil, WatermarkEvent(42)))
	f.Fuzz(func(t *testing.T, p []byte) {
		e, err := decodeEvent(p)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error %v does not wrap ErrBadMessage", err)
			}
			return
		}
		if got, _ := decodeEvent(appendEvent(nil, e)); got != e {
			t.Fatalf("round trip %+v → %+v", e, got)
		}
	})
}
