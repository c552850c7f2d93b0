package codec

import (
	"io"
	"testing"

	"github.com/linkedin/goavro/v2"
)

// Entry is the shape of a keyed state entry in a checkpoint.
type Entry struct {
	KeyGroup int32
	Key      int64
	Value    int64
	Stamp    int64
}

type stringEntry struct {
	Key   string
	Value int64
}

var benchEntry = Entry{KeyGroup: 117, Key: 1 << 40, Value: 123456789, Stamp: 1700000000000}

func BenchmarkAppendEntry(b *testing.B) {
	c := mustFor[Entry](b)
	buf := make([]byte, 0, 64)
	for b.Loop() {
		buf = c.Append(buf[:0], benchEntry)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkDecodeEntry(b *testing.B) {
	c := mustFor[Entry](b)
	buf := c.Append(nil, benchEntry)
	for b.Loop() {
		if _, _, err := c.Decode(buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkAppendStringKey(b *testing.B) {
	c := mustFor[stringEntry](b)
	v := stringEntry{Key: "user-1234567", Value: 42}
	buf := make([]byte, 0, 64)
	for b.Loop() {
		buf = c.Append(buf[:0], v)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkDecodeStringKey(b *testing.B) {
	c := mustFor[stringEntry](b)
	buf := c.Append(nil, stringEntry{Key: "user-1234567", Value: 42})
	for b.Loop() {
		if _, _, err := c.Decode(buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkGoavroAppendEntry is the cost we avoid on the hot path: goavro
// encoding the same entry from its native form.
func BenchmarkGoavroAppendEntry(b *testing.B) {
	g, err := goavro.NewCodec(mustFor[Entry](b).Schema())
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 64)
	for b.Loop() {
		n := map[string]any{"KeyGroup": benchEntry.KeyGroup, "Key": benchEntry.Key, "Value": benchEntry.Value, "Stamp": benchEntry.Stamp}
		if buf, err = g.BinaryFromNative(buf[:0], n); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriter(b *testing.B) {
	for _, compression := range []string{"null", "deflate"} {
		b.Run(compression, func(b *testing.B) {
			w, err := NewWriter(io.Discard, mustFor[Entry](b), compression, nil)
			if err != nil {
				b.Fatal(err)
			}
			v := benchEntry
			for b.Loop() {
				v.Key++
				if err := w.Append(v); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// record100 is the record of the exchange benchmarks (sdk's
// BenchmarkExchange100B): exactly 100 bytes encoded.
type record100 struct {
	Key     int64
	Payload string
}

var benchRecord100 = record100{Key: 1<<48 + 12345, Payload: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}

func BenchmarkAppendRecord100(b *testing.B) {
	c := mustFor[record100](b)
	buf := make([]byte, 0, 128)
	for b.Loop() {
		buf = c.Append(buf[:0], benchRecord100)
	}
	if len(buf) != 100 {
		b.Fatalf("%d bytes, want 100", len(buf))
	}
	b.SetBytes(100)
}

func BenchmarkDecodeRecord100(b *testing.B) {
	c := mustFor[record100](b)
	buf := c.Append(nil, benchRecord100)
	for b.Loop() {
		if _, _, err := c.Decode(buf); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(100)
}
