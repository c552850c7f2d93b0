package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	krbclient "github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/chksumtype"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/service"
	"github.com/jcmturner/gokrb5/v8/types"
)

// GSSAPIMechanism is the name of the Kerberos mechanism on the wire.
const GSSAPIMechanism = "GSSAPI"

const (
	// maxGSSToken bounds a GSS-API token read from the wire. An AP-REQ is a
	// ticket and an authenticator, about a kilobyte from an MIT or Hadoop KDC;
	// Active Directory's PACs make them larger, never near this.
	maxGSSToken = 64 << 10
	// maxRefusal bounds the reason a server sends with a refusal.
	maxRefusal = 1024

	gssAccept byte = 0
	gssRefuse byte = 1
)

// GSSAPI authenticates the processes of a cluster to each other with Kerberos
// (GSS-API's Kerberos mechanism, RFC 4121, in a SASL-style exchange): every
// process holds a keytab for a service principal; a client asks the KDC for a
// ticket to the server's principal and the server decrypts it with its keytab.
// Both sides end knowing the other's principal (mutual authentication).
//
//	client → server  u32 n, n bytes: InitialContextToken with the AP-REQ
//	                 (RFC 2743 framing, TOK_ID 01 00, mutual-required)
//	server → client  u8 0, u32 n, n bytes: the AP-REP token (TOK_ID 02 00),
//	                 encrypted with the ticket's session key
//	             or  u8 1, u32 n, n bytes: why the server refused (UTF-8, one line)
//
// The server refuses a token that does not parse, a ticket for a principal
// its keytab holds no key for, an expired ticket, a replayed authenticator
// (gokrb5's replay cache), a clock skew above 5 minutes, a request without
// mutual authentication, and a client whose principal is not allowed. The
// client refuses a server whose AP-REP does not decrypt with the session
// key or does not echo the authenticator's time: only the holder of the
// service key could have read the session key from the ticket.
//
// Like the shared secret, it authenticates and does not protect what
// follows: WithTLS does.
type GSSAPI struct {
	tickets ticketSource
	keytab  *keytab.Keytab
	ktName  string
	service string // the server principal; _HOST is the host dialed
	allowed []principalPattern
	// lookupAddr finds the host name of an IP address, for _HOST.
	lookupAddr func(string) ([]string, error)
}

// authClock keeps the authenticator times of this process unique: gokrb5's
// replay cache (one per process, as Kerberos requires) takes a second
// authenticator of the same principal with the same time for a replay.
var authClock struct {
	mu   sync.Mutex
	last time.Time
}

var _ Authenticator = (*GSSAPI)(nil)

// ticketSource is what GSSAPI needs of a logged-in Kerberos client: service
// tickets (fetched, cached and renewed by gokrb5's client) and its own name.
type ticketSource interface {
	ServiceTicket(spn string) (messages.Ticket, types.EncryptionKey, error)
	// Principal returns the client's name and realm.
	Principal() (types.PrincipalName, string)
}

// krbTickets adapts a gokrb5 client.
type krbTickets struct{ cl *krbclient.Client }

func (k krbTickets) ServiceTicket(spn string) (messages.Ticket, types.EncryptionKey, error) {
	return k.cl.GetServiceTicket(spn)
}

func (k krbTickets) Principal() (types.PrincipalName, string) {
	return k.cl.Credentials.CName(), k.cl.Credentials.Domain()
}

// GSSAPIConfig configures NewGSSAPI.
type GSSAPIConfig struct {
	// Client is logged in, from a keytab for a long-running process: gokrb5
	// then renews the ticket-granting ticket before it expires and fetches
	// service tickets as they are needed.
	Client *krbclient.Client
	// Keytab holds this process's own service keys, with which the server side
	// decrypts the tickets clients present. KeytabPath names it in errors.
	Keytab     *keytab.Keytab
	KeytabPath string
	// ServicePrincipal is the principal of the processes dialed, e.g.
	// "spate/_HOST@EXAMPLE.COM"; _HOST is replaced by the host dialed
	// (lower case, as Hadoop does). Without a realm, the client's realm.
	ServicePrincipal string
	// AllowedPrincipals are the client principals a server accepts; a _HOST
	// component matches any host and a missing realm is the server's. Empty
	// means ServicePrincipal alone: only processes that hold the cluster's
	// service keytab.
	AllowedPrincipals []string
}

