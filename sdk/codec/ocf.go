package codec

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/linkedin/goavro/v2"
)

// Object Container File layout (Avro 1.x spec):
//
//	header: "Obj\x01", metadata as an Avro map<bytes>, 16-byte sync marker
//	block:  object count (long), data size (long), data, sync marker
//
// Block data is the objects' binary encodings back to back, compressed as a
// whole when avro.codec is "deflate" (raw RFC 1951, no zlib header).
const (
	magic      = "Obj\x01"
	syncSize   = 16
	blockBytes = 64 << 10 // flush a block once its data reaches this size

	metaSchema = "avro.schema"
	metaCodec  = "avro.codec"
)

// ErrSchemaMismatch is returned by NewReader when the file's schema is not
// the codec's: the file holds another type, or a version of T with other
// fields.
var ErrSchemaMismatch = errors.New("avro schema mismatch")

var errClosed = errors.New("codec: append to a closed Writer")

// Writer writes values of T to an Object Container File. It is not safe for
// concurrent use.
type Writer[T any] struct {
	w      io.Writer
	c      *Codec[T]
	sync   [syncSize]byte
	zw     *flate.Writer // nil for "null" compression
	zbuf   bytes.Buffer
	data   []byte // encoded values of the current block
	count  int64  // values in data
	frame  []byte // the block as written
	err    error  // sticky: the first write error
	closed bool
}

// NewWriter writes the file header to w at once and returns a Writer for
// values of T. compression is "null" or "deflate". meta holds extra file
// metadata, may be nil; its keys must not start with "avro.", which the
// format reserves.
func NewWriter[T any](w io.Writer, c *Codec[T], compression string, meta map[string][]byte) (*Writer[T], error) {
	wr := &Writer[T]{w: w, c: c}
	switch compression {
	case "null":
	case "deflate":
		// Level 1: checkpoints are written while the job runs, and state
		// compresses well enough at several times the speed of the default.
		wr.zw, _ = flate.NewWriter(nil, flate.BestSpeed)
	default:
		return nil, fmt.Errorf("codec: compression must be \"null\" or \"deflate\", got %q", compression)
	}
	header := make(map[string][]byte, len(meta)+2)
	for k, v := range meta {
		if strings.HasPrefix(k, "avro.") {
			return nil, fmt.Errorf("codec: metadata key %q is reserved: keys starting with \"avro.\" belong to the Avro format", k)
		}
		header[k] = v
	}
	header[metaSchema] = []byte(c.schema)
	header[metaCodec] = []byte(compression)
	_, _ = rand.Read(wr.sync[:]) // never fails since Go 1.24
	if _, err := w.Write(appendHeader(nil, header, wr.sync)); err != nil {
		return nil, fmt.Errorf("codec: write header: %w", err)
	}
	return wr, nil
}

func appendHeader(b []byte, meta map[string][]byte, sync [syncSize]byte) []byte {
	b = append(b, magic...)
	b = appendLong(b, int64(len(meta)))
	for _, k := range slices.Sorted(maps.Keys(meta)) {
		b = appendLong(b, int64(len(k)))
		b = append(b, k...)
		b = appendLong(b, int64(len(meta[k])))
		b = append(b, meta[k]...)
	}
	b = append(b, 0)
	return append(b, sync[:]...)
}

// Append adds v to the current block, and writes the block once it holds
// about 64 KiB.
func (w *Writer[T]) Append(v T) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errClosed
	}
	w.data = w.c.Append(w.data, v)
	w.count++
	if len(w.data) >= blockBytes {
		return w.Flush()
	}
	return nil
}

// Flush writes the current block, if it holds any value.
func (w *Writer[T]) Flush() error {
	if w.err != nil || w.count == 0 {
		return w.err
	}
	data := w.data
	if w.zw != nil {
		w.zbuf.Reset()
		w.zw.Reset(&w.zbuf)
		_, _ = w.zw.Write(data) // writes to a bytes.Buffer do not fail
		_ = w.zw.Close()
		data = w.zbuf.Bytes()
	}
	w.frame = appendLong(w.frame[:0], w.count)
	w.frame = appendLong(w.frame, int64(len(data)))
	w.frame = append(w.frame, data...)
	w.frame = append(w.frame, w.sync[:]...)
	w.data, w.count = w.data[:0], 0
	if _, err := w.w.Write(w.frame); err != nil {
		w.err = fmt.Errorf("codec: write block: %w", err)
	}
	return w.err
}

// Close flushes the current block. It does not close the underlying writer.
func (w *Writer[T]) Close() error {
	err := w.Flush()
	w.closed = true
	return err
}

