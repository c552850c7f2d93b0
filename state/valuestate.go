package state

// Value, reducing and aggregating state all store one stamped value per key.

type valueState[K comparable, V any] struct {
	b   *HeapKeyedBackend[K]
	m   *KeyedMap[K, stamped[V]]
	ttl *ttlPolicy
}

var _ ValueState[int] = (*valueState[string, int])(nil)

func (s *valueState[K, V]) Value() (V, bool) { return readStamped(s.b, s.m, s.ttl) }

func (s *valueState[K, V]) Update(v V) {
	b := s.b
	b.mustHaveKey()
	s.m.Put(b.kg, b.key, stamped[V]{v: v, ts: s.ttl.stamp()})
}

func (s *valueState[K, V]) Clear() {
	b := s.b
	b.mustHaveKey()
	s.m.Delete(b.kg, b.key)
}

func (s *valueState[K, V]) cleanupExpired(now int64) int { return cleanupStamped(s.m, s.ttl, now) }

type reducingState[K comparable, V any] struct {
	b      *HeapKeyedBackend[K]
	m      *KeyedMap[K, stamped[V]]
	ttl    *ttlPolicy
	reduce func(a, b V) V
}

var _ ReducingState[int] = (*reducingState[string, int])(nil)

func (s *reducingState[K, V]) Get() (V, bool) { return readStamped(s.b, s.m, s.ttl) }

func (s *reducingState[K, V]) Add(v V) {
	b := s.b
	b.mustHaveKey()
	now := s.ttl.stamp()
	if c, ok := s.m.Get(b.kg, b.key); ok && s.ttl.usableByWrite(c.ts, now) {
		v = s.reduce(c.v, v)
	}
	s.m.Put(b.kg, b.key, stamped[V]{v: v, ts: now})
}

func (s *reducingState[K, V]) Clear() {
	b := s.b
	b.mustHaveKey()
	s.m.Delete(b.kg, b.key)
}

func (s *reducingState[K, V]) cleanupExpired(now int64) int {
	return cleanupStamped(s.m, s.ttl, now)
}

type aggregatingState[K comparable, IN, ACC, OUT any] struct {
	b   *HeapKeyedBackend[K]
	m   *KeyedMap[K, stamped[ACC]]
	ttl *ttlPolicy
	agg AggregateFunction[IN, ACC, OUT]
}

var _ AggregatingState[int, int] = (*aggregatingState[string, int, int, int])(nil)

func (s *aggregatingState[K, IN, ACC, OUT]) Get() (OUT, bool) {
	acc, ok := readStamped(s.b, s.m, s.ttl)
	if !ok {
		var zero OUT
		return zero, false
	}
	return s.agg.GetResult(acc), true
}

func (s *aggregatingState[K, IN, ACC, OUT]) Add(v IN) {
	b := s.b
	b.mustHaveKey()
	now := s.ttl.stamp()
	c, ok := s.m.Get(b.kg, b.key)
	if !ok || !s.ttl.usableByWrite(c.ts, now) {
		c.v = s.agg.CreateAccumulator()
	}
	s.m.Put(b.kg, b.key, stamped[ACC]{v: s.agg.Add(v, c.v), ts: now})
}

func (s *aggregatingState[K, IN, ACC, OUT]) Clear() {
	b := s.b
	b.mustHaveKey()
	s.m.Delete(b.kg, b.key)
}

func (s *aggregatingState[K, IN, ACC, OUT]) cleanupExpired(now int64) int {
	return cleanupStamped(s.m, s.ttl, now)
}

// readStamped reads the current key's value: an expired one is dropped (and
// still returned with ReturnExpiredIfNotCleanedUp), a live one is restamped
// with OnReadAndWrite.
func readStamped[K comparable, V any](b *HeapKeyedBackend[K], m *KeyedMap[K, stamped[V]], p *ttlPolicy) (V, bool) {
	b.mustHaveKey()
	c, ok := m.Get(b.kg, b.key)
	if !ok || p == nil {
		return c.v, ok
	}
	now := p.clock()
	if p.expired(c.ts, now) {
		m.Delete(b.kg, b.key)
		if !p.returnExpired {
			var zero V
			return zero, false
		}
		return c.v, true
	}
	if p.updateOnRead && c.ts != now {
		c.ts = now
		m.Put(b.kg, b.key, c)
	}
	return c.v, true
}

// cleanupStamped drops every expired value of m and returns how many.
func cleanupStamped[K comparable, V any](m *KeyedMap[K, stamped[V]], p *ttlPolicy, now int64) int {
	if p == nil {
		return 0
	}
	type at struct {
		kg  int
		key K
	}
	var dead []at
	m.All(func(kg int, key K, c stamped[V]) bool {
		if p.expired(c.ts, now) {
			dead = append(dead, at{kg, key})
		}
		return true
	})
	for _, d := range dead {
		m.Delete(d.kg, d.key)
	}
	return len(dead)
}

func (s *valueState[K, V]) snapshot(name string) (Part, error) { return SnapshotKeyedMap(name, s.m) }

func (s *valueState[K, V]) restore(r *Restored, name string) error {
	return RestoreKeyedMap(r, name, s.m)
}

func (s *reducingState[K, V]) snapshot(name string) (Part, error) { return SnapshotKeyedMap(name, s.m) }

func (s *reducingState[K, V]) restore(r *Restored, name string) error {
	return RestoreKeyedMap(r, name, s.m)
}

func (s *aggregatingState[K, IN, ACC, OUT]) snapshot(name string) (Part, error) {
	return SnapshotKeyedMap(name, s.m)
}

func (s *aggregatingState[K, IN, ACC, OUT]) restore(r *Restored, name string) error {
	return RestoreKeyedMap(r, name, s.m)
}
