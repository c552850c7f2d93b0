package jobmaster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/master/resource"
	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/worker/network"
	"github.com/spate-io/spate/worker/task"
)

// Options configure one deployment.
type Options struct {
	Slots         *resource.SlotPool
	BatchSize     int
	Credits       int // buffers per channel
	BufferTimeout time.Duration
	BatchMode     bool
	// WatermarkInterval is pipeline.auto-watermark-interval.
	WatermarkInterval time.Duration
	// ExactlyOnce aligns checkpoint barriers; Checkpoints receives every task's
	// acknowledgement (nil: checkpointing off).
	ExactlyOnce bool
	Checkpoints task.CheckpointResponder
	Log         zerolog.Logger
}

// ErrJobCancelled is the error of a job stopped by its caller.
var ErrJobCancelled = errors.New("job cancelled")

// Job is a deployed, running job.
type Job struct {
	ID      string
	graph   *graph.JobGraph
	slots   []resource.SlotID
	pool    *resource.SlotPool
	tasks   []*deployedTask
	gates   []task.Gate
	start   time.Time
	cancel  context.CancelFunc
	log     zerolog.Logger
	wg      sync.WaitGroup
	mu      sync.Mutex
	err     error
	done    chan struct{}
	result  *Result
	userCtx context.Context
}

type deployedTask struct {
	chain   *graph.Chain
	subtask int
	slot    resource.SlotID
	task    *task.Task
	inputs  []task.Gate
}

// Result is what a finished job reports.
type Result struct {
	JobID     string
	JobName   string
	Duration  time.Duration
	Operators []OperatorResult
}

// OperatorResult sums one operator's metrics over its subtasks.
type OperatorResult struct {
	ID          string
	Name        string
	Parallelism int
	RecordsIn   int64
	RecordsOut  int64
}

// Operator returns the result of the operator with the given name, if any.
func (r *Result) Operator(name string) (OperatorResult, bool) {
	for _, o := range r.Operators {
		if o.Name == name {
			return o, true
		}
	}
	return OperatorResult{}, false
}

type gateKey struct{ chain, subtask, side int }

// Deploy builds the ExecutionGraph of a finalized graph and starts its tasks.
func Deploy(ctx context.Context, g *graph.JobGraph, o Options) (*Job, error) {
	if !g.Finalized() {
		return nil, fmt.Errorf("deploy %q: the job graph is not finalized", g.Name)
	}
	for _, n := range g.Nodes {
		if p, ok := n.Factory.(task.Preparer); ok {
			if err := p.Prepare(n.Parallelism); err != nil {
				return nil, fmt.Errorf("%s: %w", n.Name, err)
			}
		}
	}
	slots, err := o.Slots.Allocate(g.MaxChainParallelism())
	if err != nil {
		return nil, err
	}
	jobCtx, cancel := context.WithCancel(ctx)
	j := &Job{ID: newJobID(), graph: g, slots: slots, pool: o.Slots, cancel: cancel, done: make(chan struct{}), userCtx: ctx}
	j.log = o.Log.With().Str("job", j.ID).Logger()
	if err := j.build(o); err != nil {
		cancel()
		o.Slots.Release(slots)
		return nil, err
	}
	j.start = time.Now()
	j.log.Info().Str("name", g.Name).Int("tasks", len(j.tasks)).Int("slots", len(slots)).Msg("job started")
	for _, dt := range j.tasks {
		j.wg.Add(1)
		go j.run(jobCtx, dt)
	}
	go j.finish()
	return j, nil
}

