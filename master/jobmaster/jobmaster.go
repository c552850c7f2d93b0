package jobmaster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/master/checkpoint"
	"github.com/spate-io/spate/master/resource"
	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/worker/task"
)

// Options configure one deployment.
type Options struct {
	Slots SlotAllocator
	// JobID, when set, is the job's id (else Deploy makes one).
	JobID string
	// Registered, when set, is called with the Job before any task is
	// submitted: where a JobManager makes it reachable for the reports of
	// TaskManagers in other processes.
	Registered func(*Job)
	// TaskManagers are the gateways of the slot pool's TaskManagers, by
	// SlotID.TaskManager. Gateway, when set, is asked instead: TaskManagers
	// that register while the job runs (a spare, a restarted one) join.
	TaskManagers  []TaskManagerGateway
	Gateway       func(tm int) TaskManagerGateway
	BatchSize     int
	Credits       int // buffers per channel
	BufferTimeout time.Duration
	BatchMode     bool
	// WatermarkInterval is pipeline.auto-watermark-interval.
	WatermarkInterval time.Duration
	// ExactlyOnce aligns checkpoint barriers (else at-least-once).
	ExactlyOnce bool
	// Checkpointing configures checkpoints and savepoints; nil turns both off.
	Checkpointing *CheckpointOptions
	// Restart decides whether and when a failed job restarts; nil never restarts.
	Restart RestartStrategy
	// Restore, when set, is the savepoint or retained checkpoint the job
	// starts from.
	Restore *RestoreOptions
	Log     zerolog.Logger
}

// SlotAllocator hands a job its slots and takes them back.
// *resource.SlotPool is the embedded cluster's.
type SlotAllocator interface {
	Allocate(job string, n int) ([]resource.SlotID, error)
	Release(job string)
}

// CheckpointOptions configure a job's checkpoints.
type CheckpointOptions struct {
	Config checkpoint.Config
	// Storage is where checkpoint files go, under <dir>/<job-id>/; FS and Dir
	// come from state.checkpoints.dir.
	FS  hdfs.FileSystem
	Dir string
	// SavepointFS and SavepointDir are state.savepoints.dir: the default
	// target of savepoints. SavepointFS nil means FS.
	SavepointFS  hdfs.FileSystem
	SavepointDir string
	// Retention is execution.checkpointing.externalized-checkpoint-retention.
	Retention string
	// LeaseTimeout is how long the job's lease on Dir lives without renewal
	// (state.checkpoints.lease-timeout); 0 means DefaultLeaseTimeout.
	LeaseTimeout time.Duration
}

// DefaultLeaseTimeout is the lease timeout when CheckpointOptions leave it 0.
const DefaultLeaseTimeout = 30 * time.Second

// RestoreOptions name the savepoint or checkpoint a job starts from.
type RestoreOptions struct {
	FS  hdfs.FileSystem
	Dir string
	// AllowNonRestoredState skips state of operators the job no longer has,
	// instead of failing (--allow-non-restored-state).
	AllowNonRestoredState bool
}

// Retention values, as Flink's ExternalizedCheckpointRetention.
const (
	RetentionNone           = "NO_EXTERNALIZED_CHECKPOINTS"
	RetentionDeleteOnCancel = "DELETE_ON_CANCELLATION"
	RetentionRetainOnCancel = "RETAIN_ON_CANCELLATION"
)

// ErrJobCancelled is the error of a job stopped by its caller.
var ErrJobCancelled = errors.New("job cancelled")

// ErrSuppressRestarts, wrapped by a task's error, fails the job for good
// whatever the restart strategy (Flink's SuppressRestartsException): a
// failure that a restart cannot mend.
var ErrSuppressRestarts = errors.New("unrecoverable failure")

// ErrJobInterrupted is wrapped, with ErrJobCancelled, by the error of a job
// whose context was cancelled (Ctrl-C, SIGTERM in the job binary): unlike
// Cancel, an interruption keeps the latest checkpoint whatever the
// retention, so that the next run resumes it (--resume latest).
var ErrJobInterrupted = errors.New("job interrupted")

