package checkpoint

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Errors of TriggerSavepoint.
var (
	// ErrNotSavepoint is returned when TriggerSavepoint is asked for a kind
	// other than Savepoint or SavepointStop.
	ErrNotSavepoint = errors.New("not a savepoint kind")
	// ErrStopping is returned by TriggerSavepoint once a stop-with-savepoint is
	// pending or has completed: the job is stopping.
	ErrStopping = errors.New("a stop-with-savepoint is in progress or done")
	// ErrJobFailing is returned by TriggerSavepoint between FailJob and the
	// failover that follows it (TaskFailed).
	ErrJobFailing = errors.New("the job is failing: too many checkpoint failures")
)

// Coordinator is the checkpoint coordinator of one job: a deterministic state
// machine. Every method is a step that takes the current time and returns the
// commands the shell must execute, in order. It starts no goroutine, reads no
// clock and does no I/O. It is not safe for concurrent use: the JobMaster calls
// it from one goroutine.
type Coordinator struct {
	cfg     Config
	tasks   map[TaskID]bool
	sources []TaskID
	nextID  int64

	pending []*pendingCheckpoint // ascending ids
	orphans map[int64]bool       // aborted while its _metadata was being written

	store         []CompletedCheckpoint // retained checkpoints, oldest first
	lastSavepoint CompletedCheckpoint   // zero ID: none

	periodicBase   time.Time // the interval counts from here: last periodic trigger, failover or creation
	lastCompletion time.Time
	hasCompletion  bool

	stopped            bool  // Stop was called
	stopping           int64 // the pending stop-with-savepoint; 0: none
	stoppedBySavepoint bool  // a stop-with-savepoint completed
	failing            bool  // FailJob issued, TaskFailed not seen yet

	consecutive   int   // consecutive counted failures
	lastSucceeded int64 // failures of older checkpoints are not counted
	stats         Stats
}

type pendingCheckpoint struct {
	id         int64
	kind       Kind
	triggered  time.Time
	deadline   time.Time
	acks       map[TaskID][]StateHandle
	persisting bool // every task acknowledged; Persist issued, Persisted awaited
}

// NewCoordinator returns a coordinator for a job whose every task in tasks must
// acknowledge each checkpoint, and whose sources (a subset of tasks) inject the
// barriers. Checkpoint ids start at nextID (≥ 1); after a JobManager failover
// it must exceed every id used before. The first periodic checkpoint is due
// Interval after now.
func NewCoordinator(cfg Config, tasks, sources []TaskID, nextID int64, now time.Time) (*Coordinator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(tasks) == 0 {
		return nil, errors.New("checkpoint coordinator: no tasks")
	}
	if len(sources) == 0 {
		return nil, errors.New("checkpoint coordinator: no source tasks")
	}
	if nextID < 1 {
		return nil, fmt.Errorf("checkpoint coordinator: checkpoint ids start at 1, got %d", nextID)
	}
	set := make(map[TaskID]bool, len(tasks))
	for _, t := range tasks {
		if t.Vertex == "" || t.Subtask < 0 {
			return nil, fmt.Errorf("checkpoint coordinator: invalid task %q", t)
		}
		if set[t] {
			return nil, fmt.Errorf("checkpoint coordinator: task %s listed twice", t)
		}
		set[t] = true
	}
	seen := make(map[TaskID]bool, len(sources))
	for _, s := range sources {
		if !set[s] {
			return nil, fmt.Errorf("checkpoint coordinator: source %s is not among the tasks", s)
		}
		if seen[s] {
			return nil, fmt.Errorf("checkpoint coordinator: source %s listed twice", s)
		}
		seen[s] = true
	}
	return &Coordinator{
		cfg:          cfg,
		tasks:        set,
		sources:      slices.Clone(sources),
		nextID:       nextID,
		orphans:      map[int64]bool{},
		periodicBase: now,
	}, nil
}

