package state

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/spate-io/spate/sdk/codec"
)

// ErrCorruptState is wrapped by every restore error caused by the stored bytes
// themselves: a checksum mismatch, a truncated file, an undecodable record.
// The runtime does not retry such a restore.
var ErrCorruptState = errors.New("corrupt checkpoint state")

// ErrIncompatibleState is wrapped by the restore errors of RestoreKeyedMap,
// RestoreList and the keyed states and timers when the stored bytes are sound
// but the job now declares the state differently: with another Go type (the
// file's Avro schema is not the declared type's) or another Kind. It is a user
// error, not ErrCorruptState: declare the state as before, or under a new name
// to start it empty (for an operator's own state, named "_…", give the
// operator a new UID). A restart would meet it again, so the runtime does not
// retry such a restore.
var ErrIncompatibleState = errors.New("incompatible checkpoint state")

// Kind says how a piece of state is redistributed when a job is restored at
// another parallelism.
type Kind uint8

const (
	// KeyedKind state is split by key group: a subtask reads the entries of the
	// key groups it owns, from whichever old subtask wrote them.
	KeyedKind Kind = iota
	// ListKind is operator list state: with the same parallelism each subtask
	// gets its own items back; otherwise the items of every old subtask are dealt
	// round-robin (Flink's split redistribution).
	ListKind
	// UnionKind is operator union state: every subtask gets every item.
	UnionKind
)

func (k Kind) String() string {
	switch k {
	case KeyedKind:
		return "keyed"
	case ListKind:
		return "list"
	case UnionKind:
		return "union"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Part is one named piece of an operator subtask's snapshot. It is taken
// synchronously, while the barrier is aligned: Write must not read anything the
// operator changes afterwards. Write runs later, on another goroutine, and
// encodes the part as an Avro container file.
type Part struct {
	Name      string
	Kind      Kind
	KeyGroups KeyGroupRange // KeyedKind only: the key groups the writer owned
	Write     func(w io.Writer) error
}

// Handle points at one written Part: a file of a checkpoint or savepoint. Path
// is relative to the checkpoint's directory, so a savepoint can be moved.
type Handle struct {
	Operator  string // operator ID
	Subtask   int
	Name      string
	Kind      Kind
	KeyGroups KeyGroupRange
	Path      string
	Size      int64
	Checksum  uint32 // CRC-32C of the file's bytes
}

// Restored is what one operator subtask restores from: the handles every old
// subtask of the operator wrote, and how to read them.
type Restored struct {
	// CheckpointID is the checkpoint or savepoint restored.
	CheckpointID   int64
	Subtask        int
	Parallelism    int
	OldParallelism int
	Handles        []Handle
	// Read returns a file's bytes after checking its size and checksum; its
	// errors name the file and wrap ErrCorruptState when the bytes are wrong.
	Read func(h Handle) ([]byte, error)
}

// handles returns the handles of the state called name, in old subtask order.
func (r *Restored) handles(name string, kind Kind) ([]Handle, error) {
	var out []Handle
	for _, h := range r.Handles {
		if h.Name != name {
			continue
		}
		if h.Kind != kind {
			return nil, fmt.Errorf("%w: state %q of operator %s was written as %v state and is now declared as %v state; declare it as %v state again, or under a new name to start it empty",
				ErrIncompatibleState, name, h.Operator, h.Kind, kind, h.Kind)
		}
		out = append(out, h)
	}
	slices.SortStableFunc(out, func(a, b Handle) int { return a.Subtask - b.Subtask })
	return out, nil
}

// readAll decodes every record of the state files hs with c and hands them to fn.
func readAll[T any](r *Restored, hs []Handle, c *codec.Codec[T], fn func(T)) error {
	for _, h := range hs {
		data, err := r.Read(h)
		if err != nil {
			return err
		}
		rd, err := codec.NewReader(bytes.NewReader(data), c)
		if errors.Is(err, codec.ErrSchemaMismatch) {
			return typeChanged(h, data, c.Schema())
		}
		if err != nil {
			return fmt.Errorf("%w: state %q in %s: %v", ErrCorruptState, h.Name, h.Path, err)
		}
		for {
			v, ok := rd.Next()
			if !ok {
				break
			}
			fn(v)
		}
		if err := rd.Err(); err != nil {
			return fmt.Errorf("%w: state %q in %s: %v", ErrCorruptState, h.Name, h.Path, err)
		}
	}
	return nil
}

// typeChanged is the error of the state file of h, whose header data holds an
// Avro schema other than declared, the schema of the type the job now
// declares: the state's Go type changed since the checkpoint was taken. It
// shows both schemas, shortened (see shortSchemas).
func typeChanged(h Handle, data []byte, declared string) error {
	written, _, err := codec.ReadSchema(bytes.NewReader(data))
	if err != nil {
		// NewReader has just read this header; keep the error useful anyway.
		written = fmt.Sprintf("(unreadable: %v)", err)
	}
	written, declared = shortSchemas(written, declared)
	advice := "declare the state with its old type again, or under a new name to start it empty"
	if strings.HasPrefix(h.Name, "_") {
		// Spate's own state of the operator: its key, accumulator or window
		// contents, typed by the user's functions.
		advice = "it is the operator's own state, typed by its key and functions: go back to the old types, " +
			"or give the operator a new UID and set execution.savepoint.ignore-unclaimed-state to start it without state"
	}
	return fmt.Errorf("%w: state %q of operator %s changed type: %s was written with Avro schema %s and the job now declares %s; %s",
		ErrIncompatibleState, h.Name, h.Operator, h.Path, written, declared, advice)
}

// keyedEntry is the record of keyed state in a state file.
type keyedEntry[K comparable, V any] struct {
	KeyGroup int32 `avro:"keyGroup"`
	Key      K     `avro:"key"`
	Value    V     `avro:"value"`
}

// SnapshotKeyedMap takes a copy of m for the state called name. Maps whose keys
// and values hold no pointers (numbers, strings, flat structs) are cloned, a
// bulk copy, and encoded later; anything the operator could change in place
// (slices, maps, pointers) is encoded at once.
func SnapshotKeyedMap[K comparable, V any](name string, m *KeyedMap[K, V]) (Part, error) {
	c, err := codec.For[keyedEntry[K, V]]()
	if err != nil {
		return Part{}, fmt.Errorf("state %q: %w", name, err)
	}
	flatCopy := flat(reflect.TypeFor[K]()) && flat(reflect.TypeFor[V]())
	groups := m.groups
	if flatCopy {
		groups = make([]map[K]V, len(m.groups))
		for i, g := range m.groups {
			if len(g) > 0 {
				groups[i] = maps.Clone(g)
			}
		}
	}
	return encodedPart(Part{Name: name, Kind: KeyedKind, KeyGroups: m.rng}, flatCopy, func(w io.Writer) error {
		return writeRecords(w, c, func(yield func(keyedEntry[K, V]) bool) {
			for i, g := range groups {
				kg := int32(m.rng.Start + i)
				for k, v := range g {
					if !yield(keyedEntry[K, V]{KeyGroup: kg, Key: k, Value: v}) {
						return
					}
				}
			}
		})
	})
}

// encodedPart completes p with write. When owned is true write reads a copy
// nobody changes and runs later, on the writing goroutine; otherwise it runs
// now, into a buffer that the Part writes out later.
func encodedPart(p Part, owned bool, write func(io.Writer) error) (Part, error) {
	if owned {
		p.Write = write
		return p, nil
	}
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return Part{}, fmt.Errorf("state %q: %w", p.Name, err)
	}
	p.Write = func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err }
	return p, nil
}

