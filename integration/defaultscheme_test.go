package integration

import (
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// TestHDFSDefaultScheme: with fs.default-scheme=hdfs:///, WordCount reads an
// input named by an absolute path without a scheme from fs.defaultFS, and
// writes an output named by a relative path under the user's HDFS home,
// /user/spate. Without the setting the same input path is local, and
// missing.
func TestHDFSDefaultScheme(t *testing.T) {
	o := newOnHDFS(t)
	local := filepath.Join(t.TempDir(), "a.txt")
	writeLargeText(t, local, 256<<10, 13)
	want := referenceCounts(t, local)
	o.put(t, local, path.Join(o.dir, "in", "a.txt"))
	rel, ok := strings.CutPrefix(path.Join(o.dir, "out"), "/user/spate/")
	if !ok {
		t.Fatalf("test directory %s is not under /user/spate", o.dir)
	}
	input := path.Join(o.dir, "in")

	r := runBin(t, append(o.env, "SPATE_PROPERTIES=fs.default-scheme=hdfs:///"), "wordcount", "--input", input, "--output", rel, "--parallelism", "2")
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
	parts, hidden := o.partFiles(t, path.Join(o.dir, "out"))
	if len(hidden) > 0 || len(parts) == 0 {
		t.Fatalf("part files %v, uncommitted files %v", parts, hidden)
	}
	var got []byte
	for _, p := range parts {
		got = append(got, o.read(t, p)...)
	}
	if d := diffLines(sortedOutput(string(got)), want); d != "" {
		t.Fatal(d)
	}

	r = runBin(t, o.env, "wordcount", "--input", input)
	if r.code == 0 || !strings.Contains(r.stderr, input) {
		t.Fatalf("without fs.default-scheme: exit %d, stderr %s; want a failure naming the local path %s", r.code, r.stderr, input)
	}
}
