package security

import (
	"bytes"
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	krbclient "github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/chksumtype"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/spate-io/spate/yarn/ipc"
	yarnpb "github.com/spate-io/spate/yarn/proto"
)

// Protection is a level of hadoop.rpc.protection, which SASL calls a QOP.
type Protection string

// The levels, in the words of hadoop.rpc.protection.
const (
	Authentication Protection = "authentication" // SASL "auth": no security layer
	Integrity      Protection = "integrity"      // "auth-int": every frame signed
	Privacy        Protection = "privacy"        // "auth-conf": every frame encrypted
)

// layer bits of RFC 4752's security-layer octet.
const (
	layerNone      = 1
	layerIntegrity = 2
	layerPrivacy   = 4
)

func (p Protection) bit() byte {
	switch p {
	case Integrity:
		return layerIntegrity
	case Privacy:
		return layerPrivacy
	}
	return layerNone
}

// ParseProtection parses hadoop.rpc.protection's comma-separated levels.
func ParseProtection(levels []string) ([]Protection, error) {
	var out []Protection
	for _, l := range levels {
		switch p := Protection(strings.ToLower(strings.TrimSpace(l))); p {
		case Authentication, Integrity, Privacy:
			out = append(out, p)
		case "":
		default:
			return nil, fmt.Errorf("hadoop.rpc.protection=%q: want authentication, integrity or privacy", l)
		}
	}
	if len(out) == 0 {
		out = []Protection{Authentication}
	}
	return out, nil
}

// GSSAPI is the KERBEROS auth method: SASL GSSAPI (RFC 4752) over Kerberos
// v5 (RFC 4121), with a ticket from a gokrb5 client that has logged in.
type GSSAPI struct {
	// Client is logged in (keytab or ticket cache); it fetches and caches
	// the service ticket.
	Client *krbclient.Client
	// ServicePrincipal is the server's principal from the configuration,
	// e.g. yarn.resourcemanager.principal "rm/_HOST@REALM"; _HOST is
	// replaced by Host. The server's own offer must match it, as Java's
	// SaslRpcClient checks, so a client never authenticates to a server
	// posing as another.
	ServicePrincipal string
	// Host replaces _HOST: the host of the server's address.
	Host string
	// ConfKey names where ServicePrincipal came from, for errors.
	ConfKey string
	// Protection is the client's hadoop.rpc.protection, in order of
	// preference; nil is authentication only.
	Protection []Protection
}

var _ ipc.Mechanism = (*GSSAPI)(nil)

// Describe names the client's principal, for errors.
func (g *GSSAPI) Describe() string { return "Kerberos principal " + g.User() }

func (g *GSSAPI) Method() string    { return "KERBEROS" }
func (g *GSSAPI) Mechanism() string { return "GSSAPI" }

// User is the client's principal, user@REALM: Java's client sends the
// login user's full name in the connection context.
func (g *GSSAPI) User() string {
	return g.Client.Credentials.CName().PrincipalNameString() + "@" + g.Client.Credentials.Realm()
}

// PrincipalError is returned when the server's principal is not the one
// the configuration names, or the KDC does not know it.
type PrincipalError struct {
	Offered, Expected, ConfKey string
	Err                        error
}

func (e *PrincipalError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("kerberos: no ticket for the server's principal %s: %v: check %s", e.Expected, e.Err, e.ConfKey)
	}
	return fmt.Sprintf("kerberos: the server's principal is %s but %s says %s: set %s to %s (or rm/_HOST@REALM with the server's host name in its address)",
		e.Offered, e.ConfKey, e.Expected, e.ConfKey, e.Offered)
}

func (e *PrincipalError) Unwrap() error { return e.Err }

// ReplaceHost replaces a _HOST component of a principal by host, lower-cased
// as Hadoop's SecurityUtil.getServerPrincipal does.
func ReplaceHost(principal, host string) string {
	name, realm, hasRealm := strings.Cut(principal, "@")
	parts := strings.Split(name, "/")
	if len(parts) == 2 && parts[1] == "_HOST" {
		parts[1] = strings.ToLower(host)
	}
	out := strings.Join(parts, "/")
	if hasRealm {
		out += "@" + realm
	}
	return out
}

