package state

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

// keyGroupTestRand returns a generator seeded from SPATE_TEST_SEED, or from the
// clock when it is unset. The seed is logged, and named in every failure, so a
// failing run can be replayed with SPATE_TEST_SEED=<seed>.
func keyGroupTestRand(t *testing.T) (*rand.Rand, uint64) {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SPATE_TEST_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SPATE_TEST_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (replay with SPATE_TEST_SEED=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), seed
}

// referenceOwners is the slow, obvious assignment of key groups to subtasks:
// subtask s owns key group kg when s/p <= kg/maxP < (s+1)/p, found by walking
// both sequences in step with exact integer cross-multiplication.
func referenceOwners(maxP, p int) []int {
	owners := make([]int, maxP)
	s := 0
	for kg := range maxP {
		for (s+1)*maxP <= kg*p {
			s++
		}
		owners[kg] = s
	}
	return owners
}

// checkKeyGroupAssignment verifies one (maxP, p) pair against the reference.
func checkKeyGroupAssignment(t *testing.T, maxP, p int, seed uint64) {
	t.Helper()
	owners := referenceOwners(maxP, p)
	next := 0 // the first key group the next range must start at
	minLen, maxLen := maxP/p, (maxP+p-1)/p
	for s := range p {
		r := KeyGroupRangeForSubtask(s, maxP, p)
		if r.Start != next {
			t.Fatalf("seed %d maxP=%d p=%d: subtask %d range %v starts at %d, want %d (contiguous, disjoint)", seed, maxP, p, s, r, r.Start, next)
		}
		if r.Len() < minLen || r.Len() > maxLen {
			t.Fatalf("seed %d maxP=%d p=%d: subtask %d range %v has %d key groups, want %d..%d", seed, maxP, p, s, r, r.Len(), minLen, maxLen)
		}
		for kg := r.Start; kg <= r.End; kg++ {
			if owners[kg] != s {
				t.Fatalf("seed %d maxP=%d p=%d: key group %d is in subtask %d's range %v, reference owner is %d", seed, maxP, p, kg, s, r, owners[kg])
			}
			if got := SubtaskForKeyGroup(kg, maxP, p); got != s {
				t.Fatalf("seed %d maxP=%d p=%d: SubtaskForKeyGroup(%d) = %d, but the key group is in subtask %d's range %v", seed, maxP, p, kg, got, s, r)
			}
			if !r.Contains(kg) {
				t.Fatalf("seed %d maxP=%d p=%d: %v.Contains(%d) = false", seed, maxP, p, r, kg)
			}
		}
		if r.Contains(r.Start-1) || r.Contains(r.End+1) {
			t.Fatalf("seed %d maxP=%d p=%d: %v contains a neighbour", seed, maxP, p, r)
		}
		next = r.End + 1
	}
	if next != maxP {
		t.Fatalf("seed %d maxP=%d p=%d: ranges cover 0..%d, want 0..%d", seed, maxP, p, next-1, maxP-1)
	}
}

func TestKeyGroupRangesPartitionKeyGroups(t *testing.T) {
	rng, seed := keyGroupTestRand(t)
	edges := [][2]int{
		{1, 1}, {2, 1}, {2, 2}, {3, 2}, {128, 1}, {128, 3}, {128, 7}, {128, 127}, {128, 128},
		{UpperBoundMaxParallelism, 1}, {UpperBoundMaxParallelism, 3}, {UpperBoundMaxParallelism, UpperBoundMaxParallelism - 1},
		{UpperBoundMaxParallelism, UpperBoundMaxParallelism}, {UpperBoundMaxParallelism - 1, 1000},
	}
	for _, c := range edges {
		checkKeyGroupAssignment(t, c[0], c[1], seed)
	}
	for range 300 {
		maxP := 1 + rng.IntN(UpperBoundMaxParallelism)
		p := 1 + rng.IntN(maxP)
		checkKeyGroupAssignment(t, maxP, p, seed)
	}
}

