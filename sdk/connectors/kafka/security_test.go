package kafka_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spate-io/spate/integration/kafkatest"
	"github.com/spate-io/spate/sdk"
	"github.com/spate-io/spate/sdk/connectors/kafka"
)

// TestTLS reads and writes exactly-once over the broker's SSL listener
// (client certificates required) and its SASL_SSL listener, with the
// properties from SetProperty or from the job's properties.* configuration
// keys; a missing client certificate, an untrusted broker and a wrong
// password are each a clear error.
func TestTLS(t *testing.T) {
	pass := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pass, []byte(kafkatest.SASLPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mtls := map[string]string{
		"security.protocol":       "SSL",
		"ssl.truststore.location": broker.CAPEM,
		"ssl.keystore.location":   broker.ClientPEM,
	}
	saslSSL := map[string]string{
		"security.protocol":       "SASL_SSL",
		"sasl.mechanism":          "SCRAM-SHA-512",
		"sasl.username":           kafkatest.SASLUser,
		"sasl.password.file":      pass,
		"ssl.truststore.location": broker.CAPEM,
	}
	with := func(m map[string]string, k, v string) map[string]string {
		n := map[string]string{}
		for a, b := range m {
			n[a] = b
		}
		if v == "" {
			delete(n, k)
		} else {
			n[k] = v
		}
		return n
	}
	noHost := with(mtls, "ssl.endpoint.identification.algorithm", "x")
	noHost["ssl.endpoint.identification.algorithm"] = ""
	// run copies in to a new topic through a job whose source and sink get
	// props by SetProperty or, config, by the job's configuration.
	run := func(t *testing.T, bootstrap string, props map[string]string, config bool) ([]string, error) {
		in, out := topic(t, 2), topic(t, 2)
		want := lines(t, in, 4, 5)
		settings := map[string]string{"execution.checkpointing.interval": "40 ms"}
		src := kafka.NewSourceBuilder[string]().SetBootstrapServers(bootstrap).SetTopics(in).SetBounded(kafka.Latest()).
			SetDeserializer(kafka.StringValue()).SetConnectTimeout(5 * time.Second)
		snk := kafka.NewSinkBuilder[string]().SetBootstrapServers(bootstrap).SetRecordSerializer(kafka.StringValueTo(out)).
			SetDeliveryGuarantee(kafka.ExactlyOnce).SetTransactionTimeout(time.Minute).SetConnectTimeout(5 * time.Second)
		for k, v := range props {
			if config {
				settings[kafka.ConfigPrefix+k] = v
			} else {
				src.SetProperty(k, v)
				snk.SetProperty(k, v)
			}
		}
		s, err := src.Build()
		if err != nil {
			t.Fatal(err)
		}
		k, err := snk.Build()
		if err != nil {
			t.Fatal(err)
		}
		e := env(t, settings)
		kafka.SinkTo(kafka.FromSource(e, s, "Source: kafka"), k, "Sink: kafka")
		if _, err := e.Execute(ctx(t), "tls"); err != nil {
			return nil, err
		}
		sameLines(t, readCommitted(t, out), want)
		return want, nil
	}
	for _, c := range []struct {
		name      string
		bootstrap string
		props     map[string]string
		config    bool
		want      string // the error, if any
		is        error
	}{
		{"SSL/SetProperty", broker.SSLBootstrap, mtls, false, "", nil},
		{"SSL/configuration", broker.SSLBootstrap, mtls, true, "", nil},
		{"SSL/no host name check", broker.SSLBootstrap, noHost, true, "", nil},
		{"SASL_SSL/configuration", broker.SASLSSLBootstrap, saslSSL, true, "", nil},
		{"SASL_SSL/SetProperty", broker.SASLSSLBootstrap, with(saslSSL, "sasl.mechanism", "PLAIN"), false, "", nil},
		{"SSL/no client certificate", broker.SSLBootstrap, with(mtls, "ssl.keystore.location", ""), true,
			"kafka: TLS handshake failed with " + broker.SSLBootstrap + ": remote error: tls: ", kafka.ErrTLS},
		{"SSL/untrusted broker", broker.SSLBootstrap, with(mtls, "ssl.truststore.location", ""), true,
			"kafka: TLS handshake failed with " + broker.SSLBootstrap + ": tls: failed to verify certificate: x509: certificate signed by unknown authority; check ssl.truststore.location", kafka.ErrTLS},
		{"SASL_SSL/wrong password", broker.SASLSSLBootstrap, with(saslSSL, "sasl.password.file", broker.CAPEM), true,
			"check sasl.mechanism, sasl.username and sasl.password.file", kafka.ErrAuthentication},
		{"SSL/JKS", broker.SSLBootstrap, with(mtls, "ssl.truststore.type", "JKS"), false,
			`ssl.truststore.type "JKS": only PEM files are read; convert the store to PEM`, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := run(t, c.bootstrap, c.props, c.config)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || c.is != nil && !errors.Is(err, c.is) {
				t.Fatalf("error %v, want %q (%v)", err, c.want, c.is)
			}
		})
	}
}

// TestSecretsStayInFiles: the properties that would hold a secret inline
// are refused, naming what to do instead.
func TestSecretsStayInFiles(t *testing.T) {
	for k, want := range map[string]string{
		"sasl.jaas.config":      "property sasl.jaas.config would put a secret in the job's configuration: set sasl.mechanism, sasl.username and sasl.password.file",
		"ssl.key.password":      "property ssl.key.password would put a secret in the job's configuration: decrypt the key (openssl pkcs8 -topk8 -nocrypt)",
		"ssl.keystore.password": "property ssl.keystore.password would put a secret in the job's configuration: convert the keystore to a PEM file",
		"ssl.cipher.suites":     `unknown property "ssl.cipher.suites"; known: sasl.mechanism, sasl.password.file`,
	} {
		_, err := kafka.NewSinkBuilder[string]().SetBootstrapServers(broker.Bootstrap).SetRecordSerializer(kafka.StringValueTo("x")).
			SetProperty(k, "x").Build()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", k, err, want)
		}
	}
	// A bad value in the configuration is refused when the job starts.
	e := env(t, map[string]string{"properties.sasl.username": "u"})
	src, err := kafka.NewSourceBuilder[string]().SetBootstrapServers(broker.Bootstrap).SetTopics("x").SetDeserializer(kafka.StringValue()).Build()
	if err != nil {
		t.Fatal(err)
	}
	sdk.Collect(kafka.FromSource(e, src, "Source: kafka"))
	_, err = e.Execute(ctx(t), "bad")
	want := `kafka source: sasl.username is set but security.protocol "" uses no SASL: set SASL_PLAINTEXT or SASL_SSL (from SetProperty or the properties.* configuration keys)`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
}
