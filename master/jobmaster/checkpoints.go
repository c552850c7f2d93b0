package jobmaster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/master/checkpoint"
	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/task"
)

// checkpointer is the shell around the checkpoint coordinator: one goroutine
// owns the coordinator, and everything that touches it (ticks, task
// acknowledgements, storage results, savepoint requests, failovers) arrives as
// a function on its events channel.
type checkpointer struct {
	job     *Job
	opts    *CheckpointOptions
	coord   *checkpoint.Coordinator
	storage *checkpoint.Storage
	events  chan func()
	exited  chan struct{} // closed when run returns
	log     zerolog.Logger
	// afterExit serializes calls that run once the run goroutine has ended.
	afterExit sync.Mutex

	// Owned by the run goroutine.
	attempt    *attempt
	idle       bool                        // a task finished: no more checkpoints
	savepoints map[int64]*savepointRequest // pending savepoints by id
	stop       *savepointRequest           // a pending or completed stop-with-savepoint
}

type savepointRequest struct {
	drain bool
	done  chan error
	ended chan struct{} // closed when the savepoint completed or aborted
}

func newCheckpointer(j *Job, o *CheckpointOptions, initial *restorePoint) (*checkpointer, error) {
	g := j.graph
	var tasks, sources []checkpoint.TaskID
	for _, c := range g.Chains {
		for sub := range c.Parallelism {
			id := taskID(c, sub)
			tasks = append(tasks, id)
			if g.Nodes[c.Head].Kind == graph.KindSource {
				sources = append(sources, id)
			}
		}
	}
	nextID := int64(1)
	if initial != nil {
		nextID = initial.meta.ID + 1 // ids keep growing across a restore, as in Flink
	}
	coord, err := checkpoint.NewCoordinator(o.Config, tasks, sources, nextID, time.Now())
	if err != nil {
		return nil, err
	}
	cp := &checkpointer{job: j, opts: o, coord: coord, storage: checkpoint.NewStorage(o.FS, o.Dir, j.ID),
		events: make(chan func(), 256), exited: make(chan struct{}), log: j.log, savepoints: map[int64]*savepointRequest{}}
	return cp, nil
}

// post queues f for the coordinator goroutine; it is dropped once that
// goroutine has ended.
func (cp *checkpointer) post(f func()) {
	select {
	case cp.events <- f:
	case <-cp.exited:
	}
}

// call runs f on the coordinator goroutine and waits for it. Once that
// goroutine has ended (the job's context is done), f runs on the caller's,
// one caller at a time: the coordinator's state is then nobody else's.
func (cp *checkpointer) call(f func()) {
	done := make(chan struct{})
	cp.post(func() { f(); close(done) })
	select {
	case <-done:
	case <-cp.exited:
		select {
		case <-done: // it ran after all
		default:
			cp.afterExit.Lock()
			defer cp.afterExit.Unlock()
			f()
		}
	}
}

// run is the coordinator goroutine. It ticks often enough for the interval
// and the timeout; the coordinator decides what is due.
func (cp *checkpointer) run(ctx context.Context) {
	defer close(cp.exited)
	tick := time.NewTicker(tickInterval(cp.opts.Config))
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			if cp.attempt != nil && !cp.idle {
				cp.exec(cp.coord.Tick(time.Now()))
			}
		case f := <-cp.events:
			f()
		case <-ctx.Done():
			cp.drain()
			return
		}
	}
}

// drain answers savepoint requests still waiting when the job ends.
func (cp *checkpointer) drain() {
	for {
		select {
		case f := <-cp.events:
			f()
		default:
			for id, r := range cp.savepoints {
				r.done <- fmt.Errorf("savepoint %d: the job ended first", id)
				close(r.ended)
				delete(cp.savepoints, id)
			}
			return
		}
	}
}

func tickInterval(c checkpoint.Config) time.Duration {
	d := c.Interval / 10
	if c.Interval == 0 {
		d = c.Timeout / 10
	}
	return min(max(d, 5*time.Millisecond), 100*time.Millisecond)
}

