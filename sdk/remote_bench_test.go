//go:build unix

package sdk_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/master/jobmanager"
	"github.com/spate-io/spate/master/jobmaster"
	"github.com/spate-io/spate/sdk"
	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/transport"
)

// record100 is exactly 100 bytes once Avro-encoded: the key a long of 8
// bytes (every key is at least 2^48), the payload 90 bytes after a length of
// 2.
type record100 struct {
	Key     int64
	Payload string
}

var payload90 = strings.Repeat("x", 90)

// exchangeMaxParallelism is the benchmark job's number of key groups.
const exchangeMaxParallelism = 128

// crossingKeys are, for each sink subtask of the keyed exchange at p=2, keys
// whose key group it owns.
var crossingKeys = sync.OnceValue(func() [2][]int64 {
	hash, err := state.HasherFor[int64]()
	if err != nil {
		panic(err)
	}
	const n = 1024
	var keys [2][]int64
	for k := int64(1 << 48); len(keys[0]) < n || len(keys[1]) < n; k++ {
		s := state.SubtaskForKeyGroup(state.KeyGroupForHash(hash(k), exchangeMaxParallelism), exchangeMaxParallelism, 2)
		if len(keys[s]) < n {
			keys[s] = append(keys[s], k)
		}
	}
	return keys
})

// crossingRecord is record i of the benchmark's generator. The generator
// deals indexes round-robin (source subtask s makes the i with i%2 == s), and
// record i's key belongs to the other sink subtask: every record crosses
// from one slot to the other, so between TaskManagers every record crosses
// TCP.
func crossingRecord(i int64) record100 {
	keys := crossingKeys()[1-i%2]
	return record100{Key: keys[i/2%int64(len(keys))], Payload: payload90}
}

// exchangeJob builds the benchmark's job on env: a generator of records
// 100-byte records at p=2, keyed by Key into a sink at p=2 that checks each
// record's payload. The JobManager and the TaskManagers build it alike.
func exchangeJob(env *sdk.Env, records int64, credits int) {
	env.SetParallelism(2).SetMaxParallelism(exchangeMaxParallelism).Configure("execution.runtime-mode", "streaming").
		Configure("taskmanager.network.memory.buffers-per-channel", strconv.Itoa(credits))
	src := sdk.Generate(env, records, crossingRecord)
	sdk.SinkFunc(sdk.KeyBy(src, func(r record100) int64 { return r.Key }).Stream(), func(batch []record100) error {
		for _, r := range batch {
			if r.Payload != payload90 {
				return fmt.Errorf("record %d: payload of %d bytes, want %q", r.Key, len(r.Payload), payload90)
			}
		}
		return nil
	})
}

// The TaskManager processes of BenchmarkExchange100B: the test binary
// started with envExchangeTM set to "records credits" runs exchangeJob as a
// TaskManager of the benchmark's JobManager (SPATE_ROLE=taskmanager, the
// cluster settings in SPATE_PROPERTIES). On stdin it answers "stats" with
// "stats <cpu-ns> <bytes-written>" (its user and system time, and the bytes
// its system calls wrote, -1 where the system does not say), and
// "stop-profile" with "stopped" once its CPU profile (envExchangeProfile) is
// written. It exits when stdin closes, so a benchmark that dies leaves no
// process behind.
const (
	envExchangeTM      = "SPATE_BENCH_EXCHANGE_TM"
	envExchangeProfile = "SPATE_BENCH_EXCHANGE_CPUPROFILE"
)

// TestMain runs a TaskManager process of BenchmarkExchange100B when asked
// to, else the tests.
func TestMain(m *testing.M) {
	if args := os.Getenv(envExchangeTM); args != "" {
		exchangeTaskManager(args)
	}
	os.Exit(m.Run())
}

func exchangeTaskManager(args string) {
	var records int64
	var credits int
	if _, err := fmt.Sscan(args, &records, &credits); err != nil {
		fmt.Fprintf(os.Stderr, "%s=%q: want \"records credits\": %v\n", envExchangeTM, args, err)
		os.Exit(2)
	}
	if path := os.Getenv(envExchangeProfile); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "cpu profile:", err)
			os.Exit(2)
		}
	}
	go func() {
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			switch in.Text() {
			case "stats":
				fmt.Printf("stats %d %d\n", processCPU(), bytesWritten())
			case "stop-profile":
				pprof.StopCPUProfile()
				fmt.Println("stopped")
			}
		}
		os.Exit(0)
	}()
	env := sdk.NewEnv(sdk.WithLogger(zerolog.New(os.Stderr).Level(zerolog.WarnLevel)))
	exchangeJob(env, records, credits)
	_, err := env.Execute(context.Background(), "exchange") // as a TaskManager: exits
	fmt.Fprintln(os.Stderr, "taskmanager:", err)
	os.Exit(1)
}

