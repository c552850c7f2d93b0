package transport

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testPKI is a CA and one certificate it signed, shared by every process of
// a test cluster (as Flink's documentation suggests for internal TLS).
type testPKI struct {
	caPEM, certPEM, keyPEM []byte
}

func newTestPKI(t testing.TB, name string) testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name + " worker"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return testPKI{
		caPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
}

// files writes the PKI as the PEM files of security.ssl.internal.*.
func (p testPKI) files(t testing.TB) TLSFiles {
	t.Helper()
	dir := t.TempDir()
	f := TLSFiles{Certificate: filepath.Join(dir, "cert.pem"), PrivateKey: filepath.Join(dir, "key.pem"), Truststore: filepath.Join(dir, "ca.pem")}
	for path, b := range map[string][]byte{f.Certificate: p.certPEM, f.PrivateKey: p.keyPEM, f.Truststore: p.caPEM} {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (p testPKI) tls(t testing.TB) *TLS {
	t.Helper()
	tl, err := LoadTLS(p.files(t))
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

// TestTLSHandshake: with TLS on both sides, the handshake and what follows
// are encrypted, and both sides see it in Peer.
func TestTLSHandshake(t *testing.T) {
	pki := newTestPKI(t, "cluster")
	auth := WithTLS(testSecret(t, 1), pki.tls(t))
	l, _ := listen(t, auth, Options{})
	accepted := acceptAsync(l)
	raw, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(testTimeout))
	rec := &recordingConn{Conn: raw}
	conn, peer, err := clientHandshake(rec, auth, l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-accepted
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.c.Close()
	if want := (Peer{Mechanism: SharedSecretMechanism, Addr: raw.RemoteAddr(), TLS: true}); peer != want {
		t.Errorf("client's peer = %+v, want %+v", peer, want)
	}
	if got := r.c.Peer(); !got.TLS || got.Mechanism != SharedSecretMechanism {
		t.Errorf("server's peer = %+v, want TLS and %s", got, SharedSecretMechanism)
	}
	const msg = "a frame nobody on the path may read"
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(r.c, got); err != nil || string(got) != msg {
		t.Fatalf("server read %q, %v; want %q", got, err, msg)
	}
	wire := rec.out.Bytes()
	if bytes.Contains(wire, []byte(msg)) || bytes.Contains(wire, preambleMagic[:]) {
		t.Errorf("the plaintext is on the wire: %q", wire)
	}
}

// TestTLSRefused: a side without TLS, or with a certificate of another CA,
// is refused with an error that says what to change, and a good client is
// accepted after.
func TestTLSRefused(t *testing.T) {
	pki := newTestPKI(t, "cluster")
	server := WithTLS(testSecret(t, 1), pki.tls(t))
	l, logs := listen(t, server, Options{})
	tests := []struct {
		name      string
		client    Authenticator
		clientErr string
		logs      string
	}{
		{
			name:      "a client without TLS",
			client:    testSecret(t, 1),
			clientErr: "peer closed the connection during the handshake",
			logs:      "TLS handshake (security.ssl.internal.enabled must be set on both sides): tls: first record does not look like a TLS handshake",
		},
		{
			name:      "a client that trusts another cluster",
			client:    WithTLS(testSecret(t, 1), newTestPKI(t, "other").tls(t)),
			clientErr: "TLS handshake with 127.0.0.1 (security.ssl.internal.enabled must be set on both sides): the peer's certificate (CN=cluster worker) does not chain to security.ssl.internal.truststore: x509: certificate signed by unknown authority",
			logs:      "tls: bad certificate",
		},
		{
			name:      "a client certificate of another cluster",
			client:    WithTLS(testSecret(t, 1), mixedTLS(t, newTestPKI(t, "other"), pki)),
			clientErr: "read the server's preamble: the peer refused our TLS certificate (it must chain to the peer's security.ssl.internal.truststore): remote error: tls: bad certificate",
			logs:      `the peer's certificate (CN=other worker) does not chain to security.ssl.internal.truststore: x509: certificate signed by unknown authority`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Dial(testCtx(t), l.Addr().String(), tt.client, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.clientErr) {
				t.Fatalf("Dial: %v, want an error with %q", err, tt.clientErr)
			}
			line := logs.waitLine(t, "refused unauthenticated connection", tt.logs)
			if !strings.Contains(line, tt.logs) {
				t.Errorf("log line %s lacks %q", line, tt.logs)
			}
		})
	}
	accepted := acceptAsync(l)
	c, err := Dial(testCtx(t), l.Addr().String(), server, Options{})
	if err != nil {
		t.Fatalf("good client after the refusals: %v", err)
	}
	c.Close()
	if r := <-accepted; r.err == nil {
		r.c.Close()
	}
}

// TestTLSServerWithoutTLS: a TLS client at a server without TLS fails,
// saying that both sides need the setting.
func TestTLSServerWithoutTLS(t *testing.T) {
	l, _ := listen(t, testSecret(t, 1), Options{})
	_, err := Dial(testCtx(t), l.Addr().String(), WithTLS(testSecret(t, 1), newTestPKI(t, "cluster").tls(t)), Options{})
	if want := "TLS handshake with 127.0.0.1 (security.ssl.internal.enabled must be set on both sides)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Dial: %v, want an error with %q", err, want)
	}
}

