package transport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/crypto/etype"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

const testRealm = "EXAMPLE.COM"

// fakeKDC issues tickets the way a KDC does, from the service keys it holds:
// a unit test of the handshake without a KDC. The real one (MiniKdc) is in
// integration/kerberos_transport_test.go.
type fakeKDC struct {
	keys   *keytab.Keytab // the KDC's copy of every service key
	client string         // the client's principal name, without realm
	life   time.Duration  // the ticket's lifetime from now; negative: expired
}

func (k *fakeKDC) Principal() (types.PrincipalName, string) {
	return types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, k.client), testRealm
}

func (k *fakeKDC) ServiceTicket(spn string) (messages.Ticket, types.EncryptionKey, error) {
	sname := types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, spn)
	if _, _, err := k.keys.GetEncryptionKey(sname, testRealm, 0, etypeID.AES256_CTS_HMAC_SHA1_96); err != nil {
		return messages.Ticket{}, types.EncryptionKey{}, fmt.Errorf("[Root cause: KDC_Error] KDC_ERR_S_PRINCIPAL_UNKNOWN Server not found in Kerberos database")
	}
	cname, _ := k.Principal()
	now := time.Now().UTC()
	start, end := now.Add(-time.Minute), now.Add(k.life)
	if k.life < 0 {
		start = end.Add(-time.Hour)
	}
	return messages.NewTicket(cname, testRealm, sname, testRealm, asn1.BitString{Bytes: make([]byte, 4), BitLength: 32},
		k.keys, etypeID.AES256_CTS_HMAC_SHA1_96, 1, start, start, end, end)
}

// testKeytab holds a key for each principal, derived from its password.
func testKeytab(t testing.TB, principals map[string]string) *keytab.Keytab {
	t.Helper()
	kt := keytab.New()
	for p, password := range principals {
		if err := kt.AddEntry(p, testRealm, password, time.Now(), 1, etypeID.AES256_CTS_HMAC_SHA1_96); err != nil {
			t.Fatal(err)
		}
	}
	return kt
}

// kdcKeys are the KDC's: the cluster's service principal and another one.
func kdcKeys(t testing.TB) *keytab.Keytab {
	return testKeytab(t, map[string]string{"spate/localhost": "spate's key", "other/localhost": "other's key"})
}

