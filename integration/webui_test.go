package integration

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The web UI in a real headless Chromium (Debian's chromium, installed by
// scripts/install-chromium.sh on first use) against a real session cluster
// running a real job: what the pages show is checked against the REST API,
// and the cancel button is checked to cancel the job.

var (
	chromiumOnce sync.Once
	chromiumPath string
	chromiumErr  error
)

// chromium installs Debian's chromium if it is missing and returns its path.
func chromium(t *testing.T) string {
	t.Helper()
	chromiumOnce.Do(func() {
		out, err := exec.Command("bash", filepath.Join("..", "scripts", "install-chromium.sh")).Output()
		if err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				err = fmt.Errorf("%w\n%s", err, ee.Stderr)
			}
			chromiumErr = fmt.Errorf("scripts/install-chromium.sh: %w", err)
			return
		}
		chromiumPath = strings.TrimSpace(string(out))
	})
	if chromiumErr != nil {
		t.Fatal(chromiumErr)
	}
	return chromiumPath
}

// browser starts a headless Chromium for the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.WindowSize(1400, 1000),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// screenshot saves the page as a test artefact, in SPATE_TEST_ARTIFACTS
// (default: the system's temporary directory).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("SPATE_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "spate-test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, "webui-"+name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// text reads the text of the first element matching sel, waiting for it.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel, chromedp.NodeVisible))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// eval evaluates a JavaScript expression in the page.
func eval(t *testing.T, ctx context.Context, expr string, out *string) {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	*out = v
}

// pollPage re-evaluates expr until it yields want, or fails after poll's deadline.
func pollPage(t *testing.T, ctx context.Context, what, expr, want string) {
	t.Helper()
	var got string
	poll(t, what, func() bool {
		got, _ = chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		return got == want
	})
}

type restJob struct {
	Name     string `json:"name"`
	State    string `json:"state"`
	Vertices []struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		Parallelism int    `json:"parallelism"`
	} `json:"vertices"`
}

type restCheckpoints struct {
	Counts struct {
		Completed int64 `json:"completed"`
	} `json:"counts"`
	History []struct {
		ID int64 `json:"id"`
	} `json:"history"`
}

