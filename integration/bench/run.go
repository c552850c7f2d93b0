package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spate-io/spate/integration/maven"
)

// Measurement is one run of one job, from the child's rusage (wait4).
type Measurement struct {
	Wall    time.Duration
	CPU     time.Duration // user + system, all threads
	PeakRSS int64         // bytes
}

// Options configure a comparison.
type Options struct {
	Sizes       Sizes
	Parallelism int
	Reps        int      // runs of each job in each system, interleaved
	WorkDir     string   // inputs, binaries and run directories
	Only        []string // workload name prefixes to run (all when empty); the start-up job always runs
	Timeout     time.Duration
	Progress    io.Writer // one line per run; may be nil
}

// Result is a workload's runs, rep by rep, or why its outputs could not be compared.
type Result struct {
	Workload     Workload
	Spate, Flink []Measurement
	Lines        int   // result lines, the same in both
	Problem      error // a job failed or the outputs differ: no number is reported
}

// runPair runs r's workload once in each system, rep deciding which goes
// first, and returns each system's sorted output lines.
func (r *Result) runPair(ctx context.Context, o Options, bins Binaries, rep int, progress io.Writer) (map[string][]string, error) {
	w := r.Workload
	systems := []string{"spate", "flink"}
	if rep%2 == 1 {
		systems = []string{"flink", "spate"}
	}
	lines := map[string][]string{}
	for _, sys := range systems {
		d, err := freshDirs(o.WorkDir, sys, w.Name)
		if err != nil {
			return nil, err
		}
		argv := w.Spate(bins, d)
		if sys == "flink" {
			argv = append([]string{bins.Java, "-cp", bins.FlinkClassPath, "io.spate.bench.Bench"}, w.Flink(d)...)
		}
		m, err := measure(ctx, o.Timeout, argv, d)
		if err != nil {
			return nil, fmt.Errorf("%s, %s, run %d: %w", w.Name, sys, rep+1, err)
		}
		fmt.Fprintf(progress, "%-34s %-5s run %d: wall %6.2f s, CPU %7.2f s, peak RSS %5d MB\n",
			w.Name, sys, rep+1, m.Wall.Seconds(), m.CPU.Seconds(), m.PeakRSS>>20)
		if lines[sys], err = ReadOutput(d.Out); err != nil {
			return nil, fmt.Errorf("%s, %s: %w", w.Name, sys, err)
		}
		if sys == "spate" {
			r.Spate = append(r.Spate, m)
		} else {
			r.Flink = append(r.Flink, m)
		}
	}
	return lines, nil
}

// ErrOutputsDiffer is wrapped in a Result's Problem (and in Run's error) when
// the workload's outputs differed between the systems, or between runs.
var ErrOutputsDiffer = errors.New("the two systems' outputs differ")

// Run builds both systems' jobs, makes the inputs, and runs every workload
// Reps times in each system, alternating which goes first, checking after each
// pair that both wrote the same lines. A workload whose job failed or whose
// outputs differ is run no more; its Result holds the problem, and Run's
// error joins them all.
func Run(ctx context.Context, o Options) ([]Result, error) {
	if o.Parallelism < 1 || o.Reps < 1 {
		return nil, fmt.Errorf("parallelism and reps must be at least 1, got %d and %d", o.Parallelism, o.Reps)
	}
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	bins, err := Build(filepath.Join(o.WorkDir, "bin"))
	if err != nil {
		return nil, err
	}
	inDir := filepath.Join(o.WorkDir, "inputs")
	if err := os.MkdirAll(inDir, 0o755); err != nil {
		return nil, err
	}
	var in Inputs
	if in.Text, err = MakeText(inDir, o.Sizes.TextBytes, o.Parallelism); err != nil {
		return nil, fmt.Errorf("make W2's text: %w", err)
	}
	if in.Events, err = MakeEvents(inDir, o.Sizes.WindowEvents, o.Sizes.WindowKeys); err != nil {
		return nil, fmt.Errorf("make W3's events: %w", err)
	}
	var results []*Result
	for _, w := range Workloads(o.Sizes, in, o.Parallelism) {
		if w.Name == StartUp || len(o.Only) == 0 || slices.ContainsFunc(o.Only, func(p string) bool { return strings.HasPrefix(w.Name, p) }) {
			results = append(results, &Result{Workload: w})
		}
	}
	digests := map[string][sha256.Size]byte{} // workload → its sorted output's digest
	for rep := range o.Reps {
		for _, r := range results {
			if r.Problem != nil {
				continue
			}
			lines, err := r.runPair(ctx, o, bins, rep, progress)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if err != nil {
				r.Problem = err
				continue
			}
			w := r.Workload
			if diff := DiffLines(lines["spate"], lines["flink"]); diff != "" {
				r.Problem = fmt.Errorf("%s, run %d: %w:\n%s", w.Name, rep+1, ErrOutputsDiffer, diff)
				continue
			}
			sum := digest(lines["spate"])
			if first, ok := digests[w.Name]; ok && first != sum {
				r.Problem = fmt.Errorf("%s: run %d's output differs from run 1's in both systems alike: %w", w.Name, rep+1, ErrOutputsDiffer)
				continue
			}
			digests[w.Name], r.Lines = sum, len(lines["spate"])
		}
	}
	out := make([]Result, len(results))
	var errs []error
	for i, r := range results {
		out[i] = *r
		errs = append(errs, r.Problem)
	}
	return out, errors.Join(errs...)
}

