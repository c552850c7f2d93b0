package jobmaster

import (
	"errors"
	"testing"
	"time"

	"github.com/spate-io/spate/conf"
)

// failure is one step of a restart test: the job runs for ran after its last
// restart (from the start, for the first failure) and then fails; the
// strategy must answer delay and ok.
type failure struct {
	ran   time.Duration
	delay time.Duration
	ok    bool
}

func TestRestartStrategies(t *testing.T) {
	const s, ms = time.Second, time.Millisecond
	tests := []struct {
		name          string
		settings      map[string]string
		checkpointing bool
		// jitters are the values jitter() returns, in order; nil means 0.5
		// (no jitter) as often as asked. A non-nil list must be used up
		// exactly.
		jitters  []float64
		str      string
		failures []failure
	}{
		{
			name:     "unset without checkpointing is none",
			str:      "none",
			failures: []failure{{0, 0, false}},
		},
		{
			name:          "off beats checkpointing",
			settings:      map[string]string{"restart-strategy.type": "off"},
			checkpointing: true,
			str:           "none",
			failures:      []failure{{time.Hour, 0, false}},
		},
		{
			name:     "disable",
			settings: map[string]string{"restart-strategy.type": "DISABLE"},
			str:      "none",
			failures: []failure{{0, 0, false}},
		},
		{
			name:     "fixed-delay defaults: one restart",
			settings: map[string]string{"restart-strategy.type": "fixed-delay"},
			str:      "fixed-delay (attempts 1, delay 1 s)",
			failures: []failure{{0, s, true}, {10 * s, 0, false}},
		},
		{
			name: "fixed-delay counts over the job's whole life",
			settings: map[string]string{"restart-strategy.type": "fixeddelay",
				"restart-strategy.fixed-delay.attempts": "3", "restart-strategy.fixed-delay.delay": "10 s"},
			str: "fixed-delay (attempts 3, delay 10 s)",
			failures: []failure{
				{0, 10 * s, true}, {time.Hour, 10 * s, true}, {48 * time.Hour, 10 * s, true},
				{30 * 24 * time.Hour, 0, false},
			},
		},
		{
			name:     "fixed-delay with no attempts",
			settings: map[string]string{"restart-strategy.type": "fixed-delay", "restart-strategy.fixed-delay.attempts": "0"},
			str:      "fixed-delay (attempts 0, delay 1 s)",
			failures: []failure{{0, 0, false}},
		},
		{
			// Failures at 0, 61 s, 121 s: the third is 60 s after the second,
			// and the window includes its ends.
			name:     "failure-rate defaults: one failure per minute",
			settings: map[string]string{"restart-strategy.type": "failure-rate"},
			str:      "failure-rate (max-failures-per-interval 1, failure-rate-interval 1 min, delay 1 s)",
			failures: []failure{{0, s, true}, {60 * s, s, true}, {59 * s, 0, false}},
		},
		{
			// Failures at 0, 10 s, 20 s.
			name: "failure-rate: a burst fails the job",
			settings: map[string]string{"restart-strategy.type": "failurerate",
				"restart-strategy.failure-rate.max-failures-per-interval": "2", "restart-strategy.failure-rate.delay": "5 s"},
			str:      "failure-rate (max-failures-per-interval 2, failure-rate-interval 1 min, delay 5 s)",
			failures: []failure{{0, 5 * s, true}, {5 * s, 5 * s, true}, {5 * s, 0, false}},
		},
		{
			// Failures at 0, 10 s, 60 s: the first is exactly one interval ago.
			name: "failure-rate: the window includes its start",
			settings: map[string]string{"restart-strategy.type": "failure-rate",
				"restart-strategy.failure-rate.max-failures-per-interval": "2", "restart-strategy.failure-rate.delay": "5 s"},
			str:      "failure-rate (max-failures-per-interval 2, failure-rate-interval 1 min, delay 5 s)",
			failures: []failure{{0, 5 * s, true}, {5 * s, 5 * s, true}, {45 * s, 0, false}},
		},
		{
			// Failures at 0, 10 s, 60.001 s (the first has left the window),
			// 70 s (10 s and 60.001 s are within it).
			name: "failure-rate: the window slides",
			settings: map[string]string{"restart-strategy.type": "failure-rate",
				"restart-strategy.failure-rate.max-failures-per-interval": "2", "restart-strategy.failure-rate.delay": "5 s"},
			str:      "failure-rate (max-failures-per-interval 2, failure-rate-interval 1 min, delay 5 s)",
			failures: []failure{{0, 5 * s, true}, {5 * s, 5 * s, true}, {45*s + ms, 5 * s, true}, {5*s - ms, 0, false}},
		},
		{
			// Failures at 0, 40 s, 80 s, 120 s, then 125 s: three within 45 s.
			name: "failure-rate: spread-out failures do not",
			settings: map[string]string{"restart-strategy.type": "failure-rate",
				"restart-strategy.failure-rate.max-failures-per-interval": "2", "restart-strategy.failure-rate.delay": "5 s"},
			str: "failure-rate (max-failures-per-interval 2, failure-rate-interval 1 min, delay 5 s)",
			failures: []failure{
				{0, 5 * s, true}, {35 * s, 5 * s, true}, {35 * s, 5 * s, true}, {35 * s, 5 * s, true}, {0, 0, false},
			},
		},
		{
			name: "failure-rate: the largest limit",
			settings: map[string]string{"restart-strategy.type": "failure-rate",
				"restart-strategy.failure-rate.max-failures-per-interval": "9223372036854775807"},
			str:      "failure-rate (max-failures-per-interval 9223372036854775807, failure-rate-interval 1 min, delay 1 s)",
			failures: []failure{{0, s, true}, {0, s, true}, {0, s, true}},
		},
		{
			// 1 s × 1.5ⁿ up to 1 min; a failure 1 s after each restart is
			// far inside the 1 h reset threshold.
			// Flink's defaults, but for a bound of 10 restarts: a job that
			// keeps failing gives up after about two minutes.
			name:          "unset with checkpointing is exponential-delay with 10 attempts",
			checkpointing: true,
			str:           "exponential-delay (initial-backoff 1 s, max-backoff 1 min, backoff-multiplier 1.5, jitter-factor 0.1, reset-backoff-threshold 1 h, attempts-before-reset-backoff 10)",
			failures: []failure{
				{0, s, true}, {s, 1500 * ms, true}, {s, 2250 * ms, true}, {s, 3375 * ms, true},
				{s, 5062500 * time.Microsecond, true}, {s, 7593750 * time.Microsecond, true},
				{s, 11390625 * time.Microsecond, true}, {s, 17085937500, true}, {s, 25628906250, true},
				{s, 38443359375, true}, {s, 0, false},
			},
		},
		{
			name:     "exponential-delay: the backoff grows to max-backoff and resets",
			settings: map[string]string{"restart-strategy.type": "exponential-delay", "restart-strategy.exponential-delay.attempts-before-reset-backoff": "100"},
			str:      "exponential-delay (initial-backoff 1 s, max-backoff 1 min, backoff-multiplier 1.5, jitter-factor 0.1, reset-backoff-threshold 1 h, attempts-before-reset-backoff 100)",
			failures: []failure{
				{0, s, true}, {s, 1500 * ms, true}, {s, 2250 * ms, true}, {s, 3375 * ms, true},
				{s, 5062500 * time.Microsecond, true}, {s, 7593750 * time.Microsecond, true},
				{s, 11390625 * time.Microsecond, true}, {s, 17085937500, true}, {s, 25628906250, true},
				{s, 38443359375, true}, {s, 57665039063, true}, // 57 665 039 062.5 ns, rounded
				{s, time.Minute, true}, {s, time.Minute, true},
				// Running for the threshold after a restart resets the backoff;
				// 1 ns less does not.
				{time.Hour, s, true}, {time.Hour - 1, 1500 * ms, true},
			},
		},
		{
			name: "exponential-delay: attempts before reset",
			settings: map[string]string{"restart-strategy.type": "exponentialdelay",
				"restart-strategy.exponential-delay.attempts-before-reset-backoff": "2"},
			str:      "exponential-delay (initial-backoff 1 s, max-backoff 1 min, backoff-multiplier 1.5, jitter-factor 0.1, reset-backoff-threshold 1 h, attempts-before-reset-backoff 2)",
			failures: []failure{{0, s, true}, {s, 1500 * ms, true}, {s, 0, false}},
		},
		{
			name: "exponential-delay: a reset gives the attempts back",
			settings: map[string]string{"restart-strategy.type": "exponential-delay",
				"restart-strategy.exponential-delay.attempts-before-reset-backoff": "2",
				"restart-strategy.exponential-delay.reset-backoff-threshold":       "10 min"},
			str: "exponential-delay (initial-backoff 1 s, max-backoff 1 min, backoff-multiplier 1.5, jitter-factor 0.1, reset-backoff-threshold 10 min, attempts-before-reset-backoff 2)",
			failures: []failure{
				{0, s, true}, {s, 1500 * ms, true}, {10 * time.Minute, s, true}, {0, 1500 * ms, true}, {0, 0, false},
			},
		},
		{
			// Backoffs 1, 2, 4, 8, 16, 32, 64 s, each ±50%: jitter never goes
			// below the initial backoff, is applied before the cap (16 s − 50%
			// = 8 s is under the 10 s cap) and never exceeds it.
			name: "exponential-delay: jitter, then clamp",
			settings: map[string]string{"restart-strategy.type": "exponential-delay",
				"restart-strategy.exponential-delay.max-backoff":        "10 s",
				"restart-strategy.exponential-delay.backoff-multiplier": "2",
				"restart-strategy.exponential-delay.jitter-factor":      "0.5"},
			jitters: []float64{0, 0, 0.75, 0.25, 0, 0.25, 0.5},
			str:     "exponential-delay (initial-backoff 1 s, max-backoff 10 s, backoff-multiplier 2, jitter-factor 0.5, reset-backoff-threshold 1 h, attempts-before-reset-backoff 10)",
			failures: []failure{
				{0, s, true}, {0, s, true}, {0, 5 * s, true}, {0, 6 * s, true}, {0, 8 * s, true},
				{0, 10 * s, true}, {0, 10 * s, true},
			},
		},
		{
			name: "exponential-delay: default jitter factor",
			settings: map[string]string{"restart-strategy.type": "exponential-delay",
				"restart-strategy.exponential-delay.initial-backoff": "100 ms"},
			jitters:  []float64{0.75, 0},
			str:      "exponential-delay (initial-backoff 100 ms, max-backoff 1 min, backoff-multiplier 1.5, jitter-factor 0.1, reset-backoff-threshold 1 h, attempts-before-reset-backoff 10)",
			failures: []failure{{0, 105 * ms, true}, {0, 135 * ms, true}},
		},
		{
			name: "exponential-delay: no jitter asks for none",
			settings: map[string]string{"restart-strategy.type": "exponential-delay",
				"restart-strategy.exponential-delay.jitter-factor":      "0",
				"restart-strategy.exponential-delay.backoff-multiplier": "1"},
			jitters:  []float64{},
			str:      "exponential-delay (initial-backoff 1 s, max-backoff 1 min, backoff-multiplier 1, jitter-factor 0, reset-backoff-threshold 1 h, attempts-before-reset-backoff 10)",
			failures: []failure{{0, s, true}, {0, s, true}, {0, s, true}},
		},
		{
			name: "exponential-delay: only its own keys are checked",
			settings: map[string]string{"restart-strategy.type": "fixed-delay",
				"restart-strategy.exponential-delay.initial-backoff":  "0 ms",
				"restart-strategy.failure-rate.failure-rate-interval": "0 ms"},
			str:      "fixed-delay (attempts 1, delay 1 s)",
			failures: []failure{{0, s, true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := conf.New()
			for k, v := range tt.settings {
				if err := cfg.Set(k, v); err != nil {
					t.Fatal(err)
				}
			}
			used := 0
			jitter := func() float64 {
				if tt.jitters == nil {
					return 0.5
				}
				if used == len(tt.jitters) {
					t.Fatalf("jitter called %d times, want %d", used+1, len(tt.jitters))
				}
				used++
				return tt.jitters[used-1]
			}
			rs, err := NewRestartStrategy(cfg, tt.checkpointing, jitter)
			if err != nil {
				t.Fatal(err)
			}
			if got := rs.String(); got != tt.str {
				t.Errorf("String() = %q\nwant       %q", got, tt.str)
			}
			now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
			for i, f := range tt.failures {
				now = now.Add(f.ran)
				delay, ok := rs.OnFailure(now)
				if delay != f.delay || ok != f.ok {
					t.Fatalf("failure %d, after running %v: OnFailure = %v, %v; want %v, %v", i, f.ran, delay, ok, f.delay, f.ok)
				}
				now = now.Add(delay)
			}
			if tt.jitters != nil && used != len(tt.jitters) {
				t.Errorf("jitter called %d times, want %d", used, len(tt.jitters))
			}
		})
	}
}

// TestExponentialDelayOverflow checks that multiplierⁿ overflowing float64
// still gives delays within [initial, max] and does not panic, with jitter
// at both ends of its range.
func TestExponentialDelayOverflow(t *testing.T) {
	cfg := conf.New()
	for k, v := range map[string]string{
		"restart-strategy.type":                                            "exponential-delay",
		"restart-strategy.exponential-delay.backoff-multiplier":            "1e10",
		"restart-strategy.exponential-delay.jitter-factor":                 "1",
		"restart-strategy.exponential-delay.max-backoff":                   "106751 d", // about the longest Duration
		"restart-strategy.exponential-delay.attempts-before-reset-backoff": "1000",
	} {
		if err := cfg.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	j := 0.5
	rs, err := NewRestartStrategy(cfg, false, func() float64 { return j })
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 100 {
		j = []float64{0, 0.5, 0.9999999999999999}[i%3]
		delay, ok := rs.OnFailure(now)  // now stands still: no reset
		want := 106751 * 24 * time.Hour // from the 2nd failure on, the backoff is ≥ 1e19 ns
		if j == 0 {
			want = time.Second // b − b·1 = 0, clamped up to the initial backoff
		}
		if !ok || delay != want {
			t.Fatalf("failure %d with jitter %v: OnFailure = %v, %v; want %v, true", i, j, delay, ok, want)
		}
	}
}

func TestRestartStrategyNilConfigAndJitter(t *testing.T) {
	rs, err := NewRestartStrategy(nil, false, nil)
	if err != nil || rs.String() != "none" {
		t.Fatalf("NewRestartStrategy(nil, false, nil) = %v, %v; want none", rs, err)
	}
	rs, err = NewRestartStrategy(nil, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 1 s ± 10%, clamped up to 1 s: math/rand decides where in [1 s, 1.1 s].
	if d, ok := rs.OnFailure(time.Now()); !ok || d < time.Second || d > 1100*time.Millisecond {
		t.Errorf("first exponential-delay restart = %v, %v; want 1 s to 1.1 s", d, ok)
	}
}

func TestRestartStrategyConfigErrors(t *testing.T) {
	tests := []struct {
		name          string
		settings      map[string]string
		checkpointing bool
		err           string
	}{
		{
			name: "max-backoff below initial-backoff",
			settings: map[string]string{"restart-strategy.type": "exponential-delay",
				"restart-strategy.exponential-delay.initial-backoff": "1 min",
				"restart-strategy.exponential-delay.max-backoff":     "30 s"},
			err: "restart-strategy.exponential-delay.max-backoff (30 s) is less than restart-strategy.exponential-delay.initial-backoff (1 min): raise max-backoff or lower initial-backoff",
		},
		{
			name: "zero initial-backoff, through the checkpointing default",
			settings: map[string]string{
				"restart-strategy.exponential-delay.initial-backoff": "0"},
			checkpointing: true,
			err:           "restart-strategy.exponential-delay.initial-backoff must be greater than 0 ms",
		},
		{
			name: "zero reset-backoff-threshold",
			settings: map[string]string{"restart-strategy.type": "exponential-delay",
				"restart-strategy.exponential-delay.reset-backoff-threshold": "0 s"},
			err: "restart-strategy.exponential-delay.reset-backoff-threshold must be greater than 0 ms",
		},
		{
			name: "zero failure-rate-interval",
			settings: map[string]string{"restart-strategy.type": "failure-rate",
				"restart-strategy.failure-rate.failure-rate-interval": "0 min"},
			err: "restart-strategy.failure-rate.failure-rate-interval must be greater than 0 ms",
		},
		{
			name: "bad exponential-delay keys are ignored when the default is none",
			settings: map[string]string{
				"restart-strategy.exponential-delay.initial-backoff": "0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := conf.New()
			for k, v := range tt.settings {
				if err := cfg.Set(k, v); err != nil {
					t.Fatal(err)
				}
			}
			rs, err := NewRestartStrategy(cfg, tt.checkpointing, func() float64 { return 0.5 })
			if tt.err == "" {
				if err != nil || rs.String() != "none" {
					t.Fatalf("NewRestartStrategy = %v, %v; want none", rs, err)
				}
				return
			}
			if err == nil || err.Error() != tt.err {
				t.Fatalf("NewRestartStrategy error = %v\nwant %s", err, tt.err)
			}
			if !errors.Is(err, conf.ErrInvalidValue) {
				t.Errorf("error %v does not wrap conf.ErrInvalidValue", err)
			}
		})
	}
}
