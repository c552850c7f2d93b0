package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/integration/hadooptest"
	"github.com/spate-io/spate/worker/transport"
)

// Kerberos between workers, against the shared secure minicluster's KDC: the
// JobManager and TaskManagers log in from the daemons' keytab
// (OSUSER/localhost@REALM) and authenticate each other with GSSAPI.

// kerberosSettings are the properties of a process that logs in as
// principal from keytab and dials the cluster's service principal.
func kerberosSettings(c *hadooptest.Cluster, principal, keytab string) []string {
	name, _, _ := strings.Cut(c.ServicePrincipal, "/")
	return []string{
		"security.transport.authentication=kerberos",
		"security.kerberos.login.principal=" + principal,
		"security.kerberos.login.keytab=" + keytab,
		"security.transport.kerberos.service-principal=" + name + "/_HOST@" + c.Realm,
	}
}

func serviceKeytab(c *hadooptest.Cluster) string {
	return filepath.Join(filepath.Dir(c.ClientKeytab), "service.keytab")
}

func kerberosAuth(t *testing.T, settings []string) (transport.Authenticator, error) {
	t.Helper()
	cfg := conf.New()
	for _, kv := range settings {
		k, v, _ := strings.Cut(kv, "=")
		if err := cfg.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	return transport.ClusterAuthenticator(cfg, func() (transport.Authenticator, error) {
		return nil, errors.New("kerberos settings fell back to the shared secret")
	})
}

// TestKerberosTransport: a server with the service keytab accepts a client
// with it, each learning the other's principal from the real KDC, and
// refuses or fails clearly for an unlisted principal, a principal it has
// no key for, one the KDC does not know, and a client without a keytab.
func TestKerberosTransport(t *testing.T) {
	c := secureHadoop.Get(t)
	t.Setenv("KRB5_CONFIG", c.Krb5Conf)
	service := kerberosSettings(c, c.ServicePrincipal, serviceKeytab(c))
	server, err := kerberosAuth(t, service)
	if err != nil {
		t.Fatal(err)
	}
	l, err := transport.Listen("127.0.0.1:0", server, transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan *transport.Conn, 8)
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- conn
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	t.Run("the cluster's principal", func(t *testing.T) {
		conn, err := transport.Dial(ctx, l.Addr().String(), server, transport.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		peer := <-accepted
		defer peer.Close()
		if got := conn.Peer(); got.Mechanism != "GSSAPI" || got.Principal != c.ServicePrincipal {
			t.Errorf("client's peer = %+v, want GSSAPI %s", got, c.ServicePrincipal)
		}
		if got := peer.Peer(); got.Mechanism != "GSSAPI" || got.Principal != c.ServicePrincipal {
			t.Errorf("server's peer = %+v, want GSSAPI %s", got, c.ServicePrincipal)
		}
	})

	name, _, _ := strings.Cut(c.ServicePrincipal, "/")
	for _, tt := range []struct {
		name     string
		settings []string
		want     string // in the error of ClusterAuthenticator or Dial
		refused  bool   // by the server, with ErrAuthFailed
	}{
		{
			name:     "a principal that is not allowed",
			settings: kerberosSettings(c, c.OtherPrincipal, c.OtherKeytab),
			want:     "refused us (" + c.OtherPrincipal + "): principal " + c.OtherPrincipal + " is not allowed to connect (allowed: " + name + "/_HOST@" + c.Realm + "): add it to security.transport.kerberos.allowed-principals",
			refused:  true,
		},
		{
			name:     "a server principal the server has no key for",
			settings: append(kerberosSettings(c, c.ServicePrincipal, serviceKeytab(c)), "security.transport.kerberos.service-principal="+c.ClientPrincipal),
			want:     "the client asked for a ticket to " + c.ClientPrincipal + ", but this server's keytab holds no key for it",
			refused:  true,
		},
		{
			name:     "a server principal the KDC does not know",
			settings: append(kerberosSettings(c, c.ServicePrincipal, serviceKeytab(c)), "security.transport.kerberos.service-principal=nobody/_HOST@"+c.Realm),
			want:     "the KDC does not know the server principal nobody/localhost@" + c.Realm + " (KDC_ERR_S_PRINCIPAL_UNKNOWN): set security.transport.kerberos.service-principal",
			refused:  true,
		},
		{
			name:     "no keytab",
			settings: []string{"security.transport.authentication=kerberos", "security.kerberos.login.principal=" + c.ServicePrincipal},
			want:     "security.transport.authentication=kerberos needs security.kerberos.login.keytab (and security.kerberos.login.principal)",
		},
		{
			name:     "a keytab of another principal",
			settings: kerberosSettings(c, c.ServicePrincipal, c.OtherKeytab),
			want:     "keytab " + c.OtherKeytab + " has no key for " + c.ServicePrincipal + " (it holds " + c.OtherPrincipal + ")",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			auth, err := kerberosAuth(t, tt.settings)
			if err == nil {
				var conn *transport.Conn
				conn, err = transport.Dial(ctx, l.Addr().String(), auth, transport.Options{})
				if err == nil {
					conn.Close()
					t.Fatalf("Dial succeeded as %+v", conn.Peer())
				}
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error: %v\nwant one with %q", err, tt.want)
			}
			if tt.refused != errors.Is(err, transport.ErrAuthFailed) {
				t.Errorf("errors.Is(err, ErrAuthFailed) = %v, want %v", !tt.refused, tt.refused)
			}
		})
	}
}

// TestKerberosTransportCluster: WordCount on a JobManager and two
// TaskManager processes that authenticate with Kerberos inside mutual TLS
// prints exactly what the embedded run prints; a TaskManager that logs in
// as another principal is refused, says why, and exits.
func TestKerberosTransportCluster(t *testing.T) {
	c := secureHadoop.Get(t)
	dir := t.TempDir()
	cert, key := selfSignedPEM(t, dir)
	security := append(kerberosSettings(c, c.ServicePrincipal, serviceKeytab(c)),
		"security.ssl.internal.enabled=true",
		"security.ssl.internal.certificate="+cert,
		"security.ssl.internal.private-key="+key,
		"security.ssl.internal.truststore="+cert)
	props, _ := clusterSettings(t, dir, security...)
	env := func(props, role string, i int) []string {
		return append(roleEnv(props, role, i), "KRB5_CONFIG="+c.Krb5Conf)
	}
	input := filepath.Join("..", "examples", "wordcount", "testdata", "words.txt")
	const p = 2
	args := []string{"--input", input, "--parallelism", strconv.Itoa(p)}
	want := runBin(t, nil, "wordcount", args...)
	if want.code != 0 {
		t.Fatalf("embedded: exit %d\n%s", want.code, want.stderr)
	}

	jm := start(t, env(props, "jobmanager", 0), "wordcount", args...)
	// The intruder holds a valid ticket and the cluster's certificate, but
	// not the service principal's keytab.
	intruderProps := props + "\n" + strings.Join(append(kerberosSettings(c, c.OtherPrincipal, c.OtherKeytab),
		"taskmanager.registration.timeout=20 s"), "\n")
	intruder := start(t, env(intruderProps, "taskmanager", 9), "wordcount", args...)
	var tms []*running
	for i := range p {
		tms = append(tms, start(t, env(props, "taskmanager", i), "wordcount", args...))
	}
	if code := intruder.wait(t); code == 0 ||
		!strings.Contains(intruder.stderr.String(), "principal "+c.OtherPrincipal+" is not allowed to connect") {
		t.Errorf("intruder TaskManager: exit %d, want non-zero and the refusal\n%s", code, intruder.stderr.String())
	}
	code := jm.wait(t)
	var printed string
	for i, tm := range tms {
		if c := tm.wait(t); c != 0 {
			t.Errorf("TaskManager %d: exit %d\n%s", i, c, tm.stderr.String())
		}
		printed += tm.stdout.String()
	}
	if code != 0 {
		t.Fatalf("JobManager: exit %d\n%s", code, jm.stderr.String())
	}
	if sortedLines(printed) != sortedLines(want.stdout) {
		t.Fatalf("cluster output differs from the embedded run's: %d vs %d lines", strings.Count(printed, "\n"), strings.Count(want.stdout, "\n"))
	}
	if log := jm.stderr.String(); !strings.Contains(log, "refused unauthenticated connection") || !strings.Contains(log, c.OtherPrincipal+" is not allowed") {
		t.Errorf("the JobManager's log has no refusal of %s:\n%s", c.OtherPrincipal, log)
	}
}

// selfSignedPEM writes one self-signed certificate and its key, which every
// process of a test cluster shares (as Flink's documentation suggests for
// internal TLS): the certificate is also the truststore.
func selfSignedPEM(t *testing.T, dir string) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "spate test cluster"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "internal.pem"), filepath.Join(dir, "internal.key")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}