// Job is a deployed job: one execution attempt after the other, until one
// finishes, the job is cancelled, or the restart strategy gives up.
type Job struct {
	ID      string
	graph   *graph.JobGraph
	opts    Options
	slots   []resource.SlotID
	start   time.Time
	cancel  context.CancelFunc
	userCtx context.Context
	log     zerolog.Logger
	done    chan struct{}

	eg *ExecutionGraph

	mu        sync.Mutex
	current   *attempt
	attempts  map[int]*attempt // not yet released, by number
	lostTMs   map[int]bool     // TaskManagers lost while the job ran
	err       error
	cancelled bool
	fatal     error // set by failForGood: no restart after it
	result    *Result
	restarts  int
	restored  Restore // the last restore, for the web UI and /metrics
	// Records in and out of earlier attempts, by node index.
	pastIn, pastOut map[int]int64

	cp *checkpointer // nil without checkpointing
	// lineage is the chain of runs this one continues: the restored
	// checkpoint's lineage, or this job's id on a fresh start.
	lineage string
	lease   *leaseKeeper // nil without checkpointing
}

// Result is what a finished job reports.
type Result struct {
	JobID     string
	JobName   string
	Duration  time.Duration
	Operators []OperatorResult
	// Restarts is how many times the job recovered from a failure.
	Restarts int
}

// OperatorResult sums one operator's metrics over its subtasks and, after
// restarts, over every execution attempt (records replayed after a recovery
// count again).
type OperatorResult struct {
	ID          string
	Name        string
	Parallelism int
	RecordsIn   int64
	RecordsOut  int64
}

// Operator returns the result of the operator with the given name, if any.
func (r *Result) Operator(name string) (OperatorResult, bool) {
	for _, o := range r.Operators {
		if o.Name == name {
			return o, true
		}
	}
	return OperatorResult{}, false
}

// Deploy builds the ExecutionGraph of a finalized graph and starts its tasks.
// Errors of the first attempt's set-up (including a savepoint that cannot be
// restored) are returned here; later attempts' errors go to Wait.
func Deploy(ctx context.Context, g *graph.JobGraph, o Options) (*Job, error) {
	if !g.Finalized() {
		return nil, fmt.Errorf("deploy %q: the job graph is not finalized", g.Name)
	}
	id := o.JobID
	if id == "" {
		id = NewJobID()
	}
	log := o.Log.With().Str("job", id).Logger()
	var lease *leaseKeeper
	if c := o.Checkpointing; c != nil {
		l, err := guardCheckpoints(g, id, c, log)
		if err != nil {
			return nil, err
		}
		lease = l
	}
	fail := func(err error) (*Job, error) {
		if lease != nil {
			lease.release()
		}
		return nil, err
	}
	for _, n := range g.Nodes {
		if p, ok := n.Factory.(task.Preparer); ok {
			if err := p.Prepare(n.Parallelism); err != nil {
				return fail(fmt.Errorf("%s: %w", n.Name, err))
			}
		}
	}
	var initial *restorePoint
	lineage := id
	if o.Restore != nil {
		rp, err := loadRestorePoint(g, o.Restore.FS, checkpoint.ResolveRestorePath(o.Restore.FS, o.Restore.Dir), o.Restore.AllowNonRestoredState, log)
		if err != nil {
			return fail(err)
		}
		initial, lineage = rp, rp.meta.LineageID()
		initial.fromSavepointPath = true
	}
	slots, err := o.Slots.Allocate(id, g.MaxChainParallelism())
	if err != nil {
		return fail(err)
	}
	for _, s := range slots {
		if gatewayOf(o, s.TaskManager) == nil {
			o.Slots.Release(id)
			return fail(errNoTaskManagers)
		}
	}
	jobCtx, cancel := context.WithCancel(ctx)
	j := &Job{ID: id, graph: g, opts: o, slots: slots, cancel: cancel, done: make(chan struct{}), userCtx: ctx,
		pastIn: map[int]int64{}, pastOut: map[int]int64{}, lineage: lineage, lease: lease, log: log,
		eg: NewExecutionGraph(g), attempts: map[int]*attempt{}}
	if o.Checkpointing != nil {
		cp, err := newCheckpointer(j, o.Checkpointing, initial)
		if err != nil {
			cancel()
			o.Slots.Release(id)
			return fail(err)
		}
		j.cp = cp
	}
	if o.Registered != nil {
		o.Registered(j)
	}
	if err := j.registerJob(); err != nil {
		cancel()
		o.Slots.Release(id)
		return fail(err)
	}
	// Cancelling the job's context (Cancel, or the caller's) cancels the
	// running attempt's tasks; supervise then ends the job.
	context.AfterFunc(jobCtx, func() {
		if a := j.currentAttempt(); a != nil {
			a.cancelTasks(context.Cause(jobCtx))
		}
	})
	a, err := j.newAttempt(jobCtx, 0, initial)
	if err != nil {
		cancel()
		j.unregisterJob()
		o.Slots.Release(id)
		return fail(err)
	}
	j.start = time.Now()
	j.log.Info().Str("name", g.Name).Str("lineage", lineage).Int("tasks", len(a.tasks)).Int("slots", len(slots)).Msg("job started")
	if j.cp != nil {
		go j.cp.run(jobCtx)
	}
	if lease != nil {
		lease.start(j.failForGood)
	}
	go j.supervise(jobCtx, a, initial)
	return j, nil
}

