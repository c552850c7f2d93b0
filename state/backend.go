package state

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// ErrKeyGroupOutOfRange is returned by HeapKeyedBackend.SetCurrentKey when the
// key hashes to a key group this subtask does not own: the record was routed by
// a different key than the one the operator computed, which means the key
// selector is not deterministic.
var ErrKeyGroupOutOfRange = errors.New("key group out of range")

// ErrStateConflict is returned by GetValueState, GetListState, GetMapState,
// GetReducingState and GetAggregatingState when the state name is already
// registered with another kind, other types or another TTL.
var ErrStateConflict = errors.New("state name registered twice")

// ErrInvalidStateDescriptor is returned by the GetXState functions for a
// descriptor without a name or function, or with an invalid TTL. It is a user
// error.
var ErrInvalidStateDescriptor = errors.New("invalid state descriptor")

// HeapKeyedBackend holds all keyed state and timers of one operator subtask in
// Go maps, one per key group (the "hashmap" backend). It is owned by the task's
// goroutine and not safe for concurrent use.
//
// Every state access applies to the current key, set with SetCurrentKey before
// a record is processed and by the TimerService before a timer fires.
type HeapKeyedBackend[K comparable] struct {
	rng    KeyGroupRange
	maxP   int
	hash   func(K) uint64
	clock  func() int64
	key    K
	kg     int // -1 without a current key
	hasKey bool
	states map[string]*registeredState
	order  []*registeredState // registration order: deterministic walks
	// restored, when set, fills every state registered from now on.
	restored *Restored
}

// NewHeapKeyedBackend returns an empty backend for the key groups in rng.
// hash is the key type's hash (HasherFor); clock is processing time in
// milliseconds, used by TTL; nil means the wall clock. It panics on arguments
// that only a programming error can produce: a nil hash, or a range that does
// not lie in [0, maxParallelism).
func NewHeapKeyedBackend[K comparable](rng KeyGroupRange, maxParallelism int, hash func(K) uint64, clock func() int64) *HeapKeyedBackend[K] {
	if hash == nil {
		panic("state: NewHeapKeyedBackend needs a hash function")
	}
	if maxParallelism < 1 || maxParallelism > UpperBoundMaxParallelism {
		panic(fmt.Sprintf("state: max parallelism must be between 1 and %d, got %d", UpperBoundMaxParallelism, maxParallelism))
	}
	if rng.Len() > 0 && (rng.Start < 0 || rng.End >= maxParallelism) {
		panic(fmt.Sprintf("state: %v is outside the %d key groups", rng, maxParallelism))
	}
	if clock == nil {
		clock = func() int64 { return time.Now().UnixMilli() }
	}
	return &HeapKeyedBackend[K]{
		rng:    rng,
		maxP:   maxParallelism,
		hash:   hash,
		clock:  clock,
		kg:     -1,
		states: make(map[string]*registeredState),
	}
}

// SetCurrentKey makes k the key that state accesses and timer registrations
// apply to, and computes its key group. If the key group is outside the
// backend's range it returns an error wrapping ErrKeyGroupOutOfRange and leaves
// the backend without a current key, so state cannot be written under the
// previous key by mistake.
func (b *HeapKeyedBackend[K]) SetCurrentKey(k K) error {
	if b.hasKey && k == b.key {
		return nil
	}
	kg := KeyGroupForHash(b.hash(k), b.maxP)
	if !b.rng.Contains(kg) {
		var zero K
		b.key, b.kg, b.hasKey = zero, -1, false
		return fmt.Errorf("%w: key %v is in key group %d, outside this subtask's %v; the key selector must return the same key for the same record every time",
			ErrKeyGroupOutOfRange, k, kg, b.rng)
	}
	b.key, b.kg, b.hasKey = k, kg, true
	return nil
}

// setCurrentKeyInGroup sets a key whose key group is already known (a timer's).
func (b *HeapKeyedBackend[K]) setCurrentKeyInGroup(k K, kg int) {
	b.key, b.kg, b.hasKey = k, kg, true
}

// CurrentKey is the key set by the last successful SetCurrentKey or fired
// timer; the zero K when there is none.
func (b *HeapKeyedBackend[K]) CurrentKey() K { return b.key }

// CurrentKeyGroup is the current key's key group, or -1 without a current key.
func (b *HeapKeyedBackend[K]) CurrentKeyGroup() int { return b.kg }