// NewGSSAPI returns the Kerberos authenticator of cfg.
func NewGSSAPI(cfg GSSAPIConfig) (*GSSAPI, error) {
	if cfg.Client == nil || cfg.Client.Credentials == nil {
		return nil, errors.New("transport: GSSAPI needs a logged-in Kerberos client")
	}
	return newGSSAPI(krbTickets{cfg.Client}, cfg)
}

func newGSSAPI(tickets ticketSource, cfg GSSAPIConfig) (*GSSAPI, error) {
	if cfg.Keytab == nil || len(cfg.Keytab.Entries) == 0 {
		return nil, fmt.Errorf("kerberos between workers needs a keytab with the service principal's keys (security.kerberos.login.keytab), got none%s", inKeytab(cfg.KeytabPath))
	}
	if cfg.ServicePrincipal == "" {
		return nil, errors.New("kerberos between workers needs the principal of the JobManager and TaskManagers: set security.transport.kerberos.service-principal (or security.kerberos.login.principal), e.g. spate/_HOST@REALM")
	}
	_, realm := tickets.Principal()
	allowed := cfg.AllowedPrincipals
	if len(allowed) == 0 {
		allowed = []string{cfg.ServicePrincipal}
	}
	g := &GSSAPI{tickets: tickets, keytab: cfg.Keytab, ktName: cfg.KeytabPath, service: cfg.ServicePrincipal, lookupAddr: net.LookupAddr}
	for _, a := range allowed {
		p, err := parsePrincipalPattern(a, realm)
		if err != nil {
			return nil, err
		}
		g.allowed = append(g.allowed, p)
	}
	return g, nil
}

func inKeytab(path string) string {
	if path == "" {
		return ""
	}
	return " in " + path
}

// Mechanism implements Authenticator.
func (g *GSSAPI) Mechanism() string { return GSSAPIMechanism }

// principalPattern is an allowed principal: components, realm, and whether
// the second component is _HOST (any host).
type principalPattern struct {
	components []string
	realm      string
	anyHost    bool
	text       string
}

func parsePrincipalPattern(s, defaultRealm string) (principalPattern, error) {
	s = strings.TrimSpace(s)
	name, realm, hasRealm := strings.Cut(s, "@")
	if !hasRealm {
		realm = defaultRealm
	}
	comps := strings.Split(name, "/")
	if name == "" || realm == "" || slices.Contains(comps, "") || len(comps) > 2 {
		return principalPattern{}, fmt.Errorf("allowed principal %q must be name@REALM or name/host@REALM (host may be _HOST for any host)", s)
	}
	p := principalPattern{components: comps, realm: realm, text: name + "@" + realm}
	if len(comps) == 2 && comps[1] == "_HOST" {
		p.anyHost = true
	}
	return p, nil
}

func (p principalPattern) matches(name types.PrincipalName, realm string) bool {
	if realm != p.realm || len(name.NameString) != len(p.components) {
		return false
	}
	for i, c := range name.NameString {
		if !(i == 1 && p.anyHost) && c != p.components[i] {
			return false
		}
	}
	return true
}

// servicePrincipal returns the server principal for host: its name (the
// SPN gokrb5 asks the KDC for) and realm ("" for the client's). Workers
// announce themselves by IP address; _HOST then becomes the address's host
// name, the first that reverse lookup gives, as Hadoop's SecurityUtil takes
// the canonical host name.
func (g *GSSAPI) servicePrincipal(host string) (string, string, error) {
	name, realm, _ := strings.Cut(g.service, "@")
	comps := strings.Split(name, "/")
	if len(comps) == 2 && comps[1] == "_HOST" {
		if net.ParseIP(host) != nil {
			names, err := g.lookupAddr(host)
			if err != nil || len(names) == 0 {
				return "", "", fmt.Errorf("the service principal %s needs the host name of %s, which has none (%v): give it one in DNS or /etc/hosts, or name the host in security.transport.kerberos.service-principal: %w",
					g.service, host, err, ErrAuthFailed)
			}
			host = strings.TrimSuffix(names[0], ".")
		}
		comps[1] = strings.ToLower(host)
	}
	return strings.Join(comps, "/"), realm, nil
}

