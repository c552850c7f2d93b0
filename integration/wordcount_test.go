package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// referenceCounts counts words with a regular expression, independently of the
// example's tokenizer: maximal runs of letters and decimal digits, lowercased.
func referenceCounts(t *testing.T, paths ...string) []string {
	t.Helper()
	word := regexp.MustCompile(`[\p{L}\p{Nd}]+`)
	counts := map[string]int{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			for _, w := range word.FindAllString(sc.Text(), -1) {
				counts[strings.ToLower(w)]++
			}
		}
		f.Close()
		if sc.Err() != nil {
			t.Fatal(sc.Err())
		}
	}
	lines := make([]string, 0, len(counts))
	for w, n := range counts {
		lines = append(lines, w+" "+strconv.Itoa(n))
	}
	slices.Sort(lines)
	return lines
}

// writeLargeText writes at least size bytes of text made of words in several
// scripts and cases, digits, punctuation, blank lines and CRLF endings.
func writeLargeText(t *testing.T, path string, size int, seed uint64) {
	t.Helper()
	vocab := []string{"the", "The", "THE", "river", "Stream", "flows", "spate", "Spate", "café", "CAFÉ",
		"Straße", "naïve", "日本語", "данные", "поток", "42", "2026", "x1", "A", "b", "über", "Ölfass",
		"key", "group", "Checkpoint", "barrier", "window", "Ω", "ω", "e2e"}
	for i := range 3000 { // a long tail of rarer words
		vocab = append(vocab, "w"+strconv.Itoa(i))
	}
	seps := []string{" ", " ", " ", ", ", ". ", "; ", " - ", "\t", "'", "(", ") ", "!", "...", "—"}
	rng := rand.New(rand.NewPCG(seed, 2))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	n := 0
	for n < size {
		words := rng.IntN(20)
		for i := range words {
			var s string
			if rng.IntN(4) == 0 {
				s = vocab[rng.IntN(len(vocab))]
			} else {
				s = vocab[rng.IntN(30)]
			}
			if i > 0 {
				s = seps[rng.IntN(len(seps))] + s
			}
			k, _ := w.WriteString(s)
			n += k
		}
		end := "\n"
		if rng.IntN(10) == 0 {
			end = "\r\n"
		}
		k, _ := w.WriteString(end)
		n += k
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func sortedOutput(s string) []string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return nil
	}
	slices.Sort(lines)
	return lines
}

func readParts(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "part-") {
			t.Fatalf("unexpected file %s in the output directory", e.Name())
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	return all.String()
}

func diffLines(got, want []string) string {
	if slices.Equal(got, want) {
		return ""
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return "first difference at line " + strconv.Itoa(i) + ": got " + strconv.Quote(got[i]) + ", want " + strconv.Quote(want[i])
		}
	}
	return "got " + strconv.Itoa(len(got)) + " lines, want " + strconv.Itoa(len(want))
}

func TestWordCountShippedText(t *testing.T) {
	input := filepath.Join("..", "examples", "wordcount", "testdata", "words.txt")
	want := referenceCounts(t, input)
	for _, p := range []string{"1", "2", "4"} {
		r := runBin(t, nil, "wordcount", "--input", input, "--parallelism", p)
		if r.code != 0 {
			t.Fatalf("parallelism %s: exit %d: %s", p, r.code, r.stderr)
		}
		if d := diffLines(sortedOutput(r.stdout), want); d != "" {
			t.Fatalf("parallelism %s: %s", p, d)
		}
	}
}

