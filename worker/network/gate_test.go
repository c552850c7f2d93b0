package network

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// sendRecords acquires a buffer on c, fills it with records and sends it.
func sendRecords[T any](t *testing.T, c *Channel[T], records ...T) {
	t.Helper()
	b, err := c.Acquire()
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	if len(b) != 0 {
		t.Fatalf("Acquire returned a buffer of length %d", len(b))
	}
	if err := c.Send(append(b, records...)); err != nil {
		t.Fatalf("Send: %v", err)
	}
}

// polled is one buffer as the consumer saw it.
type polled[T any] struct {
	channel int
	records []T
	event   EventKind
}

// drain polls g until it is empty, recycling data buffers, and returns what it saw.
func drain[T any](g *InputGate[T]) []polled[T] {
	var out []polled[T]
	for {
		b, ch, ok := g.Poll()
		if !ok {
			return out
		}
		p := polled[T]{channel: ch, event: b.Event.Kind}
		if b.Event.Kind == NoEvent {
			p.records = slices.Clone(b.Records)
			g.Recycle(ch, b.Records)
		}
		out = append(out, p)
	}
}

func channelsOf(ps []polled[int]) []int {
	var out []int
	for _, p := range ps {
		out = append(out, p.channel)
	}
	return out
}

func TestGatePerChannelOrder(t *testing.T) {
	g := NewInputGate[int](3, 4, 8, make(chan struct{}, 1))
	// Interleave sends over the channels; each channel numbers its buffers.
	for i := range 4 {
		for ch := range 3 {
			sendRecords(t, g.Channel(ch), ch*100+i*2, ch*100+i*2+1)
		}
	}
	got := map[int][]int{}
	for _, p := range drain(g) {
		got[p.channel] = append(got[p.channel], p.records...)
	}
	for ch := range 3 {
		want := []int{ch * 100, ch*100 + 1, ch*100 + 2, ch*100 + 3, ch*100 + 4, ch*100 + 5, ch*100 + 6, ch*100 + 7}
		if !slices.Equal(got[ch], want) {
			t.Errorf("channel %d delivered %v, want %v", ch, got[ch], want)
		}
	}
}

func TestGateRoundRobin(t *testing.T) {
	g := NewInputGate[int](3, 3, 8, make(chan struct{}, 1))
	// All of channel 0's buffers are queued first, then 1's, then 2's: Poll must
	// still alternate rather than drain channel 0 first.
	for ch := range 3 {
		for i := range 3 {
			sendRecords(t, g.Channel(ch), i)
		}
	}
	if got, want := channelsOf(drain(g)), []int{0, 1, 2, 0, 1, 2, 0, 1, 2}; !slices.Equal(got, want) {
		t.Fatalf("poll order %v, want %v", got, want)
	}

	// Unequal queues: the longer one gets the remaining turns in a row.
	sendRecords(t, g.Channel(2), 1)
	sendRecords(t, g.Channel(0), 1)
	sendRecords(t, g.Channel(2), 2)
	sendRecords(t, g.Channel(2), 3)
	sendRecords(t, g.Channel(1), 1)
	if got, want := channelsOf(drain(g)), []int{2, 0, 1, 2, 2}; !slices.Equal(got, want) {
		t.Fatalf("poll order %v, want %v", got, want)
	}

	// A channel that becomes non-empty joins at the back of the line.
	sendRecords(t, g.Channel(0), 1)
	sendRecords(t, g.Channel(0), 2)
	if _, ch, _ := g.Poll(); ch != 0 {
		t.Fatalf("first poll from channel %d, want 0", ch)
	}
	sendRecords(t, g.Channel(1), 1)
	var order []int
	for {
		b, ch, ok := g.Poll()
		if !ok {
			break
		}
		order = append(order, ch)
		g.Recycle(ch, b.Records)
	}
	if want := []int{0, 1}; !slices.Equal(order, want) {
		t.Fatalf("poll order %v, want %v", order, want)
	}
	if _, ch, ok := g.Poll(); ok || ch != -1 {
		t.Fatalf("Poll on an empty gate = channel %d, ok %v; want -1, false", ch, ok)
	}
}

