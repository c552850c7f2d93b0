package kafka

// SetBeforeCommit makes s run fn before a checkpoint's transactions commit.
func SetBeforeCommit[T any](s *KafkaSink[T], fn func(checkpointID int64) error) { s.beforeCommit = fn }
