package transport

import (
	"fmt"
	"strings"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/hdfs"
)

// ClusterAuthenticator returns the authenticator that the configuration asks
// for between JobManager and TaskManagers: the shared secret that secret
// loads (security.transport.authentication=secret, the default), or Kerberos
// with the keytab login of security.kerberos.login.*; wrapped in mutual TLS
// when security.ssl.internal.enabled is set. Its errors name the key to
// change.
func ClusterAuthenticator(cfg *conf.Config, secret func() (Authenticator, error)) (Authenticator, error) {
	var auth Authenticator
	var err error
	switch conf.TransportAuthentication.Get(cfg) {
	case "kerberos":
		auth, err = kerberosFromConfig(cfg)
	default:
		auth, err = secret()
	}
	if err != nil {
		return nil, err
	}
	if !conf.SSLInternalEnabled.Get(cfg) {
		return auth, nil
	}
	files := TLSFiles{
		Certificate: conf.SSLInternalCertificate.Get(cfg),
		PrivateKey:  conf.SSLInternalPrivateKey.Get(cfg),
		Truststore:  conf.SSLInternalTruststore.Get(cfg),
	}
	t, err := LoadTLS(files)
	if err != nil {
		return nil, err
	}
	return WithTLS(auth, t), nil
}

func kerberosFromConfig(cfg *conf.Config) (*GSSAPI, error) {
	key := conf.TransportAuthentication.Key()
	keytabPath := conf.KerberosLoginKeytab.Get(cfg)
	if keytabPath == "" {
		return nil, fmt.Errorf("%s=kerberos needs %s (and %s): JobManager and TaskManagers decrypt each other's tickets with their service keytab",
			key, conf.KerberosLoginKeytab.Key(), conf.KerberosLoginPrincipal.Key())
	}
	login := hdfs.KerberosLogin{Principal: conf.KerberosLoginPrincipal.Get(cfg), Keytab: keytabPath}
	cl, err := hdfs.KerberosClient(login, nil)
	if err != nil {
		return nil, fmt.Errorf("%s=kerberos: %w", key, err)
	}
	kt, err := hdfs.LoadKeytab(keytabPath)
	if err != nil {
		return nil, fmt.Errorf("%s=kerberos: read %s %s: %w", key, conf.KerberosLoginKeytab.Key(), keytabPath, err)
	}
	service := conf.TransportKerberosServicePrincipal.Get(cfg)
	if service == "" {
		service = login.Principal
	}
	var allowed []string
	for _, p := range strings.Split(conf.TransportKerberosAllowedPrincipals.Get(cfg), ",") {
		if p = strings.TrimSpace(p); p != "" {
			allowed = append(allowed, p)
		}
	}
	g, err := NewGSSAPI(GSSAPIConfig{Client: cl, Keytab: kt, KeytabPath: keytabPath, ServicePrincipal: service, AllowedPrincipals: allowed})
	if err != nil {
		return nil, fmt.Errorf("%s=kerberos: %w", key, err)
	}
	return g, nil
}
