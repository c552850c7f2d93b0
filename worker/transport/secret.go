package transport

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// SharedSecretMechanism is the name of the shared-secret mechanism on the wire.
const SharedSecretMechanism = "HMAC-SHA256"

const (
	// MinSecretSize is the shortest secret NewSharedSecret accepts (128 bits).
	MinSecretSize = 16
	// GeneratedSecretSize is the size of the secrets GenerateSecretFile writes.
	GeneratedSecretSize = 32

	nonceSize = 32
	proofSize = sha256.Size
	// maxSecretFile bounds what LoadSecret reads.
	maxSecretFile = 4096
)

// SharedSecret authenticates the members of one cluster (or one job) by a secret
// they all hold: mutual challenge-response over fresh nonces, so neither side
// ever sends the secret, a recorded handshake cannot be replayed, and a side that
// does not hold the secret learns nothing it can use (the server proves itself
// only after the client has).
//
//	client → server  client nonce (32 random bytes)
//	server → client  server nonce (32 random bytes)
//	client → server  HMAC-SHA256(secret, label("client") ‖ client nonce ‖ server nonce)
//	server → client  HMAC-SHA256(secret, label("server") ‖ client nonce ‖ server nonce)
//
// label(d) is "spate-transport/1 HMAC-SHA256 " + d + "\x00": the direction label
// keeps one side's proof from serving as the other's, the mechanism name keeps
// proofs from serving in another mechanism. Proofs are compared with hmac.Equal.
//
// It authenticates; it does not protect what follows. An attacker on the path
// can read the traffic and, after the handshake, take over the connection: that
// is what the optional TLS (later) is for.
type SharedSecret struct {
	key []byte
}

var _ Authenticator = (*SharedSecret)(nil)

// NewSharedSecret returns the authenticator for secret, which it copies. The
// secret must have at least MinSecretSize bytes.
func NewSharedSecret(secret []byte) (*SharedSecret, error) {
	if len(secret) < MinSecretSize {
		return nil, fmt.Errorf("shared secret has %d bytes, at least %d are needed", len(secret), MinSecretSize)
	}
	return &SharedSecret{key: append([]byte(nil), secret...)}, nil
}

// Mechanism implements Authenticator.
func (s *SharedSecret) Mechanism() string { return SharedSecretMechanism }

func (s *SharedSecret) proof(direction string, clientNonce, serverNonce []byte) []byte {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte("spate-transport/1 " + SharedSecretMechanism + " " + direction + "\x00"))
	mac.Write(clientNonce)
	mac.Write(serverNonce)
	return mac.Sum(nil)
}

func (s *SharedSecret) peer(conn net.Conn) Peer {
	return Peer{Mechanism: SharedSecretMechanism, Addr: conn.RemoteAddr()}
}

// Client implements Authenticator.
func (s *SharedSecret) Client(conn net.Conn, _ string) (Peer, error) {
	var cn, sn [nonceSize]byte
	rand.Read(cn[:]) // never fails (crypto/rand crashes the program instead)
	if _, err := conn.Write(cn[:]); err != nil {
		return Peer{}, fmt.Errorf("send nonce: %w", err)
	}
	if _, err := io.ReadFull(conn, sn[:]); err != nil {
		return Peer{}, fmt.Errorf("read the server's nonce: %w", describeReadErr(err))
	}
	if _, err := conn.Write(s.proof("client", cn[:], sn[:])); err != nil {
		return Peer{}, fmt.Errorf("send proof: %w", err)
	}
	var got [proofSize]byte
	if _, err := io.ReadFull(conn, got[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return Peer{}, fmt.Errorf("server closed the connection instead of proving the secret: it refused our proof (do both sides hold the same secret?): %w", ErrAuthFailed)
		}
		return Peer{}, fmt.Errorf("read the server's proof: %w", err)
	}
	if !hmac.Equal(got[:], s.proof("server", cn[:], sn[:])) {
		return Peer{}, fmt.Errorf("server's proof does not match: it does not hold our secret: %w", ErrAuthFailed)
	}
	return s.peer(conn), nil
}

// Server implements Authenticator.
func (s *SharedSecret) Server(conn net.Conn) (Peer, error) {
	var cn, sn [nonceSize]byte
	if _, err := io.ReadFull(conn, cn[:]); err != nil {
		return Peer{}, fmt.Errorf("read the client's nonce: %w", describeReadErr(err))
	}
	rand.Read(sn[:])
	if _, err := conn.Write(sn[:]); err != nil {
		return Peer{}, fmt.Errorf("send nonce: %w", err)
	}
	var got [proofSize]byte
	if _, err := io.ReadFull(conn, got[:]); err != nil {
		return Peer{}, fmt.Errorf("read the client's proof: %w", describeReadErr(err))
	}
	if !hmac.Equal(got[:], s.proof("client", cn[:], sn[:])) {
		return Peer{}, fmt.Errorf("client's proof does not match: it does not hold our secret: %w", ErrAuthFailed)
	}
	if _, err := conn.Write(s.proof("server", cn[:], sn[:])); err != nil {
		return Peer{}, fmt.Errorf("send proof: %w", err)
	}
	return s.peer(conn), nil
}

// LoadSecret reads a secret file: hex digits (surrounding white space ignored)
// encoding at least MinSecretSize bytes. It refuses a file that group or others
// may read or write (the mode must be 0600 or stricter) and anything but a
// regular file.
func LoadSecret(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open secret file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat() // of the file opened, not of whatever the path names now
	if err != nil {
		return nil, fmt.Errorf("stat secret file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("secret file %s is not a regular file (%v)", path, fi.Mode().Type())
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("secret file %s has mode %04o: chmod 600 %s: %w", path, perm, path, ErrSecretFileMode)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, fmt.Errorf("read secret file %s: %w", path, err)
	}
	if len(data) > maxSecretFile {
		return nil, fmt.Errorf("secret file %s is larger than %d bytes; it should hold %d hex digits", path, maxSecretFile, 2*GeneratedSecretSize)
	}
	secret, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, fmt.Errorf("secret file %s must hold hex digits only (as GenerateSecretFile writes): %w", path, err)
	}
	if len(secret) < MinSecretSize {
		return nil, fmt.Errorf("secret file %s holds %d bytes, at least %d are needed", path, len(secret), MinSecretSize)
	}
	return secret, nil
}

// GenerateSecretFile writes a new secret of GeneratedSecretSize random bytes,
// hex-encoded, to path with mode 0600, unless path already exists: then it
// leaves the file as it is (LoadSecret checks it). The file is published
// atomically (written to a temporary name in the same directory, synced, then
// linked into place, so a concurrent caller cannot be overwritten).
func GenerateSecretFile(path string) error {
	if _, err := os.Lstat(path); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("secret file: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp") // mode 0600
	if err != nil {
		return fmt.Errorf("create secret file: %w", err)
	}
	defer os.Remove(tmp.Name())
	secret := make([]byte, GeneratedSecretSize)
	rand.Read(secret)
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.WriteString(hex.EncodeToString(secret) + "\n")
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write secret file %s: %w", tmp.Name(), err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil // another caller won; its secret stands
		}
		return fmt.Errorf("publish secret file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
