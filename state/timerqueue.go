package state

// timer is one registered timer in the heap. seq is its registration number:
// it orders timers with equal timestamps, and tells a live heap entry from a
// stale one left behind by a delete (lazy deletion).
type timer[K comparable, N comparable] struct {
	ts  int64
	seq uint64
	kg  int
	key K
	ns  N
}

// timerID is what makes a timer unique: registering it twice is one timer.
type timerID[K comparable, N comparable] struct {
	key K
	ns  N
	ts  int64
}

// timerQueue is a min-heap of timers ordered by (ts, seq) plus, per key group,
// the set of live timers mapped to their seq. A timer is live while its set
// entry holds the seq of its heap entry; deleting a timer only removes the set
// entry, and the heap entry is dropped when it reaches the top or when stale
// entries outnumber live ones. The per-key-group sets are what a snapshot of a
// key group will write.
type timerQueue[K comparable, N comparable] struct {
	rng   KeyGroupRange
	heap  []timer[K, N]
	sets  []map[timerID[K, N]]uint64 // by kg - rng.Start
	seq   uint64
	live  int
	stale int
}

// minCompact is the number of stale heap entries below which the heap is never
// rebuilt: rebuilding a small heap costs more than carrying a few dead entries.
const minCompact = 64

func newTimerQueue[K comparable, N comparable](rng KeyGroupRange) timerQueue[K, N] {
	return timerQueue[K, N]{rng: rng, sets: make([]map[timerID[K, N]]uint64, rng.Len())}
}

// add registers a timer; it reports false if the timer was already registered.
func (q *timerQueue[K, N]) add(kg int, key K, ns N, ts int64) bool {
	i := kg - q.rng.Start
	set := q.sets[i]
	if set == nil {
		set = make(map[timerID[K, N]]uint64)
		q.sets[i] = set
	}
	id := timerID[K, N]{key: key, ns: ns, ts: ts}
	if _, ok := set[id]; ok {
		return false
	}
	q.seq++
	set[id] = q.seq
	q.live++
	q.heap = append(q.heap, timer[K, N]{ts: ts, seq: q.seq, kg: kg, key: key, ns: ns})
	q.up(len(q.heap) - 1)
	return true
}

// remove deletes a timer; it reports false if there was none.
func (q *timerQueue[K, N]) remove(kg int, key K, ns N, ts int64) bool {
	set := q.sets[kg-q.rng.Start]
	id := timerID[K, N]{key: key, ns: ns, ts: ts}
	if _, ok := set[id]; !ok {
		return false
	}
	delete(set, id)
	q.live--
	q.stale++
	if q.stale >= minCompact && q.stale > q.live {
		q.compact()
	}
	return true
}

func (q *timerQueue[K, N]) isLive(t *timer[K, N]) bool {
	seq, ok := q.sets[t.kg-q.rng.Start][timerID[K, N]{key: t.key, ns: t.ns, ts: t.ts}]
	return ok && seq == t.seq
}

// peek returns the earliest live timer, dropping stale entries above it.
func (q *timerQueue[K, N]) peek() (timer[K, N], bool) {
	for len(q.heap) > 0 {
		if q.isLive(&q.heap[0]) {
			return q.heap[0], true
		}
		q.popHeap()
		q.stale--
	}
	return timer[K, N]{}, false
}

// popDue removes and returns the earliest live timer if its timestamp is at
// or before upTo, dropping stale entries on the way.
func (q *timerQueue[K, N]) popDue(upTo int64) (timer[K, N], bool) {
	for len(q.heap) > 0 && q.heap[0].ts <= upTo {
		t := q.popHeap()
		set := q.sets[t.kg-q.rng.Start]
		id := timerID[K, N]{key: t.key, ns: t.ns, ts: t.ts}
		if seq, ok := set[id]; ok && seq == t.seq {
			delete(set, id)
			q.live--
			return t, true
		}
		q.stale--
	}
	return timer[K, N]{}, false
}

// compact rebuilds the heap from its live entries.
func (q *timerQueue[K, N]) compact() {
	n := 0
	for i := range q.heap {
		if q.isLive(&q.heap[i]) {
			q.heap[n] = q.heap[i]
			n++
		}
	}
	clear(q.heap[n:])
	q.heap = q.heap[:n]
	q.stale = 0
	if n > 1 {
		for i := (n - 2) / heapArity; i >= 0; i-- {
			q.down(i)
		}
	}
}

// The heap is 4-ary: half the depth of a binary heap, and the four children of
// a node share a cache line or two. Sifting moves a hole instead of swapping.
const heapArity = 4

func before[K comparable, N comparable](a, b *timer[K, N]) bool {
	return a.ts < b.ts || (a.ts == b.ts && a.seq < b.seq)
}

func (q *timerQueue[K, N]) up(i int) {
	h := q.heap
	x := h[i]
	for i > 0 {
		p := (i - 1) / heapArity
		if !before(&x, &h[p]) {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = x
}

func (q *timerQueue[K, N]) down(i int) {
	h := q.heap
	n := len(h)
	x := h[i]
	for {
		c := heapArity*i + 1
		if c >= n {
			break
		}
		m := c
		for j := c + 1; j < min(c+heapArity, n); j++ {
			if before(&h[j], &h[m]) {
				m = j
			}
		}
		if !before(&h[m], &x) {
			break
		}
		h[i] = h[m]
		i = m
	}
	h[i] = x
}

func (q *timerQueue[K, N]) popHeap() timer[K, N] {
	top := q.heap[0]
	last := len(q.heap) - 1
	q.heap[0] = q.heap[last]
	q.heap[last] = timer[K, N]{} // drop references to the key and namespace
	q.heap = q.heap[:last]
	if last > 0 {
		q.down(0)
	}
	return top
}
