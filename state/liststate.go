package state

import "slices"

// listCell is one key's list. With a TTL, ts[i] stamps vs[i]: every element
// expires on its own, as in Flink's TtlListState; without one ts is nil. A key
// whose list is empty has no cell.
type listCell[V any] struct {
	vs []V
	ts []int64
}

type listState[K comparable, V any] struct {
	b   *HeapKeyedBackend[K]
	m   *KeyedMap[K, *listCell[V]]
	ttl *ttlPolicy
}

var _ ListState[int] = (*listState[string, int])(nil)

func (s *listState[K, V]) Get() []V {
	b := s.b
	b.mustHaveKey()
	c, ok := s.m.Get(b.kg, b.key)
	if !ok {
		return nil
	}
	p := s.ttl
	if p == nil {
		return slices.Clone(c.vs)
	}
	now := p.clock()
	out := make([]V, 0, len(c.vs))
	n := 0 // live elements, compacted to the front
	for i, v := range c.vs {
		ts := c.ts[i]
		if p.expired(ts, now) {
			if p.returnExpired {
				out = append(out, v)
			}
			continue
		}
		out = append(out, v)
		if p.updateOnRead {
			ts = now
		}
		c.vs[n], c.ts[n] = v, ts
		n++
	}
	if n == 0 {
		s.m.Delete(b.kg, b.key)
	} else {
		clear(c.vs[n:]) // let the garbage collector have dropped elements
		c.vs, c.ts = c.vs[:n], c.ts[:n]
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func (s *listState[K, V]) Add(v V) {
	c := s.cell()
	c.vs = append(c.vs, v)
	if s.ttl != nil {
		c.ts = append(c.ts, s.ttl.clock())
	}
}

func (s *listState[K, V]) AddAll(vs []V) {
	s.b.mustHaveKey()
	if len(vs) == 0 {
		return
	}
	c := s.cell()
	c.vs = append(c.vs, vs...)
	if s.ttl != nil {
		c.ts = appendStamps(c.ts, s.ttl.clock(), len(vs))
	}
}

func (s *listState[K, V]) Update(vs []V) {
	b := s.b
	b.mustHaveKey()
	if len(vs) == 0 {
		s.m.Delete(b.kg, b.key)
		return
	}
	c := &listCell[V]{vs: slices.Clone(vs)}
	if s.ttl != nil {
		c.ts = appendStamps(nil, s.ttl.clock(), len(vs))
	}
	s.m.Put(b.kg, b.key, c)
}

func (s *listState[K, V]) Clear() {
	b := s.b
	b.mustHaveKey()
	s.m.Delete(b.kg, b.key)
}

// cell returns the current key's list, creating it.
func (s *listState[K, V]) cell() *listCell[V] {
	b := s.b
	b.mustHaveKey()
	c, ok := s.m.Get(b.kg, b.key)
	if !ok {
		c = &listCell[V]{}
		s.m.Put(b.kg, b.key, c)
	}
	return c
}

func (s *listState[K, V]) cleanupExpired(now int64) int {
	p := s.ttl
	if p == nil {
		return 0
	}
	type at struct {
		kg  int
		key K
	}
	var empty []at
	dropped := 0
	s.m.All(func(kg int, key K, c *listCell[V]) bool {
		n := 0
		for i, v := range c.vs {
			if p.expired(c.ts[i], now) {
				continue
			}
			c.vs[n], c.ts[n] = v, c.ts[i]
			n++
		}
		dropped += len(c.vs) - n
		clear(c.vs[n:])
		c.vs, c.ts = c.vs[:n], c.ts[:n]
		if n == 0 {
			empty = append(empty, at{kg, key})
		}
		return true
	})
	for _, e := range empty {
		s.m.Delete(e.kg, e.key)
	}
	return dropped
}

func appendStamps(ts []int64, now int64, n int) []int64 {
	ts = slices.Grow(ts, n)
	for range n {
		ts = append(ts, now)
	}
	return ts
}

func (s *listState[K, V]) snapshot(name string) (Part, error) { return SnapshotKeyedMap(name, s.m) }

func (s *listState[K, V]) restore(r *Restored, name string) error {
	return RestoreKeyedMap(r, name, s.m)
}
