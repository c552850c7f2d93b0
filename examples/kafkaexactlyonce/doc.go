// Command kafkaexactlyonce is the end-to-end check of Spate's Kafka
// connectors, with this contract (other checks depend on it):
//
//	kafkaexactlyonce --bootstrap HOST:PORT --in TOPIC --out TOPIC [--group G] [--failures F]
//	    [--checkpoint-interval MS] [--parallelism P] [--bounded]
//
// It reads lines "key,seq" from --in with the KafkaSource (read_committed;
// with --group, offsets are committed back to that group for monitoring),
// checks with keyed state that each key's numbers arrive as previous+1 (and
// fails for good if not), and writes each line unchanged, keyed by its key,
// to --out with the exactly-once KafkaSink. The producer of --in must keep
// each key's lines in order, i.e. in one partition (key them by the key).
//
// It injects F failures as exactlyonce does: a panic at most once per
// execution attempt, after a checkpoint of that attempt completed, recovered
// by the fixed-delay restart strategy with F attempts. --fail-in chooses the
// place: process (while processing a record, the default), snapshot (while a
// checkpoint is taken) or commit (after a checkpoint completed and before the
// sink, chained behind the checker, commits its transactions: the recovery
// commits them from the checkpoint).
//
// With --bounded the job ends when it reaches the end offsets seen at start,
// and exits 0. The last stdout line is
//
//	kafkaexactlyonce: N records, F failures injected, R recoveries
//
// where N sums, over the keys, the highest sequence number this process saw.
// A read_committed consumer of --out then sees every "key,seq" exactly once.
// Without --bounded the job runs until cancelled (Ctrl-C keeps its latest
// checkpoint: `spate run --resume latest` goes on from there).
//
// Extra flag: --throttle R slows the source down to about R records per
// second, so that a short input spans several checkpoints (a bounded source
// that has read all its input takes part in no further checkpoint); it sets
// execution.batch-size to 16, unless set, so barriers pass between batches.
//
// Try it on the broker of scripts/kafka.sh:
//
//	eval "export $(scripts/kafka.sh start)"
//	go run ./examples/kafkaexactlyonce --bootstrap $KAFKA_BOOTSTRAP_SERVERS --in in --out out --bounded
package main