// exec carries out the coordinator's commands in order.
func (cp *checkpointer) exec(cmds []checkpoint.Command) {
	for _, c := range cmds {
		switch c := c.(type) {
		case checkpoint.TriggerBarrier:
			cp.trigger(c)
		case checkpoint.Persist:
			cp.persist(c)
		case checkpoint.NotifyComplete:
			cp.completed(c)
		case checkpoint.NotifyAborted:
			cp.aborted(c)
		case checkpoint.Discard:
			cp.discard(c.ID)
		case checkpoint.FailJob:
			cp.failAttempt(fmt.Errorf("checkpointing: %s (execution.checkpointing.tolerable-failed-checkpoints)", c.Reason))
		}
	}
}

func (cp *checkpointer) trigger(c checkpoint.TriggerBarrier) {
	a := cp.attempt
	stop, drain := c.Kind == checkpoint.SavepointStop, false
	if r := cp.savepoints[c.ID]; r != nil {
		drain = r.drain
	}
	for _, src := range c.Sources {
		dt := a.task(src)
		if dt != nil && dt.tm.TriggerCheckpoint(dt.id, c.ID, c.Timestamp.UnixMilli(), c.Kind != checkpoint.Checkpoint, stop, drain) {
			continue
		}
		if dt == nil || dt.ended.Load() {
			// The source finished before the barrier: the checkpoint cannot
			// complete, and that is not a failure.
			cp.idle = true
			cp.exec(cp.coord.Abandon(time.Now(), fmt.Sprintf("%s finished before the barrier", src)))
			return
		}
		cp.exec(cp.coord.Decline(time.Now(), c.ID, src, "the source's mailbox is full"))
		return
	}
	cp.log.Debug().Int64("checkpoint", c.ID).Stringer("kind", c.Kind).Msg("checkpoint triggered")
}

func (a *attempt) task(id checkpoint.TaskID) *deployedTask {
	if a == nil {
		return nil
	}
	for _, dt := range a.tasks {
		if taskID(dt.chain, dt.subtask) == id {
			return dt
		}
	}
	return nil
}

// persist writes the _metadata of a checkpoint whose every task acknowledged,
// on its own goroutine, and reports back.
func (cp *checkpointer) persist(c checkpoint.Persist) {
	j := cp.job
	m := &checkpoint.Metadata{JobID: j.ID, JobName: j.graph.Name, Lineage: j.lineage, ID: c.ID, Kind: c.Kind.String(),
		Timestamp: c.Timestamp.UnixMilli(), Completed: time.Now().UnixMilli()}
	byOp := map[string][]state.Handle{}
	for _, hs := range c.Acks {
		for _, h := range hs {
			byOp[h.Operator] = append(byOp[h.Operator], h)
		}
	}
	for _, n := range j.graph.Nodes {
		hs, ok := byOp[n.ID]
		if !ok {
			continue
		}
		sort.SliceStable(hs, func(a, b int) bool { return hs[a].Subtask < hs[b].Subtask })
		m.Operators = append(m.Operators, checkpoint.OperatorState{ID: n.ID, Name: n.Name, Parallelism: n.Parallelism, MaxParallelism: n.MaxParallelism, Handles: hs})
	}
	fsys, dir := cp.storage.Location(c.ID)
	id := c.ID
	go func() {
		err := checkpoint.WriteMetadata(fsys, dir, m)
		if err != nil && unmendable(err) {
			j.failForGood(suppress(fmt.Errorf("checkpoint %d: %w", id, err)))
		}
		cp.post(func() { cp.exec(cp.coord.Persisted(time.Now(), id, err)) })
	}()
}

func (cp *checkpointer) completed(c checkpoint.NotifyComplete) {
	cp.log.Info().Int64("checkpoint", c.ID).Stringer("kind", c.Kind).Msg("checkpoint completed")
	if c.ForTasks() && cp.attempt != nil {
		for _, dt := range cp.attempt.tasks {
			dt.tm.NotifyCheckpointComplete(dt.id, c.ID)
		}
	}
	if r, ok := cp.savepoints[c.ID]; ok {
		delete(cp.savepoints, c.ID)
		r.done <- nil
		close(r.ended)
	}
}