// KeyGroupRange is the key groups this backend serves.
func (b *HeapKeyedBackend[K]) KeyGroupRange() KeyGroupRange { return b.rng }

// MaxParallelism is the total number of key groups of the job.
func (b *HeapKeyedBackend[K]) MaxParallelism() int { return b.maxP }

// CleanupExpired drops every expired entry of every state with a TTL and returns
// how many it dropped (values, list elements and map entries). Reads drop
// expired entries lazily, but a key that is never read again keeps its state
// until this runs; the task may call it on a timer or before a snapshot, as
// Flink's full-snapshot cleanup does.
func (b *HeapKeyedBackend[K]) CleanupExpired() int {
	now := b.clock()
	n := 0
	for _, r := range b.order {
		n += r.state.cleanupExpired(now)
	}
	return n
}

func (b *HeapKeyedBackend[K]) mustHaveKey() {
	if !b.hasKey {
		panic("state: keyed state accessed without a current key; keyed state and timers exist only while a keyed operator processes a record or a timer")
	}
}

// keyedState is what the backend needs of every registered state.
type keyedState interface {
	cleanupExpired(now int64) int
	snapshot(name string) (Part, error)
	restore(r *Restored, name string) error
}

type registeredState struct {
	sig   stateSignature
	state keyedState
}

// stateSignature is what must agree when a state name is requested again.
type stateSignature struct {
	kind  string
	types []reflect.Type
	ttl   *TTLConfig
}

func (s stateSignature) equal(o stateSignature) bool {
	if s.kind != o.kind || len(s.types) != len(o.types) {
		return false
	}
	for i := range s.types {
		if s.types[i] != o.types[i] {
			return false
		}
	}
	if (s.ttl == nil) != (o.ttl == nil) {
		return false
	}
	return s.ttl == nil || *s.ttl == *o.ttl
}

func (s stateSignature) String() string {
	var sb strings.Builder
	sb.WriteString(s.kind)
	sb.WriteByte('[')
	for i, t := range s.types {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(t.String())
	}
	sb.WriteByte(']')
	if s.ttl == nil {
		sb.WriteString(" without TTL")
	} else {
		sb.WriteString(" with ")
		sb.WriteString(s.ttl.String())
	}
	return sb.String()
}

// register returns the state registered under name, creating it with create if
// there is none. A registered state with another signature is ErrStateConflict.
func register[K comparable, S keyedState](b *HeapKeyedBackend[K], name string, kind string, types []reflect.Type, ttl *TTLConfig, create func(*ttlPolicy) S) (S, error) {
	var zero S
	if name == "" {
		return zero, fmt.Errorf("%w: %s needs a name", ErrInvalidStateDescriptor, kind)
	}
	sig := stateSignature{kind: kind, types: types}
	if ttl != nil {
		if err := ttl.validate(); err != nil {
			return zero, fmt.Errorf("%w: state %q: %v", ErrInvalidStateDescriptor, name, err)
		}
		c := *ttl
		sig.ttl = &c
	}
	if r, ok := b.states[name]; ok {
		if !r.sig.equal(sig) {
			return zero, fmt.Errorf("%w: state %q is registered as %v, requested as %v", ErrStateConflict, name, r.sig, sig)
		}
		return r.state.(S), nil
	}
	s := create(newTTLPolicy(sig.ttl, b.clock))
	if b.restored != nil {
		if err := s.restore(b.restored, name); err != nil {
			return zero, err
		}
	}
	r := &registeredState{sig: sig, state: s}
	b.states[name] = r
	b.order = append(b.order, r)
	return s, nil
}

// Restore makes every state registered from now on start with its entries in
// r (the key groups this backend owns). Operators call it before they declare
// their state, as Flink restores a backend before open().
func (b *HeapKeyedBackend[K]) Restore(r *Restored) { b.restored = r }

// Snapshot copies every registered state, in name order.
func (b *HeapKeyedBackend[K]) Snapshot() ([]Part, error) {
	parts := make([]Part, 0, len(b.order))
	for _, name := range b.names() {
		p, err := b.states[name].state.snapshot(name)
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
	}
	return parts, nil
}

func (b *HeapKeyedBackend[K]) names() []string {
	names := make([]string, 0, len(b.order))
	for name := range b.states {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