// guardCheckpoints checks that the checkpoint and savepoint directories can
// be written and takes the job's lease on the checkpoint directory: one run
// of a job at a time on its checkpoints.
func guardCheckpoints(g *graph.JobGraph, id string, c *CheckpointOptions, log zerolog.Logger) (*leaseKeeper, error) {
	if err := checkWritable(c.FS, c.Dir, "state.checkpoints.dir"); err != nil {
		return nil, err
	}
	if c.SavepointDir != "" {
		fsys := c.SavepointFS
		if fsys == nil {
			fsys = c.FS
		}
		if err := checkWritable(fsys, c.SavepointDir, "state.savepoints.dir"); err != nil {
			return nil, err
		}
	}
	ttl := c.LeaseTimeout
	if ttl <= 0 {
		ttl = DefaultLeaseTimeout
	}
	l, err := checkpoint.AcquireLease(checkpoint.LeaseOptions{FS: c.FS, Root: c.Dir, JobName: g.Name, Owner: id, TTL: ttl})
	if err != nil {
		return nil, err
	}
	return newLeaseKeeper(l, ttl, log), nil
}

// failForGood fails the job without a restart: its current attempt fails
// with err, and no new attempt starts.
func (j *Job) failForGood(err error) {
	j.mu.Lock()
	if j.fatal == nil {
		j.fatal = err
	}
	a := j.current
	j.mu.Unlock()
	if a != nil {
		a.fail(err)
	}
}

// newAttempt deploys attempt n, restored from rp when set.
func (j *Job) newAttempt(ctx context.Context, n int, rp *restorePoint) (*attempt, error) {
	a := newAttemptState(n)
	ds := j.plan(a, rp)
	j.mu.Lock()
	j.attempts[n], j.current = a, a
	if rp != nil {
		j.restored = Restore{CheckpointID: rp.meta.ID, At: time.Now(), Path: rp.dir, FromSavepointPath: rp.fromSavepointPath, Count: j.restored.Count + 1}
	}
	j.mu.Unlock()
	if err := j.submit(a, ds); err != nil {
		j.mu.Lock()
		if j.current == a {
			j.current = nil
		}
		j.mu.Unlock()
		return nil, err
	}
	// Tell the checkpointer once every task runs: a trigger before would find
	// sources that do not exist yet.
	if j.cp != nil {
		j.cp.attemptStarted(a)
	}
	if ctx.Err() != nil { // cancelled while the tasks were deployed
		a.cancelTasks(context.Cause(ctx))
	}
	return a, nil
}