// TestWebUIOnSession: overview, graph, subtasks and checkpoints pages of a
// running exactlyonce job on a two-TaskManager session cluster show what the
// REST API says, the graph's counters rise, and Cancel (confirmed) cancels.
func TestWebUIOnSession(t *testing.T) {
	ctx := browser(t)
	c := startSession(t, 2, 2)
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "ckpt")
	s := c.submit(t, []string{"-D", "state.checkpoints.dir=" + ckpt}, "exactlyonce",
		"--keys", "10", "--per-key", "1000000000", "--failures", "0", "--checkpoint-interval", "200", "--output", filepath.Join(dir, "out"), "--parallelism", "2")
	id := jobID(t, s)
	var job restJob
	poll(t, "the job running", func() bool { return c.get("/jobs/"+id, &job) == nil && job.State == "RUNNING" })
	poll(t, "a completed checkpoint", func() bool {
		var cp restCheckpoints
		return c.get("/jobs/"+id+"/checkpoints", &cp) == nil && cp.Counts.Completed > 0
	})
	base := "http://" + c.rest + "/"

	// Overview: the cluster's counts and the job, by name and state.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"#overview")); err != nil {
		t.Fatal(err)
	}
	row := `tr.job[data-job="` + id + `"]`
	if got := text(t, ctx, row+" td.job-name"); got != job.Name || got != "exactlyonce" {
		t.Fatalf("overview: job name %q, want %q", got, job.Name)
	}
	if got := text(t, ctx, row+" .state"); got != "RUNNING" {
		t.Fatalf("overview: job state %q, want RUNNING", got)
	}
	if got := text(t, ctx, "#taskmanagers-count"); got != "2" {
		t.Fatalf("overview: %s TaskManagers, want 2", got)
	}
	if got := text(t, ctx, "#slots-total"); got != "4" {
		t.Fatalf("overview: %s slots, want 4", got)
	}
	screenshot(t, ctx, "overview")

	// The graph: one box per vertex with the REST API's name and parallelism.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"#jobs/"+id+"/graph")); err != nil {
		t.Fatal(err)
	}
	pollPage(t, ctx, "the graph", `String(document.querySelectorAll("#graph g.vertex").length)`, strconv.Itoa(len(job.Vertices)))
	if len(job.Vertices) < 2 {
		t.Fatalf("the job has %d vertices, want at least 2", len(job.Vertices))
	}
	if got := text(t, ctx, "#job-name"); got != job.Name {
		t.Fatalf("job page: name %q, want %q", got, job.Name)
	}
	for _, v := range job.Vertices {
		g := `#graph g.vertex[data-vertex="` + v.ID + `"]`
		var name, par string
		eval(t, ctx, `document.querySelector('`+g+` title').textContent`, &name)
		eval(t, ctx, `document.querySelector('`+g+` .vertex-parallelism').textContent`, &par)
		if name != v.Name || par != "Parallelism: "+strconv.Itoa(v.Parallelism) {
			t.Fatalf("vertex %s: %q, %q; want %q, parallelism %d", v.ID, name, par, v.Name, v.Parallelism)
		}
	}
	// Every operator of the plan is in a vertex, by the chain's name.
	var plan struct {
		Plan struct {
			Operators []struct {
				Name string `json:"name"`
				Task int    `json:"task"`
			} `json:"operators"`
		} `json:"plan"`
	}
	if err := c.get("/jobs/"+id+"/plan", &plan); err != nil {
		t.Fatal(err)
	}
	var titles string
	eval(t, ctx, `Array.from(document.querySelectorAll("#graph g.vertex title")).map(e => e.textContent).join("\n")`, &titles)
	for _, op := range plan.Plan.Operators {
		if !strings.Contains(titles, op.Name) {
			t.Fatalf("operator %q is in no vertex of the graph:\n%s", op.Name, titles)
		}
	}
	// The numbers rise between two refreshes: the source's output count
	// changes, and is a number the REST API had reached.
	src := `document.querySelector('#graph g.vertex[data-vertex="` + job.Vertices[0].ID + `"] .vertex-records').textContent`
	var first string
	eval(t, ctx, src, &first)
	screenshot(t, ctx, "graph-1")
	var second string
	poll(t, "the source's count to rise", func() bool {
		second, _ = chromedp.Run(ctx, chromedp.Evaluate[string](src))
		return second != "" && second != first
	})
	if outCount(t, second) <= outCount(t, first) {
		t.Fatalf("source records went from %q to %q", first, second)
	}
	screenshot(t, ctx, "graph-2")

	// Subtasks: one row per subtask of each vertex.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"#jobs/"+id+"/subtasks")); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, v := range job.Vertices {
		total += v.Parallelism
	}
	pollPage(t, ctx, "the subtasks", `String(document.querySelectorAll("tr.subtask").length)`, strconv.Itoa(total))

	// Checkpoints: the completed count lies between two REST reads around it.
	var before, after restCheckpoints
	if err := c.get("/jobs/"+id+"/checkpoints", &before); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"#jobs/"+id+"/checkpoints")); err != nil {
		t.Fatal(err)
	}
	shown, err := strconv.ParseInt(text(t, ctx, "#ckpt-completed"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	var rows string
	eval(t, ctx, `String(document.querySelectorAll("tr.checkpoint").length)`, &rows)
	if err := c.get("/jobs/"+id+"/checkpoints", &after); err != nil {
		t.Fatal(err)
	}
	if shown < before.Counts.Completed || shown > after.Counts.Completed || shown == 0 {
		t.Fatalf("checkpoints page: %d completed, REST said %d before and %d after", shown, before.Counts.Completed, after.Counts.Completed)
	}
	// The history (the last 10 ended) only grows until it is full.
	if n, _ := strconv.Atoi(rows); n < len(before.History) || n > len(after.History) || n == 0 {
		t.Fatalf("checkpoints page: %s history rows, REST had %d before and %d after", rows, len(before.History), len(after.History))
	}
	screenshot(t, ctx, "checkpoints")

	// /metrics: one numRecordsOut per subtask of each vertex, labelled as
	// Flink's Prometheus reporter labels them.
	var page string
	if err := c.get("/metrics", &page); err != nil {
		t.Fatal(err)
	}
	samples, err := parseProm(page)
	if err != nil {
		t.Fatalf("/metrics: %v\n%s", err, page)
	}
	seen := map[string]int{}
	for _, s := range samples {
		if s.name == "spate_taskmanager_job_task_numRecordsOut" && s.labels["job_id"] == id {
			if s.labels["job_name"] != "exactlyonce" || (s.labels["tm_id"] != "tm-0" && s.labels["tm_id"] != "tm-1") {
				t.Errorf("labels %v", s.labels)
			}
			seen[s.labels["task_name"]+"/"+s.labels["subtask_index"]]++
		}
	}
	wantSeen := map[string]int{}
	for _, v := range job.Vertices {
		for i := range v.Parallelism {
			wantSeen[v.Name+"/"+strconv.Itoa(i)] = 1
		}
	}
	if fmt.Sprint(seen) != fmt.Sprint(wantSeen) {
		t.Fatalf("numRecordsOut samples %v, want %v", seen, wantSeen)
	}

	// A TaskManager: its process's metrics and its log's tail, as its
	// heartbeats carry them, and the job's process on it.
	var vertex struct {
		Subtasks []struct {
			TaskManager string `json:"taskmanager-id"`
		} `json:"subtasks"`
	}
	if err := c.get("/jobs/"+id+"/vertices/"+job.Vertices[0].ID, &vertex); err != nil || len(vertex.Subtasks) == 0 {
		t.Fatalf("vertex %s: %+v, %v", job.Vertices[0].ID, vertex, err)
	}
	tm := vertex.Subtasks[0].TaskManager // one that runs the job
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"#taskmanagers/"+tm)); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, "#tm-id"); got != "TaskManager "+tm {
		t.Fatalf("TaskManager page: %q", got)
	}
	if n, err := strconv.Atoi(text(t, ctx, "#tm-goroutines")); err != nil || n <= 0 {
		t.Fatalf("TaskManager page: goroutines %d, %v", n, err)
	}
	pollPage(t, ctx, "the TaskManager's log", `String(document.querySelector("#tm-log").textContent.includes('"message":"registered"'))`, "true")
	pollPage(t, ctx, "the job on the TaskManager", `String(document.querySelector("table.tm-jobs a").textContent)`, "exactlyonce")
	screenshot(t, ctx, "taskmanager")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"#jobs/"+id+"/graph")); err != nil {
		t.Fatal(err)
	}

	// Trigger savepoint: asks for a directory, then writes one there.
	sps := filepath.Join(dir, "savepoints")
	if err := chromedp.Do(ctx, chromedp.Click("#btn-savepoint", chromedp.NodeVisible),
		chromedp.SendKeys("#confirm-dir", sps, chromedp.NodeVisible),
		chromedp.Click("#confirm-ok", chromedp.NodeVisible)); err != nil {
		t.Fatal(err)
	}
	var result string
	poll(t, "the savepoint", func() bool {
		result, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#action-result").textContent`))
		return strings.HasPrefix(result, "Savepoint written to ")
	})
	loc := strings.TrimPrefix(result, "Savepoint written to ")
	if !strings.HasPrefix(loc, sps+string(filepath.Separator)) {
		t.Fatalf("savepoint at %q, want under %s", loc, sps)
	}
	if _, err := os.Stat(filepath.Join(loc, "_metadata")); err != nil {
		t.Fatalf("the savepoint the page reported: %v", err)
	}
	screenshot(t, ctx, "savepoint")

	// Cancel: the button asks first; confirming cancels the job.
	if err := chromedp.Do(ctx, chromedp.Click("#btn-cancel", chromedp.NodeVisible)); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, "#confirm-text"); !strings.HasPrefix(got, `Cancel job "exactlyonce"?`) {
		t.Fatalf("confirmation %q", got)
	}
	if err := c.get("/jobs/"+id, &job); err != nil || job.State != "RUNNING" {
		t.Fatalf("before confirming: state %q, %v", job.State, err)
	}
	screenshot(t, ctx, "cancel-confirm")
	if err := chromedp.Do(ctx, chromedp.Click("#confirm-ok", chromedp.NodeVisible)); err != nil {
		t.Fatal(err)
	}
	poll(t, "the job cancelled", func() bool { return c.get("/jobs/"+id, &job) == nil && job.State == "CANCELED" })
	pollPage(t, ctx, "the page to show CANCELED", `(document.querySelector("#job-state")||{}).textContent||""`, "CANCELED")
	screenshot(t, ctx, "cancelled")

	// Exceptions: the cancellation, as the REST API has it.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"#jobs/"+id+"/exceptions")); err != nil {
		t.Fatal(err)
	}
	var ex struct {
		History struct {
			Entries []struct {
				Name  string `json:"exceptionName"`
				Trace string `json:"stacktrace"`
			} `json:"entries"`
		} `json:"exceptionHistory"`
	}
	if err := c.get("/jobs/"+id+"/exceptions", &ex); err != nil || len(ex.History.Entries) == 0 {
		t.Fatalf("exceptions: %+v, %v", ex, err)
	}
	if got, want := text(t, ctx, "#root-cause"), ex.History.Entries[0].Name+": "+ex.History.Entries[0].Trace; got != strings.TrimSpace(want) {
		t.Fatalf("root cause %q, want %q", got, want)
	}
	// Configuration: the job's own settings.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"#jobs/"+id+"/configuration")); err != nil {
		t.Fatal(err)
	}
	pollPage(t, ctx, "the job's configuration",
		`String(Array.from(document.querySelectorAll("table.config tr")).some(r => r.cells[0].textContent === "state.checkpoints.dir" && r.cells[1].textContent === `+strconv.Quote(ckpt)+`))`, "true")
	s.wait(t)
}