func testGSSAPI(t testing.TB, kdc *fakeKDC, serverKeys *keytab.Keytab, service string, allowed ...string) *GSSAPI {
	t.Helper()
	g, err := newGSSAPI(kdc, GSSAPIConfig{Keytab: serverKeys, KeytabPath: "/etc/spate.keytab", ServicePrincipal: service, AllowedPrincipals: allowed})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// recordingConn keeps what is written through it.
type recordingConn struct {
	net.Conn
	out bytes.Buffer
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.out.Write(p)
	return c.Conn.Write(p)
}

func TestGSSAPIHandshake(t *testing.T) {
	kdc := &fakeKDC{keys: kdcKeys(t), client: "spate/worker-2", life: time.Hour}
	server := testGSSAPI(t, kdc, testKeytab(t, map[string]string{"spate/localhost": "spate's key"}), "spate/_HOST@"+testRealm)
	l, _ := listen(t, server, Options{})
	accepted := acceptAsync(l)
	_, port, _ := net.SplitHostPort(l.Addr().String())
	c, err := Dial(testCtx(t), net.JoinHostPort("localhost", port), server, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := <-accepted
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.c.Close()
	if got, want := c.Peer(), (Peer{Mechanism: "GSSAPI", Principal: "spate/localhost@EXAMPLE.COM", Addr: c.RemoteAddr()}); got != want {
		t.Errorf("client's peer = %+v, want %+v", got, want)
	}
	if got, want := r.c.Peer(), (Peer{Mechanism: "GSSAPI", Principal: "spate/worker-2@EXAMPLE.COM", Addr: r.c.RemoteAddr()}); got != want {
		t.Errorf("server's peer = %+v, want %+v", got, want)
	}
	// Nothing of the handshake is left in the stream.
	if _, err := c.Write([]byte("frame")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 5)
	if _, err := io.ReadFull(r.c, got); err != nil || string(got) != "frame" {
		t.Fatalf("read %q, %v; want \"frame\"", got, err)
	}
}

// TestGSSAPIRefused: each bad client is refused before anything past its
// AP-REQ is read; the client's error and the server's log line say what to
// change.
func TestGSSAPIRefused(t *testing.T) {
	serverKeys := testKeytab(t, map[string]string{"spate/localhost": "spate's key"})
	server := func(t *testing.T) *GSSAPI {
		return testGSSAPI(t, &fakeKDC{keys: kdcKeys(t), client: "spate/localhost", life: time.Hour}, serverKeys, "spate/_HOST")
	}
	tests := []struct {
		name       string
		client     *GSSAPI
		clientErr  string // in the error Dial returns
		serverLogs string // in the server's log line; "" when the client gave up before sending
	}{
		{
			name:       "a principal the server has no key for",
			client:     testGSSAPI(t, &fakeKDC{keys: kdcKeys(t), client: "spate/localhost", life: time.Hour}, serverKeys, "other/_HOST"),
			clientErr:  "server other/localhost@EXAMPLE.COM refused us (spate/localhost@EXAMPLE.COM): the client asked for a ticket to other/localhost@EXAMPLE.COM, but this server's keytab holds no key for it (kvno 1, enctype 18); it holds spate/localhost@EXAMPLE.COM: set security.transport.kerberos.service-principal",
			serverLogs: "it holds spate/localhost@EXAMPLE.COM: set security.transport.kerberos.service-principal to the servers' principal, or give the server that principal's keytab (keytab in /etc/spate.keytab)",
		},
		{
			name:      "a principal the KDC does not know",
			client:    testGSSAPI(t, &fakeKDC{keys: kdcKeys(t), client: "spate/localhost", life: time.Hour}, serverKeys, "nobody/_HOST"),
			clientErr: "the KDC does not know the server principal nobody/localhost@EXAMPLE.COM (KDC_ERR_S_PRINCIPAL_UNKNOWN): set security.transport.kerberos.service-principal",
		},
		{
			name:       "an expired ticket",
			client:     testGSSAPI(t, &fakeKDC{keys: kdcKeys(t), client: "spate/localhost", life: -10 * time.Minute}, serverKeys, "spate/_HOST"),
			clientErr:  "refused us (spate/localhost@EXAMPLE.COM): the ticket of spate/localhost@EXAMPLE.COM for spate/localhost@EXAMPLE.COM expired at",
			serverLogs: "the client must renew its login",
		},
		{
			name: "a stale keytab on the server",
			client: testGSSAPI(t, &fakeKDC{keys: testKeytab(t, map[string]string{"spate/localhost": "the key after a password change"}), client: "spate/localhost", life: time.Hour},
				serverKeys, "spate/_HOST"),
			clientErr:  "the ticket for spate/localhost@EXAMPLE.COM does not decrypt with this server's key for it",
			serverLogs: "export the keytab again and restart both",
		},
		{
			name:       "a client principal that is not allowed",
			client:     testGSSAPI(t, &fakeKDC{keys: kdcKeys(t), client: "intruder", life: time.Hour}, serverKeys, "spate/_HOST"),
			clientErr:  "refused us (intruder@EXAMPLE.COM): principal intruder@EXAMPLE.COM is not allowed to connect (allowed: spate/_HOST@EXAMPLE.COM): add it to security.transport.kerberos.allowed-principals",
			serverLogs: "principal intruder@EXAMPLE.COM is not allowed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, logs := listen(t, server(t), Options{})
			_, port, _ := net.SplitHostPort(l.Addr().String())
			_, err := Dial(testCtx(t), net.JoinHostPort("localhost", port), tt.client, Options{})
			if !errors.Is(err, ErrAuthFailed) || !strings.Contains(err.Error(), tt.clientErr) {
				t.Fatalf("Dial: %v\nwant ErrAuthFailed with %q", err, tt.clientErr)
			}
			if tt.serverLogs == "" {
				return
			}
			line := logs.waitLine(t, "refused unauthenticated connection")
			if !strings.Contains(line, tt.serverLogs) {
				t.Errorf("log line %s\ndoes not contain %q", line, tt.serverLogs)
			}
		})
	}
}

// TestGSSAPIReplay: an AP-REQ recorded from a good handshake and sent again
// is refused.
func TestGSSAPIReplay(t *testing.T) {
	kdc := &fakeKDC{keys: kdcKeys(t), client: "spate/localhost", life: time.Hour}
	g := testGSSAPI(t, kdc, testKeytab(t, map[string]string{"spate/localhost": "spate's key"}), "spate/_HOST")
	l, logs := listen(t, g, Options{})
	accepted := acceptAsync(l)
	raw, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(testTimeout))
	rec := &recordingConn{Conn: raw}
	if _, _, err := clientHandshake(rec, g, "localhost:1"); err != nil {
		t.Fatal(err)
	}
	if r := <-accepted; r.err != nil {
		t.Fatal(r.err)
	} else {
		r.c.Close()
	}
	replay, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer replay.Close()
	replay.SetDeadline(time.Now().Add(testTimeout))
	if _, err := replay.Write(rec.out.Bytes()); err != nil {
		t.Fatal(err)
	}
	var reply bytes.Buffer
	io.Copy(&reply, replay)
	if want := "replayed AP-REQ of spate/localhost@EXAMPLE.COM for spate/localhost@EXAMPLE.COM"; !strings.Contains(reply.String(), want) {
		t.Errorf("server's answer to the replay %q does not contain %q", reply.Bytes(), want)
	}
	logs.waitLine(t, `"remote":"`+replay.LocalAddr().String()+`"`, "refused unauthenticated connection", "replayed AP-REQ")
}

