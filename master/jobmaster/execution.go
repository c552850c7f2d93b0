package jobmaster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spate-io/spate/master/checkpoint"
	"github.com/spate-io/spate/master/resource"
	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/task"
)

// TaskManagerGateway is how the JobMaster reaches the TaskManager that holds a
// slot: it deploys descriptors and drives tasks by execution attempt, and
// never holds a task. worker.TaskExecutor implements it in-process; a Thrift
// client implements it for a TaskManager process. Calls about an attempt the
// TaskManager does not run are ignored.
type TaskManagerGateway interface {
	// RegisterJob introduces the job before its tasks are submitted.
	RegisterJob(reg task.JobRegistration) error
	UnregisterJob(jobID string)
	// SubmitTask binds and starts a task; an error means it never ran.
	SubmitTask(d task.TaskDeploymentDescriptor) error
	// CancelTask stops a task and closes its input gates, also after it ended.
	CancelTask(id task.ExecutionAttemptID, cause error)
	// TriggerCheckpoint injects a barrier at a source task; false when the
	// task cannot take it now.
	TriggerCheckpoint(id task.ExecutionAttemptID, checkpointID, timestamp int64, savepoint, stop, drain bool) bool
	NotifyCheckpointComplete(id task.ExecutionAttemptID, checkpointID int64)
	// CommitAtJobEnd lets a finished task's sinks commit their final files.
	CommitAtJobEnd(id task.ExecutionAttemptID) error
	// TaskMetrics snapshots a task's counters; it is zero for unknown tasks.
	TaskMetrics(id task.ExecutionAttemptID) task.TaskMetrics
	// ReleaseAttempt forgets an attempt's tasks once they have ended.
	ReleaseAttempt(jobID string, attempt int)
	// DataAddress is where producers of other processes reach the
	// TaskManager's gates; empty for one in the JobMaster's process.
	DataAddress() string
}

// attempt is one execution of the job's tasks.
type attempt struct {
	n     int
	tasks []*deployedTask
	byID  map[task.ExecutionAttemptID]*deployedTask
	wg    sync.WaitGroup // one per submitted task, done at its final state

	mu      sync.Mutex
	err     error         // first failure
	failed  chan struct{} // closed on the first failure
	counted bool          // metrics folded into the job's totals
}

func newAttemptState(n int) *attempt {
	return &attempt{n: n, byID: map[task.ExecutionAttemptID]*deployedTask{}, failed: make(chan struct{})}
}

// deployedTask is the JobMaster's view of one task: where it runs and
// whether it has ended.
type deployedTask struct {
	id      task.ExecutionAttemptID
	chain   *graph.Chain
	subtask int
	slot    resource.SlotID
	tm      TaskManagerGateway
	ended   atomic.Bool
}

// fail records err as the attempt's failure, if it is the first, and cancels
// the attempt's tasks; it reports whether err was the first.
func (a *attempt) fail(err error) bool {
	a.mu.Lock()
	first := a.err == nil
	if first {
		a.err = err
		close(a.failed)
	}
	a.mu.Unlock()
	if first {
		a.cancelTasks(err)
	}
	return first
}

// cancelTasks cancels every task of the attempt, ended ones included (their
// gates are closed, so no producer stays blocked).
func (a *attempt) cancelTasks(cause error) {
	for _, dt := range a.tasks {
		dt.tm.CancelTask(dt.id, cause)
	}
}

// plan lays out the tasks of attempt a, restored from rp when set, and
// returns their descriptors. a.tasks is not changed after this.
func (j *Job) plan(a *attempt, rp *restorePoint) []task.TaskDeploymentDescriptor {
	o := j.opts
	knobs := task.TaskKnobs{BatchSize: o.BatchSize, Credits: o.Credits, BufferTimeout: o.BufferTimeout, BatchMode: o.BatchMode,
		WatermarkInterval: o.WatermarkInterval, ExactlyOnce: o.ExactlyOnce, Checkpointing: j.cp != nil, Lineage: j.lineage}
	var ds []task.TaskDeploymentDescriptor
	for _, v := range j.eg.Vertices() {
		slot := j.slots[v.Subtask]
		var restore *task.TaskRestore
		if rp != nil {
			restore = rp.taskRestore(j.graph, v.Chain)
		}
		d := j.eg.Descriptor(v, j.ID, a.n, knobs, restore)
		for oi := range d.Outputs {
			for ti := range d.Outputs[oi].Targets {
				tg := &d.Outputs[oi].Targets[ti]
				tg.TaskManager = gatewayOf(o, j.slots[tg.Subtask].TaskManager).DataAddress()
			}
		}
		dt := &deployedTask{id: d.ID, chain: v.Chain, subtask: v.Subtask, slot: slot, tm: gatewayOf(o, slot.TaskManager)}
		a.tasks = append(a.tasks, dt)
		a.byID[dt.id] = dt
		ds = append(ds, d)
	}
	return ds
}

