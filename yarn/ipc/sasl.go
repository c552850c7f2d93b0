package ipc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	yarnpb "github.com/spate-io/spate/yarn/proto"
)

// Mechanism is one SASL mechanism a client can authenticate with. The
// implementations (GSSAPI with Kerberos, DIGEST-MD5 with a token) live in
// package yarn/security; this package runs Hadoop's exchange around them.
type Mechanism interface {
	// Method is Hadoop's auth method ("KERBEROS", "TOKEN") and Mechanism
	// the SASL mechanism ("GSSAPI", "DIGEST-MD5"); both must match an auth
	// the server offers.
	Method() string
	Mechanism() string
	// Start begins the exchange with the server's offer, which names the
	// protocol and server id (for KERBEROS, the service principal's two
	// parts) and, for DIGEST-MD5, carries the first challenge. It returns
	// the session and the initial response.
	Start(offer *yarnpb.RpcSaslProto_SaslAuth) (Session, []byte, error)
	// User is the effective user sent in the connection context once
	// authenticated; "" sends none (a token names its own user).
	User() string
}

// Describer is implemented by mechanisms that can name their credential in
// errors ("the YARN_AM_RM_TOKEN token for host:8030", "Kerberos principal
// spate@REALM"), so that a refusal says which credential to change.
type Describer interface {
	Describe() string
}

// Session is one mechanism's state during and after the exchange.
type Session interface {
	// Step answers a challenge (CHALLENGE) or takes the final token that
	// comes with SUCCESS (then the returned bytes are ignored).
	Step(challenge []byte) ([]byte, error)
	// Complete reports whether the mechanism has finished its side.
	Complete() bool
	// SecurityLayer returns the negotiated integrity or privacy layer, or
	// nil when the server asked for authentication only.
	SecurityLayer() SecurityLayer
}

// SecurityLayer wraps and unwraps the bytes of every frame after the SASL
// exchange (hadoop.rpc.protection integrity or privacy).
type SecurityLayer interface {
	Wrap(b []byte) ([]byte, error)
	Unwrap(b []byte) ([]byte, error)
}

// AuthError is returned when the SASL exchange fails: the server refused
// (Remote is set) or the client could not go on. Message says what to
// change.
type AuthError struct {
	Addr    string
	Message string
	Remote  *RemoteError
	Err     error
}

func (e *AuthError) Error() string { return "ipc: authenticate to " + e.Addr + ": " + e.Message }

func (e *AuthError) Unwrap() error {
	if e.Remote != nil {
		return e.Remote
	}
	return e.Err
}

// ErrNoCommonMechanism is wrapped by the AuthError for a server that offers
// none of the client's mechanisms.
var ErrNoCommonMechanism = errors.New("no SASL mechanism in common")

// EncodeSASL returns the frame of one SASL message from the client.
func EncodeSASL(m *yarnpb.RpcSaslProto) ([]byte, error) {
	return AppendFrame(nil, requestHeader(saslCallID, nil, invalidRetryCount), m)
}

// DecodeSASL decodes a response frame of the SASL exchange: a header with
// the SASL call id and an RpcSaslProto. A FATAL or ERROR header is returned
// as a *RemoteError.
func DecodeSASL(frame []byte) (*yarnpb.RpcSaslProto, error) {
	r, err := DecodeResponse(frame)
	if err != nil {
		return nil, err
	}
	if r.Header.GetStatus() != yarnpb.RpcResponseHeaderProto_SUCCESS {
		return nil, remoteError(r.Header)
	}
	if r.CallID() != saslCallID {
		return nil, fmt.Errorf("%w: response with call id %d during the SASL exchange, want %d", ErrMalformed, r.CallID(), saslCallID)
	}
	m := &yarnpb.RpcSaslProto{}
	if err := proto.Unmarshal(r.Body, m); err != nil {
		return nil, fmt.Errorf("%w: SASL message: %v", ErrMalformed, err)
	}
	return m, nil
}

// saslMaxRounds bounds the exchange: GSSAPI needs 3 rounds, DIGEST-MD5 2.
const saslMaxRounds = 10