// Tick lets time pass. First it aborts every pending checkpoint or savepoint
// whose timeout has passed (now ≥ trigger + Timeout; a counted failure for a
// checkpoint), in id order. Then it triggers a periodic checkpoint if one is
// due: Interval has passed since the last periodic trigger (or failover, or
// creation), MinPause has passed since the last completion, fewer than
// MaxConcurrent checkpoints and savepoints are pending, and periodic
// checkpoints are not stopped (Stop, a stop-with-savepoint, or a FailJob
// awaiting its failover). At most one checkpoint is triggered per Tick.
func (c *Coordinator) Tick(now time.Time) []Command {
	var out []Command
	for _, p := range slices.Clone(c.pending) {
		if !now.Before(p.deadline) {
			out = c.abort(out, now, p, fmt.Sprintf("expired: not complete %s after its trigger (execution.checkpointing.timeout)", c.cfg.Timeout), true)
		}
	}
	if c.periodicDue(now) {
		c.periodicBase = now
		out = append(out, c.trigger(now, Checkpoint))
	}
	return out
}

func (c *Coordinator) periodicDue(now time.Time) bool {
	switch {
	case c.cfg.Interval == 0, c.stopped, c.stopping != 0, c.stoppedBySavepoint, c.failing:
		return false
	case now.Before(c.periodicBase.Add(c.cfg.Interval)):
		return false
	case c.hasCompletion && now.Before(c.lastCompletion.Add(c.cfg.MinPause)):
		return false
	}
	return len(c.pending) < c.cfg.MaxConcurrent
}

// TriggerSavepoint starts a savepoint now and returns its id. As in Flink, a
// savepoint ignores Interval, MinPause and MaxConcurrent (a pending savepoint
// does count against MaxConcurrent when a periodic checkpoint is due), and it
// works after Stop. A SavepointStop suspends periodic checkpoints until it
// completes (for good: the job stops) or is aborted (they resume). It fails with
// ErrNotSavepoint, ErrStopping or ErrJobFailing.
func (c *Coordinator) TriggerSavepoint(now time.Time, kind Kind) (int64, []Command, error) {
	switch {
	case kind != Savepoint && kind != SavepointStop:
		return 0, nil, fmt.Errorf("trigger savepoint: %w: %s", ErrNotSavepoint, kind)
	case c.stopping != 0 || c.stoppedBySavepoint:
		return 0, nil, fmt.Errorf("trigger %s: %w", kind, ErrStopping)
	case c.failing:
		return 0, nil, fmt.Errorf("trigger %s: %w", kind, ErrJobFailing)
	}
	tb := c.trigger(now, kind)
	if kind == SavepointStop {
		c.stopping = tb.ID
	}
	return tb.ID, []Command{tb}, nil
}

func (c *Coordinator) trigger(now time.Time, kind Kind) TriggerBarrier {
	id := c.nextID
	c.nextID++
	c.pending = append(c.pending, &pendingCheckpoint{
		id: id, kind: kind, triggered: now, deadline: now.Add(c.cfg.Timeout),
		acks: make(map[TaskID][]StateHandle, len(c.tasks)),
	})
	c.stats.Triggered++
	return TriggerBarrier{ID: id, Timestamp: now, Kind: kind, Sources: slices.Clone(c.sources)}
}

// Ack records task's acknowledgement of checkpoint id with the state it wrote
// (possibly none). The coordinator keeps handles; the caller must not modify
// them. When every task has acknowledged, it returns Persist. An ack for an
// unknown, aborted or completed checkpoint, from an unknown task, or repeated
// by a task is ignored: it returns nothing and changes nothing (the first
// ack's handles stand). State written for an aborted checkpoint has no
// _metadata, so it does not exist; the shell's sweep of leftovers removes it.
func (c *Coordinator) Ack(now time.Time, id int64, task TaskID, handles []StateHandle) []Command {
	p := c.find(id)
	if p == nil || p.persisting || !c.tasks[task] {
		return nil
	}
	if _, dup := p.acks[task]; dup {
		return nil
	}
	p.acks[task] = handles
	if len(p.acks) < len(c.tasks) {
		return nil
	}
	p.persisting = true
	return []Command{Persist{ID: p.id, Kind: p.kind, Timestamp: p.triggered, Acks: p.acks}}
}

