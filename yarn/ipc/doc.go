// Package ipc is a client of Hadoop's RPC, version 9: the protocol spoken by
// the ResourceManager, the NodeManagers and the NameNode, written in Go.
//
// # Model
//
// A Client makes calls to one protocol of one server (Options.Addr,
// Options.Protocol) over one TCP connection, made on the first call and
// made again by the call after it fails:
//
//	client                                   server
//	"hrpc" 9 0 AUTH          ─────────────▶  (AUTH: 0 none, 0xDF SASL)
//	[SASL: NEGOTIATE ▶ ◀ NEGOTIATE, INITIATE ▶ ◀ CHALLENGE, RESPONSE ▶ ... ◀ SUCCESS]
//	IpcConnectionContextProto (call -3)  ─▶   effective user, protocol
//	call n: RpcRequestHeaderProto,
//	        RequestHeaderProto, request  ─▶
//	                                     ◀─  RpcResponseHeaderProto (call n), response
//
// Every message is a frame: a 4-byte big-endian length, then
// varint-length-delimited protobuf messages. Calls are concurrent: each has
// a call id, and one reader goroutine per connection hands each response to
// the call with its id. After SASL negotiated integrity or privacy
// (hadoop.rpc.protection), every frame travels wrapped in a SASL WRAP
// message.
//
// # Errors
//
// A server exception is a *RemoteError carrying the Java class and message:
// classify with IsRemote or errors.As on the class, never on the message.
// A FATAL response closes the connection and fails every call on it. A
// connection that cannot be made within Options.ConnectRetries is a
// *ConnectError; a refused or failed SASL exchange an *AuthError whose
// message says what to change; calls in flight on a failed connection wrap
// ErrConnectionLost (they may have run); garbage from the server wraps
// ErrMalformed or ErrFrameTooLarge.
//
// # Deadlines
//
// Every call ends by its context's deadline, or Options.CallTimeout when the
// context has none, so no call waits forever on a server that stopped
// answering. The connection attempt and handshake are bounded by
// Options.ConnectTimeout as well.
//
// # What the caller must do
//
// Authentication is pluggable: Options.Mechanisms are SASL mechanisms
// (package yarn/security has GSSAPI with Kerberos and DIGEST-MD5 with
// tokens); none means SIMPLE, with Options.User as the user. Calls are not
// retried: only the caller knows whether a call is idempotent.
//
// Not yet: pings on idle connections (Hadoop servers close idle connections
// only above 4000 of them), RPC v9 continuation packets, and failover
// between ResourceManagers (the caller makes one Client per address).
package ipc
