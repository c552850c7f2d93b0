package dispatcher

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"sync"
)

// A fake Cluster is right here: this package is a pure HTTP layer, and what
// is under test is the translation between HTTP and these calls. The real
// JobManager is tested against it elsewhere.

const (
	jobA       = "5e0f9c0f58b7c3b5d8c3a1f0e2d4b6a8" // running, with checkpoints
	jobB       = "0123456789abcdef0123456789abcdef" // finished, no checkpointing
	jobUnknown = "ffffffffffffffffffffffffffffffff"
	trigA      = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" // savepoint in progress
	trigB      = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" // savepoint completed
	trigC      = "cccccccccccccccccccccccccccccccc" // savepoint failed
	trigNew    = "feedfacefeedfacefeedfacefeedface" // what a trigger returns
	jobNew     = "d00dfeedd00dfeedd00dfeedd00dfeed" // what Submit returns
	vertexA    = "cbc357ccb763df2852fee8c4fc7d55f2"
	vertexB    = "90bea66de1c231edf33913ecd54406c1"
)

// hexID is the test's own, independent definition of a valid id.
var hexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

type fakeCluster struct {
	mu     sync.Mutex
	calls  []string
	ncalls int
	badIDs []string // ids that reached the cluster without being 32 hex
	// countOnly keeps the number of calls only (fuzzing makes millions).
	countOnly bool

	// jobErr, when set, is what every job-scoped method returns.
	jobErr error
	// submit handles Submit; nil accepts and returns jobNew.
	submit     func(Submission) (string, error)
	metricsErr error
	// triggerID overrides what TriggerSavepoint and Stop return.
	triggerID string
}

var _ Cluster = (*fakeCluster)(nil)

func (f *fakeCluster) record(call string, ids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ncalls++
	if !f.countOnly {
		f.calls = append(f.calls, call)
	}
	for _, id := range ids {
		if !hexID.MatchString(id) {
			f.badIDs = append(f.badIDs, id)
		}
	}
}

func (f *fakeCluster) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeCluster) NumCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ncalls
}

func (f *fakeCluster) BadIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.badIDs...)
}

func (f *fakeCluster) Overview() ClusterOverview {
	f.record("Overview()")
	return ClusterOverview{TaskManagers: 2, SlotsTotal: 8, SlotsAvailable: 5, JobsRunning: 1, JobsFinished: 1, JobsCancelled: 0, JobsFailed: 0}
}

func (f *fakeCluster) Jobs() []JobSummary {
	f.record("Jobs()")
	return []JobSummary{
		{ID: jobA, Name: "wordcount", State: JobRunning, StartTime: 1700000000000, EndTime: -1, Duration: 60000, LastModification: 1700000001000,
			Tasks: TaskCounts{Total: 3, Running: 3}},
		{ID: jobB, Name: "backfill", State: JobFinished, StartTime: 1690000000000, EndTime: 1690000100000, Duration: 100000, LastModification: 1690000100000,
			Tasks: TaskCounts{Total: 2, Finished: 2}},
	}
}

