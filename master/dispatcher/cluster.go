package dispatcher

import (
	"context"
	"encoding/json"
	"errors"
	"io"
)

// Cluster is what the Dispatcher serves: the JobManager's view of its jobs,
// TaskManagers and configuration. The JobManager implements it; this package
// only turns HTTP requests into these calls and their results into Flink's JSON.
//
// Contract:
//   - Every job id and trigger id passed in has been validated: 32 lowercase
//     hexadecimal characters (Flink's JobID and TriggerId). Ids returned (a new
//     job's, a trigger's) must have the same form; anything else is answered
//     with 500, as a bug.
//   - Methods are called concurrently, one goroutine per request, and must not
//     block for long: actions start an operation and return (its progress is
//     read later), reads return a snapshot. Methods that take a context must
//     return once it is done (the client went away, the server is closing).
//   - Returned values belong to the caller, which only reads and encodes them;
//     the implementation must not change them afterwards.
//   - Errors are classified by wrapping the sentinels below (ErrJobNotFound,
//     ErrInvalidRequest, ...). An error that wraps none of them is internal:
//     it is logged and answered with 500, its text is not sent.
type Cluster interface {
	// Overview returns the cluster-wide counts behind /overview.
	Overview() ClusterOverview
	// Jobs returns every job the cluster knows, running or ended, for /jobs
	// and /jobs/overview.
	Jobs() []JobSummary
	// Job returns the details of one job, for /jobs/:jobid and
	// /jobs/:jobid/plan, or ErrJobNotFound.
	Job(jobID string) (JobDetails, error)
	// Checkpoints returns the checkpoint statistics of one job, or
	// ErrJobNotFound, or ErrCheckpointingDisabled when the job runs without
	// checkpoints.
	Checkpoints(jobID string) (CheckpointStats, error)
	// Exceptions returns the job's failures, newest first (none for a job
	// that never failed), or ErrJobNotFound.
	Exceptions(jobID string) ([]ExceptionEntry, error)
	// TriggerSavepoint starts a savepoint (and, with req.CancelJob, cancels the
	// job once it is complete) and returns the id under which SavepointStatus
	// reports on it. If req.TriggerID is set, that id is used (Flink's
	// idempotent trigger): a repeated request with the same id must not start
	// a second savepoint.
	TriggerSavepoint(ctx context.Context, req SavepointRequest) (triggerID string, err error)
	// Stop starts stop-with-savepoint and returns its trigger id; as in
	// Flink, its progress and final location are read with SavepointStatus.
	Stop(ctx context.Context, req StopRequest) (triggerID string, err error)
	// SavepointStatus reports on an operation started by TriggerSavepoint or
	// Stop, or returns ErrJobNotFound or ErrOperationNotFound.
	SavepointStatus(jobID, triggerID string) (SavepointOperation, error)
	// Cancel starts cancelling a job and returns without waiting for it to
	// end. A job that has already ended is an ErrConflict.
	Cancel(ctx context.Context, jobID string) error
	// TaskManagers returns every registered TaskManager, for /taskmanagers.
	TaskManagers() []TaskManagerInfo
	// Config returns the JobManager's effective configuration, for
	// /jobmanager/config. It should leave secrets out; values of keys that
	// look secret are masked here as well, as Flink does.
	Config() []ConfigEntry
	// Submit starts a job from an uploaded binary (POST /jobs) and returns its
	// id. sub.BinaryPath is a temporary file that is removed when Submit
	// returns: Submit must copy (or rename) it to wherever the job's
	// TaskManagers will fetch it before returning, and should give those
	// TaskManagers sub.BinarySHA256 to check what they fetched.
	Submit(ctx context.Context, sub Submission) (jobID string, err error)
	// Vertex returns one vertex of a job and its subtasks, for
	// /jobs/:jobid/vertices/:vertexid and its /backpressure and /watermarks,
	// or ErrJobNotFound, or ErrNotFound for a vertex the job does not have.
	Vertex(jobID, vertexID string) (VertexDetails, error)
	// JobMetrics returns a job's metrics (uptime, restarts, checkpoints) by
	// Flink's names, for /jobs/:jobid/metrics, or ErrJobNotFound.
	JobMetrics(jobID string) ([]MetricValue, error)
	// TaskManager returns one TaskManager and its metrics, for
	// /taskmanagers/:taskmanagerid, or ErrNotFound.
	TaskManager(id string) (TaskManagerDetails, error)
	// TaskManagerLog returns the last lines of a TaskManager's log, oldest
	// first, for /taskmanagers/:taskmanagerid/log, or ErrNotFound.
	TaskManagerLog(id string) ([]string, error)
	// Metrics writes every metric in Prometheus' text exposition format
	// (version 0.0.4), for GET /metrics. The output is buffered: an error
	// after a partial write is answered with 500, never with half a page.
	Metrics(w io.Writer) error
}

