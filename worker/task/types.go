package task

import (
	"fmt"
	"reflect"
	"sync/atomic"
	"time"

	"github.com/spate-io/spate/sdk/codec"
	"github.com/spate-io/spate/worker/network"
)

// StreamType stands for a record type T where the runtime, which does not know
// T, must create typed things: gates, writers and fan-outs. Get one with TypeOf.
type StreamType interface {
	// String is the Go type name, as shown in plans.
	String() string
	// NewGate creates the input gate of one input side of one subtask.
	NewGate(channels, credits, batchSize int, notify chan struct{}) Gate
	// NewWriter creates the writer of one producer subtask on one edge. targets are
	// the channels it feeds, in consumer subtask order. keyHash is a func(T) uint64
	// for PartitionKeyGroup, else nil. The first result is the Output[T] upstream
	// operators push into.
	NewWriter(targets []ChannelRef, p network.Partitioning, keyHash any, opts WriterOptions) (any, ResultWriter, error)
	// FanOut returns an Output[T] that pushes every batch to each of outs.
	FanOut(outs []any) any
	// Discard returns an Output[T] that drops records.
	Discard() any
	// NewRemoteWriter creates the producer's end of a channel to another
	// process, sending buffers of up to batchSize records through link.
	NewRemoteWriter(link network.Link, batchSize int) (RemoteChannel, error)
	// AttachRemote makes channel ch of gate g receive from another process
	// through link, and returns what delivers that channel's messages.
	AttachRemote(g Gate, ch int, link network.Link) (deliver func(network.RemoteMessage) error, start func() error, err error)

	// newInput reads gate g into target; wm receives the input's watermark.
	newInput(g Gate, target any, input int, barriers *BarrierHandler, wm *atomic.Int64) (inputProcessor, error)
}

// WriterOptions are the knobs of a RecordWriter.
type WriterOptions struct {
	MaxParallelism int
	BatchSize      int
	BufferTimeout  time.Duration
	StartAt        int // first round-robin channel: spreads producers over consumers
}

// ChannelRef names channel Index of a local gate, or, when Remote is set, the
// producer's end of a channel to another process.
type ChannelRef struct {
	Gate   Gate
	Index  int
	Remote RemoteChannel
}

// RemoteChannel is the untyped face of a network.RemoteWriter: what the
// connection calls.
type RemoteChannel interface {
	AddCredit(n int)
	Close(err error)
}

// Gate is the untyped face of a network.InputGate.
type Gate interface {
	NumChannels() int
	Finished() bool
	Close(err error)
	Stats() network.Stats
	BlockChannel(ch int)
	UnblockAll()
}

// ResultWriter is the untyped face of a network.RecordWriter.
type ResultWriter interface {
	Flush() error
	FlushIfDue(now time.Time) error
	Finish() error
	RecordsOut() int64
	// Emit sends an event (a checkpoint barrier) on every channel, after the
	// records before it.
	Emit(e network.Event) error
}

type streamType[T any] struct{ name string }

// TypeOf returns the StreamType of T.
func TypeOf[T any]() StreamType {
	return streamType[T]{name: reflect.TypeFor[T]().String()}
}

func (s streamType[T]) String() string { return s.name }

func (s streamType[T]) NewGate(channels, credits, batchSize int, notify chan struct{}) Gate {
	return network.NewInputGate[T](channels, credits, batchSize, notify)
}

func (s streamType[T]) NewWriter(targets []ChannelRef, p network.Partitioning, keyHash any, o WriterOptions) (any, ResultWriter, error) {
	chans := make([]network.ChannelWriter[T], len(targets))
	for i, t := range targets {
		if t.Remote != nil {
			w, ok := t.Remote.(network.ChannelWriter[T])
			if !ok {
				return nil, nil, fmt.Errorf("edge type mismatch: writer of %s feeds a remote channel of another type (%T)", s.name, t.Remote)
			}
			chans[i] = w
			continue
		}
		g, ok := t.Gate.(*network.InputGate[T])
		if !ok {
			return nil, nil, fmt.Errorf("edge type mismatch: writer of %s feeds a gate of another type (%T)", s.name, t.Gate)
		}
		chans[i] = g.Channel(t.Index)
	}
	var kh func(T) uint64
	if keyHash != nil {
		var ok bool
		if kh, ok = keyHash.(func(T) uint64); !ok {
			return nil, nil, fmt.Errorf("key hash of type %T does not take %s", keyHash, s.name)
		}
	}
	w, err := network.NewRecordWriter(chans, p, kh, o.MaxParallelism, o.BatchSize, o.BufferTimeout, o.StartAt)
	if err != nil {
		return nil, nil, err
	}
	return Output[T](w), w, nil
}