func (f *fakeCluster) Job(id string) (JobDetails, error) {
	f.record("Job("+id+")", id)
	if f.jobErr != nil {
		return JobDetails{}, f.jobErr
	}
	switch id {
	case jobA:
		return JobDetails{
			ID: jobA, Name: "wordcount", IsStoppable: false, State: JobRunning,
			StartTime: 1700000000000, EndTime: -1, Duration: 60000, MaxParallelism: -1, Now: 1700000060000,
			Timestamps: map[JobStatus]int64{JobInitializing: 1700000000000, JobCreated: 1700000000010, JobRunning: 1700000000100},
			Vertices: []Vertex{
				{ID: vertexA, Name: "Source: lines -> Map", MaxParallelism: 128, Parallelism: 2, Status: ExecRunning,
					StartTime: 1700000000200, EndTime: -1, Duration: 59800,
					Tasks:   map[ExecutionState]int{ExecRunning: 2},
					Metrics: IOMetrics{WriteBytes: 2048, WriteBytesComplete: true, WriteRecords: 100, WriteRecordsComplete: true, ReadBytesComplete: true, ReadRecordsComplete: true}},
				{ID: vertexB, Name: "Count -> Sink: print", MaxParallelism: 128, Parallelism: 1, Status: ExecRunning,
					StartTime: 1700000000200, EndTime: -1, Duration: 59800,
					Tasks:   map[ExecutionState]int{ExecRunning: 1},
					Metrics: IOMetrics{ReadBytes: 2048, ReadBytesComplete: true, ReadRecords: 100, ReadRecordsComplete: true, WriteBytesComplete: true, WriteRecordsComplete: true, AccumulatedBusyTime: 12.5}},
			},
			StatusCounts: map[ExecutionState]int{ExecRunning: 2},
			Plan:         json.RawMessage(`{"jid":"` + jobA + `","name":"wordcount","type":"STREAMING","nodes":[{"id":"` + vertexA + `","parallelism":2}]}`),
		}, nil
	case jobB:
		// Nil slices and plan: the dispatcher must still send [] and {}.
		return JobDetails{ID: jobB, Name: "backfill", State: JobFinished, StartTime: 1690000000000, EndTime: 1690000100000, Duration: 100000,
			MaxParallelism: -1, Now: 1700000060000, Timestamps: map[JobStatus]int64{JobFinished: 1690000100000}, StatusCounts: map[ExecutionState]int{}}, nil
	}
	return JobDetails{}, ErrJobNotFound
}

func (f *fakeCluster) Checkpoints(id string) (CheckpointStats, error) {
	f.record("Checkpoints("+id+")", id)
	if f.jobErr != nil {
		return CheckpointStats{}, f.jobErr
	}
	switch id {
	case jobA:
		native := "CANONICAL"
		completed := CheckpointStatistics{ID: 7, Status: CheckpointCompleted, TriggerTimestamp: 1700000050000, LatestAckTimestamp: 1700000050090,
			CheckpointedSize: 4096, StateSize: 4096, EndToEndDuration: 90, NumSubtasks: 3, NumAcknowledgedSubtasks: 3, CheckpointType: "CHECKPOINT",
			ExternalPath: "hdfs:///ckpt/" + jobA + "/chk-7"}
		savepoint := CheckpointStatistics{ID: 5, Status: CheckpointCompleted, IsSavepoint: true, SavepointFormat: &native, TriggerTimestamp: 1700000030000,
			LatestAckTimestamp: 1700000030200, CheckpointedSize: 4000, StateSize: 4000, EndToEndDuration: 200, NumSubtasks: 3, NumAcknowledgedSubtasks: 3,
			CheckpointType: "SAVEPOINT", ExternalPath: "hdfs:///sp/savepoint-5e0f9c-1", Discarded: false}
		failed := CheckpointStatistics{ID: 6, Status: CheckpointFailed, TriggerTimestamp: 1700000040000, NumSubtasks: 3, NumAcknowledgedSubtasks: 1,
			CheckpointType: "CHECKPOINT", FailureTimestamp: 1700000045000, FailureMessage: "Checkpoint expired before completing."}
		pending := CheckpointStatistics{ID: 8, Status: CheckpointInProgress, TriggerTimestamp: 1700000059000, NumSubtasks: 3, NumAcknowledgedSubtasks: 2,
			CheckpointType: "CHECKPOINT", Tasks: map[string]TaskCheckpointStatistics{vertexA: {ID: 8, Status: CheckpointInProgress, NumSubtasks: 2, NumAcknowledgedSubtasks: 2}}}
		return CheckpointStats{
			Counts: CheckpointCounts{Restored: 1, Total: 8, InProgress: 1, Completed: 6, Failed: 1},
			Summary: CheckpointSummary{
				CheckpointedSize: StatsSummary{Min: 4000, Max: 4096, Avg: 4048, P50: 4048, P90: 4096, P95: 4096, P99: 4096, P999: 4096},
				StateSize:        StatsSummary{Min: 4000, Max: 4096, Avg: 4048, P50: 4048, P90: 4096, P95: 4096, P99: 4096, P999: 4096},
				EndToEndDuration: StatsSummary{Min: 90, Max: 200, Avg: 145, P50: 145, P90: 200, P95: 200, P99: 200, P999: 200},
			},
			Latest:  LatestCheckpoints{Completed: &completed, Savepoint: &savepoint, Failed: &failed, Restored: &RestoredCheckpoint{ID: 3, RestoreTimestamp: 1700000000050, IsSavepoint: true, ExternalPath: "hdfs:///sp/savepoint-old"}},
			History: []CheckpointStatistics{pending, completed, failed, savepoint},
		}, nil
	case jobB:
		return CheckpointStats{}, ErrCheckpointingDisabled
	}
	return CheckpointStats{}, ErrJobNotFound
}

