package task

import (
	"github.com/spate-io/spate/worker/network"
)

// BarrierHandler aligns checkpoint barriers over every channel of a task's
// inputs (Carbone et al., asynchronous barrier snapshots).
//
// Exactly-once: a channel that delivered the barrier of checkpoint n is blocked
// until every other open channel delivered it too, so the snapshot holds exactly
// the records before the barrier. At-least-once: nothing is blocked; the
// snapshot is taken when the last barrier arrives, and records after an early
// barrier may be in it and replayed after a failure.
//
// A barrier of a newer checkpoint before alignment completes abandons the older
// one (its snapshot is never taken; the coordinator times it out or sees the
// decline). An ended channel counts as aligned.
type BarrierHandler struct {
	exactlyOnce bool
	gates       []Gate
	offsets     []int // first flat index of each input's channels
	ended       []bool
	seen        []bool
	current     int64
	barrier     network.Event
	count       int
	aligning    bool
	// snapshot takes the checkpoint once aligned and forwards the barrier.
	snapshot func(barrier network.Event) error
}

// NewBarrierHandler returns a handler over the channels of gates.
func NewBarrierHandler(gates []Gate, exactlyOnce bool, snapshot func(network.Event) error) *BarrierHandler {
	h := &BarrierHandler{exactlyOnce: exactlyOnce, gates: gates, snapshot: snapshot}
	n := 0
	for _, g := range gates {
		h.offsets = append(h.offsets, n)
		n += g.NumChannels()
	}
	h.ended, h.seen = make([]bool, n), make([]bool, n)
	return h
}

// OnBarrier handles the barrier e arriving on channel ch of input.
func (h *BarrierHandler) OnBarrier(input, ch int, e network.Event) error {
	i := h.offsets[input] + ch
	switch {
	case e.CheckpointID < h.current || (e.CheckpointID == h.current && !h.aligning):
		return nil // a stale barrier of an abandoned or finished checkpoint
	case e.CheckpointID > h.current:
		h.release()
		h.current, h.barrier, h.aligning, h.count = e.CheckpointID, e, true, 0
		clear(h.seen)
	}
	if h.seen[i] {
		return nil
	}
	h.seen[i] = true
	h.count++
	if h.exactlyOnce {
		h.gates[input].BlockChannel(ch)
	}
	return h.maybeComplete()
}

// OnEndOfPartition records that channel ch of input ended.
func (h *BarrierHandler) OnEndOfPartition(input, ch int) error {
	i := h.offsets[input] + ch
	h.ended[i] = true
	if h.aligning && !h.seen[i] {
		return h.maybeComplete()
	}
	return nil
}

func (h *BarrierHandler) maybeComplete() error {
	for i := range h.seen {
		if !h.seen[i] && !h.ended[i] {
			return nil
		}
	}
	h.aligning = false
	err := h.snapshot(h.barrier)
	h.release()
	return err
}

func (h *BarrierHandler) release() {
	if h.exactlyOnce {
		for _, g := range h.gates {
			g.UnblockAll()
		}
	}
}

// Aligning reports whether a checkpoint is waiting for barriers, and which.
func (h *BarrierHandler) Aligning() (int64, bool) { return h.current, h.aligning }
