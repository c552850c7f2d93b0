package security

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/spate-io/spate/yarn/ipc"
	yarnpb "github.com/spate-io/spate/yarn/proto"
)

// DigestMD5 is the TOKEN auth method: SASL DIGEST-MD5 (RFC 2831) with a
// token's identifier as the user name and its password as the password,
// both base64-encoded as Hadoop's SaslRpcClient does. It authenticates an
// AM to the RM (AMRMToken), an AM to a NodeManager (NMToken) and a client
// with a delegation token. Only qop=auth is spoken: a server that requires
// integrity or privacy with tokens is refused with a clear error.
type DigestMD5 struct {
	mu    sync.Mutex
	token *Token
}

var _ ipc.Mechanism = (*DigestMD5)(nil)

// NewDigestMD5 returns the mechanism for t.
func NewDigestMD5(t *Token) *DigestMD5 { return &DigestMD5{token: t} }

// SetToken replaces the token for later connections (an AMRMToken rolled
// over by the RM).
func (d *DigestMD5) SetToken(t *Token) {
	d.mu.Lock()
	d.token = t
	d.mu.Unlock()
}

// Token returns the current token.
func (d *DigestMD5) Token() *Token {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.token
}

// Describe names the token, for errors.
func (d *DigestMD5) Describe() string {
	t := d.Token()
	if t == nil {
		return "no token"
	}
	return fmt.Sprintf("the %s token for %s", t.Kind, t.Service)
}

func (d *DigestMD5) Method() string    { return "TOKEN" }
func (d *DigestMD5) Mechanism() string { return "DIGEST-MD5" }

// User is empty: the token names the user.
func (d *DigestMD5) User() string { return "" }

// Start answers the challenge that comes with the server's offer.
func (d *DigestMD5) Start(offer *yarnpb.RpcSaslProto_SaslAuth) (ipc.Session, []byte, error) {
	t := d.Token()
	if t == nil {
		return nil, nil, errors.New("digest-md5: no token")
	}
	s := &digestSession{
		user:      base64.StdEncoding.EncodeToString(t.Identifier),
		password:  base64.StdEncoding.EncodeToString(t.Password),
		digestURI: offer.GetProtocol() + "/" + offer.GetServerId(),
		kind:      t.Kind, service: t.Service,
	}
	resp, err := s.respond(offer.GetChallenge())
	if err != nil {
		return nil, nil, err
	}
	return s, resp, nil
}

type digestSession struct {
	user, password, digestURI string
	kind, service             string
	ha1                       []byte
	nonce, cnonce, qop        string
	complete                  bool
}

// ParseDigestChallenge parses RFC 2831's comma-separated key=value and
// key="quoted value" pairs.
func ParseDigestChallenge(b []byte) (map[string]string, error) {
	out := map[string]string{}
	s := string(b)
	for len(s) > 0 {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			break
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("digest-md5: malformed challenge near %q", trunc(s))
		}
		key := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = s[eq+1:]
		var val string
		if strings.HasPrefix(s, `"`) {
			var sb strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				sb.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New("digest-md5: unterminated quoted value in challenge")
			}
			val, s = sb.String(), s[i+1:]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			val, s = strings.TrimSpace(s[:end]), s[end:]
		}
		if _, dup := out[key]; dup && key != "realm" {
			return nil, fmt.Errorf("digest-md5: %s twice in challenge", key)
		}
		if _, dup := out[key]; !dup {
			out[key] = val
		}
	}
	return out, nil
}

func trunc(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}

func hexMD5(parts ...string) string {
	h := md5.Sum([]byte(strings.Join(parts, ":")))
	return hex.EncodeToString(h[:])
}

// respond computes the digest-response to the server's challenge.
func (s *digestSession) respond(challenge []byte) ([]byte, error) {
	c, err := ParseDigestChallenge(challenge)
	if err != nil {
		return nil, err
	}
	s.nonce = c["nonce"]
	if s.nonce == "" {
		return nil, errors.New("digest-md5: the server's challenge has no nonce")
	}
	if alg := c["algorithm"]; alg != "md5-sess" {
		return nil, fmt.Errorf("digest-md5: algorithm %q, want md5-sess", alg)
	}
	qops := strings.Split(c["qop"], ",")
	if c["qop"] == "" {
		qops = []string{"auth"}
	}
	for _, q := range qops {
		if strings.TrimSpace(q) == "auth" {
			s.qop = "auth"
		}
	}
	if s.qop == "" {
		return nil, fmt.Errorf("digest-md5: the server requires qop %s with tokens; Spate speaks only auth: set hadoop.rpc.protection=authentication on the cluster", c["qop"])
	}
	realm := c["realm"]
	if s.cnonce == "" {
		cn := make([]byte, 16)
		if _, err := rand.Read(cn); err != nil {
			return nil, err
		}
		s.cnonce = base64.StdEncoding.EncodeToString(cn)
	}
	inner := md5.Sum([]byte(s.user + ":" + realm + ":" + s.password))
	a1 := append(inner[:], []byte(":"+s.nonce+":"+s.cnonce)...)
	h1 := md5.Sum(a1)
	s.ha1 = h1[:]
	resp := s.digest("AUTHENTICATE")
	var b strings.Builder
	fmt.Fprintf(&b, `username="%s",`, s.user)
	if realm != "" {
		fmt.Fprintf(&b, `realm="%s",`, realm)
	}
	fmt.Fprintf(&b, `nonce="%s",nc=00000001,cnonce="%s",digest-uri="%s",maxbuf=65536,response=%s,qop=auth`, s.nonce, s.cnonce, s.digestURI, resp)
	if c["charset"] == "utf-8" {
		b.WriteString(",charset=utf-8")
	}
	return []byte(b.String()), nil
}

// digest is RFC 2831's response-value with A2 = method ":" digest-uri.
func (s *digestSession) digest(method string) string {
	return hexMD5(hex.EncodeToString(s.ha1), s.nonce, "00000001", s.cnonce, s.qop, hexMD5(method+":"+s.digestURI))
}

// Step checks the server's rspauth, which proves it knew the password.
func (s *digestSession) Step(challenge []byte) ([]byte, error) {
	c, err := ParseDigestChallenge(challenge)
	if err != nil {
		return nil, err
	}
	got := c["rspauth"]
	if got == "" {
		return nil, errors.New("digest-md5: the server's final message has no rspauth")
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(s.digest(""))) != 1 {
		return nil, fmt.Errorf("digest-md5: the server's rspauth is wrong: it does not hold the password of the %s token for %s", s.kind, s.service)
	}
	s.complete = true
	return nil, nil
}

func (s *digestSession) Complete() bool                   { return s.complete }
func (s *digestSession) SecurityLayer() ipc.SecurityLayer { return nil }