// outCount is the "Out n" of a vertex's records line ("In 1,234 · Out 5,678").
func outCount(t *testing.T, line string) int64 {
	t.Helper()
	_, out, ok := strings.Cut(line, "Out ")
	if !ok {
		t.Fatalf("records line %q has no Out", line)
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(out), ",", ""), 10, 64)
	if err != nil {
		t.Fatalf("records line %q: %v", line, err)
	}
	return n
}

// promSample is one sample of the Prometheus text format.
type promSample struct {
	name   string
	labels map[string]string
	value  float64
}

// parseProm reads the text exposition format 0.0.4 strictly: HELP and
// TYPE comments, then samples `name{label="value",...} number`, with the
// format's escapes; anything else is an error. (Prometheus' own expfmt
// parser checks the same writer in worker/metrics/promcompare, a module of
// its own so that this one does not take its dependencies.)
func parseProm(page string) ([]promSample, error) {
	var out []promSample
	typed := map[string]bool{}
	for n, line := range strings.Split(strings.TrimSuffix(page, "\n"), "\n") {
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			f := strings.Fields(rest)
			if len(f) != 2 || (f[1] != "counter" && f[1] != "gauge") || typed[f[0]] {
				return nil, fmt.Errorf("line %d: bad TYPE %q", n+1, line)
			}
			typed[f[0]] = true
			continue
		}
		s := promSample{labels: map[string]string{}}
		i := strings.IndexAny(line, "{ ")
		if i <= 0 {
			return nil, fmt.Errorf("line %d: no sample: %q", n+1, line)
		}
		s.name, line = line[:i], line[i:]
		if !typed[s.name] {
			return nil, fmt.Errorf("line %d: %s has no TYPE before it", n+1, s.name)
		}
		if strings.HasPrefix(line, "{") {
			line = line[1:]
			for !strings.HasPrefix(line, "}") {
				eq := strings.Index(line, `="`)
				if eq <= 0 {
					return nil, fmt.Errorf("line %d: bad label in %q", n+1, line)
				}
				name := line[:eq]
				line = line[eq+2:]
				var v strings.Builder
				for {
					if line == "" {
						return nil, fmt.Errorf("line %d: unterminated label value", n+1)
					}
					c := line[0]
					line = line[1:]
					if c == '"' {
						break
					}
					if c == '\\' && line != "" {
						switch line[0] {
						case 'n':
							c = '\n'
						case '\\', '"':
							c = line[0]
						default:
							return nil, fmt.Errorf("line %d: bad escape", n+1)
						}
						line = line[1:]
					}
					v.WriteByte(c)
				}
				s.labels[name] = v.String()
				line = strings.TrimPrefix(line, ",")
			}
			line = line[1:]
		}
		v, err := strconv.ParseFloat(strings.TrimPrefix(line, " "), 64)
		if err != nil || !strings.HasPrefix(line, " ") {
			return nil, fmt.Errorf("line %d: bad value %q", n+1, line)
		}
		s.value = v
		out = append(out, s)
	}
	return out, nil
}