// discard deletes a checkpoint's directory. A task may still be writing an
// aborted checkpoint's files; what it leaves behind has no _metadata and goes
// with the next cleanup.
func (cp *checkpointer) discard(id int64) {
	go func() {
		if err := cp.storage.Discard(id); err != nil {
			cp.log.Info().Err(err).Int64("checkpoint", id).Msg("could not delete a discarded checkpoint")
		}
	}()
}

func (cp *checkpointer) aborted(c checkpoint.NotifyAborted) {
	cp.log.Info().Int64("checkpoint", c.ID).Str("reason", c.Reason).Msg("checkpoint aborted")
	cp.discard(c.ID)
	if r, ok := cp.savepoints[c.ID]; ok {
		delete(cp.savepoints, c.ID)
		r.done <- fmt.Errorf("savepoint %d aborted: %s", c.ID, c.Reason)
		close(r.ended)
	}
}

// failAttempt fails the running attempt; the job then restarts or fails per
// its restart strategy.
func (cp *checkpointer) failAttempt(err error) {
	if a := cp.attempt; a != nil {
		a.fail(err)
	}
}

// attemptStarted and the other hooks below are called by the job's
// goroutines; they hand over to the coordinator goroutine.
func (cp *checkpointer) attemptStarted(a *attempt) {
	cp.post(func() { cp.attempt, cp.idle = a, false })
}

func (cp *checkpointer) taskFinished(a *attempt) {
	cp.post(func() {
		if cp.attempt != a || cp.idle {
			return
		}
		// A finished task acknowledges nothing more: checkpoints stop here, and
		// a failure from now on restores the last one taken before. After a
		// stop-with-savepoint tasks finish once its barrier has passed them;
		// the savepoint's acknowledgements are still on their way.
		cp.idle = true
		if cp.stop == nil {
			cp.exec(cp.coord.Abandon(time.Now(), "a task has finished"))
		}
	})
}

// failover aborts pending checkpoints; called after a failed attempt's tasks
// have all returned, and waits until the coordinator has done it.
func (cp *checkpointer) failover() {
	cp.call(func() {
		cp.attempt = nil
		cp.exec(cp.coord.TaskFailed(time.Now()))
	})
	if err := cp.storage.CleanupIncomplete(); err != nil {
		cp.log.Warn().Err(err).Msg("could not remove incomplete checkpoints")
	}
}

// latestRestorePoint reads back the newest completed checkpoint, or returns
// nil when none completed yet. A checkpoint that cannot be read is an error:
// never skipped for an older one.
func (cp *checkpointer) latestRestorePoint() (*restorePoint, error) {
	var latest checkpoint.CompletedCheckpoint
	var ok bool
	cp.call(func() { latest, ok = cp.coord.LatestCompleted() })
	if !ok {
		return nil, nil
	}
	return loadRestorePoint(cp.job.graph, cp.storage.FS(), cp.storage.Directory(latest.ID), false, cp.log)
}

// awaitStop waits, when the job stopped with a savepoint, until that savepoint
// has completed or failed: its acknowledgements follow the tasks' end.
func (cp *checkpointer) awaitStop() {
	var r *savepointRequest
	cp.call(func() { r = cp.stop })
	if r == nil {
		return
	}
	select {
	case <-r.ended:
	case <-cp.exited:
	}
}