// Client implements Authenticator.
func (g *GSSAPI) Client(conn net.Conn, host string) (Peer, error) {
	spn, realm, err := g.servicePrincipal(host)
	if err != nil {
		return Peer{}, err
	}
	cname, crealm := g.tickets.Principal()
	if realm == "" {
		realm = crealm
	}
	server := spn + "@" + realm
	tkt, key, err := g.tickets.ServiceTicket(spn)
	if err != nil {
		return Peer{}, serviceTicketError(err, server, cname.PrincipalNameString()+"@"+crealm, host)
	}
	if tkt.Realm != realm {
		return Peer{}, fmt.Errorf("the KDC issued a ticket for %s@%s, not %s: correct the realm of security.transport.kerberos.service-principal: %w", spn, tkt.Realm, server, ErrAuthFailed)
	}
	auth, err := g.authenticator(cname, crealm)
	if err != nil {
		return Peer{}, err
	}
	tok, err := initialContextToken(tkt, key, auth)
	if err != nil {
		return Peer{}, err
	}
	if err := writeToken(conn, tok); err != nil {
		return Peer{}, fmt.Errorf("send AP-REQ: %w", err)
	}
	status, body, err := readReply(conn)
	if err != nil {
		return Peer{}, err
	}
	if status == gssRefuse {
		return Peer{}, fmt.Errorf("server %s refused us (%s@%s): %s: %w", server, cname.PrincipalNameString(), crealm, body, ErrAuthFailed)
	}
	if err := verifyAPRep(body, key, auth); err != nil {
		return Peer{}, fmt.Errorf("server at %s did not prove it is %s: %v: %w", host, server, err, ErrAuthFailed)
	}
	return Peer{Mechanism: GSSAPIMechanism, Principal: server, Addr: conn.RemoteAddr()}, nil
}

// authenticator returns a fresh authenticator whose time (seconds and
// microseconds, the replay cache's key) differs from every earlier one of this
// process, so two connections opened in the same microsecond are not taken for
// a replay.
func (g *GSSAPI) authenticator(cname types.PrincipalName, crealm string) (types.Authenticator, error) {
	auth, err := types.NewAuthenticator(crealm, cname)
	if err != nil {
		return auth, fmt.Errorf("kerberos authenticator: %w", err)
	}
	authClock.mu.Lock()
	t := auth.CTime.Truncate(time.Microsecond)
	if !t.After(authClock.last) {
		t = authClock.last.Add(time.Microsecond)
	}
	authClock.last = t
	authClock.mu.Unlock()
	auth.CTime = t.Truncate(time.Second)
	auth.Cusec = int(t.Sub(auth.CTime) / time.Microsecond)
	// RFC 4121 4.1.1: the checksum carries the context flags.
	ck := make([]byte, 24)
	binary.LittleEndian.PutUint32(ck[:4], 16)
	binary.LittleEndian.PutUint32(ck[20:], uint32(gssapi.ContextFlagMutual))
	auth.Cksum = types.Checksum{CksumType: chksumtype.GSSAPI, Checksum: ck}
	return auth, nil
}

// Server implements Authenticator.
func (g *GSSAPI) Server(conn net.Conn) (Peer, error) {
	tok, err := readToken(conn, "the client's AP-REQ")
	if err != nil {
		return Peer{}, err
	}
	client, reply, refusal := g.accept(tok, conn.RemoteAddr())
	if refusal != nil {
		msg := refusal.toClient
		if len(msg) > maxRefusal {
			msg = msg[:maxRefusal]
		}
		writeReply(conn, gssRefuse, []byte(msg)) // best effort: we close anyway
		return Peer{}, fmt.Errorf("%s: %w", refusal.log, ErrAuthFailed)
	}
	if err := writeReply(conn, gssAccept, reply); err != nil {
		return Peer{}, fmt.Errorf("send AP-REP: %w", err)
	}
	return Peer{Mechanism: GSSAPIMechanism, Principal: client, Addr: conn.RemoteAddr()}, nil
}

// refusal is why a server refused a client: what it logs, and what it tells
// the client (without the keytab's path, which is the server's business).
type refusal struct{ log, toClient string }

func refuse(format string, args ...any) *refusal {
	s := fmt.Sprintf(format, args...)
	return &refusal{log: s, toClient: s}
}

