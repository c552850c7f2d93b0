package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kgo"
)

// sinkPartitioner is the sink's franz-go partitioner: a record whose
// Context says how (an explicit partition, or the user's Partitioner) goes
// there; any other by the murmur2 hash of its key as Kafka's Java client
// does, sticky for records without a key.
type sinkPartitioner struct{}

func (sinkPartitioner) ForTopic(topic string) kgo.TopicPartitioner {
	keyed := kgo.StickyKeyPartitioner(nil).ForTopic(topic)
	nb, _ := keyed.(kgo.TopicPartitionerOnNewBatch)
	return &topicPartitioner{keyed: keyed, onNewBatch: nb}
}

type topicPartitioner struct {
	keyed      kgo.TopicPartitioner
	onNewBatch kgo.TopicPartitionerOnNewBatch
}

// partitionPicker is the Context of a record the key does not place.
type partitionPicker interface {
	pick(r *kgo.Record, n int) int
}

// explicitPartition places a record in its Partition field.
var explicitPartition = explicit{context.Background()}

type explicit struct{ context.Context }

func (explicit) pick(r *kgo.Record, _ int) int { return int(r.Partition) }

// userPartition carries what a user's Partitioner is asked with until the
// producer knows the topic's partitions.
type userPartition[T any] struct {
	context.Context
	v T
	r ProducerRecord
	p Partitioner[T]
}

func (u *userPartition[T]) pick(_ *kgo.Record, n int) int { return u.p(u.v, &u.r, n) }

func (t *topicPartitioner) RequiresConsistency(r *kgo.Record) bool {
	_, chosen := r.Context.(partitionPicker)
	return chosen || t.keyed.RequiresConsistency(r)
}

func (t *topicPartitioner) Partition(r *kgo.Record, n int) int {
	if p, ok := r.Context.(partitionPicker); ok {
		return p.pick(r, n)
	}
	return t.keyed.Partition(r, n)
}

// OnNewBatch keeps keyless records sticky to one partition per batch.
func (t *topicPartitioner) OnNewBatch() {
	if t.onNewBatch != nil {
		t.onNewBatch.OnNewBatch()
	}
}

var (
	_ kgo.Partitioner                = sinkPartitioner{}
	_ kgo.TopicPartitionerOnNewBatch = (*topicPartitioner)(nil)
)
