package state

// KeyedMap holds one value per key for the key groups of one subtask: a Go map
// per key group, so each group can be snapshotted, restored and moved on its own.
// It is owned by one task goroutine; it is not safe for concurrent use.
type KeyedMap[K comparable, V any] struct {
	rng    KeyGroupRange
	groups []map[K]V
	size   int
}

// NewKeyedMap returns an empty map for the key groups in rng.
func NewKeyedMap[K comparable, V any](rng KeyGroupRange) *KeyedMap[K, V] {
	return &KeyedMap[K, V]{rng: rng, groups: make([]map[K]V, rng.Len())}
}

// Range is the key groups this map serves.
func (m *KeyedMap[K, V]) Range() KeyGroupRange { return m.rng }

// Len is the number of keys held.
func (m *KeyedMap[K, V]) Len() int { return m.size }

// Get returns the value of key in key group kg. kg must lie in Range.
func (m *KeyedMap[K, V]) Get(kg int, key K) (V, bool) {
	g := m.groups[kg-m.rng.Start]
	v, ok := g[key]
	return v, ok
}

// Put sets the value of key in key group kg. kg must lie in Range.
func (m *KeyedMap[K, V]) Put(kg int, key K, v V) {
	i := kg - m.rng.Start
	g := m.groups[i]
	if g == nil {
		g = make(map[K]V)
		m.groups[i] = g
	}
	if _, ok := g[key]; !ok {
		m.size++
	}
	g[key] = v
}

// Delete removes key from key group kg.
func (m *KeyedMap[K, V]) Delete(kg int, key K) {
	g := m.groups[kg-m.rng.Start]
	if _, ok := g[key]; ok {
		delete(g, key)
		m.size--
	}
}

// All calls fn for every entry, key group by key group in ascending order.
// Within a key group the order is unspecified. fn must not modify the map.
func (m *KeyedMap[K, V]) All(fn func(kg int, key K, v V) bool) {
	for i, g := range m.groups {
		for k, v := range g {
			if !fn(m.rng.Start+i, k, v) {
				return
			}
		}
	}
}
