package state

import (
	"fmt"
	"iter"
	"reflect"
)

// The kinds of keyed state. Every method applies to the backend's current key
// and panics if there is none (state is only available while a keyed operator
// processes a record or a timer). Values are stored as given, not copied: a
// value holding a pointer, slice or map shares it with the caller.

// ValueState holds one value per key.
type ValueState[V any] interface {
	// Value returns the current key's value and whether there is one.
	Value() (V, bool)
	Update(v V)
	Clear()
}

// ListState holds a list per key.
type ListState[V any] interface {
	// Get returns a copy of the current key's list; nil when it is empty.
	Get() []V
	Add(v V)
	// AddAll appends vs, which it copies; an empty vs changes nothing.
	AddAll(vs []V)
	// Update replaces the list with a copy of vs; an empty vs clears it.
	Update(vs []V)
	Clear()
}

// MapState holds a map per key. A key whose map becomes empty holds no state.
type MapState[UK comparable, UV any] interface {
	Get(k UK) (UV, bool)
	Put(k UK, v UV)
	Remove(k UK)
	// Contains is Get(k)'s second result, with the same effect on TTL.
	Contains(k UK) bool
	// All yields the entries of the key current when All was called, in no
	// particular order. The loop body may call Remove or Put on existing keys;
	// entries it adds may or may not be yielded.
	All() iter.Seq2[UK, UV]
	// Len is the number of entries Get would return.
	Len() int
	IsEmpty() bool
	Clear()
}

// ReducingState folds every added value into one with a reduce function.
type ReducingState[V any] interface {
	// Get returns the reduced value and whether any value was added.
	Get() (V, bool)
	Add(v V)
	Clear()
}

// AggregatingState folds every added value into an accumulator with an
// AggregateFunction and reads the result from it.
type AggregatingState[IN, OUT any] interface {
	// Get returns the result of the accumulator and whether any value was added.
	Get() (OUT, bool)
	Add(v IN)
	Clear()
}

// AggregateFunction is Flink's AggregateFunction: an accumulator is created
// for a key's first value, every value is added to it, and the result is read
// from it. Merge combines two accumulators (merging windows).
type AggregateFunction[IN, ACC, OUT any] interface {
	CreateAccumulator() ACC
	Add(v IN, acc ACC) ACC
	GetResult(acc ACC) OUT
	Merge(a, b ACC) ACC
}

// ValueStateDescriptor names a ValueState. TTL is optional.
type ValueStateDescriptor[V any] struct {
	Name string
	TTL  *TTLConfig
}

// ListStateDescriptor names a ListState. With a TTL every element expires on its own.
type ListStateDescriptor[V any] struct {
	Name string
	TTL  *TTLConfig
}

// MapStateDescriptor names a MapState. With a TTL every entry expires on its own.
type MapStateDescriptor[UK comparable, UV any] struct {
	Name string
	TTL  *TTLConfig
}

// ReducingStateDescriptor names a ReducingState and gives its reduce function.
type ReducingStateDescriptor[V any] struct {
	Name   string
	Reduce func(a, b V) V
	TTL    *TTLConfig
}

// AggregatingStateDescriptor names an AggregatingState and gives its function.
type AggregatingStateDescriptor[IN, ACC, OUT any] struct {
	Name      string
	Aggregate AggregateFunction[IN, ACC, OUT]
	TTL       *TTLConfig
}

// GetValueState returns the backend's ValueState named d.Name, registering it
// on first use. The same name with the same kind, types and TTL returns the same
// state; anything else is ErrStateConflict.
func GetValueState[K comparable, V any](b *HeapKeyedBackend[K], d ValueStateDescriptor[V]) (ValueState[V], error) {
	s, err := register(b, d.Name, "ValueState", []reflect.Type{reflect.TypeFor[V]()}, d.TTL,
		func(p *ttlPolicy) *valueState[K, V] {
			return &valueState[K, V]{b: b, m: NewKeyedMap[K, stamped[V]](b.rng), ttl: p}
		})
	if err != nil {
		return nil, err // not a typed nil pointer in a non-nil interface
	}
	return s, nil
}

// GetListState returns the backend's ListState named d.Name, as GetValueState.
func GetListState[K comparable, V any](b *HeapKeyedBackend[K], d ListStateDescriptor[V]) (ListState[V], error) {
	s, err := register(b, d.Name, "ListState", []reflect.Type{reflect.TypeFor[V]()}, d.TTL,
		func(p *ttlPolicy) *listState[K, V] {
			return &listState[K, V]{b: b, m: NewKeyedMap[K, *listCell[V]](b.rng), ttl: p}
		})
	if err != nil {
		return nil, err // not a typed nil pointer in a non-nil interface
	}
	return s, nil
}

// GetMapState returns the backend's MapState named d.Name, as GetValueState.
func GetMapState[K comparable, UK comparable, UV any](b *HeapKeyedBackend[K], d MapStateDescriptor[UK, UV]) (MapState[UK, UV], error) {
	s, err := register(b, d.Name, "MapState", []reflect.Type{reflect.TypeFor[UK](), reflect.TypeFor[UV]()}, d.TTL,
		func(p *ttlPolicy) *mapState[K, UK, UV] {
			return &mapState[K, UK, UV]{b: b, m: NewKeyedMap[K, map[UK]stamped[UV]](b.rng), ttl: p}
		})
	if err != nil {
		return nil, err // not a typed nil pointer in a non-nil interface
	}
	return s, nil
}

// GetReducingState returns the backend's ReducingState named d.Name, as
// GetValueState. A second request gets the state with the first request's
// Reduce function.
func GetReducingState[K comparable, V any](b *HeapKeyedBackend[K], d ReducingStateDescriptor[V]) (ReducingState[V], error) {
	if d.Reduce == nil && d.Name != "" {
		return nil, errNoFunction("ReducingState", d.Name, "a Reduce function")
	}
	s, err := register(b, d.Name, "ReducingState", []reflect.Type{reflect.TypeFor[V]()}, d.TTL,
		func(p *ttlPolicy) *reducingState[K, V] {
			return &reducingState[K, V]{b: b, m: NewKeyedMap[K, stamped[V]](b.rng), ttl: p, reduce: d.Reduce}
		})
	if err != nil {
		return nil, err // not a typed nil pointer in a non-nil interface
	}
	return s, nil
}

// GetAggregatingState returns the backend's AggregatingState named d.Name, as
// GetValueState. A second request gets the state with the first request's
// AggregateFunction.
func GetAggregatingState[K comparable, IN, ACC, OUT any](b *HeapKeyedBackend[K], d AggregatingStateDescriptor[IN, ACC, OUT]) (AggregatingState[IN, OUT], error) {
	if d.Aggregate == nil && d.Name != "" {
		return nil, errNoFunction("AggregatingState", d.Name, "an Aggregate function")
	}
	s, err := register(b, d.Name, "AggregatingState", []reflect.Type{reflect.TypeFor[IN](), reflect.TypeFor[ACC](), reflect.TypeFor[OUT]()}, d.TTL,
		func(p *ttlPolicy) *aggregatingState[K, IN, ACC, OUT] {
			return &aggregatingState[K, IN, ACC, OUT]{b: b, m: NewKeyedMap[K, stamped[ACC]](b.rng), ttl: p, agg: d.Aggregate}
		})
	if err != nil {
		return nil, err // not a typed nil pointer in a non-nil interface
	}
	return s, nil
}

func errNoFunction(kind, name, what string) error {
	return fmt.Errorf("%w: %s %q needs %s", ErrInvalidStateDescriptor, kind, name, what)
}