// Start checks the server's principal, fetches a ticket for it and returns
// the AP-REQ as the initial response.
func (g *GSSAPI) Start(offer *yarnpb.RpcSaslProto_SaslAuth) (ipc.Session, []byte, error) {
	if g.Client == nil {
		return nil, nil, errors.New("kerberos: GSSAPI has no logged-in client")
	}
	key := g.ConfKey
	if key == "" {
		key = "the server principal setting"
	}
	realm := g.Client.Credentials.Realm()
	offered := offer.GetProtocol() + "/" + offer.GetServerId()
	if offer.GetProtocol() == "" || offer.GetServerId() == "" {
		return nil, nil, fmt.Errorf("kerberos: the server offered KERBEROS without its principal (protocol %q, server id %q)", offer.GetProtocol(), offer.GetServerId())
	}
	expected := ReplaceHost(g.ServicePrincipal, g.Host)
	expName, expRealm, _ := strings.Cut(expected, "@")
	if expRealm == "" {
		expRealm = realm
	}
	if expName != offered || expRealm != realm {
		return nil, nil, &PrincipalError{Offered: offered + "@" + realm, Expected: expName + "@" + expRealm, ConfKey: key}
	}
	tkt, sessionKey, err := g.Client.GetServiceTicket(offered)
	if err != nil {
		return nil, nil, &PrincipalError{Offered: offered + "@" + realm, Expected: offered + "@" + realm, ConfKey: key, Err: oneLineError{err}}
	}
	s := &gssSession{key: sessionKey, protection: g.Protection}
	tok, err := s.initialToken(g.Client, tkt)
	if err != nil {
		return nil, nil, err
	}
	return s, tok, nil
}

// oneLineError flattens gokrb5's multi-line errors.
type oneLineError struct{ err error }

func (e oneLineError) Error() string { return strings.Join(strings.Fields(e.err.Error()), " ") }
func (e oneLineError) Unwrap() error { return e.err }

// gssSession is the initiator's side of one GSS-API Kerberos context.
type gssSession struct {
	key        types.EncryptionKey // the session key, or the acceptor's subkey
	acceptorSK bool                // key is the acceptor's subkey (flag 0x04 on wrap tokens)
	protection []Protection
	auth       types.Authenticator
	stage      int // 0: AP-REP due; 1: security-layer offer due; 2: complete
	layer      *krb5Layer
}

// initialToken is RFC 2743's InitialContextToken: [APPLICATION 0] { the
// Kerberos OID, TOK_ID 01 00, AP-REQ }, asking for mutual authentication,
// integrity and confidentiality as Java's GssKrb5Client does.
func (s *gssSession) initialToken(cl *krbclient.Client, tkt messages.Ticket) ([]byte, error) {
	auth, err := types.NewAuthenticator(cl.Credentials.Domain(), cl.Credentials.CName())
	if err != nil {
		return nil, fmt.Errorf("kerberos: authenticator: %w", err)
	}
	// RFC 4121 4.1.1: the checksum carries the context flags.
	ck := make([]byte, 24)
	binary.LittleEndian.PutUint32(ck[:4], 16)
	binary.LittleEndian.PutUint32(ck[20:24], uint32(gssapi.ContextFlagMutual|gssapi.ContextFlagInteg|gssapi.ContextFlagConf))
	auth.Cksum = types.Checksum{CksumType: chksumtype.GSSAPI, Checksum: ck}
	s.auth = auth
	req, err := messages.NewAPReq(tkt, s.key, auth)
	if err != nil {
		return nil, fmt.Errorf("kerberos: AP-REQ: %w", err)
	}
	types.SetFlag(&req.APOptions, flags.APOptionMutualRequired)
	apreq, err := req.Marshal()
	if err != nil {
		return nil, fmt.Errorf("kerberos: AP-REQ: %w", err)
	}
	b, _ := asn1.Marshal(gssapi.OIDKRB5.OID())
	b = append(b, 0x01, 0x00)
	b = append(b, apreq...)
	return asn1tools.AddASNAppTag(b, 0), nil
}

func (s *gssSession) Complete() bool { return s.stage == 2 }

func (s *gssSession) SecurityLayer() ipc.SecurityLayer {
	if s.layer == nil {
		return nil
	}
	return s.layer
}

func (s *gssSession) Step(challenge []byte) ([]byte, error) {
	switch s.stage {
	case 0:
		if err := s.verifyAPRep(challenge); err != nil {
			return nil, err
		}
		s.stage = 1
		return nil, nil
	case 1:
		resp, err := s.chooseLayer(challenge)
		if err != nil {
			return nil, err
		}
		s.stage = 2
		return resp, nil
	}
	return nil, errors.New("kerberos: GSSAPI exchange already complete")
}