// accept checks a client's InitialContextToken: the pure core of Server. It
// returns the client's principal and the AP-REP token to send, or why not.
func (g *GSSAPI) accept(tok []byte, addr net.Addr) (string, []byte, *refusal) {
	req, err := parseInitialContextToken(tok)
	if err != nil {
		return "", nil, refuse("not a Kerberos GSSAPI AP-REQ: %v", err)
	}
	sname := req.Ticket.SName.PrincipalNameString() + "@" + req.Ticket.Realm
	if _, _, err := g.keytab.GetEncryptionKey(req.Ticket.SName, req.Ticket.Realm, req.Ticket.EncPart.KVNO, req.Ticket.EncPart.EType); err != nil {
		held := keytabPrincipals(g.keytab)
		r := refuse("the client asked for a ticket to %s, but this server's keytab holds no key for it (kvno %d, enctype %d); it holds %s: "+
			"set security.transport.kerberos.service-principal to the servers' principal, or give the server that principal's keytab",
			sname, req.Ticket.EncPart.KVNO, req.Ticket.EncPart.EType, strings.Join(held, ", "))
		r.log += " (keytab" + inKeytab(g.ktName) + ")"
		return "", nil, r
	}
	if !types.IsFlagSet(&req.APOptions, flags.APOptionMutualRequired) {
		return "", nil, refuse("the AP-REQ for %s does not ask for mutual authentication, which this server requires", sname)
	}
	settings := service.NewSettings(g.keytab, service.DecodePAC(false), service.ClientAddress(hostAddress(addr)))
	ok, _, err := service.VerifyAPREQ(&req, settings)
	client := "the client"
	if enc := req.Ticket.DecryptedEncPart; len(enc.CName.NameString) > 0 {
		client = enc.CName.PrincipalNameString() + "@" + enc.CRealm
	}
	if err != nil || !ok {
		return "", nil, apReqRefusal(err, client, sname, req.Ticket.DecryptedEncPart.EndTime)
	}
	cname, crealm := req.Authenticator.CName, req.Authenticator.CRealm
	client = cname.PrincipalNameString() + "@" + crealm
	if !slices.ContainsFunc(g.allowed, func(p principalPattern) bool { return p.matches(cname, crealm) }) {
		var texts []string
		for _, p := range g.allowed {
			texts = append(texts, p.text)
		}
		return "", nil, refuse("principal %s is not allowed to connect (allowed: %s): add it to security.transport.kerberos.allowed-principals, or run the client with the cluster's service keytab",
			client, strings.Join(texts, ", "))
	}
	reply, err := apRepToken(req.Authenticator, req.Ticket.DecryptedEncPart.Key)
	if err != nil {
		return "", nil, refuse("cannot make the AP-REP: %v", err)
	}
	return client, reply, nil
}

// hostAddress is the client address gokrb5 checks a ticket's addresses
// against; tickets without addresses (the default) pass whatever it is.
func hostAddress(addr net.Addr) types.HostAddress {
	if tcp, ok := addr.(*net.TCPAddr); ok {
		return types.HostAddressFromNetIP(tcp.IP)
	}
	return types.HostAddress{}
}

// apReqRefusal turns gokrb5's verdict on an AP-REQ into a refusal. Its
// checks of times and replays return a KRBError whose code says what is
// wrong; decryption failures come flattened into text.
func apReqRefusal(err error, client, sname string, end time.Time) *refusal {
	var ke messages.KRBError
	if !errors.As(err, &ke) {
		if err == nil {
			return refuse("the AP-REQ of %s for %s does not verify", client, sname)
		}
		return refuse("the ticket for %s does not decrypt with this server's key for it (%s): the client's ticket or the server's keytab is stale: export the keytab again and restart both",
			sname, oneLine(err))
	}
	switch ke.ErrorCode {
	case errorcode.KRB_AP_ERR_TKT_EXPIRED:
		return refuse("the ticket of %s for %s expired at %s: the client must renew its login (a keytab login renews itself; after kinit, kinit again)",
			client, sname, end.UTC().Format(time.RFC3339))
	case errorcode.KRB_AP_ERR_TKT_NYV:
		return refuse("the ticket of %s for %s is not valid yet: check the clocks of client, server and KDC", client, sname)
	case errorcode.KRB_AP_ERR_REPEAT:
		return refuse("replayed AP-REQ of %s for %s: an authenticator is accepted once", client, sname)
	case errorcode.KRB_AP_ERR_SKEW:
		return refuse("the clocks of %s and this server differ by more than 5 minutes: synchronise them (NTP)", client)
	case errorcode.KRB_AP_ERR_BADADDR:
		return refuse("the ticket of %s for %s is bound to other addresses than the client's", client, sname)
	}
	return refuse("the AP-REQ of %s for %s is refused: %s", client, sname, oneLine(ke))
}

