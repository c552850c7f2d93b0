package ipc

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	yarnpb "github.com/spate-io/spate/yarn/proto"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The bytes below are computed by hand from Hadoop's formats: the header of
// ipc.Client.Connection.writeConnectionHeader, and messages written as
// Java's writeDelimitedTo does (varint length, then fields in number order,
// sint32 zig-zag encoded).

func TestConnectionHeaderBytes(t *testing.T) {
	for _, tc := range []struct {
		auth AuthProtocol
		want string
	}{
		{AuthNone, "68 72 70 63 09 00 00"},
		{AuthSASL, "68 72 70 63 09 00 df"},
	} {
		if got := ConnectionHeader(0, tc.auth); !bytes.Equal(got, unhex(t, tc.want)) {
			t.Errorf("ConnectionHeader(0, %d) = % x, want %s", tc.auth, got, tc.want)
		}
	}
}

func TestCallFrameBytes(t *testing.T) {
	clientID := bytes.Repeat([]byte{0xab}, 16)
	frame, err := AppendFrame(nil,
		requestHeader(5, clientID, 0),
		&yarnpb.RequestHeaderProto{
			MethodName:                 proto.String("getClusterMetrics"),
			DeclaringClassProtocolName: proto.String("p"),
			ClientProtocolVersion:      proto.Uint64(1),
		},
		&yarnpb.GetClusterMetricsRequestProto{})
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, ""+
		"00 00 00 35"+ // 53 bytes follow
		"1a"+ // RpcRequestHeaderProto, 26 bytes
		"08 02"+ // rpcKind RPC_PROTOCOL_BUFFER
		"10 00"+ // rpcOp RPC_FINAL_PACKET
		"18 0a"+ // callId 5, zig-zag
		"22 10"+strings.Repeat("ab", 16)+ // clientId
		"28 00"+ // retryCount 0
		"18"+ // RequestHeaderProto, 24 bytes
		"0a 11"+hex.EncodeToString([]byte("getClusterMetrics"))+
		"12 01 70"+ // declaringClassProtocolName "p"
		"18 01"+ // clientProtocolVersion 1
		"00") // the empty request
	if !bytes.Equal(frame, want) {
		t.Errorf("call frame\n got % x\nwant % x", frame, want)
	}
}

func TestSASLNegotiateBytes(t *testing.T) {
	frame, err := EncodeSASL(&yarnpb.RpcSaslProto{State: yarnpb.RpcSaslProto_NEGOTIATE.Enum()})
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, "00 00 00 0e"+
		"0a 08 02 10 00 18 41 22 00 28 01"+ // callId -33 (zig-zag 65), empty clientId, retryCount -1
		"02 10 01") // state NEGOTIATE
	if !bytes.Equal(frame, want) {
		t.Errorf("NEGOTIATE frame\n got % x\nwant % x", frame, want)
	}
}

// responseFrame builds a frame as Hadoop's server writes a response.
func responseFrame(t testing.TB, h *yarnpb.RpcResponseHeaderProto, body proto.Message) []byte {
	t.Helper()
	msgs := []proto.Message{h}
	if body != nil {
		msgs = append(msgs, body)
	}
	f, err := AppendFrame(nil, msgs...)
	if err != nil {
		t.Fatal(err)
	}
	return f[4:]
}