func (j *Job) build(o Options) error {
	g := j.graph
	notify := map[[2]int]chan struct{}{} // (chain, subtask) -> wake-ups
	for _, c := range g.Chains {
		for s := range c.Parallelism {
			notify[[2]int{c.Index, s}] = make(chan struct{}, 1)
		}
	}
	// Gates first: count the channels of each (chain head, side, consumer subtask)
	// and remember which channel each (edge, producer, consumer) gets.
	gates := map[gateKey]task.Gate{}
	type chanKey struct{ edge, producer, consumer int }
	chanIndex := map[chanKey]int{}
	for _, c := range g.Chains {
		head := g.Nodes[c.Head]
		sides := 0
		for _, ei := range head.Inputs {
			sides = max(sides, g.Edges[ei].Side+1)
		}
		for side := range sides {
			var st task.StreamType
			for sub := range c.Parallelism {
				n := 0
				for _, ei := range head.Inputs {
					e := g.Edges[ei]
					if e.Side != side {
						continue
					}
					up := g.Nodes[e.Source]
					st = task.EdgeType(g, e)
					for _, prod := range producersOf(e.Partitioner, up.Parallelism, head.Parallelism, sub) {
						chanIndex[chanKey{ei, prod, sub}] = n
						n++
					}
				}
				gk := gateKey{c.Index, sub, side}
				gates[gk] = st.NewGate(n, o.Credits, o.BatchSize, notify[[2]int{c.Index, sub}])
				j.gates = append(j.gates, gates[gk])
			}
		}
	}
	for _, c := range g.Chains {
		for sub := range c.Parallelism {
			d := task.Deployment{Graph: g, Chain: c, Subtask: sub, Outputs: map[int][]task.ChannelRef{},
				Notify: notify[[2]int{c.Index, sub}], BatchSize: o.BatchSize, BufferTimeout: o.BufferTimeout,
				BatchMode: o.BatchMode, WatermarkInterval: o.WatermarkInterval,
				ExactlyOnce: o.ExactlyOnce, Checkpoints: o.Checkpoints, Log: j.log}
			for side := 0; ; side++ {
				gt, ok := gates[gateKey{c.Index, sub, side}]
				if !ok {
					break
				}
				d.Inputs = append(d.Inputs, gt)
			}
			for _, ni := range c.Nodes {
				for _, ei := range g.Nodes[ni].Outputs {
					e := g.Edges[ei]
					if e.Chained {
						continue
					}
					down := g.Nodes[e.Target]
					var refs []task.ChannelRef
					for _, cons := range consumersOf(e.Partitioner, c.Parallelism, down.Parallelism, sub) {
						refs = append(refs, task.ChannelRef{Gate: gates[gateKey{down.Chain, cons, e.Side}], Index: chanIndex[chanKey{ei, sub, cons}]})
					}
					d.Outputs[ei] = refs
				}
			}
			t, err := task.Build(d)
			if err != nil {
				j.closeTasks()
				return err
			}
			j.tasks = append(j.tasks, &deployedTask{chain: c, subtask: sub, slot: j.slots[sub], task: t, inputs: d.Inputs})
		}
	}
	return nil
}

// closeTasks releases tasks that were built but never run.
func (j *Job) closeTasks() {
	for _, dt := range j.tasks {
		_ = dt.task.Run(canceledContext()) // Run closes the operators
	}
	j.tasks = nil
}

func canceledContext() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// consumerRange is the consumer subtasks [lo, hi) that producer subtask i feeds.
// Pointwise edges follow Flink's pattern (EdgeManagerBuildUtil.connectPointwise):
// with up ≥ down, consumer j reads producers [j*up/down, (j+1)*up/down); with
// up < down, consumer j reads producer j*up/down.
func consumerRange(p graph.Partitioner, up, down, i int) (lo, hi int) {
	switch {
	case !p.Pointwise():
		return 0, down
	case up >= down:
		j := ((i+1)*down - 1) / up
		return j, j + 1
	default:
		return (i*down + up - 1) / up, ((i+1)*down + up - 1) / up
	}
}

// producerRange is the producer subtasks [lo, hi) that feed consumer subtask c.
func producerRange(p graph.Partitioner, up, down, c int) (lo, hi int) {
	switch {
	case !p.Pointwise():
		return 0, up
	case up >= down:
		return c * up / down, (c + 1) * up / down
	default:
		lo = c * up / down
		return lo, lo + 1
	}
}