// jobEnded stops checkpointing and keeps or deletes the job's checkpoints:
//   - finished (the input ended): as in Flink, every checkpoint is
//     discarded, and so are those of earlier runs of the lineage; the
//     lineage is marked finished, so that no "latest" resumes it again;
//   - stopped with a savepoint: the checkpoints are discarded, the savepoint
//     is where the job goes on from;
//   - interrupted (its context cancelled: Ctrl-C, SIGTERM): the latest
//     checkpoints are kept whatever the retention, for --resume latest;
//   - cancelled or failed: per the retention setting (Flink's
//     ExternalizedCheckpointRetention).
func (cp *checkpointer) jobEnded(err error) {
	var latest checkpoint.CompletedCheckpoint
	var any, stopped bool
	cp.call(func() {
		cp.coord.Stop()
		cp.attempt = nil
		latest, any = cp.coord.LatestCompleted()
		stopped = cp.stop != nil
	})
	j, o, s := cp.job, cp.opts, cp.storage
	keep := false
	switch {
	case err == nil && !stopped:
		if cerr := s.Clean(); cerr != nil {
			cp.log.Warn().Err(cerr).Msg("could not delete the finished job's checkpoints")
		}
		if derr := checkpoint.DiscardLineage(s.FS(), o.Dir, j.graph.Name, j.lineage, s.JobDir()); derr != nil {
			cp.log.Warn().Err(derr).Msg("could not delete the checkpoints of earlier runs of the finished job")
		}
		m := checkpoint.FinishedMarker{Lineage: j.lineage, JobID: j.ID, JobName: j.graph.Name, Finished: time.Now().UnixMilli()}
		if any {
			m.LastCheckpoint = latest.ID
		}
		if merr := s.MarkFinished(m); merr != nil {
			cp.log.Warn().Err(merr).Msg("could not mark the job finished; --resume latest might resume one of its savepoints")
		}
		return
	case err == nil:
		keep = false
	case errors.Is(err, ErrJobInterrupted):
		keep = any
		if any {
			cp.log.Warn().Int64("checkpoint", latest.ID).Str("dir", s.Directory(latest.ID)).Msg("job interrupted; its latest checkpoint is kept: run it again with --resume latest to go on from there")
		} else {
			cp.log.Warn().Msg("job interrupted before its first checkpoint completed: there is nothing to resume")
		}
	case errors.Is(err, ErrJobCancelled):
		keep = o.Retention == RetentionRetainOnCancel
	default:
		keep = o.Retention != RetentionNone && o.Retention != ""
	}
	if keep {
		if cerr := s.CleanupIncomplete(); cerr != nil {
			cp.log.Warn().Err(cerr).Msg("could not remove incomplete checkpoints")
		}
		cp.log.Info().Str("dir", s.JobDir()).Msg("checkpoints retained")
		return
	}
	if rerr := s.Clean(); rerr != nil {
		cp.log.Warn().Err(rerr).Msg("could not delete the job's checkpoints")
	}
}

// restorePoint is a completed checkpoint or savepoint read back for a restore.
type restorePoint struct {
	fs   hdfs.FileSystem
	dir  string
	meta *checkpoint.Metadata
	// fromSavepointPath: the job's initial restore (execution.savepoint.path),
	// read through its filesystem rather than state.checkpoints.dir's.
	fromSavepointPath bool
}