// Reader reads values of T from an Object Container File. It is not safe for
// concurrent use.
//
//	r, err := codec.NewReader(f, c)
//	for v, ok := r.Next(); ok; v, ok = r.Next() { ... }
//	if err := r.Err(); err != nil { ... }
type Reader[T any] struct {
	c       *Codec[T]
	in      *offsetReader
	meta    map[string][]byte
	sync    [syncSize]byte
	deflate bool
	zr      io.ReadCloser // reused across blocks
	zin     bytes.Reader
	raw     []byte       // the current block as read
	inflate bytes.Buffer // the current block inflated
	data    []byte       // the current block's values not yet decoded
	size    int          // the current block's decoded size
	left    int64        // values left in the current block
	item    int64        // index in the block of the next value
	block   int64        // file offset of the current block
	err     error
	done    bool
}

// NewReader reads the file header from r. It returns an error wrapping
// ErrSchemaMismatch if the file's schema is not the codec's (their Parsing
// Canonical Forms differ), and one wrapping ErrCorrupt if the header is not
// that of an Object Container File. The Reader buffers r: it may read past
// the end of the file.
func NewReader[T any](r io.Reader, c *Codec[T]) (*Reader[T], error) {
	in := &offsetReader{r: bufio.NewReader(r)}
	meta, sync, err := readHeader(in)
	if err != nil {
		return nil, err
	}
	rd := &Reader[T]{c: c, in: in, meta: meta, sync: sync}
	switch codec, ok := meta[metaCodec]; {
	case !ok, string(codec) == "null":
	case string(codec) == "deflate":
		rd.deflate = true
	default:
		return nil, fmt.Errorf("codec: file compressed with %q, want \"null\" or \"deflate\"", codec)
	}
	g, err := goavro.NewCodec(string(meta[metaSchema]))
	if err != nil {
		return nil, fmt.Errorf("codec: header: %w: invalid avro.schema: %v", ErrCorrupt, err)
	}
	if fs := g.CanonicalSchema(); fs != c.canonical {
		return nil, fmt.Errorf("codec: %w: file has %s, codec of %s has %s", ErrSchemaMismatch, excerpt(fs, c.canonical), c.typ, excerpt(c.canonical, fs))
	}
	return rd, nil
}

// ReadSchema reads the header of an Object Container File and returns its
// schema and all its metadata, avro.* keys included.
func ReadSchema(r io.Reader) (schema string, meta map[string][]byte, err error) {
	meta, _, err = readHeader(&offsetReader{r: bufio.NewReader(r)})
	if err != nil {
		return "", nil, err
	}
	return string(meta[metaSchema]), meta, nil
}

// excerpt quotes s around the first byte where it differs from other, so
// that an error shows the difference without printing whole schemas.
func excerpt(s, other string) string {
	const before, width = 40, 100
	i := 0
	for i < len(s) && i < len(other) && s[i] == other[i] {
		i++
	}
	start := max(0, i-before)
	end := min(len(s), start+width)
	q := s[start:end]
	if start > 0 {
		q = "..." + q
	}
	if end < len(s) {
		q += "..."
	}
	return "`" + q + "`"
}

// Meta returns a value of the file's metadata, avro.* keys included.
func (r *Reader[T]) Meta(key string) ([]byte, bool) {
	v, ok := r.meta[key]
	return v, ok
}

// Next returns the next value, or false at the end of the file or on error;
// Err tells which.
func (r *Reader[T]) Next() (T, bool) {
	var zero T
	for r.left == 0 {
		if r.err != nil || r.done || !r.readBlock() {
			return zero, false
		}
	}
	v, rest, err := r.c.decode(r.data)
	if err != nil {
		r.err = fmt.Errorf("codec: block at byte %d, value %d, data byte %d: %w", r.block, r.item, r.size-len(rest), err)
		r.left = 0
		return zero, false
	}
	r.data = rest
	r.left--
	r.item++
	if r.left == 0 && len(rest) > 0 {
		// Still return v: it decoded; the next call reports the error.
		r.err = fmt.Errorf("codec: block at byte %d: %w: %d bytes after the last of %d values", r.block, ErrCorrupt, len(rest), r.item)
	}
	return v, true
}

// Err returns the error that ended Next, or nil at a clean end of file.
func (r *Reader[T]) Err() error { return r.err }

