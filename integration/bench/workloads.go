package bench

import (
	"strconv"
)

// Sizes are the input sizes of one comparison.
type Sizes struct {
	ChainEvents   int64 // W1
	TextBytes     int64 // W2
	WindowEvents  int64 // W3, each of the three windows
	WindowKeys    int64
	NexmarkEvents int64 // W4
	KeyedEvents   int64 // W5
	Keys          int64
}

// Full is the comparison the issue asks for; Smoke runs every workload on tiny
// inputs, for the test suite.
var (
	Full = Sizes{ChainEvents: 200_000_000, TextBytes: 100 << 20, WindowEvents: 4_000_000, WindowKeys: 1000,
		NexmarkEvents: 10_000_000, KeyedEvents: 20_000_000, Keys: 1_000_000}
	Smoke = Sizes{ChainEvents: 10_000, TextBytes: 20_000, WindowEvents: 20_000, WindowKeys: 1000,
		NexmarkEvents: 20_000, KeyedEvents: 20_000, Keys: 1000}
)

// Binaries are the built programs both systems run.
type Binaries struct {
	SpateJobs, WordCount, Nexmark string // Spate's job binaries
	Java, FlinkClassPath          string
}

// Inputs are the generated input files.
type Inputs struct {
	Text   TextInput
	Events string // W3's CSV
}

// Dirs are one run's directories: Out holds what the job writes (its stdout
// too), Scratch anything else (checkpoints).
type Dirs struct {
	Out, Scratch string
}

// Workload is one job in both systems. Each command leaves its result lines
// in its stdout or in files under dirs.Out; sorted, they must be equal.
type Workload struct {
	Name   string
	Events int64 // input records, for events per CPU-second
	Spate  func(b Binaries, d Dirs) []string
	Flink  func(d Dirs) []string // the arguments of io.spate.bench.Bench
}

// nexmarkFlags are examples/nexmark's defaults, spelled out so both systems get them.
var nexmarkFlags = []string{"--auctions", "1000", "--bids-per-second", "10000", "--window-size", "10000", "--window-slide", "2000"}

// StartUp is the empty job whose wall time is each system's fixed cost.
const StartUp = "start-up (empty W1)"

// Workloads lists W1-W5 (W3 three times) for sizes at parallelism p, after the
// empty job that measures start-up.
func Workloads(s Sizes, in Inputs, p int) []Workload {
	ps := strconv.Itoa(p)
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	chain := func(name string, events int64) Workload {
		return Workload{Name: name, Events: events,
			Spate: func(b Binaries, _ Dirs) []string {
				return []string{b.SpateJobs, "chain", "--events", n(events), "--parallelism", ps}
			},
			Flink: func(d Dirs) []string {
				return []string{"chain", "--events", n(events), "--output", d.Out, "--parallelism", ps}
			},
		}
	}
	window := func(name, spec string) Workload {
		ooo := strconv.Itoa(EventsOutOfOrderness)
		return Workload{Name: name, Events: s.WindowEvents,
			Spate: func(b Binaries, d Dirs) []string {
				return []string{b.SpateJobs, "windowcount", "--input", in.Events, "--window", spec, "--out-of-orderness", ooo,
					"--output", d.Out, "--parallelism", ps}
			},
			Flink: func(d Dirs) []string {
				return []string{"windowcount", "--input", in.Events, "--window", spec, "--out-of-orderness", ooo,
					"--output", d.Out, "--parallelism", ps}
			},
		}
	}
	return []Workload{
		chain(StartUp, 0),
		chain("W1 stateless chain", s.ChainEvents),
		{Name: "W2 wordcount", Events: in.Text.Words,
			Spate: func(b Binaries, d Dirs) []string {
				return []string{b.WordCount, "--input", in.Text.Dir, "--output", d.Out, "--parallelism", ps}
			},
			Flink: func(d Dirs) []string {
				return []string{"wordcount", "--input", in.Text.Dir, "--output", d.Out, "--parallelism", ps}
			},
		},
		window("W3 tumbling 10 s", "tumbling:10000"),
		window("W3 sliding 10 s / 2 s", "sliding:10000:2000"),
		window("W3 session gap 2 s", "session:2000"),
		{Name: "W4 nexmark q5", Events: s.NexmarkEvents,
			Spate: func(b Binaries, _ Dirs) []string {
				return append([]string{b.Nexmark, "--events", n(s.NexmarkEvents), "--parallelism", ps}, nexmarkFlags...)
			},
			Flink: func(d Dirs) []string {
				return append([]string{"nexmark", "--events", n(s.NexmarkEvents), "--output", d.Out, "--parallelism", ps}, nexmarkFlags...)
			},
		},
		{Name: "W5 keyed count, 1 s checkpoints", Events: s.KeyedEvents,
			Spate: func(b Binaries, d Dirs) []string {
				return []string{b.SpateJobs, "keyedcount", "--events", n(s.KeyedEvents), "--keys", n(s.Keys),
					"--checkpoint-interval", "1000", "--checkpoint-dir", d.Scratch, "--parallelism", ps}
			},
			Flink: func(d Dirs) []string {
				return []string{"keyedcount", "--events", n(s.KeyedEvents), "--keys", n(s.Keys),
					"--checkpoint-interval", "1000", "--checkpoint-dir", d.Scratch, "--output", d.Out, "--parallelism", ps}
			},
		},
	}
}
