package conf_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spate-io/spate/conf"
)

// clearEnv makes Load see neither a conf dir nor properties.
func clearEnv(t *testing.T) {
	t.Helper()
	t.Setenv(conf.EnvConfDir, "")
	t.Setenv(conf.EnvProperties, "")
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSet(t *testing.T) {
	tests := []struct {
		key, value string
		want       string // stored value, when err is ""
		err        string
	}{
		// int
		{"parallelism.default", "4", "4", ""},
		{"parallelism.default", " 4 ", "4", ""},
		{"parallelism.default", "+4", "4", ""},
		{"parallelism.default", "abc", "", `invalid value "abc" for parallelism.default: want an integer ≥ 1`},
		{"parallelism.default", "0", "", `invalid value "0" for parallelism.default: want an integer ≥ 1`},
		{"parallelism.default", "1.5", "", `invalid value "1.5" for parallelism.default: want an integer ≥ 1`},
		{"parallelism.default", "", "", `invalid value "" for parallelism.default: want an integer ≥ 1`},
		{"pipeline.max-parallelism", "32768", "32768", ""},
		{"pipeline.max-parallelism", "32769", "", `invalid value "32769" for pipeline.max-parallelism: want an integer from 1 to 32768`},
		{"execution.batch-size", "0", "", `invalid value "0" for execution.batch-size: want an integer ≥ 1`},
		{"taskmanager.network.memory.buffers-per-channel", "-1", "", `invalid value "-1" for taskmanager.network.memory.buffers-per-channel: want an integer ≥ 1`},
		// duration: stored as written
		{"execution.buffer-timeout", "5 min", "5 min", ""},
		{"execution.buffer-timeout", "250", "250", ""},
		{"execution.buffer-timeout", "fast", "", `invalid value "fast" for execution.buffer-timeout: want a duration such as "100 ms", "2 s" or "1 min"`},
		{"execution.buffer-timeout", "1m30s", "", `invalid value "1m30s" for execution.buffer-timeout: want a duration such as "100 ms", "2 s" or "1 min"`},
		// enum: case-insensitive, stored lower case
		{"execution.runtime-mode", "BATCH", "batch", ""},
		{"execution.runtime-mode", "Automatic", "automatic", ""},
		{"execution.runtime-mode", "stream", "", `invalid value "stream" for execution.runtime-mode: want one of streaming, batch, automatic`},
		{"log.level", "DEBUG", "debug", ""},
		{"execution.checkpointing.mode", "AT_LEAST_ONCE", "at_least_once", ""},
		{"execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION", "retain_on_cancellation", ""},
		{"execution.checkpointing.mode", "at-least-once", "", `invalid value "at-least-once" for execution.checkpointing.mode: want one of exactly_once, at_least_once`},
		// enum unset by default: "" is the default, not a value to set
		{"restart-strategy.type", "FixedDelay", "fixeddelay", ""},
		{"restart-strategy.type", "exponential-delay", "exponential-delay", ""},
		{"restart-strategy.type", "", "", `invalid value "" for restart-strategy.type: want one of none, off, disable, fixed-delay, fixeddelay, failure-rate, failurerate, exponential-delay, exponentialdelay`},
		{"restart-strategy.type", "region", "", `invalid value "region" for restart-strategy.type: want one of none, off, disable, fixed-delay, fixeddelay, failure-rate, failurerate, exponential-delay, exponentialdelay`},
		// int with Min(0)
		{"restart-strategy.fixed-delay.attempts", "0", "0", ""},
		{"restart-strategy.fixed-delay.attempts", "-1", "", `invalid value "-1" for restart-strategy.fixed-delay.attempts: want an integer ≥ 0`},
		// float: parsed like Java's Double.parseDouble, stored in shortest form
		{"restart-strategy.exponential-delay.backoff-multiplier", "2", "2", ""},
		{"restart-strategy.exponential-delay.backoff-multiplier", "+2.50", "2.5", ""},
		{"restart-strategy.exponential-delay.backoff-multiplier", "1e1", "10", ""},
		{"restart-strategy.exponential-delay.backoff-multiplier", "1", "1", ""},
		{"restart-strategy.exponential-delay.backoff-multiplier", "0.99", "", `invalid value "0.99" for restart-strategy.exponential-delay.backoff-multiplier: want a number ≥ 1`},
		{"restart-strategy.exponential-delay.backoff-multiplier", "1_5", "", `invalid value "1_5" for restart-strategy.exponential-delay.backoff-multiplier: want a number ≥ 1`},
		{"restart-strategy.exponential-delay.backoff-multiplier", "Infinity", "", `invalid value "Infinity" for restart-strategy.exponential-delay.backoff-multiplier: want a number ≥ 1`},
		{"restart-strategy.exponential-delay.backoff-multiplier", "1e400", "", `invalid value "1e400" for restart-strategy.exponential-delay.backoff-multiplier: want a number ≥ 1`},
		{"restart-strategy.exponential-delay.jitter-factor", ".25", "0.25", ""},
		{"restart-strategy.exponential-delay.jitter-factor", "0", "0", ""},
		{"restart-strategy.exponential-delay.jitter-factor", "1", "1", ""},
		{"restart-strategy.exponential-delay.jitter-factor", "1.01", "", `invalid value "1.01" for restart-strategy.exponential-delay.jitter-factor: want a number from 0 to 1`},
		{"restart-strategy.exponential-delay.jitter-factor", "-0.1", "", `invalid value "-0.1" for restart-strategy.exponential-delay.jitter-factor: want a number from 0 to 1`},
		{"restart-strategy.exponential-delay.jitter-factor", "NaN", "", `invalid value "NaN" for restart-strategy.exponential-delay.jitter-factor: want a number from 0 to 1`},
		{"restart-strategy.exponential-delay.jitter-factor", "", "", `invalid value "" for restart-strategy.exponential-delay.jitter-factor: want a number from 0 to 1`},
		// any type: one line only
		{"log.format", "json\nconsole", "", `invalid value "json\nconsole" for log.format: want a single line`},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			c := conf.New()
			err := c.Set(tt.key, tt.value)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("Set error = %v, want %s", err, tt.err)
				}
				if !errors.Is(err, conf.ErrInvalidValue) {
					t.Errorf("Set error %v does not wrap ErrInvalidValue", err)
				}
				if c.IsSet(tt.key) {
					t.Errorf("invalid value was stored")
				}
				return
			}
			if err != nil {
				t.Fatalf("Set: %v", err)
			}
			if got, _ := c.Get(tt.key); got != tt.want {
				t.Errorf("stored %q, want %q", got, tt.want)
			}
		})
	}
}