// processCPU is the user and system time this process has used, in
// nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// bytesWritten is what this process's write system calls wrote (Linux's
// /proc/self/io wchar), or -1 where the system does not say.
func bytesWritten() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				return n
			}
		}
	}
	return -1
}

// exchangeCluster is a JobManager shell in the benchmark's process and
// TaskManager processes of the test binary that registered with it.
type exchangeCluster struct {
	jm  *jobmanager.JobManager
	tms []*exchangeTM
}

type exchangeTM struct {
	name    string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	out     *bufio.Scanner
	profile bool // writes a CPU profile
}

// startExchangeCluster starts the JobManager and n TaskManager processes of
// one slot each, for jobs of records records under credits credits.
func startExchangeCluster(b *testing.B, n int, records int64, credits int) *exchangeCluster {
	b.Helper()
	dir := b.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := transport.GenerateSecretFile(secret); err != nil {
		b.Fatal(err)
	}
	key, err := transport.LoadSecret(secret)
	if err != nil {
		b.Fatal(err)
	}
	auth, err := transport.NewSharedSecret(key)
	if err != nil {
		b.Fatal(err)
	}
	jm, err := jobmanager.Start(jobmanager.Config{Address: "127.0.0.1:0", Auth: auth, HeartbeatTimeout: time.Minute,
		SlotRequestTimeout: time.Minute, Log: zerolog.New(io.Discard)})
	if err != nil {
		b.Fatal(err)
	}
	c := &exchangeCluster{jm: jm}
	b.Cleanup(c.stop)
	_, port, _ := net.SplitHostPort(jm.Addr())
	props := strings.Join([]string{
		"security.cluster.secret-file=" + secret,
		"jobmanager.rpc.address=127.0.0.1",
		"jobmanager.rpc.port=" + port,
		"taskmanager.host=127.0.0.1",
		"taskmanager.numberOfTaskSlots=1",
	}, "\n")
	profile := ""
	if f := flag.Lookup("test.cpuprofile"); f != nil && f.Value.String() != "" {
		profile = f.Value.String()
		if d := flag.Lookup("test.outputdir"); d != nil && d.Value.String() != "" && !filepath.IsAbs(profile) {
			profile = filepath.Join(d.Value.String(), profile)
		}
	}
	for i := range n {
		name := fmt.Sprintf("bench-tm-%d", i)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d %d", envExchangeTM, records, credits),
			"SPATE_ROLE=taskmanager", "SPATE_PROPERTIES="+props, sdk.EnvTaskManagerName+"="+name)
		if profile != "" {
			cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%s.%s.tm-%d", envExchangeProfile, profile, strings.ReplaceAll(b.Name(), "/", "-"), i))
		}
		stdin, err := cmd.StdinPipe()
		if err != nil {
			b.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		c.tms = append(c.tms, &exchangeTM{name: name, cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout), profile: profile != ""})
	}
	return c
}

// ask sends a line to TaskManager tm and returns its answer.
func (c *exchangeCluster) ask(b *testing.B, tm int, q string) string {
	t := c.tms[tm]
	if _, err := fmt.Fprintln(t.stdin, q); err != nil {
		b.Fatalf("TaskManager %d: %v", tm, err)
	}
	if !t.out.Scan() {
		b.Fatalf("TaskManager %d ended: %v", tm, t.out.Err())
	}
	return t.out.Text()
}

// stats sums the TaskManagers' CPU time and bytes written (-1: unknown).
func (c *exchangeCluster) stats(b *testing.B) (cpu time.Duration, written int64) {
	for i := range c.tms {
		var ns, w int64
		if _, err := fmt.Sscanf(c.ask(b, i, "stats"), "stats %d %d", &ns, &w); err != nil {
			b.Fatalf("TaskManager %d: %v", i, err)
		}
		cpu += time.Duration(ns)
		if w < 0 || written < 0 {
			written = -1
		} else {
			written += w
		}
	}
	return cpu, written
}

// stop ends the TaskManagers (their profiles written first) and the JobManager.
func (c *exchangeCluster) stop() {
	for _, t := range c.tms {
		if t.profile {
			fmt.Fprintln(t.stdin, "stop-profile")
			t.out.Scan()
		}
		t.stdin.Close()
	}
	for _, t := range c.tms {
		if err := t.cmd.Wait(); err != nil {
			fmt.Fprintf(os.Stderr, "TaskManager %s: %v\n", t.name, err)
		}
	}
	c.jm.Close()
}

// deploy makes a job run on the cluster's TaskManagers.
func (c *exchangeCluster) deploy() sdk.Option {
	return sdk.WithDeployOptions(func(o *jobmaster.Options) {
		o.Slots, o.Gateway, o.Registered, o.TaskManagers = c.jm.Slots(), c.jm.Gateway, c.jm.Serve, nil
	})
}

