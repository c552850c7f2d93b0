package codec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/linkedin/goavro/v2"
)

func entries(n int) []Entry {
	es := make([]Entry, n)
	for i := range es {
		es[i] = Entry{KeyGroup: int32(i % 128), Key: int64(i) * 7919, Value: -int64(i), Stamp: 1700000000000 + int64(i)}
	}
	return es
}

// writeFile writes vs and returns the file with the offsets where each block
// ends (the first is the end of the header).
func writeFile[T any](t *testing.T, c *Codec[T], compression string, meta map[string][]byte, vs []T, perBlock int) ([]byte, []int) {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, c, compression, meta)
	if err != nil {
		t.Fatal(err)
	}
	ends := []int{buf.Len()}
	for i, v := range vs {
		if err := w.Append(v); err != nil {
			t.Fatal(err)
		}
		if perBlock > 0 && (i+1)%perBlock == 0 {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			ends = append(ends, buf.Len())
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != ends[len(ends)-1] {
		ends = append(ends, buf.Len())
	}
	return buf.Bytes(), ends
}

func readAll[T any](c *Codec[T], file []byte) ([]T, error) {
	r, err := NewReader(bytes.NewReader(file), c)
	if err != nil {
		return nil, err
	}
	var vs []T
	for v, ok := r.Next(); ok; v, ok = r.Next() {
		vs = append(vs, v)
	}
	return vs, r.Err()
}

func TestOCFRoundTrip(t *testing.T) {
	c := mustFor[Entry](t)
	for _, compression := range []string{"null", "deflate"} {
		for _, n := range []int{0, 1, 10000} { // 10000 entries span several 64 KiB blocks
			t.Run(fmt.Sprintf("%s/%d", compression, n), func(t *testing.T) {
				want := entries(n)
				meta := map[string][]byte{"spate.checkpoint": []byte("42")}
				file, _ := writeFile(t, c, compression, meta, want, 0)
				r, err := NewReader(bytes.NewReader(file), c)
				if err != nil {
					t.Fatal(err)
				}
				if v, ok := r.Meta("spate.checkpoint"); !ok || string(v) != "42" {
					t.Errorf("Meta(spate.checkpoint) = %q, %v", v, ok)
				}
				if v, ok := r.Meta("avro.codec"); !ok || string(v) != compression {
					t.Errorf("Meta(avro.codec) = %q, %v", v, ok)
				}
				var got []Entry
				for v, ok := r.Next(); ok; v, ok = r.Next() {
					got = append(got, v)
				}
				if err := r.Err(); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("read %d entries, want %d equal ones", len(got), len(want))
				}
				if _, ok := r.Next(); ok {
					t.Error("Next after the end returned a value")
				}
			})
		}
	}
}

func TestOCFBlockSize(t *testing.T) {
	c := mustFor[Entry](t)
	var buf bytes.Buffer
	w, err := NewWriter(&buf, c, "null", nil)
	if err != nil {
		t.Fatal(err)
	}
	header := buf.Len()
	size := len(c.Append(nil, benchEntry))
	for i := 0; buf.Len() == header; i++ {
		if err := w.Append(benchEntry); err != nil {
			t.Fatal(err)
		}
		if i > blockBytes {
			t.Fatal("no block written")
		}
	}
	// The block holds the first entries reaching 64 KiB: count, size, data, sync.
	n := (blockBytes + size - 1) / size
	block := len(appendLong(appendLong(nil, int64(n)), int64(n*size))) + n*size + syncSize
	if got := buf.Len() - header; got != block {
		t.Errorf("first block is %d bytes, want %d (%d entries)", got, block, n)
	}
}

