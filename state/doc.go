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
package state
