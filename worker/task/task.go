package task

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/network"
)

// Deployment is everything one subtask of a chain needs to run.
type Deployment struct {
	Graph   *graph.JobGraph
	Chain   *graph.Chain
	Subtask int
	// Inputs holds the head's input gate per input side (none for a source).
	Inputs []Gate
	// Outputs holds, per edge index leaving the chain, the channels this subtask
	// feeds, in consumer subtask order.
	Outputs map[int][]ChannelRef
	// Notify wakes the task when any of its gates has data; the gates were created
	// with it.
	Notify        chan struct{}
	BatchSize     int
	BufferTimeout time.Duration
	BatchMode     bool
	// WatermarkInterval is pipeline.auto-watermark-interval.
	WatermarkInterval time.Duration
	// ExactlyOnce aligns checkpoint barriers (else at-least-once).
	ExactlyOnce bool
	// Checkpoints receives the task's acknowledgements and Storage takes its
	// state files; both nil when checkpointing is off.
	Checkpoints CheckpointResponder
	Storage     CheckpointStorage
	// Restore returns what an operator of this subtask restores from, or nil
	// for a fresh start. Nil means nothing is restored.
	Restore func(operatorID string) *state.Restored
	// Attempt counts the restarts of the job: 0 for the first execution.
	Attempt int
	// Lineage names the chain of runs the job continues (see
	// checkpoint.Metadata.Lineage); sinks record it with what they commit.
	Lineage string
	Log     zerolog.Logger
}

// Task is one running subtask of a chain.
type Task struct {
	Name      string
	Subtask   int
	operators []Operator // topological order, head first
	contexts  []*OperatorContext
	source    Source
	inputs    []inputProcessor
	writers   []ResultWriter
	notify    chan struct{}
	mailbox   chan func() error
	barriers  *BarrierHandler
	responder CheckpointResponder
	storage   CheckpointStorage
	done      chan struct{} // closed when Run returns
	// committers are the operators that commit when the whole job has finished;
	// kept apart because Run closes the operators.
	committers []JobEndCommitter
	stopping   bool           // a stop-with-savepoint barrier left this source
	writing    sync.WaitGroup // asynchronous snapshot writes in flight
	timers     timerHeap
	timerSeq   int64
	log        zerolog.Logger
	// Metrics per chain node, by node index.
	Metrics map[int]*OperatorMetrics
	// IO is what the loop measures of the task's inputs.
	IO TaskIO
}

