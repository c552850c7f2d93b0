package task_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/spate-io/spate/worker/network"
	"github.com/spate-io/spate/worker/task"
)

// alignmentRun sends per channel a script of records (ints) and barriers (-n for
// checkpoint n) through a real gate, consumes it like a task, and returns the
// records processed when each checkpoint's snapshot was taken, and all records
// in processing order.
func alignmentRun(t *testing.T, exactlyOnce bool, scripts [][]int, endAfter bool) (map[int64][]int, []int) {
	t.Helper()
	gate := network.NewInputGate[int](len(scripts), 100, 1, make(chan struct{}, 1))
	for ch, script := range scripts {
		c := gate.Channel(ch)
		for _, v := range script {
			if v < 0 {
				if err := c.SendEvent(network.Event{Kind: network.CheckpointBarrier, CheckpointID: int64(-v)}); err != nil {
					t.Fatal(err)
				}
				continue
			}
			b, err := c.Acquire()
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Send(append(b, v)); err != nil {
				t.Fatal(err)
			}
		}
		if endAfter {
			if err := c.SendEvent(network.Event{Kind: network.EndOfPartition}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var processed []int
	snaps := map[int64][]int{}
	h := task.NewBarrierHandler([]task.Gate{gate}, exactlyOnce, func(e network.Event) error {
		if _, dup := snaps[e.CheckpointID]; dup {
			return fmt.Errorf("checkpoint %d taken twice", e.CheckpointID)
		}
		snaps[e.CheckpointID] = slices.Clone(processed)
		return nil
	})
	for {
		b, ch, ok := gate.Poll()
		if !ok {
			break
		}
		var err error
		switch b.Event.Kind {
		case network.NoEvent:
			processed = append(processed, b.Records...)
			gate.Recycle(ch, b.Records)
		case network.CheckpointBarrier:
			err = h.OnBarrier(0, ch, b.Event)
		case network.EndOfPartition:
			err = h.OnEndOfPartition(0, ch)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return snaps, processed
}

func TestExactlyOnceAlignment(t *testing.T) {
	// Channel 0 delivers its barrier early; its later records must wait.
	snaps, all := alignmentRun(t, true, [][]int{{1, -1, 2, 3}, {10, 11, 12, -1, 13}}, false)
	if got := snaps[1]; !slices.Equal(sorted(got), []int{1, 10, 11, 12}) {
		t.Fatalf("snapshot 1 saw %v, want exactly the records before the barriers [1 10 11 12]", got)
	}
	if !slices.Equal(sorted(all), []int{1, 2, 3, 10, 11, 12, 13}) {
		t.Fatalf("processed %v: records lost or duplicated", all)
	}
}

func TestAtLeastOnceDoesNotBlock(t *testing.T) {
	snaps, _ := alignmentRun(t, false, [][]int{{1, -1, 2, 3}, {10, 11, 12, -1, 13}}, false)
	// Without blocking, records after channel 0's barrier are processed before
	// channel 1's barrier arrives: they are in the snapshot (and would be
	// replayed after a failure: at least once).
	if got := sorted(snaps[1]); !slices.Equal(got, []int{1, 2, 3, 10, 11, 12}) {
		t.Fatalf("snapshot 1 saw %v, want [1 2 3 10 11 12]", got)
	}
}

func TestNewerBarrierAbandonsAlignment(t *testing.T) {
	// Channel 1 never delivers barrier 1; barrier 2 starts a new alignment.
	snaps, all := alignmentRun(t, true, [][]int{{1, -1, 2, -2, 3}, {10, 11, -2, 12}}, false)
	if _, taken := snaps[1]; taken {
		t.Fatalf("checkpoint 1 was taken without channel 1's barrier")
	}
	if got := sorted(snaps[2]); !slices.Equal(got, []int{1, 2, 10, 11}) {
		t.Fatalf("snapshot 2 saw %v, want [1 2 10 11]", got)
	}
	if len(all) != 6 {
		t.Fatalf("processed %v", all)
	}
}

func TestEndedChannelCountsAsAligned(t *testing.T) {
	snaps, _ := alignmentRun(t, true, [][]int{{1, -1, 2}, {10}}, true)
	if got := sorted(snaps[1]); !slices.Equal(got, []int{1, 10}) {
		t.Fatalf("snapshot 1 saw %v, want [1 10] once channel 1 ended", got)
	}
}

func sorted(s []int) []int {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
