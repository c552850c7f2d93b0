package task

import (
	"fmt"
	"io"

	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/network"
)

// CheckpointResponder is how a task reports a checkpoint to the JobMaster.
// It is called from the goroutine that wrote the task's state files, so
// implementations must be safe for concurrent use and must not block for long.
type CheckpointResponder interface {
	Acknowledge(checkpointID int64, task string, subtask int, handles []state.Handle)
	Decline(checkpointID int64, task string, subtask int, err error)
}

// CheckpointStorage takes the state files of a checkpoint or savepoint.
type CheckpointStorage interface {
	// WriteState creates the file named file in the directory of checkpoint id,
	// lets write fill it, makes it durable and returns its path relative to
	// that directory, its size and its CRC-32C.
	WriteState(checkpointID int64, file string, write func(io.Writer) error) (path string, size int64, checksum uint32, err error)
}

// Snapshotter is implemented by operators with state. SnapshotState runs on the
// task goroutine while the barrier is aligned: it returns copies (state.Part)
// whose Write encodes them later on another goroutine, so processing goes on
// while files are written.
type Snapshotter interface {
	SnapshotState(checkpointID int64) ([]state.Part, error)
}

// CheckpointListener is implemented by operators that act when a checkpoint
// completes, as two-phase-commit sinks commit what they pre-committed on its
// barrier. It runs on the task goroutine. Notifications are not guaranteed: a
// listener must commit everything up to id, not only id.
type CheckpointListener interface {
	NotifyCheckpointComplete(checkpointID int64) error
}

// JobEndCommitter is implemented by sinks that commit, once the whole job has
// finished, what they pre-committed at the end of their input. Until then a
// failure elsewhere may still restart the job from an earlier checkpoint, and
// that output must not be visible.
type JobEndCommitter interface {
	CommitAtJobEnd() error
}

type operatorPart struct {
	operator string
	part     state.Part
}

// checkpoint snapshots every operator of the chain, in order, sends the barrier
// downstream, and writes the state files asynchronously; the acknowledgement
// follows the last file. A snapshot error declines the checkpoint without
// failing the task.
func (t *Task) checkpoint(barrier network.Event) error {
	var parts []operatorPart
	for i, op := range t.operators {
		s, ok := op.(Snapshotter)
		if !ok {
			continue
		}
		ps, err := t.snapshotOperator(i, s, barrier.CheckpointID)
		if err != nil {
			if t.responder != nil {
				t.responder.Decline(barrier.CheckpointID, t.Name, t.Subtask, err)
			}
			return nil
		}
		for _, p := range ps {
			parts = append(parts, operatorPart{operator: t.contexts[i].OperatorID, part: p})
		}
	}
	for _, w := range t.writers {
		if err := w.Emit(barrier); err != nil {
			return err
		}
	}
	// After a stop barrier a task ends without finishing its operators, unless
	// draining: then only the source, which finished before the barrier.
	if barrier.Stop && (!barrier.Drain || t.source != nil) {
		t.stopping = true
	}
	if t.responder != nil {
		t.writing.Add(1)
		go func() {
			defer t.writing.Done()
			t.writeSnapshot(barrier.CheckpointID, parts)
		}()
	}
	return nil
}

// snapshotOperator calls SnapshotState with the operator's panic guard: a
// panic declines the checkpoint, named like any operator failure.
func (t *Task) snapshotOperator(i int, s Snapshotter, id int64) (parts []state.Part, err error) {
	defer t.contexts[i].Recover(&err)
	parts, err = s.SnapshotState(id)
	return parts, t.contexts[i].Fail(err)
}

// writeSnapshot is the asynchronous part of a checkpoint.
func (t *Task) writeSnapshot(id int64, parts []operatorPart) {
	handles := make([]state.Handle, 0, len(parts))
	for i, p := range parts {
		h, err := t.writePart(id, i, p)
		if err != nil {
			t.responder.Decline(id, t.Name, t.Subtask, err)
			return
		}
		handles = append(handles, h)
	}
	t.responder.Acknowledge(id, t.Name, t.Subtask, handles)
}

func (t *Task) writePart(id int64, i int, p operatorPart) (h state.Handle, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("write state %q of operator %s: %w", p.part.Name, p.operator, newPanicError(r))
		}
	}()
	if t.storage == nil {
		return h, fmt.Errorf("task %s (%d) has state to write but no checkpoint storage", t.Name, t.Subtask)
	}
	file := fmt.Sprintf("%s-%d-%d", p.operator, t.Subtask, i)
	path, size, sum, err := t.storage.WriteState(id, file, p.part.Write)
	if err != nil {
		return h, fmt.Errorf("write state %q of operator %s: %w", p.part.Name, p.operator, err)
	}
	return state.Handle{Operator: p.operator, Subtask: t.Subtask, Name: p.part.Name, Kind: p.part.Kind,
		KeyGroups: p.part.KeyGroups, Path: path, Size: size, Checksum: sum}, nil
}

// NotifyCheckpointComplete tells the task's CheckpointListeners that checkpoint
// id completed; safe to call from any goroutine. A task that has ended ignores
// it.
func (t *Task) NotifyCheckpointComplete(id int64) {
	t.post(func() error {
		for i, op := range t.operators {
			if l, ok := op.(CheckpointListener); ok {
				if err := t.notifyOperator(i, l, id); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func (t *Task) notifyOperator(i int, l CheckpointListener, id int64) (err error) {
	defer t.contexts[i].Recover(&err)
	return t.contexts[i].Fail(l.NotifyCheckpointComplete(id))
}

// post queues f on the mailbox without blocking the caller: when the mailbox is
// full, a goroutine waits for room or for the task to end.
func (t *Task) post(f func() error) {
	select {
	case t.mailbox <- f:
		t.wakeUp()
	default:
		go func() {
			select {
			case t.mailbox <- f:
				t.wakeUp()
			case <-t.done:
			}
		}()
	}
}

// CommitAtJobEnd runs the JobEndCommitters of the task; the JobMaster calls it
// once every task of the job has finished.
func (t *Task) CommitAtJobEnd() error {
	for _, c := range t.committers {
		if err := c.CommitAtJobEnd(); err != nil {
			return err
		}
	}
	return nil
}

// triggered takes a checkpoint at a source. Draining finishes the chain
// first, so the final watermark and every result precede the barrier.
func (t *Task) triggered(barrier network.Event) error {
	if barrier.Stop && barrier.Drain {
		if err := t.finishOperators(); err != nil {
			return err
		}
	}
	return t.checkpoint(barrier)
}

// WaitSnapshots waits until the state files of every checkpoint the task took
// are written (or failed): the JobMaster calls it before it deletes
// checkpoint directories.
func (t *Task) WaitSnapshots() { t.writing.Wait() }

// Done is closed when Run has returned.
func (t *Task) Done() <-chan struct{} { return t.done }

// TriggerCheckpoint asks a source task to take checkpoint id and inject its
// barrier; safe to call from any goroutine. stop makes it a stop-with-savepoint
// barrier: the source ends after it, having finished its input first when
// drain is set. It reports false when the task's mailbox
// is full or the task has ended (the checkpoint is then declined).
func (t *Task) TriggerCheckpoint(id, timestamp int64, savepoint, stop, drain bool) bool {
	barrier := network.Event{Kind: network.CheckpointBarrier, CheckpointID: id, Timestamp: timestamp, Savepoint: savepoint, Stop: stop, Drain: stop && drain}
	select {
	case <-t.done:
		return false
	default:
	}
	select {
	case t.mailbox <- func() error { return t.triggered(barrier) }:
		t.wakeUp()
		return true
	default:
		return false
	}
}
