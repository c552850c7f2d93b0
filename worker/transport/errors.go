package transport

import (
	"errors"
	"fmt"
)

var (
	// ErrAuthFailed is returned (wrapped) by the handshake when the peer did not
	// prove knowledge of the cluster secret, or refused our proof: the two sides
	// hold different secrets, or the peer is not part of the cluster.
	ErrAuthFailed = errors.New("authentication failed")

	// ErrNotHandshake is returned (wrapped) by the handshake when the peer's first
	// bytes are not a Spate handshake: another protocol, or garbage.
	ErrNotHandshake = errors.New("not a spate handshake")

	// ErrMechanismMismatch is returned (wrapped) by the handshake when the two
	// sides are configured with different mechanisms (a shared secret on one side,
	// Kerberos on the other).
	ErrMechanismMismatch = errors.New("authentication mechanisms differ")

	// ErrFrameTooLarge is the Err of a FrameError for a frame whose declared
	// length is above the limit. Also returned (wrapped) when a message to send
	// would not fit in a frame the peer accepts.
	ErrFrameTooLarge = errors.New("frame too large")

	// ErrTruncatedFrame is the Err of a FrameError for a stream that ended, or
	// failed, inside a frame.
	ErrTruncatedFrame = errors.New("truncated frame")

	// ErrBadEnvelope is returned (wrapped) when a data plane frame does not hold
	// exactly one valid Envelope. The connection it came from is closed.
	ErrBadEnvelope = errors.New("bad envelope")

	// ErrClosed is returned (wrapped) by Mux.Send and RPCClient.Call after the
	// connection ended; the wrapped cause says why.
	ErrClosed = errors.New("connection closed")

	// ErrSecretFileMode is returned (wrapped) by LoadSecret for a secret file that
	// group or others can read or write.
	ErrSecretFileMode = errors.New("secret file is accessible to group or others")
)

// FrameError is a frame that could not be read: too large or truncated. The
// connection it came from is closed; other connections are not affected.
type FrameError struct {
	Peer     string // remote address of the connection
	Err      error  // ErrFrameTooLarge or ErrTruncatedFrame
	Declared uint32 // the frame's declared length, when its header was read
	Max      int    // the limit in force
	Header   bool   // the stream ended inside the 4-byte length header
	Got      int    // bytes read of the header (Header) or of the body before the end
	Cause    error  // the read error that ended a truncated frame (io.EOF, a timeout, …)
}

func (e *FrameError) Error() string {
	switch {
	case errors.Is(e.Err, ErrFrameTooLarge):
		return fmt.Sprintf("frame from %s declares %d bytes, above the limit of %d bytes: %v",
			e.Peer, e.Declared, e.Max, e.Err)
	case e.Header:
		return fmt.Sprintf("frame from %s: stream ended after %d of %d header bytes (%v): %v",
			e.Peer, e.Got, frameHeaderSize, e.Cause, e.Err)
	default:
		return fmt.Sprintf("frame from %s: stream ended after %d of %d declared bytes (%v): %v",
			e.Peer, e.Got, e.Declared, e.Cause, e.Err)
	}
}

// Unwrap returns the sentinel (ErrFrameTooLarge or ErrTruncatedFrame) and the
// read error that caused it, if any.
func (e *FrameError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}
