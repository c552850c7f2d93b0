package codec

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"reflect"
	"time"
	"unsafe"
)

// kind says how one op reads or writes Go memory. Several Go types share a
// kind (int and int64 are both kInt64 on 64-bit platforms); the Avro schema
// is chosen separately by the compiler.
type kind uint8

const (
	kBool kind = iota
	kInt8
	kInt16
	kInt32
	kInt64
	kUint8
	kUint16
	kUint32
	kUint64 // written as the long with the same bit pattern
	kFloat32
	kFloat64
	kString
	kBytes
	kFixed
	kTime
	kPointer
	kSlice
	kArray
	kMap // Avro map, or array of {key, value} records: the binary framing is the same
)

// op encodes or decodes one value at offset off from the start of the value
// being coded. Structs have no framing in Avro binary, so nested structs are
// flattened into their parent's ops and cost nothing at run time.
type op struct {
	kind kind
	off  uintptr
	n    int          // kFixed: size in bytes; kArray: length
	size uintptr      // kSlice, kArray: Go size of one element
	min  int          // kPointer: of the target; kSlice, kArray: of an item; kMap: of an entry
	elem []op         // kPointer: target; kSlice, kArray: item; kMap: value
	key  []op         // kMap: key
	typ  reflect.Type // kPointer: target type; kSlice: slice type; kMap: map type
}

// sliceHeader is the memory layout of a Go slice.
type sliceHeader struct {
	data unsafe.Pointer
	len  int
	cap  int
}

var (
	errTruncated = fmt.Errorf("%w: unexpected end of data", ErrCorrupt)
	errOverlong  = fmt.Errorf("%w: varint longer than 64 bits", ErrCorrupt)
)

// encode appends the Avro binary encoding of the value at p. It is a plain
// recursive function rather than a tree of closures so that p does not escape:
// Append then needs no heap copy of its argument.
func encode(b []byte, p unsafe.Pointer, ops []op) []byte {
	for i := range ops {
		o := &ops[i]
		q := unsafe.Add(p, o.off)
		switch o.kind {
		case kBool:
			if *(*bool)(q) {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		case kInt8:
			b = appendLong(b, int64(*(*int8)(q)))
		case kInt16:
			b = appendLong(b, int64(*(*int16)(q)))
		case kInt32:
			b = appendLong(b, int64(*(*int32)(q)))
		case kInt64:
			b = appendLong(b, *(*int64)(q))
		case kUint8:
			b = appendLong(b, int64(*(*uint8)(q)))
		case kUint16:
			b = appendLong(b, int64(*(*uint16)(q)))
		case kUint32:
			b = appendLong(b, int64(*(*uint32)(q)))
		case kUint64:
			b = appendLong(b, int64(*(*uint64)(q)))
		case kFloat32:
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(*(*float32)(q)))
		case kFloat64:
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(*(*float64)(q)))
		case kString:
			s := *(*string)(q)
			b = appendLong(b, int64(len(s)))
			b = append(b, s...)
		case kBytes:
			s := *(*[]byte)(q)
			b = appendLong(b, int64(len(s)))
			b = append(b, s...)
		case kFixed:
			b = append(b, unsafe.Slice((*byte)(q), o.n)...)
		case kTime:
			b = appendLong(b, timeToNanos(*(*time.Time)(q)))
		case kPointer:
			t := *(*unsafe.Pointer)(q)
			if t == nil {
				b = append(b, 0) // union branch 0: null
			} else {
				b = append(b, 2) // union branch 1, zig-zag encoded
				b = encode(b, t, o.elem)
			}
		case kSlice:
			h := (*sliceHeader)(q)
			b = encodeItems(b, h.data, h.len, o)
		case kArray:
			b = encodeItems(b, q, o.n, o)
		case kMap:
			b = encodeMap(b, q, o)
		}
	}
	return b
}

// encodeItems writes n items as one Avro array block and the end marker.
func encodeItems(b []byte, p unsafe.Pointer, n int, o *op) []byte {
	if n > 0 {
		b = appendLong(b, int64(n))
		for i := range n {
			b = encode(b, unsafe.Add(p, uintptr(i)*o.size), o.elem)
		}
	}
	return append(b, 0)
}

