package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spate-io/spate/sdk"
)

// apiWriteFiles creates the files (path relative to dir → content).
func apiWriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// apiLinesOf is the reference line splitter: lines end at "\n", a trailing "\r"
// is not part of the line, and the last line needs no "\n".
func apiLinesOf(content string) []string {
	if content == "" {
		return nil
	}
	lines := strings.Split(strings.TrimSuffix(content, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

// apiDirFiles lists every entry under dir (recursively, hidden ones included),
// with its content.
func apiDirFiles(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func apiKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestReadTextFileDirectory(t *testing.T) {
	dir := t.TempDir()
	var long strings.Builder
	for i := range 200 {
		fmt.Fprintf(&long, "long file line %d %s\n", i, strings.Repeat("x", i%50))
	}
	visible := map[string]string{
		"a.txt":          "alpha\nbeta\ngamma\n",
		"b.txt":          "no final newline\nlast",
		"c.txt":          "",
		"d.txt":          "\n\n\nthree empty lines above\n",
		"e.txt":          "crlf one\r\ncrlf two\r\n",
		"long.txt":       long.String(),
		"sub/nested.txt": "nested 1\nnested 2\n",
		"dup.txt":        "alpha\nalpha\n", // the same line in several files counts each time
	}
	hidden := map[string]string{
		".hidden":                 "must not be read\n",
		"_SUCCESS":                "must not be read either\n",
		".part-0-0.inprogress":    "in progress\n",
		"sub/_temporary/x.txt":    "under a hidden directory\n",
		".hiddendir/visible-name": "under a dot directory\n",
	}
	apiWriteFiles(t, dir, visible)
	apiWriteFiles(t, dir, hidden)
	var want []string
	for _, content := range visible {
		want = append(want, apiLinesOf(content)...)
	}
	for _, p := range []int{1, 2, 3, 4} {
		t.Run(fmt.Sprintf("p=%d", p), func(t *testing.T) {
			env, _ := apiEnv(t, p, "execution.batch-size", "4")
			tagged := sdk.Collect(apiTag(sdk.ReadTextFile(env, dir)))
			res := apiRun(t, env)
			var got []string
			for _, part := range apiBySubtask(t, tagged.Items(), p) {
				got = append(got, part...)
			}
			apiSameMultiset(t, "lines", got, want)
			if op, ok := res.Operator("Source: text"); !ok || op.RecordsOut != int64(len(want)) {
				t.Errorf("Source: text reports %+v, want %d records out", op, len(want))
			}
		})
	}
}

func TestReadTextFileSingleFileAndURI(t *testing.T) {
	dir := t.TempDir()
	var content strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&content, "%d %s\n", i, strings.Repeat("y", i%13))
	}
	path := filepath.Join(dir, ".explicitly-named-hidden-file")
	apiWriteFiles(t, dir, map[string]string{filepath.Base(path): content.String()})
	for _, name := range []string{path, "file://" + path} {
		for _, p := range []int{1, 3} {
			env, _ := apiEnv(t, p)
			got := sdk.Collect(sdk.ReadTextFile(env, name))
			apiRun(t, env)
			apiSameMultiset(t, fmt.Sprintf("%s at %d", name, p), got.Items(), apiLinesOf(content.String()))
		}
	}
}

func TestReadTextFileMissingPathIsAnError(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	env, _ := apiEnv(t, 1)
	sdk.Collect(sdk.ReadTextFile(env, missing))
	_, err := env.Execute(context.Background(), "missing")
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("Execute = %v, want an error naming %s", err, missing)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Execute = %v, want it to wrap fs.ErrNotExist", err)
	}
}

func TestWriteTextPartFiles(t *testing.T) {
	for _, p := range []int{1, 3} {
		t.Run(fmt.Sprintf("p=%d", p), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out", "nested") // created by the sink
			env, _ := apiEnv(t, p, "execution.batch-size", "16")
			// Generate's subtask s emits s, s+p, …, and the sink is forward-connected.
			lines := sdk.Map(sdk.Generate(env, 1000, func(i int64) int64 { return i }),
				func(v int64) string { return "line " + strconv.FormatInt(v, 10) })
			sdk.WriteText(lines, dir)
			res := apiRun(t, env)
			want := map[string]string{}
			for s := range p {
				var b strings.Builder
				for i := s; i < 1000; i += p {
					fmt.Fprintf(&b, "line %d\n", i)
				}
				want[fmt.Sprintf("part-%d-0", s)] = b.String()
			}
			got := apiDirFiles(t, dir)
			if !slices.Equal(apiKeys(got), apiKeys(want)) {
				t.Fatalf("output files %q, want %q", apiKeys(got), apiKeys(want))
			}
			for name, w := range want {
				if got[name] != w {
					t.Errorf("%s: %d bytes, want %d", name, len(got[name]), len(w))
				}
			}
			if op, ok := res.Operator("Sink: text"); !ok || op.RecordsIn != 1000 || op.Parallelism != p {
				t.Errorf("Sink: text reports %+v, want 1000 records in at parallelism %d", op, p)
			}
		})
	}
}

func TestWriteTextEmptyInputStillWritesEveryPart(t *testing.T) {
	dir := t.TempDir() // exists, empty: allowed
	apiWriteFiles(t, dir, map[string]string{"README": "keep me\n"})
	env, _ := apiEnv(t, 2)
	sdk.WriteText(sdk.Generate(env, 0, func(i int64) string { return "" }), "file://"+dir)
	apiRun(t, env)
	got := apiDirFiles(t, dir)
	want := map[string]string{"README": "keep me\n", "part-0-0": "", "part-1-0": ""}
	if !slices.Equal(apiKeys(got), apiKeys(want)) {
		t.Fatalf("output files %q, want %q", apiKeys(got), apiKeys(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestWriteTextRefusesADirectoryWithPartFiles(t *testing.T) {
	dir := t.TempDir()
	apiWriteFiles(t, dir, map[string]string{"part-0-0": "old output\n"})
	env, _ := apiEnv(t, 1)
	ran := false
	sdk.WriteText(sdk.Map(sdk.FromSlice(env, []string{"new"}), func(s string) string { ran = true; return s }), dir)
	_, err := env.Execute(context.Background(), "overwrite")
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Execute = %v, want an error naming %s", err, dir)
	}
	if ran {
		t.Error("the job ran although its output directory was refused")
	}
	if got := apiDirFiles(t, dir); len(got) != 1 || got["part-0-0"] != "old output\n" {
		t.Fatalf("output directory changed: %q", got)
	}
}

func TestWriteTextToAFileIsAnError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	apiWriteFiles(t, filepath.Dir(file), map[string]string{"file": "x"})
	env, _ := apiEnv(t, 1)
	sdk.WriteText(sdk.FromSlice(env, []string{"new"}), file)
	if _, err := env.Execute(context.Background(), "to a file"); err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("Execute = %v, want an error naming %s", err, file)
	}
}

func TestWriteTextThenReadTextFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "roundtrip")
	var data []string
	for i := range 3000 {
		data = append(data, strings.Repeat("z", i%17)+strconv.Itoa(i))
	}
	env, _ := apiEnv(t, 4)
	sdk.WriteText(sdk.FromSlice(env, data).Rebalance(), dir)
	apiRun(t, env)
	env2, _ := apiEnv(t, 3)
	got := sdk.Collect(sdk.ReadTextFile(env2, dir))
	apiRun(t, env2)
	apiSameMultiset(t, "lines read back", got.Items(), data)
}