// freshDirs empties and returns the directories of a run of workload in sys.
func freshDirs(workDir, sys, workload string) (Dirs, error) {
	d := Dirs{Out: filepath.Join(workDir, "runs", sys, slug(workload), "out"),
		Scratch: filepath.Join(workDir, "runs", sys, slug(workload), "scratch")}
	for _, p := range []string{d.Out, d.Scratch} {
		if err := os.RemoveAll(p); err != nil {
			return Dirs{}, err
		}
		if err := os.MkdirAll(p, 0o755); err != nil {
			return Dirs{}, err
		}
	}
	return d, nil
}

// RunSmoke runs every workload once in each system on Smoke sizes at parallelism
// p and returns each workload's sorted output lines; it fails naming every
// workload whose outputs differ between the systems. Flink's jobs run one
// after the other in one JVM, whose start would cost more than the jobs.
func RunSmoke(ctx context.Context, workDir string, p int, timeout time.Duration, progress io.Writer) (map[string][]string, error) {
	t0 := time.Now()
	bins, err := Build(filepath.Join(workDir, "bin"))
	if err != nil {
		return nil, err
	}
	var in Inputs
	if in.Text, err = MakeText(workDir, Smoke.TextBytes, p); err != nil {
		return nil, err
	}
	if in.Events, err = MakeEvents(workDir, Smoke.WindowEvents, Smoke.WindowKeys); err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "smoke: built and made inputs in %.2f s\n", time.Since(t0).Seconds())
	ws := Workloads(Smoke, in, p)
	spate := map[string][]string{}
	// Only here, where no number is reported, is the JVM tuned: for a short
	// start (the client compiler alone, one GC thread).
	flinkArgs := []string{bins.Java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", bins.FlinkClassPath, "io.spate.bench.Bench"}
	flinkDirs := map[string]Dirs{}
	for i, w := range ws {
		d, err := freshDirs(workDir, "spate", w.Name)
		if err != nil {
			return nil, err
		}
		m, err := measure(ctx, timeout, w.Spate(bins, d), d)
		if err != nil {
			return nil, fmt.Errorf("%s, spate: %w", w.Name, err)
		}
		fmt.Fprintf(progress, "smoke: %s in Spate: wall %.2f s, CPU %.2f s\n", w.Name, m.Wall.Seconds(), m.CPU.Seconds())
		if spate[w.Name], err = ReadOutput(d.Out); err != nil {
			return nil, err
		}
		if flinkDirs[w.Name], err = freshDirs(workDir, "flink", w.Name); err != nil {
			return nil, err
		}
		if i > 0 {
			flinkArgs = append(flinkArgs, "--next")
		}
		flinkArgs = append(flinkArgs, w.Flink(flinkDirs[w.Name])...)
	}
	// The JVM's own stdout and stderr go to the first workload's directories.
	m, err := measure(ctx, timeout, flinkArgs, flinkDirs[ws[0].Name])
	if err != nil {
		return nil, fmt.Errorf("flink: %w", err)
	}
	fmt.Fprintf(progress, "smoke: %d jobs in one Flink JVM: wall %.2f s, CPU %.2f s\n", len(ws), m.Wall.Seconds(), m.CPU.Seconds())
	var errs []error
	for _, w := range ws {
		flink, err := ReadOutput(flinkDirs[w.Name].Out)
		if err != nil {
			return nil, err
		}
		if diff := DiffLines(spate[w.Name], flink); diff != "" {
			errs = append(errs, fmt.Errorf("%s: %w:\n%s", w.Name, ErrOutputsDiffer, diff))
		}
	}
	return spate, errors.Join(errs...)
}

