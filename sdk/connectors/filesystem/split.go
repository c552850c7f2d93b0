package filesystem

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/spate-io/spate/hdfs"
)

// A Split is a byte range [Start, End) of one file. A line belongs to the split in which its
// first byte lies, so splits partition the lines exactly (like Hadoop's LineRecordReader).
//
// The split of a special file (hdfs.FileInfo.Special: a pipe, FIFO or device) is a stream:
// End is StreamEnd, and it is read in order from its start to its end, never seeked. Start
// is then the count of bytes already read, which no reader can skip again (see Stream).
type Split struct {
	Path       string
	Start, End int64
}

// StreamEnd is the End of a stream's split: "up to the end of the input, however far".
const StreamEnd = math.MaxInt64

// Stream reports whether s is the split of a special file, to be read once, in order,
// from byte 0: it cannot be cut, nor resumed from Start > 0.
func (s Split) Stream() bool { return s.End == StreamEnd }

func (s Split) String() string {
	if s.Stream() {
		return fmt.Sprintf("%s[%d,end of stream)", s.Path, s.Start)
	}
	return fmt.Sprintf("%s[%d,%d)", s.Path, s.Start, s.End)
}

// AssignSplits balances bytes across subtasks: the regular files are laid end to end and
// subtask i gets the global byte range [i*total/p, (i+1)*total/p), cut at file boundaries
// into one Split per file piece, in file order. Zero-size files produce no split. A
// special file (a pipe, FIFO or device, whose size says nothing) is not cut: it is one
// stream split, [0, StreamEnd), of subtask 0, placed among subtask 0's splits in file
// order. The result has exactly p entries (some possibly empty); the regular byte counts
// of any two differ by at most one. It panics if parallelism < 1.
func AssignSplits(files []hdfs.FileInfo, parallelism int) [][]Split {
	if parallelism < 1 {
		panic(fmt.Sprintf("filesystem.AssignSplits: parallelism must be at least 1, got %d", parallelism))
	}
	size := func(f hdfs.FileInfo) int64 {
		if f.Special {
			return 0 // laid out as an empty file; dealt whole below
		}
		return max(f.Size, 0)
	}
	var total int64
	var streams []int // indices of the special files
	for i, f := range files {
		total += size(f)
		if f.Special {
			streams = append(streams, i)
		}
	}
	out := make([][]Split, parallelism)
	var first []int   // file index of each split of out[0]
	fi := 0           // current file
	var fileOff int64 // global offset of files[fi]
	for i := range parallelism {
		lo, hi := cut(i, total, parallelism), cut(i+1, total, parallelism)
		for lo < hi {
			size := size(files[fi])
			if lo >= fileOff+size { // past this file (or it is empty)
				fileOff += size
				fi++
				continue
			}
			end := min(hi, fileOff+size)
			out[i] = append(out[i], Split{Path: files[fi].Path, Start: lo - fileOff, End: end - fileOff})
			if i == 0 {
				first = append(first, fi)
			}
			lo = end
		}
	}
	if len(streams) == 0 {
		return out
	}
	merged := make([]Split, 0, len(out[0])+len(streams))
	for k, s := range out[0] {
		for len(streams) > 0 && streams[0] < first[k] {
			merged = append(merged, Split{Path: files[streams[0]].Path, Start: 0, End: StreamEnd})
			streams = streams[1:]
		}
		merged = append(merged, s)
	}
	for _, i := range streams {
		merged = append(merged, Split{Path: files[i].Path, Start: 0, End: StreamEnd})
	}
	out[0] = merged
	return out
}

// cut is i*total/p without overflow (total may be close to MaxInt64).
func cut(i int, total int64, p int) int64 {
	hi, lo := bits.Mul64(uint64(i), uint64(total))
	q, _ := bits.Div64(hi, lo, uint64(p)) // i <= p, so q <= total and hi < p
	return int64(q)
}