// Decline aborts checkpoint id because task could not take it; the shell also
// declines on a task's behalf when it cannot deliver TriggerBarrier to a
// source. For a checkpoint it is a counted failure; a savepoint's failure is
// reported (NotifyAborted) but not counted, as in Flink. A decline for an
// unknown, aborted or completed checkpoint, from an unknown task, or after
// every task has acknowledged is ignored.
func (c *Coordinator) Decline(now time.Time, id int64, task TaskID, reason string) []Command {
	p := c.find(id)
	if p == nil || p.persisting || !c.tasks[task] {
		return nil
	}
	return c.abort(nil, now, p, fmt.Sprintf("declined by %s: %s", task, reason), true)
}

// Persisted is the shell's answer to Persist. With err != nil the storage
// failed: the checkpoint is aborted, never completed, and for a checkpoint it
// is a counted failure. With err == nil it completes: NotifyAborted for the
// older pending checkpoints it subsumes, NotifyComplete, then Discard for the
// checkpoints retention drops; the consecutive-failure count is reset. An
// answer for a checkpoint aborted while its _metadata was being written
// returns Discard on success (its files are orphans) and nothing on failure;
// any other unexpected answer is ignored.
func (c *Coordinator) Persisted(now time.Time, id int64, err error) []Command {
	if c.orphans[id] {
		delete(c.orphans, id)
		if err == nil {
			return []Command{Discard{ID: id}}
		}
		return nil
	}
	p := c.find(id)
	if p == nil || !p.persisting {
		return nil
	}
	if err != nil {
		p.persisting = false // answered: nothing left to discard
		return c.abort(nil, now, p, fmt.Sprintf("storage failed: %v", err), true)
	}
	return c.complete(now, p)
}

// TaskFailed is a job failover: every pending checkpoint and savepoint is
// aborted, and none of it counts as a failure. The next periodic checkpoint is
// due Interval after now, and a FailJob's suspension ends. The consecutive-
// failure count is kept, as in Flink.
func (c *Coordinator) TaskFailed(now time.Time) []Command {
	var out []Command
	for _, p := range slices.Clone(c.pending) {
		out = c.abort(out, now, p, "job failover", false)
	}
	c.failing = false
	c.periodicBase = now
	return out
}

// Abandon aborts every pending checkpoint and savepoint with reason, without
// counting a failure: the job cannot complete them, but nothing went wrong (a
// bounded source finished before their barrier reached it).
func (c *Coordinator) Abandon(now time.Time, reason string) []Command {
	var out []Command
	for _, p := range slices.Clone(c.pending) {
		out = c.abort(out, now, p, reason, false)
	}
	return out
}

// Stop ends periodic checkpoints for good: the job is ending. Pending
// checkpoints go on; savepoints can still be triggered.
func (c *Coordinator) Stop() { c.stopped = true }

// Pending returns the ids of the pending checkpoints and savepoints, ascending,
// including those whose _metadata is being written.
func (c *Coordinator) Pending() []int64 {
	ids := make([]int64, len(c.pending))
	for i, p := range c.pending {
		ids[i] = p.id
	}
	return ids
}

// Completed returns the retained completed checkpoints, oldest first: at most
// Retained, all of Kind Checkpoint. Savepoints are not recovery points and are
// not kept here (see LatestSavepoint).
func (c *Coordinator) Completed() []CompletedCheckpoint { return slices.Clone(c.store) }

// LatestCompleted returns the newest retained checkpoint: the one to restore
// on failover.
func (c *Coordinator) LatestCompleted() (CompletedCheckpoint, bool) {
	if len(c.store) == 0 {
		return CompletedCheckpoint{}, false
	}
	return c.store[len(c.store)-1], true
}

// LatestSavepoint returns the newest completed savepoint (either kind).
func (c *Coordinator) LatestSavepoint() (CompletedCheckpoint, bool) {
	return c.lastSavepoint, c.lastSavepoint.ID != 0
}

