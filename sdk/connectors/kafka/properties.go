package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/spate-io/spate/conf"
)

// Kafka client properties by their Java client names, as
// Flink's KafkaSourceBuilder.setProperty and KafkaSinkBuilder take them (in
// Flink SQL, the "properties.*" options). The ones understood:
//
//	security.protocol        PLAINTEXT (default), SASL_PLAINTEXT, SSL or SASL_SSL
//	sasl.mechanism           PLAIN (default with SASL), SCRAM-SHA-256 or SCRAM-SHA-512
//	sasl.username            the SASL user
//	sasl.password.file       a file holding the password (its first line): what
//	                         sasl.jaas.config holds for the Java client, but the
//	                         password is never taken inline, so it stays off
//	                         command lines and out of plans
//	ssl.truststore.location  a PEM file of the CAs to trust (default: the system's)
//	ssl.truststore.type      PEM, the only type read here
//	ssl.keystore.location    a PEM file with this client's certificate chain and
//	                         its unencrypted private key, for brokers that
//	                         require client certificates
//	ssl.keystore.type        PEM, the only type read here
//	ssl.endpoint.identification.algorithm
//	                         https (default): the broker's certificate must name
//	                         the host dialed; "" checks only its chain
//
// Any other key is an error naming it.
var knownProperties = []string{
	"sasl.mechanism", "sasl.password.file", "sasl.username", "security.protocol",
	"ssl.endpoint.identification.algorithm", "ssl.keystore.location", "ssl.keystore.type",
	"ssl.truststore.location", "ssl.truststore.type",
}

// secretProperties would hold a secret inline.
var secretProperties = map[string]string{
	"sasl.password":           "write the password to a file readable only by the job's user and set sasl.password.file",
	"sasl.jaas.config":        "set sasl.mechanism, sasl.username and sasl.password.file (the password in a file readable only by the job's user)",
	"ssl.key.password":        "decrypt the key (openssl pkcs8 -topk8 -nocrypt) into a PEM file readable only by the job's user and set ssl.keystore.location",
	"ssl.keystore.password":   "convert the keystore to a PEM file of the certificate and its unencrypted key, readable only by the job's user, and set ssl.keystore.location",
	"ssl.truststore.password": "convert the truststore to a PEM file of the CA certificates (keytool -exportcert -rfc) and set ssl.truststore.location",
}

// ConfigPrefix is the prefix of the configuration keys that set Kafka client
// properties for every source and sink of a job, as Flink SQL's "properties.*"
// options do: properties.security.protocol, properties.sasl.mechanism,
// properties.sasl.username, properties.sasl.password.file,
// properties.ssl.truststore.location, properties.ssl.keystore.location and
// properties.ssl.endpoint.identification.algorithm. A builder's SetProperty
// wins over them.
const ConfigPrefix = "properties."

// configure adds the properties the job's configuration sets and the
// builder did not, and checks them again.
func (c *connection) configure(cfg *conf.Config, what string) error {
	for _, k := range cfg.Keys() {
		name, ok := strings.CutPrefix(k, ConfigPrefix)
		if !ok {
			continue
		}
		if _, set := c.properties[name]; set {
			continue
		}
		v, _ := cfg.Get(k)
		if c.properties == nil {
			c.properties = map[string]string{}
		}
		c.properties[name] = v
	}
	sec, err := securityOpts(c.properties)
	if err != nil {
		return fmt.Errorf("%s: %w (from SetProperty or the %s* configuration keys)", what, err, ConfigPrefix)
	}
	c.security = sec
	return nil
}