func TestGoavroReadsOurFile(t *testing.T) {
	c := mustFor[composite](t)
	r := rand.New(rand.NewPCG(1, 2))
	want := []composite{sample(), {}}
	for range 200 {
		want = append(want, randComposite(r))
	}
	for _, compression := range []string{"null", "deflate"} {
		t.Run(compression, func(t *testing.T) {
			file, _ := writeFile(t, c, compression, map[string][]byte{"k": []byte("v")}, want, 50)
			ocf, err := goavro.NewOCFReader(bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			if got := string(ocf.MetaData()["k"]); got != "v" {
				t.Errorf("goavro reads metadata k = %q, want v", got)
			}
			i := 0
			for ocf.Scan() {
				n, err := ocf.Read()
				if err != nil {
					t.Fatal(err)
				}
				if i >= len(want) {
					t.Fatalf("goavro read more than %d values", len(want))
				}
				if w := sortByID(want[i].native()); !reflect.DeepEqual(sortByID(n.(map[string]any)), w) {
					t.Fatalf("value %d: goavro read\n%v\nwant\n%v", i, n, w)
				}
				i++
			}
			if err := ocf.Err(); err != nil {
				t.Fatal(err)
			}
			if i != len(want) {
				t.Fatalf("goavro read %d values, want %d", i, len(want))
			}
		})
	}
}

func TestWeReadGoavroFile(t *testing.T) {
	c := mustFor[composite](t)
	r := rand.New(rand.NewPCG(3, 4))
	want := []composite{sample(), {Tags: map[string]int64{}, ByID: map[int32]string{}}}
	for range 200 {
		want = append(want, randComposite(r))
	}
	for _, compression := range []string{"null", "deflate"} {
		t.Run(compression, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := goavro.NewOCFWriter(goavro.OCFConfig{W: &buf, Schema: c.Schema(), CompressionName: compression,
				MetaData: map[string][]byte{"k": []byte("v")}})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < len(want); i += 64 { // goavro writes a block per Append
				var natives []any
				for _, v := range want[i:min(i+64, len(want))] {
					natives = append(natives, v.native())
				}
				if err := w.Append(natives); err != nil {
					t.Fatal(err)
				}
			}
			rd, err := NewReader(bytes.NewReader(buf.Bytes()), c)
			if err != nil {
				t.Fatal(err)
			}
			if v, _ := rd.Meta("k"); string(v) != "v" {
				t.Errorf("Meta(k) = %q, want v", v)
			}
			var got []composite
			for v, ok := rd.Next(); ok; v, ok = rd.Next() {
				got = append(got, v)
			}
			if err := rd.Err(); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("read %d values, want %d", len(got), len(want))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("value %d:\n got %+v\nwant %+v", i, got[i], want[i])
				}
			}
		})
	}
}

func TestOCFCorruptSync(t *testing.T) {
	c := mustFor[Entry](t)
	file, ends := writeFile(t, c, "null", nil, entries(30), 10)
	// Damage the sync marker after the second block.
	at := ends[2] - syncSize
	file[at+5] ^= 0xff
	got, err := readAll(c, file)
	if len(got) != 10 {
		t.Errorf("read %d values before the bad block, want 10", len(got))
	}
	want := fmt.Sprintf("codec: block at byte %d: corrupt avro data: sync marker at byte %d does not match the header's", ends[1], at)
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("%v does not wrap ErrCorrupt", err)
	}
}

// TestOCFTruncated cuts a file at every length: a cut between blocks is a
// shorter file, any other cut is ErrCorrupt; nothing panics.
func TestOCFTruncated(t *testing.T) {
	c := mustFor[Entry](t)
	for _, compression := range []string{"null", "deflate"} {
		file, ends := writeFile(t, c, compression, nil, entries(9), 3)
		for cut := range len(file) {
			got, err := readAll(c, file[:cut])
			blocks := -1 // complete blocks before the cut, if it is between blocks
			for i, e := range ends {
				if e == cut {
					blocks = i
				}
			}
			switch {
			case blocks >= 0:
				if err != nil || len(got) != 3*blocks {
					t.Fatalf("%s cut at %d, after %d blocks: read %d values, %v", compression, cut, blocks, len(got), err)
				}
			case !errors.Is(err, ErrCorrupt):
				t.Fatalf("%s cut at %d: got %v, want ErrCorrupt", compression, cut, err)
			}
		}
	}
}

func TestOCFCorruptData(t *testing.T) {
	c := mustFor[Entry](t)
	file, ends := writeFile(t, c, "null", nil, entries(3), 0)
	// The block: count 3 (06), size, data. Make the first KeyGroup varint
	// run past the end of the data.
	data := ends[0] + 2
	for i := data; i < ends[1]-syncSize; i++ {
		file[i] |= 0x80
	}
	_, err := readAll(c, file)
	want := fmt.Sprintf("codec: block at byte %d, value 0, data byte 0: corrupt avro data: varint longer than 64 bits", ends[0])
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}

	file, ends = writeFile(t, c, "null", nil, entries(3), 0)
	file[ends[0]] = 4 // claim 2 values in a block of 3
	_, err = readAll(c, file)
	want = fmt.Sprintf("codec: block at byte %d: corrupt avro data: %d bytes after the last of 2 values", ends[0], len(c.Append(nil, entries(3)[2])))
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
}

