package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Kafka client properties by their Java client names, as
// Flink's KafkaSourceBuilder.setProperty and KafkaSinkBuilder take them (in
// Flink SQL, the "properties.*" options). The ones understood:
//
//	security.protocol   PLAINTEXT (default), SASL_PLAINTEXT, SSL or SASL_SSL
//	sasl.mechanism      PLAIN (default with SASL), SCRAM-SHA-256 or SCRAM-SHA-512
//	sasl.username       the SASL user
//	sasl.password.file  a file holding the password (its first line); the
//	                    password itself is never taken inline, so it stays off
//	                    command lines and out of plans
//	ssl.ca.location     a PEM file of the CAs to trust (default: the system's)
//
// Any other key is an error naming it.
var knownProperties = map[string]bool{
	"security.protocol": true, "sasl.mechanism": true, "sasl.username": true,
	"sasl.password.file": true, "ssl.ca.location": true,
}

// securityOpts turns properties into client options.
func securityOpts(props map[string]string) ([]kgo.Opt, error) {
	var keys []string
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "sasl.password" || k == "sasl.jaas.config" {
			return nil, fmt.Errorf("property %s would put the password in the job's configuration: write it to a file readable only by the job's user and set sasl.password.file", k)
		}
		if !knownProperties[k] {
			return nil, fmt.Errorf("unknown property %q; known: security.protocol, sasl.mechanism, sasl.username, sasl.password.file, ssl.ca.location", k)
		}
	}
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
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if ca := props["ssl.ca.location"]; ca != "" {
			pem, err := os.ReadFile(ca)
			if err != nil {
				return nil, fmt.Errorf("ssl.ca.location: %w", err)
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("ssl.ca.location %q holds no PEM certificate", ca)
			}
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	} else if props["ssl.ca.location"] != "" {
		return nil, fmt.Errorf("ssl.ca.location is set but security.protocol %q uses no TLS: set SSL or SASL_SSL", proto)
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
