package task

import (
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/state"
)

// What crosses the seam between the JobMaster and a TaskManager: plain data
// only, so that the same values travel in-process today and as bytes between
// processes (Thrift carries them JSON-encoded). Nothing here holds a gate, a
// channel, a function or a file.

// ExecutionAttemptID names one execution of one subtask: the job, the job's
// execution attempt (0 for the first, one more after each restart), the chain
// and the subtask. Every message about a task carries it, so that a message
// of a dead attempt is recognized and dropped.
type ExecutionAttemptID struct {
	JobID   string `json:"jobId"`
	Attempt int    `json:"attempt"`
	Chain   int    `json:"chain"`
	Subtask int    `json:"subtask"`
}

func (id ExecutionAttemptID) String() string {
	return fmt.Sprintf("%s/%d/%d.%d", id.JobID, id.Attempt, id.Chain, id.Subtask)
}

// ExecutionState is what a TaskManager reports of a task, as Flink's.
type ExecutionState int

const (
	Running ExecutionState = iota
	Finished
	Failed
	Canceled
)

func (s ExecutionState) String() string {
	switch s {
	case Running:
		return "RUNNING"
	case Finished:
		return "FINISHED"
	case Failed:
		return "FAILED"
	case Canceled:
		return "CANCELED"
	}
	return fmt.Sprintf("ExecutionState(%d)", int(s))
}

// Terminal reports whether s is a final state.
func (s ExecutionState) Terminal() bool { return s != Running }

// TaskDeploymentDescriptor is everything a TaskManager needs to run one
// subtask of a chain, besides the job's graph, which it has from the job's
// own binary (matched by Fingerprint). The TaskManager binds it to local
// objects (gates, channels, storage, logger).
type TaskDeploymentDescriptor struct {
	ID ExecutionAttemptID `json:"id"`
	// Fingerprint is the JobGraph's: a TaskManager whose graph differs
	// refuses the task.
	Fingerprint string `json:"fingerprint"`
	// Inputs are the head's input gates, one per side.
	Inputs []InputGateDescriptor `json:"inputs,omitempty"`
	// Outputs are the edges leaving the chain, with the channels this subtask
	// feeds on each.
	Outputs []OutputDescriptor `json:"outputs,omitempty"`
	Knobs   TaskKnobs          `json:"knobs"`
	// Restore, when set, is the state the subtask starts from.
	Restore *TaskRestore `json:"restore,omitempty"`
}

// InputGateDescriptor is one input gate: Channels channels, numbered in the
// order the ExecutionGraph gives (by edge, then producer subtask).
type InputGateDescriptor struct {
	Side     int `json:"side"`
	Channels int `json:"channels"`
}

// OutputDescriptor is one edge leaving the chain: the channels this subtask
// feeds, in consumer subtask order.
type OutputDescriptor struct {
	Edge    int             `json:"edge"`
	Targets []ChannelTarget `json:"targets"`
}

// ChannelTarget is one channel of a consumer's input gate.
type ChannelTarget struct {
	Chain   int `json:"chain"`
	Subtask int `json:"subtask"`
	Side    int `json:"side"`
	Channel int `json:"channel"`
	// GateChannels is the number of channels of that gate.
	GateChannels int `json:"gateChannels"`
	// TaskManager is the data address of the consumer's TaskManager; empty
	// when it runs in the producer's process.
	TaskManager string `json:"taskManager,omitempty"`
}

// TaskKnobs are the settings of the task loop and the exchanges.
type TaskKnobs struct {
	BatchSize         int           `json:"batchSize"`
	Credits           int           `json:"credits"`
	BufferTimeout     time.Duration `json:"bufferTimeout"`
	BatchMode         bool          `json:"batchMode"`
	WatermarkInterval time.Duration `json:"watermarkInterval"`
	ExactlyOnce       bool          `json:"exactlyOnce"`
	Checkpointing     bool          `json:"checkpointing"`
	Lineage           string        `json:"lineage"`
}