func encodeMap(b []byte, q unsafe.Pointer, o *op) []byte {
	if *(*unsafe.Pointer)(q) == nil { // before word, which is heap allocated
		return append(b, 0)
	}
	// A map value is one pointer word. Copy it so that reflect sees a local
	// and q does not escape (see encode).
	word := *(*unsafe.Pointer)(q)
	m := reflect.NewAt(o.typ, unsafe.Pointer(&word)).Elem()
	if m.Len() == 0 {
		return append(b, 0)
	}
	b = appendLong(b, int64(m.Len()))
	k := reflect.New(o.typ.Key())
	v := reflect.New(o.typ.Elem())
	kp, vp := k.UnsafePointer(), v.UnsafePointer()
	k, v = k.Elem(), v.Elem()
	it := m.MapRange()
	for it.Next() {
		k.SetIterKey(it)
		v.SetIterValue(it)
		b = encode(b, kp, o.key)
		b = encode(b, vp, o.elem)
	}
	return append(b, 0)
}

// decode reads one value from the front of b into the zeroed memory at p.
// On error it returns the input from where decoding failed, so that callers
// can report the offset.
func decode(b []byte, p unsafe.Pointer, ops []op) ([]byte, error) {
	for i := range ops {
		o := &ops[i]
		q := unsafe.Add(p, o.off)
		switch o.kind {
		case kBool:
			if len(b) == 0 {
				return b, errTruncated
			}
			if b[0] > 1 {
				return b, fmt.Errorf("%w: boolean byte %#x", ErrCorrupt, b[0])
			}
			*(*bool)(q) = b[0] == 1
			b = b[1:]
		case kInt64, kUint64: // the common cases, ahead of storeLong
			v, n := readLong(b)
			if n <= 0 {
				return b, varintError(n)
			}
			*(*int64)(q) = v
			b = b[n:]
		case kFloat32:
			if len(b) < 4 {
				return b, errTruncated
			}
			*(*float32)(q) = math.Float32frombits(binary.LittleEndian.Uint32(b))
			b = b[4:]
		case kFloat64:
			if len(b) < 8 {
				return b, errTruncated
			}
			*(*float64)(q) = math.Float64frombits(binary.LittleEndian.Uint64(b))
			b = b[8:]
		case kString:
			s, rest, err := readBytes(b)
			if err != nil {
				return rest, err
			}
			*(*string)(q) = string(s)
			b = rest
		case kBytes:
			s, rest, err := readBytes(b)
			if err != nil {
				return rest, err
			}
			if len(s) > 0 {
				*(*[]byte)(q) = append([]byte(nil), s...)
			}
			b = rest
		case kFixed:
			if len(b) < o.n {
				return b, errTruncated
			}
			copy(unsafe.Slice((*byte)(q), o.n), b)
			b = b[o.n:]
		case kPointer:
			v, n := readLong(b)
			if n <= 0 {
				return b, varintError(n)
			}
			switch v {
			case 0:
				b = b[n:]
			case 1:
				b = b[n:]
				if len(b) < o.min {
					return b, errTruncated
				}
				t := reflect.New(o.typ).UnsafePointer()
				rest, err := decode(b, t, o.elem)
				if err != nil {
					return rest, err
				}
				*(*unsafe.Pointer)(q) = t
				b = rest
			default:
				return b, fmt.Errorf("%w: union branch %d, want 0 (null) or 1", ErrCorrupt, v)
			}
		case kSlice:
			rest, err := decodeSlice(b, q, o)
			if err != nil {
				return rest, err
			}
			b = rest
		case kArray:
			rest, err := decodeArray(b, q, o)
			if err != nil {
				return rest, err
			}
			b = rest
		case kMap:
			rest, err := decodeMap(b, q, o)
			if err != nil {
				return rest, err
			}
			b = rest
		default: // narrower integers and time: one long
			v, n := readLong(b)
			if n <= 0 {
				return b, varintError(n)
			}
			if err := storeLong(q, o.kind, v); err != nil {
				return b, err
			}
			b = b[n:]
		}
	}
	return b, nil
}

// storeLong stores v into the integer narrower than 64 bits or the time at
// q, checking that it fits.
func storeLong(q unsafe.Pointer, k kind, v int64) error {
	switch k {
	case kInt32:
		if v < math.MinInt32 || v > math.MaxInt32 {
			return rangeError(v, "int32")
		}
		*(*int32)(q) = int32(v)
	case kInt16:
		if v < math.MinInt16 || v > math.MaxInt16 {
			return rangeError(v, "int16")
		}
		*(*int16)(q) = int16(v)
	case kInt8:
		if v < math.MinInt8 || v > math.MaxInt8 {
			return rangeError(v, "int8")
		}
		*(*int8)(q) = int8(v)
	case kUint32:
		if v < 0 || v > math.MaxUint32 {
			return rangeError(v, "uint32")
		}
		*(*uint32)(q) = uint32(v)
	case kUint16:
		if v < 0 || v > math.MaxUint16 {
			return rangeError(v, "uint16")
		}
		*(*uint16)(q) = uint16(v)
	case kUint8:
		if v < 0 || v > math.MaxUint8 {
			return rangeError(v, "uint8")
		}
		*(*uint8)(q) = uint8(v)
	case kTime:
		*(*time.Time)(q) = nanosToTime(v)
	default:
		return fmt.Errorf("codec: internal error: op kind %d", k)
	}
	return nil
}