// TestGSSAPIGarbage: bytes that are not an AP-REQ, after a valid preamble,
// are refused with what was wrong; a good client is accepted right after.
func TestGSSAPIGarbage(t *testing.T) {
	kdc := &fakeKDC{keys: kdcKeys(t), client: "spate/localhost", life: time.Hour}
	g := testGSSAPI(t, kdc, testKeytab(t, map[string]string{"spate/localhost": "spate's key"}), "spate/_HOST")
	p := encodePreamble(GSSAPIMechanism)
	tests := []struct {
		name string
		in   []byte
		logs string
	}{
		{"not ASN.1", append(p[:], 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'), "not a Kerberos GSSAPI AP-REQ: GSS-API framing"},
		{"another mechanism", append(p[:], lengthPrefixed(mechTokenWithOID(t, asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 2}))...), "mechanism 1.3.6.1.5.5.2 is not Kerberos 5"},
		{"an AP-REP where the AP-REQ belongs", append(p[:], lengthPrefixed(mechToken(0x02, []byte{1, 2, 3}))...), "TOK_ID 02 00 is not an AP-REQ"},
		{"a truncated AP-REQ", append(p[:], lengthPrefixed(mechToken(0x01, []byte{0x6e, 0x82, 0x01}))...), "not a Kerberos GSSAPI AP-REQ: AP-REQ"},
		{"an oversized token", append(p[:], 0x7f, 0xff, 0xff, 0xff), "the client's AP-REQ declares 2147483647 bytes, want 1 to 65536"},
	}
	l, logs := listen(t, g, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			raw.SetDeadline(time.Now().Add(testTimeout))
			if _, err := raw.Write(tt.in); err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, raw)
			line := logs.waitLine(t, `"remote":"`+raw.LocalAddr().String()+`"`, "refused unauthenticated connection")
			if !strings.Contains(line, tt.logs) {
				t.Errorf("log line %s\ndoes not contain %q", line, tt.logs)
			}
		})
	}
	accepted := acceptAsync(l)
	c, err := Dial(testCtx(t), l.Addr().String(), testGSSAPI(t, kdc, testKeytab(t, map[string]string{"spate/localhost": "spate's key"}), "spate/localhost"), Options{})
	if err != nil {
		t.Fatalf("good client after the garbage: %v", err)
	}
	c.Close()
	if r := <-accepted; r.err == nil {
		r.c.Close()
	}
}

// TestGSSAPIRogueServer: a server without the service key cannot make a
// client believe it holds it.
func TestGSSAPIRogueServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	kdc := &fakeKDC{keys: kdcKeys(t), client: "spate/localhost", life: time.Hour}
	g := testGSSAPI(t, kdc, testKeytab(t, map[string]string{"spate/localhost": "spate's key"}), "spate/_HOST")
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		var p [preambleSize]byte
		io.ReadFull(c, p[:])
		out := encodePreamble(GSSAPIMechanism)
		c.Write(out[:])
		if _, err := readToken(c, "AP-REQ"); err != nil {
			return
		}
		// An AP-REP under a key of its own making.
		auth, _ := types.NewAuthenticator(testRealm, types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, "spate/localhost"))
		key, _ := types.GenerateEncryptionKey(mustEtype(t))
		rep, _ := apRepToken(auth, key)
		writeReply(c, gssAccept, rep)
		io.Copy(io.Discard, c)
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	_, err = Dial(testCtx(t), net.JoinHostPort("localhost", port), g, Options{})
	if want := "did not prove it is spate/localhost@EXAMPLE.COM: its AP-REP does not decrypt with the session key"; !errors.Is(err, ErrAuthFailed) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Dial to a rogue server: %v, want ErrAuthFailed with %q", err, want)
	}
}

