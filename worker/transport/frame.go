package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// A frame is a 4-byte big-endian length followed by that many bytes: the same
// bytes as Thrift's TFramedTransport puts on the wire.
const frameHeaderSize = 4

const (
	// DefaultControlMaxFrame bounds one control plane message (a task deployment
	// descriptor, a heartbeat with its metrics, an acknowledgement with its state
	// handles).
	DefaultControlMaxFrame = 64 << 20

	// DefaultDataMaxFrame bounds one data plane envelope: room for network
	// buffers (default 32 KiB) up to 1 MiB less the envelope's few header bytes.
	DefaultDataMaxFrame = 1 << 20

	// MaxFrameLimit is the largest limit Options.MaxFrameSize may set.
	MaxFrameLimit = 1 << 30

	// frameChunk is how much a frame's buffer may grow ahead of the bytes that
	// actually arrived, so a peer that declares a large frame and sends little
	// costs little memory.
	frameChunk = 64 << 10
)

// frameReader reads frames from one connection. It is not safe for concurrent use.
type frameReader struct {
	r    io.Reader
	max  int
	peer string
	hdr  [frameHeaderSize]byte
}

// readFrame reads the next frame into buf[:0], growing it only as bytes arrive,
// and returns it. A stream that ends cleanly before a frame returns io.EOF; a
// length above the limit returns a FrameError before reading any of the body;
// a stream that ends or fails inside a frame returns a FrameError wrapping
// ErrTruncatedFrame and the read error.
func (f *frameReader) readFrame(buf []byte) ([]byte, error) {
	n, err := io.ReadFull(f.r, f.hdr[:])
	if err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		if n == 0 {
			return nil, err // the connection failed between frames
		}
		return nil, &FrameError{Peer: f.peer, Err: ErrTruncatedFrame, Max: f.max, Header: true, Got: n, Cause: err}
	}
	size := binary.BigEndian.Uint32(f.hdr[:])
	if uint64(size) > uint64(f.max) {
		return nil, &FrameError{Peer: f.peer, Err: ErrFrameTooLarge, Declared: size, Max: f.max}
	}
	buf = buf[:0]
	for len(buf) < int(size) {
		want := min(int(size)-len(buf), frameChunk)
		buf = slices.Grow(buf, want)
		m, err := io.ReadFull(f.r, buf[len(buf):len(buf)+want])
		buf = buf[:len(buf)+m]
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, &FrameError{Peer: f.peer, Err: ErrTruncatedFrame, Declared: size, Max: f.max, Got: len(buf), Cause: err}
		}
	}
	return buf, nil
}

// putFrameHeader writes the length of a frame whose body is frame[frameHeaderSize:]
// into its first frameHeaderSize bytes. It fails, sending nothing, for a body above
// max, which the peer would refuse.
func putFrameHeader(frame []byte, max int, peer string) error {
	body := len(frame) - frameHeaderSize
	if body > max {
		return fmt.Errorf("message of %d bytes to %s is above the frame limit of %d bytes: %w", body, peer, max, ErrFrameTooLarge)
	}
	binary.BigEndian.PutUint32(frame, uint32(body))
	return nil
}
