// Package transport carries bytes between Spate processes: the JobManager's
// ResourceManager and JobMasters, and the TaskManagers. It owns the wire
// contract (spate.thrift and the code generated from it in gen/wire), the
// framing, the authentication handshake, and the two kinds of connection built
// on them: Thrift RPC for the control plane and a multiplexed connection for the
// data plane. README.md has the handshake and the framing as diagrams.
//
// # The model
//
//	Dial ─► TCP ─► handshake (preamble, mechanism) ─► Conn ─┬─► RPCClient / ServeRPC   control plane
//	Listen ──────────────────────────────────────► Accept ─┘─► Mux                     data plane
//
// Every connection authenticates before anything on it is parsed: Listen and
// Dial run an Authenticator (a per-cluster shared secret, NewSharedSecret, or
// Kerberos, NewGSSAPI; optionally inside mutual TLS, WithTLS; chosen from the
// configuration by ClusterAuthenticator) and hand out only connections that
// passed. After the handshake everything travels in frames: a
// 4-byte big-endian length, then that many bytes (the bytes Thrift's
// TFramedTransport puts on the wire).
//
// The control plane is Thrift RPC in the compact protocol: ServeRPC serves a
// generated processor on every accepted connection, NewRPCClient gives the
// generated clients a thrift.TClient over one connection. The services are
// Flink's gateways: ResourceManagerGateway (a TaskManager registers and
// heartbeats), TaskExecutorGateway (the JobMaster submits, cancels, triggers
// and confirms checkpoints, commits at the end), JobMasterGateway (a task
// reports its state, acknowledges or declines a checkpoint). Every call that
// concerns a task names its ExecutionAttemptID, so the receiver drops a late
// message from an attempt that has since been restarted.
//
// The data plane is one Mux per TaskManager pair: many logical channels, each
// message an Envelope (a buffer, an event, credits, or a channel's close or
// failure) in one frame. Send is safe for concurrent senders; one reader
// goroutine hands each envelope to a handler that must not block. That is safe
// because of the credit-based flow control of worker/network above: a producer
// sends a buffer only when the consumer granted a credit for it, so the
// consumer always has room and one slow channel never stalls the others.
//
// # Invariants
//
//   - No frame is read, and no Thrift or envelope decoder sees a byte, before
//     the peer has authenticated. The handshake reads bounded messages (at
//     most 96 bytes from an unauthenticated client with the shared secret, one
//     token of at most 64 KiB with Kerberos) under a timeout, in a
//     goroutine per connection, so a silent or hostile peer holds one goroutine
//     for at most Options.HandshakeTimeout and never delays the others.
//   - A frame's declared length is checked against the limit before any of its
//     body is read, and its buffer grows only as bytes arrive: a peer that
//     declares 64 MiB and sends 10 bytes costs about 64 KiB. A frame above the
//     limit, a truncated frame, or a frame that does not decode ends that
//     connection only, with an error (and a log line) naming the peer and the
//     sizes; the process and its other connections go on.
//   - A connection's end is reported once: Mux's onClose, or the error of the
//     RPC call that found it.
//   - Envelopes arrive exactly once and in the order they were sent on the
//     connection, hence per channel.
//
// # What the caller must do
//
//   - Keep the secret secret: LoadSecret refuses files group or others can
//     read; GenerateSecretFile creates one with mode 0600.
//   - Never block in a Mux handler; hand the envelope over and return. Grant
//     credits so a sender never sends more than the receiver has room for.
//   - Dial again after an RPCClient reports ErrClosed; this package never
//     reconnects or retries on its own, because only the caller knows whether a
//     call may be repeated.
//
// # What it must never do
//
//   - Interpret payloads. Task deployment descriptors, metrics, state handles,
//     buffers and events are opaque bytes here; their encodings belong to the
//     packages that make them.
//   - Import worker/network, master or any runtime package: they depend on it,
//     not the other way round.
//   - Log or return a secret or a proof.
//   - Trust a length from the wire before checking it against a limit.
//
// Authentication is not privacy: without TLS the stream is plain after the
// handshake, and an attacker on the path could read it or take a connection
// over. security.ssl.internal.enabled (WithTLS) is for that.
package transport