// checkNames fails on a property that is unknown or would hold a secret.
func checkNames(props map[string]string) error {
	for _, k := range sortedKeys(props) {
		if fix, ok := secretProperties[k]; ok {
			return fmt.Errorf("property %s would put a secret in the job's configuration: %s", k, fix)
		}
		if i := sort.SearchStrings(knownProperties, k); i == len(knownProperties) || knownProperties[i] != k {
			return fmt.Errorf("unknown property %q; known: %s", k, strings.Join(knownProperties, ", "))
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// securityOpts turns properties into client options.
func securityOpts(props map[string]string) ([]kgo.Opt, error) {
	if err := checkNames(props); err != nil {
		return nil, err
	}
	keys := sortedKeys(props)
	proto := strings.ToUpper(props["security.protocol"])
	var useSASL, useTLS bool
	switch proto {
	case "", "PLAINTEXT":
	case "SASL_PLAINTEXT":
		useSASL = true
	case "SSL":
		useTLS = true
	case "SASL_SSL":
		useSASL, useTLS = true, true
	default:
		return nil, fmt.Errorf("security.protocol %q: want PLAINTEXT, SASL_PLAINTEXT, SSL or SASL_SSL", props["security.protocol"])
	}
	var opts []kgo.Opt
	if useTLS {
		cfg, err := tlsConfig(props)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	} else {
		for _, k := range keys {
			if strings.HasPrefix(k, "ssl.") {
				return nil, fmt.Errorf("%s is set but security.protocol %q uses no TLS: set SSL or SASL_SSL", k, proto)
			}
		}
	}
	if !useSASL {
		for _, k := range []string{"sasl.mechanism", "sasl.username", "sasl.password.file"} {
			if props[k] != "" {
				return nil, fmt.Errorf("%s is set but security.protocol %q uses no SASL: set SASL_PLAINTEXT or SASL_SSL", k, proto)
			}
		}
		return opts, nil
	}
	user, file := props["sasl.username"], props["sasl.password.file"]
	if user == "" || file == "" {
		return nil, fmt.Errorf("security.protocol %s needs sasl.username and sasl.password.file", proto)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("sasl.password.file: %w", err)
	}
	pass, _, _ := strings.Cut(string(b), "\n")
	pass = strings.TrimSuffix(pass, "\r")
	if pass == "" {
		return nil, fmt.Errorf("sasl.password.file %q is empty", file)
	}
	switch mech := strings.ToUpper(props["sasl.mechanism"]); mech {
	case "", "PLAIN":
		opts = append(opts, kgo.SASL(plain.Auth{User: user, Pass: pass}.AsMechanism()))
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()))
	default:
		return nil, fmt.Errorf("sasl.mechanism %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", props["sasl.mechanism"])
	}
	return opts, nil
}

// tlsConfig reads the ssl.* properties.
func tlsConfig(props map[string]string) (*tls.Config, error) {
	for _, k := range []string{"ssl.truststore.type", "ssl.keystore.type"} {
		if t := props[k]; t != "" && !strings.EqualFold(t, "PEM") {
			return nil, fmt.Errorf("%s %q: only PEM files are read; convert the store to PEM (keytool -exportcert -rfc for certificates, openssl pkcs12 -nodes for a PKCS12 keystore)", k, t)
		}
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca := props["ssl.truststore.location"]; ca != "" {
		b, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("ssl.truststore.location: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("ssl.truststore.location %q holds no PEM certificate", ca)
		}
	}
	if ks := props["ssl.keystore.location"]; ks != "" {
		b, err := os.ReadFile(ks)
		if err != nil {
			return nil, fmt.Errorf("ssl.keystore.location: %w", err)
		}
		for rest := b; ; {
			var blk *pem.Block
			if blk, rest = pem.Decode(rest); blk == nil {
				break
			}
			if blk.Type == "ENCRYPTED PRIVATE KEY" || blk.Headers["Proc-Type"] != "" {
				return nil, fmt.Errorf("ssl.keystore.location %q holds an encrypted private key: decrypt it (openssl pkcs8 -topk8 -nocrypt) into a file readable only by the job's user", ks)
			}
		}
		cert, err := tls.X509KeyPair(b, b)
		if err != nil {
			return nil, fmt.Errorf("ssl.keystore.location %q: want a PEM certificate chain and its private key: %w", ks, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	switch alg := props["ssl.endpoint.identification.algorithm"]; strings.ToLower(alg) {
	case "https":
	case "":
		if _, set := props["ssl.endpoint.identification.algorithm"]; !set {
			break
		}
		// The chain is still verified; only the host name is not.
		cfg.InsecureSkipVerify = true
		roots := cfg.RootCAs
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the broker sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
			return err
		}
	default:
		return nil, fmt.Errorf("ssl.endpoint.identification.algorithm %q: want https, or \"\" to check the certificate chain but not the host name", alg)
	}
	return cfg, nil
}
