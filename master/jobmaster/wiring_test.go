package jobmaster

import (
	"fmt"
	"slices"
	"testing"

	"github.com/spate-io/spate/sdk/graph"
)

// pairs is the producer→consumer relation of one edge, as a set.
type pairs map[[2]int]bool

func relationFromConsumers(p graph.Partitioner, up, down int) pairs {
	out := pairs{}
	for prod := range up {
		for _, c := range consumersOf(p, up, down, prod) {
			out[[2]int{prod, c}] = true
		}
	}
	return out
}

func relationFromProducers(p graph.Partitioner, up, down int) pairs {
	out := pairs{}
	for c := range down {
		for _, prod := range producersOf(p, up, down, c) {
			out[[2]int{prod, c}] = true
		}
	}
	return out
}

// checkWiring verifies the properties every partitioner's wiring must have.
func checkWiring(t *testing.T, p graph.Partitioner, up, down int) {
	t.Helper()
	name := fmt.Sprintf("%s up=%d down=%d", p, up, down)
	byCons, byProd := relationFromConsumers(p, up, down), relationFromProducers(p, up, down)
	for pair := range byCons {
		if !byProd[pair] {
			t.Fatalf("%s: consumersOf lists %d→%d, producersOf does not", name, pair[0], pair[1])
		}
	}
	for pair := range byProd {
		if !byCons[pair] {
			t.Fatalf("%s: producersOf lists %d→%d, consumersOf does not", name, pair[0], pair[1])
		}
	}
	for prod := range up {
		cs := consumersOf(p, up, down, prod)
		if len(cs) == 0 {
			t.Fatalf("%s: producer %d feeds no consumer", name, prod)
		}
		if !slices.IsSorted(cs) || len(slices.Compact(slices.Clone(cs))) != len(cs) {
			t.Fatalf("%s: consumersOf(%d) = %v, want ascending without repeats", name, prod, cs)
		}
		for _, c := range cs {
			if c < 0 || c >= down {
				t.Fatalf("%s: consumersOf(%d) = %v out of range", name, prod, cs)
			}
		}
	}
	for c := range down {
		ps := producersOf(p, up, down, c)
		if len(ps) == 0 {
			t.Fatalf("%s: consumer %d has no producer", name, c)
		}
		if !slices.IsSorted(ps) || len(slices.Compact(slices.Clone(ps))) != len(ps) {
			t.Fatalf("%s: producersOf(%d) = %v, want ascending without repeats", name, c, ps)
		}
	}
}

func TestForwardWiring(t *testing.T) {
	for n := 1; n <= 16; n++ {
		checkWiring(t, graph.Forward, n, n)
		for i := range n {
			if got := consumersOf(graph.Forward, n, n, i); !slices.Equal(got, []int{i}) {
				t.Fatalf("forward n=%d: consumersOf(%d) = %v, want [%d]", n, i, got, i)
			}
			if got := producersOf(graph.Forward, n, n, i); !slices.Equal(got, []int{i}) {
				t.Fatalf("forward n=%d: producersOf(%d) = %v, want [%d]", n, i, got, i)
			}
		}
	}
}

func TestAllToAllWiring(t *testing.T) {
	for _, p := range []graph.Partitioner{graph.Rebalance, graph.Hash, graph.Broadcast, graph.Global} {
		for up := 1; up <= 9; up++ {
			for down := 1; down <= 9; down++ {
				checkWiring(t, p, up, down)
				all := func(n int) []int {
					out := make([]int, n)
					for i := range out {
						out[i] = i
					}
					return out
				}
				for prod := range up {
					if got := consumersOf(p, up, down, prod); !slices.Equal(got, all(down)) {
						t.Fatalf("%s up=%d down=%d: consumersOf(%d) = %v", p, up, down, prod, got)
					}
				}
				for c := range down {
					if got := producersOf(p, up, down, c); !slices.Equal(got, all(up)) {
						t.Fatalf("%s up=%d down=%d: producersOf(%d) = %v", p, up, down, c, got)
					}
				}
			}
		}
	}
}

// TestRescaleWiring checks the pointwise pattern against its definition:
// up ≥ down: consumer j is fed by producers [j*up/down, (j+1)*up/down) (Flink's
// EdgeManagerBuildUtil.connectPointwise);
// up < down: consumer j is fed by producer j*up/down only.
// Either way the fan-in (or fan-out) is contiguous and balanced: every consumer
// gets ⌊up/down⌋ or ⌈up/down⌉ producers, every producer ⌊down/up⌋ or ⌈down/up⌉
// consumers.
func TestRescaleWiring(t *testing.T) {
	for up := 1; up <= 24; up++ {
		for down := 1; down <= 24; down++ {
			checkWiring(t, graph.Rescale, up, down)
			name := fmt.Sprintf("rescale up=%d down=%d", up, down)
			if up >= down {
				for j := range down {
					var want []int
					for i := j * up / down; i < (j+1)*up/down; i++ {
						want = append(want, i)
					}
					if got := producersOf(graph.Rescale, up, down, j); !slices.Equal(got, want) {
						t.Fatalf("%s: producersOf(%d) = %v, want %v", name, j, got, want)
					}
				}
				for j := range down {
					ps := producersOf(graph.Rescale, up, down, j)
					if n := len(ps); n != up/down && n != (up+down-1)/down {
						t.Fatalf("%s: consumer %d has %d producers %v, want %d or %d", name, j, n, ps, up/down, (up+down-1)/down)
					}
					if ps[len(ps)-1]-ps[0] != len(ps)-1 {
						t.Fatalf("%s: consumer %d's producers %v are not contiguous", name, j, ps)
					}
				}
			} else {
				for j := range down {
					if got, want := producersOf(graph.Rescale, up, down, j), []int{j * up / down}; !slices.Equal(got, want) {
						t.Fatalf("%s: producersOf(%d) = %v, want %v", name, j, got, want)
					}
				}
				for i := range up {
					cs := consumersOf(graph.Rescale, up, down, i)
					if n := len(cs); n != down/up && n != (down+up-1)/up {
						t.Fatalf("%s: producer %d feeds %d consumers %v, want %d or %d", name, i, n, cs, down/up, (down+up-1)/up)
					}
					if cs[len(cs)-1]-cs[0] != len(cs)-1 {
						t.Fatalf("%s: producer %d's consumers %v are not contiguous", name, i, cs)
					}
				}
			}
		}
	}
}

// TestRescaleWiringExamples pins a few small cases outright.
func TestRescaleWiringExamples(t *testing.T) {
	for _, c := range []struct {
		up, down  int
		consumers [][]int // per producer
	}{
		{4, 2, [][]int{{0}, {0}, {1}, {1}}},
		// As Flink's EdgeManagerBuildUtil.connectPointwise: consumer j ←
		// producers [j*up/down, (j+1)*up/down).
		{3, 2, [][]int{{0}, {1}, {1}}},
		{5, 3, [][]int{{0}, {1}, {1}, {2}, {2}}},
		{2, 4, [][]int{{0, 1}, {2, 3}}},
		{2, 3, [][]int{{0, 1}, {2}}},
		{3, 3, [][]int{{0}, {1}, {2}}},
		{1, 3, [][]int{{0, 1, 2}}},
		{3, 1, [][]int{{0}, {0}, {0}}},
	} {
		for prod, want := range c.consumers {
			if got := consumersOf(graph.Rescale, c.up, c.down, prod); !slices.Equal(got, want) {
				t.Errorf("rescale %d→%d: consumersOf(%d) = %v, want %v", c.up, c.down, prod, got, want)
			}
		}
	}
}