func (s streamType[T]) FanOut(outs []any) any {
	f := make(fanOut[T], len(outs))
	for i, o := range outs {
		f[i] = o.(Output[T])
	}
	return Output[T](f)
}

func (s streamType[T]) Discard() any { return Output[T](discard[T]{}) }

func (s streamType[T]) NewRemoteWriter(link network.Link, batchSize int) (RemoteChannel, error) {
	c, err := codec.For[T]()
	if err != nil {
		return nil, fmt.Errorf("records of type %s cannot cross processes: %w", s.name, err)
	}
	return network.NewRemoteWriter[T](link, c, batchSize), nil
}

func (s streamType[T]) AttachRemote(g Gate, ch int, link network.Link) (func(network.RemoteMessage) error, func() error, error) {
	gate, ok := g.(*network.InputGate[T])
	if !ok {
		return nil, nil, fmt.Errorf("input gate %T does not carry %s", g, s.name)
	}
	if ch < 0 || ch >= gate.NumChannels() {
		return nil, nil, fmt.Errorf("input gate of %d channels has no channel %d", gate.NumChannels(), ch)
	}
	c, err := codec.For[T]()
	if err != nil {
		return nil, nil, fmt.Errorf("records of type %s cannot cross processes: %w", s.name, err)
	}
	r := network.NewRemoteReceiver(gate.Channel(ch), c, link)
	return r.Deliver, r.Start, nil
}

func (s streamType[T]) newInput(g Gate, target any, input int, barriers *BarrierHandler, wm *atomic.Int64) (inputProcessor, error) {
	gate, ok := g.(*network.InputGate[T])
	if !ok {
		return nil, fmt.Errorf("input gate %T does not carry %s", g, s.name)
	}
	out, ok := target.(Output[T])
	if !ok {
		return nil, fmt.Errorf("operator input %T does not take %s", target, s.name)
	}
	return &gateInput[T]{gate: gate, target: out, valve: NewWatermarkValve(gate.NumChannels()), input: input, barriers: barriers, wm: wm}, nil
}

type fanOut[T any] []Output[T]

func (f fanOut[T]) Push(batch []T, ts []int64) error {
	for _, o := range f {
		if err := o.Push(batch, ts); err != nil {
			return err
		}
	}
	return nil
}

func (f fanOut[T]) Emit(e Event) error {
	for _, o := range f {
		if err := o.Emit(e); err != nil {
			return err
		}
	}
	return nil
}

type discard[T any] struct{}

func (discard[T]) Push([]T, []int64) error { return nil }
func (discard[T]) Emit(Event) error        { return nil }

// inputProcessor feeds one input gate into the head operator of a task.
type inputProcessor interface {
	// processNext handles one buffer if one is queued; false when none was.
	processNext() (bool, error)
	finished() bool
}

type gateInput[T any] struct {
	gate     *network.InputGate[T]
	target   Output[T]
	valve    *WatermarkValve
	input    int
	barriers *BarrierHandler
	wm       *atomic.Int64 // the valve's output, for TaskIO
}

func (in *gateInput[T]) processNext() (bool, error) {
	b, ch, ok := in.gate.Poll()
	if !ok {
		return false, nil
	}
	var out []Event
	switch b.Event.Kind {
	case network.NoEvent:
		var ts []int64
		if len(b.Timestamps) > 0 {
			ts = b.Timestamps
		}
		err := in.target.Push(b.Records, ts)
		in.gate.RecycleBuffer(ch, b)
		return true, err
	case network.Watermark:
		out = in.valve.Watermark(ch, b.Event.Timestamp)
	case network.WatermarkStatus:
		out = in.valve.Status(ch, b.Event.Idle)
	case network.EndOfPartition: // counted by the gate; an ended channel holds nothing back
		out = in.valve.End(ch)
		if err := in.barriers.OnEndOfPartition(in.input, ch); err != nil {
			return true, err
		}
	case network.CheckpointBarrier:
		return true, in.barriers.OnBarrier(in.input, ch, b.Event)
	}
	for _, e := range out {
		if e.Kind == network.Watermark {
			in.wm.Store(e.Timestamp)
		}
		if err := in.target.Emit(e); err != nil {
			return true, err
		}
	}
	return true, nil
}

func (in *gateInput[T]) finished() bool { return in.gate.Finished() }
