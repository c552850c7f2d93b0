package worker

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/master/checkpoint"
	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/metrics"
	"github.com/spate-io/spate/worker/network"
	"github.com/spate-io/spate/worker/task"
	"github.com/spate-io/spate/worker/transport"
)

// ErrUnknownJob is returned by SubmitTask for a job that was not registered.
var ErrUnknownJob = errors.New("job not registered with this TaskManager")

// ErrGraphMismatch is returned by SubmitTask when the descriptor's graph
// fingerprint is not the registered graph's.
var ErrGraphMismatch = errors.New("job binary or arguments differ")

// TaskExecutor is a TaskManager's task side: it binds TaskDeploymentDescriptors
// to local gates, channels, storage and loggers, runs the tasks, and reports
// their state changes and checkpoint acknowledgements to the JobMaster of each
// job. Every call names the execution attempt; calls about an attempt it does
// not run are ignored. It is safe for concurrent use.
//
// Tasks of one process exchange records through a Shuffle, shared by the
// TaskExecutors of an embedded cluster: zero-copy, typed buffers.
type TaskExecutor struct {
	name    string
	shuffle *Shuffle
	data    *DataPlane // nil: every consumer is in this process

	mu    sync.Mutex
	jobs  map[string]*task.JobRegistration
	tasks map[task.ExecutionAttemptID]*runningTask
	// adopt, when set, registers a job the TaskExecutor is first asked to
	// run a task of (see AdoptJobs).
	adopt func(jobID string) (task.JobRegistration, error)
}

// AdoptJobs makes the TaskExecutor register, with reg, a job it gets a task
// of without a RegisterJob first: a job binary started as a TaskManager
// (application mode) runs the one job it built, whatever id its JobManager
// gives it.
func (x *TaskExecutor) AdoptJobs(reg func(jobID string) (task.JobRegistration, error)) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.adopt = reg
}

// runningTask is a submitted task, until its attempt is released.
type runningTask struct {
	t      *task.Task
	cancel context.CancelFunc
	inputs *taskInputs
	done   chan struct{} // closed once its final state was reported
}

// NewTaskExecutor returns the task side of TaskManager name, exchanging
// records through shuffle.
func NewTaskExecutor(name string, shuffle *Shuffle) *TaskExecutor {
	return &TaskExecutor{name: name, shuffle: shuffle, jobs: map[string]*task.JobRegistration{}, tasks: map[task.ExecutionAttemptID]*runningTask{}}
}

// ServeData makes the TaskExecutor reachable by producers of other
// processes: it listens for data connections through a DataPlane on addr,
// and opens channels to consumers whose TaskManager is another address.
func (x *TaskExecutor) ServeData(addr string, auth transport.Authenticator, opts transport.Options, log zerolog.Logger) error {
	d, err := NewDataPlane(addr, auth, opts, x.shuffle, x.job, log)
	if err != nil {
		return err
	}
	x.data = d
	return nil
}

// DataAddress is where producers of other processes reach this
// TaskExecutor's gates; empty without ServeData.
func (x *TaskExecutor) DataAddress() string {
	if x.data == nil {
		return ""
	}
	return x.data.Addr()
}

// Close stops serving data connections.
func (x *TaskExecutor) Close() {
	if x.data != nil {
		x.data.Close()
	}
}

func (x *TaskExecutor) job(jobID string) *task.JobRegistration {
	reg, _ := x.jobOrAdopt(jobID)
	return reg
}

// jobOrAdopt returns the registration of jobID, adopting the job if the
// TaskExecutor adopts jobs.
func (x *TaskExecutor) jobOrAdopt(jobID string) (*task.JobRegistration, error) {
	x.mu.Lock()
	reg, adopt := x.jobs[jobID], x.adopt
	x.mu.Unlock()
	if reg != nil {
		return reg, nil
	}
	if adopt == nil {
		return nil, ErrUnknownJob
	}
	r, err := adopt(jobID) // may wait: not under the lock
	if err != nil {
		return nil, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.jobs[jobID] == nil {
		x.jobs[jobID] = &r
	}
	return x.jobs[jobID], nil
}

// RegisterJob makes the TaskManager ready for the job's tasks.
func (x *TaskExecutor) RegisterJob(reg task.JobRegistration) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.jobs[reg.JobID] = &reg
	return nil
}

