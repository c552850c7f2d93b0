package conf

import "time"

// The table. Keep it sorted by subsystem, keep each doc to one sentence, and
// add every new key to spate.yaml too (a test checks).
var (
	// Parallelism.

	ParallelismDefault = Int("parallelism.default", 1,
		"Parallelism of operators and sources that do not set their own.").Min(1)
	MaxParallelism = Int("pipeline.max-parallelism", 128,
		"Number of key groups, which bounds the parallelism that keyed state can be rescaled to.").Min(1).Max(32768)

	// Cluster.

	NumberOfTaskSlots = Int("taskmanager.numberOfTaskSlots", 1,
		"Slots per TaskManager, each running one subtask of every chain; the embedded cluster sizes itself to the job when this is not set.").Min(1)
	MiniClusterTaskManagers = Int("minicluster.number-of-taskmanagers", 1,
		"Number of TaskManagers the embedded cluster starts.").Min(1)

	// Data exchange between tasks.

	BufferTimeout = Duration("execution.buffer-timeout", 100*time.Millisecond,
		"Longest time a partly filled network buffer waits before it is flushed: lower means less latency, higher more throughput.")
	BatchSize = Int("execution.batch-size", 1024,
		"Records per batch handed from one task to the next.").Min(1)
	BuffersPerChannel = Int("taskmanager.network.memory.buffers-per-channel", 2,
		"Credits: buffers each input channel can hold before its producer blocks.").Min(1)

	// Execution.

	RuntimeMode = Enum("execution.runtime-mode", "streaming", []string{"streaming", "batch", "automatic"},
		"How the job runs, as in Flink: streaming, batch (every source must be bounded), or automatic (batch when every source is bounded).")
	AutoWatermarkInterval = Duration("pipeline.auto-watermark-interval", 200*time.Millisecond,
		"How often sources with a watermark strategy emit their watermark.")
	Target = Enum("execution.target", "embedded", []string{"embedded"},
		"Where Execute runs the job; only the embedded cluster, inside the job's own process, exists so far.")

	// Logging.

	LogLevel = Enum("log.level", "warn", []string{"trace", "debug", "info", "warn", "error"},
		"Least severe level of the log messages written to stderr.")
	LogFormat = Enum("log.format", "auto", []string{"auto", "json", "console"},
		"Format of the log on stderr: json, console (for people), or auto (console on a terminal, JSON otherwise).")
)
