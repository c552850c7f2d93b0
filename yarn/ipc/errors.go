package ipc

import (
	"errors"
	"fmt"
	"strings"

	yarnpb "github.com/spate-io/spate/yarn/proto"
)

// RemoteError is an exception the server reported for a call (status ERROR)
// or for the connection (status FATAL, after which the server closes it).
// Class is the Java class name, as Hadoop's RemoteException carries it, so
// callers classify by class, never by message text.
type RemoteError struct {
	// Class is the Java exception class, e.g.
	// "org.apache.hadoop.yarn.exceptions.ApplicationNotFoundException".
	Class string
	// Message is the exception's message (its first line; Hadoop sometimes
	// appends a stack trace, which is in Detail).
	Message string
	// Detail is the whole errorMsg as the server sent it.
	Detail string
	// Code is the RPC error code; Fatal says the connection was closed.
	Code  yarnpb.RpcResponseHeaderProto_RpcErrorCodeProto
	Fatal bool
	// Method and Protocol name the call, when the error belongs to one.
	Method, Protocol string
}

func (e *RemoteError) Error() string {
	var b strings.Builder
	b.WriteString("ipc: ")
	if e.Method != "" {
		fmt.Fprintf(&b, "%s.%s: ", shortName(e.Protocol), e.Method)
	}
	b.WriteString(e.Class)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// shortName is the last component of a Java class name.
func shortName(class string) string {
	if i := strings.LastIndexByte(class, '.'); i >= 0 {
		return class[i+1:]
	}
	return class
}

// remoteError builds the RemoteError of an ERROR or FATAL header.
func remoteError(h *yarnpb.RpcResponseHeaderProto) *RemoteError {
	detail := h.GetErrorMsg()
	msg := detail
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	class := h.GetExceptionClassName()
	if class == "" {
		class = "(no exception class)"
	}
	return &RemoteError{
		Class:   class,
		Message: strings.TrimSpace(msg),
		Detail:  detail,
		Code:    h.GetErrorDetail(),
		Fatal:   h.GetStatus() == yarnpb.RpcResponseHeaderProto_FATAL,
	}
}

// IsRemote reports whether err is (or wraps) a RemoteError of the Java class
// class, and returns it.
func IsRemote(err error, class string) (*RemoteError, bool) {
	var re *RemoteError
	if errors.As(err, &re) && re.Class == class {
		return re, true
	}
	return nil, false
}

// Java exception classes that callers of this package test for.
const (
	// AccessControlException: the server refused the client's
	// authentication (e.g. SIMPLE against a secure server).
	AccessControlException = "org.apache.hadoop.security.AccessControlException"
	// SaslException: the SASL exchange failed on the server.
	SaslException = "javax.security.sasl.SaslException"
	// RPCNoSuchProtocolException and RPCNoSuchMethodException: the server
	// does not serve the protocol or method named in the request.
	RPCNoSuchProtocolException = "org.apache.hadoop.ipc.RpcNoSuchProtocolException"
	RPCNoSuchMethodException   = "org.apache.hadoop.ipc.RpcNoSuchMethodException"
)

// ErrClosed is returned by calls on a Client after Close.
var ErrClosed = errors.New("ipc: client closed")

// ErrConnectionLost is wrapped by the error of calls that were in flight
// when their connection failed; the call may or may not have run.
var ErrConnectionLost = errors.New("ipc: connection lost")

// ConnectError is returned when no connection could be made to Addr within
// the retry bound; Err is the last dial error.
type ConnectError struct {
	Addr     string
	Attempts int
	Err      error
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("ipc: cannot connect to %s after %d attempts: %v", e.Addr, e.Attempts, e.Err)
}

func (e *ConnectError) Unwrap() error { return e.Err }