func span(lo, hi int) []int {
	out := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

// consumersOf lists the consumer subtasks producer subtask `producer` feeds.
func consumersOf(p graph.Partitioner, up, down, producer int) []int {
	return span(consumerRange(p, up, down, producer))
}

// producersOf lists the producer subtasks that feed consumer subtask `consumer`.
func producersOf(p graph.Partitioner, up, down, consumer int) []int {
	return span(producerRange(p, up, down, consumer))
}

func (j *Job) run(ctx context.Context, dt *deployedTask) {
	defer j.wg.Done()
	err := dt.task.Run(ctx)
	if err == nil {
		return
	}
	j.mu.Lock()
	first := j.err == nil
	if first {
		if ctx.Err() != nil && j.userCtx.Err() != nil {
			j.err = fmt.Errorf("%w: %w", ErrJobCancelled, context.Cause(j.userCtx))
		} else {
			j.err = err
		}
	}
	j.mu.Unlock()
	if first {
		j.log.Debug().Err(err).Str("task", dt.chain.Name).Int("subtask", dt.subtask).Msg("task failed; cancelling the job")
		j.cancel()
		for _, g := range j.gates {
			g.Close(network.ErrGateClosed)
		}
	}
}

func (j *Job) finish() {
	j.wg.Wait()
	j.cancel()
	j.pool.Release(j.slots)
	r := &Result{JobID: j.ID, JobName: j.graph.Name, Duration: time.Since(j.start), Operators: j.operatorResults()}
	j.mu.Lock()
	if j.err == nil && j.userCtx.Err() != nil {
		j.err = fmt.Errorf("%w: %w", ErrJobCancelled, context.Cause(j.userCtx))
	}
	j.result = r
	err := j.err
	j.mu.Unlock()
	if err != nil {
		j.log.Info().Err(err).Dur("duration", r.Duration).Msg("job failed")
	} else {
		j.log.Info().Dur("duration", r.Duration).Msg("job finished")
	}
	close(j.done)
}

func (j *Job) operatorResults() []OperatorResult {
	g := j.graph
	out := make([]OperatorResult, len(g.Nodes))
	for i, n := range g.Nodes {
		out[i] = OperatorResult{ID: n.ID, Name: n.Name, Parallelism: n.Parallelism}
	}
	for _, dt := range j.tasks {
		for ni, m := range dt.task.Metrics {
			out[ni].RecordsIn += m.RecordsIn.Load()
			out[ni].RecordsOut += m.RecordsOut.Load()
		}
	}
	return out
}

// Done is closed when every task has ended.
func (j *Job) Done() <-chan struct{} { return j.done }

// Wait blocks until the job ends and returns its result; the error is the first
// task failure, if any. The result is returned in both cases.
func (j *Job) Wait() (*Result, error) {
	<-j.done
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.result, j.err
}

// TriggerCheckpoint injects the barrier of checkpoint id at every source
// subtask. It reports which subtasks could not take it (full mailbox).
func (j *Job) TriggerCheckpoint(id, timestamp int64, savepoint bool) []string {
	var missed []string
	for _, dt := range j.tasks {
		if j.graph.Nodes[dt.chain.Head].Kind != graph.KindSource {
			continue
		}
		if !dt.task.TriggerCheckpoint(id, timestamp, savepoint) {
			missed = append(missed, fmt.Sprintf("%s (%d)", dt.chain.Name, dt.subtask))
		}
	}
	return missed
}

// NumTasks is the number of deployed subtasks: how many acknowledge a checkpoint.
func (j *Job) NumTasks() int { return len(j.tasks) }

// Cancel stops the job; Wait then returns ErrJobCancelled.
func (j *Job) Cancel() {
	j.mu.Lock()
	if j.err == nil {
		j.err = ErrJobCancelled
	}
	j.mu.Unlock()
	j.cancel()
	for _, g := range j.gates {
		g.Close(ErrJobCancelled)
	}
}

// Progress is a live view of a running job.
type Progress struct {
	Operators []OperatorResult
	Exchanges []ExchangeStats
}

// ExchangeStats is the occupancy of one input gate.
type ExchangeStats struct {
	Task    string
	Subtask int
	Side    int
	network.Stats
	Channels int
}

// Progress returns the job's metrics and the occupancy of its gates now.
func (j *Job) Progress() Progress {
	p := Progress{Operators: j.operatorResults()}
	for _, dt := range j.tasks {
		for side, g := range dt.inputs {
			p.Exchanges = append(p.Exchanges, ExchangeStats{Task: dt.chain.Name, Subtask: dt.subtask, Side: side, Stats: g.Stats(), Channels: g.NumChannels()})
		}
	}
	return p
}

func newJobID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
