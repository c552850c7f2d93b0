package network

import (
	"slices"
	"testing"
	"time"

	"github.com/spate-io/spate/state"
)

// newTestWriter returns a writer over all channels of a fresh gate with enough
// credits that the tests below never block.
func newTestWriter(t *testing.T, n int, mode Partitioning, keyHash func(int64) uint64, batchSize int, timeout time.Duration, startAt int) (*RecordWriter[int64], *InputGate[int64]) {
	t.Helper()
	g := NewInputGate[int64](n, 64, batchSize, make(chan struct{}, 1))
	chans := make([]ChannelWriter[int64], n)
	for i := range chans {
		chans[i] = g.Channel(i)
	}
	w, err := NewRecordWriter(chans, mode, keyHash, 128, batchSize, timeout, startAt)
	if err != nil {
		t.Fatal(err)
	}
	return w, g
}

func seq(from, to int64) []int64 {
	var out []int64
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// perChannel drains g and returns, per channel, the buffers it delivered
// (records only) and whether EndOfPartition came last.
type delivery struct {
	buffers [][]int64
	ended   bool
}

func drainPerChannel(t *testing.T, g *InputGate[int64]) []delivery {
	t.Helper()
	out := make([]delivery, g.NumChannels())
	for _, p := range drain(g) {
		d := &out[p.channel]
		if d.ended {
			t.Fatalf("channel %d delivered a buffer after EndOfPartition", p.channel)
		}
		switch p.event {
		case NoEvent:
			d.buffers = append(d.buffers, p.records)
		case EndOfPartition:
			d.ended = true
		}
	}
	return out
}

func flat(bufs [][]int64) []int64 {
	var out []int64
	for _, b := range bufs {
		out = append(out, b...)
	}
	return out
}

func bufferLens(bufs [][]int64) []int {
	var out []int
	for _, b := range bufs {
		out = append(out, len(b))
	}
	return out
}

func TestNewRecordWriterErrors(t *testing.T) {
	g := NewInputGate[int64](2, 2, 4, make(chan struct{}, 1))
	two := []ChannelWriter[int64]{g.Channel(0), g.Channel(1)}
	for _, c := range []struct {
		name  string
		chans []ChannelWriter[int64]
		mode  Partitioning
		key   func(int64) uint64
		want  string
	}{
		{"no channels", nil, PartitionRoundRobin, nil, "record writer needs at least one channel"},
		{"key group without key", two, PartitionKeyGroup, nil, "key-group partitioning needs a key hash"},
		{"forward over two channels", two, PartitionForward, nil, "forward partitioning needs exactly one channel, got 2"},
	} {
		_, err := NewRecordWriter(c.chans, c.mode, c.key, 128, 4, time.Hour, 0)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}

func TestRecordWriterForward(t *testing.T) {
	w, g := newTestWriter(t, 1, PartitionForward, nil, 4, time.Hour, 0)
	if err := w.Push(seq(0, 6), nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Push(seq(6, 10), nil); err != nil {
		t.Fatal(err)
	}
	// Full buffers are sent at once; the partial one waits for Flush.
	if got := drainPerChannel(t, g)[0].buffers; !slices.EqualFunc(got, [][]int64{{0, 1, 2, 3}, {4, 5, 6, 7}}, slices.Equal) {
		t.Fatalf("before Flush: %v", got)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := drainPerChannel(t, g)[0].buffers; !slices.EqualFunc(got, [][]int64{{8, 9}}, slices.Equal) {
		t.Fatalf("after Flush: %v", got)
	}
	if err := w.Flush(); err != nil { // nothing pending: no empty buffer is sent
		t.Fatal(err)
	}
	if got := drain(g); len(got) != 0 {
		t.Fatalf("empty Flush sent %v", got)
	}
	if w.RecordsOut() != 10 {
		t.Fatalf("RecordsOut = %d, want 10", w.RecordsOut())
	}
}

func TestRecordWriterRoundRobin(t *testing.T) {
	w, g := newTestWriter(t, 3, PartitionRoundRobin, nil, 100, time.Hour, 1)
	if err := w.Push(seq(0, 5), nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Push(seq(5, 9), nil); err != nil { // the position carries across batches
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	d := drainPerChannel(t, g)
	want := [][]int64{{2, 5, 8}, {0, 3, 6}, {1, 4, 7}} // startAt 1: record 0 to channel 1
	for ch := range 3 {
		if got := flat(d[ch].buffers); !slices.Equal(got, want[ch]) {
			t.Errorf("channel %d got %v, want %v", ch, got, want[ch])
		}
	}

	// An exactly even spread over many records.
	w, g = newTestWriter(t, 3, PartitionRoundRobin, nil, 100, time.Hour, 0)
	counts := make([]int, 3)
	for i := range int64(100) {
		if err := w.Push(seq(i*301, i*301+301), nil); err != nil { // 301: batches do not align with channels
			t.Fatal(err)
		}
		for ch, d := range drainPerChannel(t, g) {
			counts[ch] += len(flat(d.buffers))
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	for ch, d := range drainPerChannel(t, g) {
		counts[ch] += len(flat(d.buffers))
	}
	if want := []int{10034, 10033, 10033}; !slices.Equal(counts, want) { // 30100 records
		t.Errorf("round-robin counts %v, want %v", counts, want)
	}

	// Buffers of exactly batch size, records in turn.
	w, g = newTestWriter(t, 4, PartitionRoundRobin, nil, 10, time.Hour, 7)
	if err := w.Push(seq(0, 120), nil); err != nil {
		t.Fatal(err)
	}
	for ch, dl := range drainPerChannel(t, g) {
		if got := bufferLens(dl.buffers); !slices.Equal(got, []int{10, 10, 10}) {
			t.Errorf("channel %d: buffer sizes %v, want [10 10 10]", ch, got)
		}
		for i, r := range flat(dl.buffers) {
			if want := int64(i*4 + (ch-3+4)%4); r != want { // startAt 7 mod 4 = 3
				t.Fatalf("channel %d record %d = %d, want %d", ch, i, r, want)
			}
		}
	}
}

func TestRecordWriterKeyGroup(t *testing.T) {
	hash, err := state.HasherFor[int64]()
	if err != nil {
		t.Fatal(err)
	}
	// 128 key groups take the mask, 100 the division.
	for _, c := range []struct{ n, maxP int }{{1, 128}, {3, 128}, {4, 128}, {7, 128}, {3, 100}, {7, 100}} {
		n, maxP := c.n, c.maxP
		g := NewInputGate[int64](n, 64, 16, make(chan struct{}, 1))
		chans := make([]ChannelWriter[int64], n)
		for i := range chans {
			chans[i] = g.Channel(i)
		}
		w, err := NewRecordWriter(chans, PartitionKeyGroup, hash, maxP, 16, time.Hour, 0)
		if err != nil {
			t.Fatal(err)
		}
		got := make([][]int64, n)
		for i := range int64(10) {
			if err := w.Push(seq(i*100, i*100+100), nil); err != nil {
				t.Fatal(err)
			}
			for ch, d := range drainPerChannel(t, g) {
				got[ch] = append(got[ch], flat(d.buffers)...)
			}
		}
		if err := w.Finish(); err != nil {
			t.Fatal(err)
		}
		for ch, d := range drainPerChannel(t, g) {
			got[ch] = append(got[ch], flat(d.buffers)...)
			if !d.ended {
				t.Errorf("n=%d: channel %d did not end", n, ch)
			}
		}
		// Reference: route each record on its own.
		want := make([][]int64, n)
		for _, r := range seq(0, 1000) {
			ch := state.SubtaskForKeyGroup(state.KeyGroupForHash(hash(r), maxP), maxP, n)
			want[ch] = append(want[ch], r)
		}
		for ch := range n {
			if !slices.Equal(got[ch], want[ch]) {
				t.Errorf("n=%d, %d key groups: channel %d got %d records %v, want %d records %v", n, maxP, ch, len(got[ch]), got[ch], len(want[ch]), want[ch])
			}
		}
	}
}

func TestRecordWriterBroadcast(t *testing.T) {
	w, g := newTestWriter(t, 3, PartitionBroadcast, nil, 4, time.Hour, 0)
	if err := w.Push(seq(0, 3), nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Push(seq(3, 10), nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	for ch, d := range drainPerChannel(t, g) {
		if !slices.EqualFunc(d.buffers, [][]int64{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}}, slices.Equal) || !d.ended {
			t.Errorf("channel %d got %v ended=%v", ch, d.buffers, d.ended)
		}
	}
	if w.RecordsOut() != 10 {
		t.Errorf("RecordsOut = %d, want 10 (records pushed, not copies sent)", w.RecordsOut())
	}
}

func TestRecordWriterFirst(t *testing.T) {
	w, g := newTestWriter(t, 3, PartitionFirst, nil, 4, time.Hour, 2)
	if err := w.Push(seq(0, 6), nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	d := drainPerChannel(t, g)
	if !slices.EqualFunc(d[0].buffers, [][]int64{{0, 1, 2, 3}, {4, 5}}, slices.Equal) {
		t.Errorf("channel 0 got %v", d[0].buffers)
	}
	for ch := range 3 {
		if ch > 0 && len(d[ch].buffers) != 0 {
			t.Errorf("channel %d got %v, want nothing", ch, d[ch].buffers)
		}
		if !d[ch].ended {
			t.Errorf("channel %d did not end", ch)
		}
	}
	if !g.Finished() {
		t.Error("gate not Finished after Finish")
	}
}

func TestRecordWriterFlushIfDue(t *testing.T) {
	for _, c := range []struct {
		name    string
		timeout time.Duration
		at      time.Duration // now, relative to the writer's creation
		flushed bool
	}{
		{"zero timeout flushes at once", 0, 0, true},
		{"an hour's timeout does not flush now", time.Hour, 0, false},
		{"an hour's timeout flushes two hours later", time.Hour, 2 * time.Hour, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			w, g := newTestWriter(t, 2, PartitionRoundRobin, nil, 8, c.timeout, 0)
			now := time.Now()
			// Nothing pending: never sends, whatever the time.
			if err := w.FlushIfDue(now.Add(c.at)); err != nil {
				t.Fatal(err)
			}
			if got := drain(g); len(got) != 0 {
				t.Fatalf("FlushIfDue with nothing pending sent %v", got)
			}
			if err := w.Push(seq(0, 3), nil); err != nil {
				t.Fatal(err)
			}
			if err := w.FlushIfDue(now.Add(c.at)); err != nil {
				t.Fatal(err)
			}
			d := drainPerChannel(t, g)
			var want []delivery
			if c.flushed {
				want = []delivery{{buffers: [][]int64{{0, 2}}}, {buffers: [][]int64{{1}}}}
			} else {
				want = []delivery{{}, {}}
			}
			for ch := range 2 {
				if !slices.EqualFunc(d[ch].buffers, want[ch].buffers, slices.Equal) {
					t.Errorf("channel %d got %v, want %v", ch, d[ch].buffers, want[ch].buffers)
				}
			}
		})
	}
}

// TestRecordWriterFlushResetsTimer: a Flush restarts the buffer timeout.
func TestRecordWriterFlushResetsTimer(t *testing.T) {
	w, g := newTestWriter(t, 1, PartitionForward, nil, 8, time.Hour, 0)
	start := time.Now()
	if err := w.Push([]int64{1}, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.FlushIfDue(start.Add(2 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := len(drain(g)); got != 1 {
		t.Fatalf("first FlushIfDue sent %d buffers, want 1", got)
	}
	if err := w.Push([]int64{2}, nil); err != nil {
		t.Fatal(err)
	}
	// Less than the timeout after the flush (which happened at the real now).
	if err := w.FlushIfDue(time.Now().Add(59 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := len(drain(g)); got != 0 {
		t.Fatalf("FlushIfDue within the timeout of the last flush sent %d buffers", got)
	}
}

func TestRecordWriterFinishSendsEndAfterData(t *testing.T) {
	w, g := newTestWriter(t, 2, PartitionRoundRobin, nil, 2, time.Hour, 0)
	if err := w.Push(seq(0, 5), nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range drain(g) {
		if p.event == EndOfPartition {
			got = append(got, "ch"+string(rune('0'+p.channel))+":end")
		} else {
			got = append(got, "ch"+string(rune('0'+p.channel))+":"+string(rune('0'+len(p.records))))
		}
	}
	// Channel 0 holds {0,2} (sent when full) and {4} (flushed); channel 1 {1,3}.
	// Round-robin over channels; each channel's end comes after its data.
	want := []string{"ch0:2", "ch1:2", "ch0:1", "ch1:end", "ch0:end"}
	if !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	if !g.Finished() {
		t.Fatal("gate not Finished")
	}
}

func TestRecordWriterClosedGate(t *testing.T) {
	w, g := newTestWriter(t, 1, PartitionForward, nil, 2, time.Hour, 0)
	g.Close(nil)
	if err := w.Push([]int64{1}, nil); err != ErrGateClosed {
		t.Fatalf("Push into a closed gate = %v, want ErrGateClosed", err)
	}
	if err := w.Finish(); err != ErrGateClosed {
		t.Fatalf("Finish into a closed gate = %v, want ErrGateClosed", err)
	}
}
