package kafka

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
)

// OffsetsInitializer says where a partition starts (SetStartingOffsets) or
// where a bounded source stops (SetBounded): Flink's OffsetsInitializer.
// Earliest, Latest, Committed, Timestamp and Offsets build one.
type OffsetsInitializer struct {
	kind      offsetsKind
	timestamp int64                    // Timestamp
	offsets   map[TopicPartition]int64 // Offsets
	reset     *OffsetsInitializer      // Committed: where partitions without a committed offset start
}

type offsetsKind int

const (
	earliest offsetsKind = iota
	latest
	committed
	timestamp
	specific
)

// Earliest is each partition's first offset still in the log.
func Earliest() OffsetsInitializer { return OffsetsInitializer{kind: earliest} }

// Latest is each partition's end offset when the source looks it up: for a
// read_committed source, the last stable offset (the end of the committed
// transactions).
func Latest() OffsetsInitializer { return OffsetsInitializer{kind: latest} }

// Committed is the consumer group's committed offset (SetGroupID is then
// required); a partition without one starts at reset (Earliest or Latest).
func Committed(reset OffsetsInitializer) OffsetsInitializer {
	return OffsetsInitializer{kind: committed, reset: &reset}
}

// Timestamp is, per partition, the first offset whose record timestamp is at
// or after ms (milliseconds since the epoch), or the end offset if none is.
func Timestamp(ms int64) OffsetsInitializer {
	return OffsetsInitializer{kind: timestamp, timestamp: ms}
}

// Offsets gives the offset of each partition; a partition not in the map
// starts at Earliest.
func Offsets(offsets map[TopicPartition]int64) OffsetsInitializer {
	return OffsetsInitializer{kind: specific, offsets: offsets}
}

func (o OffsetsInitializer) String() string {
	switch o.kind {
	case earliest:
		return "earliest"
	case latest:
		return "latest"
	case committed:
		return "committed offsets (else " + o.reset.String() + ")"
	case timestamp:
		return fmt.Sprintf("timestamp %d", o.timestamp)
	}
	return "given offsets"
}

// resolve looks up the offsets of tps.
func (o OffsetsInitializer) resolve(ctx context.Context, adm *kadm.Client, group string, readCommitted bool, tps []TopicPartition) (map[TopicPartition]int64, error) {
	out := make(map[TopicPartition]int64, len(tps))
	if len(tps) == 0 {
		return out, nil
	}
	topics := map[string]bool{}
	for _, tp := range tps {
		topics[tp.Topic] = true
	}
	var names []string
	for t := range topics {
		names = append(names, t)
	}
	from := func(l kadm.ListedOffsets, err error) error {
		if err != nil {
			return err
		}
		if err := l.Error(); err != nil {
			return err
		}
		for _, tp := range tps {
			lo, ok := l.Lookup(tp.Topic, tp.Partition)
			if !ok {
				return fmt.Errorf("no offset listed for partition %s", tp)
			}
			out[tp] = lo.Offset
		}
		return nil
	}
	switch o.kind {
	case earliest:
		return out, from(adm.ListStartOffsets(ctx, names...))
	case latest:
		if readCommitted {
			return out, from(adm.ListCommittedOffsets(ctx, names...))
		}
		return out, from(adm.ListEndOffsets(ctx, names...))
	case timestamp:
		return out, from(adm.ListOffsetsAfterMilli(ctx, o.timestamp, names...))
	case specific:
		var rest []TopicPartition
		for _, tp := range tps {
			if off, ok := o.offsets[tp]; ok {
				out[tp] = off
			} else {
				rest = append(rest, tp)
			}
		}
		more, err := Earliest().resolve(ctx, adm, group, readCommitted, rest)
		for tp, off := range more {
			out[tp] = off
		}
		return out, err
	case committed:
		if group == "" {
			return nil, errors.New("starting offsets Committed need a consumer group: call SetGroupID")
		}
		resp, err := adm.FetchOffsets(ctx, group)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return nil, fmt.Errorf("fetch the committed offsets of group %q: %w", group, err)
		}
		var rest []TopicPartition
		for _, tp := range tps {
			if or, ok := resp.Lookup(tp.Topic, tp.Partition); ok && or.At >= 0 {
				out[tp] = or.At
			} else {
				rest = append(rest, tp)
			}
		}
		more, err := o.reset.resolve(ctx, adm, group, readCommitted, rest)
		for tp, off := range more {
			out[tp] = off
		}
		return out, err
	}
	return nil, fmt.Errorf("unknown offsets initializer %d", o.kind)
}
