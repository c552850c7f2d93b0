// Package codec writes and reads Go values as Avro, the format of Spate's
// checkpoints and savepoints.
//
// A Codec[T] is compiled once per Go type by For, which derives an Avro
// schema from T and a list of ops that read and write T's memory directly:
//
//	c, err := codec.For[entry]()
//	b = c.Append(b, e)             // Avro binary, no allocation
//	e, rest, err := c.Decode(b)    // errors wrap ErrCorrupt
//	es, rest, err = c.DecodeAppend(es, b, n) // n values, decoded in place
//
// Decoding allocates what the value holds: each string, byte slice, slice,
// map and pointer target of its own, so that a value outlives the bytes it
// came from and pins nothing else. Strings sharing one allocation per batch
// would be cheaper to decode, but one string kept (a state key) would keep
// its whole batch alive.
//
// Writer and Reader frame values as an Avro Object Container File (OCF): a
// header with the schema, then blocks of values separated by a sync marker,
// optionally deflated. Any Avro implementation reads our files, and we read
// theirs if the schema's Parsing Canonical Form is that of T. Extra metadata
// (a checkpoint id, a key-group range) goes in the header:
//
//	w, err := codec.NewWriter(f, c, "deflate", map[string][]byte{"spate.checkpoint": id})
//	for _, e := range entries { w.Append(e) }
//	err = w.Close() // flushes; f is the caller's to sync and close
//
//	r, err := codec.NewReader(f, c) // fails on another schema: ErrSchemaMismatch
//	for e, ok := r.Next(); ok; e, ok = r.Next() { ... }
//	err = r.Err()
//
// # Why not goavro on the hot path
//
// goavro encodes from map[string]any: a checkpoint would build a map per
// entry and box every field, several hundred ns and allocations per entry,
// where a checkpoint writes about a million entries per second per task. The
// compiled ops encode an entry of a few integers in tens of ns with no
// allocation. goavro is still used to validate each derived schema and
// compute its canonical form, and the tests check our bytes against its
// encoder and our files against its OCF reader and writer.
//
// # Type mapping
//
//	Go                                   Avro
//	bool                                 boolean
//	int8, int16, int32, uint8, uint16    int
//	int, int64, uint32, time.Duration    long
//	uint, uint64, uintptr                long holding the same 64 bits: values
//	                                     above MaxInt64 read as negative elsewhere
//	float32, float64                     float, double
//	string                               string
//	[]byte                               bytes
//	[N]byte, N > 0                       fixed of size N
//	other slices and arrays              array
//	map[string]V (any string kind)       map
//	map[K]V, K an integer kind           array of record {key: K, value: V}
//	*T                                   union ["null", T]; nil is null
//	time.Time                            long, logicalType timestamp-nanos:
//	                                     nanoseconds since the Unix epoch, UTC
//	struct                               record, one field per Go field
//
// Struct fields include unexported ones, since runtime state types such as
// struct{ key K; w window.Window } have them. A tag avro:"name" renames a
// field, avro:"-" skips it, and blank (_) fields are skipped. An embedded
// struct is a field named after its type. An empty struct is a record with
// no fields and takes no bytes.
//
// Records and fixed types need Avro names. A named Go type gets its package
// path and name with every character outside [A-Za-z0-9_] replaced by '_':
// main.entry[int64,string] becomes main_entry_int64_string_. An unnamed
// struct is named after where it first appears: the enclosing record's name,
// '_' and the field name, with _item for slice items and _value for map
// values, or Anonymous if it is T itself. The entry record of a map with
// integer keys is named likewise with the suffix _entry (or after the map
// type, if named), and an unnamed [N]byte is fixed_N. A type used twice is
// defined once and referred to by name afterwards; two Go types whose names
// collide get suffixes _2, _3, in the order they appear.
//
// Chan, func, interface, unsafe.Pointer and complex types, maps with other
// keys, pointers to pointers and recursive types have no encoding: For
// returns an *UnsupportedTypeError naming the field.
//
// # What does not round-trip
//
// Avro has no nil slice or map: an empty []byte or slice decodes as nil, and
// an empty or nil map decodes as an empty map, so that restored state can be
// written to. Time loses its location and monotonic reading, and decodes in
// UTC; the zero Time is stored as the minimum long and decodes as the zero
// Time; times outside years 1678 to 2262 are clamped. Map entries are
// written in Go's map order, so two encodings of one map may differ in
// bytes.
//
// # Decoding untrusted bytes
//
// Decode and Reader check every length and count against the bytes left
// before allocating, reject integers that do not fit the Go field (an Avro
// int of 300 into an int8), and never panic on corrupt input.
package codec
