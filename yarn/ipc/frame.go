package ipc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	yarnpb "github.com/spate-io/spate/yarn/proto"
)

// Hadoop RPC version 9, as ipc.Server and ipc.Client of Hadoop 2.x and 3.x speak it.
const (
	// rpcVersion is the fifth byte of the connection header.
	rpcVersion = 9
	// Special call ids (RpcConstants): the connection context, a ping and the
	// SASL exchange use negative ids so they never meet a call's.
	connectionContextCallID = -3
	pingCallID              = -4
	saslCallID              = -33
	// invalidRetryCount marks messages that are not calls.
	invalidRetryCount = -1
)

// AuthProtocol is the sixth byte of the connection header.
type AuthProtocol byte

// The auth protocols of Hadoop's RpcConstants.AuthProtocol.
const (
	AuthNone AuthProtocol = 0
	AuthSASL AuthProtocol = 0xDF // -33 as a signed byte
)

// DefaultMaxResponseLength is ipc.maximum.response.length's default: a
// frame announcing more is refused rather than allocated.
const DefaultMaxResponseLength = 128 << 20

// ErrFrameTooLarge is wrapped by the error for a frame whose length prefix
// exceeds the maximum: a server that is not Hadoop RPC, or a corrupt stream.
var ErrFrameTooLarge = errors.New("ipc: frame exceeds the maximum response length")

// ErrMalformed is wrapped by the errors for bytes that do not decode as
// Hadoop RPC: a peer that speaks another protocol or a corrupt stream.
var ErrMalformed = errors.New("ipc: malformed frame")

// ConnectionHeader returns the 7 bytes a client sends first: "hrpc", the
// RPC version, the service class and the auth protocol.
func ConnectionHeader(serviceClass byte, auth AuthProtocol) []byte {
	return []byte{'h', 'r', 'p', 'c', rpcVersion, serviceClass, byte(auth)}
}

// AppendFrame appends one request frame to dst: a 4-byte big-endian length,
// then each message length-delimited (a varint length, then the bytes), as
// Java's writeDelimitedTo writes them.
func AppendFrame(dst []byte, msgs ...proto.Message) ([]byte, error) {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	for _, m := range msgs {
		b, err := proto.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("ipc: encode %s: %w", m.ProtoReflect().Descriptor().Name(), err)
		}
		dst = protowire.AppendVarint(dst, uint64(len(b)))
		dst = append(dst, b...)
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst, nil
}

// requestHeader is the RpcRequestHeaderProto of a call or of a control
// message (negative call id).
func requestHeader(callID int32, clientID []byte, retry int32) *yarnpb.RpcRequestHeaderProto {
	if clientID == nil {
		clientID = []byte{} // required: control messages send it empty
	}
	return &yarnpb.RpcRequestHeaderProto{
		RpcKind:    yarnpb.RpcKindProto_RPC_PROTOCOL_BUFFER.Enum(),
		RpcOp:      yarnpb.RpcRequestHeaderProto_RPC_FINAL_PACKET.Enum(),
		CallId:     proto.Int32(callID),
		ClientId:   clientID,
		RetryCount: proto.Int32(retry),
	}
}

// ReadFrame reads one frame (a 4-byte big-endian length, then that many
// bytes) from r, refusing lengths above max.
func ReadFrame(r io.Reader, max int) ([]byte, error) {
	var lb [4]byte
	if _, err := io.ReadFull(r, lb[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(lb[:])
	if uint64(n) > uint64(max) {
		return nil, fmt.Errorf("%w: %d bytes announced, at most %d (ipc.maximum.response.length): is the address a Hadoop RPC port?", ErrFrameTooLarge, n, max)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return b, nil
}

// Response is one decoded response frame: its header and, for a success,
// the bytes of the response message (not yet decoded, so that the reader
// need not know its type).
type Response struct {
	Header *yarnpb.RpcResponseHeaderProto
	Body   []byte
}

// CallID returns the header's call id as the signed id of the request (the
// header carries it as uint32: -33 arrives as 4294967263).
func (r *Response) CallID() int32 { return int32(r.Header.GetCallId()) }

// DecodeResponse decodes a response frame: a length-delimited
// RpcResponseHeaderProto, then, on success, a length-delimited message that
// must end the frame.
func DecodeResponse(frame []byte) (*Response, error) {
	hb, rest, err := cutDelimited(frame)
	if err != nil {
		return nil, fmt.Errorf("%w: response header: %v", ErrMalformed, err)
	}
	h := &yarnpb.RpcResponseHeaderProto{}
	if err := proto.Unmarshal(hb, h); err != nil {
		return nil, fmt.Errorf("%w: response header: %v", ErrMalformed, err)
	}
	resp := &Response{Header: h}
	if h.GetStatus() != yarnpb.RpcResponseHeaderProto_SUCCESS {
		return resp, nil
	}
	if len(rest) == 0 {
		// A void response may be sent with no message at all.
		return resp, nil
	}
	body, rest, err := cutDelimited(rest)
	if err != nil {
		return nil, fmt.Errorf("%w: response of call %d: %v", ErrMalformed, resp.CallID(), err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: response of call %d: %d bytes after the message", ErrMalformed, resp.CallID(), len(rest))
	}
	resp.Body = body
	return resp, nil
}

// cutDelimited splits b into a varint-length-prefixed message and the rest.
func cutDelimited(b []byte) (msg, rest []byte, err error) {
	n, k := protowire.ConsumeVarint(b)
	if k < 0 {
		return nil, nil, errors.New("bad length varint")
	}
	if n > uint64(len(b)-k) {
		return nil, nil, fmt.Errorf("message of %d bytes in %d", n, len(b)-k)
	}
	return b[k : k+int(n)], b[k+int(n):], nil
}