func TestGateNotifyIsCoalesced(t *testing.T) {
	notify := make(chan struct{}, 1)
	g := NewInputGate[int](2, 4, 8, notify)
	if len(notify) != 0 {
		t.Fatal("token before any send")
	}
	sendRecords(t, g.Channel(0), 1)
	sendRecords(t, g.Channel(1), 1)
	sendRecords(t, g.Channel(0), 2)
	if err := g.Channel(1).SendEvent(Event{Kind: EndOfPartition}); err != nil {
		t.Fatal(err)
	}
	if len(notify) != 1 {
		t.Fatalf("%d tokens after 4 sends, want 1", len(notify))
	}
	<-notify
	drain(g)
	if len(notify) != 0 {
		t.Fatal("token after polling")
	}
	sendRecords(t, g.Channel(0), 3)
	if len(notify) != 1 {
		t.Fatal("no token after a send")
	}
}

// TestGateCredits: with two credits the producer's third Acquire blocks until
// the consumer recycles a buffer.
func TestGateCredits(t *testing.T) {
	g := NewInputGate[int](1, 2, 4, make(chan struct{}, 1))
	c := g.Channel(0)
	t.Cleanup(func() { g.Close(nil) }) // on failure, unblock the producer
	if c.Credits() != 2 {
		t.Fatalf("Credits() = %d, want 2", c.Credits())
	}
	sendRecords(t, c, 1)
	sendRecords(t, c, 2)
	if s := g.Stats(); s != (Stats{Queued: 2, MaxQueued: 2, Credits: 2, BlockedProducers: 0}) {
		t.Fatalf("Stats = %+v", s)
	}
	type acquired struct {
		b   []int
		err error
	}
	third := make(chan acquired, 1)
	go func() {
		b, err := c.Acquire()
		third <- acquired{b, err}
	}()
	waitFor(t, "the producer to block in Acquire", func() bool { return g.Stats().BlockedProducers == 1 })
	select {
	case a := <-third:
		t.Fatalf("third Acquire returned %v, %v without a recycled buffer", a.b, a.err)
	default:
	}

	b, ch, ok := g.Poll()
	if !ok || ch != 0 || !slices.Equal(b.Records, []int{1}) {
		t.Fatalf("Poll = %v, %d, %v", b, ch, ok)
	}
	// Polled but not yet recycled: the buffer is still in the consumer's hands.
	if s := g.Stats(); s.Queued != 1 || s.BlockedProducers != 1 {
		t.Fatalf("after Poll, Stats = %+v; want Queued 1, BlockedProducers 1", s)
	}
	g.Recycle(ch, b.Records)
	var a acquired
	select {
	case a = <-third:
	case <-time.After(10 * time.Second):
		t.Fatal("Recycle did not wake the producer")
	}
	if a.err != nil || len(a.b) != 0 || cap(a.b) < 4 {
		t.Fatalf("third Acquire = len %d cap %d, %v", len(a.b), cap(a.b), a.err)
	}
	if s := g.Stats(); s.BlockedProducers != 0 || s.MaxQueued != 2 {
		t.Fatalf("Stats = %+v", s)
	}
	// The recycled buffer was cleared before reuse.
	if full := a.b[:1]; full[0] != 0 {
		t.Fatalf("recycled buffer still holds %d", full[0])
	}
}

