package task

import (
	"errors"
	"fmt"

	"github.com/spate-io/spate/state"
)

// ErrWrongKeyGroup is returned when a keyed operator receives a record whose key
// group it does not own: the upstream partitioner and the operator disagree about
// the key, typically because the key selector is not deterministic.
var ErrWrongKeyGroup = errors.New("record routed to the wrong subtask")

func errKeyGroup(kg int, r state.KeyGroupRange) error {
	return fmt.Errorf("%w: key group %d is outside this subtask's %v; the key selector must return the same key for the same record every time",
		ErrWrongKeyGroup, kg, r)
}

// errNoTimestamp: an event-time window got a record without event time.
var errNoTimestamp = errors.New("record has no timestamp but the window is on event time; call AssignTimestampsAndWatermarks before the window, or use a processing-time window")