// TaskRestore is the checkpoint or savepoint a subtask restores: the state
// handles of each of its operators that has state there.
type TaskRestore struct {
	CheckpointID int64 `json:"checkpointId"`
	// Dir is the checkpoint's directory; FromSavepointPath says it is read
	// through the filesystem of execution.savepoint.path (the job's initial
	// restore), else through state.checkpoints.dir's.
	Dir               string            `json:"dir"`
	FromSavepointPath bool              `json:"fromSavepointPath,omitempty"`
	Operators         []OperatorRestore `json:"operators"`
}

// OperatorRestore is one operator's part of a TaskRestore.
type OperatorRestore struct {
	OperatorID     string         `json:"operatorId"`
	Parallelism    int            `json:"parallelism"`
	OldParallelism int            `json:"oldParallelism"`
	Handles        []state.Handle `json:"handles"`
}

// Operator returns the restore of the operator with the given id.
func (r *TaskRestore) Operator(id string) (OperatorRestore, bool) {
	for _, o := range r.Operators {
		if o.OperatorID == id {
			return o, true
		}
	}
	return OperatorRestore{}, false
}

// TaskMetrics is a snapshot of one task's counters: per chain node, and per
// input gate.
type TaskMetrics struct {
	Operators map[int]OperatorCounts `json:"operators"`
	Gates     []GateMetrics          `json:"gates,omitempty"`
	// IdleNanos is the time the task waited for input (TaskIO.IdleNanos).
	IdleNanos int64 `json:"idleNanos,omitempty"`
	// InputWatermark is the task's input watermark, NoWatermark for none.
	InputWatermark int64 `json:"inputWatermark,omitempty"`
	// Process describes the process the task runs in, when known.
	Process *ProcessMetrics `json:"process,omitempty"`
}

// ProcessMetrics are the resources of the process that runs a task (the
// worker/metrics Process, repeated here so that this package stays a leaf
// of the runtime).
type ProcessMetrics struct {
	HeapBytes         int64 `json:"heapBytes"`
	RSSBytes          int64 `json:"rssBytes"`
	Goroutines        int64 `json:"goroutines"`
	GCPauseTotalNanos int64 `json:"gcPauseTotalNanos"`
	GCCount           int64 `json:"gcCount"`
}

// OperatorCounts are one operator instance's record counts.
type OperatorCounts struct {
	RecordsIn  int64 `json:"recordsIn"`
	RecordsOut int64 `json:"recordsOut"`
}

// GateMetrics is the occupancy of one input gate.
type GateMetrics struct {
	Side             int `json:"side"`
	Channels         int `json:"channels"`
	Queued           int `json:"queued"`
	MaxQueued        int `json:"maxQueued"`
	Credits          int `json:"credits"`
	BlockedProducers int `json:"blockedProducers"`
}

// JobMasterGateway is how a TaskManager reports to the JobMaster of a job:
// task state changes and checkpoint acknowledgements, each naming the
// execution attempt. The JobMaster drops what belongs to an attempt that is
// no longer running. Implementations must be safe for concurrent use and
// must not block for long: they are called from task goroutines.
type JobMasterGateway interface {
	UpdateTaskExecutionState(id ExecutionAttemptID, s ExecutionState, err error)
	AcknowledgeCheckpoint(id ExecutionAttemptID, checkpointID int64, handles []state.Handle)
	DeclineCheckpoint(id ExecutionAttemptID, checkpointID int64, err error)
}

// JobRegistration introduces a job to a TaskManager before its tasks are
// submitted: its graph (rebuilt from the job's binary; the same object in the
// embedded cluster), where its checkpoints go and where restores read, and
// its JobMaster.
type JobRegistration struct {
	JobID string
	Graph *graph.JobGraph
	// Storage takes the tasks' state files; nil without checkpointing.
	Storage CheckpointStorage
	// CheckpointFS reads restores from state.checkpoints.dir, SavepointPathFS
	// those from execution.savepoint.path (TaskRestore.FromSavepointPath).
	CheckpointFS, SavepointPathFS hdfs.FileSystem
	JobMaster                     JobMasterGateway
	Log                           zerolog.Logger
}