// UnregisterJob forgets a job whose tasks have all been released.
func (x *TaskExecutor) UnregisterJob(jobID string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	delete(x.jobs, jobID)
}

// SubmitTask binds and starts one subtask. An error means it never ran: no
// state is reported for it.
func (x *TaskExecutor) SubmitTask(d task.TaskDeploymentDescriptor) error {
	reg, err := x.jobOrAdopt(d.ID.JobID)
	if err != nil {
		return fmt.Errorf("submit %v: %w", d.ID, err)
	}
	g := reg.Graph
	if d.Fingerprint != g.Fingerprint() {
		return fmt.Errorf("submit %v: the JobMaster's graph %s is not this TaskManager's %s: %w", d.ID, d.Fingerprint, g.Fingerprint(), ErrGraphMismatch)
	}
	if d.ID.Chain < 0 || d.ID.Chain >= len(g.Chains) {
		return fmt.Errorf("submit %v: the graph has no chain %d", d.ID, d.ID.Chain)
	}
	c := g.Chains[d.ID.Chain]
	in := x.shuffle.inputs(d.ID)
	dep := task.Deployment{Graph: g, Chain: c, Subtask: d.ID.Subtask, Outputs: map[int][]task.ChannelRef{}, Notify: in.notify,
		BatchSize: d.Knobs.BatchSize, BufferTimeout: d.Knobs.BufferTimeout, BatchMode: d.Knobs.BatchMode,
		WatermarkInterval: d.Knobs.WatermarkInterval, ExactlyOnce: d.Knobs.ExactlyOnce, Attempt: d.ID.Attempt,
		Lineage: d.Knobs.Lineage, Log: reg.Log}
	head := g.Nodes[c.Head]
	for _, gd := range d.Inputs {
		st := inputType(g, head, gd.Side)
		if st == nil || gd.Channels < 1 {
			return fmt.Errorf("submit %v: %q has no input side %d with %d channels", d.ID, head.Name, gd.Side, gd.Channels)
		}
		dep.Inputs = append(dep.Inputs, x.shuffle.gate(in, gd.Side, st, gd.Channels, d.Knobs))
	}
	for _, out := range d.Outputs {
		if out.Edge < 0 || out.Edge >= len(g.Edges) {
			return fmt.Errorf("submit %v: the graph has no edge %d", d.ID, out.Edge)
		}
		st := task.EdgeType(g, g.Edges[out.Edge])
		refs := make([]task.ChannelRef, len(out.Targets))
		for i, tg := range out.Targets {
			if tg.Side < 0 || tg.Side > 1 || tg.Channel < 0 || tg.Channel >= tg.GateChannels {
				return fmt.Errorf("submit %v: edge %d: channel %d of a %d-channel gate on side %d does not exist", d.ID, out.Edge, tg.Channel, tg.GateChannels, tg.Side)
			}
			cid := task.ExecutionAttemptID{JobID: d.ID.JobID, Attempt: d.ID.Attempt, Chain: tg.Chain, Subtask: tg.Subtask}
			if tg.TaskManager != "" && tg.TaskManager != x.DataAddress() {
				if x.data == nil {
					return fmt.Errorf("submit %v: a consumer runs on TaskManager %s, but this one serves no data connections", d.ID, tg.TaskManager)
				}
				rc, err := x.data.Open(context.Background(), tg.TaskManager, d.ID, channelKey{Consumer: cid, Side: tg.Side, Channel: tg.Channel,
					GateChannels: tg.GateChannels, Edge: out.Edge, Credits: d.Knobs.Credits, BatchSize: d.Knobs.BatchSize}, st)
				if err != nil {
					return fmt.Errorf("submit %v: %w", d.ID, err)
				}
				refs[i] = task.ChannelRef{Remote: rc}
				continue
			}
			gate := x.shuffle.gate(x.shuffle.inputs(cid), tg.Side, st, tg.GateChannels, d.Knobs)
			refs[i] = task.ChannelRef{Gate: gate, Index: tg.Channel}
		}
		dep.Outputs[out.Edge] = refs
	}
	if d.Knobs.Checkpointing {
		dep.Checkpoints = responder{jm: reg.JobMaster, id: d.ID}
		dep.Storage = reg.Storage
	}
	if r := d.Restore; r != nil {
		fsys := reg.CheckpointFS
		if r.FromSavepointPath {
			fsys = reg.SavepointPathFS
		}
		read := checkpoint.StateReader(fsys, r.Dir)
		dep.Restore = func(operatorID string) *state.Restored {
			o, ok := r.Operator(operatorID)
			if !ok {
				return nil
			}
			return &state.Restored{CheckpointID: r.CheckpointID, Subtask: d.ID.Subtask, Parallelism: o.Parallelism,
				OldParallelism: o.OldParallelism, Handles: o.Handles, Read: read}
		}
	}
	t, err := task.Build(dep)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	rt := &runningTask{t: t, cancel: cancel, inputs: in, done: make(chan struct{})}
	x.mu.Lock()
	x.tasks[d.ID] = rt
	x.mu.Unlock()
	go x.run(ctx, d.ID, rt, reg.JobMaster)
	return nil
}

