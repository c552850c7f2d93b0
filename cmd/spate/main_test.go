package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/spate-io/spate/conf"
)

// spate runs the command line in-process and returns its exit code, stdout
// and stderr.
func spate(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// cleanEnv hides the developer's configuration from the test.
func cleanEnv(t *testing.T) {
	t.Helper()
	t.Setenv(conf.EnvConfDir, "")
	t.Setenv(conf.EnvProperties, "")
}

// script writes an executable shell script into a temporary directory.
func script(t *testing.T, body string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("needs /bin/sh")
	}
	path := filepath.Join(t.TempDir(), "job.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// echoJob prints what a job binary receives from spate, then exits 3.
const echoJob = `echo "role=$SPATE_ROLE"
echo "properties=$SPATE_PROPERTIES"
for a in "$@"; do echo "arg=$a"; done
exit 3
`

func TestConfigText(t *testing.T) {
	code, out, errOut := spate(t, "config")
	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if got := strings.Fields(lines[0]); !slices.Equal(got, []string{"KEY", "TYPE", "DEFAULT", "DESCRIPTION"}) {
		t.Errorf("header = %q", lines[0])
	}
	opts := conf.Options()
	if len(lines) != len(opts)+1 {
		t.Fatalf("%d lines for %d options:\n%s", len(lines), len(opts), out)
	}
	typeCol := strings.Index(lines[0], "TYPE")
	for i, o := range opts {
		line := lines[i+1]
		if !strings.HasPrefix(line, o.Key+" ") || !strings.HasSuffix(line, "  "+o.Doc) {
			t.Errorf("line for %s = %q", o.Key, line)
		}
		if !strings.HasPrefix(line[typeCol:], typeName(o)+" ") {
			t.Errorf("TYPE column of %s is not aligned: %q", o.Key, line)
		}
	}
	if !strings.Contains(out, " enum(streaming|batch|automatic) ") {
		t.Errorf("enum values missing from:\n%s", out)
	}
}

func TestConfigJSON(t *testing.T) {
	code, out, errOut := spate(t, "config", "--output", "json")
	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var got []struct {
		Key     string   `json:"key"`
		Type    string   `json:"type"`
		Default string   `json:"default"`
		Doc     string   `json:"doc"`
		Values  []string `json:"values"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	opts := conf.Options()
	if len(got) != len(opts) {
		t.Fatalf("%d options in JSON, want %d", len(got), len(opts))
	}
	for i, o := range opts {
		g := got[i]
		if g.Key != o.Key || g.Type != string(o.Type) || g.Default != o.Default || g.Doc != o.Doc ||
			g.Values == nil || !slices.Equal(g.Values, o.Values) {
			t.Errorf("option %d = %+v, want %+v", i, g, o)
		}
	}
}

// TestUsageErrors checks that every usage error is one line on stderr and
// exit code 2, with nothing on stdout.
func TestUsageErrors(t *testing.T) {
	cleanEnv(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "spate: flag provided but not defined: -bogus (run 'spate --help')"},
		{[]string{"config", "--bogus"}, "spate config: flag provided but not defined: -bogus (run 'spate config --help')"},
		{[]string{"config", "--output", "yaml"}, `spate config: invalid value "yaml" for --output: want text or json`},
		{[]string{"config", "extra"}, `spate config: unexpected argument "extra"`},
		{[]string{"frob"}, `spate: unknown command "frob" (run 'spate --help' for the list)`},
		{[]string{"help", "frob"}, `spate help: unknown command "frob" (run 'spate --help' for the list)`},
		{[]string{"--log-level", "loud", "config"}, `spate: --log-level: invalid value "loud" for log.level: want one of trace, debug, info, warn, error`},
		{[]string{"run"}, "spate run: missing JOB (usage: spate run [-D key=value]... JOB [-- ARGS...])"},
		{[]string{"info"}, "spate info: missing JOB (usage: spate info [-D key=value]... JOB [-- ARGS...])"},
		{[]string{"run", "-x", "./job"}, "spate run: flag provided but not defined: -x (run 'spate run --help')"},
		{[]string{"run", "-D"}, "spate run: flag needs an argument: -D (run 'spate run --help')"},
		{[]string{"run", "./does-not-exist"}, `spate run: job binary "./does-not-exist" not found`},
		{[]string{"info", "./does-not-exist"}, `spate info: job binary "./does-not-exist" not found`},
		{[]string{"run", "-D", "parallelism.default=abc", "./job"},
			`spate run: -D parallelism.default=abc: invalid value "abc" for parallelism.default: want an integer ≥ 1`},
		{[]string{"run", "-Dparalelism.default=4", "./job"},
			`spate run: -D paralelism.default=4: unknown configuration key "paralelism.default" (did you mean "parallelism.default"? run 'spate config' for every key)`},
		{[]string{"run", "-D", "parallelism.default", "./job"},
			`spate run: -D parallelism.default: want key=value, e.g. -D parallelism.default=4`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := spate(t, tt.args...)
			if code != ExitUsage {
				t.Errorf("exit code %d, want %d", code, ExitUsage)
			}
			if errOut != tt.want+"\n" {
				t.Errorf("stderr = %q\nwant %q", errOut, tt.want+"\n")
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
		})
	}
}

func TestJobNotExecutable(t *testing.T) {
	cleanEnv(t)
	dir := t.TempDir()
	job := filepath.Join(dir, "job")
	if err := os.WriteFile(job, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ job, want string }{
		{job, `spate run: job binary "` + job + `" is not executable (chmod +x ` + job + ")\n"},
		{dir, `spate run: job binary "` + dir + `" is a directory` + "\n"},
	}
	for _, tt := range tests {
		code, _, errOut := spate(t, "run", tt.job)
		if code != ExitUsage || errOut != tt.want {
			t.Errorf("run %s: exit %d, stderr %q; want %d, %q", tt.job, code, errOut, ExitUsage, tt.want)
		}
	}
}

func TestRunAndInfo(t *testing.T) {
	cleanEnv(t)
	t.Setenv("SPATE_ROLE", "stale") // replaced, not inherited
	job := script(t, echoJob)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"run", []string{"run", "-D", "parallelism.default=4", job, "--", "a", "b c", "-Dx=y"},
			"role=client\nproperties=parallelism.default=4\narg=a\narg=b c\narg=-Dx=y\n"},
		{"info", []string{"info", "-D", "parallelism.default=4", job, "--", "a", "b c"},
			"role=info\nproperties=parallelism.default=4\narg=a\narg=b c\n"},
		{"attached -D, commas, no --", []string{"run", "-Dparallelism.default=4", "-D", "execution.runtime-mode=BATCH", job, "--input", "x,y"},
			"role=client\nproperties=execution.runtime-mode=batch\nparallelism.default=4\narg=--input\narg=x,y\n"},
		{"log level", []string{"--log-level", "INFO", "run", job},
			"role=client\nproperties=log.level=info\n"},
		{"log level and -D, which wins", []string{"--log-level", "debug", "run", "-D", "log.level=error", job},
			"role=client\nproperties=log.level=error\n"},
		{"no configuration", []string{"info", job}, "role=info\nproperties=\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := spate(t, tt.args...)
			if code != 3 {
				t.Errorf("exit code %d, want the job's 3", code)
			}
			if out != tt.want {
				t.Errorf("stdout =\n%s\nwant\n%s", out, tt.want)
			}
			if errOut != "" {
				t.Errorf("stderr = %q", errOut)
			}
		})
	}
}

func TestRunPassesConfigFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "spate.yaml"), []byte("parallelism:\n  default: 2\nexecution.batch-size: 8\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(conf.EnvConfDir, dir)
	t.Setenv(conf.EnvProperties, "execution.batch-size=16")
	job := script(t, `echo "$SPATE_PROPERTIES"`+"\n")
	code, out, errOut := spate(t, "run", "-D", "log.level=info", job)
	want := "execution.batch-size=16\nlog.level=info\nparallelism.default=2\n"
	if code != ExitOK || out != want || errOut != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0, %q", code, out, errOut, want)
	}
}

func TestVersion(t *testing.T) {
	code, out, errOut := spate(t, "version")
	want := "spate dev (" + runtime.Version()
	if code != ExitOK || errOut != "" || !strings.HasPrefix(out, want) || !strings.HasSuffix(out, ")\n") || strings.Count(out, "\n") != 1 {
		t.Errorf("exit %d, stdout %q, stderr %q; want one line starting %q", code, out, errOut, want)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{nil, {"help"}, {"--help"}, {"help", "run"}, {"run", "--help"}} {
		code, out, errOut := spate(t, args...)
		if code != ExitOK || errOut != "" || !strings.Contains(out, "USAGE:") {
			t.Errorf("spate %v: exit %d, stderr %q, stdout %q", args, code, errOut, out)
		}
	}
}

func TestSplitAttachedD(t *testing.T) {
	tests := []struct{ in, want []string }{
		{[]string{"run", "-Da=1", "-D", "b=2", "job", "-Dc=3"}, []string{"run", "-D", "a=1", "-D", "b=2", "job", "-Dc=3"}},
		{[]string{"--log-level", "info", "info", "-Da=1", "--", "-Db=2"}, []string{"--log-level", "info", "info", "-D", "a=1", "--", "-Db=2"}},
		{[]string{"run", "-D=a=1", "job"}, []string{"run", "-D=a=1", "job"}},
		{[]string{"config", "-Da=1"}, []string{"config", "-Da=1"}},
		{[]string{"run"}, []string{"run"}},
		{[]string{"run", "--target", "remote", "-Da=1", "-p", "2", "-Db=2", "job", "-Dc=3"},
			[]string{"run", "--target", "remote", "-D", "a=1", "-p", "2", "-D", "b=2", "job", "-Dc=3"}},
		{[]string{"submit", "-m", "h:1", "-Da=1", "job"}, []string{"submit", "-m", "h:1", "-D", "a=1", "job"}},
		{nil, []string{}},
	}
	for _, tt := range tests {
		if got := splitAttachedD(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("splitAttachedD(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestRunRefusesNonSpateBinaries: a native executable that is not a Go
// program built with Spate is refused before it runs; scripts pass, since
// they may start a Spate job.
func TestRunRefusesNonSpateBinaries(t *testing.T) {
	cleanEnv(t)
	goTool, err := exec.LookPath("go") // a Go program, not a Spate job
	if err != nil {
		t.Fatalf("this test needs the go tool on PATH: %v", err)
	}
	if goTool, err = filepath.EvalSymlinks(goTool); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ job, want string }{
		{"/bin/true", `spate run: job binary "/bin/true" is not a Spate job: it is not a Go program (not a Go executable); build the job with github.com/spate-io/spate/sdk` + "\n"},
		{goTool, `spate run: job binary "` + goTool + `" is not a Spate job: the Go program cmd/go does not use github.com/spate-io/spate; build the job with github.com/spate-io/spate/sdk` + "\n"},
	} {
		if _, err := os.Stat(tc.job); err != nil {
			t.Fatalf("this test needs %s: %v", tc.job, err)
		}
		code, out, errOut := spate(t, "run", tc.job)
		if code != ExitUsage || out != "" || errOut != tc.want {
			t.Errorf("run %s: exit %d, stdout %q, stderr %q; want %d, %q", tc.job, code, out, errOut, ExitUsage, tc.want)
		}
	}
}