func rangeError(v int64, typ string) error {
	return fmt.Errorf("%w: %d overflows %s", ErrCorrupt, v, typ)
}

func varintError(n int) error {
	if n == 0 {
		return errTruncated
	}
	return errOverlong
}

func decodeSlice(b []byte, q unsafe.Pointer, o *op) ([]byte, error) {
	var s reflect.Value
	total := 0
	for {
		n, rest, err := readBlockCount(b, o.min)
		if err != nil {
			return rest, err
		}
		b = rest
		if n == 0 {
			break
		}
		if n > math.MaxInt-total {
			return b, fmt.Errorf("%w: array of more than %d items", ErrCorrupt, math.MaxInt)
		}
		if !s.IsValid() {
			s = reflect.MakeSlice(o.typ, n, n)
		} else {
			// Later blocks are rare (our writer and goavro's write one);
			// grow exactly rather than guess.
			grown := reflect.MakeSlice(o.typ, total+n, total+n)
			reflect.Copy(grown, s)
			s = grown
		}
		if len(o.elem) > 0 { // items of zero size decode to nothing
			base := s.UnsafePointer()
			for i := total; i < total+n; i++ {
				if b, err = decode(b, unsafe.Add(base, uintptr(i)*o.size), o.elem); err != nil {
					return b, err
				}
			}
		}
		total += n
	}
	if s.IsValid() {
		*(*sliceHeader)(q) = sliceHeader{data: s.UnsafePointer(), len: s.Len(), cap: s.Cap()}
	}
	return b, nil
}

func decodeArray(b []byte, q unsafe.Pointer, o *op) ([]byte, error) {
	got := 0
	for {
		n, rest, err := readBlockCount(b, o.min)
		if err != nil {
			return rest, err
		}
		if n == 0 {
			if got != o.n {
				return b, fmt.Errorf("%w: array of %d items, want %d", ErrCorrupt, got, o.n)
			}
			return rest, nil
		}
		if n > o.n-got {
			return b, fmt.Errorf("%w: array of more than %d items", ErrCorrupt, o.n)
		}
		b = rest
		if len(o.elem) > 0 {
			for i := got; i < got+n; i++ {
				if b, err = decode(b, unsafe.Add(q, uintptr(i)*o.size), o.elem); err != nil {
					return b, err
				}
			}
		}
		got += n
	}
}

func decodeMap(b []byte, q unsafe.Pointer, o *op) ([]byte, error) {
	n, rest, err := readBlockCount(b, o.min)
	if err != nil {
		return rest, err
	}
	b = rest
	// An empty map decodes as an empty map, not nil, so that state restored
	// from a checkpoint can be written to like the state that was saved.
	m := reflect.MakeMapWithSize(o.typ, n)
	k := reflect.New(o.typ.Key())
	v := reflect.New(o.typ.Elem())
	kp, vp := k.UnsafePointer(), v.UnsafePointer()
	k, v = k.Elem(), v.Elem()
	for n > 0 {
		for range n {
			k.SetZero()
			v.SetZero()
			if b, err = decode(b, kp, o.key); err != nil {
				return b, err
			}
			if b, err = decode(b, vp, o.elem); err != nil {
				return b, err
			}
			m.SetMapIndex(k, v)
		}
		if n, rest, err = readBlockCount(b, o.min); err != nil {
			return rest, err
		}
		b = rest
	}
	*(*unsafe.Pointer)(q) = m.UnsafePointer()
	return b, nil
}