// Options of the types the table does not use yet. Their keys start with
// "test.", which TestExampleFile skips.
var (
	testBool     = conf.Bool("test.bool", false, "A boolean for tests.")
	testString   = conf.String("test.string", "x", "A string for tests.")
	testFloat    = conf.Float("test.float", 2.5, "An unbounded number for tests.")
	testFloatMax = conf.Float("test.float-max", -3, "A number bounded above for tests.").Max(0.5)
)

func TestBoolAndStringOptions(t *testing.T) {
	b, s := testBool, testString
	c := conf.New()
	if b.Get(c) || s.Get(c) != "x" {
		t.Fatalf("defaults: got %v %q", b.Get(c), s.Get(c))
	}
	for _, v := range []string{"TRUE", "true", "True"} {
		if err := c.Set("test.bool", v); err != nil || !b.Get(c) {
			t.Errorf("Set(test.bool, %q) = %v, Get = %v", v, err, b.Get(c))
		}
	}
	if err := c.Set("test.bool", "yes"); err == nil || err.Error() != `invalid value "yes" for test.bool: want true or false` {
		t.Errorf("Set(test.bool, yes) = %v", err)
	}
	if err := c.Set("test.string", "  hdfs:///a=b  "); err != nil || s.Get(c) != "hdfs:///a=b" {
		t.Errorf("string: err %v, got %q", err, s.Get(c))
	}
}

