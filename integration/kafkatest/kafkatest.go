// Package kafkatest starts the real Kafka broker of scripts/kafka.sh for
// tests and talks to it: topics, records in, committed records out. A test
// binary starts one broker in TestMain and shares it.
package kafkatest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Broker is a running broker.
type Broker struct {
	Bootstrap string
	// SASLBootstrap is the SASL_PLAINTEXT listener, for user SASLUser with
	// password SASLPassword, by PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512.
	SASLBootstrap string
	// SSLBootstrap is the SSL listener, which requires a client certificate
	// (ClientPEM); SASLSSLBootstrap is SASL over TLS, for SASLUser. The
	// broker's certificate, for 127.0.0.1, is signed by the CA of CAPEM.
	SSLBootstrap, SASLSSLBootstrap string
	// CAPEM is the CA certificate to trust; ClientPEM a client's certificate
	// and unencrypted key, both PEM files.
	CAPEM, ClientPEM string
	dir              string
	script           string
}

// The SASL user of every test broker.
const (
	SASLUser     = "spate"
	SASLPassword = "spate-secret"
)

// script is scripts/kafka.sh of this module.
func script() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "scripts", "kafka.sh")
}

// Start starts a broker with a fresh log directory under a new temporary
// directory.
func Start() (*Broker, error) {
	dir, err := os.MkdirTemp("", "spate-kafka-")
	if err != nil {
		return nil, err
	}
	b := &Broker{dir: dir, script: script()}
	cmd := exec.Command("bash", b.script, "start", dir)
	cmd.Env = append(os.Environ(), "SPATE_KAFKA_SASL_USER="+SASLUser+":"+SASLPassword, "SPATE_KAFKA_TLS=1",
		// A test binary killed by its -timeout runs no Stop: the broker
		// follows it.
		"SPATE_KAFKA_LIFELINE_PID="+strconv.Itoa(os.Getpid()))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("scripts/kafka.sh start: %v\n%s", err, stderr.String())
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "KAFKA_BOOTSTRAP_SERVERS="); ok {
			b.Bootstrap = v
		}
		if v, ok := strings.CutPrefix(line, "KAFKA_SASL_BOOTSTRAP_SERVERS="); ok {
			b.SASLBootstrap = v
		}
		if v, ok := strings.CutPrefix(line, "KAFKA_SSL_BOOTSTRAP_SERVERS="); ok {
			b.SSLBootstrap = v
		}
		if v, ok := strings.CutPrefix(line, "KAFKA_SASL_SSL_BOOTSTRAP_SERVERS="); ok {
			b.SASLSSLBootstrap = v
		}
		if v, ok := strings.CutPrefix(line, "KAFKA_TLS_DIR="); ok {
			b.CAPEM, b.ClientPEM = filepath.Join(v, "ca.pem"), filepath.Join(v, "client.pem")
		}
	}
	if b.Bootstrap == "" {
		b.Stop()
		return nil, fmt.Errorf("scripts/kafka.sh start printed no KAFKA_BOOTSTRAP_SERVERS: %q", out)
	}
	return b, nil
}

// Restart stops the broker and starts it again on the same log directory
// and ports: clients see a broker restart.
func (b *Broker) Restart() error {
	out, err := exec.Command("bash", b.script, "restart", b.dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("scripts/kafka.sh restart: %v\n%s", err, out)
	}
	return nil
}

// Stop stops the broker and removes its directory.
func (b *Broker) Stop() {
	exec.Command("bash", b.script, "stop", b.dir).Run()
	os.RemoveAll(b.dir)
}

// Client returns a client of the broker; close it.
func (b *Broker) Client(opts ...kgo.Opt) (*kgo.Client, error) {
	return kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Bootstrap), kgo.MetadataMinAge(100 * time.Millisecond)}, opts...)...)
}

