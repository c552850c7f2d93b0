package checkpoint

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata scripts with the actual outputs")

// The coordinator's behaviour is pinned by the scripts in testdata/*.txt. Each
// command line is followed by the lines it produced, each starting with "> ";
// `go test -update` rewrites them. Times are offsets from the script's epoch
// (time.ParseDuration syntax). Commands:
//
//	config [interval=D] [timeout=D] [min-pause=D] [max-concurrent=N] [tolerable=N] [retained=N]
//	       (starts from DefaultConfig)
//	tasks VERTEX/N... [sources=VERTEX/N,...] [next-id=N]
//	       creates the coordinator at the current time; sources default to the
//	       tasks of vertex "src"
//	tick T
//	savepoint T [stop]
//	ack ID TASK [PATH:SIZE[:CRC]]...
//	decline ID TASK REASON...
//	persisted ID ok|error [MESSAGE...]
//	task-failed T
//	stop
//	pending | completed | stats
//
// Any command may carry at=T to set the clock first (ack, decline and
// persisted otherwise happen at the current time). Every step is followed by
// invariant checks (see checker).

type script struct {
	t     *testing.T
	cfg   Config
	clock time.Duration
	c     *Coordinator
	chk   *checker
}

var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) { runScript(t, file) })
	}
}