// verifyAPRep checks the acceptor's AP-REP (mutual authentication): it must
// decrypt with the session key and echo the authenticator's time.
func (s *gssSession) verifyAPRep(b []byte) error {
	var tok spnego.KRB5Token
	if err := tok.Unmarshal(b); err != nil {
		return fmt.Errorf("kerberos: the server's GSSAPI reply: %v", err)
	}
	if tok.IsKRBError() {
		return fmt.Errorf("kerberos: the server rejected the ticket: %s", oneLineError{tok.KRBError})
	}
	if !tok.IsAPRep() {
		return errors.New("kerberos: the server's GSSAPI reply is not an AP-REP")
	}
	plain, err := crypto.DecryptEncPart(tok.APRep.EncPart, s.key, keyusage.AP_REP_ENCPART)
	if err != nil {
		return fmt.Errorf("kerberos: the server's AP-REP does not decrypt with the session key (not the real server?): %v", err)
	}
	var part messages.EncAPRepPart
	if err := part.Unmarshal(plain); err != nil {
		return fmt.Errorf("kerberos: the server's AP-REP: %v", err)
	}
	if !part.CTime.Equal(s.auth.CTime.Truncate(time.Second)) || part.Cusec != s.auth.Cusec {
		return errors.New("kerberos: the server's AP-REP does not echo the authenticator's time: mutual authentication failed")
	}
	if len(part.Subkey.KeyValue) > 0 {
		s.key, s.acceptorSK = part.Subkey, true
	}
	return nil
}

// chooseLayer answers RFC 4752's security-layer offer: the first level of
// the client's preference that the server offers.
func (s *gssSession) chooseLayer(b []byte) ([]byte, error) {
	l := &krb5Layer{key: s.key, acceptorSubkey: s.acceptorSK, sendSeq: uint64(s.auth.SeqNumber)}
	offer, err := l.unwrap(b, false)
	if err != nil {
		return nil, fmt.Errorf("kerberos: the server's security-layer offer: %w", err)
	}
	if len(offer) != 4 {
		return nil, fmt.Errorf("kerberos: the server's security-layer offer has %d bytes, want 4", len(offer))
	}
	prefs := s.protection
	if len(prefs) == 0 {
		prefs = []Protection{Authentication}
	}
	var chosen Protection
	for _, p := range prefs {
		if offer[0]&p.bit() != 0 {
			chosen = p
			break
		}
	}
	if chosen == "" {
		return nil, fmt.Errorf("kerberos: the server offers protection %s, the client accepts %s: make hadoop.rpc.protection of client and server share a level",
			describeLayers(offer[0]), joinProtection(prefs))
	}
	maxBuf := uint32(0)
	if chosen != Authentication {
		maxBuf = 65536
		l.seal = chosen == Privacy
		l.serverMax = int(binary.BigEndian.Uint32([]byte{0, offer[1], offer[2], offer[3]}))
		s.layer = l
	}
	answer := []byte{chosen.bit(), byte(maxBuf >> 16), byte(maxBuf >> 8), byte(maxBuf)}
	// RFC 4752: the answer is wrapped without confidentiality.
	return l.wrap(answer, false)
}

func describeLayers(b byte) string {
	var s []string
	for _, p := range []Protection{Authentication, Integrity, Privacy} {
		if b&p.bit() != 0 {
			s = append(s, string(p))
		}
	}
	if len(s) == 0 {
		return "nothing"
	}
	return strings.Join(s, ",")
}

func joinProtection(ps []Protection) string {
	var s []string
	for _, p := range ps {
		s = append(s, string(p))
	}
	return strings.Join(s, ",")
}

// krb5Layer is the GSS-API Kerberos v5 per-message protection of RFC 4121:
// Wrap tokens (TOK_ID 05 04), unsealed (a checksum) or sealed (encrypted).
type krb5Layer struct {
	key            types.EncryptionKey
	acceptorSubkey bool
	seal           bool
	serverMax      int

	mu      sync.Mutex
	sendSeq uint64
}

var _ ipc.SecurityLayer = (*krb5Layer)(nil)

var _ ipc.MaxPlaintexter = (*krb5Layer)(nil)

// wrapOverhead bounds what a wrap token adds to its payload: the header,
// its encrypted copy, a confounder and a checksum.
const wrapOverhead = 16 + 16 + 16 + 32

// MaxPlaintext keeps each wrap token within the server's maxbuf.
func (l *krb5Layer) MaxPlaintext() int {
	if l.serverMax <= wrapOverhead {
		return 0
	}
	return l.serverMax - wrapOverhead
}

func (l *krb5Layer) Wrap(b []byte) ([]byte, error)   { return l.wrap(b, l.seal) }
func (l *krb5Layer) Unwrap(b []byte) ([]byte, error) { return l.unwrap(b, true) }

const (
	wrapFlagSentByAcceptor = 0x01
	wrapFlagSealed         = 0x02
	wrapFlagAcceptorSubkey = 0x04
	wrapHeaderLen          = 16
)

func (l *krb5Layer) header(flags byte, ec, rrc uint16, seq uint64) []byte {
	h := make([]byte, wrapHeaderLen)
	h[0], h[1], h[2], h[3] = 0x05, 0x04, flags, 0xff
	binary.BigEndian.PutUint16(h[4:], ec)
	binary.BigEndian.PutUint16(h[6:], rrc)
	binary.BigEndian.PutUint64(h[8:], seq)
	return h
}

