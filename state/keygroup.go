package state

import "fmt"

// DefaultMaxParallelism is the number of key groups when pipeline.max-parallelism is not set.
const DefaultMaxParallelism = 128

// UpperBoundMaxParallelism is the largest allowed number of key groups (Flink's bound).
const UpperBoundMaxParallelism = 1 << 15

// KeyGroupRange is the inclusive range [Start, End] of key groups one subtask owns.
// An empty range has End < Start.
type KeyGroupRange struct {
	Start, End int
}

// Len is the number of key groups in the range.
func (r KeyGroupRange) Len() int {
	if r.End < r.Start {
		return 0
	}
	return r.End - r.Start + 1
}

// Contains reports whether kg lies in the range.
func (r KeyGroupRange) Contains(kg int) bool { return kg >= r.Start && kg <= r.End }

func (r KeyGroupRange) String() string { return fmt.Sprintf("KeyGroupRange{%d..%d}", r.Start, r.End) }

// KeyGroupForHash maps a key's hash to its key group.
func KeyGroupForHash(hash uint64, maxParallelism int) int {
	return int(hash % uint64(maxParallelism))
}

// SubtaskForKeyGroup maps a key group to the subtask that owns it at the given parallelism.
func SubtaskForKeyGroup(kg, maxParallelism, parallelism int) int {
	return kg * parallelism / maxParallelism
}

// KeyGroupRangeForSubtask is the inverse of SubtaskForKeyGroup: the key groups subtask owns.
func KeyGroupRangeForSubtask(subtask, maxParallelism, parallelism int) KeyGroupRange {
	start := (subtask*maxParallelism + parallelism - 1) / parallelism
	end := ((subtask+1)*maxParallelism+parallelism-1)/parallelism - 1
	return KeyGroupRange{Start: start, End: end}
}

// CheckParallelism returns a user error when parallelism cannot be served by maxParallelism key groups.
func CheckParallelism(parallelism, maxParallelism int) error {
	if maxParallelism < 1 || maxParallelism > UpperBoundMaxParallelism {
		return fmt.Errorf("pipeline.max-parallelism must be between 1 and %d, got %d", UpperBoundMaxParallelism, maxParallelism)
	}
	if parallelism < 1 {
		return fmt.Errorf("parallelism must be at least 1, got %d", parallelism)
	}
	if parallelism > maxParallelism {
		return fmt.Errorf("parallelism %d exceeds pipeline.max-parallelism %d: raise pipeline.max-parallelism or lower the parallelism", parallelism, maxParallelism)
	}
	return nil
}