// TestGateMaxQueuedBoundedByCredits runs a producer far ahead of its consumer:
// the queue never holds more data buffers than the channel has credits.
func TestGateMaxQueuedBoundedByCredits(t *testing.T) {
	for _, credits := range []int{1, 2, 5} {
		g := NewInputGate[int](1, credits, 2, make(chan struct{}, 1))
		c := g.Channel(0)
		t.Cleanup(func() { g.Close(nil) }) // on failure, unblock the producer
		const buffers = 50
		done := make(chan error, 1)
		go func() {
			for i := range buffers {
				b, err := c.Acquire()
				if err != nil {
					done <- err
					return
				}
				if err := c.Send(append(b, i)); err != nil {
					done <- err
					return
				}
			}
			done <- c.SendEvent(Event{Kind: EndOfPartition})
		}()
		var got []int
		deadline := time.Now().Add(10 * time.Second)
		for !g.Finished() {
			if time.Now().After(deadline) {
				t.Fatalf("credits %d: gate not finished after %d buffers; stats %+v", credits, len(got), g.Stats())
			}
			// Let the producer run into back-pressure before each poll.
			waitFor(t, "the producer to block or finish", func() bool {
				s := g.Stats()
				return s.BlockedProducers == 1 || len(done) == 1
			})
			for _, p := range drain(g) {
				got = append(got, p.records...)
			}
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if len(got) != buffers {
			t.Fatalf("credits %d: received %d buffers, want %d", credits, len(got), buffers)
		}
		for i, v := range got {
			if v != i {
				t.Fatalf("credits %d: buffer %d holds %d", credits, i, v)
			}
		}
		if m := c.MaxQueued(); m != credits {
			t.Errorf("credits %d: MaxQueued = %d, want exactly %d", credits, m, credits)
		}
		if s := g.Stats(); s.MaxQueued != credits || s.Queued != 0 {
			t.Errorf("credits %d: Stats = %+v", credits, s)
		}
	}
}

func TestGateEndOfPartition(t *testing.T) {
	g := NewInputGate[int](3, 1, 4, make(chan struct{}, 1))
	if g.NumChannels() != 3 {
		t.Fatalf("NumChannels = %d", g.NumChannels())
	}
	eop := func(ch int) {
		t.Helper()
		if err := g.Channel(ch).SendEvent(Event{Kind: EndOfPartition}); err != nil {
			t.Fatal(err)
		}
	}
	// Events take no credit: data and several events fit in a one-credit channel.
	sendRecords(t, g.Channel(0), 7)
	eop(0)
	eop(1)
	if s := g.Stats(); s.Queued != 1 {
		t.Fatalf("Queued = %d, want 1 (events are not counted)", s.Queued)
	}
	got := drain(g)
	want := []polled[int]{{0, []int{7}, NoEvent}, {1, nil, EndOfPartition}, {0, nil, EndOfPartition}}
	if !slices.EqualFunc(got, want, func(a, b polled[int]) bool {
		return a.channel == b.channel && a.event == b.event && slices.Equal(a.records, b.records)
	}) {
		t.Fatalf("polled %+v, want %+v", got, want)
	}
	if g.Finished() {
		t.Fatal("Finished with channel 2 open")
	}
	eop(1) // a second EndOfPartition on a channel does not count twice
	drain(g)
	if g.Finished() {
		t.Fatal("Finished after a duplicate EndOfPartition")
	}
	eop(2)
	if g.Finished() {
		t.Fatal("Finished before the consumer polled the last EndOfPartition")
	}
	drain(g)
	if !g.Finished() {
		t.Fatal("not Finished after every channel ended")
	}
}

func TestGateCloseWakesBlockedProducer(t *testing.T) {
	g := NewInputGate[int](2, 1, 4, make(chan struct{}, 1))
	sendRecords(t, g.Channel(0), 1)
	sendRecords(t, g.Channel(1), 1)
	errc := make(chan error, 2)
	for ch := range 2 {
		go func() {
			_, err := g.Channel(ch).Acquire()
			errc <- err
		}()
	}
	waitFor(t, "both producers to block", func() bool { return g.Stats().BlockedProducers == 2 })
	boom := errors.New("job failed")
	g.Close(boom)
	for range 2 {
		select {
		case err := <-errc:
			if err != boom {
				t.Fatalf("blocked Acquire returned %v, want %v", err, boom)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Close did not wake a blocked producer")
		}
	}
	if s := g.Stats(); s.BlockedProducers != 0 {
		t.Fatalf("BlockedProducers = %d after Close", s.BlockedProducers)
	}
	// Later calls fail with the first close error, even with free credits.
	g.Recycle(0, make([]int, 0, 4))
	if _, err := g.Channel(0).Acquire(); err != boom {
		t.Fatalf("Acquire after Close = %v, want %v", err, boom)
	}
	if err := g.Channel(0).Send([]int{1}); err != boom {
		t.Fatalf("Send after Close = %v, want %v", err, boom)
	}
	if err := g.Channel(0).SendEvent(Event{Kind: EndOfPartition}); err != boom {
		t.Fatalf("SendEvent after Close = %v, want %v", err, boom)
	}
	g.Close(errors.New("second"))
	if _, err := g.Channel(1).Acquire(); err != boom {
		t.Fatalf("a second Close replaced the error: %v", err)
	}
}

func TestGateCloseWakesConsumer(t *testing.T) {
	notify := make(chan struct{}, 1)
	g := NewInputGate[int](1, 1, 4, notify)
	g.Close(nil)
	select {
	case <-notify:
	default:
		t.Fatal("Close sent no wake-up")
	}
	if _, err := g.Channel(0).Acquire(); !errors.Is(err, ErrGateClosed) {
		t.Fatalf("Acquire after Close(nil) = %v, want ErrGateClosed", err)
	}
}
