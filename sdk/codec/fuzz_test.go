package codec

import (
	"bytes"
	"math"
	"reflect"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to Decode: it must not panic, and what it
// accepts must survive Append and Decode unchanged. (The bytes need not match
// the input: other writers may split arrays into blocks.)
func FuzzDecode(f *testing.F) {
	c := mustFor[composite](f)
	f.Add(c.Append(nil, sample()))
	f.Add(c.Append(nil, composite{}))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, _, err := c.Decode(b)
		if err != nil {
			return
		}
		again, rest2, err := c.Decode(c.Append(nil, v))
		if err != nil || len(rest2) != 0 {
			t.Fatalf("re-decode: %v, %d bytes left", err, len(rest2))
		}
		if !reflect.DeepEqual(again, v) && !hasNaN(v) {
			t.Fatalf("re-decode\n got %+v\nwant %+v", again, v)
		}
	})
}

func hasNaN(v composite) bool { return v.F32 != v.F32 || v.F64 != v.F64 }

// FuzzReader feeds arbitrary files to Reader: it must not panic.
func FuzzReader(f *testing.F) {
	c := mustFor[Entry](f)
	for _, compression := range []string{"null", "deflate"} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, c, compression, map[string][]byte{"k": []byte("v")})
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range entries(20) {
			_ = w.Append(e)
		}
		_ = w.Close()
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b), c)
		if err != nil {
			return
		}
		for _, ok := r.Next(); ok; _, ok = r.Next() {
		}
	})
}

// readLongReference is readLong byte by byte, as the Avro specification
// reads a long: the slow obvious reference of FuzzReadLong.
func readLongReference(b []byte) (int64, int) {
	var u uint64
	for i := 0; i < len(b); i++ {
		if i == 9 && b[i] > 1 {
			return 0, -1
		}
		u |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return int64(u>>1) ^ -int64(u&1), i + 1
		}
	}
	return 0, 0
}

// FuzzReadLong: readLong reads exactly what the byte-by-byte reference
// reads, whatever follows the varint, and what appendLong writes of it reads
// back.
func FuzzReadLong(f *testing.F) {
	for _, v := range []int64{0, -1, 1, 63, -64, 64, 1 << 20, 1 << 48, -(1 << 55), math.MaxInt64, math.MinInt64} {
		f.Add(appendLong(nil, v))
		f.Add(append(appendLong(nil, v), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
	}
	f.Add([]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02}) // overlong
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n := readLong(b)
		wv, wn := readLongReference(b)
		if v != wv || n != wn {
			t.Fatalf("readLong(% x) = %d, %d; want %d, %d", b, v, n, wv, wn)
		}
		if n > 0 {
			enc := appendLong(b[:0:0], v)
			if again, m := readLongReference(enc); again != v || m != len(enc) {
				t.Fatalf("appendLong(%d) = % x, which reads as %d, %d", v, enc, again, m)
			}
		}
	})
}