// run runs a task and reports how it ended, once its asynchronous snapshot
// writes are done too: a JobMaster that sees the final state may clean up.
func (x *TaskExecutor) run(ctx context.Context, id task.ExecutionAttemptID, rt *runningTask, jm task.JobMasterGateway) {
	defer close(rt.done)
	err := rt.t.Run(ctx)
	rt.t.WaitSnapshots()
	s := task.Finished
	switch {
	case err != nil && ctx.Err() != nil:
		s = task.Canceled
	case err != nil:
		s = task.Failed
	}
	jm.UpdateTaskExecutionState(id, s, err)
}

func (x *TaskExecutor) task(id task.ExecutionAttemptID) *runningTask {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.tasks[id]
}

// CancelTask stops a task and closes its input gates, so that neither it nor
// its producers stay blocked. A task that already ended has its gates closed
// all the same.
func (x *TaskExecutor) CancelTask(id task.ExecutionAttemptID, cause error) {
	rt := x.task(id)
	if rt == nil {
		// Never submitted (its submission failed, or came after the
		// failure), but a producer may have created its gates and be
		// blocked on them.
		if in := x.shuffle.existing(id); in != nil {
			in.close(cause)
		}
		return
	}
	rt.cancel()
	rt.inputs.close(cause)
}

// TriggerCheckpoint injects a barrier at a source task; false when the task
// cannot take it now (ended, or its mailbox is full).
func (x *TaskExecutor) TriggerCheckpoint(id task.ExecutionAttemptID, checkpointID, timestamp int64, savepoint, stop, drain bool) bool {
	rt := x.task(id)
	return rt != nil && rt.t.TriggerCheckpoint(checkpointID, timestamp, savepoint, stop, drain)
}

// NotifyCheckpointComplete tells a task that a checkpoint completed.
func (x *TaskExecutor) NotifyCheckpointComplete(id task.ExecutionAttemptID, checkpointID int64) {
	if rt := x.task(id); rt != nil {
		rt.t.NotifyCheckpointComplete(checkpointID)
	}
}

// CommitAtJobEnd lets a finished task's sinks commit what they pre-committed
// at the end of their input: the whole job has finished.
func (x *TaskExecutor) CommitAtJobEnd(id task.ExecutionAttemptID) error {
	rt := x.task(id)
	if rt == nil {
		return fmt.Errorf("commit %v: no such task on %s", id, x.name)
	}
	return rt.t.CommitAtJobEnd()
}

