package transport

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// These benchmarks loop over b.N rather than b.Loop: the work is split among
// senders, and the time must include the receiver draining the last bytes.

var benchSizes = []struct {
	name string
	size int
}{{"32KiB", 32 << 10}, {"4KiB", 4 << 10}}

// BenchmarkMuxThroughput sends BUFFER envelopes over loopback TCP through an
// authenticated Mux and counts them out at the receiving Mux.
func BenchmarkMuxThroughput(b *testing.B) {
	for _, sz := range benchSizes {
		for _, senders := range []int{1, 4} {
			b.Run(sz.name+"/senders="+string(rune('0'+senders)), func(b *testing.B) {
				benchMux(b, sz.size, senders)
			})
		}
	}
}

func benchMux(b *testing.B, size, senders int) {
	client, server := connPair(b, Options{})
	var received atomic.Int64
	all := make(chan struct{})
	target := int64(b.N)
	rx := NewMux(server, func(e *Envelope) {
		if received.Add(1) == target {
			close(all)
		}
	}, nil)
	tx := NewMux(client, func(*Envelope) {}, nil)
	defer rx.Close()
	defer tx.Close()
	payloads := make([][]byte, senders)
	for i := range payloads {
		payloads[i] = make([]byte, size)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for s := range senders {
		n := b.N / senders
		if s == 0 {
			n += b.N % senders
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := &Envelope{ChannelId: int64(s), Kind: KindBuffer, Payload: payloads[s]}
			for range n {
				if err := tx.Send(e); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	<-all
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)*float64(size)/elapsed.Seconds()/1e6, "MB/s")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "envelopes/s")
}

// BenchmarkRawTCP writes the same sizes with plain net.Conn writes over
// loopback TCP, no framing, no handshake: the ceiling for the Mux.
func BenchmarkRawTCP(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			total := int64(b.N) * int64(sz.size)
			done := make(chan error, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					done <- err
					return
				}
				defer c.Close()
				_, err = io.CopyBuffer(io.Discard, io.LimitReader(c, total), make([]byte, 64<<10))
				done <- err
			}()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			buf := make([]byte, sz.size)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				if _, err := c.Write(buf); err != nil {
					b.Fatal(err)
				}
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(total)/elapsed.Seconds()/1e6, "MB/s")
		})
	}
}

// BenchmarkEnvelopeDecode compares the canonical fast path with the generated
// Read (which copies the payload through a growing bytes.Buffer).
func BenchmarkEnvelopeDecode(b *testing.B) {
	frame := encodeEnvelope(b, &Envelope{ChannelId: 12345, Kind: KindBuffer, Backlog: 3, Payload: make([]byte, 32<<10)})
	for _, path := range []struct {
		name   string
		decode func([]byte, int) (*Envelope, error)
	}{{"fast", decodeEnvelope}, {"generated", decodeEnvelopeGenerated}} {
		b.Run(path.name+"/32KiB", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				if _, err := path.decode(frame, DefaultDataMaxFrame); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEnvelopeEncode measures the encoding of a 32 KiB buffer's envelope
// as Send does it: the frame and envelope header, then the payload.
func BenchmarkEnvelopeEncode(b *testing.B) {
	e := &Envelope{ChannelId: 12345, Kind: KindBuffer, Backlog: 3, Payload: make([]byte, 32<<10)}
	buf := make([]byte, 0, muxBufferSize)
	b.ReportAllocs()
	b.SetBytes(int64(len(e.Payload)))
	for b.Loop() {
		buf = append(append(appendEnvelopeHeader(buf[:0], e), e.Payload...), compactStop)
	}
}