func runScript(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var in []string
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		in = append(in, sc.Text())
	}
	s := &script{t: t, cfg: DefaultConfig()}
	var rewritten []string
	for i := 0; i < len(in); {
		line := in[i]
		lineNo := i + 1
		i++
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			rewritten = append(rewritten, line)
			continue
		}
		var want []string
		for i < len(in) && strings.HasPrefix(in[i], ">") {
			want = append(want, strings.TrimPrefix(strings.TrimPrefix(in[i], ">"), " "))
			i++
		}
		got := s.run(fmt.Sprintf("%s:%d", file, lineNo), strings.Fields(line))
		rewritten = append(rewritten, line)
		for _, g := range got {
			rewritten = append(rewritten, "> "+g)
		}
		if !*update && !slices.Equal(got, want) {
			t.Errorf("%s:%d: %s\n got:\n  %s\nwant:\n  %s", file, lineNo, line,
				strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
	}
	if *update {
		if err := os.WriteFile(file, []byte(strings.Join(rewritten, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func (s *script) run(where string, fields []string) []string {
	t := s.t
	cmd, args := fields[0], fields[1:]
	// Pull out key=value options; at=T moves the clock.
	opts := map[string]string{}
	var pos []string
	for _, a := range args {
		if k, v, ok := strings.Cut(a, "="); ok && cmd != "decline" && cmd != "persisted" || ok && k == "at" {
			opts[k] = v
			continue
		}
		pos = append(pos, a)
	}
	if at, ok := opts["at"]; ok {
		s.clock = s.dur(where, at)
		delete(opts, "at")
	}
	need := func(n int) {
		if len(pos) < n {
			t.Fatalf("%s: %s needs %d arguments", where, cmd, n)
		}
	}
	if cmd != "config" && cmd != "tasks" && s.c == nil {
		t.Fatalf("%s: %s before tasks", where, cmd)
	}
	var out []Command
	switch cmd {
	case "config":
		s.cfg = DefaultConfig()
		for k, v := range opts {
			switch k {
			case "interval":
				s.cfg.Interval = s.dur(where, v)
			case "timeout":
				s.cfg.Timeout = s.dur(where, v)
			case "min-pause":
				s.cfg.MinPause = s.dur(where, v)
			case "max-concurrent":
				s.cfg.MaxConcurrent = s.num(where, v)
			case "tolerable":
				s.cfg.TolerableFailures = s.num(where, v)
			case "retained":
				s.cfg.Retained = s.num(where, v)
			default:
				t.Fatalf("%s: unknown config key %q", where, k)
			}
		}
		return nil
	case "tasks":
		var tasks, sources []TaskID
		for _, p := range pos {
			tasks = append(tasks, s.task(where, p))
		}
		if v, ok := opts["sources"]; ok {
			for _, p := range strings.Split(v, ",") {
				sources = append(sources, s.task(where, p))
			}
		} else {
			for _, tk := range tasks {
				if tk.Vertex == "src" {
					sources = append(sources, tk)
				}
			}
		}
		next := int64(1)
		if v, ok := opts["next-id"]; ok {
			next = int64(s.num(where, v))
		}
		c, err := NewCoordinator(s.cfg, tasks, sources, next, s.now())
		if err != nil {
			return []string{"error: " + err.Error()}
		}
		s.c, s.chk = c, newChecker(s.cfg, tasks)
		return nil
	case "tick":
		need(1)
		s.clock = s.dur(where, pos[0])
		out = s.c.Tick(s.now())
	case "savepoint":
		need(1)
		s.clock = s.dur(where, pos[0])
		kind := Savepoint
		if len(pos) > 1 && pos[1] == "stop" {
			kind = SavepointStop
		}
		_, cmds, err := s.c.TriggerSavepoint(s.now(), kind)
		if err != nil {
			return []string{"error: " + err.Error()}
		}
		out = cmds
	case "ack":
		need(2)
		var hs []StateHandle
		for _, h := range pos[2:] {
			hs = append(hs, s.handle(where, h))
		}
		out = s.c.Ack(s.now(), s.id(where, pos[0]), s.task(where, pos[1]), hs)
	case "decline":
		need(3)
		out = s.c.Decline(s.now(), s.id(where, pos[0]), s.task(where, pos[1]), strings.Join(pos[2:], " "))
	case "persisted":
		need(2)
		var err error
		switch pos[1] {
		case "ok":
		case "error":
			msg := "write failed"
			if len(pos) > 2 {
				msg = strings.Join(pos[2:], " ")
			}
			err = errors.New(msg)
		default:
			t.Fatalf("%s: persisted wants ok or error, got %q", where, pos[1])
		}
		out = s.c.Persisted(s.now(), s.id(where, pos[0]), err)
	case "task-failed":
		need(1)
		s.clock = s.dur(where, pos[0])
		out = s.c.TaskFailed(s.now())
	case "stop":
		s.c.Stop()
	case "pending":
		return []string{fmt.Sprint("pending ", s.c.Pending())}
	case "completed":
		var lines []string
		for _, cp := range s.c.Completed() {
			lines = append(lines, s.completed(cp))
		}
		if cp, ok := s.c.LatestCompleted(); ok {
			lines = append(lines, "latest "+s.completed(cp))
		}
		if cp, ok := s.c.LatestSavepoint(); ok {
			lines = append(lines, "savepoint "+s.completed(cp))
		}
		if len(lines) == 0 {
			lines = []string{"none"}
		}
		return lines
	case "stats":
		return s.stats()
	default:
		t.Fatalf("%s: unknown command %q", where, cmd)
	}
	if len(opts) > 0 {
		t.Fatalf("%s: unknown options %v", where, opts)
	}
	if err := s.chk.step(s.c, s.now(), out); err != nil {
		t.Errorf("%s: invariant: %v", where, err)
	}
	lines := make([]string, len(out))
	for i, c := range out {
		lines[i] = s.format(c)
	}
	return lines
}

func (s *script) now() time.Time { return epoch.Add(s.clock) }

func (s *script) rel(t time.Time) string { return t.Sub(epoch).String() }

func (s *script) dur(where, v string) time.Duration {
	d, err := time.ParseDuration(v)
	if err != nil {
		s.t.Fatalf("%s: %v", where, err)
	}
	return d
}

func (s *script) num(where, v string) int {
	n, err := strconv.Atoi(v)
	if err != nil {
		s.t.Fatalf("%s: %v", where, err)
	}
	return n
}

func (s *script) id(where, v string) int64 { return int64(s.num(where, v)) }

func (s *script) task(where, v string) TaskID {
	vertex, sub, ok := strings.Cut(v, "/")
	if !ok {
		s.t.Fatalf("%s: task %q is not VERTEX/N", where, v)
	}
	return TaskID{Vertex: vertex, Subtask: s.num(where, sub)}
}

func (s *script) handle(where, v string) StateHandle {
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 {
		s.t.Fatalf("%s: handle %q is not PATH:SIZE[:CRC]", where, v)
	}
	h := StateHandle{Path: parts[0], Size: int64(s.num(where, parts[1]))}
	if len(parts) == 3 {
		crc, err := strconv.ParseUint(parts[2], 16, 32)
		if err != nil {
			s.t.Fatalf("%s: %v", where, err)
		}
		h.Checksum = uint32(crc)
	}
	return h
}

func formatHandles(m map[TaskID][]StateHandle) string {
	var b strings.Builder
	for i, tk := range slices.SortedFunc(maps.Keys(m), compareTasks) {
		if i > 0 {
			b.WriteByte(' ')
		}
		var hs []string
		for _, h := range m[tk] {
			f := fmt.Sprintf("%s:%d", h.Path, h.Size)
			if h.Checksum != 0 {
				f += fmt.Sprintf(":%x", h.Checksum)
			}
			hs = append(hs, f)
		}
		fmt.Fprintf(&b, "%s=[%s]", tk, strings.Join(hs, ","))
	}
	return b.String()
}

func (s *script) format(c Command) string {
	switch c := c.(type) {
	case TriggerBarrier:
		var src []string
		for _, t := range c.Sources {
			src = append(src, t.String())
		}
		return fmt.Sprintf("trigger-barrier %d %s ts=%s sources=%s", c.ID, c.Kind, s.rel(c.Timestamp), strings.Join(src, ","))
	case Persist:
		return fmt.Sprintf("persist %d %s ts=%s %s", c.ID, c.Kind, s.rel(c.Timestamp), formatHandles(c.Acks))
	case NotifyComplete:
		to := "tasks"
		if !c.ForTasks() {
			to = "user only"
		}
		return fmt.Sprintf("notify-complete %d %s (%s)", c.ID, c.Kind, to)
	case NotifyAborted:
		return fmt.Sprintf("notify-aborted %d: %s", c.ID, c.Reason)
	case Discard:
		return fmt.Sprintf("discard %d", c.ID)
	case FailJob:
		return "fail-job: " + c.Reason
	}
	return fmt.Sprintf("unknown command %#v", c)
}

func (s *script) completed(cp CompletedCheckpoint) string {
	return fmt.Sprintf("%d %s ts=%s completed=%s %s", cp.ID, cp.Kind, s.rel(cp.Timestamp), s.rel(cp.Completed), formatHandles(cp.Handles))
}

func (s *script) stats() []string {
	st := s.c.Stats()
	lines := []string{fmt.Sprintf("triggered=%d in-progress=%d completed=%d failed=%d consecutive-failures=%d",
		st.Triggered, st.InProgress, st.Completed, st.Failed, st.ConsecutiveFailures)}
	for _, a := range []struct {
		name string
		a    Attempt
	}{{"latest-completed", st.LatestCompleted}, {"latest-savepoint", st.LatestSavepoint}, {"latest-failed", st.LatestFailed}} {
		if a.a.ID == 0 {
			continue
		}
		l := fmt.Sprintf("%s %d %s triggered=%s ended=%s duration=%s", a.name, a.a.ID, a.a.Kind, s.rel(a.a.Triggered), s.rel(a.a.Ended), a.a.Duration)
		if a.a.Reason != "" {
			l += " reason=" + a.a.Reason
		} else {
			l += fmt.Sprintf(" size=%d", a.a.Size)
		}
		lines = append(lines, l)
	}
	return lines
}

// checker verifies, after every step of a script, the invariants doc.go
// promises, independently of the coordinator's own bookkeeping.
type checker struct {
	cfg       Config
	tasks     []TaskID
	lastID    int64
	kinds     map[int64]Kind
	persisted map[int64]bool // Persist issued
	ended     map[int64]string
	discarded map[int64]bool
	lastDone  time.Time // the latest completion seen
	anyDone   bool
}

func newChecker(cfg Config, tasks []TaskID) *checker {
	return &checker{cfg: cfg, tasks: slices.SortedFunc(slices.Values(tasks), compareTasks),
		kinds: map[int64]Kind{}, persisted: map[int64]bool{}, ended: map[int64]string{}, discarded: map[int64]bool{}}
}

func (k *checker) step(c *Coordinator, now time.Time, out []Command) error {
	for _, cmd := range out {
		switch cmd := cmd.(type) {
		case TriggerBarrier:
			if cmd.ID <= k.lastID {
				return fmt.Errorf("id %d triggered after %d: ids must strictly increase", cmd.ID, k.lastID)
			}
			k.lastID = cmd.ID
			k.kinds[cmd.ID] = cmd.Kind
			if cmd.Kind != Checkpoint {
				break
			}
			// A periodic trigger is the last command of a Tick.
			if n := len(c.Pending()); n > k.cfg.MaxConcurrent {
				return fmt.Errorf("checkpoint %d triggered with %d pending, max %d", cmd.ID, n, k.cfg.MaxConcurrent)
			}
			if k.anyDone && now.Before(k.lastDone.Add(k.cfg.MinPause)) {
				return fmt.Errorf("checkpoint %d triggered %s after the last completion, min pause %s", cmd.ID, now.Sub(k.lastDone), k.cfg.MinPause)
			}
		case Persist:
			if got := slices.SortedFunc(maps.Keys(cmd.Acks), compareTasks); !slices.Equal(got, k.tasks) {
				return fmt.Errorf("persist %d with acks of %v, want every task %v", cmd.ID, got, k.tasks)
			}
			if k.persisted[cmd.ID] || k.ended[cmd.ID] != "" {
				return fmt.Errorf("persist %d twice or after its end", cmd.ID)
			}
			k.persisted[cmd.ID] = true
		case NotifyComplete:
			if !k.persisted[cmd.ID] {
				return fmt.Errorf("%d completed without Persist", cmd.ID)
			}
			if e := k.ended[cmd.ID]; e != "" {
				return fmt.Errorf("%d completed after it %s", cmd.ID, e)
			}
			k.ended[cmd.ID] = "completed"
			k.lastDone, k.anyDone = now, true
		case NotifyAborted:
			if e := k.ended[cmd.ID]; e != "" {
				return fmt.Errorf("%d aborted after it %s", cmd.ID, e)
			}
			if _, ok := k.kinds[cmd.ID]; !ok {
				return fmt.Errorf("%d aborted but never triggered", cmd.ID)
			}
			k.ended[cmd.ID] = "aborted"
		case Discard:
			if k.discarded[cmd.ID] {
				return fmt.Errorf("%d discarded twice", cmd.ID)
			}
			k.discarded[cmd.ID] = true
			switch {
			case k.ended[cmd.ID] == "completed" && k.kinds[cmd.ID] != Checkpoint:
				return fmt.Errorf("completed %s %d discarded", k.kinds[cmd.ID], cmd.ID)
			case k.ended[cmd.ID] == "aborted" && !k.persisted[cmd.ID]:
				return fmt.Errorf("%d discarded but its _metadata was never asked for", cmd.ID)
			case k.ended[cmd.ID] == "":
				return fmt.Errorf("%d discarded while pending", cmd.ID)
			}
		}
	}
	pending := c.Pending()
	if !slices.IsSorted(pending) {
		return fmt.Errorf("pending %v not ascending", pending)
	}
	for _, id := range pending {
		if k.ended[id] != "" {
			return fmt.Errorf("%d pending after it %s", id, k.ended[id])
		}
	}
	st := c.Stats()
	if st.InProgress != len(pending) {
		return fmt.Errorf("stats in progress %d, pending %v", st.InProgress, pending)
	}
	if st.ConsecutiveFailures > k.cfg.TolerableFailures {
		return fmt.Errorf("%d consecutive failures, more than the %d tolerated", st.ConsecutiveFailures, k.cfg.TolerableFailures)
	}
	if st.Triggered != int64(len(k.kinds)) {
		return fmt.Errorf("stats triggered %d, saw %d triggers", st.Triggered, len(k.kinds))
	}
	if len(st.History) > HistorySize || int64(len(st.History)) > st.Completed+st.Failed {
		return fmt.Errorf("history of %d, with %d completed and %d failed", len(st.History), st.Completed, st.Failed)
	}
	for i, h := range st.History {
		if want := map[bool]string{false: "completed", true: "aborted"}[h.Failed]; k.ended[h.ID] != want {
			return fmt.Errorf("history[%d] is %d (failed %v), which %s", i, h.ID, h.Failed, k.ended[h.ID])
		}
		if i > 0 && h.Ended.After(st.History[i-1].Ended) {
			return fmt.Errorf("history not newest first: %d ended after %d", h.ID, st.History[i-1].ID)
		}
	}
	store := c.Completed()
	if len(store) > k.cfg.Retained {
		return fmt.Errorf("%d checkpoints retained, more than %d", len(store), k.cfg.Retained)
	}
	for i, cp := range store {
		if cp.Kind != Checkpoint || k.ended[cp.ID] != "completed" || k.discarded[cp.ID] {
			return fmt.Errorf("store holds %s %d (ended %q, discarded %v)", cp.Kind, cp.ID, k.ended[cp.ID], k.discarded[cp.ID])
		}
		if i > 0 && cp.ID <= store[i-1].ID {
			return fmt.Errorf("store not ascending at %d", cp.ID)
		}
	}
	latest, ok := c.LatestCompleted()
	if ok != (len(store) > 0) || ok && latest.ID != store[len(store)-1].ID {
		return fmt.Errorf("latest completed %d/%v disagrees with the store", latest.ID, ok)
	}
	return nil
}
