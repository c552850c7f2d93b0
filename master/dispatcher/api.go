package dispatcher

import "encoding/json"

// The types below are Flink's REST response bodies, with Flink's JSON field
// names (hyphenated where Flink hyphenates, snake_case where it uses that,
// camelCase where it does). Times are milliseconds since the Unix epoch and
// durations milliseconds; -1 means "not yet" (an end time of a running job),
// as in Flink.

// JobStatus is a job's state, spelled as Flink's JobStatus.
type JobStatus string

// Flink's job states.
const (
	JobInitializing JobStatus = "INITIALIZING"
	JobCreated      JobStatus = "CREATED"
	JobRunning      JobStatus = "RUNNING"
	JobFailing      JobStatus = "FAILING"
	JobFailed       JobStatus = "FAILED"
	JobCancelling   JobStatus = "CANCELLING"
	JobCanceled     JobStatus = "CANCELED"
	JobFinished     JobStatus = "FINISHED"
	JobRestarting   JobStatus = "RESTARTING"
	JobSuspended    JobStatus = "SUSPENDED"
	JobReconciling  JobStatus = "RECONCILING"
)

// ExecutionState is the state of one subtask (or the aggregate of a
// vertex's subtasks), spelled as Flink's ExecutionState.
type ExecutionState string

// Flink's execution states.
const (
	ExecCreated      ExecutionState = "CREATED"
	ExecScheduled    ExecutionState = "SCHEDULED"
	ExecDeploying    ExecutionState = "DEPLOYING"
	ExecRunning      ExecutionState = "RUNNING"
	ExecFinished     ExecutionState = "FINISHED"
	ExecCanceling    ExecutionState = "CANCELING"
	ExecCanceled     ExecutionState = "CANCELED"
	ExecFailed       ExecutionState = "FAILED"
	ExecReconciling  ExecutionState = "RECONCILING"
	ExecInitializing ExecutionState = "INITIALIZING"
)

// ClusterOverview is the cluster part of GET /overview (Flink's
// ClusterOverviewWithVersion); the dispatcher adds flink-version and
// flink-commit from its Options.
type ClusterOverview struct {
	TaskManagers   int `json:"taskmanagers"`
	SlotsTotal     int `json:"slots-total"`
	SlotsAvailable int `json:"slots-available"`
	JobsRunning    int `json:"jobs-running"`
	JobsFinished   int `json:"jobs-finished"`
	JobsCancelled  int `json:"jobs-cancelled"`
	JobsFailed     int `json:"jobs-failed"`
}

// JobSummary is one job of GET /jobs/overview (Flink's JobDetails). GET /jobs
// uses only its id and state.
type JobSummary struct {
	ID               string     `json:"jid"`
	Name             string     `json:"name"`
	State            JobStatus  `json:"state"`
	StartTime        int64      `json:"start-time"`
	EndTime          int64      `json:"end-time"`
	Duration         int64      `json:"duration"`
	LastModification int64      `json:"last-modification"`
	Tasks            TaskCounts `json:"tasks"`
}

// TaskCounts counts a job's subtasks by execution state, with Flink's
// lower-case keys, plus the total.
type TaskCounts struct {
	Total        int `json:"total"`
	Created      int `json:"created"`
	Scheduled    int `json:"scheduled"`
	Deploying    int `json:"deploying"`
	Running      int `json:"running"`
	Finished     int `json:"finished"`
	Canceling    int `json:"canceling"`
	Canceled     int `json:"canceled"`
	Failed       int `json:"failed"`
	Reconciling  int `json:"reconciling"`
	Initializing int `json:"initializing"`
}