// saslConnect runs the client side of Hadoop's SaslRpcClient exchange:
//
//	client: NEGOTIATE
//	server: NEGOTIATE (the auths it offers)
//	client: INITIATE (the chosen auth, the initial response)
//	server: CHALLENGE ... client: RESPONSE ... (as the mechanism needs)
//	server: SUCCESS (with a final token for some mechanisms)
func saslConnect(r frameReader, w frameWriter, mechs []Mechanism, addr string) (Mechanism, SecurityLayer, error) {
	send := func(m *yarnpb.RpcSaslProto) error {
		f, err := EncodeSASL(m)
		if err != nil {
			return err
		}
		if err := w.WriteFrame(f); err != nil {
			return &AuthError{Addr: addr, Message: "send SASL " + m.GetState().String() + ": " + err.Error(), Err: err}
		}
		return nil
	}
	who := "" // the credential in use, once chosen
	recv := func(after string) (*yarnpb.RpcSaslProto, error) {
		f, err := r.ReadFrame()
		if err != nil {
			return nil, &AuthError{Addr: addr, Message: fmt.Sprintf("no answer to SASL %s: %v (is %s a Hadoop RPC port, and is the server secure?)", after, err, addr), Err: err}
		}
		m, err := DecodeSASL(f)
		var re *RemoteError
		if errors.As(err, &re) {
			return nil, &AuthError{Addr: addr, Message: "the server refused" + who + ": " + re.Class + ": " + re.Message, Remote: re}
		}
		if err != nil {
			return nil, &AuthError{Addr: addr, Message: err.Error(), Err: err}
		}
		return m, nil
	}

	if err := send(&yarnpb.RpcSaslProto{State: yarnpb.RpcSaslProto_NEGOTIATE.Enum()}); err != nil {
		return nil, nil, err
	}
	m, err := recv("NEGOTIATE")
	if err != nil {
		return nil, nil, err
	}
	if m.GetState() != yarnpb.RpcSaslProto_NEGOTIATE {
		return nil, nil, &AuthError{Addr: addr, Message: fmt.Sprintf("server answered NEGOTIATE with %s", m.GetState()), Err: ErrMalformed}
	}
	mech, offer := chooseMechanism(mechs, m.GetAuths())
	if mech == nil {
		return nil, nil, &AuthError{Addr: addr, Err: ErrNoCommonMechanism, Message: fmt.Sprintf(
			"%v: the server offers %s, the client has %s: give the client credentials for one the server offers (a Kerberos login for KERBEROS, a token for TOKEN)",
			ErrNoCommonMechanism, describeAuths(m.GetAuths()), describeMechs(mechs))}
	}
	if d, ok := mech.(Describer); ok {
		who = " " + d.Describe()
	}
	sess, initial, err := mech.Start(offer)
	if err != nil {
		return nil, nil, &AuthError{Addr: addr, Message: err.Error(), Err: err}
	}
	if initial == nil {
		initial = []byte{}
	}
	chosen := &yarnpb.RpcSaslProto_SaslAuth{
		Method: offer.Method, Mechanism: offer.Mechanism, Protocol: offer.Protocol, ServerId: offer.ServerId,
	}
	if err := send(&yarnpb.RpcSaslProto{State: yarnpb.RpcSaslProto_INITIATE.Enum(), Token: initial, Auths: []*yarnpb.RpcSaslProto_SaslAuth{chosen}}); err != nil {
		return nil, nil, err
	}
	last := "INITIATE"
	for round := 0; round < saslMaxRounds; round++ {
		m, err := recv(last)
		if err != nil {
			return nil, nil, err
		}
		switch m.GetState() {
		case yarnpb.RpcSaslProto_CHALLENGE:
			resp, err := sess.Step(m.GetToken())
			if err != nil {
				return nil, nil, &AuthError{Addr: addr, Message: err.Error(), Err: err}
			}
			if resp == nil {
				resp = []byte{} // the server requires a token, even an empty one
			}
			if err := send(&yarnpb.RpcSaslProto{State: yarnpb.RpcSaslProto_RESPONSE.Enum(), Token: resp}); err != nil {
				return nil, nil, err
			}
			last = "RESPONSE"
		case yarnpb.RpcSaslProto_SUCCESS:
			if !sess.Complete() {
				if _, err := sess.Step(m.GetToken()); err != nil {
					return nil, nil, &AuthError{Addr: addr, Message: "the server's final SASL token: " + err.Error(), Err: err}
				}
			}
			if !sess.Complete() {
				return nil, nil, &AuthError{Addr: addr, Message: "the server said SUCCESS before the " + mech.Mechanism() + " exchange completed", Err: ErrMalformed}
			}
			return mech, sess.SecurityLayer(), nil
		default:
			return nil, nil, &AuthError{Addr: addr, Message: fmt.Sprintf("unexpected SASL %s after %s", m.GetState(), last), Err: ErrMalformed}
		}
	}
	return nil, nil, &AuthError{Addr: addr, Message: fmt.Sprintf("SASL exchange did not finish in %d rounds", saslMaxRounds), Err: ErrMalformed}
}