func TestDecodeResponse(t *testing.T) {
	ok := &yarnpb.RpcResponseHeaderProto{CallId: proto.Uint32(7), Status: yarnpb.RpcResponseHeaderProto_SUCCESS.Enum()}
	body := &yarnpb.YarnClusterMetricsProto{NumNodeManagers: proto.Int32(3)}
	r, err := DecodeResponse(responseFrame(t, ok, body))
	if err != nil {
		t.Fatal(err)
	}
	got := &yarnpb.YarnClusterMetricsProto{}
	if err := proto.Unmarshal(r.Body, got); err != nil || r.CallID() != 7 || got.GetNumNodeManagers() != 3 {
		t.Fatalf("decoded call %d, %v, %v", r.CallID(), got, err)
	}

	// The SASL call id travels as uint32 and comes back signed.
	sasl := &yarnpb.RpcResponseHeaderProto{CallId: proto.Uint32(uint32(0xffffffdf)), Status: yarnpb.RpcResponseHeaderProto_SUCCESS.Enum()}
	if r, err := DecodeResponse(responseFrame(t, sasl, nil)); err != nil || r.CallID() != -33 {
		t.Fatalf("SASL header: call %d, %v", r.CallID(), err)
	}

	e := &yarnpb.RpcResponseHeaderProto{
		CallId: proto.Uint32(2), Status: yarnpb.RpcResponseHeaderProto_ERROR.Enum(),
		ExceptionClassName: proto.String("org.apache.hadoop.yarn.exceptions.ApplicationNotFoundException"),
		ErrorMsg:           proto.String("Application with id 'x' doesn't exist in RM.\n\tat org.apache...\n"),
		ErrorDetail:        yarnpb.RpcResponseHeaderProto_ERROR_APPLICATION.Enum(),
	}
	r, err = DecodeResponse(responseFrame(t, e, nil))
	if err != nil {
		t.Fatal(err)
	}
	re := remoteError(r.Header)
	if re.Class != "org.apache.hadoop.yarn.exceptions.ApplicationNotFoundException" ||
		re.Message != "Application with id 'x' doesn't exist in RM." || re.Fatal ||
		re.Code != yarnpb.RpcResponseHeaderProto_ERROR_APPLICATION {
		t.Errorf("remote error %+v", re)
	}

	for name, frame := range map[string][]byte{
		"empty":            {},
		"bad varint":       {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"header too long":  {0x20, 0x08},
		"not a header":     {0x02, 0xff, 0xff},
		"missing required": {0x02, 0x08, 0x01},
		"trailing bytes":   append(responseFrame(t, ok, body), 0x00),
		"body too long":    append(responseFrame(t, ok, nil), 0x05, 0x01),
	} {
		if _, err := DecodeResponse(frame); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
}

func TestReadFrameRefusesOversizedLength(t *testing.T) {
	// What an HTTP server answers first: "HTTP" read as a length.
	_, err := ReadFrame(strings.NewReader("HTTP/1.1 400 Bad Request\r\n"), DefaultMaxResponseLength)
	if !errors.Is(err, ErrFrameTooLarge) || !strings.Contains(err.Error(), "1213486160 bytes announced") {
		t.Fatalf("err = %v, want ErrFrameTooLarge naming the length", err)
	}
	if _, err := ReadFrame(bytes.NewReader([]byte{0, 0, 0, 9, 1, 2}), 100); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short frame: err = %v", err)
	}
}

func FuzzDecodeResponse(f *testing.F) {
	ok := &yarnpb.RpcResponseHeaderProto{CallId: proto.Uint32(7), Status: yarnpb.RpcResponseHeaderProto_SUCCESS.Enum()}
	f.Add(responseFrame(f, ok, &yarnpb.YarnClusterMetricsProto{NumNodeManagers: proto.Int32(3)}))
	f.Add(responseFrame(f, &yarnpb.RpcResponseHeaderProto{CallId: proto.Uint32(1), Status: yarnpb.RpcResponseHeaderProto_FATAL.Enum(),
		ExceptionClassName: proto.String("x"), ErrorMsg: proto.String("y")}, nil))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		// Through ReadFrame too, with the length prefix the bytes announce.
		fr, err := ReadFrame(bytes.NewReader(b), 1<<16)
		if err == nil {
			DecodeResponse(fr)
		}
		r, err := DecodeResponse(b)
		if err != nil {
			return
		}
		if r.Header == nil {
			t.Fatal("nil header without an error")
		}
		if r.Header.GetStatus() != yarnpb.RpcResponseHeaderProto_SUCCESS {
			_ = remoteError(r.Header).Error()
		}
	})
}

