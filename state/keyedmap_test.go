package state

import (
	"maps"
	"slices"
	"testing"
)

type kmEntry struct {
	kg  int
	key string
	v   int
}

// kmEntries collects All's entries, checking that key groups come in ascending order.
func kmEntries(t *testing.T, m *KeyedMap[string, int]) []kmEntry {
	t.Helper()
	var out []kmEntry
	m.All(func(kg int, key string, v int) bool {
		if n := len(out); n > 0 && out[n-1].kg > kg {
			t.Fatalf("All visited key group %d after %d", kg, out[n-1].kg)
		}
		out = append(out, kmEntry{kg, key, v})
		return true
	})
	// Order within a key group is unspecified: sort for comparison.
	slices.SortFunc(out, func(a, b kmEntry) int {
		if a.kg != b.kg {
			return a.kg - b.kg
		}
		if a.key < b.key {
			return -1
		}
		if a.key > b.key {
			return 1
		}
		return 0
	})
	return out
}

func TestKeyedMapBasics(t *testing.T) {
	rng := KeyGroupRange{Start: 10, End: 13}
	m := NewKeyedMap[string, int](rng)
	if m.Range() != rng {
		t.Fatalf("Range() = %v, want %v", m.Range(), rng)
	}
	if m.Len() != 0 {
		t.Fatalf("new map Len() = %d", m.Len())
	}
	if v, ok := m.Get(10, "a"); ok || v != 0 {
		t.Fatalf("Get on empty map = %d, %v", v, ok)
	}
	m.Delete(13, "a") // deleting from a key group never written is a no-op
	if m.Len() != 0 {
		t.Fatalf("Len() after deleting a missing key = %d", m.Len())
	}

	m.Put(10, "a", 1)
	m.Put(13, "b", 2)
	m.Put(13, "a", 3) // the same key in another key group is another entry
	if m.Len() != 3 {
		t.Fatalf("Len() = %d, want 3", m.Len())
	}
	m.Put(10, "a", 4) // overwrite: no new entry
	if m.Len() != 3 {
		t.Fatalf("Len() after overwrite = %d, want 3", m.Len())
	}
	for _, c := range []struct {
		kg   int
		key  string
		want int
		ok   bool
	}{
		{10, "a", 4, true},
		{13, "a", 3, true},
		{13, "b", 2, true},
		{10, "b", 0, false},
		{11, "a", 0, false},
	} {
		if v, ok := m.Get(c.kg, c.key); v != c.want || ok != c.ok {
			t.Errorf("Get(%d, %q) = %d, %v; want %d, %v", c.kg, c.key, v, ok, c.want, c.ok)
		}
	}
	want := []kmEntry{{10, "a", 4}, {13, "a", 3}, {13, "b", 2}}
	if got := kmEntries(t, m); !slices.Equal(got, want) {
		t.Fatalf("All = %v, want %v", got, want)
	}

	m.Delete(13, "a")
	m.Delete(13, "a") // twice: no double count
	m.Delete(12, "b") // wrong key group: no effect
	if m.Len() != 2 {
		t.Fatalf("Len() after deletes = %d, want 2", m.Len())
	}
	want = []kmEntry{{10, "a", 4}, {13, "b", 2}}
	if got := kmEntries(t, m); !slices.Equal(got, want) {
		t.Fatalf("All after deletes = %v, want %v", got, want)
	}

	// All stops when fn returns false.
	calls := 0
	m.All(func(int, string, int) bool { calls++; return false })
	if calls != 1 {
		t.Fatalf("All called fn %d times after it returned false, want 1", calls)
	}
}

// TestKeyedMapAgainstReference applies random operations to a KeyedMap and to a
// plain map keyed by (key group, key), and compares them after every step.
func TestKeyedMapAgainstReference(t *testing.T) {
	r, seed := keyGroupTestRand(t)
	type ref struct {
		kg  int
		key string
	}
	rng := KeyGroupRange{Start: 40, End: 47}
	m := NewKeyedMap[string, int](rng)
	want := map[ref]int{}
	keys := []string{"a", "b", "c", "d", "e"}
	for step := range 5000 {
		kg := rng.Start + r.IntN(rng.Len())
		key := keys[r.IntN(len(keys))]
		switch op := r.IntN(3); op {
		case 0, 1:
			v := r.IntN(1000)
			m.Put(kg, key, v)
			want[ref{kg, key}] = v
		case 2:
			m.Delete(kg, key)
			delete(want, ref{kg, key})
		}
		if m.Len() != len(want) {
			t.Fatalf("seed %d step %d: Len() = %d, want %d", seed, step, m.Len(), len(want))
		}
		gv, gok := m.Get(kg, key)
		wv, wok := want[ref{kg, key}]
		if gv != wv || gok != wok {
			t.Fatalf("seed %d step %d: Get(%d, %q) = %d, %v; want %d, %v", seed, step, kg, key, gv, gok, wv, wok)
		}
	}
	var wantAll []kmEntry
	for _, k := range slices.SortedFunc(maps.Keys(want), func(a, b ref) int {
		if a.kg != b.kg {
			return a.kg - b.kg
		}
		if a.key < b.key {
			return -1
		}
		return 1
	}) {
		wantAll = append(wantAll, kmEntry{k.kg, k.key, want[k]})
	}
	if got := kmEntries(t, m); !slices.Equal(got, wantAll) {
		t.Fatalf("seed %d: All = %v, want %v", seed, got, wantAll)
	}
}