// chooseMechanism picks the first server auth, in the server's order of
// preference (as Java's client does), that a mechanism of the client does.
func chooseMechanism(mechs []Mechanism, auths []*yarnpb.RpcSaslProto_SaslAuth) (Mechanism, *yarnpb.RpcSaslProto_SaslAuth) {
	for _, a := range auths {
		for _, m := range mechs {
			if m.Method() == a.GetMethod() && m.Mechanism() == a.GetMechanism() {
				return m, a
			}
		}
	}
	return nil, nil
}

func describeAuths(auths []*yarnpb.RpcSaslProto_SaslAuth) string {
	if len(auths) == 0 {
		return "nothing"
	}
	var s []string
	for _, a := range auths {
		s = append(s, a.GetMethod()+"/"+a.GetMechanism())
	}
	return strings.Join(s, ", ")
}

func describeMechs(mechs []Mechanism) string {
	var s []string
	for _, m := range mechs {
		s = append(s, m.Method()+"/"+m.Mechanism())
	}
	return strings.Join(s, ", ")
}

// wrappedWriter sends each frame wrapped by the security layer, as Java's
// SaslRpcClient.WrappedOutputStream does: the whole frame, length prefix
// included, becomes the token of a SASL WRAP message.
type wrappedWriter struct {
	inner frameWriter
	layer SecurityLayer
}

// MaxPlaintexter is implemented by security layers whose peer limits the
// size of what one wrapped message may carry (SASL's maxbuf): frames are
// split into pieces of at most MaxPlaintext bytes, as Java's client does
// with its buffer of the peer's raw send size.
type MaxPlaintexter interface {
	MaxPlaintext() int
}

func (w *wrappedWriter) WriteFrame(frame []byte) error {
	limit := len(frame)
	if m, ok := w.layer.(MaxPlaintexter); ok && m.MaxPlaintext() > 0 {
		limit = m.MaxPlaintext()
	}
	var out []byte
	for len(frame) > 0 {
		n := min(limit, len(frame))
		tok, err := w.layer.Wrap(frame[:n])
		if err != nil {
			return fmt.Errorf("wrap: %w", err)
		}
		frame = frame[n:]
		if out, err = AppendFrame(out, requestHeader(saslCallID, nil, invalidRetryCount),
			&yarnpb.RpcSaslProto{State: yarnpb.RpcSaslProto_WRAP.Enum(), Token: tok}); err != nil {
			return err
		}
	}
	return w.inner.WriteFrame(out)
}

// wrappedReader reads SASL WRAP messages, unwraps their tokens and yields
// the frames inside; one token may hold several frames or part of one.
type wrappedReader struct {
	inner frameReader
	layer SecurityLayer
	max   int
	buf   bytes.Buffer
}

func (r *wrappedReader) ReadFrame() ([]byte, error) {
	for {
		if b := r.buf.Bytes(); len(b) >= 4 {
			n := binary.BigEndian.Uint32(b)
			if uint64(n) > uint64(r.max) {
				return nil, fmt.Errorf("%w: %d bytes announced, at most %d", ErrFrameTooLarge, n, r.max)
			}
			if len(b)-4 >= int(n) {
				f := append([]byte(nil), b[4:4+n]...)
				r.buf.Next(4 + int(n))
				return f, nil
			}
		}
		f, err := r.inner.ReadFrame()
		if err != nil {
			return nil, err
		}
		m, err := DecodeSASL(f)
		if err != nil {
			return nil, err
		}
		if m.GetState() != yarnpb.RpcSaslProto_WRAP {
			return nil, fmt.Errorf("%w: SASL %s where a WRAP was due", ErrMalformed, m.GetState())
		}
		plain, err := r.layer.Unwrap(m.GetToken())
		if err != nil {
			return nil, fmt.Errorf("unwrap: %w", err)
		}
		r.buf.Write(plain)
	}
}
