package dispatcher

// The bodies of the endpoints the web UI reads beyond the job and cluster
// overviews, in Flink's shapes: a vertex's subtasks, back-pressure and
// watermarks, a TaskManager's details, a job's metrics.

// VertexDetails is GET /jobs/:jobid/vertices/:vertexid (Flink's
// JobVertexDetailsInfo). /backpressure and /watermarks of the vertex are
// derived from the same snapshot.
type VertexDetails struct {
	ID             string        `json:"id"`
	Name           string        `json:"name"`
	Parallelism    int           `json:"parallelism"`
	MaxParallelism int           `json:"maxParallelism"`
	Now            int64         `json:"now"`
	Subtasks       []SubtaskInfo `json:"subtasks"`
}

// SubtaskInfo is one subtask of a vertex (Flink's SubtaskExecutionAttemptDetailsInfo).
type SubtaskInfo struct {
	Subtask       int            `json:"subtask"`
	Status        ExecutionState `json:"status"`
	Attempt       int            `json:"attempt"`
	Endpoint      string         `json:"endpoint"`
	StartTime     int64          `json:"start-time"`
	EndTime       int64          `json:"end-time"`
	Duration      int64          `json:"duration"`
	Metrics       IOMetrics      `json:"metrics"`
	TaskManagerID string         `json:"taskmanager-id"`

	// InputWatermark is the subtask's current input watermark (ms), or
	// nil when none has arrived (sources, or before the first).
	InputWatermark *int64 `json:"-"`
	// BackPressureRatio is the share of the buffers of the gates this
	// subtask writes to that are full (0..1): what holds its output back.
	BackPressureRatio float64 `json:"-"`
	// IdleRatio is the share of its running time it waited for input.
	IdleRatio float64 `json:"-"`
}

// BackPressure is GET /jobs/:jobid/vertices/:vertexid/backpressure (Flink's
// JobVertexBackPressureInfo).
type BackPressure struct {
	Status       string                `json:"status"`
	Level        string                `json:"backpressureLevel"`
	EndTimestamp int64                 `json:"end-timestamp"`
	Subtasks     []SubtaskBackPressure `json:"subtasks"`
}

// SubtaskBackPressure is one subtask's part of BackPressure.
type SubtaskBackPressure struct {
	Subtask   int     `json:"subtask"`
	Attempt   int     `json:"attempt-number"`
	Level     string  `json:"backpressureLevel"`
	Ratio     float64 `json:"ratio"`
	IdleRatio float64 `json:"idleRatio"`
	BusyRatio float64 `json:"busyRatio"`
}

// backPressureLevel is Flink's classification of a ratio.
func backPressureLevel(r float64) string {
	switch {
	case r <= 0.10:
		return "ok"
	case r <= 0.5:
		return "low"
	}
	return "high"
}

// MetricValue is one metric of GET /jobs/:jobid/metrics (Flink's
// {"id", "value"}, the value as a string).
type MetricValue struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}

// TaskManagerDetails is GET /taskmanagers/:taskmanagerid (Flink's
// TaskManagerDetailsInfo): the TaskManagerInfo and its metrics.
type TaskManagerDetails struct {
	TaskManagerInfo
	Metrics TaskManagerMetrics `json:"metrics"`
	// Jobs are the jobs with subtasks on this TaskManager.
	Jobs []TaskManagerJob `json:"jobs"`
}

// TaskManagerMetrics are Flink's names for what a Go process has: heapUsed
// is the Go heap in use; rss and goroutines are Spate's own. Summed over the
// job processes the TaskManager runs.
type TaskManagerMetrics struct {
	HeapUsed          int64              `json:"heapUsed"`
	RSS               int64              `json:"rss"`
	Goroutines        int64              `json:"goroutines"`
	GarbageCollectors []GarbageCollector `json:"garbageCollectors"`
}

// GarbageCollector is Flink's GarbageCollectorInfo: Go has one collector.
type GarbageCollector struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
	// Time is the total stop-the-world pause in ms.
	Time int64 `json:"time"`
}

// TaskManagerJob is one job's process on a TaskManager, with its subtasks.
type TaskManagerJob struct {
	ID       string   `json:"jid"`
	Name     string   `json:"name"`
	Subtasks []string `json:"subtasks"`
	// HeapUsed, RSS and Goroutines are that process's.
	HeapUsed   int64 `json:"heapUsed"`
	RSS        int64 `json:"rss"`
	Goroutines int64 `json:"goroutines"`
}
