package codec

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"unsafe"

	"github.com/linkedin/goavro/v2"
)

// ErrCorrupt is wrapped by the errors of Decode and Reader when the input is
// not valid Avro data for the codec's schema: truncated, bad magic or sync
// marker, undecodable values. The error text says at which byte.
var ErrCorrupt = errors.New("corrupt avro data")

// Codec encodes and decodes values of T in Avro binary, with a schema derived
// from T. A Codec is immutable and safe for concurrent use.
type Codec[T any] struct {
	typ       reflect.Type
	ops       []op
	schema    string
	canonical string // Parsing Canonical Form of schema, to match files
}

// codecs caches one *Codec[T] (or the error building it) per reflect.Type.
var codecs sync.Map

type cached struct {
	codec any
	err   error
}

// For returns the codec of T, built once per type. It returns an
// *UnsupportedTypeError if T holds a type with no Avro encoding here.
func For[T any]() (*Codec[T], error) {
	t := reflect.TypeFor[T]()
	e, ok := codecs.Load(t)
	if !ok {
		c, err := build[T](t)
		e, _ = codecs.LoadOrStore(t, &cached{codec: c, err: err})
	}
	ce := e.(*cached)
	if ce.err != nil {
		return nil, ce.err
	}
	return ce.codec.(*Codec[T]), nil
}

func build[T any](t reflect.Type) (*Codec[T], error) {
	cd, err := compileType(t)
	if err != nil {
		return nil, err
	}
	schema, err := json.Marshal(cd.schema)
	if err != nil {
		return nil, fmt.Errorf("codec: schema of %s: %w", t, err)
	}
	g, err := goavro.NewCodec(string(schema))
	if err != nil {
		// A bug here, not the caller's: derived schemas must be valid.
		return nil, fmt.Errorf("codec: derived schema of %s is invalid: %w", t, err)
	}
	return &Codec[T]{typ: t, ops: cd.ops, schema: string(schema), canonical: g.CanonicalSchema()}, nil
}

// Schema returns the Avro schema of T as JSON. It is the same for the same T
// in every process.
func (c *Codec[T]) Schema() string { return c.schema }

// Append appends the Avro binary encoding of v to b. It does not allocate
// beyond growing b, except for values holding maps.
func (c *Codec[T]) Append(b []byte, v T) []byte {
	return encode(b, unsafe.Pointer(&v), c.ops)
}

// Decode decodes one value from the front of b and returns it with the bytes
// after it. Errors wrap ErrCorrupt. Decode never allocates more than in
// proportion to len(b), so corrupt lengths cannot exhaust memory.
func (c *Codec[T]) Decode(b []byte) (v T, rest []byte, err error) {
	v, rest, err = c.decode(b)
	if err != nil {
		var zero T
		return zero, nil, fmt.Errorf("codec: decode %s at byte %d: %w", c.typ, len(b)-len(rest), err)
	}
	return v, rest, nil
}

// DecodeAppend decodes n values from the front of b, appends them to dst and
// returns it with the bytes after them: Decode n times, without copying each
// value out. On error, dst holds the values decoded before the bad one.
func (c *Codec[T]) DecodeAppend(dst []T, b []byte, n int) ([]T, []byte, error) {
	dst = slices.Grow(dst, n)
	in := b
	var zero T
	for range n {
		dst = append(dst, zero) // decode writes into zeroed memory
		rest, err := decode(b, unsafe.Pointer(&dst[len(dst)-1]), c.ops)
		if err != nil {
			return dst[:len(dst)-1], nil, fmt.Errorf("codec: decode %s at byte %d: %w", c.typ, len(in)-len(rest), err)
		}
		b = rest
	}
	return dst, b, nil
}

// decode is Decode with the bare error and, on error, the input from where
// decoding failed.
func (c *Codec[T]) decode(b []byte) (v T, rest []byte, err error) {
	rest, err = decode(b, unsafe.Pointer(&v), c.ops)
	return v, rest, err
}