// wrap makes an initiator's Wrap token of b.
func (l *krb5Layer) wrap(b []byte, seal bool) ([]byte, error) {
	et, err := crypto.GetEtype(l.key.KeyType)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	seq := l.sendSeq
	l.sendSeq++
	l.mu.Unlock()
	var fl byte
	if l.acceptorSubkey {
		fl |= wrapFlagAcceptorSubkey
	}
	if seal {
		fl |= wrapFlagSealed
		h := l.header(fl, 0, 0, seq)
		plain := append(append([]byte(nil), b...), h...)
		_, ct, err := et.EncryptMessage(l.key.KeyValue, plain, keyusage.GSSAPI_INITIATOR_SEAL)
		if err != nil {
			return nil, err
		}
		return append(h, ct...), nil
	}
	ecLen := et.GetHMACBitLength() / 8
	// The checksum covers the payload, then the header with EC and RRC 0.
	sum, err := et.GetChecksumHash(l.key.KeyValue, append(append([]byte(nil), b...), l.header(fl, 0, 0, seq)...), keyusage.GSSAPI_INITIATOR_SEAL)
	if err != nil {
		return nil, err
	}
	if len(sum) != ecLen {
		sum = sum[:ecLen]
	}
	out := l.header(fl, uint16(ecLen), 0, seq)
	out = append(out, b...)
	return append(out, sum...), nil
}

// unwrap checks an acceptor's Wrap token (fromAcceptor) and returns its
// payload. Tests also unwrap initiator tokens, with fromAcceptor false and
// the initiator's key usage.
func (l *krb5Layer) unwrap(tok []byte, requireSealMatch bool) ([]byte, error) {
	return unwrapToken(l.key, tok, true, requireSealMatch && l.seal)
}

func unwrapToken(key types.EncryptionKey, tok []byte, fromAcceptor, mustSeal bool) ([]byte, error) {
	if len(tok) < wrapHeaderLen {
		return nil, fmt.Errorf("wrap token of %d bytes, shorter than its header", len(tok))
	}
	if tok[0] != 0x05 || tok[1] != 0x04 || tok[3] != 0xff {
		return nil, fmt.Errorf("not an RFC 4121 wrap token (starts % x)", tok[:4])
	}
	fl := tok[2]
	if (fl&wrapFlagSentByAcceptor != 0) != fromAcceptor {
		return nil, errors.New("wrap token from the wrong side of the context")
	}
	usage := uint32(keyusage.GSSAPI_ACCEPTOR_SEAL)
	if !fromAcceptor {
		usage = keyusage.GSSAPI_INITIATOR_SEAL
	}
	ec := int(binary.BigEndian.Uint16(tok[4:6]))
	rrc := int(binary.BigEndian.Uint16(tok[6:8]))
	body := append([]byte(nil), tok[wrapHeaderLen:]...)
	if len(body) > 0 && rrc > 0 {
		// Undo the right rotation by RRC bytes (RFC 4121 4.2.5).
		r := rrc % len(body)
		body = append(body[r:], body[:r]...)
	}
	et, err := crypto.GetEtype(key.KeyType)
	if err != nil {
		return nil, err
	}
	if fl&wrapFlagSealed != 0 {
		plain, err := et.DecryptMessage(key.KeyValue, body, usage)
		if err != nil {
			return nil, fmt.Errorf("decrypt wrap token: %v", err)
		}
		if len(plain) < ec+wrapHeaderLen {
			return nil, errors.New("sealed wrap token too short")
		}
		h := plain[len(plain)-wrapHeaderLen:]
		want := append([]byte(nil), tok[:wrapHeaderLen]...)
		binary.BigEndian.PutUint16(want[6:], 0) // the encrypted copy has RRC 0
		if !bytes.Equal(h, want) {
			return nil, errors.New("sealed wrap token: the encrypted header does not match")
		}
		return plain[:len(plain)-ec-wrapHeaderLen], nil
	}
	if mustSeal {
		return nil, errors.New("unsealed wrap token where privacy was negotiated")
	}
	if ec > len(body) {
		return nil, errors.New("wrap token checksum longer than the token")
	}
	payload, sum := body[:len(body)-ec], body[len(body)-ec:]
	h := append([]byte(nil), tok[:wrapHeaderLen]...)
	binary.BigEndian.PutUint16(h[4:], 0)
	binary.BigEndian.PutUint16(h[6:], 0)
	want, err := et.GetChecksumHash(key.KeyValue, append(append([]byte(nil), payload...), h...), usage)
	if err != nil {
		return nil, err
	}
	if len(want) > ec {
		want = want[:ec]
	}
	if !hmac.Equal(want, sum) {
		return nil, errors.New("wrap token checksum does not verify")
	}
	return payload, nil
}