func TestGSSAPIConfig(t *testing.T) {
	kdc := &fakeKDC{keys: kdcKeys(t), client: "spate/localhost", life: time.Hour}
	keys := testKeytab(t, map[string]string{"spate/localhost": "k"})
	for _, tt := range []struct {
		cfg  GSSAPIConfig
		want string
	}{
		{GSSAPIConfig{ServicePrincipal: "spate/_HOST"}, "needs a keytab with the service principal's keys (security.kerberos.login.keytab)"},
		{GSSAPIConfig{Keytab: keys}, "set security.transport.kerberos.service-principal"},
		{GSSAPIConfig{Keytab: keys, ServicePrincipal: "spate/_HOST", AllowedPrincipals: []string{"a/b/c@R"}}, `allowed principal "a/b/c@R" must be name@REALM or name/host@REALM`},
	} {
		if _, err := newGSSAPI(kdc, tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("newGSSAPI(%+v) = %v, want an error with %q", tt.cfg, err, tt.want)
		}
	}
	if _, err := NewGSSAPI(GSSAPIConfig{Keytab: keys, ServicePrincipal: "spate/_HOST"}); err == nil {
		t.Error("NewGSSAPI without a client: no error")
	}
}

func TestPrincipalPattern(t *testing.T) {
	tests := []struct {
		pattern, name, realm string
		want                 bool
	}{
		{"spate/_HOST@R", "spate/worker-1", "R", true},
		{"spate/_HOST@R", "spate/worker-1", "S", false},
		{"spate/_HOST@R", "spate", "R", false},
		{"spate/_HOST@R", "other/worker-1", "R", false},
		{"spate/h1", "spate/h1", "DEFAULT", true},
		{"spate/h1", "spate/h2", "DEFAULT", false},
		{"jm@R", "jm", "R", true},
		{"jm@R", "jm/h", "R", false},
	}
	for _, tt := range tests {
		p, err := parsePrincipalPattern(tt.pattern, "DEFAULT")
		if err != nil {
			t.Fatal(err)
		}
		if got := p.matches(types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, tt.name), tt.realm); got != tt.want {
			t.Errorf("%s matches %s@%s = %v, want %v", tt.pattern, tt.name, tt.realm, got, tt.want)
		}
	}
}

// TestAuthenticatorTimesUnique: authenticators made in a burst have distinct
// times, so the replay cache never takes one for another.
func TestAuthenticatorTimesUnique(t *testing.T) {
	g := testGSSAPI(t, &fakeKDC{keys: kdcKeys(t), client: "c", life: time.Hour}, testKeytab(t, map[string]string{"spate/localhost": "k"}), "spate/_HOST")
	seen := map[time.Time]bool{}
	for range 1000 {
		a, err := g.authenticator(types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, "c"), testRealm)
		if err != nil {
			t.Fatal(err)
		}
		if a.CTime.Nanosecond() != 0 || a.Cusec < 0 || a.Cusec >= 1e6 {
			t.Fatalf("authenticator time %v + %dµs is not whole seconds and microseconds", a.CTime, a.Cusec)
		}
		at := a.CTime.Add(time.Duration(a.Cusec) * time.Microsecond)
		if seen[at] {
			t.Fatalf("two authenticators at %v", at)
		}
		seen[at] = true
	}
}

func mustEtype(t *testing.T) etype.EType {
	e, err := crypto.GetEtype(etypeID.AES256_CTS_HMAC_SHA1_96)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func lengthPrefixed(b []byte) []byte {
	var buf bytes.Buffer
	writeToken(&buf, b)
	return buf.Bytes()
}

func mechTokenWithOID(t *testing.T, oid asn1.ObjectIdentifier) []byte {
	b, err := asn1.Marshal(oid)
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, 1, 0, 1, 2, 3)
	return append([]byte{0x60, byte(len(b))}, b...)
}

// TestGSSAPIHostOfIP: workers announce IP addresses; _HOST becomes the
// address's host name, or the error says how to give it one.
func TestGSSAPIHostOfIP(t *testing.T) {
	kdc := &fakeKDC{keys: kdcKeys(t), client: "spate/localhost", life: time.Hour}
	g := testGSSAPI(t, kdc, testKeytab(t, map[string]string{"spate/localhost": "spate's key"}), "spate/_HOST")
	g.lookupAddr = func(ip string) ([]string, error) {
		if ip == "127.0.0.1" {
			return []string{"LocalHost.", "vm"}, nil
		}
		return nil, errors.New("no such host")
	}
	l, _ := listen(t, g, Options{})
	accepted := acceptAsync(l)
	c, err := Dial(testCtx(t), l.Addr().String(), g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if r := <-accepted; r.err == nil {
		r.c.Close()
	}
	if got, want := c.Peer().Principal, "spate/localhost@EXAMPLE.COM"; got != want {
		t.Errorf("peer principal = %q, want %q", got, want)
	}
	if _, _, err := g.servicePrincipal("10.1.2.3"); err == nil || !strings.Contains(err.Error(),
		"the service principal spate/_HOST needs the host name of 10.1.2.3, which has none (no such host): give it one in DNS or /etc/hosts") {
		t.Errorf("servicePrincipal(10.1.2.3) = %v", err)
	}
}
