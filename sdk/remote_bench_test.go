//go:build unix

package sdk_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

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
// writes, measured first in the same run. records/s and MB/s count every
// record the sink got. The TCP runs also report their MB/s as a share of raw
// TCP's ("%raw-tcp", the goal is 40) and the cost of the hop: the
// nanoseconds per record above the embedded run ("hop-ns/record"; per record
// that crosses, twice that). On a shared machine the rates move with the
// load of others; "cpu-ns/record" (the process's user and system time per
// record, every goroutine and the garbage collector included) moves less.
func BenchmarkExchange100B(b *testing.B) {
	payload := strings.Repeat("x", 89)
	const perRun = 400_000
	credits := "2"
	var rawMBs, embeddedNs float64 // of the runs above, in this run
	// run runs the job on the TaskManagers opts name, if any, and reports
	// against raw TCP and the embedded run when remote.
	run := func(b *testing.B, remote bool, opts ...sdk.Option) (nsPerRecord float64) {
		var total int64
		cpu := cpuTime(b)
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
		secs := b.Elapsed().Seconds()
		b.ReportMetric(float64(cpuTime(b)-cpu)/float64(total), "cpu-ns/record")
		mbs := float64(total) * 100 / secs / 1e6
		b.ReportMetric(float64(total)/secs, "records/s")
		b.ReportMetric(mbs, "MB/s")
		nsPerRecord = secs * 1e9 / float64(total)
		if remote && rawMBs > 0 {
			b.ReportMetric(100*mbs/rawMBs, "%raw-tcp")
		}
		if remote && embeddedNs > 0 {
			b.ReportMetric(nsPerRecord-embeddedNs, "hop-ns/record")
		}
		return nsPerRecord
	}
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
		cpu := cpuTime(b)
		for b.Loop() {
			for sent := 0; sent < perRun*100; sent += len(buf) {
				if _, err := c.Write(buf); err != nil {
					b.Fatal(err)
				}
			}
			bytes += perRun * 100
		}
		rawMBs = float64(bytes) / b.Elapsed().Seconds() / 1e6
		b.ReportMetric(float64(cpuTime(b)-cpu)/float64(bytes/100), "cpu-ns/record")
		b.ReportMetric(float64(bytes)/100/b.Elapsed().Seconds(), "records/s")
		b.ReportMetric(rawMBs, "MB/s")
	})
	b.Run("embedded", func(b *testing.B) { embeddedNs = run(b, false) })
	b.Run("tcp", func(b *testing.B) {
		run(b, true, onTaskManagers(remoteTaskManagers(b, 2)))
	})
	credits = "8"
	b.Run("tcp-8-credits", func(b *testing.B) {
		run(b, true, onTaskManagers(remoteTaskManagers(b, 2)))
	})
}

// cpuTime is the user and system time the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
