package task

import (
	"container/heap"
	"time"
)

// processingTimer is one callback of the task's ProcessingTimeService.
type processingTimer struct {
	at  int64
	seq int64 // registration order breaks ties
	fn  func(now int64) error
}

type timerHeap []processingTimer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	return h[i].at < h[j].at || (h[i].at == h[j].at && h[i].seq < h[j].seq)
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(processingTimer)) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}

var _ ProcessingTimeService = (*Task)(nil)

// Now is the processing time in milliseconds.
func (t *Task) Now() int64 { return time.Now().UnixMilli() }

// RegisterTimer schedules fn on the task's goroutine at processing time at.
func (t *Task) RegisterTimer(at int64, fn func(now int64) error) {
	t.timerSeq++
	heap.Push(&t.timers, processingTimer{at: at, seq: t.timerSeq, fn: fn})
}

func (t *Task) nextTimer() (int64, bool) {
	if len(t.timers) == 0 {
		return 0, false
	}
	return t.timers[0].at, true
}

// fireTimers runs every callback that is due, including ones registered by a
// callback for a time already past.
func (t *Task) fireTimers() error {
	if len(t.timers) == 0 {
		return nil
	}
	now := t.Now()
	for len(t.timers) > 0 && t.timers[0].at <= now {
		pt := heap.Pop(&t.timers).(processingTimer)
		if err := pt.fn(now); err != nil {
			return err
		}
	}
	return nil
}
