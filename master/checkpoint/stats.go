package checkpoint

import "time"

// Stats are the numbers behind /jobs/:id/checkpoints, shaped like Flink's.
type Stats struct {
	// Triggered counts every checkpoint and savepoint triggered.
	Triggered int64
	// InProgress is how many are pending now.
	InProgress int
	// Completed counts those whose _metadata was written.
	Completed int64
	// Failed counts every abort, whatever the cause (expired, declined, storage
	// failure, subsumed, failover), as Flink's "failed" count does.
	Failed int64
	// ConsecutiveFailures is the count compared with TolerableFailures.
	ConsecutiveFailures int
	// LatestCompleted, LatestSavepoint and LatestFailed are the most recent of
	// each; a zero ID means none yet. LatestCompleted includes savepoints.
	LatestCompleted Attempt
	LatestSavepoint Attempt
	LatestFailed    Attempt
}

// Attempt describes one checkpoint or savepoint that ended.
type Attempt struct {
	ID        int64
	Kind      Kind
	Triggered time.Time
	Ended     time.Time
	Duration  time.Duration // Ended - Triggered
	Size      int64         // sum of the state handles' sizes; completed only
	Reason    string        // why it was aborted; failed only
}
