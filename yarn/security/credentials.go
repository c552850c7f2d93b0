package security

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	yarnpb "github.com/spate-io/spate/yarn/proto"
)

// Token is Hadoop's Token: an identifier the issuer can read, the password
// the issuer derived from it, the kind (e.g. YARN_AM_RM_TOKEN,
// HDFS_DELEGATION_TOKEN, NMToken) and the service it is for (host:port).
type Token struct {
	Identifier, Password []byte
	Kind, Service        string
}

// Proto returns the wire form.
func (t *Token) Proto() *yarnpb.TokenProto {
	return &yarnpb.TokenProto{Identifier: nonNil(t.Identifier), Password: nonNil(t.Password), Kind: proto.String(t.Kind), Service: proto.String(t.Service)}
}

// TokenFromProto is the inverse of Proto.
func TokenFromProto(p *yarnpb.TokenProto) *Token {
	if p == nil {
		return nil
	}
	return &Token{Identifier: p.GetIdentifier(), Password: p.GetPassword(), Kind: p.GetKind(), Service: p.GetService()}
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Credentials are Hadoop's Credentials: tokens and secret keys by alias.
type Credentials struct {
	Tokens  map[string]*Token
	Secrets map[string][]byte
}

// TokenOfKind returns the first token (by alias) of the kind, or nil.
func (c *Credentials) TokenOfKind(kind string) *Token {
	for _, a := range sortedKeys(c.Tokens) {
		if t := c.Tokens[a]; t.Kind == kind {
			return t
		}
	}
	return nil
}

// The formats of a credentials file, after the magic "HDTS".
const (
	CredentialsWritable = 0 // Credentials.write: Hadoop's Writable encoding
	CredentialsProtobuf = 1 // a length-delimited CredentialsProto
)

var credentialsMagic = []byte("HDTS")

// ErrCredentialsFormat is wrapped by the error for bytes that are not a
// credentials file.
var ErrCredentialsFormat = errors.New("not a Hadoop credentials file")

// maxCredentialsField bounds one identifier, password, name or secret, so a
// corrupt length cannot make the reader allocate gigabytes.
const maxCredentialsField = 1 << 20

// ReadCredentials reads a credentials file's bytes (HADOOP_TOKEN_FILE_LOCATION),
// either version.
func ReadCredentials(b []byte) (*Credentials, error) {
	if len(b) < 5 || !bytes.Equal(b[:4], credentialsMagic) {
		return nil, fmt.Errorf("%w: no HDTS magic", ErrCredentialsFormat)
	}
	c := &Credentials{Tokens: map[string]*Token{}, Secrets: map[string][]byte{}}
	switch b[4] {
	case CredentialsWritable:
		r := &writableReader{r: bytes.NewReader(b[5:])}
		n := r.count()
		for i := 0; i < n && r.err == nil; i++ {
			alias := string(r.bytes())
			t := &Token{Identifier: r.bytes(), Password: r.bytes(), Kind: string(r.bytes()), Service: string(r.bytes())}
			c.Tokens[alias] = t
		}
		n = r.count()
		for i := 0; i < n && r.err == nil; i++ {
			alias := string(r.bytes())
			c.Secrets[alias] = r.bytes()
		}
		if r.err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCredentialsFormat, r.err)
		}
	case CredentialsProtobuf:
		n, k := protowire.ConsumeVarint(b[5:])
		if k < 0 || n > uint64(len(b)-5-k) {
			return nil, fmt.Errorf("%w: bad protobuf length", ErrCredentialsFormat)
		}
		var p yarnpb.CredentialsProto
		if err := proto.Unmarshal(b[5+k:5+k+int(n)], &p); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCredentialsFormat, err)
		}
		for _, kv := range p.GetTokens() {
			if t := TokenFromProto(kv.GetToken()); t != nil {
				c.Tokens[kv.GetAlias()] = t
			}
		}
		for _, kv := range p.GetSecrets() {
			c.Secrets[kv.GetAlias()] = kv.GetSecret()
		}
	default:
		return nil, fmt.Errorf("%w: unknown version %d (want 0 or 1)", ErrCredentialsFormat, b[4])
	}
	return c, nil
}