// StoreCheckpointIn makes the state files of checkpoint id (a savepoint) of
// job go to dir, a path or URI: for a TaskExecutor in another process than
// the JobMaster (in the embedded cluster both share one storage, which
// knows already).
func (x *TaskExecutor) StoreCheckpointIn(jobID string, id int64, dir string) error {
	reg, err := x.jobOrAdopt(jobID)
	if err != nil {
		return fmt.Errorf("checkpoint %d of job %s: %w", id, jobID, err)
	}
	s, ok := reg.Storage.(interface {
		SetDirectory(int64, hdfs.FileSystem, string)
	})
	if !ok {
		return fmt.Errorf("checkpoint %d of job %s: the job's storage (%T) takes no directories", id, jobID, reg.Storage)
	}
	fsys, p, err := hdfs.Resolve(dir)
	if err != nil {
		return err
	}
	s.SetDirectory(id, fsys, p)
	return nil
}

// TaskMetrics snapshots a task's counters and gate occupancy.
func (x *TaskExecutor) TaskMetrics(id task.ExecutionAttemptID) task.TaskMetrics {
	rt := x.task(id)
	if rt == nil {
		return task.TaskMetrics{}
	}
	p := metrics.ReadProcess()
	m := task.TaskMetrics{Operators: map[int]task.OperatorCounts{}, IdleNanos: rt.t.IO.IdleNanos.Load(), InputWatermark: rt.t.IO.InputWatermark(),
		Process: &task.ProcessMetrics{HeapBytes: p.HeapBytes, RSSBytes: p.RSSBytes, Goroutines: p.Goroutines, GCPauseTotalNanos: p.GCPauseTotalNanos, GCCount: p.GCCount}}
	for ni, om := range rt.t.Metrics {
		m.Operators[ni] = task.OperatorCounts{RecordsIn: om.RecordsIn.Load(), RecordsOut: om.RecordsOut.Load()}
	}
	for side, g := range rt.inputs.sides() {
		st := g.Stats()
		m.Gates = append(m.Gates, task.GateMetrics{Side: side, Channels: g.NumChannels(), Queued: st.Queued, MaxQueued: st.MaxQueued,
			Credits: st.Credits, BlockedProducers: st.BlockedProducers})
	}
	return m
}

// ReleaseAttempt forgets every task of one attempt of a job, once they have
// ended, and their gates.
func (x *TaskExecutor) ReleaseAttempt(jobID string, attempt int) {
	x.mu.Lock()
	var rts []*runningTask
	for id, rt := range x.tasks {
		if id.JobID == jobID && id.Attempt == attempt {
			rts = append(rts, rt)
			delete(x.tasks, id)
		}
	}
	x.mu.Unlock()
	for _, rt := range rts {
		rt.cancel()
		rt.inputs.close(network.ErrGateClosed)
	}
	x.shuffle.release(jobID, attempt)
	if x.data != nil {
		x.data.release(jobID, attempt)
	}
}

// responder forwards one task's checkpoint acknowledgements to its JobMaster.
type responder struct {
	jm task.JobMasterGateway
	id task.ExecutionAttemptID
}

func (r responder) Acknowledge(checkpointID int64, _ string, _ int, handles []state.Handle) {
	r.jm.AcknowledgeCheckpoint(r.id, checkpointID, handles)
}

func (r responder) Decline(checkpointID int64, _ string, _ int, err error) {
	r.jm.DeclineCheckpoint(r.id, checkpointID, err)
}

// inputType is the record type arriving on one input side of node n.
func inputType(g *graph.JobGraph, n *graph.Node, side int) task.StreamType {
	for _, ei := range n.Inputs {
		if e := g.Edges[ei]; e.Side == side {
			return task.EdgeType(g, e)
		}
	}
	return nil
}