// JobDetails is GET /jobs/:jobid (Flink's JobDetailsInfo).
type JobDetails struct {
	ID             string    `json:"jid"`
	Name           string    `json:"name"`
	IsStoppable    bool      `json:"isStoppable"`
	State          JobStatus `json:"state"`
	StartTime      int64     `json:"start-time"`
	EndTime        int64     `json:"end-time"`
	Duration       int64     `json:"duration"`
	MaxParallelism int64     `json:"maxParallelism"`
	// Now is the time the snapshot was taken.
	Now int64 `json:"now"`
	// Timestamps holds when the job entered each state (Flink lists every
	// state, 0 for those not reached).
	Timestamps map[JobStatus]int64 `json:"timestamps"`
	Vertices   []Vertex            `json:"vertices"`
	// StatusCounts counts the vertices by aggregate state.
	StatusCounts map[ExecutionState]int `json:"status-counts"`
	// Plan is the job's plan as JSON (Flink's "plan": jid, name, type, nodes).
	Plan json.RawMessage `json:"plan"`
}

// Vertex is one vertex (chain) of a job in JobDetails.
type Vertex struct {
	// ID is the vertex id, 32 lowercase hexadecimal characters.
	ID             string         `json:"id"`
	Name           string         `json:"name"`
	MaxParallelism int            `json:"maxParallelism"`
	Parallelism    int            `json:"parallelism"`
	Status         ExecutionState `json:"status"`
	StartTime      int64          `json:"start-time"`
	EndTime        int64          `json:"end-time"`
	Duration       int64          `json:"duration"`
	// Tasks counts the vertex's subtasks by state (upper-case keys).
	Tasks   map[ExecutionState]int `json:"tasks"`
	Metrics IOMetrics              `json:"metrics"`
}

// IOMetrics are a vertex's record and byte counters (Flink's IOMetricsInfo).
// A *Complete flag is false while some subtask has not reported.
type IOMetrics struct {
	ReadBytes                    int64   `json:"read-bytes"`
	ReadBytesComplete            bool    `json:"read-bytes-complete"`
	WriteBytes                   int64   `json:"write-bytes"`
	WriteBytesComplete           bool    `json:"write-bytes-complete"`
	ReadRecords                  int64   `json:"read-records"`
	ReadRecordsComplete          bool    `json:"read-records-complete"`
	WriteRecords                 int64   `json:"write-records"`
	WriteRecordsComplete         bool    `json:"write-records-complete"`
	AccumulatedBackpressuredTime int64   `json:"accumulated-backpressured-time"`
	AccumulatedIdleTime          int64   `json:"accumulated-idle-time"`
	AccumulatedBusyTime          float64 `json:"accumulated-busy-time"`
}

// CheckpointStats is GET /jobs/:jobid/checkpoints (Flink's
// CheckpointingStatistics).
type CheckpointStats struct {
	Counts  CheckpointCounts  `json:"counts"`
	Summary CheckpointSummary `json:"summary"`
	Latest  LatestCheckpoints `json:"latest"`
	// History is the most recent checkpoints, newest first.
	History []CheckpointStatistics `json:"history"`
}

// CheckpointCounts are the job's checkpoint counters; savepoints count too.
type CheckpointCounts struct {
	Restored   int64 `json:"restored"`
	Total      int64 `json:"total"`
	InProgress int   `json:"in_progress"`
	Completed  int64 `json:"completed"`
	Failed     int64 `json:"failed"`
}

// CheckpointSummary summarizes the completed checkpoints.
type CheckpointSummary struct {
	CheckpointedSize  StatsSummary `json:"checkpointed_size"`
	StateSize         StatsSummary `json:"state_size"`
	EndToEndDuration  StatsSummary `json:"end_to_end_duration"`
	AlignmentBuffered StatsSummary `json:"alignment_buffered"`
	ProcessedData     StatsSummary `json:"processed_data"`
	PersistedData     StatsSummary `json:"persisted_data"`
}

