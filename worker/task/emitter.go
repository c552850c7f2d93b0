package task

import "math"

// emitter is what the operators with timers share (KeyedProcess, CoProcess,
// WindowOperator): the records they collect, pushed downstream a batch at a
// time (by the Collector itself when a batch is full, even in the middle of a
// user call, and by afterCalls), and the single wake-up registered with the
// task for their earliest processing-time timer. Every user call that gets col
// must be followed by a check of col.failed().
type emitter[U any] struct {
	base
	out       Output[U]
	col       Collector[U]
	scheduled int64 // processing time of the wake-up already registered
}

// newEmitter returns the emitter of an operator; call bind once it is in place.
func newEmitter[U any](ctx *OperatorContext, out Output[U]) emitter[U] {
	return emitter[U]{base: base{ctx}, out: out, scheduled: math.MaxInt64}
}

// bind makes the collector flush a full batch through e. e must not move
// afterwards: call it on the emitter inside the allocated operator.
func (e *emitter[U]) bind() { e.col.bind(e.ctx.BatchSize, e.flush) }

// flush pushes what was collected.
func (e *emitter[U]) flush() error {
	if len(e.col.buf) == 0 {
		return nil
	}
	e.ctx.Metrics.RecordsOut.Add(int64(len(e.col.buf)))
	err := e.out.Push(e.col.buf, e.col.timestamps())
	e.col.reset()
	return e.ctx.Fail(err)
}

// afterCalls ends a round of user calls: it pushes records and side outputs and
// keeps a wake-up registered for the earliest processing-time timer (next).
func (e *emitter[U]) afterCalls(next func() (int64, bool), wake func(now int64) error) error {
	if err := e.flush(); err != nil {
		return err
	}
	if err := e.ctx.FlushSideOutputs(); err != nil {
		return e.ctx.Fail(err)
	}
	if at, ok := next(); ok && at < e.scheduled {
		e.scheduled = at
		e.ctx.Timers.RegisterTimer(at, wake)
	}
	return nil
}

// onTimer calls a user OnTimer; records it emits carry the timer's timestamp
// when it is an event-time timer.
func (e *emitter[U]) onTimer(ts int64, domain TimeDomain, call func(int64, TimeDomain, *Collector[U]) error) error {
	e.col.setInput(domain == EventTime, ts)
	if err := call(ts, domain, &e.col); err != nil {
		return err
	}
	return e.ctx.Fail(e.col.failed())
}

// noTimers is the next func of an operator without processing-time timers.
func noTimers() (int64, bool) { return 0, false }