// Build creates the operators of the chain, wires them and returns the task,
// ready to Run. On error every operator already created is closed.
func Build(d Deployment) (t *Task, err error) {
	g, c := d.Graph, d.Chain
	t = &Task{Name: c.Name, Subtask: d.Subtask, notify: d.Notify, Metrics: map[int]*OperatorMetrics{},
		mailbox: make(chan func() error, 64), responder: d.Checkpoints, storage: d.Storage, done: make(chan struct{}),
		log: d.Log.With().Str("task", c.Name).Int("subtask", d.Subtask).Logger()}
	defer func() {
		if err != nil {
			t.closeAll()
			t = nil
		}
	}()
	inChain := map[int]bool{}
	for _, ni := range c.Nodes {
		inChain[ni] = true
	}
	inputsOf := map[int][]any{}
	ops := make([]Operator, len(c.Nodes))
	ctxs := make([]*OperatorContext, len(c.Nodes))
	// Build tail first: an operator's output is its successors' inputs.
	for i := len(c.Nodes) - 1; i >= 0; i-- {
		n := g.Nodes[c.Nodes[i]]
		f, ok := n.Factory.(Factory)
		if !ok {
			return t, fmt.Errorf("operator %q has no runtime factory (%T)", n.Name, n.Factory)
		}
		ctx := &OperatorContext{
			OperatorID: n.ID, OperatorName: n.Name, TaskName: c.Name,
			Subtask: d.Subtask, Parallelism: n.Parallelism, MaxParallelism: n.MaxParallelism,
			KeyGroups: state.KeyGroupRangeForSubtask(d.Subtask, n.MaxParallelism, n.Parallelism),
			BatchSize: d.BatchSize, BatchMode: d.BatchMode, Metrics: &OperatorMetrics{}, Timers: t,
			WatermarkInterval: d.WatermarkInterval, Checkpointing: d.Checkpoints != nil, Attempt: d.Attempt,
			Lineage: d.Lineage, Log: t.log.With().Str("operator", n.Name).Logger(),
		}
		if d.Restore != nil {
			ctx.Restored = d.Restore(n.ID)
		}
		var outs []any
		sides := map[string][]any{}
		sideTypes := map[string]StreamType{}
		st := f.OutputType()
		for _, ei := range n.Outputs {
			e := g.Edges[ei]
			et := EdgeType(g, e)
			var o any
			if e.Chained && inChain[e.Target] {
				o = inputsOf[e.Target][e.Side]
			} else {
				if et == nil {
					return t, fmt.Errorf("sink %q has an output edge", n.Name)
				}
				refs, ok := d.Outputs[ei]
				if !ok {
					return t, fmt.Errorf("deployment of %q lacks the channels of edge %d", n.Name, ei)
				}
				out, w, err := et.NewWriter(refs, partitioning(e.Partitioner), e.KeyHash, WriterOptions{
					MaxParallelism: n.MaxParallelism, BatchSize: d.BatchSize, BufferTimeout: d.BufferTimeout, StartAt: d.Subtask})
				if err != nil {
					return t, fmt.Errorf("operator %q, edge to %q: %w", n.Name, g.Nodes[e.Target].Name, err)
				}
				o = out
				t.writers = append(t.writers, w)
			}
			if e.Tag != "" {
				sides[e.Tag] = append(sides[e.Tag], o)
				sideTypes[e.Tag] = et
			} else {
				outs = append(outs, o)
			}
		}
		for tag, list := range sides {
			if ctx.SideOutputs == nil {
				ctx.SideOutputs = map[string]any{}
			}
			if len(list) == 1 {
				ctx.SideOutputs[tag] = list[0]
			} else {
				ctx.SideOutputs[tag] = sideTypes[tag].FanOut(list)
			}
		}
		var out any
		switch {
		case st == nil:
		case len(outs) == 0:
			out = st.Discard()
		case len(outs) == 1:
			out = outs[0]
		default:
			out = st.FanOut(outs)
		}
		op, inputs, err := create(f, ctx, out)
		if err != nil {
			return t, ctx.Fail(err)
		}
		ops[i], ctxs[i] = op, ctx
		if c, ok := op.(JobEndCommitter); ok {
			t.committers = append(t.committers, c)
		}
		t.operators = ops // so closeAll sees what exists
		inputsOf[n.Index] = inputs
		t.Metrics[n.Index] = ctx.Metrics
	}
	t.operators, t.contexts = ops, ctxs
	head := g.Nodes[c.Head]
	if head.Kind == graph.KindSource {
		src, ok := ops[0].(Source)
		if !ok {
			return t, fmt.Errorf("source %q does not implement task.Source", head.Name)
		}
		t.source = src
		return t, nil
	}
	if len(d.Inputs) != len(inputsOf[head.Index]) {
		return t, fmt.Errorf("operator %q has %d inputs but %d gates were deployed", head.Name, len(inputsOf[head.Index]), len(d.Inputs))
	}
	t.barriers = NewBarrierHandler(d.Inputs, d.ExactlyOnce, t.checkpoint)
	for side, gate := range d.Inputs {
		up := upstreamType(g, head, side)
		if side >= len(t.IO.InputWatermarks) {
			return t, fmt.Errorf("operator %q has %d inputs; a task reads at most %d", head.Name, len(d.Inputs), len(t.IO.InputWatermarks))
		}
		t.IO.InputWatermarks[side].Store(NoWatermark)
		t.IO.Inputs = side + 1
		in, err := up.newInput(gate, inputsOf[head.Index][side], side, t.barriers, &t.IO.InputWatermarks[side])
		if err != nil {
			return t, fmt.Errorf("operator %q input %d: %w", head.Name, side, err)
		}
		t.inputs = append(t.inputs, in)
	}
	return t, nil
}

// upstreamType is the record type arriving on one input side of node n.
func upstreamType(g *graph.JobGraph, n *graph.Node, side int) StreamType {
	for _, ei := range n.Inputs {
		if e := g.Edges[ei]; e.Side == side {
			return EdgeType(g, e)
		}
	}
	return nil
}

// EdgeType is the record type an edge carries: its side output's type, or the
// main output type of its source.
func EdgeType(g *graph.JobGraph, e *graph.Edge) StreamType {
	if e.Tag != "" {
		st, _ := e.Type.(StreamType)
		return st
	}
	return g.Nodes[e.Source].Factory.(Factory).OutputType()
}

func partitioning(p graph.Partitioner) network.Partitioning {
	switch p {
	case graph.Forward:
		return network.PartitionForward
	case graph.Hash:
		return network.PartitionKeyGroup
	case graph.Broadcast:
		return network.PartitionBroadcast
	case graph.Global:
		return network.PartitionFirst
	default: // rebalance, rescale
		return network.PartitionRoundRobin
	}
}

