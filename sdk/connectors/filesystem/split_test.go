package filesystem

import (
	"math"
	"math/big"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/spate-io/spate/hdfs"
)

func files(sizes ...int64) []hdfs.FileInfo {
	var out []hdfs.FileInfo
	for i, s := range sizes {
		out = append(out, hdfs.FileInfo{Path: string(rune('a' + i)), Size: s})
	}
	return out
}

func TestAssignSplitsExact(t *testing.T) {
	tests := []struct {
		name  string
		files []hdfs.FileInfo
		p     int
		want  [][]Split
	}{
		{"one subtask", files(10, 0, 5), 1, [][]Split{
			{{"a", 0, 10}, {"c", 0, 5}},
		}},
		{"even", files(10, 0, 5), 3, [][]Split{
			{{"a", 0, 5}},
			{{"a", 5, 10}},
			{{"c", 0, 5}},
		}},
		{"rounding", files(10, 0, 5), 2, [][]Split{
			{{"a", 0, 7}},
			{{"a", 7, 10}, {"c", 0, 5}},
		}},
		{"cut inside files", files(10, 0, 5), 4, [][]Split{
			{{"a", 0, 3}},
			{{"a", 3, 7}},
			{{"a", 7, 10}, {"c", 0, 1}},
			{{"c", 1, 5}},
		}},
		{"more subtasks than bytes", files(3), 5, [][]Split{
			nil,
			{{"a", 0, 1}},
			nil,
			{{"a", 1, 2}},
			{{"a", 2, 3}},
		}},
		{"cut at a file boundary", files(2, 2), 2, [][]Split{
			{{"a", 0, 2}},
			{{"b", 0, 2}},
		}},
		{"only empty files", files(0, 0), 2, [][]Split{nil, nil}},
		{"no files", nil, 3, [][]Split{nil, nil, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AssignSplits(tt.files, tt.p)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("AssignSplits(%d) =\n%v\nwant\n%v", tt.p, got, tt.want)
			}
			checkAssignment(t, tt.files, tt.p, got)
		})
	}
}

func TestAssignSplitsHuge(t *testing.T) {
	// i*total overflows int64; the ranges must still be exact.
	fs := files(math.MaxInt64/2, math.MaxInt64/2, 1)
	for p := 1; p <= 8; p++ {
		checkAssignment(t, fs, p, AssignSplits(fs, p))
	}
}

func TestAssignSplitsRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(testSeed(t)), 0))
	for range 2000 {
		sizes := make([]int64, rng.IntN(10))
		for i := range sizes {
			switch rng.IntN(4) {
			case 0:
				sizes[i] = 0
			case 1:
				sizes[i] = rng.Int64N(3)
			default:
				sizes[i] = rng.Int64N(1 << 20)
			}
		}
		fs := files(sizes...)
		for i := range fs {
			fs[i].Special = rng.IntN(8) == 0
		}
		p := 1 + rng.IntN(16)
		checkStreams(t, fs, p, AssignSplits(fs, p))
		if t.Failed() {
			t.Fatalf("sizes %v, parallelism %d", sizes, p)
		}
	}
}

// TestAssignSplitsStreams: a special file (a pipe, FIFO or device, whose size
// is meaningless) is one uncut split [0, StreamEnd) of subtask 0, in file order
// among subtask 0's other splits; the regular files are balanced as without it.
func TestAssignSplitsStreams(t *testing.T) {
	stream := func(name string, size int64) hdfs.FileInfo {
		return hdfs.FileInfo{Path: name, Size: size, Special: true}
	}
	reg := func(name string, size int64) hdfs.FileInfo { return hdfs.FileInfo{Path: name, Size: size} }
	tests := []struct {
		name  string
		files []hdfs.FileInfo
		p     int
		want  [][]Split
	}{
		{"stdin alone", []hdfs.FileInfo{stream("/dev/stdin", 0)}, 1, [][]Split{
			{{"/dev/stdin", 0, StreamEnd}},
		}},
		{"stdin at parallelism 3", []hdfs.FileInfo{stream("/dev/stdin", 0)}, 3, [][]Split{
			{{"/dev/stdin", 0, StreamEnd}}, nil, nil,
		}},
		{"a device's size is ignored", []hdfs.FileInfo{stream("dev", 100), reg("b", 4)}, 2, [][]Split{
			{{"dev", 0, StreamEnd}, {"b", 0, 2}},
			{{"b", 2, 4}},
		}},
		{"after subtask 0's files", []hdfs.FileInfo{reg("a", 10), stream("fifo", 0), reg("c", 5)}, 2, [][]Split{
			{{"a", 0, 7}, {"fifo", 0, StreamEnd}},
			{{"a", 7, 10}, {"c", 0, 5}},
		}},
		{"between subtask 0's files", []hdfs.FileInfo{reg("a", 2), stream("fifo", 0), reg("c", 5)}, 2, [][]Split{
			{{"a", 0, 2}, {"fifo", 0, StreamEnd}, {"c", 0, 1}},
			{{"c", 1, 5}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AssignSplits(tt.files, tt.p)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("AssignSplits(%d) =\n%v\nwant\n%v", tt.p, got, tt.want)
			}
			checkStreams(t, tt.files, tt.p, got)
		})
	}
	if s := (Split{"/dev/stdin", 1234, StreamEnd}); !s.Stream() || s.String() != "/dev/stdin[1234,end of stream)" {
		t.Errorf("stream split: Stream() = %v, String() = %q", s.Stream(), s.String())
	}
	if s := (Split{"a", 0, 10}); s.Stream() {
		t.Errorf("%v: Stream() = true", s)
	}
}