func (j *Job) currentAttempt() *attempt {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.current
}

// registerJob introduces the job to every TaskManager of the slot pool.
func (j *Job) registerJob() error {
	reg := task.JobRegistration{JobID: j.ID, Graph: j.graph, JobMaster: j, Log: j.log}
	if c := j.opts.Checkpointing; c != nil {
		reg.Storage, reg.CheckpointFS = j.cp.storage, c.FS
	}
	if r := j.opts.Restore; r != nil {
		reg.SavepointPathFS = r.FS
	}
	for i, tm := range j.opts.TaskManagers {
		if err := tm.RegisterJob(reg); err != nil {
			for _, done := range j.opts.TaskManagers[:i] {
				done.UnregisterJob(j.ID)
			}
			return fmt.Errorf("register job with TaskManager %d: %w", i, err)
		}
	}
	return nil
}

func (j *Job) unregisterJob() {
	for _, tm := range j.opts.TaskManagers {
		tm.UnregisterJob(j.ID)
	}
}

// supervise runs attempts until the job ends: restarts after failures as the
// restart strategy allows, from the latest completed checkpoint.
func (j *Job) supervise(ctx context.Context, a *attempt, initial *restorePoint) {
	var err error
	for {
		err = j.await(a)
		if err == nil || j.isCancelled() || !restartable(err) {
			break
		}
		j.cancelAttempt(a, err)
		j.release(a)
		if j.cp != nil {
			j.cp.failover()
		}
		delay, ok := time.Duration(0), false
		if j.opts.Restart != nil {
			delay, ok = j.opts.Restart.OnFailure(time.Now())
		}
		if !ok {
			if j.opts.Restart != nil {
				err = fmt.Errorf("%w (restart strategy %v gave up)", err, j.opts.Restart)
			}
			break
		}
		j.log.Warn().Err(err).Dur("delay", delay).Int("attempt", a.n+1).Msg("job failed; restarting")
		select {
		case <-time.After(delay):
		case <-ctx.Done():
		}
		if j.isCancelled() || ctx.Err() != nil {
			break
		}
		if f := j.fatalErr(); f != nil {
			err = f
			break
		}
		if aerr := j.replaceLostSlots(); aerr != nil {
			err = fmt.Errorf("%w (and no slots to restart on: %w)", err, aerr)
			break
		}
		rp := initial
		if j.cp != nil {
			latest, rerr := j.cp.latestRestorePoint()
			if rerr != nil {
				err = rerr
				break
			}
			if latest != nil {
				rp = latest
			}
		}
		next, berr := j.newAttempt(ctx, a.n+1, rp)
		if berr != nil {
			// A set-up failure is a failure of the new attempt: same rules.
			next = newAttemptState(a.n + 1)
			next.err = berr
			close(next.failed)
		}
		j.mu.Lock()
		j.restarts++
		j.mu.Unlock()
		j.log.Info().Int("attempt", next.n).Int64("checkpoint", rpID(rp)).Msg("job restarted")
		a = next
	}
	j.end(a, err)
}

func rpID(rp *restorePoint) int64 {
	if rp == nil {
		return 0
	}
	return rp.meta.ID
}

// restartable tells failures worth a restart from those that would fail the
// same way again (see unmendable): corrupt checkpoint state or a directory
// that cannot be written must fail loudly, never loop.
func restartable(err error) bool {
	return !errors.Is(err, ErrJobCancelled) && !unmendable(err)
}

func (j *Job) fatalErr() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.fatal
}