// ReadCredentialsFile reads the file at path.
func ReadCredentialsFile(path string) (*Credentials, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := ReadCredentials(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Marshal returns the credentials in a file's format; version is
// CredentialsWritable (what Hadoop writes by default, and what every
// Hadoop reads) or CredentialsProtobuf. Aliases are written in order.
func (c *Credentials) Marshal(version int) ([]byte, error) {
	out := append([]byte(nil), credentialsMagic...)
	out = append(out, byte(version))
	switch version {
	case CredentialsWritable:
		out = appendVLong(out, int64(len(c.Tokens)))
		for _, a := range sortedKeys(c.Tokens) {
			t := c.Tokens[a]
			for _, f := range [][]byte{[]byte(a), t.Identifier, t.Password, []byte(t.Kind), []byte(t.Service)} {
				out = appendVLong(out, int64(len(f)))
				out = append(out, f...)
			}
		}
		out = appendVLong(out, int64(len(c.Secrets)))
		for _, a := range sortedKeys(c.Secrets) {
			out = appendVLong(out, int64(len(a)))
			out = append(out, a...)
			out = appendVLong(out, int64(len(c.Secrets[a])))
			out = append(out, c.Secrets[a]...)
		}
		return out, nil
	case CredentialsProtobuf:
		p := &yarnpb.CredentialsProto{}
		for _, a := range sortedKeys(c.Tokens) {
			p.Tokens = append(p.Tokens, &yarnpb.CredentialsKVProto{Alias: proto.String(a), Token: c.Tokens[a].Proto()})
		}
		for _, a := range sortedKeys(c.Secrets) {
			p.Secrets = append(p.Secrets, &yarnpb.CredentialsKVProto{Alias: proto.String(a), Secret: nonNil(c.Secrets[a])})
		}
		b, err := proto.Marshal(p)
		if err != nil {
			return nil, err
		}
		out = protowire.AppendVarint(out, uint64(len(b)))
		return append(out, b...), nil
	}
	return nil, fmt.Errorf("credentials version %d: want 0 or 1", version)
}

// WriteCredentialsFile writes the credentials to path atomically: a
// temporary file in the same directory, synced, then renamed.
func (c *Credentials) WriteCredentialsFile(path string, version int) error {
	b, err := c.Marshal(version)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// appendVLong is Hadoop's WritableUtils.writeVLong: values in [-112, 127]
// in one byte, others as a length byte and big-endian magnitude.
func appendVLong(b []byte, v int64) []byte {
	if v >= -112 && v <= 127 {
		return append(b, byte(v))
	}
	l := -112
	if v < 0 {
		v = ^v
		l = -120
	}
	for t := v; t != 0; t >>= 8 {
		l--
	}
	b = append(b, byte(l))
	n := -(l + 112)
	if l < -120 {
		n = -(l + 120)
	}
	for i := n; i > 0; i-- {
		b = append(b, byte(v>>(8*(i-1))))
	}
	return b
}

// readVLong is WritableUtils.readVLong.
func readVLong(r io.ByteReader) (int64, error) {
	fb, err := r.ReadByte()
	if err != nil {
		return 0, err
	}
	first := int8(fb)
	if first >= -112 {
		return int64(first), nil
	}
	n := int(-111 - int(first))
	neg := first < -120
	if neg {
		n = int(-119 - int(first))
	}
	var v int64
	for i := 0; i < n-1; i++ {
		c, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		v = v<<8 | int64(c)
	}
	if neg {
		v = ^v
	}
	return v, nil
}

// writableReader reads Writable fields, keeping the first error.
type writableReader struct {
	r   *bytes.Reader
	err error
}

func (w *writableReader) count() int {
	if w.err != nil {
		return 0
	}
	n, err := readVLong(w.r)
	if err == nil && (n < 0 || n > int64(w.r.Len())) {
		err = fmt.Errorf("count %d with %d bytes left", n, w.r.Len())
	}
	if err != nil {
		w.err = err
		return 0
	}
	return int(n)
}

func (w *writableReader) bytes() []byte {
	if w.err != nil {
		return nil
	}
	n, err := readVLong(w.r)
	if err == nil && (n < 0 || n > maxCredentialsField || n > int64(w.r.Len())) {
		err = fmt.Errorf("field of %d bytes with %d left", n, w.r.Len())
	}
	if err != nil {
		w.err = err
		return nil
	}
	b := make([]byte, n)
	io.ReadFull(w.r, b)
	return b
}

// TokenService is the service name Hadoop gives a token for a server at
// addr (SecurityUtil.buildTokenService with the default
// hadoop.security.token.service.use_ip=true): the address's IP and port.
// Java clients pick a token for a connection by this name, so a token named
// "localhost:8020" is never used for a NameNode at 127.0.0.1:8020.
func TokenService(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); ip == nil {
		if ips, err := net.LookupIP(host); err == nil && len(ips) > 0 {
			// Java's InetAddress prefers IPv4.
			pick := ips[0]
			for _, ip := range ips {
				if ip.To4() != nil {
					pick = ip
					break
				}
			}
			host = pick.String()
		}
	}
	return net.JoinHostPort(host, port)
}
