package jobmaster

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/spate-io/spate/conf"
)

// RestartStrategy decides, after each job failure, whether the job restarts
// and after what delay. It is Flink's RestartBackoffTimeStrategy as a pure
// step function: the caller passes the time of each failure and does the
// waiting, so the strategies read no clock, sleep nowhere and start no
// goroutines, and tests replay failure sequences exactly.
//
// The job master calls OnFailure once per job failure, from one goroutine.
// Once it has returned ok=false the job has failed for good and the strategy
// is not used again.
type RestartStrategy interface {
	// OnFailure records a failure at now and reports the delay before the
	// restart, or ok=false when the job must fail for good.
	OnFailure(now time.Time) (delay time.Duration, ok bool)
	// String describes the strategy and its settings for logs and for the
	// final error, e.g. "fixed-delay (attempts 1, delay 1 s)": the settings
	// are named by the last part of their keys, so the user sees what to
	// change.
	String() string
}

// NewRestartStrategy reads the restart-strategy.* keys from cfg (which may be
// nil). checkpointing tells the default when restart-strategy.type is unset:
// as in Flink, none without checkpointing (a restart would replay the input
// from scratch into operators whose state was lost) and exponential-delay
// with it. jitter returns a number in [0,1); nil means math/rand/v2.Float64.
// Tests pass a fixed sequence.
//
// Only the keys of the chosen strategy are checked. A combination that
// cannot work is an error that names the key and wraps conf.ErrInvalidValue,
// so that callers report it as a configuration mistake.
func NewRestartStrategy(cfg *conf.Config, checkpointing bool, jitter func() float64) (RestartStrategy, error) {
	if jitter == nil {
		jitter = rand.Float64
	}
	typ := conf.RestartStrategyType.Get(cfg)
	if typ == "" {
		typ = "none"
		if checkpointing {
			typ = "exponential-delay"
		}
	}
	switch typ {
	case "none", "off", "disable":
		return noRestart{}, nil
	case "fixed-delay", "fixeddelay":
		return &fixedDelay{
			attempts: conf.RestartFixedDelayAttempts.Get(cfg),
			delay:    conf.RestartFixedDelayDelay.Get(cfg),
		}, nil
	case "failure-rate", "failurerate":
		s := &failureRate{
			maxFailures: conf.RestartFailureRateMaxFailuresPerInterval.Get(cfg),
			interval:    conf.RestartFailureRateInterval.Get(cfg),
			delay:       conf.RestartFailureRateDelay.Get(cfg),
		}
		if s.interval <= 0 {
			return nil, mustBePositive(conf.RestartFailureRateInterval.Key())
		}
		return s, nil
	case "exponential-delay", "exponentialdelay":
		return newExponentialDelay(cfg, jitter)
	}
	// conf accepts only the values above; this catches a value added there
	// and not here.
	return nil, fmt.Errorf("restart strategy %q is not implemented", typ)
}

// restartConfigError is a restart setting that cannot work. It wraps
// conf.ErrInvalidValue: the cause is the user's configuration.
type restartConfigError struct{ msg string }

func (e *restartConfigError) Error() string { return e.msg }
func (e *restartConfigError) Unwrap() error { return conf.ErrInvalidValue }

// mustBePositive is the error for a duration that is 0 where Flink requires
// at least 1 ms; a zero interval or threshold would make its strategy
// degenerate.
func mustBePositive(key string) error {
	return &restartConfigError{fmt.Sprintf("%s must be greater than 0 ms", key)}
}

// noRestart fails the job on its first failure (none, off, disable).
type noRestart struct{}

var _ RestartStrategy = noRestart{}

func (noRestart) OnFailure(time.Time) (time.Duration, bool) { return 0, false }
func (noRestart) String() string                            { return "none" }

// fixedDelay restarts at most attempts times in the job's life, each after
// delay, as Flink's FixedDelayRestartBackoffTimeStrategy.
type fixedDelay struct {
	attempts int
	delay    time.Duration
	failures int // so far, this one included once OnFailure has counted it
}

var _ RestartStrategy = (*fixedDelay)(nil)

func (s *fixedDelay) OnFailure(time.Time) (time.Duration, bool) {
	s.failures++
	if s.failures > s.attempts {
		return 0, false
	}
	return s.delay, true
}

func (s *fixedDelay) String() string {
	return fmt.Sprintf("fixed-delay (attempts %d, delay %s)", s.attempts, conf.FormatDuration(s.delay))
}

// failureRate restarts after delay unless more than maxFailures failures,
// this one included, fall within the last interval (both ends included), as
// Flink's FailureRateRestartBackoffTimeStrategy. A burst of failures thus
// fails the job, while the same number spread out does not.
type failureRate struct {
	maxFailures     int
	interval, delay time.Duration
	// recent holds the times of the last maxFailures+1 failures, oldest
	// first: all that the rule needs.
	recent []time.Time
}

var _ RestartStrategy = (*failureRate)(nil)