// await waits until every task of a has finished (nil) or one failed.
func (j *Job) await(a *attempt) error {
	all := make(chan struct{})
	go func() { a.wg.Wait(); close(all) }()
	select {
	case <-all:
	case <-a.failed:
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// cancelAttempt stops every task of an attempt and waits until each has
// reported its final state (its snapshot writes done), then folds its metrics
// into the job's.
func (j *Job) cancelAttempt(a *attempt, cause error) {
	a.cancelTasks(cause)
	a.wg.Wait()
	j.addMetrics(a)
	j.log.Debug().Err(cause).Int("attempt", a.n).Msg("attempt cancelled")
}

func (j *Job) end(a *attempt, err error) {
	j.cancelAttempt(a, err) // the tasks have returned, or a failure stops them
	if err == nil && j.cp != nil {
		j.cp.awaitStop()
	}
	if err == nil {
		err = j.commitAtJobEnd(a)
	}
	j.release(a)
	j.unregisterJob()
	j.mu.Lock()
	if j.cancelled {
		err = j.err
	} else if err == nil && j.userCtx.Err() != nil {
		err = &interruptedError{context.Cause(j.userCtx)}
	}
	j.err = err
	j.mu.Unlock()
	if j.cp != nil {
		j.cp.jobEnded(err)
	}
	if j.lease != nil {
		j.lease.release()
	}
	j.cancel()
	j.opts.Slots.Release(j.ID)
	r := &Result{JobID: j.ID, JobName: j.graph.Name, Duration: time.Since(j.start), Operators: j.operatorResults(nil), Restarts: j.restarts}
	j.mu.Lock()
	j.result = r
	j.mu.Unlock()
	if err != nil {
		j.log.Info().Err(err).Dur("duration", r.Duration).Msg("job failed")
	} else {
		j.log.Info().Dur("duration", r.Duration).Int("restarts", r.Restarts).Msg("job finished")
	}
	close(j.done)
}

// commitAtJobEnd lets every sink commit what it pre-committed at the end of
// its input: the job has finished, no restart can take it back.
func (j *Job) commitAtJobEnd(a *attempt) error {
	for _, dt := range a.tasks {
		if err := dt.tm.CommitAtJobEnd(dt.id); err != nil {
			return fmt.Errorf("%s (%d): final commit: %w", dt.chain.Name, dt.subtask, err)
		}
	}
	return nil
}

func (j *Job) isCancelled() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.cancelled
}

// addMetrics folds a's counters into the job's totals, once.
func (j *Job) addMetrics(a *attempt) {
	in, out := a.metrics()
	j.mu.Lock()
	defer j.mu.Unlock()
	if a.counted {
		return
	}
	a.counted = true
	for ni, n := range in {
		j.pastIn[ni] += n
	}
	for ni, n := range out {
		j.pastOut[ni] += n
	}
	if j.current == a {
		j.current = nil
	}
}

// operatorResults sums the metrics of finished attempts and of live (when set).
func (j *Job) operatorResults(live *attempt) []OperatorResult {
	g := j.graph
	out := make([]OperatorResult, len(g.Nodes))
	j.mu.Lock()
	for i, n := range g.Nodes {
		out[i] = OperatorResult{ID: n.ID, Name: n.Name, Parallelism: n.Parallelism, RecordsIn: j.pastIn[i], RecordsOut: j.pastOut[i]}
	}
	j.mu.Unlock()
	if live != nil {
		in, o := live.metrics()
		for ni := range out {
			out[ni].RecordsIn += in[ni]
			out[ni].RecordsOut += o[ni]
		}
	}
	return out
}

// Done is closed when the job has ended.
func (j *Job) Done() <-chan struct{} { return j.done }

// Wait blocks until the job ends and returns its result; the error is the
// failure that ended it, if any. The result is returned in both cases.
func (j *Job) Wait() (*Result, error) {
	<-j.done
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.result, j.err
}

// NumTasks is the number of subtasks of one attempt: how many acknowledge a
// checkpoint.
func (j *Job) NumTasks() int {
	n := 0
	for _, c := range j.graph.Chains {
		n += c.Parallelism
	}
	return n
}

// Restarts is how many times the job has restarted so far.
func (j *Job) Restarts() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.restarts
}

// Cancel stops the job; Wait then returns ErrJobCancelled.
func (j *Job) Cancel() {
	j.mu.Lock()
	if j.err == nil {
		j.err = ErrJobCancelled
	}
	j.cancelled = true
	j.mu.Unlock()
	j.cancel() // cancels the running attempt's tasks
}