// TestMetricsOnSession: after WordCount ran on a session cluster, /metrics
// parses, and the sink's numRecordsIn is exactly the lines the job wrote;
// the job's uptime is 0 and its restarts 0.
func TestMetricsOnSession(t *testing.T) {
	c := startSession(t, 2, 2)
	input, _ := filepath.Abs(filepath.Join("..", "examples", "wordcount", "testdata", "words.txt"))
	out := filepath.Join(t.TempDir(), "out")
	s := c.submit(t, nil, "wordcount", "--input", input, "--output", out, "--parallelism", "2")
	if code := s.wait(t); code != 0 {
		t.Fatalf("spate submit: exit %d\n%s", code, s.stderr.String())
	}
	id := jobID(t, s)
	lines := int64(len(strings.Split(partLines(t, out), "\n")))
	var plan struct {
		Plan struct {
			Operators []struct {
				ID     string `json:"id"`
				Name   string `json:"name"`
				Inputs []struct {
					Operator string `json:"operator"`
				} `json:"inputs"`
			} `json:"operators"`
		} `json:"plan"`
	}
	if err := c.get("/jobs/"+id+"/plan", &plan); err != nil {
		t.Fatal(err)
	}
	feeds := map[string]bool{}
	for _, op := range plan.Plan.Operators {
		for _, in := range op.Inputs {
			feeds[in.Operator] = true
		}
	}
	var sinks []string
	for _, op := range plan.Plan.Operators {
		if !feeds[op.ID] {
			sinks = append(sinks, op.ID)
		}
	}
	if len(sinks) != 1 {
		t.Fatalf("plan has sinks %v, want one", sinks)
	}
	var page string
	if err := c.get("/metrics", &page); err != nil {
		t.Fatal(err)
	}
	samples, err := parseProm(page)
	if err != nil {
		t.Fatalf("/metrics: %v\n%s", err, page)
	}
	got := map[string]float64{}
	for _, s := range samples {
		if s.labels["job_id"] != id {
			continue
		}
		switch {
		case s.name == "spate_jobmanager_job_operator_numRecordsIn" && s.labels["operator_id"] == sinks[0]:
			got["sinkIn"] = s.value
			if s.labels["job_name"] != "wordcount" {
				t.Errorf("job_name %q", s.labels["job_name"])
			}
		case s.name == "spate_jobmanager_job_uptime", s.name == "spate_jobmanager_job_numRestarts":
			got[s.name] = s.value
		}
	}
	want := map[string]float64{"sinkIn": float64(lines), "spate_jobmanager_job_uptime": 0, "spate_jobmanager_job_numRestarts": 0}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("metrics of job %s: %v, want %v\n%s", id, got, want, page)
	}
}

