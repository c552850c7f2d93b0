// Package kafka holds Spate's Kafka connectors, with the semantics of Flink's
// KafkaSource and KafkaSink, on github.com/twmb/franz-go.
//
// # Reading: KafkaSource
//
//	src, err := kafka.NewSourceBuilder[string]().
//		SetBootstrapServers("broker:9092").
//		SetTopics("orders").                  // or SetTopicPattern, SetPartitions
//		SetGroupID("orders-job").             // offsets committed back, for lag monitoring
//		SetStartingOffsets(kafka.Committed(kafka.Earliest())).
//		SetBounded(kafka.Latest()).           // optional: end at the end offsets seen at start
//		SetDeserializer(kafka.StringValue()). // BytesValue, JSONValue, AvroValue, or a func
//		Build()
//	lines := kafka.FromSource(env, src, "Source: orders").UID("orders")
//
// Partitions are dealt to the subtasks by Owner (Flink's rule: round-robin
// from a start subtask that the topic's name picks). Every subtask computes
// it on its own, so there is no coordinator: a partition found by discovery
// (SetPartitionDiscoveryInterval, unbounded sources) goes to its owner, which
// reads it from its earliest offset.
//
// The source's checkpointed state is, per partition, the offset of the next
// record (and, bounded, where it stops), as union state: a restore at any
// parallelism hands every subtask every partition's offset, and each takes
// those it owns. So a restore, a rescale from a savepoint and a resume with
// `spate run --resume latest` read every record once. Offsets committed to
// the consumer group on checkpoint completion, and by a bounded source when
// it ends, are for monitoring only.
//
// Records carry the Kafka record timestamp as their event time (or
// SetTimestampAssigner's). With SetWatermarks the source emits watermarks per
// partition: the subtask's watermark is the lowest over its partitions that
// are not idle, so a partition without traffic does not hold event time back.
//
// The source reads read_committed by default: the output of an exactly-once
// job upstream is seen once, and never its aborted transactions. Control
// records are kept internally so that a partition ending in a transaction
// marker still reaches its stopping offset.
//
// # Writing: KafkaSink
//
//	snk, err := kafka.NewSinkBuilder[string]().
//		SetBootstrapServers("broker:9092").
//		SetTopic("out").                              // checked to exist at start
//		SetRecordSerializer(kafka.StringValueTo("")). // or JSONValueTo, AvroValueTo, a func
//		SetPartitioner(byRegion).                     // optional: else by the key's hash
//		SetDeliveryGuarantee(kafka.ExactlyOnce).
//		SetTransactionTimeout(15 * time.Minute).
//		Build()
//	kafka.SinkTo(lines, snk, "Sink: out").UID("out")
//
// A record goes to the partition its serializer names, else to the one the
// Partitioner picks, else by the murmur2 hash of its key as Kafka's Java
// client does. A missing output topic fails the job for good
// (ErrMissingTopic): SetTopic's when the sink starts, one only the serializer
// names at its first record.
//
// AtLeastOnce flushes on every checkpoint barrier. ExactlyOnce is a two-phase
// commit driven by checkpoints:
//
//	records       written into the open transaction "<prefix>-<subtask>-<n>"
//	barrier c     flush; (transactional id, producer id, epoch) go into checkpoint c;
//	              transaction n+1 opens
//	c completes   commit every flushed transaction of a checkpoint up to c
//	end of input  flush; committed once the whole job has finished (CommitAtJobEnd)
//	recovery      commit the restored checkpoint's transactions (EndTxn with the
//	              saved producer id and epoch; committing twice is harmless), then
//	              initialize "<prefix>-<s>-<m>" for m = restored n, n+1, ... until an id
//	              that was never used: that aborts what the failed run left open
//
// The default prefix holds the job's lineage (kept across restores and
// resumes) and the operator id, so two jobs never share transactional ids. On
// a rescale, old subtask o's transactions are recovered by new subtask
// o mod p. The transaction timeout must exceed the checkpoint interval plus
// the time a recovery takes: the broker aborts a transaction older than that,
// and its records are lost. SinkTo checks it against
// execution.checkpointing.interval before the job starts, and the broker's
// cap (transaction.max.timeout.ms) is reported when it refuses the timeout.
//
// # Security
//
// SetProperty takes the Java client's names, as Flink's builders do:
//
//	b.SetProperty("security.protocol", "SASL_SSL").   // PLAINTEXT, SASL_PLAINTEXT, SSL, SASL_SSL
//		SetProperty("sasl.mechanism", "SCRAM-SHA-512"). // PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
//		SetProperty("sasl.username", "etl").
//		SetProperty("sasl.password.file", "/etc/spate/kafka.password").
//		SetProperty("ssl.truststore.location", "/etc/spate/ca.pem")
//
// and the job's configuration sets them for every source and sink as Flink
// SQL's "properties.*" options do (spate.yaml, SPATE_PROPERTIES or -D):
//
//	properties.security.protocol: SASL_SSL
//	properties.sasl.mechanism: SCRAM-SHA-512
//	properties.sasl.username: etl
//	properties.sasl.password.file: /etc/spate/kafka.password
//	properties.ssl.truststore.location: /etc/spate/ca.pem
//	properties.ssl.keystore.location: /etc/spate/client.pem  # brokers requiring client certificates
//
// SetProperty wins over the configuration. Certificates and keys are PEM
// files (ssl.truststore.type and ssl.keystore.type PEM). Secrets come from
// files, never inline: sasl.password, sasl.jaas.config and the ssl.*
// passwords are refused, so secrets stay off command lines and out of plans.
// Refused credentials fail with an error wrapping ErrAuthentication.
//
// # Failures
//
// An unreachable broker fails within the connect timeout
// (SetConnectTimeout, default 30 s) with an error wrapping ErrUnreachable; a
// missing topic, a record the deserializer rejects under FailOnError, and a
// transaction timeout the broker refuses fail the job for good
// (sdk.SuppressRestarts), naming what to change. A broker that restarts
// under a running job is ridden out: requests are retried for the connect
// timeout, a failed periodic partition discovery is tried again at the next
// interval (the tenth failure in a row fails the source), and a failure the
// retries do not cover fails over to the last checkpoint. Nothing retries
// forever.
//
// # What this package must never do
//
// It never blocks a task for long: a poll waits at most 100 ms, so barriers
// and cancellation are served; it never commits a transaction before its
// checkpoint completed; and it never aborts a flushed transaction, which a
// recovery may still commit.
//
// Tests run against a real broker: scripts/kafka.sh, started once per test
// binary by integration/kafkatest.
package kafka
