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

// popLive removes the top timer, which peek has just returned.
func (q *timerQueue[K, N]) popLive() {
	t := q.popHeap()
	delete(q.sets[t.kg-q.rng.Start], timerID[K, N]{key: t.key, ns: t.ns, ts: t.ts})
	q.live--
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
	for i := n/2 - 1; i >= 0; i-- {
		q.down(i)
	}
}

func (q *timerQueue[K, N]) less(i, j int) bool {
	a, b := &q.heap[i], &q.heap[j]
	return a.ts < b.ts || (a.ts == b.ts && a.seq < b.seq)
}

func (q *timerQueue[K, N]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !q.less(i, p) {
			return
		}
		q.heap[i], q.heap[p] = q.heap[p], q.heap[i]
		i = p
	}
}

func (q *timerQueue[K, N]) down(i int) {
	n := len(q.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && q.less(r, l) {
			m = r
		}
		if !q.less(m, i) {
			return
		}
		q.heap[i], q.heap[m] = q.heap[m], q.heap[i]
		i = m
	}
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
