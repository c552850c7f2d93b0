// Package state owns keyed state and the key groups that partition it.
//
// # Key groups
//
// Keyed state is split into maxParallelism key groups (pipeline.max-parallelism,
// 128 by default). A key's group never changes for the life of a job:
//
//	kg      = Hash(key) mod maxParallelism
//	subtask = kg * parallelism / maxParallelism
//
// so subtask i owns the contiguous KeyGroupRange returned by
// KeyGroupRangeForSubtask. Rescaling moves whole key groups between subtasks; a
// key's state is never split. Hash must therefore be identical in every process
// and every run: it depends only on the key's value, never on a per-process seed.
//
// # Hashing keys
//
// HasherFor[K] picks, once at graph-build time, a hash function for the key
// type: strings and byte strings hash their bytes (xxhash64), integers, floats
// and bools are mixed with a 64-bit finalizer, types implementing Hasher use
// their own method, and structs and arrays of those combine their fields.
// Nothing is decided per record.
//
// Keyed state backends (ValueState, ListState, …) build on this partitioning;
// KeyedMap is the heap structure they use: one Go map per key group, so a key
// group can be snapshotted and moved on its own.
//
// # Keyed state
//
// HeapKeyedBackend is the "hashmap" backend: all keyed state and timers of one
// operator subtask, in memory, owned by the task's goroutine. The task calls
// SetCurrentKey before it hands a record to the operator; every state access
// then applies to that key, and no key can see another key's state. A key whose
// key group the subtask does not own is ErrKeyGroupOutOfRange: the record was
// routed by a different key than the operator computed, so the key selector is
// not deterministic. After that error the backend has no current key, and any
// state access panics rather than write under the previous key.
//
// An operator declares its state once, in Open, with a descriptor:
//
//	count, err := state.GetValueState(b, state.ValueStateDescriptor[int64]{Name: "count"})
//	...
//	n, _ := count.Value() // per record, for the current key
//	count.Update(n + 1)
//
// Value, List, Map, Reducing and Aggregating state have Flink's semantics.
// Asking again for a name returns the same state; asking for it with another
// kind, other types or another TTL is ErrStateConflict. Every state is a
// KeyedMap from key to value (a list, a map, an accumulator), one Go map per
// key group: a snapshot writes, and a rescale moves, whole key groups, never a
// scan over all keys. Values are stored as given, without copying; ListState
// copies slices in and out.
//
// # TTL
//
// A descriptor's TTLConfig is Flink's StateTtlConfig in processing time (the
// backend's clock, in milliseconds). Each entry carries the time of its last
// write, or of its last read too with OnReadAndWrite, and is expired once
// that time plus the TTL is at or before now. Value, Reducing and Aggregating
// state expire as one value; List and Map state expire per element and per
// entry, as Flink's TtlListState and TtlMapState do. Cleanup is lazy: a read
// drops the expired entries it meets. With NeverReturnExpired they are never
// returned; with ReturnExpiredIfNotCleanedUp the read that drops them still
// returns them, and Add on Reducing and Aggregating state merges with an expired
// value that has not been dropped (Flink does both). Expired state of a key
// that is never read again stays in memory until CleanupExpired sweeps every
// state; the task may run it on a timer or before a snapshot.
//
// # Timers
//
// TimerService is Flink's InternalTimerService: event-time and processing-time
// timers per (key, namespace, timestamp), the namespace being a window or
// struct{}. Registering a timer twice is one timer. AdvanceWatermark and
// AdvanceProcessingTime fire due timers in timestamp order, ties in registration
// order, with the backend's current key set to the timer's key; timers a
// callback registers at or before the watermark fire in the same call. Each
// queue is a 4-ary min-heap ordered by (timestamp, registration number) plus,
// per key group, the set of live timers: the set deduplicates, a delete only
// removes the set entry (the heap entry is skipped when it surfaces, and the
// heap is rebuilt when dead entries outnumber live ones), and the sets are what
// a snapshot of a key group holds, so timers move with their key's state.
//
// # Snapshots and restore
//
// A snapshot is taken on the task goroutine while the barrier is aligned and
// written later on another (snapshot.go). SnapshotKeyedMap copies a KeyedMap:
// maps of flat types (numbers, strings, flat structs) are cloned per key group,
// a bulk copy, and encoded later; values with pointers (lists, maps) are
// encoded at once, since the operator may change them in place. Each copy is a
// Part: one Avro container file of {keyGroup, key, value} records whose schema
// is derived from the Go types (sdk/codec), the canonical format of both
// checkpoints and savepoints. HeapKeyedBackend.Snapshot covers every declared
// state; TimerService.Snapshot the timers, with their registration order.
//
// Restore is lazy, as Flink's heap backend: HeapKeyedBackend.Restore makes
// each state declared afterwards read its entries, of the key groups the
// backend owns, from every old subtask's file, so a job restores at another
// parallelism (never another max parallelism: key groups would change). A bad
// checksum or undecodable bytes wrap ErrCorruptState and name the file; a
// state declared with another type (the file's Avro schema is not the declared
// type's) or another Kind wraps ErrIncompatibleState instead and shows both
// schemas. Operator (non-keyed) state is a list
// (SnapshotList, RestoreList): ListKind is dealt round-robin on rescale,
// UnionKind goes to every subtask.
package state
