package state

import "iter"

// mapState stores one Go map per key; with a TTL every entry is stamped and
// expires on its own, as in Flink's TtlMapState. A key whose map becomes empty
// is removed, so empty maps hold no memory.
type mapState[K comparable, UK comparable, UV any] struct {
	b   *HeapKeyedBackend[K]
	m   *KeyedMap[K, map[UK]stamped[UV]]
	ttl *ttlPolicy
}

var _ MapState[string, int] = (*mapState[string, string, int])(nil)

func (s *mapState[K, UK, UV]) Get(k UK) (UV, bool) {
	b := s.b
	b.mustHaveKey()
	um := s.userMap()
	c, ok := um[k]
	p := s.ttl
	if !ok || p == nil {
		return c.v, ok
	}
	now := p.clock()
	if p.expired(c.ts, now) {
		s.remove(um, k)
		if !p.returnExpired {
			var zero UV
			return zero, false
		}
		return c.v, true
	}
	if p.updateOnRead {
		c.ts = now
		um[k] = c
	}
	return c.v, true
}

func (s *mapState[K, UK, UV]) Put(k UK, v UV) {
	b := s.b
	b.mustHaveKey()
	um, ok := s.m.Get(b.kg, b.key)
	if !ok {
		um = make(map[UK]stamped[UV])
		s.m.Put(b.kg, b.key, um)
	}
	um[k] = stamped[UV]{v: v, ts: s.ttl.stamp()}
}

func (s *mapState[K, UK, UV]) Remove(k UK) {
	s.b.mustHaveKey()
	if um := s.userMap(); um != nil {
		s.remove(um, k)
	}
}

func (s *mapState[K, UK, UV]) Contains(k UK) bool {
	_, ok := s.Get(k)
	return ok
}

func (s *mapState[K, UK, UV]) All() iter.Seq2[UK, UV] {
	b := s.b
	b.mustHaveKey()
	kg, key := b.kg, b.key
	return func(yield func(UK, UV) bool) {
		um, ok := s.m.Get(kg, key)
		if !ok {
			return
		}
		p := s.ttl
		if p == nil {
			for k, c := range um {
				if !yield(k, c.v) {
					return
				}
			}
			return
		}
		now := p.clock()
		defer func() {
			// Drop the key if expiry (or the loop body) emptied its map; the
			// map stored now may be another one if the body cleared and refilled it.
			if cur, ok := s.m.Get(kg, key); ok && len(cur) == 0 {
				s.m.Delete(kg, key)
			}
		}()
		for k, c := range um {
			if p.expired(c.ts, now) {
				delete(um, k)
				if !p.returnExpired {
					continue
				}
			} else if p.updateOnRead {
				c.ts = now
				um[k] = c
			}
			if !yield(k, c.v) {
				return
			}
		}
	}
}

func (s *mapState[K, UK, UV]) Len() int {
	s.b.mustHaveKey()
	um := s.userMap()
	p := s.ttl
	if p == nil || p.returnExpired {
		return len(um)
	}
	// Expired entries are invisible: drop them while counting.
	now := p.clock()
	for k, c := range um {
		if p.expired(c.ts, now) {
			delete(um, k)
		}
	}
	if um != nil && len(um) == 0 {
		s.m.Delete(s.b.kg, s.b.key)
	}
	return len(um)
}

func (s *mapState[K, UK, UV]) IsEmpty() bool { return s.Len() == 0 }

func (s *mapState[K, UK, UV]) Clear() {
	b := s.b
	b.mustHaveKey()
	s.m.Delete(b.kg, b.key)
}

// userMap is the current key's map, nil if it has none.
func (s *mapState[K, UK, UV]) userMap() map[UK]stamped[UV] {
	um, _ := s.m.Get(s.b.kg, s.b.key)
	return um
}

// remove deletes k from the current key's map um, and the map when it empties.
func (s *mapState[K, UK, UV]) remove(um map[UK]stamped[UV], k UK) {
	delete(um, k)
	if len(um) == 0 {
		s.m.Delete(s.b.kg, s.b.key)
	}
}

func (s *mapState[K, UK, UV]) cleanupExpired(now int64) int {
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
	s.m.All(func(kg int, key K, um map[UK]stamped[UV]) bool {
		for k, c := range um {
			if p.expired(c.ts, now) {
				delete(um, k)
				dropped++
			}
		}
		if len(um) == 0 {
			empty = append(empty, at{kg, key})
		}
		return true
	})
	for _, e := range empty {
		s.m.Delete(e.kg, e.key)
	}
	return dropped
}

func (s *mapState[K, UK, UV]) snapshot(name string) (Part, error) { return SnapshotKeyedMap(name, s.m) }

func (s *mapState[K, UK, UV]) restore(r *Restored, name string) error {
	return RestoreKeyedMap(r, name, s.m)
}