func (f *fakeCluster) trigger(id, dir, requested string) (string, error) {
	if f.jobErr != nil {
		return "", f.jobErr
	}
	switch id {
	case jobA:
	case jobB:
		return "", fmt.Errorf("%w: job %s has already finished", ErrConflict, id)
	default:
		return "", ErrJobNotFound
	}
	if dir == "" {
		return "", fmt.Errorf("%w: no savepoint directory: pass one or set state.savepoints.dir", ErrInvalidRequest)
	}
	switch {
	case f.triggerID != "":
		return f.triggerID, nil
	case requested != "":
		return requested, nil
	}
	return trigNew, nil
}

func (f *fakeCluster) TriggerSavepoint(_ context.Context, req SavepointRequest) (string, error) {
	f.record(fmt.Sprintf("TriggerSavepoint(%+v)", req), req.JobID)
	if req.TriggerID != "" {
		f.record("requested trigger", req.TriggerID)
	}
	return f.trigger(req.JobID, req.TargetDirectory, req.TriggerID)
}

func (f *fakeCluster) Stop(_ context.Context, req StopRequest) (string, error) {
	f.record(fmt.Sprintf("Stop(%+v)", req), req.JobID)
	if req.TriggerID != "" {
		f.record("requested trigger", req.TriggerID)
	}
	return f.trigger(req.JobID, req.TargetDirectory, req.TriggerID)
}

func (f *fakeCluster) Exceptions(id string) ([]ExceptionEntry, error) {
	f.record("Exceptions("+id+")", id)
	if f.jobErr != nil {
		return nil, f.jobErr
	}
	switch id {
	case jobA:
		return []ExceptionEntry{{Name: "TaskFailure", StackTrace: "map: boom\nmain.tokenize (job.go:42)", Timestamp: 1700000055000,
			TaskName: "Map (1/2)", Location: "tm-1"}}, nil
	case jobB:
		return nil, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrJobNotFound, id)
}

func (f *fakeCluster) SavepointStatus(id, trigger string) (SavepointOperation, error) {
	f.record("SavepointStatus("+id+", "+trigger+")", id, trigger)
	if f.jobErr != nil {
		return SavepointOperation{}, f.jobErr
	}
	if id != jobA {
		return SavepointOperation{}, ErrJobNotFound
	}
	switch trigger {
	case trigA:
		return SavepointOperation{}, nil
	case trigB:
		return SavepointOperation{Done: true, Location: "hdfs:///sp/savepoint-5e0f9c-2"}, nil
	case trigC:
		return SavepointOperation{Done: true, Location: "ignored", Failure: &FailureCause{Class: "checkpoint.ErrDeclined", StackTrace: "savepoint 9 declined by Count (1/1): not running"}}, nil
	}
	return SavepointOperation{}, ErrOperationNotFound
}

func (f *fakeCluster) Cancel(_ context.Context, id string) error {
	f.record("Cancel("+id+")", id)
	if f.jobErr != nil {
		return f.jobErr
	}
	switch id {
	case jobA:
		return nil
	case jobB:
		return fmt.Errorf("%w: job %s has already finished", ErrConflict, id)
	}
	return ErrJobNotFound
}

func (f *fakeCluster) TaskManagers() []TaskManagerInfo {
	f.record("TaskManagers()")
	return []TaskManagerInfo{{
		ID: "container_1700000000000_0001_01_000002", Path: "10.0.0.5:35001", DataPort: 35002, JMXPort: -1,
		TimeSinceLastHeartbeat: 1700000059000, SlotsNumber: 4, FreeSlots: 1,
		Hardware: Hardware{CPUCores: 8, PhysicalMemory: 34359738368, FreeMemory: 1073741824, ManagedMemory: 536870912},
	}}
}