// submit deploys the planned tasks of a. On a submission error the tasks
// already submitted are cancelled and awaited, and the attempt released.
func (j *Job) submit(a *attempt, ds []task.TaskDeploymentDescriptor) error {
	for i, dt := range a.tasks {
		a.wg.Add(1)
		if err := dt.tm.SubmitTask(ds[i]); err != nil {
			a.wg.Done()
			for _, rest := range a.tasks[i:] {
				rest.ended.Store(true)
			}
			a.cancelTasks(err)
			a.wg.Wait()
			j.release(a)
			return err
		}
	}
	return nil
}

// release lets the TaskManagers forget the attempt's tasks.
func (j *Job) release(a *attempt) {
	seen := map[TaskManagerGateway]bool{}
	for _, dt := range a.tasks {
		if !seen[dt.tm] {
			seen[dt.tm] = true
			dt.tm.ReleaseAttempt(j.ID, a.n)
		}
	}
	j.mu.Lock()
	delete(j.attempts, a.n)
	j.mu.Unlock()
}

// attemptOf finds the deployed task of id, in an attempt not yet released.
func (j *Job) attemptOf(id task.ExecutionAttemptID) (*attempt, *deployedTask) {
	if id.JobID != j.ID {
		return nil, nil
	}
	j.mu.Lock()
	a := j.attempts[id.Attempt]
	j.mu.Unlock()
	if a == nil {
		return nil, nil
	}
	return a, a.byID[id]
}

var _ task.JobMasterGateway = (*Job)(nil)

// UpdateTaskExecutionState implements task.JobMasterGateway: a task reached
// its final state.
func (j *Job) UpdateTaskExecutionState(id task.ExecutionAttemptID, s task.ExecutionState, err error) {
	a, dt := j.attemptOf(id)
	if dt == nil || !s.Terminal() || dt.ended.Swap(true) {
		return
	}
	defer a.wg.Done()
	if s == task.Finished {
		if j.cp != nil {
			j.cp.taskFinished(a)
		}
		return
	}
	if err == nil {
		err = fmt.Errorf("%s (%d) was %v", dt.chain.Name, dt.subtask, s)
	}
	if s == task.Canceled && j.userCtx.Err() != nil {
		err = &interruptedError{context.Cause(j.userCtx)}
	}
	if a.fail(err) {
		j.log.Debug().Err(err).Str("task", dt.chain.Name).Int("subtask", dt.subtask).Int("attempt", a.n).Msg("task failed; cancelling the attempt")
	}
}

// AcknowledgeCheckpoint implements task.JobMasterGateway.
func (j *Job) AcknowledgeCheckpoint(id task.ExecutionAttemptID, checkpointID int64, handles []state.Handle) {
	cp, dt := j.cp, j.taskOf(id)
	if cp == nil || dt == nil {
		return
	}
	cp.post(func() {
		if cp.attempt != nil && cp.attempt.n == id.Attempt {
			cp.exec(cp.coord.Ack(time.Now(), checkpointID, taskID(dt.chain, dt.subtask), handles))
		}
	})
}

// DeclineCheckpoint implements task.JobMasterGateway. A cause a restart
// cannot mend fails the job now: the next checkpoint would fail the same way.
func (j *Job) DeclineCheckpoint(id task.ExecutionAttemptID, checkpointID int64, err error) {
	cp, dt := j.cp, j.taskOf(id)
	if cp == nil || dt == nil {
		return
	}
	tid := taskID(dt.chain, dt.subtask)
	cp.post(func() {
		if cp.attempt == nil || cp.attempt.n != id.Attempt {
			return
		}
		cp.log.Warn().Err(err).Int64("checkpoint", checkpointID).Stringer("task", tid).Msg("checkpoint declined")
		if unmendable(err) {
			j.failForGood(suppress(fmt.Errorf("checkpoint %d declined by %s: %w", checkpointID, tid, err)))
		}
		cp.exec(cp.coord.Decline(time.Now(), checkpointID, tid, err.Error()))
	})
}

