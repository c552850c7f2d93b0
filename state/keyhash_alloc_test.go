package state

import (
	"testing"
)

type allocKey struct {
	Name  string
	Shard int32
	Tags  [2]uint16
}

// A struct key is hashed on both sides of every keyed exchange: it must not
// allocate.
func TestHashStructKeyDoesNotAllocate(t *testing.T) {
	h, err := HasherFor[allocKey]()
	if err != nil {
		t.Fatal(err)
	}
	k := allocKey{Name: "user-17", Shard: 3, Tags: [2]uint16{1, 2}}
	var sink uint64
	if n := testing.AllocsPerRun(1000, func() { sink ^= h(k) }); n != 0 {
		t.Errorf("hashing a struct key made %v allocations, want 0", n)
	}
	_ = sink
}

func BenchmarkHashStructKey(b *testing.B) {
	h, err := HasherFor[allocKey]()
	if err != nil {
		b.Fatal(err)
	}
	keys := make([]allocKey, 1024)
	for i := range keys {
		keys[i] = allocKey{Name: "user", Shard: int32(i), Tags: [2]uint16{uint16(i), 7}}
	}
	b.ReportAllocs()
	var sink uint64
	i := 0
	for b.Loop() {
		sink ^= h(keys[i&1023])
		i++
	}
	_ = sink
}
