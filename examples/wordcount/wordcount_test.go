package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/sdk"
	"github.com/spate-io/spate/sdk/graph"
)

var update = flag.Bool("update", false, "rewrite testdata/plan.json from the current plan")

// referenceCount counts words with a regular expression: independent of Tokenize.
func referenceCount(t *testing.T, path string) []string {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, w := range regexp.MustCompile(`[\p{L}\p{Nd}]+`).FindAllString(string(text), -1) {
		counts[strings.ToLower(w)]++
	}
	lines := make([]string, 0, len(counts))
	for w, n := range counts {
		lines = append(lines, w+" "+strconv.Itoa(n))
	}
	sort.Strings(lines)
	return lines
}

func newEnv(t *testing.T, parallelism int, stdout io.Writer) *sdk.Env {
	t.Helper()
	cfg := conf.New()
	if err := cfg.Set("parallelism.default", strconv.Itoa(parallelism)); err != nil {
		t.Fatal(err)
	}
	return sdk.NewEnv(sdk.WithConfig(cfg), sdk.WithStdout(stdout), sdk.WithLogger(zerolog.New(io.Discard)))
}

func sortedLines(s string) []string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	sort.Strings(lines)
	return lines
}

func TestWordCountSmallText(t *testing.T) {
	const input = "testdata/words.txt"
	want := referenceCount(t, input)
	for _, p := range []int{1, 2, 4} {
		t.Run("p"+strconv.Itoa(p), func(t *testing.T) {
			var out bytes.Buffer
			env := newEnv(t, p, &out)
			Build(env, input, "")
			res, err := env.Execute(context.Background(), "wordcount")
			if err != nil {
				t.Fatal(err)
			}
			if got := sortedLines(out.String()); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("wordcount at parallelism %d:\n got %q\nwant %q", p, got, want)
			}
			sink, _ := res.Operator("Sink: print")
			if sink.RecordsIn != int64(len(want)) {
				t.Fatalf("sink received %d records, want %d (one per distinct word)", sink.RecordsIn, len(want))
			}
		})
	}
}

func TestWordCountToPartFiles(t *testing.T) {
	const input = "testdata/words.txt"
	want := referenceCount(t, input)
	dir := filepath.Join(t.TempDir(), "out")
	env := newEnv(t, 3, io.Discard)
	Build(env, input, dir)
	if _, err := env.Execute(context.Background(), "wordcount"); err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	if strings.Join(names, ",") != "part-0-0,part-1-0,part-2-0" {
		t.Fatalf("output files %v, want one part file per subtask of the sink", names)
	}
	if got := sortedLines(all.String()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("part files hold\n%q\nwant\n%q", got, want)
	}
}

// TestWordCountPlan pins the plan: the source chained with the tokenizer, a hash
// exchange, and the count chained with formatting and the sink. Run with -update
// after an intended change.
func TestWordCountPlan(t *testing.T) {
	env := newEnv(t, 2, io.Discard)
	Build(env, "testdata/words.txt", "")
	plan, err := env.Plan("wordcount")
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Tasks) != 2 ||
		plan.Tasks[0].Name != "Source: text -> FlatMap: tokenize" ||
		plan.Tasks[1].Name != "Sum: count -> Map: format -> Sink: print" {
		t.Fatalf("tasks = %+v, want [Source: text -> FlatMap: tokenize] and [Sum: count -> Map: format -> Sink: print]", plan.Tasks)
	}
	sum := plan.Operators[2]
	if len(sum.Inputs) != 1 || sum.Inputs[0].Partitioner != graph.Hash || sum.Inputs[0].Chained {
		t.Fatalf("Sum's input = %+v, want one unchained hash exchange", sum.Inputs)
	}
	got := plan.JSON()
	if *update {
		if err := os.WriteFile("testdata/plan.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/plan.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("plan changed (run go test -update if intended):\n%s", got)
	}
}

func TestTokenize(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"", ""},
		{"Hello, World!", "hello world"},
		{"  spaces\tand\ttabs  ", "spaces and tabs"},
		{"don't stop", "don t stop"},
		{"Straße CAFÉ naïve", "straße café naïve"},
		{"R2-D2 3.14", "r2 d2 3 14"},
		{"日本語 text", "日本語 text"},
		{"x", "x"},
		{"--", ""},
	} {
		var c sdk.Collector[string]
		Tokenize(tc.line, &c)
		got := c.Records()
		if strings.Join(got, " ") != tc.want {
			t.Errorf("Tokenize(%q) = %q, want %q", tc.line, got, tc.want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "wordcount: --input is required; usage: wordcount --input PATH [--output DIR] [--parallelism N]\n"},
		{[]string{"--input", "x", "--bogus"}, 2, "wordcount: flag provided but not defined: -bogus; usage: wordcount --input PATH [--output DIR] [--parallelism N]\n"},
		{[]string{"--input", "x", "extra"}, 2, "wordcount: unexpected argument \"extra\"; usage: wordcount --input PATH [--output DIR] [--parallelism N]\n"},
		{[]string{"--input", "x", "--parallelism", "-1"}, 2, "wordcount: --parallelism must be at least 1, got -1\n"},
		{[]string{"--input", "/does/not/exist"}, 1, "wordcount: Source: text: input path \"/does/not/exist\" does not exist\n"},
	} {
		var stderr bytes.Buffer
		if code := run(tc.args, &stderr); code != tc.code || stderr.String() != tc.want {
			t.Errorf("wordcount %q: exit %d, stderr %q; want exit %d, stderr %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
	}
}