// The errors a Cluster wraps to say what went wrong; each becomes one HTTP
// status. Wrap them with the detail a user needs, e.g.
// fmt.Errorf("%w: no savepoint directory: pass one or set state.savepoints.dir", ErrInvalidRequest).
var (
	// ErrJobNotFound is returned by the job-scoped methods for a job id the
	// cluster does not know: 404 "Job <id> not found".
	ErrJobNotFound = errors.New("job not found")
	// ErrOperationNotFound is returned by SavepointStatus for a trigger id
	// that names no savepoint or stop of that job: 404.
	ErrOperationNotFound = errors.New("operation not found")
	// ErrCheckpointingDisabled is returned by Checkpoints for a job that runs
	// without checkpointing: 404, as Flink answers.
	ErrCheckpointingDisabled = errors.New("checkpointing is not enabled")
	// ErrInvalidRequest is wrapped when the client must change the request
	// (a savepoint without a directory and none configured, a plan that does
	// not parse, a format the job cannot write): 400 with the error's text.
	ErrInvalidRequest = errors.New("invalid request")
	// ErrNotFound is wrapped by Vertex and TaskManager for a vertex or a
	// TaskManager that does not exist: 404 with the error's text.
	ErrNotFound = errors.New("not found")
	// ErrConflict is wrapped when the request is well formed but the job's
	// state forbids it (cancel an ended job, a savepoint of a job that is
	// restarting, a trigger id reused for another operation): 409 with the
	// error's text.
	ErrConflict = errors.New("conflict")
	// ErrUnavailable is wrapped when the cluster cannot serve the request now
	// but may later (it is shutting down, it has no ResourceManager yet): 503
	// with the error's text.
	ErrUnavailable = errors.New("unavailable")
)

// SavepointRequest is POST /jobs/:jobid/savepoints.
type SavepointRequest struct {
	JobID string
	// TargetDirectory is where the savepoint goes (Flink's
	// "target-directory"); empty means state.savepoints.dir. It is passed as
	// the client sent it: resolving and checking it is the Cluster's job.
	TargetDirectory string
	// CancelJob cancels the job once the savepoint is complete ("cancel-job").
	CancelJob bool
	// TriggerID is the id the client chose for the operation, or empty
	// ("triggerId"); when set it is 32 lowercase hexadecimal characters.
	TriggerID string
	// FormatType is "", "CANONICAL" or "NATIVE" ("formatType").
	FormatType string
}

// StopRequest is POST /jobs/:jobid/stop: stop-with-savepoint.
type StopRequest struct {
	JobID string
	// TargetDirectory is as in SavepointRequest ("targetDirectory").
	TargetDirectory string
	// Drain ends the sources' input before the savepoint, so that every timer
	// and window fires (Flink's MAX_WATERMARK; "drain").
	Drain bool
	// TriggerID and FormatType are as in SavepointRequest.
	TriggerID  string
	FormatType string
}

// Submission is an uploaded job (POST /jobs).
type Submission struct {
	// BinaryPath is a temporary file (mode 0600) holding the job binary; it
	// is removed when Submit returns.
	BinaryPath string
	// BinarySize is its length in bytes, never 0.
	BinarySize int64
	// BinarySHA256 is the lowercase hex SHA-256 of the binary, computed while
	// it was received, for the TaskManagers to check the copy they run.
	BinarySHA256 string
	// Arguments are the job's command-line arguments, for main() to rebuild
	// the same graph in every role.
	Arguments []string
	// Plan is the job's plan as printed by `spate info`: a JSON object,
	// checked to be well formed and nothing more.
	Plan json.RawMessage
}