// loadRestorePoint reads dir's metadata and checks it against the job: every
// operator state must belong to an operator of g (unless allowNonRestored),
// keyed state needs the same max parallelism.
func loadRestorePoint(g *graph.JobGraph, fsys hdfs.FileSystem, dir string, allowNonRestored bool, log zerolog.Logger) (*restorePoint, error) {
	m, err := checkpoint.ReadMetadata(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	byID := map[string]*graph.Node{}
	for _, n := range g.Nodes {
		byID[n.ID] = n
	}
	for _, o := range m.Operators {
		n, ok := byID[o.ID]
		if !ok {
			if allowNonRestored {
				log.Warn().Str("operator", o.Name).Str("id", o.ID).Msg("state not restored: no such operator in this job")
				continue
			}
			return nil, fmt.Errorf("restore %s: the state of operator %q (id %s) matches no operator of this job; give the operator its old UID, or pass --allow-non-restored-state to drop that state", dir, o.Name, o.ID)
		}
		if n.MaxParallelism != o.MaxParallelism && hasKeyed(o.Handles) {
			return nil, fmt.Errorf("restore %s: operator %q was checkpointed with max parallelism %d and now has %d; keyed state can only be restored with the same pipeline.max-parallelism", dir, n.Name, o.MaxParallelism, n.MaxParallelism)
		}
	}
	return &restorePoint{fs: fsys, dir: dir, meta: m}, nil
}

func hasKeyed(hs []state.Handle) bool {
	for _, h := range hs {
		if h.Kind == state.KeyedKind {
			return true
		}
	}
	return false
}

// taskRestore is what the subtasks of chain c restore: the state of each of
// its operators that has state in the checkpoint (all old subtasks' handles;
// the state layer picks the key groups and list items of each subtask).
func (rp *restorePoint) taskRestore(g *graph.JobGraph, c *graph.Chain) *task.TaskRestore {
	r := &task.TaskRestore{CheckpointID: rp.meta.ID, Dir: rp.dir, FromSavepointPath: rp.fromSavepointPath}
	for _, ni := range c.Nodes {
		n := g.Nodes[ni]
		if o, ok := rp.meta.Operator(n.ID); ok {
			r.Operators = append(r.Operators, task.OperatorRestore{OperatorID: n.ID, Parallelism: n.Parallelism, OldParallelism: o.Parallelism, Handles: o.Handles})
		}
	}
	return r
}

// Savepoints.

// ErrNoCheckpointing is returned by TriggerSavepoint for a job that runs
// without checkpointing.
var ErrNoCheckpointing = errors.New("checkpointing is off for this job")

// TriggerSavepoint takes a savepoint into a new directory under dir (empty:
// state.savepoints.dir) and returns that directory once it is complete. With
// stop, the job stops after the savepoint (stop-with-savepoint); drain then
// ends the sources' input first, firing every timer and window.
func (j *Job) TriggerSavepoint(ctx context.Context, dir string, stop, drain bool) (string, error) {
	cp := j.cp
	if cp == nil {
		return "", ErrNoCheckpointing
	}
	fsys := cp.opts.SavepointFS
	if dir == "" {
		dir = cp.opts.SavepointDir
	} else {
		var err error
		if fsys, dir, err = hdfs.Resolve(dir); err != nil {
			return "", fmt.Errorf("savepoint directory: %w", err)
		}
	}
	if dir == "" {
		return "", errors.New("no savepoint directory: pass one, or set state.savepoints.dir")
	}
	if fsys == nil {
		fsys = cp.opts.FS
	}
	target := checkpoint.NewSavepointDir(dir, j.ID)
	location := hdfs.URI(fsys, target) // for other processes and the user: an HDFS path alone would mean the local disk
	r := &savepointRequest{drain: drain, done: make(chan error, 1), ended: make(chan struct{})}
	kind := checkpoint.Savepoint
	if stop {
		kind = checkpoint.SavepointStop
	}
	errc := make(chan error, 1)
	cp.post(func() {
		if cp.attempt == nil || cp.idle {
			errc <- errors.New("the job is not running every task (restarting or finishing); try again")
			return
		}
		id, cmds, err := cp.coord.TriggerSavepoint(time.Now(), kind)
		if err != nil {
			errc <- err
			return
		}
		cp.storage.SetDirectory(id, fsys, target)
		cp.savepoints[id] = r
		errc <- nil
		if err := cp.job.announceDirectory(id, location); err != nil {
			// Abort it before any barrier: the request is answered with err.
			cp.exec(cp.coord.Decline(time.Now(), id, checkpoint.TaskID{Vertex: "jobmaster"}, err.Error()))
			return
		}
		if stop {
			cp.stop = r
		}
		cp.exec(cmds)
	})
	select {
	case err := <-errc:
		if err != nil {
			return "", fmt.Errorf("savepoint: %w", err)
		}
	case <-cp.exited:
		return "", errors.New("savepoint: the job has ended")
	}
	select {
	case err := <-r.done:
		if err != nil {
			return "", err
		}
		return location, nil
	case <-ctx.Done():
		return "", ctx.Err()
	case <-cp.exited:
		return "", errors.New("savepoint: the job ended first")
	}
}

// CheckpointStats returns the coordinator's counters.
func (j *Job) CheckpointStats() checkpoint.Stats {
	if j.cp == nil {
		return checkpoint.Stats{}
	}
	var s checkpoint.Stats
	j.cp.call(func() { s = j.cp.coord.Stats() })
	return s
}
