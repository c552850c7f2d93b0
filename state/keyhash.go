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
	h, err := pointerHasher(t, t.String())
	if err != nil {
		return nil, err
	}
	return func(k K) uint64 { return h(unsafe.Pointer(&k)) }, nil
}

func hashFloat64(f float64) uint64 {
	if f == 0 { // +0 and -0 are equal keys
		f = 0
	}
	return Mix64(math.Float64bits(f))
}

type ptrHash func(p unsafe.Pointer) uint64

// pointerHasher builds a hash over the memory of a value of type t, field by field,
// for composite keys (structs and arrays). Padding is never read.
func pointerHasher(t reflect.Type, path string) (ptrHash, error) {
	switch t.Kind() {
	case reflect.String:
		return func(p unsafe.Pointer) uint64 { return xxhash.Sum64String(*(*string)(p)) }, nil
	case reflect.Int, reflect.Uint, reflect.Uintptr:
		if t.Size() == 4 {
			return func(p unsafe.Pointer) uint64 { return Mix64(uint64(*(*uint32)(p))) }, nil
		}
		return func(p unsafe.Pointer) uint64 { return Mix64(*(*uint64)(p)) }, nil
	case reflect.Int64, reflect.Uint64:
		return func(p unsafe.Pointer) uint64 { return Mix64(*(*uint64)(p)) }, nil
	case reflect.Int32, reflect.Uint32:
		return func(p unsafe.Pointer) uint64 { return Mix64(uint64(*(*uint32)(p))) }, nil
	case reflect.Int16, reflect.Uint16:
		return func(p unsafe.Pointer) uint64 { return Mix64(uint64(*(*uint16)(p))) }, nil
	case reflect.Int8, reflect.Uint8, reflect.Bool:
		return func(p unsafe.Pointer) uint64 { return Mix64(uint64(*(*uint8)(p))) }, nil
	case reflect.Float64:
		return func(p unsafe.Pointer) uint64 { return hashFloat64(*(*float64)(p)) }, nil
	case reflect.Float32:
		return func(p unsafe.Pointer) uint64 { return hashFloat64(float64(*(*float32)(p))) }, nil
	case reflect.Struct:
		type field struct {
			off uintptr
			h   ptrHash
		}
		fields := make([]field, 0, t.NumField())
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Name == "_" {
				continue
			}
			h, err := pointerHasher(f.Type, path+"."+f.Name)
			if err != nil {
				return nil, err
			}
			fields = append(fields, field{f.Offset, h})
		}
		return func(p unsafe.Pointer) uint64 {
			h := uint64(0x9e3779b97f4a7c15)
			for _, f := range fields {
				h = (h ^ f.h(unsafe.Add(p, f.off))) * 0x100000001b3
			}
			return Mix64(h)
		}, nil
	case reflect.Array:
		elem, err := pointerHasher(t.Elem(), path+"[]")
		if err != nil {
			return nil, err
		}
		n, size := t.Len(), t.Elem().Size()
		return func(p unsafe.Pointer) uint64 {
			h := uint64(0x9e3779b97f4a7c15)
			for i := range n {
				h = (h ^ elem(unsafe.Add(p, uintptr(i)*size))) * 0x100000001b3
			}
			return Mix64(h)
		}, nil
	}
	return nil, fmt.Errorf("%w %s: %s is a %s, whose hash differs between processes; key by strings, numbers, bools, or structs and arrays of those, or implement state.Hasher",
		ErrUnhashableKey, path, t, t.Kind())
}