func (s *failureRate) OnFailure(now time.Time) (time.Duration, bool) {
	s.recent = append(s.recent, now)
	if len(s.recent)-1 > s.maxFailures { // not len > max+1: max may be math.MaxInt
		s.recent = append(s.recent[:0], s.recent[1:]...)
	}
	if len(s.recent) > s.maxFailures && now.Sub(s.recent[0]) <= s.interval {
		return 0, false
	}
	return s.delay, true
}

func (s *failureRate) String() string {
	return fmt.Sprintf("failure-rate (max-failures-per-interval %d, failure-rate-interval %s, delay %s)",
		s.maxFailures, conf.FormatDuration(s.interval), conf.FormatDuration(s.delay))
}

// exponentialDelay is Flink's ExponentialDelayRestartBackoffTimeStrategy
// (1.19 and later). The n-th restart since the last reset (n from 0) waits
// initial·multiplierⁿ, plus or minus jitter·that, clamped to
// [initial, maxBackoff]. When the job has run for resetThreshold since its
// last restart was due, the count starts over at 0; the failure that finds
// attempts restarts already used since the last reset fails the job for good.
//
// Flink merges failures that arrive before the pending restart into one
// attempt, because it restarts failed regions while others keep running.
// Spate restarts the whole job and reports each job failure once, after the
// job has stopped, so every call counts; merging would also let a job that
// fails at once on every restart loop forever under a clock that does not
// advance.
type exponentialDelay struct {
	initial, maxBackoff, resetThreshold time.Duration
	multiplier, jitterFactor            float64
	attempts                            int
	jitter                              func() float64

	attempt     int       // restarts since the last reset
	nextRestart time.Time // when the last restart was due; zero before the first failure
}

var _ RestartStrategy = (*exponentialDelay)(nil)

func newExponentialDelay(cfg *conf.Config, jitter func() float64) (*exponentialDelay, error) {
	s := &exponentialDelay{
		initial:        conf.RestartExponentialDelayInitialBackoff.Get(cfg),
		maxBackoff:     conf.RestartExponentialDelayMaxBackoff.Get(cfg),
		resetThreshold: conf.RestartExponentialDelayResetBackoffThreshold.Get(cfg),
		multiplier:     conf.RestartExponentialDelayBackoffMultiplier.Get(cfg), // ≥ 1: conf checks
		jitterFactor:   conf.RestartExponentialDelayJitterFactor.Get(cfg),      // 0 to 1: conf checks
		attempts:       conf.RestartExponentialDelayAttempts.Get(cfg),          // ≥ 1: conf checks
		jitter:         jitter,
	}
	switch {
	case s.initial <= 0:
		return nil, mustBePositive(conf.RestartExponentialDelayInitialBackoff.Key())
	case s.maxBackoff < s.initial:
		return nil, &restartConfigError{fmt.Sprintf("%s (%s) is less than %s (%s): raise max-backoff or lower initial-backoff",
			conf.RestartExponentialDelayMaxBackoff.Key(), conf.FormatDuration(s.maxBackoff),
			conf.RestartExponentialDelayInitialBackoff.Key(), conf.FormatDuration(s.initial))}
	case s.resetThreshold <= 0:
		return nil, mustBePositive(conf.RestartExponentialDelayResetBackoffThreshold.Key())
	}
	return s, nil
}

func (s *exponentialDelay) OnFailure(now time.Time) (time.Duration, bool) {
	if s.nextRestart.IsZero() || now.Sub(s.nextRestart) >= s.resetThreshold {
		s.attempt = 0
	}
	d := s.backoff()
	s.nextRestart = now.Add(d)
	s.attempt++
	if s.attempt > s.attempts {
		return 0, false
	}
	return d, true
}

// maxFloatBackoff bounds the backoff before jitter so that the arithmetic
// stays finite when multiplierⁿ overflows; it is far above any Duration, so
// it changes no delay.
const maxFloatBackoff = 1e300

// backoff is the delay of the current attempt. As in Flink, the jitter is
// applied to the unclamped backoff and the result clamped afterwards: once
// the backoff passes maxBackoff, a negative jitter can still bring a restart
// in below it, and no jitter takes a delay below initial.
func (s *exponentialDelay) backoff() time.Duration {
	b := min(float64(s.initial)*math.Pow(s.multiplier, float64(s.attempt)), maxFloatBackoff)
	if s.jitterFactor > 0 {
		b += b * s.jitterFactor * (2*s.jitter() - 1)
	}
	switch {
	case b >= float64(s.maxBackoff):
		return s.maxBackoff
	case !(b > float64(s.initial)): // written so that a NaN from a broken jitter lands here too
		return s.initial
	}
	return min(time.Duration(math.Round(b)), s.maxBackoff)
}

func (s *exponentialDelay) String() string {
	return fmt.Sprintf("exponential-delay (initial-backoff %s, max-backoff %s, backoff-multiplier %v, jitter-factor %v, reset-backoff-threshold %s, attempts-before-reset-backoff %d)",
		conf.FormatDuration(s.initial), conf.FormatDuration(s.maxBackoff), s.multiplier, s.jitterFactor,
		conf.FormatDuration(s.resetThreshold), s.attempts)
}