// Stats returns the counters and the latest attempts.
func (c *Coordinator) Stats() Stats {
	s := c.stats
	s.InProgress = len(c.pending)
	s.ConsecutiveFailures = c.consecutive
	return s
}

func (c *Coordinator) find(id int64) *pendingCheckpoint {
	for _, p := range c.pending {
		if p.id == id {
			return p
		}
	}
	return nil
}

func (c *Coordinator) remove(id int64) {
	c.pending = slices.DeleteFunc(c.pending, func(p *pendingCheckpoint) bool { return p.id == id })
}

// abort ends p unsuccessfully. counted: the cause counts against
// TolerableFailures if p is a checkpoint newer than the last success and no
// FailJob is awaiting its failover.
func (c *Coordinator) abort(out []Command, now time.Time, p *pendingCheckpoint, reason string, counted bool) []Command {
	c.remove(p.id)
	if p.persisting {
		c.orphans[p.id] = true
	}
	if p.id == c.stopping {
		c.stopping = 0
	}
	c.stats.Failed++
	c.stats.LatestFailed = Attempt{ID: p.id, Kind: p.kind, Triggered: p.triggered, Ended: now,
		Duration: now.Sub(p.triggered), Reason: reason, Failed: true}
	c.stats.ended(c.stats.LatestFailed)
	out = append(out, NotifyAborted{ID: p.id, Reason: reason})
	if !counted || p.kind != Checkpoint || p.id <= c.lastSucceeded || c.failing {
		return out
	}
	c.consecutive++
	if c.consecutive > c.cfg.TolerableFailures {
		out = append(out, FailJob{Reason: fmt.Sprintf(
			"exceeded the checkpoint tolerable failure threshold: %d consecutive checkpoints failed and execution.checkpointing.tolerable-failed-checkpoints is %d; the last, checkpoint %d: %s",
			c.consecutive, c.cfg.TolerableFailures, p.id, reason)})
		c.consecutive = 0
		c.failing = true
	}
	return out
}

// complete ends p successfully once its _metadata is written.
func (c *Coordinator) complete(now time.Time, p *pendingCheckpoint) []Command {
	c.remove(p.id)
	cp := CompletedCheckpoint{ID: p.id, Kind: p.kind, Timestamp: p.triggered, Completed: now, Handles: p.acks}
	c.lastCompletion, c.hasCompletion = now, true
	if p.id > c.lastSucceeded {
		c.lastSucceeded = p.id
		c.consecutive = 0
	}
	var size int64
	for _, hs := range p.acks {
		for _, h := range hs {
			size += h.Size
		}
	}
	a := Attempt{ID: p.id, Kind: p.kind, Triggered: p.triggered, Ended: now, Duration: now.Sub(p.triggered), Size: size}
	c.stats.Completed++
	c.stats.LatestCompleted = a
	c.stats.ended(a)

	var out []Command
	// A checkpoint or stop-with-savepoint subsumes older pending checkpoints (not
	// savepoints), as in Flink: its notification commits their side effects too.
	// An intermediate savepoint subsumes nothing and notifies no task.
	if p.kind != Savepoint {
		for _, q := range slices.Clone(c.pending) {
			if q.id < p.id && q.kind == Checkpoint {
				out = c.abort(out, now, q, fmt.Sprintf("subsumed by %s %d", p.kind, p.id), false)
			}
		}
	}
	out = append(out, NotifyComplete{ID: p.id, Kind: p.kind})
	if p.kind != Checkpoint {
		c.lastSavepoint = cp
		c.stats.LatestSavepoint = a
		if p.kind == SavepointStop {
			c.stopping = 0
			c.stoppedBySavepoint = true
		}
		return out
	}
	c.store = append(c.store, cp)
	for len(c.store) > c.cfg.Retained {
		out = append(out, Discard{ID: c.store[0].ID})
		c.store = slices.Delete(c.store, 0, 1)
	}
	return out
}
