package filesystem

import (
	"fmt"
	"math/bits"

	"github.com/spate-io/spate/hdfs"
)

// A Split is a byte range [Start, End) of one file. A line belongs to the split in which its
// first byte lies, so splits partition the lines exactly (like Hadoop's LineRecordReader).
type Split struct {
	Path       string
	Start, End int64
}

func (s Split) String() string { return fmt.Sprintf("%s[%d,%d)", s.Path, s.Start, s.End) }

// AssignSplits balances bytes across subtasks: the files are laid end to end and subtask i
// gets the global byte range [i*total/p, (i+1)*total/p), cut at file boundaries into one
// Split per file piece, in file order. Zero-size files produce no split. The result has
// exactly p entries (some possibly empty); the byte counts of any two differ by at most one.
// It panics if parallelism < 1.
func AssignSplits(files []hdfs.FileInfo, parallelism int) [][]Split {
	if parallelism < 1 {
		panic(fmt.Sprintf("filesystem.AssignSplits: parallelism must be at least 1, got %d", parallelism))
	}
	var total int64
	for _, f := range files {
		total += max(f.Size, 0)
	}
	out := make([][]Split, parallelism)
	fi := 0           // current file
	var fileOff int64 // global offset of files[fi]
	for i := range parallelism {
		lo, hi := cut(i, total, parallelism), cut(i+1, total, parallelism)
		for lo < hi {
			size := max(files[fi].Size, 0)
			if lo >= fileOff+size { // past this file (or it is empty)
				fileOff += size
				fi++
				continue
			}
			end := min(hi, fileOff+size)
			out[i] = append(out[i], Split{Path: files[fi].Path, Start: lo - fileOff, End: end - fileOff})
			lo = end
		}
	}
	return out
}

// cut is i*total/p without overflow (total may be close to MaxInt64).
func cut(i int, total int64, p int) int64 {
	hi, lo := bits.Mul64(uint64(i), uint64(total))
	q, _ := bits.Div64(hi, lo, uint64(p)) // i <= p, so q <= total and hi < p
	return int64(q)
}
