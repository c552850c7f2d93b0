package state

import (
	"errors"
	"math"
	"reflect"
	"testing"
	"unsafe"
)

// The golden hashes below were computed once. They must never change: a key's
// key group is Hash(key) mod maxParallelism, and key groups are how keyed state
// is found again after a restart, a rescale or an upgrade, in every process.

type goldenWord string

type goldenUserID int64

type goldenPair struct {
	A string
	B int64
}

// goldenPadded has padding after A (7 bytes) and after C (6 bytes) on 64-bit platforms.
type goldenPadded struct {
	A bool
	B int64
	C int16
	D float64
}

type goldenBlank struct {
	A int64
	_ int64 // blank fields are not part of the key's value
	B string
}

type goldenCustom struct{ v uint64 }

func (c goldenCustom) Hash64() uint64 { return c.v * 3 }

func hasherOrFatal[K comparable](t *testing.T) func(K) uint64 {
	t.Helper()
	h, err := HasherFor[K]()
	if err != nil {
		t.Fatalf("HasherFor[%s]: %v", reflect.TypeFor[K](), err)
	}
	return h
}

func TestHashGoldenString(t *testing.T) {
	h := hasherOrFatal[string](t)
	for _, c := range []struct {
		key  string
		want uint64
	}{
		{"", 0xef46db3751d8e999},      // xxh64 of the empty string, seed 0
		{"hello", 0x26c7827d889f6da3}, // xxh64("hello"), seed 0
		{"key-0", 0x12daf06715ffa373},
		{"user-42", 0x397e9d3a76af7c81},
	} {
		if got := h(c.key); got != c.want {
			t.Errorf("hash(%q) = %#x, want %#x", c.key, got, c.want)
		}
		if got := HashString(c.key); got != c.want {
			t.Errorf("HashString(%q) = %#x, want %#x", c.key, got, c.want)
		}
	}
	w := hasherOrFatal[goldenWord](t)
	for _, s := range []string{"", "hello", "user-42"} {
		if got, want := w(goldenWord(s)), h(s); got != want {
			t.Errorf("goldenWord(%q) hashes to %#x, string to %#x; a named type must hash like its underlying type", s, got, want)
		}
	}
}

func TestHashGoldenIntegers(t *testing.T) {
	h64 := hasherOrFatal[int64](t)
	for _, c := range []struct {
		key  int64
		want uint64
	}{
		{0, 0},
		{1, 0xb456bcfc34c2cb2c},
		{-1, 0x64b5720b4b825f21},
		{42, 0x810879608e4259cc},
		{math.MaxInt64, 0xabb93df0a930edea},
		{math.MinInt64, 0x8f780810af31a493},
	} {
		if got := h64(c.key); got != c.want {
			t.Errorf("int64 hash(%d) = %#x, want %#x", c.key, got, c.want)
		}
		if got := Mix64(uint64(c.key)); got != c.want {
			t.Errorf("Mix64(%d) = %#x, want %#x", c.key, got, c.want)
		}
	}
	h32 := hasherOrFatal[int32](t)
	for _, c := range []struct {
		key  int32
		want uint64
	}{
		{0, 0},
		{1, 0xb456bcfc34c2cb2c},
		{-1, 0xcc71ecda2aa8bcc6}, // the 32 bits zero-extended: Mix64(0xffffffff)
		{42, 0x810879608e4259cc},
	} {
		if got := h32(c.key); got != c.want {
			t.Errorf("int32 hash(%d) = %#x, want %#x", c.key, got, c.want)
		}
	}
	// Named integer types and same-width unsigned types hash like int64.
	hu := hasherOrFatal[goldenUserID](t)
	hu64 := hasherOrFatal[uint64](t)
	hint := hasherOrFatal[int](t)
	for _, v := range []int64{0, 1, -1, 42, math.MinInt64} {
		want := h64(v)
		if got := hu(goldenUserID(v)); got != want {
			t.Errorf("goldenUserID(%d) hashes to %#x, int64 to %#x", v, got, want)
		}
		if got := hu64(uint64(v)); got != want {
			t.Errorf("uint64(%d) hashes to %#x, int64 to %#x", v, got, want)
		}
		if unsafe.Sizeof(int(0)) == 8 {
			if got := hint(int(v)); got != want {
				t.Errorf("int(%d) hashes to %#x, int64 to %#x", v, got, want)
			}
		}
	}
}