// Run drives the task until its input ends, it fails, or ctx is cancelled. It
// always closes the operators before it returns.
func (t *Task) Run(ctx context.Context) (err error) {
	defer close(t.done)
	defer func() {
		if r := recover(); r != nil { // outside an operator's own guard, e.g. in a key selector
			err = newPanicError(r)
			if len(t.contexts) > 0 {
				err = t.contexts[0].Fail(err)
			}
		}
		if cerr := t.closeAll(); err == nil {
			err = cerr
		}
	}()
	if t.source != nil {
		if in, ok := t.source.(Interruptible); ok {
			stop := context.AfterFunc(ctx, in.Interrupt)
			defer stop()
		}
		err = t.runSource(ctx)
	} else {
		err = t.runInputs(ctx)
	}
	if err != nil {
		return err
	}
	if t.stopping {
		return t.finishWriters()
	}
	return t.finish()
}

func (t *Task) runSource(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := t.drainMailbox(); err != nil {
			return err
		}
		if t.stopping {
			return nil
		}
		st, err := t.source.PollNext()
		if err != nil {
			return t.contexts[0].Fail(err)
		}
		if err := t.fireTimers(); err != nil {
			return err
		}
		switch st {
		case EndOfInput:
			return nil
		case NothingAvailable:
			if err := t.flush(); err != nil {
				return err
			}
		default:
			if err := t.flushIfDue(); err != nil {
				return err
			}
		}
	}
}

func (t *Task) runInputs(ctx context.Context) error {
	for {
		progressed, open := false, 0
		for _, in := range t.inputs {
			if in.finished() {
				continue
			}
			ok, err := in.processNext()
			if err != nil {
				return err
			}
			progressed = progressed || ok
			if !in.finished() {
				open++
			}
		}
		if open == 0 {
			return nil
		}
		if err := t.fireTimers(); err != nil {
			return err
		}
		if err := t.drainMailbox(); err != nil {
			return err
		}
		if progressed {
			if err := t.flushIfDue(); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			continue
		}
		// Idle: nothing may wait in a half-full buffer while we sleep.
		if err := t.flush(); err != nil {
			return err
		}
		var wake <-chan time.Time
		var tm *time.Timer
		if at, ok := t.nextTimer(); ok {
			tm = time.NewTimer(time.Duration(at-t.Now()) * time.Millisecond)
			wake = tm.C
		}
		idleFrom := time.Now()
		select {
		case <-t.notify:
		case <-wake:
		case f := <-t.mailbox:
			t.IO.IdleNanos.Add(int64(time.Since(idleFrom)))
			idleFrom = time.Time{}
			if err := f(); err != nil {
				if tm != nil {
					tm.Stop()
				}
				return err
			}
		case <-ctx.Done():
		}
		if !idleFrom.IsZero() {
			t.IO.IdleNanos.Add(int64(time.Since(idleFrom)))
		}
		if tm != nil {
			tm.Stop()
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

func (t *Task) flush() error {
	for _, w := range t.writers {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func (t *Task) flushIfDue() error {
	if len(t.writers) == 0 {
		return nil
	}
	now := time.Now()
	for _, w := range t.writers {
		if err := w.FlushIfDue(now); err != nil {
			return err
		}
	}
	return nil
}

// finish ends the operators in topological order, then the writers.
func (t *Task) finish() error {
	if err := t.finishOperators(); err != nil {
		return err
	}
	return t.finishWriters()
}

func (t *Task) finishOperators() error {
	for i, op := range t.operators {
		if err := op.Finish(); err != nil {
			return t.contexts[i].Fail(err)
		}
	}
	return nil
}

func (t *Task) finishWriters() error {
	for _, w := range t.writers {
		if err := w.Finish(); err != nil {
			return err
		}
	}
	return nil
}

func (t *Task) closeAll() error {
	var errs []error
	for _, op := range t.operators {
		if op != nil {
			if err := op.Close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	t.operators = nil
	return errors.Join(errs...)
}

// drainMailbox runs the actions other goroutines queued for this task.
func (t *Task) drainMailbox() error {
	for {
		select {
		case f := <-t.mailbox:
			if err := f(); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

func (t *Task) wakeUp() {
	select {
	case t.notify <- struct{}{}:
	default:
	}
}

// create builds one operator. A panic in it (user code runs there: Open,
// state restore) fails the task like any operator panic.
func create(f Factory, ctx *OperatorContext, out any) (op Operator, inputs []any, err error) {
	defer func() {
		if r := recover(); r != nil {
			op, inputs, err = nil, nil, newPanicError(r)
		}
	}()
	return f.Create(ctx, out)
}
