package state

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"unsafe"

	"github.com/cespare/xxhash/v2"
)

// Hasher lets a key type supply its own hash. It must depend only on the key's
// value, so every process maps the key to the same key group.
type Hasher interface {
	Hash64() uint64
}

// ErrUnhashableKey is returned by HasherFor when the key type cannot be hashed the
// same way in every process (pointers, interfaces, channels, functions).
var ErrUnhashableKey = errors.New("unsupported key type")

// Mix64 is the 64-bit finalizer of MurmurHash3: it spreads the bits of integer keys
// so that consecutive integers land in different key groups.
func Mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// HashString hashes a string key.
func HashString(s string) uint64 { return xxhash.Sum64String(s) }

// HasherFor returns the hash function for key type K, chosen once from the type.
// Keys of the same value hash the same in every process and every run.
func HasherFor[K comparable]() (func(K) uint64, error) {
	var zero K
	if _, ok := any(zero).(Hasher); ok {
		return func(k K) uint64 { return any(k).(Hasher).Hash64() }, nil
	}
	t := reflect.TypeFor[K]()
	switch t.Kind() {
	case reflect.String:
		return func(k K) uint64 { return xxhash.Sum64String(*(*string)(unsafe.Pointer(&k))) }, nil
	case reflect.Int, reflect.Uint, reflect.Uintptr:
		if t.Size() == 4 { // 32-bit platforms
			return func(k K) uint64 { return Mix64(uint64(*(*uint32)(unsafe.Pointer(&k)))) }, nil
		}
		return func(k K) uint64 { return Mix64(*(*uint64)(unsafe.Pointer(&k))) }, nil
	case reflect.Int64, reflect.Uint64:
		return func(k K) uint64 { return Mix64(*(*uint64)(unsafe.Pointer(&k))) }, nil
	case reflect.Int32, reflect.Uint32:
		return func(k K) uint64 { return Mix64(uint64(*(*uint32)(unsafe.Pointer(&k)))) }, nil
	case reflect.Int16, reflect.Uint16:
		return func(k K) uint64 { return Mix64(uint64(*(*uint16)(unsafe.Pointer(&k)))) }, nil
	case reflect.Int8, reflect.Uint8, reflect.Bool:
		return func(k K) uint64 { return Mix64(uint64(*(*uint8)(unsafe.Pointer(&k)))) }, nil
	case reflect.Float64:
		return func(k K) uint64 { return hashFloat64(*(*float64)(unsafe.Pointer(&k))) }, nil
	case reflect.Float32:
		return func(k K) uint64 { return hashFloat64(float64(*(*float32)(unsafe.Pointer(&k)))) }, nil
	}
	h, err := compileHash(t, t.String())
	if err != nil {
		return nil, err
	}
	return func(k K) uint64 { return h.hash(unsafe.Pointer(&k)) }, nil
}

func hashFloat64(f float64) uint64 {
	if f == 0 { // +0 and -0 are equal keys
		f = 0
	}
	return Mix64(math.Float64bits(f))
}

// hashKind is how a hashNode reads the value at its offset.
type hashKind uint8

const (
	hashString hashKind = iota
	hashUint64
	hashUint32
	hashUint16
	hashUint8
	hashF64
	hashF32
	hashStruct // fields in order, folded and mixed
	hashArray  // n elements of one type, folded and mixed
)

// hashNode is the compiled hash of a composite key's part: a tree walked by
// one method instead of nested closures, so the compiler can see that the
// pointer to the key does not escape and the key stays on the stack (a closure
// call would move every key to the heap, one allocation per hash).
type hashNode struct {
	kind   hashKind
	off    uintptr    // offset in the enclosing struct
	fields []hashNode // hashStruct: its fields; hashArray: the element, once
	n      int        // hashArray: the length
	size   uintptr    // hashArray: the element size
}

// hash returns the hash of the value at p. It must not keep p.
func (n *hashNode) hash(p unsafe.Pointer) uint64 {
	switch n.kind {
	case hashString:
		return xxhash.Sum64String(*(*string)(p))
	case hashUint64:
		return Mix64(*(*uint64)(p))
	case hashUint32:
		return Mix64(uint64(*(*uint32)(p)))
	case hashUint16:
		return Mix64(uint64(*(*uint16)(p)))
	case hashUint8:
		return Mix64(uint64(*(*uint8)(p)))
	case hashF64:
		return hashFloat64(*(*float64)(p))
	case hashF32:
		return hashFloat64(float64(*(*float32)(p)))
	case hashStruct:
		h := uint64(0x9e3779b97f4a7c15)
		for i := range n.fields {
			f := &n.fields[i]
			h = (h ^ f.hash(unsafe.Add(p, f.off))) * 0x100000001b3
		}
		return Mix64(h)
	default: // hashArray
		h := uint64(0x9e3779b97f4a7c15)
		elem := &n.fields[0]
		for i := range n.n {
			h = (h ^ elem.hash(unsafe.Add(p, uintptr(i)*n.size))) * 0x100000001b3
		}
		return Mix64(h)
	}
}

// compileHash builds the hash of a value of type t, field by field, for
// composite keys (structs and arrays). Padding is never read.
func compileHash(t reflect.Type, path string) (hashNode, error) {
	switch t.Kind() {
	case reflect.String:
		return hashNode{kind: hashString}, nil
	case reflect.Int, reflect.Uint, reflect.Uintptr:
		if t.Size() == 4 {
			return hashNode{kind: hashUint32}, nil
		}
		return hashNode{kind: hashUint64}, nil
	case reflect.Int64, reflect.Uint64:
		return hashNode{kind: hashUint64}, nil
	case reflect.Int32, reflect.Uint32:
		return hashNode{kind: hashUint32}, nil
	case reflect.Int16, reflect.Uint16:
		return hashNode{kind: hashUint16}, nil
	case reflect.Int8, reflect.Uint8, reflect.Bool:
		return hashNode{kind: hashUint8}, nil
	case reflect.Float64:
		return hashNode{kind: hashF64}, nil
	case reflect.Float32:
		return hashNode{kind: hashF32}, nil
	case reflect.Struct:
		fields := make([]hashNode, 0, t.NumField())
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Name == "_" {
				continue
			}
			h, err := compileHash(f.Type, path+"."+f.Name)
			if err != nil {
				return hashNode{}, err
			}
			h.off = f.Offset
			fields = append(fields, h)
		}
		return hashNode{kind: hashStruct, fields: fields}, nil
	case reflect.Array:
		elem, err := compileHash(t.Elem(), path+"[]")
		if err != nil {
			return hashNode{}, err
		}
		return hashNode{kind: hashArray, fields: []hashNode{elem}, n: t.Len(), size: t.Elem().Size()}, nil
	}
	return hashNode{}, fmt.Errorf("%w %s: %s is a %s, whose hash differs between processes; key by strings, numbers, bools, or structs and arrays of those, or implement state.Hasher",
		ErrUnhashableKey, path, t, t.Kind())
}