// checkStreams checks an assignment of regular and special files: every special
// file is one whole stream split of subtask 0, subtask 0's splits are in file
// order, and without the streams the assignment is that of the regular files.
func checkStreams(t *testing.T, fs []hdfs.FileInfo, p int, got [][]Split) {
	t.Helper()
	fileIndex := map[string]int{}
	var regular []hdfs.FileInfo
	var streams []string
	for i, f := range fs {
		fileIndex[f.Path] = i
		if f.Special {
			streams = append(streams, f.Path)
		} else {
			regular = append(regular, f)
		}
	}
	var found []string
	rest := make([][]Split, len(got))
	for i, splits := range got {
		for k, s := range splits {
			if i == 0 && k > 0 && fileIndex[splits[k-1].Path] > fileIndex[s.Path] {
				t.Errorf("subtask 0: %v before %v, against file order", splits[k-1], s)
			}
			if !fs[fileIndex[s.Path]].Special {
				rest[i] = append(rest[i], s)
				continue
			}
			if i != 0 || s.Start != 0 || !s.Stream() {
				t.Errorf("subtask %d: split %v of a special file, want %s[0,end of stream) on subtask 0", i, s, s.Path)
			}
			found = append(found, s.Path)
		}
	}
	if !reflect.DeepEqual(found, streams) {
		t.Errorf("stream splits of %q, want one of each of %q", found, streams)
	}
	checkAssignment(t, regular, p, rest)
}

func TestAssignSplitsPanicsOnZeroParallelism(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("AssignSplits(files, 0) did not panic")
		}
	}()
	AssignSplits(files(1), 0)
}

// checkAssignment checks AssignSplits' contract against a slow obvious reference:
// p entries; subtask i's pieces, laid end to end, are exactly the global range
// [i*total/p, (i+1)*total/p) (computed with math/big); no empty split; every
// non-empty file covered exactly once, in order.
func checkAssignment(t *testing.T, fs []hdfs.FileInfo, p int, got [][]Split) {
	t.Helper()
	if len(got) != p {
		t.Fatalf("%d entries, want %d", len(got), p)
	}
	var starts []*big.Int // global offset of each file
	total := new(big.Int)
	for _, f := range fs {
		starts = append(starts, new(big.Int).Set(total))
		total.Add(total, big.NewInt(f.Size))
	}
	bound := func(i int) *big.Int {
		v := new(big.Int).Mul(big.NewInt(int64(i)), total)
		return v.Quo(v, big.NewInt(int64(p)))
	}
	fileIndex := map[string]int{}
	for i, f := range fs {
		fileIndex[f.Path] = i
	}
	var minBytes, maxBytes *big.Int
	var flat []Split
	for i, splits := range got {
		pos := bound(i)
		for _, s := range splits {
			if s.Start >= s.End {
				t.Errorf("subtask %d: empty split %v", i, s)
			}
			g := new(big.Int).Add(starts[fileIndex[s.Path]], big.NewInt(s.Start))
			if g.Cmp(pos) != 0 {
				t.Errorf("subtask %d: split %v starts at global offset %v, want %v", i, s, g, pos)
			}
			pos.Add(g, big.NewInt(s.End-s.Start))
		}
		if end := bound(i + 1); pos.Cmp(end) != 0 {
			t.Errorf("subtask %d ends at global offset %v, want %v", i, pos, end)
		}
		n := new(big.Int).Sub(bound(i+1), bound(i))
		if minBytes == nil || n.Cmp(minBytes) < 0 {
			minBytes = n
		}
		if maxBytes == nil || n.Cmp(maxBytes) > 0 {
			maxBytes = n
		}
		flat = append(flat, splits...)
	}
	if d := new(big.Int).Sub(maxBytes, minBytes); d.Cmp(big.NewInt(1)) > 0 {
		t.Errorf("subtask sizes range from %v to %v bytes", minBytes, maxBytes)
	}
	// Every non-empty file, in order, covered by contiguous pieces from 0 to Size.
	k := 0
	for _, f := range fs {
		var off int64
		for off < f.Size {
			if k >= len(flat) || flat[k].Path != f.Path || flat[k].Start != off {
				t.Fatalf("file %s of size %d: no piece at offset %d (pieces %v)", f.Path, f.Size, off, flat)
			}
			off = flat[k].End
			k++
		}
		if off != f.Size {
			t.Errorf("file %s: pieces end at %d, size %d", f.Path, off, f.Size)
		}
	}
	if k != len(flat) {
		t.Errorf("extra pieces %v", flat[k:])
	}
}
