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
	// History is the last HistorySize checkpoints and savepoints that
	// ended, completed or failed, newest first (Flink's
	// web.checkpoints.history), for the web UI.
	History []Attempt
}

// HistorySize is how many ended checkpoints Stats.History keeps.
const HistorySize = 10

// ended records a in the history, in a new slice each time, so that a
// Stats already handed out keeps its own.
func (s *Stats) ended(a Attempt) {
	h := make([]Attempt, 0, HistorySize)
	h = append(h, a)
	h = append(h, s.History[:min(len(s.History), HistorySize-1)]...)
	s.History = h
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
	Failed    bool
}