// readBlock reads the next block into r.data. It returns false at the end of
// the file or on error.
func (r *Reader[T]) readBlock() bool {
	r.block = r.in.off
	count, err := r.in.readLong()
	if err == io.EOF {
		r.done = true
		return false
	}
	if err != nil {
		return r.fail(err)
	}
	if count < 0 {
		return r.fail(fmt.Errorf("%w: negative object count %d", ErrCorrupt, count))
	}
	size, err := r.in.readLong()
	if err != nil {
		return r.fail(err)
	}
	if size < 0 {
		return r.fail(fmt.Errorf("%w: negative block size %d", ErrCorrupt, size))
	}
	if r.raw, err = r.in.readN(r.raw, size); err != nil {
		return r.fail(err)
	}
	var sync [syncSize]byte
	at := r.in.off
	if err := r.in.readFull(sync[:]); err != nil {
		return r.fail(err)
	}
	if sync != r.sync {
		return r.fail(fmt.Errorf("%w: sync marker at byte %d does not match the header's", ErrCorrupt, at))
	}
	r.data = r.raw
	if r.deflate {
		r.zin.Reset(r.raw)
		if r.zr == nil {
			r.zr = flate.NewReader(&r.zin)
		} else {
			_ = r.zr.(flate.Resetter).Reset(&r.zin, nil)
		}
		r.inflate.Reset()
		if _, err := r.inflate.ReadFrom(r.zr); err != nil {
			return r.fail(fmt.Errorf("%w: deflate: %v", ErrCorrupt, err))
		}
		r.data = r.inflate.Bytes()
	}
	if count == 0 && len(r.data) > 0 {
		return r.fail(fmt.Errorf("%w: %d bytes in a block of no values", ErrCorrupt, len(r.data)))
	}
	r.size, r.left, r.item = len(r.data), count, 0
	return true
}

func (r *Reader[T]) fail(err error) bool {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = fmt.Errorf("%w: truncated block", ErrCorrupt)
	}
	r.err = fmt.Errorf("codec: block at byte %d: %w", r.block, err)
	return false
}

// readHeader reads the magic, the metadata map and the sync marker.
func readHeader(in *offsetReader) (meta map[string][]byte, sync [syncSize]byte, err error) {
	fail := func(err error) (map[string][]byte, [syncSize]byte, error) {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = fmt.Errorf("%w: truncated header", ErrCorrupt)
		}
		return nil, sync, fmt.Errorf("codec: header at byte %d: %w", in.off, err)
	}
	var m [len(magic)]byte
	if err := in.readFull(m[:]); err != nil {
		return fail(err)
	}
	if string(m[:]) != magic {
		return nil, sync, fmt.Errorf("codec: header at byte 0: %w: magic %q, want %q", ErrCorrupt, m[:], magic)
	}
	meta = map[string][]byte{}
	for {
		n, err := in.readLong()
		if err != nil {
			return fail(err)
		}
		if n == 0 {
			break
		}
		if n < 0 { // a negative count is followed by the block's size
			if _, err := in.readLong(); err != nil {
				return fail(err)
			}
			n = -n
		}
		for range n {
			k, err := in.readBytes()
			if err != nil {
				return fail(err)
			}
			v, err := in.readBytes()
			if err != nil {
				return fail(err)
			}
			meta[string(k)] = v
		}
	}
	if _, ok := meta[metaSchema]; !ok {
		return fail(fmt.Errorf("%w: no avro.schema in the metadata", ErrCorrupt))
	}
	if err := in.readFull(sync[:]); err != nil {
		return fail(err)
	}
	return meta, sync, nil
}

// offsetReader reads Avro values from a stream and counts the bytes read, so
// that errors can say where the file is corrupt.
type offsetReader struct {
	r   *bufio.Reader
	off int64
}

func (o *offsetReader) readFull(p []byte) error {
	n, err := io.ReadFull(o.r, p)
	o.off += int64(n)
	return err
}

// readLong reads an Avro long. It returns io.EOF only if the stream ended
// before its first byte.
func (o *offsetReader) readLong() (int64, error) {
	var u uint64
	for i := range 10 {
		c, err := o.r.ReadByte()
		if err != nil {
			if i > 0 && err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		o.off++
		if i == 9 && c > 1 {
			return 0, errOverlong
		}
		u |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return int64(u>>1) ^ -int64(u&1), nil
		}
	}
	panic("unreachable")
}

// readBytes reads a length-prefixed bytes value.
func (o *offsetReader) readBytes() ([]byte, error) {
	n, err := o.readLong()
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, fmt.Errorf("%w: negative length %d", ErrCorrupt, n)
	}
	return o.readN(nil, n)
}

// readN reads n bytes into dst[:0]. It grows dst as the bytes arrive rather
// than trusting n, so that a corrupt length costs at most twice the input.
func (o *offsetReader) readN(dst []byte, n int64) ([]byte, error) {
	dst = dst[:0]
	for int64(len(dst)) < n {
		chunk := int(min(n-int64(len(dst)), int64(max(len(dst), 64<<10))))
		dst = slices.Grow(dst, chunk)
		l := len(dst)
		dst = dst[:l+chunk]
		if err := o.readFull(dst[l:]); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return dst, nil
}