// readBlockCount reads the item count that starts an Avro array or map
// block, skipping the byte size that follows a negative count. It rejects
// counts that the rest of the input cannot hold, given that each item takes
// at least min bytes, so that callers may allocate n items. On error, rest
// starts at the bad value.
func readBlockCount(b []byte, min int) (n int, rest []byte, err error) {
	v, l := readLong(b)
	if l <= 0 {
		return 0, b, varintError(l)
	}
	rest = b[l:]
	if v < 0 {
		if v == math.MinInt64 {
			return 0, b, fmt.Errorf("%w: block count %d", ErrCorrupt, v)
		}
		v = -v
		size, l := readLong(rest)
		if l <= 0 {
			return 0, rest, varintError(l)
		}
		if size < 0 {
			return 0, rest, fmt.Errorf("%w: negative block size %d", ErrCorrupt, size)
		}
		rest = rest[l:]
	}
	if min > 0 && v > int64(len(rest)/min) {
		return 0, b, fmt.Errorf("%w: block of %d items in %d bytes", ErrCorrupt, v, len(rest))
	}
	if v > math.MaxInt {
		return 0, b, fmt.Errorf("%w: block count %d", ErrCorrupt, v)
	}
	return int(v), rest, nil
}

// readBytes reads a length-prefixed string or bytes value, without copying.
// On error, rest starts at the length.
func readBytes(b []byte) (s, rest []byte, err error) {
	v, n := readLong(b)
	if n <= 0 {
		return nil, b, varintError(n)
	}
	rest = b[n:]
	if v < 0 {
		return nil, b, fmt.Errorf("%w: negative length %d", ErrCorrupt, v)
	}
	if v > int64(len(rest)) {
		return nil, b, fmt.Errorf("%w: length %d exceeds the %d bytes left", ErrCorrupt, v, len(rest))
	}
	return rest[:v], rest[v:], nil
}

// appendLong appends v as an Avro long: zig-zag, then a little-endian
// base-128 varint. Avro ints use the same encoding.
func appendLong(b []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	if u < 0x80 {
		return append(b, byte(u))
	}
	if u < 1<<56 {
		// Up to 8 bytes at once, as readLongSlow reads them: the 7-bit groups
		// spread to one byte each, the continuation bit on all but the last.
		n := (bits.Len64(u) + 6) / 7
		x := u&0x7f | u<<1&(0x7f<<8) | u<<2&(0x7f<<16) | u<<3&(0x7f<<24) |
			u<<4&(0x7f<<32) | u<<5&(0x7f<<40) | u<<6&(0x7f<<48) | u<<7&(0x7f<<56)
		x |= 0x8080808080808080 & (1<<(8*(n-1)) - 1)
		i := len(b)
		return binary.LittleEndian.AppendUint64(b, x)[:i+n]
	}
	for u >= 0x80 {
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	return append(b, byte(u))
}

// readLong reads an Avro long from the front of b and returns it with the
// number of bytes read: 0 if b ends first, -1 if the varint is longer than
// 64 bits.
func readLong(b []byte) (int64, int) {
	if len(b) > 0 && b[0] < 0x80 { // most values in state fit one byte
		u := uint64(b[0])
		return int64(u>>1) ^ -int64(u&1), 1
	}
	return readLongSlow(b)
}

func readLongSlow(b []byte) (int64, int) {
	if len(b) >= 8 {
		// Up to 8 bytes at once: the first byte without the continuation
		// bit ends the varint, and the 7-bit groups before it are gathered
		// with shifts, without a branch per byte.
		x := binary.LittleEndian.Uint64(b)
		if stop := ^x & 0x8080808080808080; stop != 0 {
			n := bits.TrailingZeros64(stop)>>3 + 1
			x &= math.MaxUint64 >> (64 - 8*n)
			u := x&0x7f | x>>1&(0x7f<<7) | x>>2&(0x7f<<14) | x>>3&(0x7f<<21) |
				x>>4&(0x7f<<28) | x>>5&(0x7f<<35) | x>>6&(0x7f<<42) | x>>7&(0x7f<<49)
			return int64(u>>1) ^ -int64(u&1), n
		}
	}
	var u uint64
	for i := 0; i < len(b); i++ {
		c := b[i]
		if i == 9 && c > 1 {
			return 0, -1
		}
		u |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return int64(u>>1) ^ -int64(u&1), i + 1
		}
	}
	return 0, 0
}

// Times are stored as nanoseconds since the Unix epoch. The zero Time, common
// as "not set" in state, is stored as math.MinInt64; times outside the range
// of int64 nanoseconds (years 1678 to 2262) are clamped to its ends.
var (
	minTime = time.Unix(0, math.MinInt64+1)
	maxTime = time.Unix(0, math.MaxInt64)
)

func timeToNanos(t time.Time) int64 {
	switch {
	case t.IsZero():
		return math.MinInt64
	case t.Before(minTime):
		return math.MinInt64 + 1
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

func nanosToTime(n int64) time.Time {
	if n == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
