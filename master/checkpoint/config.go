package checkpoint

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidConfig is returned (wrapped) by Config.Validate and NewCoordinator
// when the checkpoint configuration cannot work. It is a user error: the message
// names the configuration key to change.
var ErrInvalidConfig = errors.New("invalid checkpoint configuration")

// MinInterval is the shortest checkpoint interval and timeout Flink accepts, and
// so does Spate.
const MinInterval = 10 * time.Millisecond

// Config is the checkpointing part of the job's configuration. The keys are
// Flink's; conf holds their defaults and documentation.
type Config struct {
	// Interval between periodic checkpoints (execution.checkpointing.interval);
	// 0 turns periodic checkpoints off, leaving only savepoints.
	Interval time.Duration
	// Timeout (execution.checkpointing.timeout): a checkpoint or savepoint that
	// has not completed this long after its trigger is aborted. For a periodic
	// checkpoint that is a failure.
	Timeout time.Duration
	// MinPause (execution.checkpointing.min-pause) between the completion of one
	// checkpoint or savepoint and the trigger of the next periodic checkpoint.
	MinPause time.Duration
	// MaxConcurrent (execution.checkpointing.max-concurrent-checkpoints) is how
	// many checkpoints and savepoints may be pending when a periodic checkpoint is
	// triggered.
	MaxConcurrent int
	// TolerableFailures (execution.checkpointing.tolerable-failed-checkpoints) is
	// how many consecutive checkpoint failures are tolerated; one more fails the
	// job.
	TolerableFailures int
	// Retained (state.checkpoints.num-retained) is how many completed
	// checkpoints are kept; older ones are discarded.
	Retained int
}

// DefaultConfig is Flink's default: no periodic checkpoints, a 10 minute
// timeout, no pause, one checkpoint at a time, no tolerated failure, one
// checkpoint retained.
func DefaultConfig() Config {
	return Config{Timeout: 10 * time.Minute, MaxConcurrent: 1, Retained: 1}
}

// Validate reports the first setting that cannot work, wrapping ErrInvalidConfig.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	switch {
	case c.Interval < 0 || (c.Interval > 0 && c.Interval < MinInterval):
		return bad("execution.checkpointing.interval must be 0 (no periodic checkpoints) or at least %s, got %s", MinInterval, c.Interval)
	case c.Timeout < MinInterval:
		return bad("execution.checkpointing.timeout must be at least %s, got %s", MinInterval, c.Timeout)
	case c.MinPause < 0:
		return bad("execution.checkpointing.min-pause must not be negative, got %s", c.MinPause)
	case c.MaxConcurrent < 1:
		return bad("execution.checkpointing.max-concurrent-checkpoints must be at least 1, got %d", c.MaxConcurrent)
	case c.TolerableFailures < 0:
		return bad("execution.checkpointing.tolerable-failed-checkpoints must not be negative, got %d", c.TolerableFailures)
	case c.Retained < 1:
		return bad("state.checkpoints.num-retained must be at least 1, got %d", c.Retained)
	}
	return nil
}