func TestWordCountLargeText(t *testing.T) {
	dir := t.TempDir()
	// Two files in a directory: the splits cross a file boundary.
	a, b := filepath.Join(dir, "in", "a.txt"), filepath.Join(dir, "in", "b.txt")
	if err := os.MkdirAll(filepath.Dir(a), 0o755); err != nil {
		t.Fatal(err)
	}
	writeLargeText(t, a, 7<<20, 1)
	writeLargeText(t, b, 4<<20, 2)
	want := referenceCounts(t, a, b)
	for _, p := range []string{"1", "2", "4"} {
		t.Run("stdout-p"+p, func(t *testing.T) {
			r := runBin(t, nil, "wordcount", "--input", filepath.Join(dir, "in"), "--parallelism", p)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if d := diffLines(sortedOutput(r.stdout), want); d != "" {
				t.Fatal(d)
			}
		})
		t.Run("output-p"+p, func(t *testing.T) {
			out := filepath.Join(dir, "out-"+p)
			r := runBin(t, nil, "wordcount", "--input", filepath.Join(dir, "in"), "--output", out, "--parallelism", p)
			if r.code != 0 || r.stdout != "" {
				t.Fatalf("exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
			}
			if d := diffLines(sortedOutput(readParts(t, out)), want); d != "" {
				t.Fatal(d)
			}
		})
	}
}

func TestSpateRunAndInfo(t *testing.T) {
	input := filepath.Join("..", "examples", "wordcount", "testdata", "words.txt")
	wc := filepath.Join(binDir, "wordcount")
	r := runBin(t, nil, "spate", "run", "-D", "parallelism.default=3", wc, "--", "--input", input)
	if r.code != 0 {
		t.Fatalf("spate run: exit %d: %s", r.code, r.stderr)
	}
	if d := diffLines(sortedOutput(r.stdout), referenceCounts(t, input)); d != "" {
		t.Fatal(d)
	}
	r = runBin(t, nil, "spate", "info", "-D", "parallelism.default=3", wc, "--", "--input", input)
	if r.code != 0 {
		t.Fatalf("spate info: exit %d: %s", r.code, r.stderr)
	}
	var plan struct {
		Job   string
		Tasks []struct {
			Name        string
			Parallelism int
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &plan); err != nil {
		t.Fatalf("spate info printed no JSON plan: %v\n%s", err, r.stdout)
	}
	if plan.Job != "wordcount" || len(plan.Tasks) != 2 ||
		plan.Tasks[0].Name != "Source: text -> FlatMap: tokenize" || plan.Tasks[0].Parallelism != 3 ||
		plan.Tasks[1].Name != "Sum: count -> Map: format -> Sink: print" {
		t.Fatalf("plan = %+v", plan)
	}
}

// TestBadInput: every user mistake gives one clear line on stderr and a non-zero
// exit, never a stack trace.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join("..", "examples", "wordcount", "testdata", "words.txt")
	confDir := filepath.Join(dir, "conf")
	if err := os.MkdirAll(confDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(confDir, "spate.yaml"), []byte("parallelism.default: 2\ntaskmanager.numberOfSlots: 4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	partsDir := filepath.Join(dir, "used")
	if err := os.MkdirAll(partsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(partsDir, "part-0-0"), []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wc := filepath.Join(binDir, "wordcount")
	for _, tc := range []struct {
		name string
		env  []string
		bin  string
		args []string
		code int
		want string
	}{
		{"missing input", nil, "wordcount", []string{"--input", "/no/such/file.txt"}, 1,
			`wordcount: Source: text: input path "/no/such/file.txt" does not exist`},
		{"missing flag value", nil, "wordcount", []string{"--input"}, 2,
			`wordcount: flag needs an argument: -input; usage: wordcount --input PATH [--output DIR] [--parallelism N]`},
		{"bad flag", nil, "wordcount", []string{"--input", input, "--paralelism", "2"}, 2,
			`wordcount: flag provided but not defined: -paralelism; usage: wordcount --input PATH [--output DIR] [--parallelism N]`},
		{"bad parallelism", nil, "wordcount", []string{"--input", input, "--parallelism", "two"}, 2,
			`wordcount: invalid value "two" for flag -parallelism: parse error; usage: wordcount --input PATH [--output DIR] [--parallelism N]`},
		{"parallelism above max", nil, "wordcount", []string{"--input", input, "--parallelism", "200"}, 1,
			`wordcount: invalid job graph: Source: text: parallelism 200 exceeds pipeline.max-parallelism 128; raise pipeline.max-parallelism or lower the parallelism`},
		{"used output dir", nil, "wordcount", []string{"--input", input, "--output", partsDir}, 1,
			`wordcount: Sink: text: output directory "` + partsDir + `" already holds part files (part-0-0); remove them or choose another directory`},
		{"bad key in SPATE_PROPERTIES", []string{"SPATE_PROPERTIES=paralelism.default=2"}, "wordcount", []string{"--input", input}, 1,
			`wordcount: SPATE_PROPERTIES: line 1: unknown configuration key "paralelism.default" (did you mean "parallelism.default"? run 'spate config' for every key)`},
		{"bad key in spate.yaml", []string{"SPATE_CONF_DIR=" + confDir}, "wordcount", []string{"--input", input}, 1,
			`wordcount: ` + filepath.Join(confDir, "spate.yaml") + `: line 2: unknown configuration key "taskmanager.numberOfSlots" (did you mean "taskmanager.numberOfTaskSlots"? run 'spate config' for every key)`},
		{"bad -D on spate run", nil, "spate", []string{"run", "-D", "parallelism.default=zero", wc, "--", "--input", input}, 2,
			`spate run: -D parallelism.default=zero: invalid value "zero" for parallelism.default: want an integer ≥ 1`},
		{"unknown -D key on spate run", nil, "spate", []string{"run", "-D", "no.such.key=1", wc, "--", "--input", input}, 2,
			`spate run: -D no.such.key=1: unknown configuration key "no.such.key" (run 'spate config' for every key)`},
		{"missing job binary", nil, "spate", []string{"run", filepath.Join(dir, "nope")}, 2,
			`spate run: job binary "` + filepath.Join(dir, "nope") + `" not found`},
		{"unknown spate flag", nil, "spate", []string{"run", "--bogus", wc}, 2,
			`spate run: flag provided but not defined: -bogus (run 'spate run --help')`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runBin(t, tc.env, tc.bin, tc.args...)
			checkOneLineError(t, r, tc.code, tc.want)
		})
	}
}

func checkOneLineError(t *testing.T, r result, code int, want string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d, want %d (stderr %q)", r.code, code, r.stderr)
	}
	if r.stderr != want+"\n" {
		t.Errorf("stderr\n got %q\nwant %q", r.stderr, want+"\n")
	}
	if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, ".go:") {
		t.Errorf("stderr holds a stack trace: %s", r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing", r.stdout)
	}
}

// TestUnreadableInputDirectory runs wordcount as an unprivileged user when the
// test runs as root, because root reads any directory.
func TestUnreadableInputDirectory(t *testing.T) {
	base, err := os.MkdirTemp("", "spate-unreadable-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	locked := filepath.Join(base, "in", "locked")
	if err := os.MkdirAll(locked, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "in", "a.txt"), []byte("a b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(locked, 0o000); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(locked, 0o755)
	cmd := exec.Command(filepath.Join(binDir, "wordcount"), "--input", filepath.Join(base, "in"))
	if os.Geteuid() == 0 {
		setpriv, err := exec.LookPath("setpriv")
		if err != nil {
			t.Fatalf("running as root, this test needs setpriv (util-linux) to drop privileges: %v", err)
		}
		cmd = exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
			filepath.Join(binDir, "wordcount"), "--input", filepath.Join(base, "in"))
	}
	r := runCmd(t, cmd, nil)
	checkOneLineError(t, r, 1, `wordcount: Source: text: cannot read input directory "`+locked+`": permission denied`)
}

// TestWordCountStdinPipe: "cat words.txt | wordcount --input /dev/stdin"
// counts exactly what wordcount counts of the file itself, at every
// parallelism: a pipe, whose size is 0, is read whole as one stream. The large
// text crosses the pipe's buffer many times over.
func TestWordCountStdinPipe(t *testing.T) {
	large := filepath.Join(t.TempDir(), "large.txt")
	writeLargeText(t, large, 3<<20, 3)
	for _, input := range []string{filepath.Join("..", "examples", "wordcount", "testdata", "words.txt"), large} {
		content, err := os.ReadFile(input)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"1", "2"} {
			t.Run(filepath.Base(input)+"-p"+p, func(t *testing.T) {
				fromFile := runBin(t, nil, "wordcount", "--input", input, "--parallelism", p)
				if fromFile.code != 0 || fromFile.stdout == "" {
					t.Fatalf("from the file: exit %d, stdout %d bytes: %s", fromFile.code, len(fromFile.stdout), fromFile.stderr)
				}
				cmd := exec.Command(filepath.Join(binDir, "wordcount"), "--input", "/dev/stdin", "--parallelism", p)
				cmd.Stdin = bytes.NewReader(content) // not an *os.File: exec feeds it through a pipe
				fromPipe := runCmd(t, cmd, nil)
				if fromPipe.code != 0 {
					t.Fatalf("from the pipe: exit %d: %s", fromPipe.code, fromPipe.stderr)
				}
				if d := diffLines(sortedOutput(fromPipe.stdout), sortedOutput(fromFile.stdout)); d != "" {
					t.Fatalf("from the pipe, compared with the file: %s", d)
				}
				if d := diffLines(sortedOutput(fromPipe.stdout), referenceCounts(t, input)); d != "" {
					t.Fatalf("from the pipe, compared with the reference counts: %s", d)
				}
			})
		}
	}
}
