package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
)

// TLSFiles names the PEM files of mutual TLS between the processes of a
// cluster (security.ssl.internal.*).
type TLSFiles struct {
	// Certificate is this process's certificate chain; all processes may share
	// one, as in Flink.
	Certificate string
	// PrivateKey is the certificate's key; mode 0600 or stricter.
	PrivateKey string
	// Truststore holds the CA certificates a peer's certificate must chain to.
	Truststore string
}

// TLS is mutual TLS for the connections between processes: both sides
// present a certificate, and each must chain to the truststore. Host names
// are not checked (Flink's internal TLS does not either): the truststore
// names the cluster, and workers are dialed at whatever address they
// announce.
type TLS struct {
	cert  tls.Certificate
	roots *x509.CertPool
}

// NewTLS returns mutual TLS with cert and the CAs of roots.
func NewTLS(cert tls.Certificate, roots *x509.CertPool) *TLS {
	return &TLS{cert: cert, roots: roots}
}

// LoadTLS reads the PEM files of f.
func LoadTLS(f TLSFiles) (*TLS, error) {
	if f.Certificate == "" || f.PrivateKey == "" || f.Truststore == "" {
		return nil, errors.New("security.ssl.internal.enabled needs security.ssl.internal.certificate, security.ssl.internal.private-key and security.ssl.internal.truststore (PEM files)")
	}
	fi, err := os.Stat(f.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("security.ssl.internal.private-key: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("security.ssl.internal.private-key %s has mode %04o: chmod 600 %s", f.PrivateKey, perm, f.PrivateKey)
	}
	cert, err := tls.LoadX509KeyPair(f.Certificate, f.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("security.ssl.internal.certificate %s and security.ssl.internal.private-key %s: %w", f.Certificate, f.PrivateKey, err)
	}
	pem, err := os.ReadFile(f.Truststore)
	if err != nil {
		return nil, fmt.Errorf("security.ssl.internal.truststore: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("security.ssl.internal.truststore %s holds no PEM certificate", f.Truststore)
	}
	return NewTLS(cert, roots), nil
}

// WithTLS runs auth inside t: the TLS handshake comes first, then the
// preamble and auth's messages, all encrypted.
func WithTLS(auth Authenticator, t *TLS) Authenticator {
	return &tlsAuthenticator{Authenticator: auth, tls: t}
}

type tlsAuthenticator struct {
	Authenticator
	tls *TLS
}

var (
	_ Authenticator = (*tlsAuthenticator)(nil)
	_ connLayer     = (*tlsAuthenticator)(nil)
)

// verify checks a peer's chain against the truststore, for any purpose: one
// certificate may serve as client and server.
func (t *TLS) verify(rawCerts [][]byte, _ [][]*x509.Certificate) error {
	if len(rawCerts) == 0 {
		return errors.New("the peer presented no certificate: set security.ssl.internal.certificate on every process")
	}
	certs := make([]*x509.Certificate, len(rawCerts))
	for i, raw := range rawCerts {
		c, err := x509.ParseCertificate(raw)
		if err != nil {
			return fmt.Errorf("the peer's certificate does not parse: %w", err)
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: t.roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return fmt.Errorf("the peer's certificate (%s) does not chain to security.ssl.internal.truststore: %w", certs[0].Subject, err)
	}
	return nil
}

func (t *TLS) config() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{t.cert},
		// The chain is checked by verify, against the truststore, without a
		// host name.
		InsecureSkipVerify:    true,
		ClientAuth:            tls.RequireAnyClientCert,
		VerifyPeerCertificate: t.verify,
	}
}

func (a *tlsAuthenticator) clientLayer(conn net.Conn, host string) (net.Conn, error) {
	c := tls.Client(conn, a.tls.config())
	if err := c.Handshake(); err != nil {
		return nil, fmt.Errorf("TLS handshake with %s (security.ssl.internal.enabled must be set on both sides): %w", host, describeReadErr(err))
	}
	return c, nil
}

func (a *tlsAuthenticator) serverLayer(conn net.Conn) (net.Conn, error) {
	c := tls.Server(conn, a.tls.config())
	if err := c.Handshake(); err != nil {
		return nil, fmt.Errorf("TLS handshake (security.ssl.internal.enabled must be set on both sides): %w", describeReadErr(err))
	}
	return c, nil
}

// Client implements Authenticator.
func (a *tlsAuthenticator) Client(conn net.Conn, host string) (Peer, error) {
	p, err := a.Authenticator.Client(conn, host)
	p.TLS = err == nil
	return p, err
}

// Server implements Authenticator.
func (a *tlsAuthenticator) Server(conn net.Conn) (Peer, error) {
	p, err := a.Authenticator.Server(conn)
	p.TLS = err == nil
	return p, err
}
