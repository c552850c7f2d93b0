package transport

import (
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
// Envelopes as the Mux writes them (every field, in order, minimal
// headers) take a fast path that slices the payload out of the frame; anything
// else Thrift allows (fields absent, reordered or unknown, from a later
// version) goes through the generated Read, which copies. The fuzz target
// checks that both agree.
func decodeEnvelope(frame []byte, max int) (*Envelope, error) {
	e := &Envelope{}
	if err := decodeEnvelopeInto(frame, max, e); err != nil {
		return nil, err
	}
	return e, nil
}

// decodeEnvelopeInto is decodeEnvelope into e, which the Mux reuses.
func decodeEnvelopeInto(frame []byte, max int, e *Envelope) error {
	if decodeCanonicalEnvelope(frame, e) {
		return checkEnvelope(e)
	}
	g, err := decodeEnvelopeGenerated(frame, max)
	if err != nil {
		return err
	}
	*e = *g
	return nil
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

// decodeCanonicalEnvelope decodes the canonical form into e:
//
//	0x16 zigzag-varint channelId   0x15 zigzag-varint kind
//	0x15 zigzag-varint credits     0x15 zigzag-varint backlog
//	0x18 varint length, payload    0x00
//
// It returns false for anything else, including every malformed frame. The
// payload is a slice of b.
func decodeCanonicalEnvelope(b []byte, e *Envelope) bool {
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
		return false
	}
	channel := int64(v>>1) ^ -int64(v&1)
	kind, ok := i32(compactI32)
	if !ok {
		return false
	}
	credits, ok := i32(compactI32)
	if !ok {
		return false
	}
	backlog, ok := i32(compactI32)
	if !ok {
		return false
	}
	n, ok := field(compactBinary)
	if !ok || n > math.MaxInt32 || n != uint64(len(b)-i-1) || b[len(b)-1] != compactStop {
		return false
	}
	*e = Envelope{ChannelId: channel, Kind: wire.EnvelopeKind(kind), Credits: credits, Backlog: backlog,
		Payload: b[i : i+int(n) : i+int(n)]}
	if n == 0 {
		e.Payload = []byte{}
	}
	return true
}

// maxEnvelopeHeader bounds the canonical form's bytes before the payload: a
// field header and a varint of at most 10 bytes (channel id) or 5 (the rest).
const maxEnvelopeHeader = 1 + 10 + 3*(1+5) + 1 + 5

// appendEnvelopeHeader appends the frame header and the canonical envelope up
// to its payload: what goes on the wire before e.Payload, which is followed
// by a single compactStop byte. These are the bytes Thrift's generated Write
// produces in the compact protocol (TestEnvelopeEncoderIsThrifts), without
// its two passes through an interface per field.
func appendEnvelopeHeader(dst []byte, e *Envelope) []byte {
	hdr := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = append(dst, compactI64)
	dst = binary.AppendUvarint(dst, uint64(e.ChannelId<<1^(e.ChannelId>>63)))
	for _, v := range [3]int32{int32(e.Kind), e.Credits, e.Backlog} {
		dst = append(dst, compactI32)
		dst = binary.AppendUvarint(dst, uint64(uint32(v<<1^(v>>31))))
	}
	dst = append(dst, compactBinary)
	dst = binary.AppendUvarint(dst, uint64(len(e.Payload)))
	body := len(dst) - hdr - frameHeaderSize + len(e.Payload) + 1
	binary.BigEndian.PutUint32(dst[hdr:], uint32(body))
	return dst
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
func (t *sliceTransport) RemainingBytes() uint64          { return uint64(len(t.b) - t.off) }
func (t *sliceTransport) Write([]byte) (int, error)       { return 0, errReadOnly }
func (t *sliceTransport) WriteByte(byte) error            { return errReadOnly }
func (t *sliceTransport) WriteString(string) (int, error) { return 0, errReadOnly }
func (t *sliceTransport) Flush(context.Context) error     { return nil }
func (t *sliceTransport) IsOpen() bool                    { return true }
func (t *sliceTransport) Open() error                     { return nil }
func (t *sliceTransport) Close() error                    { return nil }