func TestFloatOptions(t *testing.T) {
	c := conf.New()
	if testFloat.Get(c) != 2.5 || testFloatMax.Get(nil) != -3 {
		t.Fatalf("defaults: got %v %v", testFloat.Get(c), testFloatMax.Get(nil))
	}
	for _, tt := range []struct {
		opt   conf.FloatOption
		value string
		want  float64
		err   string
	}{
		{testFloat, "-1e-3", -0.001, ""},
		{testFloat, "0x1p3", 8, ""}, // hexadecimal, as Java reads it
		{testFloat, "1.", 1, ""},
		{testFloat, "abc", 0, `invalid value "abc" for test.float: want a number`},
		{testFloat, "1.5d", 0, `invalid value "1.5d" for test.float: want a number`},
		{testFloatMax, "0.5", 0.5, ""},
		{testFloatMax, "0.6", 0, `invalid value "0.6" for test.float-max: want a number ≤ 0.5`},
	} {
		err := c.Set(tt.opt.Key(), tt.value)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err || !errors.Is(err, conf.ErrInvalidValue) {
				t.Errorf("Set(%s, %q) error = %v, want %s", tt.opt.Key(), tt.value, err, tt.err)
			}
			continue
		}
		if err != nil || tt.opt.Get(c) != tt.want {
			t.Errorf("Set(%s, %q) = %v, Get = %v; want %v", tt.opt.Key(), tt.value, err, tt.opt.Get(c), tt.want)
		}
	}
}

// TestRegisterPanics checks that a default outside its own bounds is caught
// where the option is declared.
func TestRegisterPanics(t *testing.T) {
	defer func() {
		want := `conf: default of test.float-bad-default: invalid value "0.5" for test.float-bad-default: want a number ≥ 1`
		if r := recover(); r != want {
			t.Errorf("recovered %v, want %s", r, want)
		}
	}()
	conf.Float("test.float-bad-default", 0.5, "A float whose default is out of range.").Min(1)
}