func TestKeyGroupRangeString(t *testing.T) {
	r := KeyGroupRangeForSubtask(1, 128, 3)
	if got, want := r, (KeyGroupRange{Start: 43, End: 85}); got != want {
		t.Fatalf("KeyGroupRangeForSubtask(1, 128, 3) = %v, want %v", got, want)
	}
	if got, want := r.String(), "KeyGroupRange{43..85}"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
	if got := (KeyGroupRange{Start: 5, End: 4}).Len(); got != 0 {
		t.Fatalf("empty range Len() = %d, want 0", got)
	}
}

func TestKeyGroupForHash(t *testing.T) {
	for _, c := range []struct {
		hash uint64
		maxP int
		want int
	}{
		{0, 128, 0},
		{127, 128, 127},
		{128, 128, 0},
		{1<<64 - 1, 128, 127},           // the hash is unsigned: no negative key groups
		{1<<64 - 1, 1000, 615},          // 18446744073709551615 mod 1000
		{1<<63 + 5, 7, (1<<63 + 5) % 7}, // high bit set
		{12345, 1, 0},
	} {
		if got := KeyGroupForHash(c.hash, c.maxP); got != c.want {
			t.Errorf("KeyGroupForHash(%#x, %d) = %d, want %d", c.hash, c.maxP, got, c.want)
		}
	}
}

func TestCheckParallelism(t *testing.T) {
	for _, c := range []struct {
		p, maxP int
		want    string
	}{
		{1, 1, ""},
		{128, 128, ""},
		{4, UpperBoundMaxParallelism, ""},
		{1, 0, "pipeline.max-parallelism must be between 1 and 32768, got 0"},
		{1, UpperBoundMaxParallelism + 1, "pipeline.max-parallelism must be between 1 and 32768, got 32769"},
		{0, 128, "parallelism must be at least 1, got 0"},
		{129, 128, "parallelism 129 exceeds pipeline.max-parallelism 128: raise pipeline.max-parallelism or lower the parallelism"},
	} {
		err := CheckParallelism(c.p, c.maxP)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("CheckParallelism(%d, %d) = %q, want %q", c.p, c.maxP, got, c.want)
		}
	}
}

// TestKeyGroupsSpreadEvenly hashes a million distinct string keys and a million
// sequential int64 keys. With n keys over k groups a group's count has standard
// deviation sqrt(n/k·(1-1/k)) ≈ 88 for n=1e6, k=128; the ±5% bound (±390) is
// 4.4 standard deviations, so a fair hash passes and a biased one does not. The
// inputs are fixed, so the result is deterministic.
func TestKeyGroupsSpreadEvenly(t *testing.T) {
	const (
		n    = 1_000_000
		maxP = 128
		tol  = 0.05
	)
	hs, err := HasherFor[string]()
	if err != nil {
		t.Fatal(err)
	}
	hi, err := HasherFor[int64]()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		hash func(i int) uint64
	}{
		{"string key-0..key-999999", func(i int) uint64 { return hs("key-" + strconv.Itoa(i)) }},
		{"int64 0..999999", func(i int) uint64 { return hi(int64(i)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var counts [maxP]int
			for i := range n {
				counts[KeyGroupForHash(tc.hash(i), maxP)]++
			}
			mean := float64(n) / maxP
			for kg, c := range counts {
				if d := float64(c) - mean; d > tol*mean || d < -tol*mean {
					t.Errorf("key group %d holds %d keys; mean %.1f, bound ±%.0f%%", kg, c, mean, tol*100)
				}
			}
			for p := 1; p <= 8; p++ {
				per := make([]int, p)
				for kg, c := range counts {
					per[SubtaskForKeyGroup(kg, maxP, p)] += c
				}
				for s, got := range per {
					want := float64(n) * float64(KeyGroupRangeForSubtask(s, maxP, p).Len()) / maxP
					if d := float64(got) - want; d > tol*want || d < -tol*want {
						t.Errorf("parallelism %d: subtask %d holds %d keys, proportional share %.0f, bound ±%.0f%%", p, s, got, want, tol*100)
					}
				}
			}
		})
	}
}