// StatsSummary is Flink's StatsSummaryDto.
type StatsSummary struct {
	Min  int64   `json:"min"`
	Max  int64   `json:"max"`
	Avg  int64   `json:"avg"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
}

// LatestCheckpoints are the most recent checkpoints of each kind; nil
// encodes as null ("none yet"), as in Flink.
type LatestCheckpoints struct {
	Completed *CheckpointStatistics `json:"completed"`
	Savepoint *CheckpointStatistics `json:"savepoint"`
	Failed    *CheckpointStatistics `json:"failed"`
	Restored  *RestoredCheckpoint   `json:"restored"`
}

// CheckpointStatus is a checkpoint's state.
type CheckpointStatus string

// Flink's checkpoint states.
const (
	CheckpointInProgress CheckpointStatus = "IN_PROGRESS"
	CheckpointCompleted  CheckpointStatus = "COMPLETED"
	CheckpointFailed     CheckpointStatus = "FAILED"
)

// CheckpointStatistics is one checkpoint or savepoint. Flink's JSON carries a
// "className" discriminator ("completed", "failed", "in_progress") derived
// here from Status, and fields that only one kind has: external_path and
// discarded for completed ones, failure_timestamp and failure_message for
// failed ones.
type CheckpointStatistics struct {
	ID          int64            `json:"id"`
	Status      CheckpointStatus `json:"status"`
	IsSavepoint bool             `json:"is_savepoint"`
	// SavepointFormat is "CANONICAL" or "NATIVE" for a savepoint, nil
	// (null) for a checkpoint.
	SavepointFormat         *string `json:"savepointFormat"`
	TriggerTimestamp        int64   `json:"trigger_timestamp"`
	LatestAckTimestamp      int64   `json:"latest_ack_timestamp"`
	CheckpointedSize        int64   `json:"checkpointed_size"`
	StateSize               int64   `json:"state_size"`
	EndToEndDuration        int64   `json:"end_to_end_duration"`
	AlignmentBuffered       int64   `json:"alignment_buffered"`
	ProcessedData           int64   `json:"processed_data"`
	PersistedData           int64   `json:"persisted_data"`
	NumSubtasks             int     `json:"num_subtasks"`
	NumAcknowledgedSubtasks int     `json:"num_acknowledged_subtasks"`
	// CheckpointType is CHECKPOINT, UNALIGNED_CHECKPOINT, SAVEPOINT or
	// SYNC_SAVEPOINT (a stop-with-savepoint).
	CheckpointType string `json:"checkpoint_type"`
	// Tasks holds per-vertex statistics by vertex id; Flink leaves it empty
	// in the overview.
	Tasks map[string]TaskCheckpointStatistics `json:"tasks"`

	// Completed only.
	ExternalPath string `json:"-"`
	Discarded    bool   `json:"-"`
	// Failed only.
	FailureTimestamp int64  `json:"-"`
	FailureMessage   string `json:"-"`
}

// MarshalJSON writes Flink's shape: the className discriminator first, the
// common fields, then the fields of the checkpoint's kind.
func (c CheckpointStatistics) MarshalJSON() ([]byte, error) {
	type common CheckpointStatistics // without this method
	tasks := c.Tasks
	if tasks == nil {
		tasks = map[string]TaskCheckpointStatistics{}
	}
	c.Tasks = tasks
	switch c.Status {
	case CheckpointCompleted:
		return json.Marshal(struct {
			ClassName string `json:"className"`
			common
			ExternalPath string `json:"external_path"`
			Discarded    bool   `json:"discarded"`
		}{"completed", common(c), c.ExternalPath, c.Discarded})
	case CheckpointFailed:
		return json.Marshal(struct {
			ClassName string `json:"className"`
			common
			FailureTimestamp int64  `json:"failure_timestamp"`
			FailureMessage   string `json:"failure_message"`
		}{"failed", common(c), c.FailureTimestamp, c.FailureMessage})
	default:
		return json.Marshal(struct {
			ClassName string `json:"className"`
			common
		}{"in_progress", common(c)})
	}
}

// TaskCheckpointStatistics is one vertex's part of a checkpoint.
type TaskCheckpointStatistics struct {
	ID                      int64            `json:"id"`
	Status                  CheckpointStatus `json:"status"`
	LatestAckTimestamp      int64            `json:"latest_ack_timestamp"`
	CheckpointedSize        int64            `json:"checkpointed_size"`
	StateSize               int64            `json:"state_size"`
	EndToEndDuration        int64            `json:"end_to_end_duration"`
	AlignmentBuffered       int64            `json:"alignment_buffered"`
	ProcessedData           int64            `json:"processed_data"`
	PersistedData           int64            `json:"persisted_data"`
	NumSubtasks             int              `json:"num_subtasks"`
	NumAcknowledgedSubtasks int              `json:"num_acknowledged_subtasks"`
}

// RestoredCheckpoint is the checkpoint or savepoint the job last restored.
type RestoredCheckpoint struct {
	ID               int64  `json:"id"`
	RestoreTimestamp int64  `json:"restore_timestamp"`
	IsSavepoint      bool   `json:"is_savepoint"`
	ExternalPath     string `json:"external_path"`
}

// SavepointOperation is the state of a savepoint or stop-with-savepoint,
// for GET /jobs/:jobid/savepoints/:triggerid.
type SavepointOperation struct {
	// Done is false while the operation runs (Flink's IN_PROGRESS).
	Done bool
	// Location is the savepoint's directory once it is done and succeeded.
	Location string
	// Failure says why it failed, once it is done; nil on success.
	Failure *FailureCause
}

// FailureCause is Flink's serialized throwable, without the Java-serialized
// blob ("serialized-throwable"), which a Go cluster cannot produce.
type FailureCause struct {
	// Class names the kind of failure (Flink puts the exception class here).
	Class string `json:"class"`
	// StackTrace is the failure as text: the error message chain.
	StackTrace string `json:"stack-trace"`
}

// TaskManagerInfo is one TaskManager of GET /taskmanagers.
type TaskManagerInfo struct {
	// ID is the TaskManager's resource id (in YARN, the container id).
	ID string `json:"id"`
	// Path is its RPC address.
	Path     string `json:"path"`
	DataPort int    `json:"dataPort"`
	// JMXPort is -1: Spate has no JMX.
	JMXPort int `json:"jmxPort"`
	// TimeSinceLastHeartbeat is, despite Flink's name, the time of the last
	// heartbeat (ms since the epoch), which is what Flink sends.
	TimeSinceLastHeartbeat int64    `json:"timeSinceLastHeartbeat"`
	SlotsNumber            int      `json:"slotsNumber"`
	FreeSlots              int      `json:"freeSlots"`
	Blocked                bool     `json:"blocked"`
	Hardware               Hardware `json:"hardware"`
}

// Hardware describes a TaskManager's machine (Flink's HardwareDescription).
type Hardware struct {
	CPUCores       int   `json:"cpuCores"`
	PhysicalMemory int64 `json:"physicalMemory"`
	FreeMemory     int64 `json:"freeMemory"`
	ManagedMemory  int64 `json:"managedMemory"`
}

// ConfigEntry is one configuration key and value of GET /jobmanager/config.
type ConfigEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ExceptionEntry is one failure of a job, for GET /jobs/:jobid/exceptions
// (Flink's ExceptionInfo of the exception history).
type ExceptionEntry struct {
	// Name is the kind of failure (Flink's exception class).
	Name string `json:"exceptionName"`
	// StackTrace is the failure as text: the error message chain, and the
	// user-code frame when known.
	StackTrace string `json:"stacktrace"`
	// Timestamp is when it happened, in ms since the epoch.
	Timestamp int64 `json:"timestamp"`
	// TaskName and Location name the failing subtask and its TaskManager
	// when known; empty for a failure of the job as a whole.
	TaskName             string           `json:"taskName,omitempty"`
	Location             string           `json:"location,omitempty"`
	ConcurrentExceptions []ExceptionEntry `json:"concurrentExceptions"`
}
