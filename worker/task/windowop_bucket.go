package task

import "github.com/spate-io/spate/worker/window"

// windowBucket holds one time window's contents for every key of a subtask:
// entries in the order their keys arrived, found through an open-addressing
// table over the key's hash. Entries are never removed one by one; the whole
// bucket goes at the window's cleanup time.
type windowBucket[K comparable, ACC any] struct {
	w       window.Window
	slots   []int32 // 0: empty; i+1: entries[i]. A power of two, at most half full.
	shift   uint    // 64 - log2(len(slots))
	entries []bucketEntry[K, ACC]
	// pending are the entries that fire at w.MaxTimestamp(), in the order they
	// became pending: the order of WindowOperator's timers.
	pending []int32
}

type bucketEntry[K comparable, ACC any] struct {
	hash    uint64
	key     K
	kg      int32
	pending bool
	acc     ACC
}

// newWindowBucket returns an empty bucket with room for n keys.
func newWindowBucket[K comparable, ACC any](n int) *windowBucket[K, ACC] {
	b := &windowBucket[K, ACC]{entries: make([]bucketEntry[K, ACC], 0, n), pending: make([]int32, 0, n)}
	b.grow()
	return b
}

// entry returns the index of key's entry, adding a zero one (fresh) if key has
// none. h is the key's hash and kg its key group.
func (b *windowBucket[K, ACC]) entry(h uint64, key K, kg int) (i int32, fresh bool) {
	if 2*(len(b.entries)+1) > len(b.slots) {
		b.grow()
	}
	mask := len(b.slots) - 1
	// Fibonacci hashing takes the high bits: the low bits of the keys of one
	// subtask are alike, as they chose the key group.
	for s := int((h * 0x9e3779b97f4a7c15) >> b.shift); ; s = (s + 1) & mask {
		n := b.slots[s]
		if n == 0 {
			b.entries = append(b.entries, bucketEntry[K, ACC]{hash: h, key: key, kg: int32(kg)})
			b.slots[s] = int32(len(b.entries))
			return int32(len(b.entries) - 1), true
		}
		if e := &b.entries[n-1]; e.hash == h && e.key == key {
			return n - 1, false
		}
	}
}

func (b *windowBucket[K, ACC]) grow() {
	size, shift := 64, uint(64-6)
	for size < 2*(max(len(b.entries)*2, cap(b.entries))+1) {
		size, shift = size*2, shift-1
	}
	if cap(b.slots) >= size {
		b.slots = b.slots[:size]
		clear(b.slots)
	} else {
		b.slots = make([]int32, size)
	}
	b.shift = shift
	mask := size - 1
	for i := range b.entries {
		s := int((b.entries[i].hash * 0x9e3779b97f4a7c15) >> shift)
		for b.slots[s] != 0 {
			s = (s + 1) & mask
		}
		b.slots[s] = int32(i + 1)
	}
}

// reset empties b for another window, keeping its memory.
func (b *windowBucket[K, ACC]) reset() {
	clear(b.entries) // drop references held by keys and accumulators
	b.entries = b.entries[:0]
	clear(b.slots)
	b.pending = b.pending[:0]
}