// Progress is a live view of a running job.
type Progress struct {
	Operators []OperatorResult
	Exchanges []ExchangeStats
}

// ExchangeStats is the occupancy of one input gate of one subtask.
type ExchangeStats struct {
	Task    string
	Subtask int
	task.GateMetrics
}

// Progress returns the job's metrics and the occupancy of its gates now.
func (j *Job) Progress() Progress {
	a := j.currentAttempt()
	p := Progress{Operators: j.operatorResults(a)}
	if a != nil {
		for _, dt := range a.tasks {
			for _, g := range dt.tm.TaskMetrics(dt.id).Gates {
				p.Exchanges = append(p.Exchanges, ExchangeStats{Task: dt.chain.Name, Subtask: dt.subtask, GateMetrics: g})
			}
		}
	}
	return p
}

// Restore is a checkpoint or savepoint an attempt of the job started from.
type Restore struct {
	CheckpointID int64
	At           time.Time
	Path         string
	// FromSavepointPath is true for the job's initial restore from
	// execution.savepoint.path.
	FromSavepointPath bool
	// Count is how many attempts started from a checkpoint or savepoint.
	Count int64
}

// LastRestore is the latest restore of the job; a zero CheckpointID means
// it never restored.
func (j *Job) LastRestore() Restore {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.restored
}

// SubtaskMetrics is one subtask of the current attempt and the counters its
// TaskManager reports for it.
type SubtaskMetrics struct {
	Chain       *graph.Chain
	Subtask     int
	TaskManager int // the resource manager's index of the slot's TaskManager
	Attempt     int
	Ended       bool
	task.TaskMetrics
}

// SubtaskMetrics asks each subtask of the current attempt for its counters
// (one TaskMetrics call per subtask), in the attempt's deployment order;
// nil between attempts.
func (j *Job) SubtaskMetrics() []SubtaskMetrics {
	a := j.currentAttempt()
	if a == nil {
		return nil
	}
	out := make([]SubtaskMetrics, 0, len(a.tasks))
	for _, dt := range a.tasks {
		out = append(out, SubtaskMetrics{Chain: dt.chain, Subtask: dt.subtask, TaskManager: dt.slot.TaskManager, Attempt: a.n,
			Ended: dt.ended.Load(), TaskMetrics: dt.tm.TaskMetrics(dt.id)})
	}
	return out
}

// NewJobID returns a new random id in Flink's form: 32 lowercase hex digits.
func NewJobID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// consumerRange is the consumer subtasks [lo, hi) that producer subtask i feeds.
// Pointwise edges follow Flink's pattern (EdgeManagerBuildUtil.connectPointwise):
// with up ≥ down, consumer j reads producers [j*up/down, (j+1)*up/down); with
// up < down, consumer j reads producer j*up/down.
func consumerRange(p graph.Partitioner, up, down, i int) (lo, hi int) {
	switch {
	case !p.Pointwise():
		return 0, down
	case up >= down:
		j := ((i+1)*down - 1) / up
		return j, j + 1
	default:
		return (i*down + up - 1) / up, ((i+1)*down + up - 1) / up
	}
}

// producerRange is the producer subtasks [lo, hi) that feed consumer subtask c.
func producerRange(p graph.Partitioner, up, down, c int) (lo, hi int) {
	switch {
	case !p.Pointwise():
		return 0, up
	case up >= down:
		return c * up / down, (c + 1) * up / down
	default:
		lo = c * up / down
		return lo, lo + 1
	}
}

func span(lo, hi int) []int {
	out := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

// consumersOf lists the consumer subtasks producer subtask `producer` feeds.
func consumersOf(p graph.Partitioner, up, down, producer int) []int {
	return span(consumerRange(p, up, down, producer))
}

// producersOf lists the producer subtasks that feed consumer subtask `consumer`.
func producersOf(p graph.Partitioner, up, down, consumer int) []int {
	return span(producerRange(p, up, down, consumer))
}