// TestTLSWithGSSAPI: Kerberos runs inside TLS as the secret does.
func TestTLSWithGSSAPI(t *testing.T) {
	kdc := &fakeKDC{keys: kdcKeys(t), client: "spate/localhost", life: time.Hour}
	auth := WithTLS(testGSSAPI(t, kdc, testKeytab(t, map[string]string{"spate/localhost": "spate's key"}), "spate/_HOST"), newTestPKI(t, "cluster").tls(t))
	l, _ := listen(t, auth, Options{})
	accepted := acceptAsync(l)
	_, port, _ := net.SplitHostPort(l.Addr().String())
	c, err := Dial(testCtx(t), net.JoinHostPort("localhost", port), auth, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := <-accepted
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.c.Close()
	if got := c.Peer(); got.Principal != "spate/localhost@EXAMPLE.COM" || !got.TLS || got.Mechanism != GSSAPIMechanism {
		t.Errorf("client's peer = %+v", got)
	}
	if got := r.c.Peer(); got.Principal != "spate/localhost@EXAMPLE.COM" || !got.TLS {
		t.Errorf("server's peer = %+v", got)
	}
}

// mixedTLS presents cert's certificate and trusts roots' CA.
func mixedTLS(t *testing.T, cert, roots testPKI) *TLS {
	c, r := cert.tls(t), roots.tls(t)
	return NewTLS(c.cert, r.roots)
}

func TestLoadTLSErrors(t *testing.T) {
	pki := newTestPKI(t, "cluster")
	good := pki.files(t)
	open := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(open, pki.keyPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		files TLSFiles
		want  string
	}{
		{"nothing set", TLSFiles{}, "security.ssl.internal.enabled needs security.ssl.internal.certificate, security.ssl.internal.private-key and security.ssl.internal.truststore"},
		{"a readable key", TLSFiles{Certificate: good.Certificate, PrivateKey: open, Truststore: good.Truststore}, "security.ssl.internal.private-key " + open + " has mode 0644: chmod 600 " + open},
		{"the key as certificate", TLSFiles{Certificate: good.PrivateKey, PrivateKey: good.PrivateKey, Truststore: good.Truststore}, "security.ssl.internal.certificate " + good.PrivateKey},
		{"a truststore without certificates", TLSFiles{Certificate: good.Certificate, PrivateKey: good.PrivateKey, Truststore: notPEM}, "security.ssl.internal.truststore " + notPEM + " holds no PEM certificate"},
		{"a missing truststore", TLSFiles{Certificate: good.Certificate, PrivateKey: good.PrivateKey, Truststore: notPEM + ".gone"}, "security.ssl.internal.truststore: open " + notPEM + ".gone: no such file or directory"},
	}
	for _, tt := range tests {
		_, err := LoadTLS(tt.files)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: LoadTLS = %v, want an error with %q", tt.name, err, tt.want)
		}
	}
}
