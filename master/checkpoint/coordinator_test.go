package checkpoint

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	ok := Config{Interval: 10 * time.Second, Timeout: time.Minute, MinPause: time.Second, MaxConcurrent: 1, TolerableFailures: 0, Retained: 1}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string // "" for valid
	}{
		{"valid", func(*Config) {}, ""},
		{"default", func(c *Config) { *c = DefaultConfig() }, ""},
		{"savepoints only", func(c *Config) { c.Interval = 0 }, ""},
		{"shortest interval", func(c *Config) { c.Interval = 10 * time.Millisecond }, ""},
		{"interval too short", func(c *Config) { c.Interval = 9 * time.Millisecond },
			"invalid checkpoint configuration: execution.checkpointing.interval must be 0 (no periodic checkpoints) or at least 10ms, got 9ms"},
		{"negative interval", func(c *Config) { c.Interval = -time.Second },
			"invalid checkpoint configuration: execution.checkpointing.interval must be 0 (no periodic checkpoints) or at least 10ms, got -1s"},
		{"no timeout", func(c *Config) { c.Timeout = 0 },
			"invalid checkpoint configuration: execution.checkpointing.timeout must be at least 10ms, got 0s"},
		{"negative min pause", func(c *Config) { c.MinPause = -time.Millisecond },
			"invalid checkpoint configuration: execution.checkpointing.min-pause must not be negative, got -1ms"},
		{"min pause longer than interval", func(c *Config) { c.MinPause = time.Hour }, ""},
		{"no concurrency", func(c *Config) { c.MaxConcurrent = 0 },
			"invalid checkpoint configuration: execution.checkpointing.max-concurrent-checkpoints must be at least 1, got 0"},
		{"negative tolerable", func(c *Config) { c.TolerableFailures = -1 },
			"invalid checkpoint configuration: execution.checkpointing.tolerable-failed-checkpoints must not be negative, got -1"},
		{"none retained", func(c *Config) { c.Retained = 0 },
			"invalid checkpoint configuration: state.checkpoints.num-retained must be at least 1, got 0"},
		{"first problem wins", func(c *Config) { c.Timeout, c.Retained = 0, 0 },
			"invalid checkpoint configuration: execution.checkpointing.timeout must be at least 10ms, got 0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.edit(&cfg)
			err := cfg.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Validate() = %v\nwant %s", err, tc.want)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("%v is not ErrInvalidConfig", err)
			}
			if _, err := NewCoordinator(cfg, []TaskID{{"src", 0}}, []TaskID{{"src", 0}}, 1, time.Time{}); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("NewCoordinator: %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestTriggerSavepointErrors(t *testing.T) {
	src := []TaskID{{"src", 0}}
	c, err := NewCoordinator(DefaultConfig(), src, src, 1, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if _, cmds, err := c.TriggerSavepoint(time.Time{}, Checkpoint); !errors.Is(err, ErrNotSavepoint) || cmds != nil {
		t.Errorf("Checkpoint kind: %v %v, want ErrNotSavepoint", cmds, err)
	}
	if _, _, err := c.TriggerSavepoint(time.Time{}, Kind(7)); !errors.Is(err, ErrNotSavepoint) {
		t.Errorf("Kind(7): %v, want ErrNotSavepoint", err)
	}
	if id, _, err := c.TriggerSavepoint(time.Time{}, SavepointStop); err != nil || id != 1 {
		t.Fatalf("stop: %d %v", id, err)
	}
	if _, _, err := c.TriggerSavepoint(time.Time{}, Savepoint); !errors.Is(err, ErrStopping) {
		t.Errorf("during stop: %v, want ErrStopping", err)
	}
	if len(c.Pending()) != 1 || c.Stats().Triggered != 1 {
		t.Errorf("refused triggers changed state: pending %v, stats %+v", c.Pending(), c.Stats())
	}
}

func TestNotifyCompleteForTasks(t *testing.T) {
	for k, want := range map[Kind]bool{Checkpoint: true, Savepoint: false, SavepointStop: true} {
		if got := (NotifyComplete{ID: 1, Kind: k}).ForTasks(); got != want {
			t.Errorf("%s: ForTasks() = %v, want %v", k, got, want)
		}
	}
}

// TestRandomSteps drives the coordinator with random inputs, including late,
// duplicate and nonsensical ones, and checks the invariants after each step.
func TestRandomSteps(t *testing.T) {
	seen := map[string]int{} // what the walks produced, over all seeds
	defer func() {
		for _, what := range []string{"checkpoint completed", "savepoint completed", "discard", "fail-job", "subsumed", "orphan discarded"} {
			if seen[what] == 0 {
				t.Errorf("no %s in any walk: the walks explore too little (%v)", what, seen)
			}
		}
	}()
	for seed := uint64(1); seed <= 50; seed++ {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 0))
			cfg := Config{
				Interval:          time.Duration(1+r.IntN(10)) * time.Second,
				Timeout:           time.Duration(1+r.IntN(30)) * time.Second,
				MinPause:          time.Duration(r.IntN(5)) * time.Second,
				MaxConcurrent:     1 + r.IntN(3),
				TolerableFailures: r.IntN(3),
				Retained:          1 + r.IntN(3),
			}
			tasks := []TaskID{{"src", 0}, {"src", 1}, {"map", 0}, {"sink", 0}}
			c, err := NewCoordinator(cfg, tasks, tasks[:2], 1, epoch)
			if err != nil {
				t.Fatal(err)
			}
			chk := newChecker(cfg, tasks)
			now := epoch
			var persisting []int64
			for step := range 2000 {
				now = now.Add(time.Duration(r.IntN(400)) * time.Millisecond)
				id := int64(r.IntN(int(max(chk.lastID, 1)) + 2)) // sometimes unknown or ended
				if p := c.Pending(); len(p) > 0 && r.IntN(5) > 0 {
					id = p[r.IntN(len(p))]
				}
				var out []Command
				var what string
				switch op := r.IntN(100); {
				case op < 30:
					what, out = "tick", c.Tick(now)
				case op < 33:
					what = "savepoint"
					kind := Savepoint
					if step > 1800 { // a completed stop-with-savepoint ends the walk
						kind = SavepointStop
					}
					_, out, _ = c.TriggerSavepoint(now, kind)
				case op < 75:
					what, out = fmt.Sprint("ack ", id), c.Ack(now, id, tasks[r.IntN(len(tasks))], nil)
				case op < 78:
					what, out = fmt.Sprint("decline ", id), c.Decline(now, id, tasks[r.IntN(len(tasks))], "random")
				case op < 95 && len(persisting) > 0:
					i := r.IntN(len(persisting))
					var err error
					if r.IntN(5) == 0 {
						err = errors.New("random")
					}
					id = persisting[i]
					persisting = append(persisting[:i], persisting[i+1:]...)
					what, out = fmt.Sprint("persisted ", id, err), c.Persisted(now, id, err)
				case op < 97:
					what, out = fmt.Sprint("persisted-unasked ", id), c.Persisted(now, id, nil)
				case op < 99:
					what, out = "task-failed", c.TaskFailed(now)
				case step > 1800:
					what, out = "stop", nil
					c.Stop()
				}
				for _, cmd := range out {
					switch cmd := cmd.(type) {
					case Persist:
						persisting = append(persisting, cmd.ID)
					case NotifyComplete:
						seen[cmd.Kind.String()+" completed"]++
					case NotifyAborted:
						if strings.HasPrefix(cmd.Reason, "subsumed") {
							seen["subsumed"]++
						}
					case Discard:
						seen["discard"]++
						if chk.ended[cmd.ID] == "aborted" {
							seen["orphan discarded"]++
						}
					case FailJob:
						seen["fail-job"]++
					}
				}
				if err := chk.step(c, now, out); err != nil {
					t.Fatalf("seed %d step %d (%s): %v\ncommands: %v", seed, step, what, err, out)
				}
			}
			if st := c.Stats(); st.Completed < 1 || st.Failed < 10 {
				t.Errorf("%d completed and %d failed: the walk explores too little (%+v)", st.Completed, st.Failed, cfg)
			}
		})
	}
}
