package state

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkValueStateUpdate measures the per-record cost of keyed state in the
// heap backend: SetCurrentKey (hash and key group) and ValueState.Update, over
// keys already present (steady state, no map growth), visited in a shuffled order.
func BenchmarkValueStateUpdate(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		b.Run(fmt.Sprintf("keys=%s", countName(n)), func(b *testing.B) {
			hash, err := HasherFor[int64]()
			if err != nil {
				b.Fatal(err)
			}
			be := NewHeapKeyedBackend(KeyGroupRange{Start: 0, End: DefaultMaxParallelism - 1}, DefaultMaxParallelism, hash, nil)
			v, err := GetValueState(be, ValueStateDescriptor[int64]{Name: "v"})
			if err != nil {
				b.Fatal(err)
			}
			keys := make([]int64, n)
			for i := range keys {
				keys[i] = int64(i)
				_ = be.SetCurrentKey(keys[i])
				v.Update(0)
			}
			r := rand.New(rand.NewPCG(1, 2))
			r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
			i := 0
			for b.Loop() {
				k := keys[i]
				if err := be.SetCurrentKey(k); err != nil {
					b.Fatal(err)
				}
				v.Update(k)
				i++
				if i == n {
					i = 0
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "updates/s")
		})
	}
}

// BenchmarkTimerRegisterFire registers n event-time timers for 1024 keys at
// scattered timestamps, each with SetCurrentKey, and fires them all with one
// watermark. It reports the cost per timer (register and fire).
func BenchmarkTimerRegisterFire(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("timers=%s", countName(n)), func(b *testing.B) {
			hash, err := HasherFor[int64]()
			if err != nil {
				b.Fatal(err)
			}
			be := NewHeapKeyedBackend(KeyGroupRange{Start: 0, End: DefaultMaxParallelism - 1}, DefaultMaxParallelism, hash, nil)
			ts := NewTimerService[int64, struct{}](be)
			r := rand.New(rand.NewPCG(3, 4))
			type reg struct{ key, at int64 }
			regs := make([]reg, n)
			for i := range regs {
				regs[i] = reg{key: int64(r.IntN(1024)), at: int64(r.IntN(50 * n))}
			}
			var base int64
			fire := func(int64, struct{}, int64) error { return nil }
			for b.Loop() {
				for _, g := range regs {
					if err := be.SetCurrentKey(g.key); err != nil {
						b.Fatal(err)
					}
					ts.RegisterEventTimeTimer(struct{}{}, base+g.at)
				}
				base += int64(50 * n)
				if err := ts.AdvanceWatermark(base, fire); err != nil {
					b.Fatal(err)
				}
			}
			if ts.NumEventTimeTimers() != 0 {
				b.Fatalf("%d timers left", ts.NumEventTimeTimers())
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/timer")
		})
	}
}

func countName(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1_000 && n%1_000 == 0:
		return fmt.Sprintf("%dK", n/1_000)
	}
	return fmt.Sprint(n)
}