var (
	nexmarkOnce sync.Once
	nexmarkErr  error
)

// buildNexmark builds examples/nexmark into binDir (TestMain builds the
// binaries the other tests share; this one only the web UI's needs).
func buildNexmark(t *testing.T) {
	t.Helper()
	nexmarkOnce.Do(func() {
		cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, "nexmark"), "./examples/nexmark")
		cmd.Dir = ".."
		if b, err := cmd.CombinedOutput(); err != nil {
			nexmarkErr = fmt.Errorf("build nexmark: %v\n%s", err, b)
		}
	})
	if nexmarkErr != nil {
		t.Fatal(nexmarkErr)
	}
}

// TestWebUIWatermarksOnSession: nexmark (event time, a rate-limited
// generator) on a session cluster: the graph shows the window's input
// watermark once it has one, and the REST API has one per subtask of it.
func TestWebUIWatermarksOnSession(t *testing.T) {
	buildNexmark(t)
	ctx := browser(t)
	c := startSession(t, 2, 2)
	s := c.submit(t, nil, "nexmark", "--events", "1000000000", "--rate", "20000", "--parallelism", "2")
	id := jobID(t, s)
	var job restJob
	poll(t, "nexmark running", func() bool { return c.get("/jobs/"+id, &job) == nil && job.State == "RUNNING" })
	var window string
	for _, v := range job.Vertices {
		if strings.HasPrefix(v.Name, "Window") {
			window = v.ID
		}
	}
	if window == "" {
		t.Fatalf("no window vertex in %+v", job.Vertices)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+c.rest+"/#jobs/"+id+"/graph")); err != nil {
		t.Fatal(err)
	}
	wm := `document.querySelector('#graph g.vertex[data-vertex="` + window + `"] .vertex-wm').textContent`
	// The watermark shows, then rises on a later refresh.
	watermark := func() (int64, bool) {
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](wm))
		n, err := strconv.ParseInt(strings.ReplaceAll(strings.TrimPrefix(got, "Watermark: "), ",", ""), 10, 64)
		return n, err == nil
	}
	var first int64
	poll(t, "the window's watermark on the page", func() bool {
		n, ok := watermark()
		first = n
		return ok
	})
	poll(t, "the window's watermark to rise", func() bool {
		n, ok := watermark()
		return ok && n > first
	})
	var wms []struct {
		ID    string `json:"id"`
		Value string `json:"value"`
	}
	if err := c.get("/jobs/"+id+"/vertices/"+window+"/watermarks", &wms); err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, w := range wms {
		if _, err := strconv.ParseInt(w.Value, 10, 64); err != nil {
			t.Fatalf("watermark %+v: %v", w, err)
		}
		ids = append(ids, w.ID)
	}
	if strings.Join(ids, ",") != "0.currentInputWatermark,1.currentInputWatermark" {
		t.Fatalf("watermarks of the window: %v", wms)
	}
	screenshot(t, ctx, "nexmark-graph")

	// Behind YARN's web proxy, which serves the UI under a prefix of its own:
	// every page and call of the UI goes through the prefix.
	target, _ := url.Parse("http://" + c.rest)
	const prefix = "/proxy/application_1700000000000_0001"
	var outside []string
	var mu sync.Mutex
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, prefix)
		if !ok || rest == "" {
			mu.Lock()
			outside = append(outside, r.URL.Path)
			mu.Unlock()
			http.NotFound(w, r)
			return
		}
		r.URL.Path, r.URL.RawPath = rest, ""
		httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
	}))
	defer proxy.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(proxy.URL+prefix+"/#overview")); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, `tr.job[data-job="`+id+`"] td.job-name`); got != job.Name {
		t.Fatalf("behind the proxy: job name %q, want %q", got, job.Name)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`tr.job[data-job="`+id+`"] td.job-name a`, chromedp.NodeVisible)); err != nil {
		t.Fatal(err)
	}
	pollPage(t, ctx, "the graph behind the proxy", `String(document.querySelectorAll("#graph g.vertex").length)`, strconv.Itoa(len(job.Vertices)))
	mu.Lock()
	if len(outside) > 0 {
		t.Errorf("requests outside the proxy's prefix: %v", outside)
	}
	mu.Unlock()
	if cl := runBin(t, nil, "spate", "cancel", "--jobmanager", c.rest, id); cl.code != 0 {
		t.Fatalf("spate cancel: exit %d\n%s", cl.code, cl.stderr)
	}
	poll(t, "nexmark cancelled", func() bool { return c.get("/jobs/"+id, &job) == nil && job.State == "CANCELED" })
	s.wait(t)
}