// serviceTicketError says what to change when the KDC gives no ticket for
// the server's principal. gokrb5 flattens the KDC's error into text, so the
// protocol's error-code names are its only stable handle.
func serviceTicketError(err error, server, client, host string) error {
	s := err.Error()
	switch {
	case strings.Contains(s, "KDC_ERR_S_PRINCIPAL_UNKNOWN"):
		return fmt.Errorf("the KDC does not know the server principal %s (KDC_ERR_S_PRINCIPAL_UNKNOWN): set security.transport.kerberos.service-principal to the principal of the JobManager and TaskManagers "+
			"(_HOST is the host dialed, %s: address them by the host name in their principal): %w", server, host, ErrAuthFailed)
	case strings.Contains(s, "Networking_Error"):
		// Not ErrAuthFailed: the KDC may come back, and a caller may retry.
		return fmt.Errorf("no KDC answered the request of %s for a ticket to %s: check that the KDC runs and krb5.conf (KRB5_CONFIG)", client, server)
	}
	return fmt.Errorf("no ticket for %s as %s: %s: %w", server, client, oneLine(err), ErrAuthFailed)
}

// initialContextToken is RFC 2743's InitialContextToken: [APPLICATION 0] {
// the Kerberos mechanism's OID, TOK_ID 01 00, AP-REQ }, asking for mutual
// authentication.
func initialContextToken(tkt messages.Ticket, key types.EncryptionKey, auth types.Authenticator) ([]byte, error) {
	req, err := messages.NewAPReq(tkt, key, auth)
	if err != nil {
		return nil, fmt.Errorf("kerberos AP-REQ: %w", err)
	}
	types.SetFlag(&req.APOptions, flags.APOptionMutualRequired)
	b, err := req.Marshal()
	if err != nil {
		return nil, fmt.Errorf("kerberos AP-REQ: %w", err)
	}
	return mechToken(0x01, b), nil
}

func mechToken(tokID byte, msg []byte) []byte {
	oid, _ := asn1.Marshal(gssapi.OIDKRB5.OID())
	b := append(oid, tokID, 0x00)
	return asn1tools.AddASNAppTag(append(b, msg...), 0)
}

// parseMechToken checks an InitialContextToken's framing and returns its
// TOK_ID and Kerberos message.
func parseMechToken(b []byte) (byte, []byte, error) {
	var oid asn1.ObjectIdentifier
	rest, err := asn1.UnmarshalWithParams(b, &oid, "application,explicit,tag:0")
	if err != nil {
		return 0, nil, fmt.Errorf("GSS-API framing: %v", err)
	}
	if !oid.Equal(gssapi.OIDKRB5.OID()) {
		return 0, nil, fmt.Errorf("mechanism %s is not Kerberos 5 (%s)", oid, gssapi.OIDKRB5.OID())
	}
	if len(rest) < 2 || rest[1] != 0 {
		return 0, nil, errors.New("no TOK_ID")
	}
	return rest[0], rest[2:], nil
}

// parseInitialContextToken returns the AP-REQ of a client's token. gokrb5's
// decoders index without checking in places: a panic on malformed bytes
// becomes an error.
func parseInitialContextToken(b []byte) (req messages.APReq, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed token: %v", r)
		}
	}()
	id, msg, err := parseMechToken(b)
	if err != nil {
		return req, err
	}
	if id != 0x01 {
		return req, fmt.Errorf("TOK_ID %02x 00 is not an AP-REQ (01 00)", id)
	}
	if err := req.Unmarshal(msg); err != nil {
		return req, fmt.Errorf("AP-REQ: %s", oneLine(err))
	}
	return req, nil
}

