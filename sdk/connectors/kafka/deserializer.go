package kafka

import (
	"encoding/json"
	"fmt"

	"github.com/spate-io/spate/sdk/codec"
)

// Record is a Kafka record as a Deserializer sees it. Key and Value alias
// the fetch buffer: a Deserializer that keeps them must copy them.
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte
	Value     []byte
	Timestamp int64 // milliseconds since the epoch
	Headers   []Header
}

// Header is a record header.
type Header struct {
	Key   string
	Value []byte
}

// Deserializer turns a Kafka record into a T (Flink's
// KafkaRecordDeserializationSchema). An error is handled as the source's
// DeserializationErrors policy says: the job fails naming the record, or the
// record is skipped and counted.
type Deserializer[T any] func(r *Record) (T, error)

// BytesValue is the record's value, copied.
func BytesValue() Deserializer[[]byte] {
	return func(r *Record) ([]byte, error) { return append([]byte(nil), r.Value...), nil }
}

// StringValue is the record's value as a string.
func StringValue() Deserializer[string] {
	return func(r *Record) (string, error) { return string(r.Value), nil }
}

// JSONValue decodes the record's value as JSON into a T (encoding/json).
func JSONValue[T any]() Deserializer[T] {
	return func(r *Record) (T, error) {
		var v T
		err := json.Unmarshal(r.Value, &v)
		return v, err
	}
}

// AvroValue decodes the record's value as the Avro binary encoding of T, with
// the schema sdk/codec derives from T (the bytes AvroValueTo writes). It
// fails at once if T has no Avro schema.
func AvroValue[T any]() (Deserializer[T], error) {
	c, err := codec.For[T]()
	if err != nil {
		return nil, fmt.Errorf("kafka.AvroValue: %w", err)
	}
	return func(r *Record) (T, error) {
		v, rest, err := c.Decode(r.Value)
		if err == nil && len(rest) > 0 {
			err = fmt.Errorf("%d bytes after the Avro value", len(rest))
		}
		return v, err
	}, nil
}

// DeserializationErrors is what a source does with a record its Deserializer
// rejects.
type DeserializationErrors int

const (
	// FailOnError fails the job for good (no restart would read past the
	// record), naming the record's topic, partition and offset. The default.
	FailOnError DeserializationErrors = iota
	// SkipOnError drops the record, counts it (KafkaSource.Skipped) and logs
	// the first few.
	SkipOnError
)