func TestHashGoldenFloatsAndBools(t *testing.T) {
	hf := hasherOrFatal[float64](t)
	for _, c := range []struct {
		key  float64
		want uint64
	}{
		{0, 0},
		{1, 0xae98ebe19cceb2b2},
		{-1.5, 0x6bdf54fe3ac977de},
		{3.14159, 0xca0ecb10d3383201},
		{math.Inf(1), 0xd58a530c45f9a43f},
	} {
		if got := hf(c.key); got != c.want {
			t.Errorf("float64 hash(%v) = %#x, want %#x", c.key, got, c.want)
		}
	}
	negZero := math.Copysign(0, -1)
	if math.Float64bits(negZero) == math.Float64bits(0) {
		t.Fatal("test setup: -0.0 has the bits of +0.0")
	}
	if got, want := hf(negZero), hf(0); got != want {
		t.Errorf("hash(-0.0) = %#x, hash(+0.0) = %#x; equal keys must hash equal", got, want)
	}
	h32 := hasherOrFatal[float32](t)
	if got, want := h32(float32(negZero)), h32(0); got != want {
		t.Errorf("float32: hash(-0) = %#x, hash(+0) = %#x", got, want)
	}
	if got, want := h32(1.5), hf(1.5); got != want {
		t.Errorf("float32(1.5) hashes to %#x, float64(1.5) to %#x", got, want)
	}
	hb := hasherOrFatal[bool](t)
	if got := hb(false); got != 0 {
		t.Errorf("hash(false) = %#x, want 0", got)
	}
	if got, want := hb(true), uint64(0xb456bcfc34c2cb2c); got != want {
		t.Errorf("hash(true) = %#x, want %#x", got, want)
	}
}

func TestHashGoldenComposite(t *testing.T) {
	hp := hasherOrFatal[goldenPair](t)
	for _, c := range []struct {
		key  goldenPair
		want uint64
	}{
		{goldenPair{}, 0x1497cab0230a7a5},
		{goldenPair{"a", 1}, 0xbad6a3494d6a60ad},
		{goldenPair{"user-42", -7}, 0xc288b515f594de34},
	} {
		if got := hp(c.key); got != c.want {
			t.Errorf("hash(%+v) = %#x, want %#x", c.key, got, c.want)
		}
	}
	hq := hasherOrFatal[goldenPadded](t)
	if got, want := hq(goldenPadded{true, 7, -3, 2.5}), uint64(0xdf2a084658cc74e9); got != want {
		t.Errorf("hash(goldenPadded) = %#x, want %#x", got, want)
	}
	ha := hasherOrFatal[[3]int32](t)
	if got, want := ha([3]int32{1, 2, 3}), uint64(0x8f436b131323d1df); got != want {
		t.Errorf("hash([1 2 3]) = %#x, want %#x", got, want)
	}
	// -0.0 inside a struct is the same key as +0.0.
	type withFloat struct {
		Name string
		X    float64
	}
	hw := hasherOrFatal[withFloat](t)
	if a, b := hw(withFloat{"p", math.Copysign(0, -1)}), hw(withFloat{"p", 0}); a != b {
		t.Errorf("struct with -0.0 hashes to %#x, with +0.0 to %#x", a, b)
	}
	// Field order matters: {A,B} and {B,A} are different keys.
	type ab struct{ A, B int64 }
	hab := hasherOrFatal[ab](t)
	if hab(ab{1, 2}) == hab(ab{2, 1}) {
		t.Errorf("hash(ab{1,2}) == hash(ab{2,1}); fields must not commute")
	}
}

// TestHashIgnoresPadding writes garbage into the padding bytes of a struct key:
// the hash must depend only on the fields, or equal keys would land in different
// key groups depending on how they were built.
func TestHashIgnoresPadding(t *testing.T) {
	hq := hasherOrFatal[goldenPadded](t)
	k := goldenPadded{A: true, B: 7, C: -3, D: 2.5}
	want := hq(k)
	var dirty goldenPadded
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&dirty)), unsafe.Sizeof(dirty))
	for i := range raw {
		raw[i] = 0xa5
	}
	dirty.A, dirty.B, dirty.C, dirty.D = k.A, k.B, k.C, k.D
	if dirty != k {
		t.Fatal("test setup: dirty != k")
	}
	if unsafe.Sizeof(dirty) > 1+8+2+8 && raw[1] != 0xa5 {
		t.Fatal("test setup: padding byte after A was not dirtied")
	}
	if got := hq(dirty); got != want {
		t.Errorf("hash with dirty padding = %#x, clean = %#x", got, want)
	}

	hb := hasherOrFatal[goldenBlank](t)
	var x, y goldenBlank
	x.A, x.B = 1, "b"
	y.A, y.B = 1, "b"
	*(*int64)(unsafe.Add(unsafe.Pointer(&y), unsafe.Offsetof(y.A)+8)) = 99 // the blank field
	if hb(x) != hb(y) {
		t.Errorf("blank field changes the hash: %#x vs %#x", hb(x), hb(y))
	}
}

