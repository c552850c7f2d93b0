package transport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// FuzzFrameReader: any byte stream yields frames no larger than the limit, then
// io.EOF or a *FrameError, and the frames read are exactly the stream's prefix.
func FuzzFrameReader(f *testing.F) {
	f.Add([]byte{})
	f.Add(frameBytes("hello"))
	f.Add(append(frameBytes("a"), frameBytes("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefX")...))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0, 0, 10, 1, 2})
	f.Add([]byte{0, 0})
	const max = 64
	f.Fuzz(func(t *testing.T, stream []byte) {
		fr := frameReader{r: bytes.NewReader(stream), max: max, peer: "fuzz"}
		var rebuilt []byte
		var buf []byte
		for {
			frame, err := fr.readFrame(buf)
			if err != nil {
				var fe *FrameError
				if err != io.EOF && !errors.As(err, &fe) {
					t.Fatalf("error %v is neither io.EOF nor a FrameError", err)
				}
				if err == io.EOF && !bytes.Equal(rebuilt, stream) {
					t.Fatalf("io.EOF after %d of %d bytes", len(rebuilt), len(stream))
				}
				if fe != nil && errors.Is(fe, ErrFrameTooLarge) && fe.Declared <= max {
					t.Fatalf("frame of %d refused with limit %d", fe.Declared, max)
				}
				break
			}
			if len(frame) > max || cap(frame) > max+frameChunk {
				t.Fatalf("frame of %d bytes (capacity %d) with limit %d", len(frame), cap(frame), max)
			}
			rebuilt = binary.BigEndian.AppendUint32(rebuilt, uint32(len(frame)))
			rebuilt = append(rebuilt, frame...)
			if !bytes.HasPrefix(stream, rebuilt) {
				t.Fatal("frames read are not the stream's prefix")
			}
			buf = frame
		}
	})
}

// fuzzConn is a net.Conn whose reads come from a fixed input and whose writes
// are kept.
type fuzzConn struct {
	in   *bytes.Reader
	read int
	out  bytes.Buffer
}

func (c *fuzzConn) Read(p []byte) (int, error) {
	n, err := c.in.Read(p)
	c.read += n
	return n, err
}
func (c *fuzzConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *fuzzConn) Close() error                     { return nil }
func (c *fuzzConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (c *fuzzConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2} }
func (c *fuzzConn) SetDeadline(time.Time) error      { return nil }
func (c *fuzzConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fuzzConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzServerHandshake: a server fed any bytes never panics, never
// authenticates a client that does not hold the secret (the fuzzer does not),
// and reads no more than the handshake's fixed size.
func FuzzServerHandshake(f *testing.F) {
	p := encodePreamble(SharedSecretMechanism)
	f.Add([]byte{})
	f.Add(p[:])
	f.Add(append(p[:], make([]byte, nonceSize+proofSize)...))
	f.Add(append(p[:], bytes.Repeat([]byte{0xaa}, nonceSize+proofSize+10)...))
	g := encodePreamble("GSSAPI")
	f.Add(g[:])
	f.Add([]byte("GET / HTTP/1.1\r\nHost: spate\r\n\r\n"))
	auth := testSecret(f, 7)
	f.Fuzz(func(t *testing.T, in []byte) {
		c := &fuzzConn{in: bytes.NewReader(in)}
		_, peer, err := serverHandshake(c, auth)
		if err == nil {
			t.Fatalf("authenticated %+v without the secret", peer)
		}
		if c.read > preambleSize+nonceSize+proofSize {
			t.Fatalf("read %d bytes, more than the handshake's %d", c.read, preambleSize+nonceSize+proofSize)
		}
		if c.out.Len() > preambleSize+nonceSize {
			t.Fatalf("wrote %d bytes to a client that did not prove the secret: a proof?", c.out.Len())
		}
	})
}

// FuzzClientHandshake: a client fed any server bytes never panics and never
// accepts a server that does not hold the secret.
func FuzzClientHandshake(f *testing.F) {
	p := encodePreamble(SharedSecretMechanism)
	f.Add([]byte{})
	f.Add(append(p[:], make([]byte, nonceSize+proofSize)...))
	auth := testSecret(f, 7)
	f.Fuzz(func(t *testing.T, in []byte) {
		c := &fuzzConn{in: bytes.NewReader(in)}
		_, peer, err := clientHandshake(c, auth, "fuzz")
		if err == nil {
			t.Fatalf("accepted server %+v without the secret", peer)
		}
		if c.read > preambleSize+nonceSize+proofSize {
			t.Fatalf("read %d bytes, more than the handshake's %d", c.read, preambleSize+nonceSize+proofSize)
		}
	})
}

// encodeEnvelope returns e's frame body, as a Mux sends it.
func encodeEnvelope(t testing.TB, e *Envelope) []byte {
	t.Helper()
	frame := append(append(appendEnvelopeHeader(nil, e), e.Payload...), compactStop)
	if n := binary.BigEndian.Uint32(frame); int(n) != len(frame)-frameHeaderSize {
		t.Fatalf("frame header says %d bytes, the body has %d", n, len(frame)-frameHeaderSize)
	}
	return frame[frameHeaderSize:]
}

// FuzzEnvelopeDecoder: any frame either fails with ErrBadEnvelope or decodes
// to a valid envelope that survives a round trip unchanged.
func FuzzEnvelopeDecoder(f *testing.F) {
	for _, e := range []*Envelope{
		{ChannelId: 1, Kind: KindBuffer, Backlog: 2, Payload: []byte("records")},
		{ChannelId: -1, Kind: KindCredit, Credits: 5},
		{ChannelId: 1 << 40, Kind: KindClose},
		{ChannelId: 9, Kind: KindError, Payload: []byte("failed")},
		{ChannelId: 3, Kind: KindEvent, Payload: []byte{1, 2, 3}},
	} {
		f.Add(encodeEnvelope(f, e))
	}
	f.Add([]byte{})
	f.Add([]byte{0x16, 0x02, 0x00})
	f.Fuzz(func(t *testing.T, frame []byte) {
		e, err := decodeEnvelope(frame, DefaultDataMaxFrame)
		if err != nil {
			if !errors.Is(err, ErrBadEnvelope) {
				t.Fatalf("error %v is not ErrBadEnvelope", err)
			}
			if _, slowErr := decodeEnvelopeGenerated(frame, DefaultDataMaxFrame); slowErr == nil {
				t.Fatalf("refused %x, which the generated code accepts: %v", frame, err)
			}
			return
		}
		if err := checkEnvelope(e); err != nil {
			t.Fatalf("decoded an invalid envelope: %v", err)
		}
		// The fast path and the generated code agree.
		if decodeCanonicalEnvelope(frame, &Envelope{}) {
			slow, err := decodeEnvelopeGenerated(bytes.Clone(frame), DefaultDataMaxFrame)
			if err != nil {
				t.Fatalf("fast path decoded %v, the generated code refuses: %v", e, err)
			}
			if !slow.Equals(e) {
				t.Fatalf("fast path decoded %v, the generated code %v", e, slow)
			}
		}
		again, err := decodeEnvelope(encodeEnvelope(t, e), DefaultDataMaxFrame)
		if err != nil {
			t.Fatalf("re-encoded envelope does not decode: %v", err)
		}
		if !again.Equals(e) {
			t.Fatalf("round trip changed %v into %v", e, again)
		}
	})
}
