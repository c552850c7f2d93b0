package kafka

import "math"

// partitionWatermarks computes a source subtask's watermark from its
// partitions (Flink's per-split watermarks): each partition's own watermark is
// the highest timestamp it delivered minus the out-of-orderness bound minus
// 1 ms, and the subtask's is the lowest over the partitions that are not
// idle. A partition is idle when it delivered nothing for the idleness
// timeout (0: never idle), so a partition without traffic does not hold event
// time back. As in Flink's idleness timer, the timeout runs from the last
// Current that found no new record of the partition: a partition that
// delivered since the previous Current is active however late this one comes
// (a task blocked by back-pressure does not turn its busy partitions idle).
// It is a pure core: the caller passes the clock.
type partitionWatermarks struct {
	outOfOrderness, idleness int64 // ms
	parts                    map[TopicPartition]*partitionClock
	emitted                  int64 // the highest watermark returned, which never goes back
}

type partitionClock struct {
	maxTs    int64 // highest timestamp delivered, math.MinInt64 before the first
	lastSeen int64 // processing time (ms) of the last Current that found a record, or of the assignment
	seen     bool  // a record arrived since the last Current
}

func newPartitionWatermarks(outOfOrderness, idleness int64) *partitionWatermarks {
	return &partitionWatermarks{outOfOrderness: outOfOrderness, idleness: idleness,
		parts: map[TopicPartition]*partitionClock{}, emitted: math.MinInt64}
}

// Add starts tracking tp at processing time now; a new partition counts as
// active until the idleness timeout passes without records.
func (w *partitionWatermarks) Add(tp TopicPartition, now int64) {
	if _, ok := w.parts[tp]; !ok {
		w.parts[tp] = &partitionClock{maxTs: math.MinInt64, lastSeen: now}
	}
}

// Remove stops tracking tp (a bounded partition that reached its end).
func (w *partitionWatermarks) Remove(tp TopicPartition) { delete(w.parts, tp) }

// Observe records a record of tp with event time ts seen at processing time now.
func (w *partitionWatermarks) Observe(tp TopicPartition, ts, now int64) {
	c, ok := w.parts[tp]
	if !ok {
		c = &partitionClock{maxTs: math.MinInt64}
		w.parts[tp] = c
	}
	c.maxTs = max(c.maxTs, ts)
	c.lastSeen = max(c.lastSeen, now)
	c.seen = true
}

// Current returns the watermark at processing time now, and whether every
// partition is idle (then the watermark is not advanced: the stream is idle).
// ok is false when the watermark did not advance since the last call.
func (w *partitionWatermarks) Current(now int64) (wm int64, idle, ok bool) {
	low, active := int64(math.MaxInt64), 0
	for _, c := range w.parts {
		if c.seen {
			c.seen, c.lastSeen = false, max(c.lastSeen, now)
		} else if w.idleness > 0 && now-c.lastSeen >= w.idleness {
			continue
		}
		active++
		p := int64(math.MinInt64)
		if c.maxTs != math.MinInt64 {
			p = c.maxTs - w.outOfOrderness - 1
		}
		low = min(low, p)
	}
	if active == 0 {
		return w.emitted, len(w.parts) > 0 || w.idleness > 0, false
	}
	if low <= w.emitted {
		return w.emitted, false, false
	}
	w.emitted = low
	return low, false, true
}
