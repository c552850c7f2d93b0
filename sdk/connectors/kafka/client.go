package kafka

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrUnreachable is wrapped by the error of a source or sink that could not
// reach a broker within its connect timeout.
var ErrUnreachable = errors.New("kafka: no broker reachable")

// ErrTLS is wrapped by the error of a source or sink whose TLS handshake
// with a broker failed: a certificate not trusted, or one the broker wanted
// and did not get.
var ErrTLS = errors.New("kafka: TLS handshake failed")

// ErrAuthentication is wrapped by the error of a source or sink whose SASL
// credentials the broker refused.
var ErrAuthentication = errors.New("kafka: authentication failed")

// connection is what the source and the sink share: where the brokers are and
// how long to try to reach them.
type connection struct {
	bootstrap      []string
	connectTimeout time.Duration
	properties     map[string]string
	security       []kgo.Opt // from properties, by check
	extra          []kgo.Opt
}

func (c *connection) check(what string) error {
	// The properties are checked together with the job's configuration,
	// which may set the rest of them, before the job starts (configure); a
	// name that can never be right fails here.
	if err := checkNames(c.properties); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if len(c.bootstrap) == 0 {
		return fmt.Errorf("%s: no bootstrap servers: call SetBootstrapServers(\"host:port,...\")", what)
	}
	for _, s := range c.bootstrap {
		if !strings.Contains(s, ":") {
			return fmt.Errorf("%s: bootstrap server %q must be host:port", what, s)
		}
	}
	return nil
}

func (c connection) opts(more ...kgo.Opt) []kgo.Opt {
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.bootstrap...),
		// The first produce after a topic is created otherwise waits for
		// the 5 s default metadata age.
		kgo.MetadataMinAge(250 * time.Millisecond),
		kgo.DialTimeout(min(c.connectTimeout, 10*time.Second)),
		// A request is retried for at most the connect timeout, then fails
		// with an error instead of retrying forever.
		kgo.RetryTimeout(c.connectTimeout),
	}
	opts = append(opts, c.security...)
	opts = append(opts, more...)
	return append(opts, c.extra...)
}

// ping fails with ErrUnreachable, naming the servers, when no broker answers
// a metadata request within the connect timeout.
func (c connection) ping(ctx context.Context, cl *kgo.Client) error {
	ctx, cancel := context.WithTimeout(ctx, c.connectTimeout)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		if cerr := c.credentialsError(err); cerr != nil {
			return cerr
		}
		return fmt.Errorf("%w at %s within %s (%v): check the bootstrap servers and that the brokers run", ErrUnreachable, strings.Join(c.bootstrap, ","), c.connectTimeout, err)
	}
	return nil
}

// credentialsError says what to check when err is a failed TLS handshake or
// refused SASL credentials, and is nil for any other error.
func (c connection) credentialsError(err error) error {
	if tlsErr := handshakeError(err); tlsErr != nil {
		return fmt.Errorf("%w with %s: %v; check ssl.truststore.location, ssl.keystore.location and that security.protocol matches the listener", ErrTLS, strings.Join(c.bootstrap, ","), tlsErr)
	}
	if errors.Is(err, kerr.SaslAuthenticationFailed) || errors.Is(err, kerr.IllegalSaslState) || errors.Is(err, kerr.UnsupportedSaslMechanism) {
		return fmt.Errorf("%w at %s: %v; check sasl.mechanism, sasl.username and sasl.password.file", ErrAuthentication, strings.Join(c.bootstrap, ","), err)
	}
	return nil
}

// handshakeError returns the TLS failure within err, if any: a broker
// certificate that does not verify, or an alert the broker sent (it wanted a
// client certificate, or refused ours).
func handshakeError(err error) error {
	var verify *tls.CertificateVerificationError
	if errors.As(err, &verify) {
		return verify
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" {
		return op
	}
	var rec tls.RecordHeaderError
	if errors.As(err, &rec) {
		return rec
	}
	return nil
}

// topicError is listPartitions' error for a topic that does not exist (or
// may not be read): no restart helps, unlike a broker that did not answer.
type topicError struct{ error }

func (e *topicError) Unwrap() error { return e.error }

// listPartitions returns the partitions of topics, or of the topics whose
// names match pattern. A topic that does not exist is an error naming it.
func listPartitions(ctx context.Context, adm *kadm.Client, topics []string, match func(string) bool) ([]TopicPartition, error) {
	var det kadm.TopicDetails
	var err error
	if match != nil {
		det, err = adm.ListTopics(ctx)
	} else {
		det, err = adm.ListTopics(ctx, topics...)
	}
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	var out []TopicPartition
	for _, d := range det.Sorted() {
		if match != nil && !match(d.Topic) {
			continue
		}
		if d.Err != nil {
			return nil, &topicError{fmt.Errorf("topic %q: %w; create it, or fix the topic names", d.Topic, d.Err)}
		}
		for _, p := range d.Partitions.Numbers() {
			out = append(out, TopicPartition{Topic: d.Topic, Partition: p})
		}
	}
	return out, nil
}
