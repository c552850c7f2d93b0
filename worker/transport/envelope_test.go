package transport

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"
)

// TestEnvelopeWireForm pins the canonical encoding byte for byte.
func TestEnvelopeWireForm(t *testing.T) {
	e := &Envelope{ChannelId: 3, Kind: KindBuffer, Backlog: 2, Payload: []byte("ab")}
	want := []byte{
		0x16, 0x06, // field 1, i64: zigzag(3) = 6
		0x15, 0x02, // field 2, i32: zigzag(BUFFER=1) = 2
		0x15, 0x00, // field 3, i32: credits 0
		0x15, 0x04, // field 4, i32: zigzag(2) = 4
		0x18, 0x02, 'a', 'b', // field 5, binary of 2 bytes
		0x00, // stop
	}
	if got := encodeEnvelope(t, e); !bytes.Equal(got, want) {
		t.Fatalf("encoding = % x, want % x", got, want)
	}
	if !decodeCanonicalEnvelope(want, &Envelope{}) {
		t.Fatal("the canonical form does not take the fast path")
	}
}

// TestEnvelopeEncoderIsThrifts: the Mux's encoder writes exactly the bytes of
// Thrift's generated Write in the compact protocol, so any Thrift peer reads
// them, and the fast decoder takes every one of them.
func TestEnvelopeEncoderIsThrifts(t *testing.T) {
	for _, e := range []*Envelope{
		{ChannelId: 0, Kind: KindClose},
		{ChannelId: 1, Kind: KindBuffer, Backlog: 2, Payload: []byte("records")},
		{ChannelId: -1, Kind: KindCredit, Credits: 5},
		{ChannelId: math.MaxInt64, Kind: KindCredit, Credits: math.MaxInt32},
		{ChannelId: math.MinInt64, Kind: KindBuffer, Backlog: math.MaxInt32, Payload: bytes.Repeat([]byte{0xff}, 70000)},
		{ChannelId: 9, Kind: KindError, Payload: []byte("failed")},
		{ChannelId: 1 << 40, Kind: KindOpen, Payload: make([]byte, 300)},
	} {
		mem := thrift.NewTMemoryBuffer()
		if err := e.Write(context.Background(), thrift.NewTCompactProtocolConf(mem, thriftConf(DefaultDataMaxFrame))); err != nil {
			t.Fatal(err)
		}
		got := encodeEnvelope(t, e)
		if !bytes.Equal(got, mem.Bytes()) {
			t.Fatalf("%v: encoded % x, Thrift writes % x", e, got[:min(len(got), 40)], mem.Bytes()[:min(mem.Len(), 40)])
		}
		var d Envelope
		if !decodeCanonicalEnvelope(got, &d) {
			t.Fatalf("%v: the encoding does not take the fast path", e)
		}
		if e.Payload == nil {
			e.Payload = []byte{}
		}
		if !d.Equals(e) {
			t.Fatalf("decoded %v, want %v", &d, e)
		}
	}
}

// TestDecodeEnvelope: the forms Thrift allows beyond the canonical one decode
// the same (through the generated code); malformed frames are ErrBadEnvelope.
func TestDecodeEnvelope(t *testing.T) {
	credit := &Envelope{ChannelId: 3, Kind: KindCredit, Credits: 4, Payload: []byte{}}
	tests := []struct {
		name  string
		frame []byte
		want  *Envelope // nil: ErrBadEnvelope with err in the message
		err   string
	}{
		{name: "canonical", frame: encodeEnvelope(t, credit), want: credit},
		{
			name:  "optional fields absent",
			frame: []byte{0x16, 0x06, 0x15, 0x06, 0x15, 0x08, 0x00}, // channel 3, CREDIT, credits 4
			want:  &Envelope{ChannelId: 3, Kind: KindCredit, Credits: 4},
		},
		{
			name: "an unknown field from a later version",
			frame: []byte{0x16, 0x06, 0x15, 0x06, 0x15, 0x08, 0x15, 0x00, 0x18, 0x00,
				0x15, 0x2a, // field 6, i32 42: skipped
				0x00},
			want: credit,
		},
		{
			name:  "fields in another order",
			frame: []byte{0x25, 0x06, 0x06, 0x02, 0x06, 0x25, 0x08, 0x00}, // kind (2), channel (1, long form), credits (3)
			want:  &Envelope{ChannelId: 3, Kind: KindCredit, Credits: 4},
		},
		{name: "empty", frame: nil, err: "frame ends inside the envelope"},
		{name: "no channel id", frame: []byte{0x25, 0x06, 0x15, 0x08, 0x00}, err: "ChannelId is not set"},
		{name: "trailing bytes", frame: append(encodeEnvelope(t, credit), 0x00), err: "1 bytes after the envelope"},
		{name: "unknown kind", frame: []byte{0x16, 0x06, 0x15, 0x0e, 0x15, 0x00, 0x15, 0x00, 0x18, 0x00, 0x00}, err: "unknown kind 7"},
		{name: "payload longer than the frame", frame: []byte{0x16, 0x06, 0x15, 0x02, 0x15, 0x00, 0x15, 0x00, 0x18, 0x7f, 0x00}},
		{name: "negative credits", frame: []byte{0x16, 0x06, 0x15, 0x06, 0x15, 0x01, 0x15, 0x00, 0x18, 0x00, 0x00}, err: "grants -1 credits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeEnvelope(tt.frame, DefaultDataMaxFrame)
			if tt.want != nil {
				if err != nil {
					t.Fatal(err)
				}
				if !got.Equals(tt.want) {
					t.Fatalf("decoded %v, want %v", got, tt.want)
				}
				return
			}
			if !errors.Is(err, ErrBadEnvelope) || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("decode: %v, want ErrBadEnvelope (%s)", err, tt.err)
			}
		})
	}
}