// writeRecords writes the records of seq to w as an Avro container file.
func writeRecords[T any](w io.Writer, c *codec.Codec[T], seq iter.Seq[T]) error {
	ow, err := codec.NewWriter(w, c, "null", nil)
	if err != nil {
		return err
	}
	for v := range seq {
		if err = ow.Append(v); err != nil {
			return err
		}
	}
	return ow.Close()
}

// RestoreKeyedMap puts into m the entries of the state called name whose key
// groups m serves, from every old subtask's file.
func RestoreKeyedMap[K comparable, V any](r *Restored, name string, m *KeyedMap[K, V]) error {
	hs, err := r.handles(name, KeyedKind)
	if err != nil {
		return err
	}
	var mine []Handle
	for _, h := range hs {
		if h.KeyGroups.Start <= m.rng.End && m.rng.Start <= h.KeyGroups.End {
			mine = append(mine, h)
		}
	}
	c, err := codec.For[keyedEntry[K, V]]()
	if err != nil {
		return fmt.Errorf("state %q: %w", name, err)
	}
	return readAll(r, mine, c, func(e keyedEntry[K, V]) {
		if kg := int(e.KeyGroup); m.rng.Contains(kg) {
			m.Put(kg, e.Key, e.Value)
		}
	})
}

// SnapshotList encodes items, the operator state called name, at once.
func SnapshotList[T any](name string, kind Kind, items []T) (Part, error) {
	c, err := codec.For[T]()
	if err != nil {
		return Part{}, fmt.Errorf("state %q: %w", name, err)
	}
	return encodedPart(Part{Name: name, Kind: kind}, false, func(w io.Writer) error {
		return writeRecords(w, c, slices.Values(items))
	})
}

// RestoreList returns this subtask's items of the operator state called name
// (see ListKind and UnionKind).
func RestoreList[T any](r *Restored, name string, kind Kind) ([]T, error) {
	hs, err := r.handles(name, kind)
	if err != nil {
		return nil, err
	}
	if kind == ListKind && r.OldParallelism == r.Parallelism {
		hs = slices.DeleteFunc(hs, func(h Handle) bool { return h.Subtask != r.Subtask })
	}
	c, err := codec.For[T]()
	if err != nil {
		return nil, fmt.Errorf("state %q: %w", name, err)
	}
	var all []T
	if err := readAll(r, hs, c, func(v T) { all = append(all, v) }); err != nil {
		return nil, err
	}
	if kind == UnionKind || r.OldParallelism == r.Parallelism {
		return all, nil
	}
	var mine []T
	for i := r.Subtask; i < len(all); i += r.Parallelism {
		mine = append(mine, all[i])
	}
	return mine, nil
}

// flat reports whether values of t hold no pointers but strings (immutable),
// so a shallow copy is a deep one.
func flat(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128, reflect.String:
		return true
	case reflect.Array:
		return flat(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !flat(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}
