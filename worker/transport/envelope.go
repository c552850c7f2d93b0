package transport

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/spate-io/spate/worker/transport/gen/wire"
)

// Envelope is one data plane message: a buffer, an event, credits, or the close
// or failure of one logical channel. Its wire form is the IDL's Envelope in
// Thrift's compact protocol, one per frame.
type Envelope = wire.Envelope

// The kinds of Envelope.
const (
	KindBuffer = wire.EnvelopeKind_BUFFER
	KindEvent  = wire.EnvelopeKind_EVENT
	KindCredit = wire.EnvelopeKind_CREDIT
	KindClose  = wire.EnvelopeKind_CLOSE
	KindError  = wire.EnvelopeKind_ERROR
	KindOpen   = wire.EnvelopeKind_OPEN
)

// checkEnvelope enforces what the IDL says beyond its types: a known kind,
// credits only on CREDIT (and at least one), backlog only on BUFFER, never
// negative.
func checkEnvelope(e *Envelope) error {
	switch e.Kind {
	case KindBuffer, KindEvent, KindCredit, KindClose, KindError, KindOpen:
	default:
		return fmt.Errorf("unknown kind %d: %w", int64(e.Kind), ErrBadEnvelope)
	}
	if e.Kind == KindCredit {
		if e.Credits <= 0 {
			return fmt.Errorf("CREDIT on channel %d grants %d credits: %w", e.ChannelId, e.Credits, ErrBadEnvelope)
		}
	} else if e.Credits != 0 {
		return fmt.Errorf("%v on channel %d carries %d credits: %w", e.Kind, e.ChannelId, e.Credits, ErrBadEnvelope)
	}
	if e.Backlog < 0 || e.Backlog != 0 && e.Kind != KindBuffer {
		return fmt.Errorf("%v on channel %d has backlog %d: %w", e.Kind, e.ChannelId, e.Backlog, ErrBadEnvelope)
	}
	return nil
}

// decodeEnvelope decodes one frame, which must hold exactly one valid
// Envelope. The payload may alias frame, which the caller gives up.
//
// Envelopes as envelopeWriter writes them (every field, in order, minimal
// headers) take a fast path that slices the payload out of the frame; anything
// else Thrift allows (fields absent, reordered or unknown, from a later
// version) goes through the generated Read, which copies. The fuzz target
// checks that both agree.
func decodeEnvelope(frame []byte, max int) (*Envelope, error) {
	if e, ok := decodeCanonicalEnvelope(frame); ok {
		if err := checkEnvelope(e); err != nil {
			return nil, err
		}
		return e, nil
	}
	return decodeEnvelopeGenerated(frame, max)
}

// decodeEnvelopeGenerated decodes frame with the generated code.
func decodeEnvelopeGenerated(frame []byte, max int) (*Envelope, error) {
	t := &sliceTransport{b: frame}
	p := thrift.NewTCompactProtocolConf(t, thriftConf(max))
	e := &Envelope{}
	if err := e.Read(context.Background(), p); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadEnvelope, err)
	}
	if t.off != len(frame) {
		return nil, fmt.Errorf("%d bytes after the envelope: %w", len(frame)-t.off, ErrBadEnvelope)
	}
	if err := checkEnvelope(e); err != nil {
		return nil, err
	}
	return e, nil
}

// Compact protocol field headers of the canonical envelope: field id delta 1
// in the high nibble, the compact type in the low one.
const (
	compactI64    = 0x16
	compactI32    = 0x15
	compactBinary = 0x18
	compactStop   = 0x00
)

// decodeCanonicalEnvelope decodes the canonical form:
//
//	0x16 zigzag-varint channelId   0x15 zigzag-varint kind
//	0x15 zigzag-varint credits     0x15 zigzag-varint backlog
//	0x18 varint length, payload    0x00
//
// It returns false for anything else, including every malformed frame.
func decodeCanonicalEnvelope(b []byte) (*Envelope, bool) {
	var e Envelope
	i := 0
	field := func(header byte) (uint64, bool) {
		if i >= len(b) || b[i] != header {
			return 0, false
		}
		v, n := binary.Uvarint(b[i+1:])
		if n <= 0 {
			return 0, false
		}
		i += 1 + n
		return v, true
	}
	i32 := func(header byte) (int32, bool) {
		v, ok := field(header)
		if !ok || v > math.MaxUint32 {
			return 0, false
		}
		u := uint32(v)
		return int32(u>>1) ^ -int32(u&1), true
	}
	v, ok := field(compactI64)
	if !ok {
		return nil, false
	}
	e.ChannelId = int64(v>>1) ^ -int64(v&1)
	kind, ok := i32(compactI32)
	if !ok {
		return nil, false
	}
	e.Kind = wire.EnvelopeKind(kind)
	if e.Credits, ok = i32(compactI32); !ok {
		return nil, false
	}
	if e.Backlog, ok = i32(compactI32); !ok {
		return nil, false
	}
	n, ok := field(compactBinary)
	if !ok || n > math.MaxInt32 || n != uint64(len(b)-i-1) || b[len(b)-1] != compactStop {
		return nil, false
	}
	e.Payload = b[i : i+int(n) : i+int(n)]
	if n == 0 {
		e.Payload = []byte{}
	}
	return &e, true
}

