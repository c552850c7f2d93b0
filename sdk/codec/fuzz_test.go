package codec

import (
	"bytes"
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
