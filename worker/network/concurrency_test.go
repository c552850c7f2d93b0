package network

import (
	"fmt"
	"testing"
	"time"
)

// TestGateManyProducers sends 4 × 100k records through one gate with two credits
// per channel: each producer has its own channel and RecordWriter, the consumer
// checks every producer's records arrive complete and in order.
func TestGateManyProducers(t *testing.T) {
	const (
		producers = 4
		perProd   = 100_000
		batchSize = 64
	)
	notify := make(chan struct{}, 1)
	g := NewInputGate[uint64](producers, 2, batchSize, notify)
	t.Cleanup(func() { g.Close(nil) }) // on failure, unblock the producers
	errc := make(chan error, producers)
	for p := range producers {
		w, err := NewRecordWriter([]ChannelWriter[uint64]{g.Channel(p)}, PartitionForward, nil, 128, batchSize, time.Hour, 0)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			// Push in batches of varying size so buffer boundaries fall anywhere.
			batch := make([]uint64, 0, 100)
			next := 0
			for next < perProd {
				n := min(1+next%97, perProd-next)
				batch = batch[:0]
				for i := range n {
					batch = append(batch, uint64(p)<<32|uint64(next+i))
				}
				if err := w.Push(batch, nil); err != nil {
					errc <- fmt.Errorf("producer %d: %w", p, err)
					return
				}
				next += n
			}
			errc <- w.Finish()
		}()
	}

	var next [producers]int
	total := 0
	timeout := time.NewTimer(20 * time.Second)
	defer timeout.Stop()
	for !g.Finished() {
		b, ch, ok := g.Poll()
		if !ok {
			select {
			case <-notify:
			case <-timeout.C:
				t.Fatalf("stalled after %d records; per producer %v; stats %+v", total, next, g.Stats())
			}
			continue
		}
		if b.Event.Kind != NoEvent {
			continue
		}
		if len(b.Records) == 0 || len(b.Records) > batchSize {
			t.Fatalf("channel %d: buffer of %d records", ch, len(b.Records))
		}
		for _, r := range b.Records {
			p, i := int(r>>32), int(uint32(r))
			if p != ch {
				t.Fatalf("record of producer %d on channel %d", p, ch)
			}
			if i != next[p] {
				t.Fatalf("producer %d: got record %d, want %d", p, i, next[p])
			}
			next[p]++
		}
		total += len(b.Records)
		g.Recycle(ch, b.Records)
	}
	for range producers {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if total != producers*perProd {
		t.Fatalf("received %d records, want %d", total, producers*perProd)
	}
	for p, n := range next {
		if n != perProd {
			t.Errorf("producer %d: received %d records, want %d", p, n, perProd)
		}
	}
	if s := g.Stats(); s.MaxQueued > 2 || s.Queued != 0 || s.BlockedProducers != 0 {
		t.Errorf("Stats = %+v; want MaxQueued <= 2, nothing queued or blocked", s)
	}
}