// CreateTopic creates topic with partitions partitions.
func (b *Broker) CreateTopic(ctx context.Context, topic string, partitions int) error {
	cl, err := b.Client()
	if err != nil {
		return err
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, int32(partitions), 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	return nil
}

// AddPartitions grows topic to partitions partitions.
func (b *Broker) AddPartitions(ctx context.Context, topic string, partitions int) error {
	cl, err := b.Client()
	if err != nil {
		return err
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).UpdatePartitions(ctx, partitions, topic)
	if err == nil {
		err = resp.Error()
	}
	return err
}

// KV is a record's key and value.
type KV struct{ Key, Value string }

// Produce writes records to topic (partitioned by key) and waits for them.
func (b *Broker) Produce(ctx context.Context, topic string, records []KV) error {
	cl, err := b.Client(kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))
	if err != nil {
		return err
	}
	defer cl.Close()
	rs := make([]*kgo.Record, len(records))
	for i, kv := range records {
		rs[i] = &kgo.Record{Topic: topic, Key: []byte(kv.Key), Value: []byte(kv.Value)}
	}
	return cl.ProduceSync(ctx, rs...).FirstErr()
}

// ProduceTo writes values to one partition of topic and waits for them.
func (b *Broker) ProduceTo(ctx context.Context, topic string, partition int32, values []string) error {
	cl, err := b.Client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return err
	}
	defer cl.Close()
	rs := make([]*kgo.Record, len(values))
	for i, v := range values {
		rs[i] = &kgo.Record{Topic: topic, Partition: partition, Value: []byte(v)}
	}
	return cl.ProduceSync(ctx, rs...).FirstErr()
}

// ReadCommitted returns the values of every committed record of topic,
// sorted, once no transaction is open on it: a commit (or abort) returns
// before the broker has written its markers, and until it has, a
// read_committed consumer does not see the transaction's records. A
// transaction that stays open until ctx is done is an error.
func (b *Broker) ReadCommitted(ctx context.Context, topic string) ([]string, error) {
	return b.readCommitted(ctx, topic, true)
}

// ReadCommittedNow returns the values of the committed records of topic that
// a read_committed consumer sees now (up to the first open transaction),
// sorted.
func (b *Broker) ReadCommittedNow(ctx context.Context, topic string) ([]string, error) {
	return b.readCommitted(ctx, topic, false)
}

func (b *Broker) readCommitted(ctx context.Context, topic string, settled bool) ([]string, error) {
	cl, err := b.Client()
	if err != nil {
		return nil, err
	}
	adm := kadm.NewClient(cl)
	var ends kadm.ListedOffsets
	for {
		if ends, err = adm.ListCommittedOffsets(ctx, topic); err != nil {
			break
		}
		if !settled {
			break
		}
		var hw kadm.ListedOffsets
		if hw, err = adm.ListEndOffsets(ctx, topic); err != nil {
			break
		}
		open := ""
		ends.Each(func(o kadm.ListedOffset) {
			if h, ok := hw.Lookup(topic, o.Partition); ok && h.Offset != o.Offset {
				open = fmt.Sprintf("partition %d: stable up to %d of %d", o.Partition, o.Offset, h.Offset)
			}
		})
		if open == "" {
			break
		}
		select {
		case <-ctx.Done():
			err = fmt.Errorf("read %s: a transaction is still open (%s): %w", topic, open, ctx.Err())
		case <-time.After(20 * time.Millisecond):
			continue
		}
		break
	}
	cl.Close()
	if err != nil {
		return nil, err
	}
	want := map[int32]int64{}
	parts := map[string]map[int32]kgo.Offset{topic: {}}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
			parts[topic][o.Partition] = kgo.NewOffset().AtStart()
		}
	})
	var out []string
	if len(want) == 0 {
		return out, nil
	}
	cl, err = b.Client(kgo.ConsumePartitions(parts), kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w (%d records so far, partitions left %v)", topic, err, len(out), want)
		}
		if errs := fs.Errors(); len(errs) > 0 {
			return nil, fmt.Errorf("read %s: %v", topic, errs[0].Err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			end, ok := want[r.Partition]
			if !ok || r.Offset >= end {
				return
			}
			if !r.Attrs.IsControl() {
				out = append(out, string(r.Value))
			}
			if r.Offset+1 >= end {
				delete(want, r.Partition)
			}
		})
	}
	sort.Strings(out)
	return out, nil
}
