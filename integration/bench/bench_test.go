package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/spate-io/spate/state"
)

// TestSmoke builds both systems' jobs and runs every workload on tiny inputs
// in each, so the comparison cannot rot: the outputs must be equal, and where
// a slow obvious reference is at hand, equal to it.
func TestSmoke(t *testing.T) {
	for _, tool := range []string{"java", "mvn"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not on PATH: the Flink side needs a JDK 17 and Maven", tool)
		}
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := RunSmoke(ctx, dir, 2, 5*time.Minute, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	text, err := readText(filepath.Join(dir, fmt.Sprintf("text-%d-2", Smoke.TextBytes)))
	if err != nil {
		t.Fatal(err)
	}
	events, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("events-%d-%d.csv", Smoke.WindowEvents, Smoke.WindowKeys)))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		StartUp:                           {"0,0"},
		"W1 stateless chain":              refChain(Smoke.ChainEvents),
		"W2 wordcount":                    refWordCount(t, text.Dir),
		"W3 tumbling 10 s":                refTumbling(string(events), 10000),
		"W5 keyed count, 1 s checkpoints": refKeyedCount(Smoke.KeyedEvents, Smoke.Keys),
	}
	for _, w := range []string{StartUp, "W1 stateless chain", "W2 wordcount", "W3 tumbling 10 s", "W3 sliding 10 s / 2 s",
		"W3 session gap 2 s", "W4 nexmark q5", "W5 keyed count, 1 s checkpoints"} {
		got, ok := out[w]
		switch {
		case !ok:
			t.Errorf("%s did not run", w)
		case want[w] != nil:
			slices.Sort(want[w])
			if diff := DiffLines(got, want[w]); diff != "" {
				t.Errorf("%s: both systems agree, but not with the reference (shown as Flink's):\n%s", w, diff)
			}
		case len(got) < 5:
			t.Errorf("%s wrote %d lines, want a real result: %q", w, len(got), got)
		}
	}
}

func refChain(events int64) []string {
	var count, sum int64
	for i := range events {
		v := i * golden
		if uint64(v)>>61 != 0 {
			count++
			sum += v ^ int64(uint64(v)>>29)
		}
	}
	return []string{fmt.Sprintf("%d,%d", count, sum)}
}

const golden = -7046029254386353131 // spatejobs' W1 multiplier

func refWordCount(t *testing.T, dir string) []string {
	counts := map[string]int{}
	files, err := filepath.Glob(filepath.Join(dir, "part-*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no text parts in %s: %v", dir, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range strings.FieldsFunc(string(b), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			counts[strings.ToLower(w)]++
		}
	}
	var lines []string
	for w, n := range counts {
		lines = append(lines, fmt.Sprintf("%s %d", w, n))
	}
	return lines
}

func refTumbling(csv string, size int64) []string {
	type win struct {
		key   string
		start int64
	}
	type acc struct{ count, sum int64 }
	wins := map[win]acc{}
	for _, line := range strings.Split(strings.TrimSpace(csv), "\n") {
		var ts, v int64
		var key string
		f := strings.Split(line, ",")
		fmt.Sscan(f[0], &ts)
		fmt.Sscan(f[2], &v)
		key = f[1]
		w := win{key, ts - ts%size}
		a := wins[w]
		wins[w] = acc{a.count + 1, a.sum + v}
	}
	var lines []string
	for w, a := range wins {
		lines = append(lines, fmt.Sprintf("%s,%d,%d,%d,%d", w.key, w.start, w.start+size, a.count, a.sum))
	}
	return lines
}

func refKeyedCount(events, keys int64) []string {
	counts := map[int64]int64{}
	for i := range events {
		counts[int64(state.Mix64(uint64(i))%uint64(keys))]++
	}
	var lines []string
	for k, n := range counts {
		lines = append(lines, fmt.Sprintf("%d,%d", k, n))
	}
	return lines
}

func TestDiffLines(t *testing.T) {
	for _, tc := range []struct {
		spate, flink []string
		want         string
	}{
		{nil, nil, ""},
		{[]string{"a", "b"}, []string{"a", "b"}, ""},
		{[]string{"a", "b", "d"}, []string{"a", "c", "d", "e"},
			"Spate wrote 3 lines, Flink 4; 1 only in Spate's, 2 only in Flink's\n  only in Spate's:\n    b\n  only in Flink's:\n    c\n    e\n"},
		{[]string{"a", "a"}, []string{"a"}, "Spate wrote 2 lines, Flink 1; 1 only in Spate's, 0 only in Flink's\n  only in Spate's:\n    a\n"},
	} {
		if got := DiffLines(tc.spate, tc.flink); got != tc.want {
			t.Errorf("DiffLines(%q, %q) = %q, want %q", tc.spate, tc.flink, got, tc.want)
		}
	}
}

func TestReadOutput(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"stdout":             "b\n\na\n",
		"part-1":             "c\r\nd", // a Windows line end is one too
		".part-0.inprogress": "hidden\n",
		"_SUCCESS":           "marker\n",
		"sub/part-2":         "e\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadOutput(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "b", "c", "d", "e"}; !slices.Equal(got, want) {
		t.Errorf("ReadOutput = %q, want %q", got, want)
	}
}

// testWriter logs each write.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