func FuzzDecodeSASL(f *testing.F) {
	h := &yarnpb.RpcResponseHeaderProto{CallId: proto.Uint32(uint32(0xffffffdf)), Status: yarnpb.RpcResponseHeaderProto_SUCCESS.Enum()}
	f.Add(responseFrame(f, h, &yarnpb.RpcSaslProto{State: yarnpb.RpcSaslProto_NEGOTIATE.Enum(), Auths: []*yarnpb.RpcSaslProto_SaslAuth{
		{Method: proto.String("TOKEN"), Mechanism: proto.String("DIGEST-MD5"), Protocol: proto.String(""), ServerId: proto.String("default"), Challenge: []byte("realm=\"default\",nonce=\"x\"")},
		{Method: proto.String("KERBEROS"), Mechanism: proto.String("GSSAPI"), Protocol: proto.String("rm"), ServerId: proto.String("localhost")},
	}}))
	f.Add(responseFrame(f, h, &yarnpb.RpcSaslProto{State: yarnpb.RpcSaslProto_CHALLENGE.Enum(), Token: []byte{1, 2, 3}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeSASL(b)
		if err != nil {
			return
		}
		// Whatever decodes must be something the exchange can act on.
		_ = describeAuths(m.GetAuths())
		_, _ = chooseMechanism([]Mechanism{nopMechanism{}}, m.GetAuths())
	})
}

func TestDecodeSASLRefusesOtherCallIDs(t *testing.T) {
	h := &yarnpb.RpcResponseHeaderProto{CallId: proto.Uint32(3), Status: yarnpb.RpcResponseHeaderProto_SUCCESS.Enum()}
	if _, err := DecodeSASL(responseFrame(t, h, &yarnpb.RpcSaslProto{State: yarnpb.RpcSaslProto_SUCCESS.Enum()})); !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
	fatal := &yarnpb.RpcResponseHeaderProto{CallId: proto.Uint32(uint32(0xffffffdf)), Status: yarnpb.RpcResponseHeaderProto_FATAL.Enum(),
		ExceptionClassName: proto.String(SaslException), ErrorMsg: proto.String("GSS initiate failed")}
	_, err := DecodeSASL(responseFrame(t, fatal, nil))
	if re, ok := IsRemote(err, SaslException); !ok || re.Message != "GSS initiate failed" || !re.Fatal {
		t.Fatalf("err = %v", err)
	}
}

// xorLayer is a stand-in security layer: it flips bits, so a frame that
// skipped wrapping would not decode.
type xorLayer struct{ max int }

func (l xorLayer) Wrap(b []byte) ([]byte, error) {
	out := make([]byte, len(b))
	for i := range b {
		out[i] = b[i] ^ 0x5a
	}
	return out, nil
}
func (l xorLayer) Unwrap(b []byte) ([]byte, error) { return l.Wrap(b) }
func (l xorLayer) MaxPlaintext() int               { return l.max }

type frameBuffer struct{ bytes.Buffer }

func (f *frameBuffer) WriteFrame(b []byte) error { _, err := f.Write(b); return err }

// A frame larger than the peer's buffer goes as several WRAP messages, and
// the reader joins pieces of frames and frames split across tokens.
func TestWrappedFramesAreSplitAndJoined(t *testing.T) {
	layer := xorLayer{max: 7}
	var wire frameBuffer
	w := &wrappedWriter{inner: &wire, layer: layer}
	frames := [][]byte{}
	for _, n := range []int{1, 7, 30, 0} {
		f, err := AppendFrame(nil, &yarnpb.RpcSaslProto{State: yarnpb.RpcSaslProto_RESPONSE.Enum(), Token: bytes.Repeat([]byte{byte(n)}, n)})
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
		if err := w.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	// What the client wrote, read back as a server would send WRAPs: each
	// request-header frame turned into a response-header one.
	var resp bytes.Buffer
	for wire.Len() > 0 {
		f, err := ReadFrame(&wire.Buffer, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		_, rest, _ := cutDelimited(f)
		sasl, _, _ := cutDelimited(rest)
		var m yarnpb.RpcSaslProto
		if err := proto.Unmarshal(sasl, &m); err != nil || m.GetState() != yarnpb.RpcSaslProto_WRAP || len(m.GetToken()) > 7 {
			t.Fatalf("wire message %v, %v", &m, err)
		}
		rf, _ := AppendFrame(nil, &yarnpb.RpcResponseHeaderProto{CallId: proto.Uint32(uint32(0xffffffdf)), Status: yarnpb.RpcResponseHeaderProto_SUCCESS.Enum()}, &m)
		resp.Write(rf)
	}
	r := &wrappedReader{inner: &plainReader{r: &resp, max: 1 << 20}, layer: layer, max: 1 << 20}
	for i, want := range frames {
		got, err := r.ReadFrame()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !bytes.Equal(got, want[4:]) {
			t.Fatalf("frame %d: % x, want % x", i, got, want[4:])
		}
	}
}
