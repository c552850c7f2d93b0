package worker

import (
	"sync"

	"github.com/spate-io/spate/worker/task"
)

// Shuffle holds the input gates of the tasks of one process, so that a
// producer and its consumer find the same gate whichever is deployed first:
// the gate is created by the first to ask. Gates belong to one execution
// attempt of a job; release drops them with it.
type Shuffle struct {
	mu    sync.Mutex
	tasks map[task.ExecutionAttemptID]*taskInputs
}

// NewShuffle returns an empty shuffle.
func NewShuffle() *Shuffle { return &Shuffle{tasks: map[task.ExecutionAttemptID]*taskInputs{}} }

// taskInputs are one consumer task's gates, all waking it through notify.
type taskInputs struct {
	notify chan struct{}
	mu     sync.Mutex
	gates  map[int]task.Gate // by side
}

// inputs returns the inputs of the task id, creating them if needed.
func (s *Shuffle) inputs(id task.ExecutionAttemptID) *taskInputs {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.tasks[id]
	if in == nil {
		in = &taskInputs{notify: make(chan struct{}, 1), gates: map[int]task.Gate{}}
		s.tasks[id] = in
	}
	return in
}

// existing returns the inputs of the task id if a producer or the task
// created them, else nil.
func (s *Shuffle) existing(id task.ExecutionAttemptID) *taskInputs {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tasks[id]
}

// gate returns in's gate of side, creating it of type st with channels
// channels if needed.
func (s *Shuffle) gate(in *taskInputs, side int, st task.StreamType, channels int, k task.TaskKnobs) task.Gate {
	in.mu.Lock()
	defer in.mu.Unlock()
	g := in.gates[side]
	if g == nil {
		g = st.NewGate(channels, k.Credits, k.BatchSize, in.notify)
		in.gates[side] = g
	}
	return g
}

// release drops the gates of one attempt of a job.
func (s *Shuffle) release(jobID string, attempt int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.tasks {
		if id.JobID == jobID && id.Attempt == attempt {
			delete(s.tasks, id)
		}
	}
}

// close closes every gate of the task with err.
func (in *taskInputs) close(err error) {
	for _, g := range in.sides() {
		g.Close(err)
	}
}

// sides returns the gates in side order.
func (in *taskInputs) sides() []task.Gate {
	in.mu.Lock()
	defer in.mu.Unlock()
	var out []task.Gate
	for side := 0; len(out) < len(in.gates); side++ {
		if g, ok := in.gates[side]; ok {
			out = append(out, g)
		}
	}
	return out
}