func (j *Job) taskOf(id task.ExecutionAttemptID) *deployedTask {
	_, dt := j.attemptOf(id)
	return dt
}

// taskID names a subtask for the checkpoint coordinator.
func taskID(c *graph.Chain, subtask int) checkpoint.TaskID {
	return checkpoint.TaskID{Vertex: fmt.Sprintf("%d:%s", c.Index, c.Name), Subtask: subtask}
}

// metrics folds the counters of a's tasks, by node index.
func (a *attempt) metrics() (in, out map[int]int64) {
	in, out = map[int]int64{}, map[int]int64{}
	for _, dt := range a.tasks {
		for ni, m := range dt.tm.TaskMetrics(dt.id).Operators {
			in[ni] += m.RecordsIn
			out[ni] += m.RecordsOut
		}
	}
	return in, out
}

// directoryAnnouncer is a TaskManagerGateway to another process, whose
// storage must learn where a savepoint's files go before its barrier.
type directoryAnnouncer interface {
	SetCheckpointDirectory(jobID string, checkpointID int64, dir string) error
}

// announceDirectory tells the TaskManagers of other processes that run the
// job's slots where the files of checkpoint id go.
func (j *Job) announceDirectory(id int64, dir string) error {
	j.mu.Lock()
	slots := j.slots
	j.mu.Unlock()
	seen := map[int]bool{}
	for _, s := range slots {
		if seen[s.TaskManager] {
			continue
		}
		seen[s.TaskManager] = true
		if a, ok := gatewayOf(j.opts, s.TaskManager).(directoryAnnouncer); ok {
			if err := a.SetCheckpointDirectory(j.ID, id, dir); err != nil {
				return fmt.Errorf("savepoint %d: tell a TaskManager its directory: %w", id, err)
			}
		}
	}
	return nil
}

// gatewayOf is the gateway of TaskManager tm, or nil.
func gatewayOf(o Options, tm int) TaskManagerGateway {
	if o.Gateway != nil {
		return o.Gateway(tm)
	}
	if tm < 0 || tm >= len(o.TaskManagers) {
		return nil
	}
	return o.TaskManagers[tm]
}

// replaceLostSlots gives the job new slots before a restart when a
// TaskManager it had slots on was lost: it releases them all and allocates
// again (waiting, with the JobManager's allocator, for a spare or restarted
// TaskManager). Called by supervise between attempts.
func (j *Job) replaceLostSlots() error {
	j.mu.Lock()
	lost := false
	for _, s := range j.slots {
		lost = lost || j.lostTMs[s.TaskManager]
	}
	j.mu.Unlock()
	if !lost {
		return nil
	}
	j.opts.Slots.Release(j.ID)
	slots, err := j.opts.Slots.Allocate(j.ID, len(j.slots))
	if err != nil {
		return err
	}
	j.log.Warn().Str("slots", fmt.Sprint(slots)).Msg("restarting on new slots: a TaskManager was lost")
	j.mu.Lock()
	j.slots = slots
	j.mu.Unlock()
	return nil
}

// TaskManagerLost fails the tasks of the running attempt that ran on
// TaskManager tm (by its number) and have not ended: they will never report.
// The job then restarts (on new slots) or fails per its restart strategy.
func (j *Job) TaskManagerLost(tm int, reason string) {
	j.mu.Lock()
	if j.lostTMs == nil {
		j.lostTMs = map[int]bool{}
	}
	j.lostTMs[tm] = true
	j.mu.Unlock()
	a := j.currentAttempt()
	if a == nil {
		return
	}
	for _, dt := range a.tasks {
		if dt.slot.TaskManager == tm && !dt.ended.Load() {
			j.UpdateTaskExecutionState(dt.id, task.Failed, errors.New(reason))
		}
	}
}

// errNoTaskManagers is Deploy's error when Options has no TaskManager for a slot.
var errNoTaskManagers = errors.New("the slot pool's TaskManagers have no gateway (Options.TaskManagers)")