// envelopeWriter writes envelopes as frames to a bufio.Writer. Thrift's
// generated Write runs twice: once to count the bytes (cheap: the payload is
// only measured), once into the buffer behind the frame's length, so the
// payload is copied once, into the bufio.Writer (or not at all when large).
type envelopeWriter struct {
	w       *bufio.Writer
	counter countTransport
	count   thrift.TProtocol
	out     thrift.TProtocol
	hdr     [frameHeaderSize]byte // here, not on the stack, where it would escape
}

func newEnvelopeWriter(w *bufio.Writer, max int) *envelopeWriter {
	ew := &envelopeWriter{w: w}
	conf := thriftConf(max)
	ew.count = thrift.NewTCompactProtocolConf(&ew.counter, conf)
	ew.out = thrift.NewTCompactProtocolConf(&bufioTransport{w: w}, conf)
	return ew
}

// size returns the encoded size of e.
func (ew *envelopeWriter) size(e *Envelope) (int, error) {
	ew.counter.n = 0
	if err := e.Write(context.Background(), ew.count); err != nil {
		return 0, err
	}
	return ew.counter.n, nil
}

// write encodes e as one frame of the given body size (from size).
func (ew *envelopeWriter) write(e *Envelope, size int) error {
	binary.BigEndian.PutUint32(ew.hdr[:], uint32(size))
	if _, err := ew.w.Write(ew.hdr[:]); err != nil {
		return err
	}
	return e.Write(context.Background(), ew.out)
}

// sliceTransport reads from a byte slice.
type sliceTransport struct {
	b   []byte
	off int
}

var _ thrift.TRichTransport = (*sliceTransport)(nil)

var errReadOnly = errors.New("transport: read-only")

func (t *sliceTransport) Read(p []byte) (int, error) {
	if t.off == len(t.b) {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, errShortFrame
	}
	n := copy(p, t.b[t.off:])
	t.off += n
	return n, nil
}

// errShortFrame: the frame ended inside the envelope.
var errShortFrame = errors.New("frame ends inside the envelope")

func (t *sliceTransport) ReadByte() (byte, error) {
	if t.off == len(t.b) {
		return 0, errShortFrame
	}
	c := t.b[t.off]
	t.off++
	return c, nil
}
func (t *sliceTransport) RemainingBytes() uint64            { return uint64(len(t.b) - t.off) }
func (t *sliceTransport) Write([]byte) (int, error)         { return 0, errReadOnly }
func (t *sliceTransport) WriteByte(byte) error              { return errReadOnly }
func (t *sliceTransport) WriteString(string) (int, error)   { return 0, errReadOnly }
func (t *sliceTransport) Flush(context.Context) error       { return nil }
func (t *sliceTransport) IsOpen() bool                      { return true }
func (t *sliceTransport) Open() error                       { return nil }
func (t *sliceTransport) Close() error                      { return nil }
func (t *countTransport) Read([]byte) (int, error)          { return 0, errWriteOnly }
func (t *countTransport) ReadByte() (byte, error)           { return 0, errWriteOnly }
func (t *countTransport) Write(p []byte) (int, error)       { t.n += len(p); return len(p), nil }
func (t *countTransport) WriteByte(byte) error              { t.n++; return nil }
func (t *countTransport) WriteString(s string) (int, error) { t.n += len(s); return len(s), nil }
func (t *countTransport) RemainingBytes() uint64            { return 0 }
func (t *countTransport) Flush(context.Context) error       { return nil }
func (t *countTransport) IsOpen() bool                      { return true }
func (t *countTransport) Open() error                       { return nil }
func (t *countTransport) Close() error                      { return nil }
func (t *bufioTransport) Read([]byte) (int, error)          { return 0, errWriteOnly }
func (t *bufioTransport) ReadByte() (byte, error)           { return 0, errWriteOnly }
func (t *bufioTransport) Write(p []byte) (int, error)       { return t.w.Write(p) }
func (t *bufioTransport) WriteByte(c byte) error            { return t.w.WriteByte(c) }
func (t *bufioTransport) WriteString(s string) (int, error) { return t.w.WriteString(s) }
func (t *bufioTransport) RemainingBytes() uint64            { return 0 }
func (t *bufioTransport) Flush(context.Context) error       { return nil } // the Mux flushes
func (t *bufioTransport) IsOpen() bool                      { return true }
func (t *bufioTransport) Open() error                       { return nil }
func (t *bufioTransport) Close() error                      { return nil }

// countTransport counts the bytes written to it.
type countTransport struct{ n int }

// bufioTransport writes to a bufio.Writer.
type bufioTransport struct{ w *bufio.Writer }

var errWriteOnly = errors.New("transport: write-only")

var (
	_ thrift.TRichTransport = (*countTransport)(nil)
	_ thrift.TRichTransport = (*bufioTransport)(nil)
)