// BenchmarkExchange100B: a keyed exchange of 100-byte records (exactly 100
// bytes Avro-encoded) from a generator at p=2 to a sink at p=2, in which every
// record goes to the other subtask (crossingRecord): on the embedded cluster
// (one process, typed buffers handed over in memory), and between two
// TaskManager processes of one slot each (the test binary re-executed as
// SPATE_ROLE=taskmanager; this process is their JobManager), where every
// record crosses loopback TCP, Avro-encoded in buffers under credit-based
// flow control, on the one connection each way between the two. Raw loopback
// TCP, one connection moving as many bytes in 32 KiB writes, is measured
// first in the same run.
//
// records/s and MB/s count the records the sink got, 100 bytes each; between
// TaskManagers these are also the records that crossed TCP. "%raw-tcp" is
// that MB/s as a share of raw TCP's MB/s in this run (the goal is
// 40). "wire-MB/s" is what the TaskManager processes' write system calls
// wrote, per second (Linux only): the records with their framing, plus the
// little the control plane sends. "hop-ns/record" is the cost of the hop:
// the nanoseconds per record above the embedded run's. Each job's deployment
// is in the time; the first job, which waits for the TaskManagers to
// register, is not. On a shared machine the rates move with the load of
// others; "cpu-ns/record" (user and system time per record of every process
// involved, garbage collection included) moves less.
//
// With -cpuprofile, each TaskManager writes its own profile beside it
// (<profile>.<benchmark>.tm-<n>).
func BenchmarkExchange100B(b *testing.B) {
	const records = 1_000_000
	var rawMBs, embeddedNs float64 // of the runs above, in this run
	// run runs the job, on cluster if not nil, and reports.
	run := func(b *testing.B, credits int, cluster *exchangeCluster) (nsPerRecord float64) {
		job := func() {
			opts := []sdk.Option{sdk.WithLogger(zerolog.New(io.Discard))}
			if cluster != nil {
				opts = append(opts, cluster.deploy())
			}
			env := sdk.NewEnv(opts...)
			exchangeJob(env, records, credits)
			res, err := env.Execute(context.Background(), "exchange")
			if err != nil {
				b.Fatal(err)
			}
			if sink, _ := res.Operator("Sink: func"); sink.RecordsIn != records {
				b.Fatalf("the sink got %d records, want %d", sink.RecordsIn, records)
			}
		}
		var tmCPU time.Duration
		var written int64
		if cluster != nil {
			job() // waits for the TaskManagers
			tmCPU, written = cluster.stats(b)
		}
		var total int64
		cpu := processCPU()
		for b.Loop() {
			job()
			total += records
		}
		secs := b.Elapsed().Seconds()
		used := time.Duration(processCPU() - cpu)
		if cluster != nil {
			after, w := cluster.stats(b)
			used += after - tmCPU
			if w >= 0 && written >= 0 {
				b.ReportMetric(float64(w-written)/secs/1e6, "wire-MB/s")
			}
		}
		b.ReportMetric(float64(used)/float64(total), "cpu-ns/record")
		mbs := float64(total) * 100 / secs / 1e6
		b.ReportMetric(float64(total)/secs, "records/s")
		b.ReportMetric(mbs, "MB/s")
		nsPerRecord = secs * 1e9 / float64(total)
		if cluster != nil && rawMBs > 0 {
			b.ReportMetric(100*mbs/rawMBs, "%raw-tcp")
		}
		if cluster != nil && embeddedNs > 0 {
			b.ReportMetric(nsPerRecord-embeddedNs, "hop-ns/record")
		}
		return nsPerRecord
	}
	b.Run("raw-tcp", func(b *testing.B) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		go func() {
			c, err := l.Accept()
			if err == nil {
				_, _ = io.Copy(io.Discard, c)
				c.Close()
			}
		}()
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		buf := make([]byte, 32<<10)
		var bytes int64
		cpu := processCPU()
		for b.Loop() {
			for sent := 0; sent < records*100; sent += len(buf) {
				if _, err := c.Write(buf); err != nil {
					b.Fatal(err)
				}
			}
			bytes += records * 100
		}
		rawMBs = float64(bytes) / b.Elapsed().Seconds() / 1e6
		b.ReportMetric(float64(processCPU()-cpu)/float64(bytes/100), "cpu-ns/record")
		b.ReportMetric(float64(bytes)/100/b.Elapsed().Seconds(), "records/s")
		b.ReportMetric(rawMBs, "MB/s")
	})
	b.Run("embedded", func(b *testing.B) { embeddedNs = run(b, 2, nil) })
	for _, credits := range []int{2, 8} {
		name := "tcp"
		if credits != 2 {
			name = fmt.Sprintf("tcp-%d-credits", credits)
		}
		b.Run(name, func(b *testing.B) {
			run(b, credits, startExchangeCluster(b, 2, records, credits))
		})
	}
}