func TestOCFHeaderErrors(t *testing.T) {
	c := mustFor[Entry](t)
	file, _ := writeFile(t, c, "null", nil, entries(1), 0)
	bad := append([]byte("Obj\x02"), file[4:]...)
	_, err := NewReader(bytes.NewReader(bad), c)
	if want := `codec: header at byte 0: corrupt avro data: magic "Obj\x02", want "Obj\x01"`; err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	if _, err := NewReader(bytes.NewReader(file[:10]), c); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated header: got %v, want ErrCorrupt", err)
	}
	schema, meta, err := ReadSchema(bytes.NewReader(file))
	if err != nil || schema != c.Schema() || string(meta["avro.codec"]) != "null" {
		t.Errorf("ReadSchema = %q, %q, %v", schema, meta, err)
	}
}

func TestOCFSchemaMismatch(t *testing.T) {
	type other struct {
		KeyGroup int32
		Key      string
	}
	file, _ := writeFile(t, mustFor[Entry](t), "null", nil, entries(1), 0)
	_, err := NewReader(bytes.NewReader(file), mustFor[other](t))
	want := "codec: avro schema mismatch: " +
		"file has `...e\":\"github_com_spate_io_spate_sdk_codec_Entry\",\"type\":\"record\",\"fields\":[{\"name\":\"KeyGroup\",\"type\":\"...`, " +
		"codec of codec.other has `...e\":\"github_com_spate_io_spate_sdk_codec_other\",\"type\":\"record\",\"fields\":[{\"name\":\"KeyGroup\",\"type\":\"...`"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	if !errors.Is(err, ErrSchemaMismatch) {
		t.Errorf("%v does not wrap ErrSchemaMismatch", err)
	}
	// A file with the same canonical schema but other attributes matches.
	c := mustFor[point](t)
	var buf bytes.Buffer
	w, err := goavro.NewOCFWriter(goavro.OCFConfig{W: &buf, Schema: `{"type":"record","name":"` + pkg + `point",` +
		`"doc":"a point","aliases":["p"],"fields":[{"name":"X","type":"int","doc":"x"},{"name":"Y","type":{"type":"int"}}]}`})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append([]any{map[string]any{"X": int32(1), "Y": int32(2)}}); err != nil {
		t.Fatal(err)
	}
	got, err := readAll(c, buf.Bytes())
	if err != nil || len(got) != 1 || got[0] != (point{1, 2}) {
		t.Errorf("read %v, %v; want [{1 2}]", got, err)
	}
}

func TestWriterErrors(t *testing.T) {
	c := mustFor[Entry](t)
	if _, err := NewWriter(io.Discard, c, "snappy", nil); err == nil || err.Error() != `codec: compression must be "null" or "deflate", got "snappy"` {
		t.Errorf("got %v", err)
	}
	_, err := NewWriter(io.Discard, c, "null", map[string][]byte{"avro.x": nil})
	if err == nil || err.Error() != `codec: metadata key "avro.x" is reserved: keys starting with "avro." belong to the Avro format` {
		t.Errorf("got %v", err)
	}
	fw := &failWriter{ok: 1}
	w, err := NewWriter(fw, c, "null", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(benchEntry); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err == nil || err.Error() != "codec: write block: disk full" {
		t.Errorf("Flush: got %v", err)
	}
	if err := w.Append(benchEntry); err == nil || err.Error() != "codec: write block: disk full" {
		t.Errorf("Append after a failed Flush: got %v, want the same error", err)
	}
	w, _ = NewWriter(io.Discard, c, "null", nil)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Append(benchEntry); err != errClosed {
		t.Errorf("Append after Close: got %v", err)
	}
}

type failWriter struct{ ok int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.ok == 0 {
		return 0, errors.New("disk full")
	}
	w.ok--
	return len(p), nil
}