func (f *fakeCluster) Config() []ConfigEntry {
	f.record("Config()")
	return []ConfigEntry{
		{Key: "state.checkpoints.dir", Value: "hdfs:///ckpt"},
		{Key: "security.ssl.rest.keystore-password", Value: "hunter2"},
		{Key: "rest.auth.Token", Value: "abc"},
		{Key: "taskmanager.numberOfTaskSlots", Value: "4"},
	}
}

func (f *fakeCluster) Submit(_ context.Context, sub Submission) (string, error) {
	f.record("Submit()")
	if f.submit != nil {
		return f.submit(sub)
	}
	return jobNew, nil
}

const promText = `# HELP spate_task_records_in_total Records read by a subtask.
# TYPE spate_task_records_in_total counter
spate_task_records_in_total{job="5e0f9c0f58b7c3b5d8c3a1f0e2d4b6a8",task="Count",subtask="0"} 100
spate_checkpoint_duration_seconds{job="5e0f9c0f58b7c3b5d8c3a1f0e2d4b6a8"} 0.09
`

func (f *fakeCluster) Metrics(w io.Writer) error {
	f.record("Metrics()")
	if f.metricsErr != nil {
		io.WriteString(w, "spate_partial 1\n")
		return f.metricsErr
	}
	_, err := io.WriteString(w, promText)
	return err
}

// sha256File hashes a file independently of the code under test.
func sha256File(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

func (f *fakeCluster) Vertex(jobID, vertexID string) (VertexDetails, error) {
	f.record("Vertex("+jobID+","+vertexID+")", jobID, vertexID)
	if f.jobErr != nil {
		return VertexDetails{}, f.jobErr
	}
	if jobID != jobA {
		return VertexDetails{}, ErrJobNotFound
	}
	if vertexID != vertexA {
		return VertexDetails{}, fmt.Errorf("%w: job %s has no vertex %s", ErrNotFound, jobID, vertexID)
	}
	wm := int64(1700000000000)
	return VertexDetails{ID: vertexA, Name: "Source: ids -> Map", Parallelism: 2, MaxParallelism: 128, Now: 1700000060000,
		Subtasks: []SubtaskInfo{
			{Subtask: 0, Status: ExecRunning, Endpoint: "10.0.0.5:35001", StartTime: 1700000000000, EndTime: -1, Duration: 60000, TaskManagerID: "tm-0",
				Metrics:        IOMetrics{ReadRecords: 10, ReadRecordsComplete: true, WriteRecords: 20, WriteRecordsComplete: true, AccumulatedIdleTime: 5},
				InputWatermark: &wm, BackPressureRatio: 0.75, IdleRatio: 0.125},
			{Subtask: 1, Status: ExecRunning, Attempt: 1, Endpoint: "10.0.0.6:35001", StartTime: 1700000000000, EndTime: -1, Duration: 60000, TaskManagerID: "tm-1",
				BackPressureRatio: 0.05, IdleRatio: 0.5},
		}}, nil
}

func (f *fakeCluster) JobMetrics(jobID string) ([]MetricValue, error) {
	f.record("JobMetrics("+jobID+")", jobID)
	if jobID != jobA {
		return nil, ErrJobNotFound
	}
	return []MetricValue{{"uptime", "60000"}, {"numRestarts", "1"}, {"numberOfCompletedCheckpoints", "3"}}, nil
}

func (f *fakeCluster) TaskManager(id string) (TaskManagerDetails, error) {
	f.record("TaskManager(" + id + ")")
	if id != "tm-0" {
		return TaskManagerDetails{}, fmt.Errorf("%w: no TaskManager %q is registered", ErrNotFound, id)
	}
	return TaskManagerDetails{TaskManagerInfo: TaskManagerInfo{ID: "tm-0", Path: "10.0.0.5:35001", JMXPort: -1, SlotsNumber: 2, FreeSlots: 1},
		Metrics: TaskManagerMetrics{HeapUsed: 1000, RSS: 4000, Goroutines: 12},
		Jobs:    []TaskManagerJob{{ID: jobA, Name: "a"}}}, nil
}

func (f *fakeCluster) TaskManagerLog(id string) ([]string, error) {
	f.record("TaskManagerLog(" + id + ")")
	if id != "tm-0" {
		return nil, fmt.Errorf("%w: no TaskManager %q is registered", ErrNotFound, id)
	}
	return []string{`{"level":"info","message":"registered"}`, "job output <b>"}, nil
}
