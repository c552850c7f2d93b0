package network

import (
	"fmt"
	"testing"
	"time"

	"github.com/spate-io/spate/state"
)

// Defaults of execution.batch-size and taskmanager.network.memory.buffers-per-channel.
const (
	benchBatchSize = 1024
	benchCredits   = 2
)

// consumeAll polls g until every channel has ended, recycling each buffer, and
// reports the number of records it saw.
func consumeAll(g *InputGate[int64], notify <-chan struct{}, records chan<- int64) {
	var n, sum int64
	for !g.Finished() {
		b, ch, ok := g.Poll()
		if !ok {
			<-notify
			continue
		}
		if b.Event.Kind != NoEvent {
			continue
		}
		for _, r := range b.Records {
			sum += r // touch every record, as an operator would
		}
		n += int64(len(b.Records))
		g.Recycle(ch, b.Records)
	}
	_ = sum
	records <- n
}

// BenchmarkRecordWriterKeyGroup routes int64 records by key group from one
// producer goroutine (the benchmark loop) to one consumer goroutine polling a
// gate with one channel per downstream subtask. One op is one upstream batch of
// benchBatchSize records.
func BenchmarkRecordWriterKeyGroup(b *testing.B) {
	hash, err := state.HasherFor[int64]()
	if err != nil {
		b.Fatal(err)
	}
	for _, channels := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("channels=%d", channels), func(b *testing.B) {
			notify := make(chan struct{}, 1)
			g := NewInputGate[int64](channels, benchCredits, benchBatchSize, notify)
			chans := make([]ChannelWriter[int64], channels)
			for i := range chans {
				chans[i] = g.Channel(i)
			}
			w, err := NewRecordWriter(chans, PartitionKeyGroup, hash, state.DefaultMaxParallelism, benchBatchSize, time.Hour, 0)
			if err != nil {
				b.Fatal(err)
			}
			got := make(chan int64, 1)
			go consumeAll(g, notify, got)

			batch := make([]int64, benchBatchSize)
			var next int64
			b.ReportAllocs()
			for b.Loop() {
				for i := range batch {
					batch[i] = next
					next++
				}
				if err := w.Push(batch, nil); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Finish(); err != nil {
				b.Fatal(err)
			}
			if n := <-got; n != next {
				b.Fatalf("consumer received %d records, want %d", n, next)
			}
			b.ReportMetric(float64(next)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkGatePingPong measures one buffer's round trip with a single credit:
// the producer acquires the buffer, fills and sends it; the consumer polls,
// reads and recycles it, which is what lets the next Acquire return. One op is
// one round trip.
func BenchmarkGatePingPong(b *testing.B) {
	for _, size := range []int{1, 1024} {
		b.Run(fmt.Sprintf("records=%d", size), func(b *testing.B) {
			notify := make(chan struct{}, 1)
			g := NewInputGate[int64](1, 1, size, notify)
			c := g.Channel(0)
			got := make(chan int64, 1)
			go consumeAll(g, notify, got)

			var sent int64
			b.ReportAllocs()
			for b.Loop() {
				buf, err := c.Acquire()
				if err != nil {
					b.Fatal(err)
				}
				for i := range size {
					buf = append(buf, int64(i))
				}
				if err := c.Send(buf); err != nil {
					b.Fatal(err)
				}
				sent += int64(size)
			}
			if err := c.SendEvent(Event{Kind: EndOfPartition}); err != nil {
				b.Fatal(err)
			}
			if n := <-got; n != sent {
				b.Fatalf("consumer received %d records, want %d", n, sent)
			}
			b.ReportMetric(float64(sent)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
