package integration

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type wcEvent struct {
	ts  int64
	key string
	v   int64
}

// writeEvents writes events whose timestamps are never later than maxOOO behind
// the highest timestamp before them, plus a few malformed lines.
func writeEvents(t *testing.T, path string, n int, maxOOO int64, seed uint64) []wcEvent {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	var evs []wcEvent
	var b strings.Builder
	base := int64(1_000_000)
	for i := range n {
		base += rng.Int64N(40)
		e := wcEvent{ts: base + rng.Int64N(maxOOO+1), key: fmt.Sprintf("k%d", rng.IntN(50)), v: rng.Int64N(1000) - 100}
		evs = append(evs, e)
		fmt.Fprintf(&b, "%d,%s,%d\n", e.ts, e.key, e.v)
		if i%997 == 0 {
			b.WriteString("not,a,number\n")
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return evs
}

type wcAcc struct{ count, sum int64 }

// referenceWindows computes "key,start,end,count,sum" lines the obvious way.
func referenceWindows(evs []wcEvent, kind string, size, slide, gap int64) []string {
	type wk struct {
		key        string
		start, end int64
	}
	res := map[wk]wcAcc{}
	add := func(k wk, v int64) { a := res[k]; res[k] = wcAcc{a.count + 1, a.sum + v} }
	switch kind {
	case "tumbling", "sliding":
		if kind == "tumbling" {
			slide = size
		}
		for _, e := range evs {
			last := e.ts - ((e.ts%slide)+slide)%slide
			for start := last; start > e.ts-size; start -= slide {
				add(wk{e.key, start, start + size}, e.v)
			}
		}
	case "session":
		byKey := map[string][]wcEvent{}
		for _, e := range evs {
			byKey[e.key] = append(byKey[e.key], e)
		}
		for key, list := range byKey {
			slices.SortFunc(list, func(a, b wcEvent) int { return int(a.ts - b.ts) })
			start, end := list[0].ts, list[0].ts+gap
			acc := wcAcc{}
			for _, e := range list {
				if e.ts > end { // [ts, ts+gap) does not touch the session
					res[wk{key, start, end}] = acc
					start, acc = e.ts, wcAcc{}
				}
				end = max(end, e.ts+gap)
				acc = wcAcc{acc.count + 1, acc.sum + e.v}
			}
			res[wk{key, start, end}] = acc
		}
	}
	var lines []string
	for k, a := range res {
		lines = append(lines, fmt.Sprintf("%s,%d,%d,%d,%d", k.key, k.start, k.end, a.count, a.sum))
	}
	slices.Sort(lines)
	return lines
}

func TestWindowCountMatchesReference(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "events.csv")
	const ooo = 300
	evs := writeEvents(t, input, 30000, ooo, 42)
	malformed := (len(evs) + 996) / 997
	for _, tc := range []struct {
		spec             string
		kind             string
		size, slide, gap int64
	}{
		{"tumbling:1000", "tumbling", 1000, 0, 0},
		{"sliding:2000:500", "sliding", 2000, 500, 0},
		{"session:150", "session", 0, 0, 150},
	} {
		want := referenceWindows(evs, tc.kind, tc.size, tc.slide, tc.gap)
		for _, p := range []string{"1", "2", "4"} {
			t.Run(tc.kind+"-p"+p, func(t *testing.T) {
				r := runBin(t, nil, "windowcount", "--input", input, "--window", tc.spec,
					"--out-of-orderness", fmt.Sprint(ooo), "--parallelism", p)
				if r.code != 0 {
					t.Fatalf("exit %d: %s", r.code, r.stderr)
				}
				if d := diffLines(sortedOutput(r.stdout), want); d != "" {
					t.Fatal(d)
				}
				wantErr := fmt.Sprintf("windowcount: skipped %d malformed input lines, e.g. \"not,a,number\": timestamp \"not\" is not an integer; ", malformed)
				if !strings.HasPrefix(r.stderr, wantErr) || strings.Count(r.stderr, "\n") != 1 {
					t.Fatalf("stderr %q, want one line starting %q", r.stderr, wantErr)
				}
			})
		}
	}
}

func TestWindowCountBadArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--input", "x", "--window", "hopping:10", "--out-of-orderness", "0"},
			`windowcount: --window "hopping:10": want tumbling:SIZE, sliding:SIZE:SLIDE or session:GAP`},
		{[]string{"--input", "x", "--window", "tumbling:0", "--out-of-orderness", "0"},
			`windowcount: --window "tumbling:0": "0" is not a positive number of milliseconds`},
		{[]string{"--input", "x", "--window", "tumbling:10"},
			`windowcount: --input, --window and --out-of-orderness (≥ 0) are required; usage: windowcount --input PATH --window tumbling:SIZE|sliding:SIZE:SLIDE|session:GAP --out-of-orderness MS [--parallelism N] [--output DIR]`},
	} {
		r := runBin(t, nil, "windowcount", tc.args...)
		checkOneLineError(t, r, 2, tc.want)
	}
}
