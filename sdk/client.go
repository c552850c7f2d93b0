package sdk

import (
	"context"
	"time"

	"github.com/spate-io/spate/master/checkpoint"
	"github.com/spate-io/spate/master/jobmaster"
)

// ErrJobCancelled is wrapped by the error of a job that was cancelled
// (JobClient.Cancel) or interrupted; ErrJobInterrupted, by the error of a job
// whose Execute context was cancelled (Ctrl-C, SIGTERM), which keeps its
// latest checkpoint for a resume.
var (
	ErrJobCancelled   = jobmaster.ErrJobCancelled
	ErrJobInterrupted = jobmaster.ErrJobInterrupted
)

// JobClient is a handle on a submitted job, whatever runs it: the embedded
// cluster in this process today, a standalone or YARN cluster's REST API
// later. Its methods are safe for concurrent use.
type JobClient interface {
	// ID is the job's id.
	ID() string
	// Wait blocks until the job ends and returns its result; the error is the
	// failure that ended it, if any. The result is returned in both cases.
	Wait() (*JobResult, error)
	// Cancel stops the job; Wait then returns an error wrapping
	// ErrJobCancelled.
	Cancel()
	// TriggerSavepoint takes a savepoint into a new directory under dir
	// (empty: state.savepoints.dir) and returns its path; the job goes on.
	TriggerSavepoint(ctx context.Context, dir string) (string, error)
	// StopWithSavepoint takes a savepoint and stops the job, which then
	// finishes. With drain the sources end their input first, so every timer
	// and window fires before the savepoint (Flink's --drain); without it the
	// job resumes from the savepoint exactly where it stopped.
	StopWithSavepoint(ctx context.Context, dir string, drain bool) (string, error)
	// CheckpointStats reports the job's checkpoint counters.
	CheckpointStats() CheckpointStats
	// Restarts is how many times the job has recovered from a failure so far.
	Restarts() int
	// NumTasks is the number of subtasks that acknowledge each checkpoint.
	NumTasks() int
	// Progress is a live view of the job's metrics and exchanges.
	Progress() Progress
}

// JobResult is what a finished job reports.
type JobResult struct {
	JobID     string
	JobName   string
	Duration  time.Duration
	Operators []OperatorResult
	// Restarts is how many times the job recovered from a failure.
	Restarts int
}

// Operator returns the result of the operator with the given name, if any.
func (r *JobResult) Operator(name string) (OperatorResult, bool) {
	for _, o := range r.Operators {
		if o.Name == name {
			return o, true
		}
	}
	return OperatorResult{}, false
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

// Progress is a live view of a running job.
type Progress struct {
	Operators []OperatorResult
	Exchanges []ExchangeStats
}

// ExchangeStats is the occupancy of one input gate of one subtask.
type ExchangeStats struct {
	Task    string
	Subtask int
	Side    int
	// Channels is the number of input channels; Credits the buffers each holds.
	Channels, Credits int
	// Queued is the data buffers queued now over all channels, MaxQueued the
	// highest per-channel high-water mark, BlockedProducers the producers
	// waiting for a free buffer now (back-pressure).
	Queued, MaxQueued, BlockedProducers int
}

// CheckpointStats are a job's checkpoint counters, as Flink's REST API
// reports them.
type CheckpointStats struct {
	// Triggered counts every checkpoint and savepoint triggered; InProgress
	// those pending now; Completed those whose _metadata was written; Failed
	// every abort, whatever the cause.
	Triggered, Completed, Failed int64
	InProgress                   int
	// ConsecutiveFailures is what execution.checkpointing.tolerable-failed-checkpoints
	// is compared with.
	ConsecutiveFailures int
	// The most recent of each; a zero ID means none yet. LatestCompleted
	// includes savepoints.
	LatestCompleted, LatestSavepoint, LatestFailed CheckpointAttempt
}

// CheckpointAttempt describes one checkpoint or savepoint that ended.
type CheckpointAttempt struct {
	ID int64
	// Kind is "checkpoint", "savepoint" or "stop-with-savepoint".
	Kind             string
	Triggered, Ended time.Time
	Duration         time.Duration
	Size             int64  // bytes of state; completed only
	Reason           string // why it was aborted; failed only
}

// embeddedClient is the JobClient of a job on the embedded cluster.
type embeddedClient struct{ job *jobmaster.Job }

var _ JobClient = embeddedClient{}

func (c embeddedClient) ID() string { return c.job.ID }

func (c embeddedClient) Wait() (*JobResult, error) {
	r, err := c.job.Wait()
	if r == nil {
		return nil, err
	}
	return &JobResult{JobID: r.JobID, JobName: r.JobName, Duration: r.Duration, Operators: operatorResults(r.Operators), Restarts: r.Restarts}, err
}

func (c embeddedClient) Cancel() { c.job.Cancel() }

func (c embeddedClient) TriggerSavepoint(ctx context.Context, dir string) (string, error) {
	return c.job.TriggerSavepoint(ctx, dir, false, false)
}

func (c embeddedClient) StopWithSavepoint(ctx context.Context, dir string, drain bool) (string, error) {
	return c.job.TriggerSavepoint(ctx, dir, true, drain)
}

func (c embeddedClient) CheckpointStats() CheckpointStats {
	s := c.job.CheckpointStats()
	return CheckpointStats{Triggered: s.Triggered, Completed: s.Completed, Failed: s.Failed, InProgress: s.InProgress,
		ConsecutiveFailures: s.ConsecutiveFailures, LatestCompleted: checkpointAttempt(s.LatestCompleted),
		LatestSavepoint: checkpointAttempt(s.LatestSavepoint), LatestFailed: checkpointAttempt(s.LatestFailed)}
}

func (c embeddedClient) Restarts() int { return c.job.Restarts() }

func (c embeddedClient) NumTasks() int { return c.job.NumTasks() }

func (c embeddedClient) Progress() Progress {
	p := c.job.Progress()
	out := Progress{Operators: operatorResults(p.Operators)}
	for _, e := range p.Exchanges {
		out.Exchanges = append(out.Exchanges, ExchangeStats{Task: e.Task, Subtask: e.Subtask, Side: e.Side, Channels: e.Channels,
			Credits: e.Credits, Queued: e.Queued, MaxQueued: e.MaxQueued, BlockedProducers: e.BlockedProducers})
	}
	return out
}

func operatorResults(in []jobmaster.OperatorResult) []OperatorResult {
	out := make([]OperatorResult, len(in))
	for i, o := range in {
		out[i] = OperatorResult(o)
	}
	return out
}

func checkpointAttempt(a checkpoint.Attempt) CheckpointAttempt {
	if a.ID == 0 {
		return CheckpointAttempt{}
	}
	return CheckpointAttempt{ID: a.ID, Kind: a.Kind.String(), Triggered: a.Triggered, Ended: a.Ended,
		Duration: a.Duration, Size: a.Size, Reason: a.Reason}
}
