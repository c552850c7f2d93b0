package kafka

import "fmt"

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return fmt.Sprintf("%s-%d", tp.Topic, tp.Partition) }

// javaStringHash is Java's String.hashCode over UTF-16 code units, so that
// partitions go to the same subtasks as under Flink's KafkaSource.
func javaStringHash(s string) int32 {
	var h int32
	for _, r := range s {
		if r >= 0x10000 { // a surrogate pair in Java
			r -= 0x10000
			h = 31*h + int32(0xD800+(r>>10))
			h = 31*h + int32(0xDC00+(r&0x3FF))
			continue
		}
		h = 31*h + int32(r)
	}
	return h
}

// Owner is the subtask, of parallelism, that reads tp: Flink's
// KafkaSourceEnumerator.getSplitOwner. A topic's partitions go round-robin
// from a start subtask that its name picks, so consecutive partitions land on
// different subtasks and several topics spread evenly. Every subtask computes
// it alone, the same way: after a rescale or the discovery of a new partition
// each partition still has exactly one owner, without a coordinator.
func Owner(tp TopicPartition, parallelism int) int {
	start := int((javaStringHash(tp.Topic)*31)&0x7FFFFFFF) % parallelism
	return (start + int(tp.Partition)) % parallelism
}