func TestHashCustomHasher(t *testing.T) {
	h := hasherOrFatal[goldenCustom](t)
	if got := h(goldenCustom{v: 5}); got != 15 {
		t.Errorf("Hasher key: hash = %d, want 15 (its own Hash64)", got)
	}
}

// TestHasherIsDeterministic checks that two HasherFor calls agree on many keys:
// nothing is seeded per call.
func TestHasherIsDeterministic(t *testing.T) {
	a, b := hasherOrFatal[goldenPair](t), hasherOrFatal[goldenPair](t)
	for i := range int64(1000) {
		k := goldenPair{A: string(rune('a' + i%26)), B: i}
		if a(k) != b(k) {
			t.Fatalf("two hashers disagree on %+v: %#x vs %#x", k, a(k), b(k))
		}
	}
}

type unhashPtr struct {
	ID int64
	P  *int
}

type unhashIface struct {
	Name string
	V    any
}

type unhashNested struct {
	Outer int32
	In    struct {
		Ch chan int
	}
}

type unhashArray struct {
	Items [2]*int
}

func TestHasherForRejectsUnstableKeys(t *testing.T) {
	const tail = ", whose hash differs between processes; key by strings, numbers, bools, or structs and arrays of those, or implement state.Hasher"
	check := func(t *testing.T, err error, want string) {
		t.Helper()
		if !errors.Is(err, ErrUnhashableKey) {
			t.Fatalf("err = %v, want ErrUnhashableKey", err)
		}
		if got := err.Error(); got != want+tail {
			t.Fatalf("err = %q\nwant  %q", got, want+tail)
		}
	}
	// Comparable key types: rejected by HasherFor itself.
	t.Run("pointer", func(t *testing.T) {
		_, err := HasherFor[*int]()
		check(t, err, "unsupported key type *int: *int is a ptr")
	})
	t.Run("pointer field", func(t *testing.T) {
		_, err := HasherFor[unhashPtr]()
		check(t, err, "unsupported key type state.unhashPtr.P: *int is a ptr")
	})
	t.Run("interface", func(t *testing.T) {
		_, err := HasherFor[any]()
		check(t, err, "unsupported key type interface {}: interface {} is a interface")
	})
	t.Run("interface field", func(t *testing.T) {
		_, err := HasherFor[unhashIface]()
		check(t, err, "unsupported key type state.unhashIface.V: interface {} is a interface")
	})
	t.Run("chan in nested struct", func(t *testing.T) {
		_, err := HasherFor[unhashNested]()
		check(t, err, "unsupported key type state.unhashNested.In.Ch: chan int is a chan")
	})
	t.Run("array of pointers", func(t *testing.T) {
		_, err := HasherFor[unhashArray]()
		check(t, err, "unsupported key type state.unhashArray.Items[]: *int is a ptr")
	})
	// Slices, maps and funcs are not comparable, so no K can hold them; they
	// still must be refused by the field walk that HasherFor uses.
	for _, c := range []struct {
		name string
		typ  reflect.Type
		want string
	}{
		{"slice in struct", reflect.TypeFor[struct {
			A    int
			Tags []string
		}](), "unsupported key type K.Tags: []string is a slice"},
		{"map in struct", reflect.TypeFor[struct{ M map[string]int }](), "unsupported key type K.M: map[string]int is a map"},
		{"func in struct", reflect.TypeFor[struct{ F func() }](), "unsupported key type K.F: func() is a func"},
		{"map", reflect.TypeFor[map[int]int](), "unsupported key type K: map[int]int is a map"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := compileHash(c.typ, "K")
			check(t, err, c.want)
		})
	}
}
