package sdk_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/sdk"
)

// record100 is a 100-byte record once Avro-encoded (key 8 bytes, payload 90
// bytes with its length, the rest varint framing).
type record100 struct {
	Key     int64
	Payload string
}

// BenchmarkExchange100B: a generator at p=2 rebalancing about 100-byte
// records (Avro-encoded) to a counting sink at p=2, on the embedded cluster
// (typed buffers handed over in memory) and on two TaskExecutors whose
// exchanges cross loopback TCP (half the records: those dealt to the other
// TaskExecutor), beside raw loopback TCP moving as many bytes in 32 KiB
// writes. records/s and MB/s count every record the sink got.
func BenchmarkExchange100B(b *testing.B) {
	payload := strings.Repeat("x", 89)
	const perRun = 400_000
	credits := "2"
	run := func(b *testing.B, opts ...sdk.Option) {
		var total int64
		for b.Loop() {
			env := sdk.NewEnv(append([]sdk.Option{sdk.WithLogger(zerolog.New(io.Discard))}, opts...)...)
			env.SetParallelism(2).Configure("execution.runtime-mode", "streaming").Configure("taskmanager.network.memory.buffers-per-channel", credits)
			src := sdk.Generate(env, perRun, func(i int64) record100 { return record100{Key: i, Payload: payload} })
			var n atomic.Int64
			sdk.SinkFunc(src.Rebalance(), func(batch []record100) error {
				n.Add(int64(len(batch)))
				return nil
			})
			if _, err := env.Execute(context.Background(), "exchange"); err != nil {
				b.Fatal(err)
			}
			if n.Load() != perRun {
				b.Fatalf("%d records, want %d", n.Load(), perRun)
			}
			total += perRun
		}
		b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "records/s")
		b.ReportMetric(float64(total)*100/b.Elapsed().Seconds()/1e6, "MB/s")
	}
	b.Run("embedded", func(b *testing.B) { run(b) })
	b.Run("tcp", func(b *testing.B) {
		run(b, onTaskManagers(remoteTaskManagers(b, 2)))
	})
	credits = "8"
	b.Run("tcp-8-credits", func(b *testing.B) {
		run(b, onTaskManagers(remoteTaskManagers(b, 2)))
	})
	b.Run("raw-tcp", func(b *testing.B) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		go func() {
			c, err := l.Accept()
			if err == nil {
				_, _ = io.Copy(io.Discard, c)
				c.Close()
			}
		}()
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		buf := make([]byte, 32<<10)
		var bytes int64
		for b.Loop() {
			for sent := 0; sent < perRun*100; sent += len(buf) {
				if _, err := c.Write(buf); err != nil {
					b.Fatal(err)
				}
			}
			bytes += perRun * 100
		}
		b.ReportMetric(float64(bytes)/100/b.Elapsed().Seconds(), "records/s")
		b.ReportMetric(float64(bytes)/b.Elapsed().Seconds()/1e6, "MB/s")
	})
}