// measure runs argv with its stdout in d.Out/stdout and its stderr in
// d.Scratch/stderr, and returns its wall time and rusage.
func measure(ctx context.Context, timeout time.Duration, argv []string, d Dirs) (Measurement, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	stdout, err := os.Create(filepath.Join(d.Out, "stdout"))
	if err != nil {
		return Measurement{}, err
	}
	defer stdout.Close()
	errPath := filepath.Join(d.Scratch, "stderr")
	stderr, err := os.Create(errPath)
	if err != nil {
		return Measurement{}, err
	}
	defer stderr.Close()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Env = jobEnv()
	cmd.SysProcAttr = sysProcAttr()
	t0 := time.Now()
	runErr := cmd.Run()
	wall := time.Since(t0)
	if runErr != nil {
		tail, _ := os.ReadFile(errPath)
		if ctx.Err() != nil {
			runErr = fmt.Errorf("%w after %v (raise -timeout)", ctx.Err(), wall.Round(time.Second))
		}
		return Measurement{}, fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), runErr, maven.LastLines(string(tail), 20))
	}
	cpu, rss, err := usage(cmd.ProcessState)
	if err != nil {
		return Measurement{}, err
	}
	return Measurement{Wall: wall, CPU: cpu, PeakRSS: rss}, nil
}

// jobEnv is this process's environment without Spate's configuration
// variables, so that both systems run on their defaults.
func jobEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SPATE_") {
			env = append(env, kv)
		}
	}
	return env
}

// ReadOutput returns the non-empty lines of every file under dir whose name
// does not start with "." or "_", sorted: a parallel job's lines have no
// defined order.
func ReadOutput(dir string) ([]string, error) {
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_") {
			if d.IsDir() && p != dir {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			if len(sc.Bytes()) > 0 {
				lines = append(lines, sc.Text())
			}
		}
		return sc.Err()
	})
	slices.Sort(lines)
	return lines, err
}

// DiffLines describes how two sorted line lists differ ("" when equal): the
// counts and the first lines found in only one of them.
func DiffLines(spate, flink []string) string {
	var onlySpate, onlyFlink []string
	i, j := 0, 0
	for i < len(spate) || j < len(flink) {
		switch {
		case j == len(flink) || i < len(spate) && spate[i] < flink[j]:
			onlySpate = append(onlySpate, spate[i])
			i++
		case i == len(spate) || flink[j] < spate[i]:
			onlyFlink = append(onlyFlink, flink[j])
			j++
		default:
			i++
			j++
		}
	}
	if len(onlySpate) == 0 && len(onlyFlink) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Spate wrote %d lines, Flink %d; %d only in Spate's, %d only in Flink's\n",
		len(spate), len(flink), len(onlySpate), len(onlyFlink))
	for _, side := range []struct {
		name  string
		lines []string
	}{{"only in Spate's", onlySpate}, {"only in Flink's", onlyFlink}} {
		for k, l := range side.lines[:min(8, len(side.lines))] {
			if k == 0 {
				fmt.Fprintf(&b, "  %s:\n", side.name)
			}
			fmt.Fprintf(&b, "    %s\n", l)
		}
	}
	return b.String()
}

func digest(lines []string) [sha256.Size]byte {
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

func slug(name string) string {
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return '-'
	}, name)
}

// Build compiles Spate's job binaries into dir (static, as build.sh does) and
// the Flink jobs with Maven, and finds java.
func Build(dir string) (Binaries, error) {
	java, err := exec.LookPath("java")
	if err != nil {
		return Binaries{}, errors.New("java is not on PATH: install a JDK 17 (Debian: apt-get install openjdk-17-jdk-headless)")
	}
	cp, err := BuildFlink()
	if err != nil {
		return Binaries{}, err
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	b := Binaries{Java: java, FlinkClassPath: cp,
		SpateJobs: filepath.Join(dir, "spatejobs"),
		WordCount: filepath.Join(dir, "wordcount"),
		Nexmark:   filepath.Join(dir, "nexmark")}
	args := []string{"build", "-o", dir + string(os.PathSeparator),
		"./integration/bench/spatejobs", "./examples/wordcount", "./examples/nexmark"}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Binaries{}, err
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return Binaries{}, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return b, nil
}
