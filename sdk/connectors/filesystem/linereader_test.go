package filesystem

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/hdfs/faultfs"
)

var seedFlag = flag.Int64("seed", 0, "seed of the randomized tests (0: from the clock)")

// testSeed returns the seed of a randomized test and logs it, so a failure can be replayed
// with -seed.
func testSeed(t testing.TB) int64 {
	seed := *seedFlag
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("seed %d (replay with -seed=%d)", seed, seed)
	return seed
}

// refLines is the slow obvious reference: the lines of a file's content.
func refLines(content string) []string {
	if content == "" {
		return nil
	}
	lines := strings.Split(strings.TrimSuffix(content, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

func writeTestFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readSplit reads every line of s with batches of random size; with resume, it sometimes
// closes the reader and continues with a new one at Offset, as recovery would.
func readSplit(t testing.TB, fsys hdfs.FileSystem, s Split, rng *rand.Rand, resume bool) []string {
	t.Helper()
	r, err := NewLineReader(fsys, s, 0)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for {
		before := len(lines)
		lines, err = r.ReadBatch(lines, 1+rng.IntN(50))
		if err == io.EOF {
			if len(lines) != before {
				t.Fatalf("%v: io.EOF returned with %d lines", s, len(lines)-before)
			}
			break
		}
		if err != nil {
			t.Fatalf("%v: %v", s, err)
		}
		if len(lines) == before {
			t.Fatalf("%v: ReadBatch returned no line and no error", s)
		}
		if resume && rng.IntN(4) == 0 {
			off := r.Offset()
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if r, err = NewLineReader(fsys, Split{Path: s.Path, Start: off, End: s.End}, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := r.ReadBatch(nil, 1); err != io.EOF {
		t.Fatalf("%v: ReadBatch after io.EOF = %v, want io.EOF again", s, err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// randomContent makes a file of random lines: empty ones, "\r\n" endings, a '\r' inside a
// line, sometimes a line longer than the reader's buffer, sometimes no final '\n'.
func randomContent(rng *rand.Rand) string {
	switch rng.IntN(8) {
	case 0:
		return ""
	case 1:
		return []string{"a", "\n", "\r"}[rng.IntN(3)]
	}
	var b strings.Builder
	n := rng.IntN(60)
	for i := range n {
		switch k := rng.IntN(100); {
		case k < 20: // empty
		case k < 22: // longer than the 256 KiB buffer
			b.WriteString(strings.Repeat(string(rune('A'+rng.IntN(26))), readBufferSize+rng.IntN(readBufferSize)))
		case k < 25:
			b.WriteString("carriage\rinside")
		default:
			for range 1 + rng.IntN(120) {
				b.WriteByte("abcdefghij klmnopqrstuvwxyz"[rng.IntN(27)])
			}
		}
		if i == n-1 && rng.IntN(3) == 0 {
			break // no final newline
		}
		if rng.IntN(4) == 0 {
			b.WriteString("\r\n")
		} else {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// TestSplitsPartitionLines is the property test: for random trees of files and every
// parallelism from 1 to 8, reading all subtasks' splits in order yields every line of
// every file, in order, exactly once.
func TestSplitsPartitionLines(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(testSeed(t)), 0))
	fsys := hdfs.Local{}
	rounds := 12
	if testing.Short() {
		rounds = 3
	}
	for round := range rounds {
		dir := filepath.Join(t.TempDir(), "in")
		contents := map[string]string{}
		add := func(rel, content string) {
			p := filepath.Join(dir, rel)
			writeTestFile(t, p, content)
			contents[p] = content
		}
		add("size0", "")
		add("size1", "x")
		add("nested/deeper/size1-newline", "\n")
		for i := range 1 + rng.IntN(12) {
			rel := fmt.Sprintf("f%02d", i)
			for range rng.IntN(3) {
				rel = filepath.Join(fmt.Sprintf("d%d", rng.IntN(3)), rel)
			}
			add(rel, randomContent(rng))
		}
		writeTestFile(t, filepath.Join(dir, "_SUCCESS"), "skipped\n")
		writeTestFile(t, filepath.Join(dir, "nested", ".hidden"), "skipped\n")

		got, err := Enumerate(fsys, dir)
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, f := range got {
			paths = append(paths, f.Path)
			if f.Size != int64(len(contents[f.Path])) {
				t.Errorf("Enumerate: %s has size %d, want %d", f.Path, f.Size, len(contents[f.Path]))
			}
		}
		wantPaths := slices.Sorted(func(yield func(string) bool) {
			for p := range contents {
				if !yield(p) {
					return
				}
			}
		})
		if !slices.Equal(paths, wantPaths) {
			t.Fatalf("Enumerate = %v, want %v", paths, wantPaths)
		}
		var want []string
		for _, p := range wantPaths {
			want = append(want, refLines(contents[p])...)
		}

		for p := 1; p <= 8; p++ {
			assignment := AssignSplits(got, p)
			checkAssignment(t, got, p, assignment)
			var lines []string
			for _, splits := range assignment {
				for _, s := range splits {
					lines = append(lines, readSplit(t, fsys, s, rng, p%2 == 0)...)
				}
			}
			if !slices.Equal(lines, want) {
				t.Fatalf("round %d, parallelism %d: read %d lines, want %d; first difference at line %d",
					round, p, len(lines), len(want), firstDiff(lines, want))
			}
		}
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

var trickyContents = []string{
	"",
	"a",
	"\n",
	"\r",
	"\n\n",
	"\r\n",
	"\r\n\r\n",
	"ab\ncd\n",
	"ab\ncd",
	"a\r\nb\r\n",
	"a\rb\n\nc",
	"\n\nx\n\n",
	"one line without newline",
}

// TestSplitsEveryCut splits small files at every pair of cut points into three splits.
func TestSplitsEveryCut(t *testing.T) {
	dir := t.TempDir()
	for i, content := range trickyContents {
		p := filepath.Join(dir, fmt.Sprint(i))
		writeTestFile(t, p, content)
		n := int64(len(content))
		for a := int64(0); a <= n; a++ {
			for b := a; b <= n; b++ {
				var lines []string
				for _, s := range []Split{{p, 0, a}, {p, a, b}, {p, b, n}} {
					lines = append(lines, readSplit(t, hdfs.Local{}, s, rand.New(rand.NewPCG(1, 2)), false)...)
				}
				if want := refLines(content); !slices.Equal(lines, want) {
					t.Errorf("%q cut at %d and %d: lines %q, want %q", content, a, b, lines, want)
				}
			}
		}
	}
}

func FuzzLineReaderSplits(f *testing.F) {
	for _, c := range trickyContents {
		f.Add([]byte(c), uint16(1), uint16(3))
	}
	f.Fuzz(func(t *testing.T, content []byte, cut1, cut2 uint16) {
		p := filepath.Join(t.TempDir(), "f")
		writeTestFile(t, p, string(content))
		n := int64(len(content))
		a, b := int64(cut1)%(n+1), int64(cut2)%(n+1)
		if a > b {
			a, b = b, a
		}
		rng := rand.New(rand.NewPCG(uint64(cut1), uint64(cut2)))
		var lines []string
		for _, s := range []Split{{p, 0, a}, {p, a, b}, {p, b, n}} {
			lines = append(lines, readSplit(t, hdfs.Local{}, s, rng, true)...)
		}
		if want := refLines(string(content)); !slices.Equal(lines, want) {
			t.Errorf("cut at %d and %d: lines %q, want %q", a, b, lines, want)
		}
	})
}

func TestLineReaderBatches(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	writeTestFile(t, p, "a\nbb\r\n\nccc")
	r, err := NewLineReader(hdfs.Local{}, Split{p, 0, 10}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	steps := []struct {
		max    int
		lines  []string
		err    error
		offset int64
	}{
		{2, []string{"a", "bb"}, nil, 6},
		{1, []string{""}, nil, 7},
		{5, []string{"ccc"}, nil, 10}, // the rest, without io.EOF
		{5, nil, io.EOF, 10},
		{5, nil, io.EOF, 10},
	}
	dst := []string{"kept"}
	for i, st := range steps {
		got, err := r.ReadBatch(dst[:1], st.max)
		if err != st.err || !slices.Equal(got[1:], st.lines) || got[0] != "kept" || r.Offset() != st.offset {
			t.Errorf("step %d: ReadBatch = %q, %v, Offset %d; want [kept %q], %v, Offset %d",
				i, got, err, r.Offset(), st.lines, st.err, st.offset)
		}
	}
	if _, err := r.ReadBatch(nil, 0); err == nil {
		t.Error("ReadBatch(max 0) succeeded")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if _, err := r.ReadBatch(nil, 1); err == nil || err == io.EOF {
		t.Errorf("ReadBatch after Close = %v, want an error", err)
	}
}

func TestLineReaderOffsetAfterSkip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	writeTestFile(t, p, "0123\n567\n9")
	tests := []struct {
		start, end int64
		offset     int64 // right after NewLineReader
		lines      []string
	}{
		{0, 10, 0, []string{"0123", "567", "9"}},
		{1, 10, 5, []string{"567", "9"}},
		{5, 10, 5, []string{"567", "9"}}, // a line starts exactly at Start
		{6, 9, 9, nil},                   // "9" starts at End: the next split's
		{6, 10, 9, []string{"9"}},
		{10, 10, 10, nil},
		{20, 30, 19, nil}, // past the end of the file
	}
	for _, tt := range tests {
		r, err := NewLineReader(hdfs.Local{}, Split{p, tt.start, tt.end}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if r.Offset() != tt.offset && tt.start != tt.end {
			t.Errorf("[%d,%d): Offset = %d, want %d", tt.start, tt.end, r.Offset(), tt.offset)
		}
		lines, err := r.ReadBatch(nil, 100)
		if len(tt.lines) == 0 {
			if err != io.EOF || len(lines) != 0 {
				t.Errorf("[%d,%d): ReadBatch = %q, %v; want io.EOF", tt.start, tt.end, lines, err)
			}
		} else if err != nil || !slices.Equal(lines, tt.lines) {
			t.Errorf("[%d,%d): ReadBatch = %q, %v; want %q", tt.start, tt.end, lines, err, tt.lines)
		}
		r.Close()
	}
}

func TestLineReaderMaxLineBytes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	//                 0             11              23       29
	writeTestFile(t, p, "0123456789\n0123456789\r\nshort\nxxxxxxxxxxx\nafter\n")
	r, err := NewLineReader(hdfs.Local{}, Split{p, 0, 100}, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	lines, err := r.ReadBatch(nil, 100)
	if err != nil || !slices.Equal(lines, []string{"0123456789", "0123456789", "short"}) {
		t.Fatalf("ReadBatch = %q, %v; want the three lines before the long one", lines, err)
	}
	want := fmt.Sprintf("input file %q: the line at byte offset 29 is longer than the maximum of 10 bytes (line too long); "+
		"if the file really has lines this long, raise source.text.max-line-bytes, otherwise check that it is a text file with '\\n' line endings", p)
	for range 2 { // the error is sticky
		lines, err = r.ReadBatch(nil, 100)
		if len(lines) != 0 || !errors.Is(err, ErrLineTooLong) || err.Error() != want {
			t.Fatalf("ReadBatch = %q, %v; want\n%s", lines, err, want)
		}
		if r.Offset() != 29 {
			t.Errorf("Offset = %d, want 29 (the long line)", r.Offset())
		}
	}
}

// TestDefaultMaxLineBytesIsTheKeysDefault: a reader made with limit 0 and the text source,
// which reads source.text.max-line-bytes, agree.
func TestDefaultMaxLineBytesIsTheKeysDefault(t *testing.T) {
	if got := conf.SourceTextMaxLineBytes.Get(conf.New()); got != DefaultMaxLineBytes {
		t.Errorf("%s defaults to %d, DefaultMaxLineBytes is %d", conf.SourceTextMaxLineBytes.Key(), got, DefaultMaxLineBytes)
	}
}

// TestLineReaderMaxLineBytesLong checks the limit on lines longer than the read buffer.
func TestLineReaderMaxLineBytesLong(t *testing.T) {
	const n = readBufferSize + 1000
	line := strings.Repeat("y", n)
	tests := []struct {
		content string
		max     int
		ok      bool
	}{
		{line + "\n", n, true},
		{line + "\r\n", n, true},
		{line, n, true},
		{line + "\r", n, true},
		{line + "\n", n - 1, false},
		{line + "\r\n", n - 1, false},
		{line, n - 1, false},
		{line + "\n", 1000, false},
	}
	for i, tt := range tests {
		p := filepath.Join(t.TempDir(), "f")
		writeTestFile(t, p, "first\n"+tt.content)
		r, err := NewLineReader(hdfs.Local{}, Split{p, 0, int64(len(tt.content)) + 6}, tt.max)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := r.ReadBatch(nil, 100)
		if err != nil || len(lines) == 0 || lines[0] != "first" {
			t.Fatalf("case %d: %v", i, err)
		}
		if tt.ok {
			if len(lines) != 2 || lines[1] != line {
				t.Errorf("case %d: got %d lines, want first and the long line", i, len(lines))
			}
		} else {
			if len(lines) != 1 {
				t.Errorf("case %d: got %d lines, want only the first", i, len(lines))
			}
			_, err := r.ReadBatch(nil, 100)
			if !errors.Is(err, ErrLineTooLong) || !strings.Contains(err.Error(), "byte offset 6 ") || !strings.Contains(err.Error(), p) {
				t.Errorf("case %d: err = %v, want ErrLineTooLong at byte offset 6 of %s", i, err, p)
			}
		}
		r.Close()
	}
}

func TestLineReaderErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	_, err := NewLineReader(hdfs.Local{}, Split{missing, 0, 10}, 0)
	if want := fmt.Sprintf("open input file %q: no such file or directory", missing); !errors.Is(err, fs.ErrNotExist) || err.Error() != want {
		t.Errorf("missing file: err = %v, want %s", err, want)
	}

	p := filepath.Join(dir, "f")
	writeTestFile(t, p, "a\nb\n")
	if _, err := NewLineReader(hdfs.Local{}, Split{p, -1, 2}, 0); err == nil {
		t.Error("split with a negative Start accepted")
	}
	if _, err := NewLineReader(hdfs.Local{}, Split{p, 0, 2}, -1); err == nil {
		t.Error("negative maxLineBytes accepted")
	}

	fsys := faultfs.New(hdfs.Local{})
	fsys.FailOn(faultfs.OpRead, "f", syscall.EIO)
	r, err := NewLineReader(fsys, Split{p, 0, 4}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = r.ReadBatch(nil, 10)
	if want := fmt.Sprintf("read input file %q at byte offset 0: input/output error", p); !errors.Is(err, syscall.EIO) || err.Error() != want {
		t.Errorf("read fault: err = %v, want %s", err, want)
	}
	// Skipping the head of a split reads too.
	if _, err := NewLineReader(fsys, Split{p, 1, 4}, 0); !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), p) {
		t.Errorf("read fault while skipping: err = %v", err)
	}
}

// streamContent is what the stream tests write: short lines, an empty one, one longer than
// the reader's buffer, "\r\n" endings and no final '\n'.
var streamContent = "first\n\nsecond\r\n" + strings.Repeat("long", readBufferSize/2) + "\nlast"

// readStream reads all of a stream's lines through the splits AssignSplits makes of it at
// parallelism 2, and checks that subtask 1 has nothing to read.
func readStream(t *testing.T, fsys hdfs.FileSystem, path string) []string {
	t.Helper()
	files, err := Enumerate(fsys, path)
	if err != nil {
		t.Fatal(err)
	}
	splits := AssignSplits(files, 2)
	if want := [][]Split{{{path, 0, StreamEnd}}, nil}; !slices.EqualFunc(splits, want, slices.Equal) {
		t.Fatalf("AssignSplits(%+v) = %v, want %v", files, splits, want)
	}
	r, err := NewLineReader(fsys, splits[0][0], 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var lines []string
	for {
		lines, err = r.ReadBatch(lines, 2)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if r.Offset() != int64(len(streamContent)) {
		t.Errorf("Offset at the end = %d, want %d", r.Offset(), len(streamContent))
	}
	return lines
}

// writeSlowly writes content in small pieces, so the reader sees short reads, then closes w.
func writeSlowly(w io.WriteCloser, content string) error {
	for len(content) > 0 {
		n := min(len(content), 1000)
		if _, err := io.WriteString(w, content[:n]); err != nil {
			w.Close()
			return err
		}
		content = content[n:]
	}
	return w.Close()
}

// TestLineReaderFIFO reads a named pipe while another goroutine writes it: every line, in
// order, though its size is 0.
func TestLineReaderFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0) // blocks until the reader opens it
		if err != nil {
			done <- err
			return
		}
		done <- writeSlowly(w, streamContent)
	}()
	got := readStream(t, hdfs.Local{}, fifo)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if want := refLines(streamContent); !slices.Equal(got, want) {
		t.Errorf("read %d lines %.80q, want %d lines %.80q", len(got), got, len(want), want)
	}
}

// TestLineReaderPipe reads an anonymous pipe as /dev/stdin is under "cat f | job": through
// /proc/self/fd, as the path /dev/stdin leads.
func TestLineReaderPipe(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	path := fmt.Sprintf("/proc/self/fd/%d", pr.Fd())
	done := make(chan error, 1)
	go func() { done <- writeSlowly(pw, streamContent) }()
	got := readStream(t, hdfs.Local{}, path)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if want := refLines(streamContent); !slices.Equal(got, want) {
		t.Errorf("read %d lines %.80q, want %d lines %.80q", len(got), got, len(want), want)
	}
}

// streamFS serves one special file whose Seek and ReadAt fail the test: a stream is only
// ever Read.
type streamFS struct {
	hdfs.FileSystem
	t       *testing.T
	path    string
	content string
}

func (s streamFS) Stat(path string) (hdfs.FileInfo, error) {
	return hdfs.FileInfo{Path: path, Name: filepath.Base(path), Special: true}, nil
}

func (s streamFS) Open(path string) (hdfs.File, error) {
	return &noSeekFile{Reader: strings.NewReader(s.content), t: s.t}, nil
}

type noSeekFile struct {
	io.Reader
	t *testing.T
}

func (f *noSeekFile) Seek(int64, int) (int64, error) {
	f.t.Error("a stream was seeked")
	return 0, errors.New("seek on a stream")
}

func (f *noSeekFile) ReadAt([]byte, int64) (int, error) {
	f.t.Error("a stream was read with ReadAt")
	return 0, errors.New("ReadAt on a stream")
}

func (f *noSeekFile) Close() error { return nil }

// TestLineReaderStreamNeverSeeks: a stream is read with Read only, and a stream split that
// starts past byte 0 (a resume) is refused with ErrStreamResume, not skipped to.
func TestLineReaderStreamNeverSeeks(t *testing.T) {
	fsys := streamFS{t: t, path: "/dev/stdin", content: streamContent}
	got := readStream(t, fsys, "/dev/stdin")
	if want := refLines(streamContent); !slices.Equal(got, want) {
		t.Errorf("read %d lines, want %d", len(got), len(want))
	}
	_, err := NewLineReader(fsys, Split{"/dev/stdin", 1234, StreamEnd}, 0)
	want := `input "/dev/stdin" is a pipe or device, not a regular file: it cannot be read again from byte offset 1234 (a stream cannot be read again from the middle)`
	if !errors.Is(err, ErrStreamResume) || err == nil || err.Error() != want {
		t.Errorf("resumed stream: err = %v, want\n%s", err, want)
	}
}

// BenchmarkLineReader reads a 32 MiB file of lines of the given length.
func BenchmarkLineReader(b *testing.B) {
	const size = 32 << 20
	for _, lineLen := range []int{16, 100, 1000} {
		b.Run(fmt.Sprintf("line=%dB", lineLen), func(b *testing.B) {
			line := bytes.Repeat([]byte("x"), lineLen)
			line[lineLen-1] = '\n'
			content := bytes.Repeat(line, size/lineLen)
			lines := size / lineLen
			p := filepath.Join(b.TempDir(), "f")
			if err := os.WriteFile(p, content, 0o644); err != nil {
				b.Fatal(err)
			}
			s := Split{Path: p, Start: 0, End: int64(len(content))}
			batch := make([]string, 0, 1024)
			b.SetBytes(int64(len(content)))
			b.ReportAllocs()
			for b.Loop() {
				r, err := NewLineReader(hdfs.Local{}, s, 0)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					batch, err = r.ReadBatch(batch[:0], cap(batch))
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n += len(batch)
				}
				r.Close()
				if n != lines {
					b.Fatalf("read %d lines, want %d", n, lines)
				}
			}
			b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}