func TestTypedGet(t *testing.T) {
	var nilConf *conf.Config
	if got := conf.ParallelismDefault.Get(nilConf); got != 1 {
		t.Errorf("default parallelism from nil config = %d", got)
	}
	if got := conf.BufferTimeout.Get(conf.New()); got != 100*time.Millisecond {
		t.Errorf("default buffer timeout = %v", got)
	}
	if got := conf.LogLevel.Get(nil); got != "warn" {
		t.Errorf("default log level = %q", got)
	}
	if got := conf.RestartStrategyType.Get(nil); got != "" {
		t.Errorf("default restart strategy = %q, want unset", got)
	}
	if got := conf.RestartExponentialDelayBackoffMultiplier.Get(nil); got != 1.5 {
		t.Errorf("default backoff multiplier = %v", got)
	}
	if got := conf.CheckpointingInterval.Get(nil); got != 0 {
		t.Errorf("default checkpointing interval = %v", got)
	}
	if got := conf.CheckpointingTimeout.Get(nil); got != 10*time.Minute {
		t.Errorf("default checkpointing timeout = %v", got)
	}
	if got := conf.RestartExponentialDelayAttempts.Get(nil); got != 10 {
		t.Errorf("default attempts before reset = %d", got)
	}
	var c conf.Config // the zero value is usable
	for _, kv := range [][2]string{
		{"parallelism.default", "8"},
		{"execution.buffer-timeout", "2 s"},
		{"execution.runtime-mode", "Batch"},
	} {
		if err := c.Set(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if got := conf.ParallelismDefault.Get(&c); got != 8 {
		t.Errorf("parallelism = %d", got)
	}
	if got := conf.BufferTimeout.Get(&c); got != 2*time.Second {
		t.Errorf("buffer timeout = %v", got)
	}
	if got := conf.RuntimeMode.Get(&c); got != "batch" {
		t.Errorf("runtime mode = %q", got)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"100ms", 100 * time.Millisecond, ""},
		{"100 ms", 100 * time.Millisecond, ""},
		{"100   MS", 100 * time.Millisecond, ""},
		{"250", 250 * time.Millisecond, ""},
		{"0", 0, ""},
		{"2s", 2 * time.Second, ""},
		{"2 sec", 2 * time.Second, ""},
		{"2 seconds", 2 * time.Second, ""},
		{"1 second", time.Second, ""},
		{"1min", time.Minute, ""},
		{"5 min", 5 * time.Minute, ""},
		{"5m", 5 * time.Minute, ""},
		{"5 minutes", 5 * time.Minute, ""},
		{"3h", 3 * time.Hour, ""},
		{"3 hours", 3 * time.Hour, ""},
		{"1d", 24 * time.Hour, ""},
		{"2 days", 48 * time.Hour, ""},
		{"7 milliseconds", 7 * time.Millisecond, ""},
		{"7 millis", 7 * time.Millisecond, ""},
		{"9 µs", 9 * time.Microsecond, ""},
		{"9us", 9 * time.Microsecond, ""},
		{"9 ns", 9 * time.Nanosecond, ""},
		{" 42 s ", 42 * time.Second, ""},
		{"", 0, `duration "" does not start with a number`},
		{"ms", 0, `duration "ms" does not start with a number`},
		{"-1 s", 0, `duration "-1 s" does not start with a number`},
		{"1.5 s", 0, `duration "1.5 s" has an unknown unit ".5 s" (want ms, s, min, h or d)`},
		{"10 weeks", 0, `duration "10 weeks" has an unknown unit "weeks" (want ms, s, min, h or d)`},
		{"1m30s", 0, `duration "1m30s" has an unknown unit "m30s" (want ms, s, min, h or d)`},
		// The largest time.Duration, in each unit, and one more.
		{"106751 d", 106751 * 24 * time.Hour, ""},
		{"106752 d", 0, `duration "106752 d" is too large; the maximum is 106751 d (about 292 years)`},
		{"9999999999999999 days", 0, `duration "9999999999999999 days" is too large; the maximum is 106751 days (about 292 years)`},
		{"9223372036854", 9223372036854 * time.Millisecond, ""},
		{"9223372036855", 0, `duration "9223372036855" is too large; the maximum is 9223372036854 ms (about 292 years)`},
		{"9223372036854775807 ns", 9223372036854775807, ""},
		{"9223372036854775808 ns", 0, `duration "9223372036854775808 ns" is too large; the maximum is 9223372036854775807 ns (about 292 years)`},
		{"99999999999999999999", 0, `duration "99999999999999999999" is too large; the maximum is 9223372036854 ms (about 292 years)`},
		{"99999999999999999999 weeks", 0, `duration "99999999999999999999 weeks" has an unknown unit "weeks" (want ms, s, min, h or d)`},
	}
	for _, tt := range tests {
		got, err := conf.ParseDuration(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseDuration(%q) error = %v, want %s", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// TestDurationTooLarge: a duration beyond time.Duration's range is refused
// wherever it is set, with an error that names the key, says the value is too
// large and gives the maximum in the unit the value was written in.
func TestDurationTooLarge(t *testing.T) {
	const key = "execution.checkpointing.interval"
	for _, tc := range []struct{ value, want string }{
		{"9999999999999999 d", `invalid value "9999999999999999 d" for execution.checkpointing.interval: want a duration of at most 106751 d (about 292 years); this one is too large`},
		{"106752 days", `invalid value "106752 days" for execution.checkpointing.interval: want a duration of at most 106751 days (about 292 years); this one is too large`},
		{"153722867281 MIN", `invalid value "153722867281 MIN" for execution.checkpointing.interval: want a duration of at most 153722867 min (about 292 years); this one is too large`},
		{"9223372036855", `invalid value "9223372036855" for execution.checkpointing.interval: want a duration of at most 9223372036854 ms (about 292 years); this one is too large`},
		{"99999999999999999999999 s", `invalid value "99999999999999999999999 s" for execution.checkpointing.interval: want a duration of at most 9223372036 s (about 292 years); this one is too large`},
	} {
		err := conf.New().Set(key, tc.value)
		if err == nil || err.Error() != tc.want || !errors.Is(err, conf.ErrInvalidValue) {
			t.Errorf("Set(%s, %q) = %v\nwant %s (wrapping ErrInvalidValue)", key, tc.value, err, tc.want)
		}
	}
	// The largest duration is accepted and read back.
	c := conf.New()
	if err := c.Set(key, "106751 d"); err != nil {
		t.Fatal(err)
	}
	if got := conf.CheckpointingInterval.Get(c); got != 106751*24*time.Hour {
		t.Errorf("Get = %v, want 106751 d", got)
	}
	// From a file, with its line, and from -D.
	clearEnv(t)
	dir := t.TempDir()
	path := writeFile(t, dir, "spate.yaml", "parallelism.default: 2\nexecution.checkpointing.interval: 9999999999999999 d\n")
	_, err := conf.LoadFile(path)
	want := path + `: line 2: invalid value "9999999999999999 d" for execution.checkpointing.interval: want a duration of at most 106751 d (about 292 years); this one is too large`
	if err == nil || err.Error() != want {
		t.Errorf("LoadFile = %v\nwant %s", err, want)
	}
	_, err = conf.Load([]string{"execution.checkpointing.interval=9999999999999999 d"})
	want = `-D execution.checkpointing.interval=9999999999999999 d: invalid value "9999999999999999 d" for execution.checkpointing.interval: want a duration of at most 106751 d (about 292 years); this one is too large`
	if err == nil || err.Error() != want {
		t.Errorf("Load(-D) = %v\nwant %s", err, want)
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0 ms"},
		{100 * time.Millisecond, "100 ms"},
		{1500 * time.Millisecond, "1500 ms"},
		{2 * time.Second, "2 s"},
		{90 * time.Second, "90 s"},
		{time.Minute, "1 min"},
		{2 * time.Hour, "2 h"},
		{48 * time.Hour, "2 d"},
		{3 * time.Microsecond, "3 µs"},
		{7, "7 ns"},
	}
	for _, tt := range tests {
		got := conf.FormatDuration(tt.in)
		if got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.in, got, tt.want)
		}
		if back, err := conf.ParseDuration(got); err != nil || back != tt.in {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", got, back, err, tt.in)
		}
	}
}

func TestUnknownKey(t *testing.T) {
	tests := []struct{ key, want string }{
		{"paralelism.default", `unknown configuration key "paralelism.default" (did you mean "parallelism.default"? run 'spate config' for every key)`},
		{"taskmanager.numberoftaskslots", `unknown configuration key "taskmanager.numberoftaskslots" (did you mean "taskmanager.numberOfTaskSlots"? run 'spate config' for every key)`},
		{"execution.buffer-timout", `unknown configuration key "execution.buffer-timout" (did you mean "execution.buffer-timeout"? run 'spate config' for every key)`},
		{"log.levl", `unknown configuration key "log.levl" (did you mean "log.level"? run 'spate config' for every key)`},
		{"state.backend.type", `unknown configuration key "state.backend.type" (run 'spate config' for every key)`},
		{"x", `unknown configuration key "x" (run 'spate config' for every key)`},
	}
	for _, tt := range tests {
		err := conf.New().Set(tt.key, "1")
		if err == nil || err.Error() != tt.want {
			t.Errorf("Set(%q) error = %v\nwant %s", tt.key, err, tt.want)
		}
		if !errors.Is(err, conf.ErrUnknownKey) {
			t.Errorf("Set(%q) error does not wrap ErrUnknownKey", tt.key)
		}
	}
}

func TestConfigCloneMergeKeys(t *testing.T) {
	a := conf.New()
	must(t, a.Set("parallelism.default", "2"))
	must(t, a.Set("log.level", "info"))
	b := a.Clone()
	must(t, b.Set("parallelism.default", "3"))
	if v, _ := a.Get("parallelism.default"); v != "2" {
		t.Errorf("Clone shares values: a has %q", v)
	}
	o := conf.New()
	must(t, o.Set("parallelism.default", "9"))
	must(t, o.Set("execution.batch-size", "64"))
	a.Merge(o)
	a.Merge(nil)
	if got, want := a.Keys(), []string{"execution.batch-size", "log.level", "parallelism.default"}; !slices.Equal(got, want) {
		t.Errorf("Keys = %v, want %v", got, want)
	}
	if v, _ := a.Get("parallelism.default"); v != "9" {
		t.Errorf("Merge: other's value should win, got %q", v)
	}
	if a.IsSet("execution.target") {
		t.Errorf("IsSet reports a default as set")
	}
}

func TestParseDynamic(t *testing.T) {
	tests := []struct{ in, key, value, err string }{
		{"parallelism.default=4", "parallelism.default", "4", ""},
		{"state.checkpoints.dir=hdfs:///a=b", "state.checkpoints.dir", "hdfs:///a=b", ""},
		{" log.level = debug ", "log.level", "debug", ""},
		{"log.level=", "log.level", "", ""},
		{"parallelism.default", "", "", "-D parallelism.default: want key=value, e.g. -D parallelism.default=4"},
		{"=4", "", "", "-D =4: want key=value, e.g. -D parallelism.default=4"},
	}
	for _, tt := range tests {
		k, v, err := conf.ParseDynamic(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseDynamic(%q) error = %v, want %s", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || k != tt.key || v != tt.value {
			t.Errorf("ParseDynamic(%q) = %q, %q, %v", tt.in, k, v, err)
		}
	}
}

func TestLoadFile(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       map[string]string
		err        string // after "<path>: "
	}{
		{"flat", "parallelism.default: 4\nexecution.buffer-timeout: 2 s\n",
			map[string]string{"parallelism.default": "4", "execution.buffer-timeout": "2 s"}, ""},
		{"nested", "parallelism:\n  default: 4\ntaskmanager:\n  numberOfTaskSlots: 2\n  network:\n    memory.buffers-per-channel: 8\n",
			map[string]string{"parallelism.default": "4", "taskmanager.numberOfTaskSlots": "2", "taskmanager.network.memory.buffers-per-channel": "8"}, ""},
		{"flow style", "execution: {runtime-mode: BATCH, batch-size: 16}\n",
			map[string]string{"execution.runtime-mode": "batch", "execution.batch-size": "16"}, ""},
		{"comments only", "# parallelism.default: 4\n", map[string]string{}, ""},
		{"empty", "", map[string]string{}, ""},
		{"unknown key", "parallelism:\n  defualt: 4\n", nil,
			`line 2: unknown configuration key "parallelism.defualt" (did you mean "parallelism.default"? run 'spate config' for every key)`},
		{"invalid value", "log.level: loud\n", nil,
			`line 1: invalid value "loud" for log.level: want one of trace, debug, info, warn, error`},
		{"set twice", "parallelism.default: 4\nparallelism:\n  default: 5\n", nil,
			`line 3: parallelism.default is set twice (also on line 1)`},
		{"no value", "parallelism.default:\n", nil, `line 1: parallelism.default has no value (give it one or remove it)`},
		{"list", "log.level: [info, debug]\n", nil, `line 1: log.level: want a single value, not a list`},
		{"not a mapping", "- parallelism.default\n", nil, `line 1: want a mapping of keys to values`},
		{"invalid yaml", "parallelism.default: 4\n  bad: [\n", nil, `yaml: line 2: mapping values are not allowed in this context`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "spate.yaml", tt.yaml)
			c, err := conf.LoadFile(path)
			if tt.err != "" {
				if want := path + ": " + tt.err; err == nil || err.Error() != want {
					t.Fatalf("LoadFile error = %v\nwant %s", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, k := range c.Keys() {
				got[k], _ = c.Get(k)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("LoadFile = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLoadFileMissing(t *testing.T) {
	_, err := conf.LoadFile(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadFile of a missing file: %v, want fs.ErrNotExist", err)
	}
}

func TestLoadPrecedence(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "spate.yaml", `
parallelism.default: 2
execution.batch-size: 10
log.level: info
pipeline:
  max-parallelism: 64
`)
	t.Setenv(conf.EnvConfDir, dir)
	t.Setenv(conf.EnvProperties, "# handed down by spate run\n\nexecution.batch-size=20\nlog.level: debug\n")
	c, err := conf.Load([]string{"log.level=trace", "parallelism.default=3", "parallelism.default=4"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"parallelism.default":      "4",     // file, then -D twice: last wins
		"execution.batch-size":     "20",    // file < SPATE_PROPERTIES
		"log.level":                "trace", // file < SPATE_PROPERTIES < -D
		"pipeline.max-parallelism": "64",    // file only
	}
	got := map[string]string{}
	for _, k := range c.Keys() {
		got[k], _ = c.Get(k)
	}
	if !maps.Equal(got, want) {
		t.Errorf("Load = %v, want %v", got, want)
	}
	if conf.MaxParallelism.Get(c) != 64 || conf.BatchSize.Get(c) != 20 || conf.RuntimeMode.Get(c) != "streaming" {
		t.Errorf("typed values wrong")
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "spate.yaml", "parallelism.default: abc\n")
	empty := t.TempDir()
	tests := []struct {
		name, confDir, props string
		dynamic              []string
		err                  string
		is                   error
	}{
		{"no conf dir and nothing set", "", "", nil, "", nil},
		{"bad file value", dir, "", nil,
			filepath.Join(dir, "spate.yaml") + `: line 1: invalid value "abc" for parallelism.default: want an integer ≥ 1`, conf.ErrInvalidValue},
		{"missing file", empty, "", nil,
			`SPATE_CONF_DIR is "` + empty + `" but ` + filepath.Join(empty, "spate.yaml") + ` does not exist (create it or unset SPATE_CONF_DIR)`, fs.ErrNotExist},
		{"bad property value", "", "log.level=info\nparallelism.default=abc", nil,
			`SPATE_PROPERTIES: line 2: invalid value "abc" for parallelism.default: want an integer ≥ 1`, conf.ErrInvalidValue},
		{"malformed property", "", "parallelism.default 4", nil,
			`SPATE_PROPERTIES: line 1: "parallelism.default 4": want key=value`, nil},
		{"unknown property", "", "paralelism.default=4", nil,
			`SPATE_PROPERTIES: line 1: unknown configuration key "paralelism.default" (did you mean "parallelism.default"? run 'spate config' for every key)`, conf.ErrUnknownKey},
		{"bad dynamic value", "", "", []string{"parallelism.default=abc"},
			`-D parallelism.default=abc: invalid value "abc" for parallelism.default: want an integer ≥ 1`, conf.ErrInvalidValue},
		{"unknown dynamic key", "", "", []string{"paralelism.default=4"},
			`-D paralelism.default=4: unknown configuration key "paralelism.default" (did you mean "parallelism.default"? run 'spate config' for every key)`, conf.ErrUnknownKey},
		{"dynamic without =", "", "", []string{"parallelism.default"},
			`-D parallelism.default: want key=value, e.g. -D parallelism.default=4`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(conf.EnvConfDir, tt.confDir)
			t.Setenv(conf.EnvProperties, tt.props)
			c, err := conf.Load(tt.dynamic)
			if tt.err == "" {
				if err != nil || len(c.Keys()) != 0 {
					t.Fatalf("Load = %v, %v; want an empty config", c.Keys(), err)
				}
				return
			}
			if err == nil || err.Error() != tt.err {
				t.Fatalf("Load error = %v\nwant %s", err, tt.err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Load error does not wrap %v", tt.is)
			}
		})
	}
}

func TestEncodePropertiesRoundTrip(t *testing.T) {
	clearEnv(t)
	c := conf.New()
	must(t, c.Set("parallelism.default", "4"))
	must(t, c.Set("execution.buffer-timeout", "5 min"))
	must(t, c.Set("execution.runtime-mode", "BATCH"))
	text := conf.EncodeProperties(c)
	want := "execution.buffer-timeout=5 min\nexecution.runtime-mode=batch\nparallelism.default=4"
	if text != want {
		t.Fatalf("EncodeProperties =\n%s\nwant\n%s", text, want)
	}
	t.Setenv(conf.EnvProperties, text)
	back, err := conf.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := conf.EncodeProperties(back); got != want {
		t.Errorf("round trip =\n%s\nwant\n%s", got, want)
	}
	if conf.EncodeProperties(conf.New()) != "" {
		t.Errorf("empty config should encode to nothing")
	}
}

func TestOptions(t *testing.T) {
	opts := conf.Options()
	keys := make([]string, len(opts))
	for i, o := range opts {
		keys[i] = o.Key
		if o.Doc == "" || o.Type == "" {
			t.Errorf("%s has no doc or type", o.Key)
		}
		if (o.Type == conf.TypeEnum) != (len(o.Values) > 0) {
			t.Errorf("%s: values %v for type %s", o.Key, o.Values, o.Type)
		}
	}
	if !slices.IsSorted(keys) {
		t.Errorf("Options not sorted: %v", keys)
	}
	declared := []string{
		conf.ParallelismDefault.Key(), conf.MaxParallelism.Key(), conf.NumberOfTaskSlots.Key(),
		conf.MiniClusterTaskManagers.Key(), conf.BufferTimeout.Key(), conf.BatchSize.Key(),
		conf.BuffersPerChannel.Key(), conf.RuntimeMode.Key(), conf.Target.Key(),
		conf.LogLevel.Key(), conf.LogFormat.Key(),
		conf.CheckpointingInterval.Key(), conf.CheckpointingMode.Key(), conf.CheckpointingTimeout.Key(),
		conf.MinPauseBetweenCheckpoints.Key(), conf.MaxConcurrentCheckpoints.Key(),
		conf.TolerableFailedCheckpoints.Key(), conf.ExternalizedCheckpointRetention.Key(),
		conf.CheckpointsDirectory.Key(), conf.SavepointDirectory.Key(), conf.MaxRetainedCheckpoints.Key(),
		conf.RestartStrategyType.Key(), conf.RestartFixedDelayAttempts.Key(), conf.RestartFixedDelayDelay.Key(),
		conf.RestartFailureRateMaxFailuresPerInterval.Key(), conf.RestartFailureRateInterval.Key(),
		conf.RestartFailureRateDelay.Key(), conf.RestartExponentialDelayInitialBackoff.Key(),
		conf.RestartExponentialDelayMaxBackoff.Key(), conf.RestartExponentialDelayBackoffMultiplier.Key(),
		conf.RestartExponentialDelayResetBackoffThreshold.Key(), conf.RestartExponentialDelayJitterFactor.Key(),
		conf.RestartExponentialDelayAttempts.Key(),
	}
	for _, k := range declared {
		if !slices.Contains(keys, k) {
			t.Errorf("Options lacks %s", k)
		}
	}
	byKey := map[string]conf.Option{}
	for _, o := range opts {
		byKey[o.Key] = o
	}
	if o := byKey["execution.buffer-timeout"]; o.Type != conf.TypeDuration || o.Default != "100 ms" {
		t.Errorf("buffer timeout option = %+v", o)
	}
	if o := byKey["execution.runtime-mode"]; !slices.Equal(o.Values, []string{"streaming", "batch", "automatic"}) || o.Default != "streaming" {
		t.Errorf("runtime mode option = %+v", o)
	}
	if o := byKey["restart-strategy.exponential-delay.jitter-factor"]; o.Type != conf.TypeFloat || o.Default != "0.1" {
		t.Errorf("jitter factor option = %+v", o)
	}
	if o := byKey["restart-strategy.type"]; o.Type != conf.TypeEnum || o.Default != "" || len(o.Values) != 9 {
		t.Errorf("restart strategy type option = %+v", o)
	}
	// Options returns copies.
	byKey["execution.runtime-mode"].Values[0] = "changed"
	if conf.RuntimeMode.Values()[0] != "streaming" {
		t.Errorf("Options exposes the table's slices")
	}
}

// TestExampleFile checks conf/spate.yaml: it parses to an empty config, and
// shows every key with its default, so it stays in sync with the table.
func TestExampleFile(t *testing.T) {
	c, err := conf.LoadFile("spate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Keys()) != 0 {
		t.Errorf("spate.yaml sets %v; every setting should be commented out", c.Keys())
	}
	data, err := os.ReadFile("spate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for _, o := range conf.Options() {
		if strings.HasPrefix(o.Key, "test.") {
			continue // registered by this test file
		}
		// An empty default leaves "# key:" with no trailing space.
		if want := strings.TrimSuffix("# "+o.Key+": "+o.Default, " "); !slices.Contains(lines, want) {
			t.Errorf("spate.yaml lacks the line %q", want)
		}
	}
}

func TestNewLogger(t *testing.T) {
	var buf bytes.Buffer
	c := conf.New()
	must(t, c.Set("log.level", "info"))
	log := conf.NewLogger(c, &buf)
	log.Debug().Msg("hidden")
	log.Info().Str("job", "wordcount").Msg("started")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("auto format on a buffer should be one JSON line, got %q: %v", buf.String(), err)
	}
	if rec["level"] != "info" || rec["message"] != "started" || rec["job"] != "wordcount" || rec["time"] == nil {
		t.Errorf("record = %v", rec)
	}

	buf.Reset()
	must(t, c.Set("log.format", "console"))
	log = conf.NewLogger(c, &buf)
	log.Warn().Msg("careful")
	if out := buf.String(); json.Valid(buf.Bytes()) || !strings.Contains(out, "WRN careful") || strings.Contains(out, "\x1b[") {
		t.Errorf("console output = %q, want uncoloured console text", out)
	}

	buf.Reset()
	log = conf.NewLogger(nil, &buf)
	log.Info().Msg("below the default level")
	if buf.Len() != 0 {
		t.Errorf("default level should be warn, got %q", buf.String())
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