// apRepToken is the server's AP-REP (RFC 4120 5.5.2) as a GSS-API token:
// the authenticator's time, encrypted with the session key. gokrb5 parses
// AP-REPs but does not make them.
func apRepToken(auth types.Authenticator, key types.EncryptionKey) ([]byte, error) {
	part, err := asn1.Marshal(messages.EncAPRepPart{CTime: auth.CTime, Cusec: auth.Cusec})
	if err != nil {
		return nil, err
	}
	part = asn1tools.AddASNAppTag(part, asnAppTag.EncAPRepPart)
	enc, err := crypto.GetEncryptedData(part, key, keyusage.AP_REP_ENCPART, 0)
	if err != nil {
		return nil, err
	}
	rep, err := asn1.Marshal(messages.APRep{PVNO: 5, MsgType: msgtype.KRB_AP_REP, EncPart: enc})
	if err != nil {
		return nil, err
	}
	return mechToken(0x02, asn1tools.AddASNAppTag(rep, asnAppTag.APREP)), nil
}

// verifyAPRep checks the server's AP-REP: it must decrypt with the session
// key and echo the authenticator's time.
func verifyAPRep(b []byte, key types.EncryptionKey, auth types.Authenticator) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed AP-REP: %v", r)
		}
	}()
	id, msg, err := parseMechToken(b)
	if err != nil {
		return err
	}
	if id != 0x02 {
		return fmt.Errorf("TOK_ID %02x 00 is not an AP-REP (02 00)", id)
	}
	var rep messages.APRep
	if err := rep.Unmarshal(msg); err != nil {
		return fmt.Errorf("AP-REP: %s", oneLine(err))
	}
	plain, err := crypto.DecryptEncPart(rep.EncPart, key, keyusage.AP_REP_ENCPART)
	if err != nil {
		return errors.New("its AP-REP does not decrypt with the session key")
	}
	var part messages.EncAPRepPart
	if err := part.Unmarshal(plain); err != nil {
		return fmt.Errorf("AP-REP: %s", oneLine(err))
	}
	if !part.CTime.Equal(auth.CTime) || part.Cusec != auth.Cusec {
		return errors.New("its AP-REP does not echo our authenticator's time")
	}
	return nil
}

func writeToken(w io.Writer, tok []byte) error {
	b := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(tok)), uint32(len(tok)))
	_, err := w.Write(append(b, tok...))
	return err
}

// readToken reads a length-prefixed token, checking the length against
// maxGSSToken before reading the body.
func readToken(r io.Reader, what string) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, fmt.Errorf("read %s: %w", what, describeReadErr(err))
	}
	size := binary.BigEndian.Uint32(n[:])
	if size == 0 || size > maxGSSToken {
		return nil, fmt.Errorf("%s declares %d bytes, want 1 to %d: %w", what, size, maxGSSToken, ErrAuthFailed)
	}
	tok := make([]byte, size)
	if _, err := io.ReadFull(r, tok); err != nil {
		return nil, fmt.Errorf("read %s: %w", what, describeReadErr(err))
	}
	return tok, nil
}

func writeReply(w io.Writer, status byte, body []byte) error {
	b := append(make([]byte, 0, 5+len(body)), status)
	b = binary.BigEndian.AppendUint32(b, uint32(len(body)))
	_, err := w.Write(append(b, body...))
	return err
}

func readReply(r io.Reader) (byte, []byte, error) {
	var status [1]byte
	if _, err := io.ReadFull(r, status[:]); err != nil {
		return 0, nil, fmt.Errorf("read the server's answer to our AP-REQ: %w", describeReadErr(err))
	}
	switch status[0] {
	case gssAccept:
		b, err := readToken(r, "the server's AP-REP")
		return gssAccept, b, err
	case gssRefuse:
		b, err := readToken(r, "the server's refusal")
		if err == nil && len(b) > maxRefusal {
			err = fmt.Errorf("the server's refusal has %d bytes, more than %d: %w", len(b), maxRefusal, ErrAuthFailed)
		}
		return gssRefuse, []byte(strings.ToValidUTF8(oneLine(errors.New(string(b))), "?")), err
	}
	return 0, nil, fmt.Errorf("the server's answer starts with %#x, not a GSSAPI status: %w", status[0], ErrAuthFailed)
}

func keytabPrincipals(kt *keytab.Keytab) []string {
	var out []string
	for _, e := range kt.Entries {
		p := strings.Join(e.Principal.Components, "/") + "@" + e.Principal.Realm
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// oneLine returns err's message on one line (gokrb5's span several).
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
