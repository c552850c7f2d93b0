package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/linkedin/goavro/v2"
)

func mustFor[T any](t testing.TB) *Codec[T] {
	t.Helper()
	c, err := For[T]()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// roundTrip encodes v, decodes it and checks that nothing is left over.
func roundTrip[T any](t *testing.T, v T) T {
	t.Helper()
	c := mustFor[T](t)
	b := c.Append(nil, v)
	got, rest, err := c.Decode(b)
	if err != nil {
		t.Fatalf("decode %x: %v", b, err)
	}
	if len(rest) != 0 {
		t.Fatalf("decode %x: %d bytes left", b, len(rest))
	}
	return got
}

func checkRoundTrip[T any](t *testing.T, v T) {
	t.Helper()
	if got := roundTrip(t, v); !reflect.DeepEqual(got, v) {
		t.Errorf("round trip of %T:\n got %+v\nwant %+v", v, got, v)
	}
}

type (
	hidden struct {
		key  int64
		name string
		w    point
	}
	empty     struct{}
	withEmpty struct {
		A int64
		E empty
		B string
	}
	tagged struct {
		A    int64  `avro:"alpha"`
		Skip string `avro:"-"`
		_    int32
		C    bool
	}
	embeds struct {
		point
		*inner
		Z int64
	}
	namedMap   map[int64]string
	namedBytes [3]byte
)

func TestRoundTrip(t *testing.T) {
	t.Run("scalars", func(t *testing.T) {
		checkRoundTrip(t, true)
		checkRoundTrip(t, int8(math.MinInt8))
		checkRoundTrip(t, int16(math.MaxInt16))
		checkRoundTrip(t, int32(math.MinInt32))
		checkRoundTrip(t, int64(math.MinInt64))
		checkRoundTrip(t, int(math.MaxInt))
		checkRoundTrip(t, uint8(math.MaxUint8))
		checkRoundTrip(t, uint16(math.MaxUint16))
		checkRoundTrip(t, uint32(math.MaxUint32))
		checkRoundTrip(t, uint64(math.MaxUint64))
		checkRoundTrip(t, uint(math.MaxUint))
		checkRoundTrip(t, uintptr(12345))
		checkRoundTrip(t, float32(-1.25))
		checkRoundTrip(t, math.Inf(-1))
		checkRoundTrip(t, "héllo, wörld")
		checkRoundTrip(t, "")
		checkRoundTrip(t, []byte{0, 255})
		checkRoundTrip(t, [16]byte{1, 2, 3})
		checkRoundTrip(t, namedBytes{7, 8, 9})
		checkRoundTrip(t, 3*time.Hour)
		checkRoundTrip(t, time.Unix(1700000000, 999999999).UTC())
		checkRoundTrip(t, time.Time{})
	})
	t.Run("composite", func(t *testing.T) {
		checkRoundTrip(t, sample())
		checkRoundTrip(t, composite{Tags: map[string]int64{}, ByID: map[int32]string{}})
	})
	t.Run("pointers", func(t *testing.T) {
		checkRoundTrip[*int64](t, nil)
		x := int64(-3)
		checkRoundTrip(t, &x)
		checkRoundTrip(t, &point{X: 1, Y: 2})
		checkRoundTrip(t, []*point{nil, {X: 3}, nil})
		s := "s"
		checkRoundTrip(t, struct{ P, Q *string }{P: &s})
	})
	t.Run("slices and arrays", func(t *testing.T) {
		checkRoundTrip(t, []point{{1, 2}, {3, 4}, {-5, -6}})
		checkRoundTrip(t, [][]string{{"a"}, nil, {"b", "c"}})
		checkRoundTrip(t, [3]int16{-1, 0, 1})
		checkRoundTrip(t, [0]int64{})
		checkRoundTrip(t, [0]byte{})
		checkRoundTrip(t, []empty{{}, {}, {}})
		checkRoundTrip(t, [][4]byte{{1}, {2}})
	})
	t.Run("maps", func(t *testing.T) {
		checkRoundTrip(t, map[string]point{"a": {1, 2}, "b": {3, 4}, "": {}})
		checkRoundTrip(t, map[int64]string{-1: "m", 0: "z", 1 << 50: "big"})
		checkRoundTrip(t, map[uint8][]int32{0: {1}, 255: nil})
		checkRoundTrip(t, namedMap{1: "a"})
		checkRoundTrip(t, map[string]map[int32]bool{"x": {1: true}, "y": {}})
	})
	t.Run("unexported fields", func(t *testing.T) {
		checkRoundTrip(t, hidden{key: 7, name: "n", w: point{X: -1, Y: 1}})
	})
	t.Run("generic", func(t *testing.T) {
		checkRoundTrip(t, entry[int64, string]{key: 1, val: "v"})
		checkRoundTrip(t, entry[string, entry[int32, point]]{key: "k", val: entry[int32, point]{key: 2, val: point{3, 4}}})
	})
	t.Run("empty struct", func(t *testing.T) {
		checkRoundTrip(t, struct{}{})
		checkRoundTrip(t, withEmpty{A: 1, B: "b"})
	})
	t.Run("embedded", func(t *testing.T) {
		checkRoundTrip(t, embeds{point: point{1, 2}, inner: &inner{A: 3, B: "i"}, Z: 4})
		checkRoundTrip(t, embeds{Z: 4})
	})
	t.Run("tags", func(t *testing.T) {
		got := roundTrip(t, tagged{A: 1, Skip: "not written", C: true})
		if want := (tagged{A: 1, C: true}); got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
}

// TestNormalization pins what does not round-trip: Avro has no nil.
func TestNormalization(t *testing.T) {
	if got := roundTrip(t, []byte{}); got != nil {
		t.Errorf("empty []byte decoded as %#v, want nil", got)
	}
	if got := roundTrip(t, []int64{}); got != nil {
		t.Errorf("empty []int64 decoded as %#v, want nil", got)
	}
	if got := roundTrip[map[string]int64](t, nil); got == nil || len(got) != 0 {
		t.Errorf("nil map decoded as %#v, want an empty map", got)
	}
	local := time.Date(2024, 5, 6, 7, 8, 9, 10, time.FixedZone("X", 3600))
	if got := roundTrip(t, local); got != local.UTC() {
		t.Errorf("time decoded as %v, want %v", got, local.UTC())
	}
	for _, c := range []struct{ in, want time.Time }{
		{time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, math.MinInt64+1).UTC()},
		{time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, math.MaxInt64).UTC()},
	} {
		if got := roundTrip(t, c.in); got != c.want {
			t.Errorf("time %v decoded as %v, want %v", c.in, got, c.want)
		}
	}
}

// TestProperty checks random composites against the slow reference:
// Decode(Append(v)) == v, and goavro decodes our bytes to v's native form.
func TestProperty(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	c := mustFor[composite](t)
	g, err := goavro.NewCodec(c.Schema())
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	for i := range 2000 {
		v := randComposite(r)
		b = c.Append(b[:0], v)
		got, rest, err := c.Decode(b)
		if err != nil || len(rest) != 0 {
			t.Fatalf("seed %d value %d: decode: %v, %d bytes left", seed, i, err, len(rest))
		}
		if !reflect.DeepEqual(got, v) {
			t.Fatalf("seed %d value %d:\n got %+v\nwant %+v", seed, i, got, v)
		}
		n, rest, err := g.NativeFromBinary(b)
		if err != nil || len(rest) != 0 {
			t.Fatalf("seed %d value %d: goavro decode: %v, %d bytes left", seed, i, err, len(rest))
		}
		if want := sortByID(v.native()); !reflect.DeepEqual(sortByID(n.(map[string]any)), want) {
			t.Fatalf("seed %d value %d: goavro decoded\n%v\nwant\n%v", seed, i, n, want)
		}
	}
}

// sortByID orders the entries of the ByID map, which Append writes in Go's
// random map order.
func sortByID(n map[string]any) map[string]any {
	l := n["ByID"].([]any)
	key := func(i int) int32 { return l[i].(map[string]any)["key"].(int32) }
	for i := 1; i < len(l); i++ {
		for j := i; j > 0 && key(j) < key(j-1); j-- {
			l[j], l[j-1] = l[j-1], l[j]
		}
	}
	return n
}

func TestGolden(t *testing.T) {
	hex := func(b []byte) string { return strings.TrimSpace(string(appendHex(nil, b))) }
	check := func(t *testing.T, got []byte, want string) {
		t.Helper()
		if hex(got) != want {
			t.Errorf("got % x, want %s", got, want)
		}
	}
	enc := func(v any) []byte {
		switch v := v.(type) {
		case int64:
			return mustFor[int64](t).Append(nil, v)
		case string:
			return mustFor[string](t).Append(nil, v)
		}
		panic("unreachable")
	}
	for _, c := range []struct {
		v    int64
		want string
	}{
		{0, "00"}, {-1, "01"}, {1, "02"}, {-64, "7f"}, {63, "7e"}, {64, "80 01"}, {-65, "81 01"},
		{8191, "fe 7f"}, {8192, "80 80 01"},
		{math.MaxInt64, "fe ff ff ff ff ff ff ff ff 01"},
		{math.MinInt64, "ff ff ff ff ff ff ff ff ff 01"},
	} {
		check(t, enc(c.v), c.want)
	}
	check(t, enc("ab"), "04 61 62")
	check(t, enc(""), "00")
	check(t, mustFor[bool](t).Append(nil, true), "01")
	check(t, mustFor[int8](t).Append(nil, -2), "03")
	check(t, mustFor[uint64](t).Append(nil, math.MaxUint64), "01")
	check(t, mustFor[float32](t).Append(nil, 1), "00 00 80 3f")
	check(t, mustFor[float64](t).Append(nil, -2), "00 00 00 00 00 00 00 c0")
	check(t, mustFor[[]byte](t).Append(nil, []byte{1, 2}), "04 01 02")
	check(t, mustFor[[2]byte](t).Append(nil, [2]byte{7, 8}), "07 08")
	check(t, mustFor[*int64](t).Append(nil, nil), "00")
	one := int64(1)
	check(t, mustFor[*int64](t).Append(nil, &one), "02 02")
	check(t, mustFor[[]int32](t).Append(nil, []int32{1, -2}), "04 02 03 00")
	check(t, mustFor[[]int32](t).Append(nil, nil), "00")
	check(t, mustFor[map[string]int32](t).Append(nil, map[string]int32{"a": 1}), "02 02 61 02 00")
	check(t, mustFor[map[int32]string](t).Append(nil, map[int32]string{1: "a"}), "02 02 02 61 00")
	check(t, mustFor[time.Time](t).Append(nil, time.Unix(0, 1)), "02")
	check(t, mustFor[time.Time](t).Append(nil, time.Time{}), "ff ff ff ff ff ff ff ff ff 01")
	check(t, mustFor[struct{}](t).Append(nil, struct{}{}), "")
	check(t, mustFor[point](t).Append(nil, point{X: 1, Y: -1}), "02 01")
	check(t, mustFor[withEmpty](t).Append(nil, withEmpty{A: 2, B: "c"}), "04 02 63")
	check(t, mustFor[entry[int64, string]](t).Append(nil, entry[int64, string]{key: 64, val: "ab"}), "80 01 04 61 62")
	check(t, mustFor[hidden](t).Append(nil, hidden{key: 1, name: "n", w: point{2, 3}}), "02 02 6e 04 06")
}

func appendHex(b, v []byte) []byte {
	const digits = "0123456789abcdef"
	for _, c := range v {
		b = append(b, digits[c>>4], digits[c&15], ' ')
	}
	return b
}

func TestSchema(t *testing.T) {
	for _, c := range []struct {
		name string
		got  func() (string, error)
		want string
	}{
		{"long", schemaOf[int64], `"long"`},
		{"uint64", schemaOf[uint64], `"long"`},
		{"time", schemaOf[time.Time], `{"type":"long","logicalType":"timestamp-nanos"}`},
		{"bytes", schemaOf[[]byte], `"bytes"`},
		{"fixed", schemaOf[[16]byte], `{"type":"fixed","name":"fixed_16","size":16}`},
		{"named fixed", schemaOf[namedBytes], `{"type":"fixed","name":"` + pkg + `namedBytes","size":3}`},
		{"pointer", schemaOf[*string], `["null","string"]`},
		{"string map", schemaOf[map[string]float32], `{"type":"map","values":"float"}`},
		{"empty struct", schemaOf[struct{}], `{"type":"record","name":"Anonymous","fields":[]}`},
		{"record", schemaOf[point], `{"type":"record","name":"` + pkg + `point","fields":[` +
			`{"name":"X","type":"int"},{"name":"Y","type":"int"}]}`},
		{"unexported and generic", schemaOf[entry[int64, string]], `{"type":"record","name":"` + pkg + `entry_int64_string_","fields":[` +
			`{"name":"key","type":"long"},{"name":"val","type":"string"}]}`},
		{"tags", schemaOf[tagged], `{"type":"record","name":"` + pkg + `tagged","fields":[` +
			`{"name":"alpha","type":"long"},{"name":"C","type":"boolean"}]}`},
		{"int map", schemaOf[namedMap], `{"type":"array","items":{"type":"record","name":"` + pkg + `namedMap_entry","fields":[` +
			`{"name":"key","type":"long"},{"name":"value","type":"string"}]}}`},
		{"anonymous", schemaOf[struct {
			In  struct{ A int32 }
			Out []struct{ B bool }
		}], `{"type":"record","name":"Anonymous","fields":[` +
			`{"name":"In","type":{"type":"record","name":"Anonymous_In","fields":[{"name":"A","type":"int"}]}},` +
			`{"name":"Out","type":{"type":"array","items":{"type":"record","name":"Anonymous_Out_item","fields":[{"name":"B","type":"boolean"}]}}}]}`},
		// A type used twice is defined once, then referred to by name.
		{"reuse", schemaOf[struct {
			A  point
			B  *point
			C  []point
			M1 map[int32]point
			M2 map[int32]point
			F1 [2]byte
			F2 [2]byte
		}], `{"type":"record","name":"Anonymous","fields":[` +
			`{"name":"A","type":{"type":"record","name":"` + pkg + `point","fields":[{"name":"X","type":"int"},{"name":"Y","type":"int"}]}},` +
			`{"name":"B","type":["null","` + pkg + `point"]},` +
			`{"name":"C","type":{"type":"array","items":"` + pkg + `point"}},` +
			`{"name":"M1","type":{"type":"array","items":{"type":"record","name":"Anonymous_M1_entry","fields":[{"name":"key","type":"int"},{"name":"value","type":"` + pkg + `point"}]}}},` +
			`{"name":"M2","type":{"type":"array","items":"Anonymous_M1_entry"}},` +
			`{"name":"F1","type":{"type":"fixed","name":"fixed_2","size":2}},` +
			`{"name":"F2","type":"fixed_2"}]}`},
		// entry[int,int] and entry_int_int_ sanitize to the same name.
		{"collision", schemaOf[struct {
			A entry[int, int]
			B entry_int_int_
			C entry[int, int]
		}], `{"type":"record","name":"Anonymous","fields":[` +
			`{"name":"A","type":{"type":"record","name":"` + pkg + `entry_int_int_","fields":[{"name":"key","type":"long"},{"name":"val","type":"long"}]}},` +
			`{"name":"B","type":{"type":"record","name":"` + pkg + `entry_int_int__2","fields":[]}},` +
			`{"name":"C","type":"` + pkg + `entry_int_int_"}]}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.got()
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("schema\n got %s\nwant %s", got, c.want)
			}
			if _, err := goavro.NewCodec(got); err != nil {
				t.Errorf("goavro rejects the schema: %v", err)
			}
		})
	}
}

//lint:ignore ST1003 the name collides on purpose with entry[int,int]
type entry_int_int_ struct{}

func schemaOf[T any]() (string, error) {
	c, err := For[T]()
	if err != nil {
		return "", err
	}
	return c.Schema(), nil
}

// TestForCaches checks that a codec is built once per type.
func TestForCaches(t *testing.T) {
	first, second := mustFor[point](t), mustFor[point](t)
	if first != second {
		t.Error("For returned two codecs for one type")
	}
}

type (
	node struct {
		V    int64
		Next *node
	}
	hasChan   struct{ Bar chan int }
	Foo       struct{ Bar chan int }
	badKey    struct{ M map[float64]int }
	badValue  struct{ M map[string]func() }
	badElem   struct{ L []complex128 }
	badAny    struct{ X any }
	badPtrPtr struct{ P **int }
	badUnsafe struct{ P unsafe.Pointer }
	badName   struct{ Größe int }
	badTag    struct {
		A int `avro:"x"`
		B int `avro:"x"`
	}
	deep    struct{ In []map[int32]*node }
	mutualA struct{ B []mutualB }
	mutualB struct{ A *mutualA }
)

func TestUnsupported(t *testing.T) {
	for _, c := range []struct {
		err  func() (string, error)
		want string
	}{
		{schemaOf[Foo], "codec: field Foo.Bar of type chan int is not supported"},
		{schemaOf[*hasChan], "codec: field hasChan.Bar of type chan int is not supported"},
		{schemaOf[struct{ F func() }], "codec: field F of type func() is not supported"},
		{schemaOf[func()], "codec: type func() is not supported"},
		{schemaOf[any], "codec: type interface {} is not supported"},
		{schemaOf[[]chan int], "codec: field []chan int[] of type chan int is not supported"},
		{schemaOf[badKey], "codec: field badKey.M of type map[float64]int is not supported: map keys must be strings or integers"},
		{schemaOf[badValue], "codec: field badValue.M[value] of type func() is not supported"},
		{schemaOf[badElem], "codec: field badElem.L[] of type complex128 is not supported"},
		{schemaOf[badAny], "codec: field badAny.X of type interface {} is not supported"},
		{schemaOf[badPtrPtr], "codec: field badPtrPtr.P of type **int is not supported: a pointer to a pointer would be a union inside a union"},
		{schemaOf[badUnsafe], "codec: field badUnsafe.P of type unsafe.Pointer is not supported"},
		{schemaOf[node], "codec: field node.Next of type codec.node is not supported: recursive type"},
		{schemaOf[deep], "codec: field deep.In[][value].Next of type codec.node is not supported: recursive type"},
		{schemaOf[mutualA], "codec: field mutualA.B[].A of type codec.mutualA is not supported: recursive type"},
		{schemaOf[badName], `codec: field badName.Größe of type int is not supported: "Größe" is not a valid Avro field name; rename it with an avro:"name" tag`},
		{schemaOf[badTag], `codec: field badTag.B of type int is not supported: Avro field name "x" is also used by field A; rename one with an avro:"name" tag`},
	} {
		_, err := c.err()
		if err == nil || err.Error() != c.want {
			t.Errorf("got error %v\nwant %s", err, c.want)
		}
		var ute *UnsupportedTypeError
		if !errors.As(err, &ute) {
			t.Errorf("%v is not an *UnsupportedTypeError", err)
		}
	}
}

func TestDecodeTruncated(t *testing.T) {
	c := mustFor[composite](t)
	b := c.Append(nil, sample())
	for i := range len(b) {
		_, rest, err := c.Decode(b[:i])
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("prefix of %d of %d bytes: got %v, want ErrCorrupt", i, len(b), err)
		}
		if rest != nil {
			t.Fatalf("prefix of %d bytes: rest %x on error", i, rest)
		}
	}
	// Trailing bytes are the caller's: Decode returns them.
	_, rest, err := c.Decode(append(b, 1, 2))
	if err != nil || !bytes.Equal(rest, []byte{1, 2}) {
		t.Fatalf("got rest %x, %v; want 0102", rest, err)
	}
}

func TestDecodeInvalid(t *testing.T) {
	type i8 struct {
		A int64
		B int8
	}
	for _, c := range []struct {
		name string
		err  func() error
		want string
	}{
		{"bool", decodeErr[bool]("02"), "codec: decode bool at byte 0: corrupt avro data: boolean byte 0x2"},
		{"int8 overflow", decodeErr[i8]("02 d8 04"), "codec: decode codec.i8 at byte 1: corrupt avro data: 300 overflows int8"},
		{"uint8 negative", decodeErr[uint8]("01"), "codec: decode uint8 at byte 0: corrupt avro data: -1 overflows uint8"},
		{"int32 overflow", decodeErr[int32]("80 80 80 80 10"), "codec: decode int32 at byte 0: corrupt avro data: 2147483648 overflows int32"},
		{"uint32 overflow", decodeErr[uint32]("80 80 80 80 20"), "codec: decode uint32 at byte 0: corrupt avro data: 4294967296 overflows uint32"},
		{"overlong varint", decodeErr[int64]("ff ff ff ff ff ff ff ff ff 02"), "codec: decode int64 at byte 0: corrupt avro data: varint longer than 64 bits"},
		{"negative length", decodeErr[string]("01"), "codec: decode string at byte 0: corrupt avro data: negative length -1"},
		{"long string", decodeErr[string]("08 61"), "codec: decode string at byte 0: corrupt avro data: length 4 exceeds the 1 bytes left"},
		{"union branch", decodeErr[*int64]("04 02"), "codec: decode *int64 at byte 0: corrupt avro data: union branch 2, want 0 (null) or 1"},
		{"huge count", decodeErr[[]int64]("80 80 80 80 80 80 02 02"), "codec: decode []int64 at byte 0: corrupt avro data: block of 4398046511104 items in 1 bytes"},
		{"huge map", decodeErr[map[string]int64]("fe ff ff ff ff ff ff ff ff 01"), "codec: decode map[string]int64 at byte 0: corrupt avro data: block of 9223372036854775807 items in 0 bytes"},
		{"min count", decodeErr[[]int64]("ff ff ff ff ff ff ff ff ff 01"), "codec: decode []int64 at byte 0: corrupt avro data: block count -9223372036854775808"},
		{"short array", decodeErr[[2]int64]("02 02 00"), "codec: decode [2]int64 at byte 2: corrupt avro data: array of 1 items, want 2"},
		{"long array", decodeErr[[2]int64]("06 02 02 02 00"), "codec: decode [2]int64 at byte 0: corrupt avro data: array of more than 2 items"},
		{"negative size", decodeErr[[]int64]("03 01 02 00"), "codec: decode []int64 at byte 1: corrupt avro data: negative block size -1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.err()
			if err == nil || err.Error() != c.want {
				t.Errorf("got  %v\nwant %s", err, c.want)
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("%v does not wrap ErrCorrupt", err)
			}
		})
	}
}

// TestDecodeBlocks checks that Decode reads arrays and maps written in
// several blocks and with negative counts, as other Avro writers may.
func TestDecodeBlocks(t *testing.T) {
	got := decodeHex[[]int64](t, "02 02 03 04 04 06 00") // [1], then [2, 3] with size
	if want := []int64{1, 2, 3}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	m := decodeHex[map[string]int32](t, "02 02 61 02 02 02 62 04 00")
	if want := map[string]int32{"a": 1, "b": 2}; !reflect.DeepEqual(m, want) {
		t.Errorf("got %v, want %v", m, want)
	}
	a := decodeHex[[2]int16](t, "02 02 01 02 04 00")
	if want := [2]int16{1, 2}; a != want {
		t.Errorf("got %v, want %v", a, want)
	}
	// Items of zero size cost no input: a large count allocates nothing.
	e := decodeHex[[]struct{}](t, "80 80 80 80 80 80 02 00")
	if len(e) != 1<<42 {
		t.Errorf("got %d empty structs, want %d", len(e), 1<<42)
	}
}

func decodeHex[T any](t *testing.T, h string) T {
	t.Helper()
	v, rest, err := mustFor[T](t).Decode(unhex(h))
	if err != nil || len(rest) != 0 {
		t.Fatalf("decode %s: %v, %d bytes left", h, err, len(rest))
	}
	return v
}

func decodeErr[T any](h string) func() error {
	return func() error {
		c, err := For[T]()
		if err != nil {
			return err
		}
		_, _, err = c.Decode(unhex(h))
		return err
	}
}

func unhex(h string) []byte {
	var b []byte
	for _, f := range strings.Fields(h) {
		var c byte
		for _, d := range []byte(f) {
			c = c<<4 | byte(strings.IndexByte("0123456789abcdef", d))
		}
		b = append(b, c)
	}
	return b
}

// TestGoavroBinary checks our bytes against goavro's encoder for the same
// value in its native form.
func TestGoavroBinary(t *testing.T) {
	c := mustFor[composite](t)
	g, err := goavro.NewCodec(c.Schema())
	if err != nil {
		t.Fatalf("goavro rejects %s: %v", c.Schema(), err)
	}
	for _, v := range []composite{sample(), {}} {
		want, err := g.BinaryFromNative(nil, v.native())
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Append(nil, v); !bytes.Equal(got, want) {
			t.Errorf("Append\n got % x\nwant % x (goavro)", got, want)
		}
	}
}

func TestAppendAllocs(t *testing.T) {
	c := mustFor[composite](t)
	v := sample()
	v.Tags, v.ByID = nil, nil // maps go through reflect and allocate
	b := c.Append(nil, v)
	if n := testing.AllocsPerRun(100, func() { b = c.Append(b[:0], v) }); n != 0 {
		t.Errorf("Append allocates %v times, want 0", n)
	}
	e := mustFor[stringEntry](t)
	s := stringEntry{Key: "some key", Value: 7}
	b = e.Append(b[:0], s)
	if n := testing.AllocsPerRun(100, func() { _, _, _ = e.Decode(b) }); n != 1 {
		t.Errorf("Decode of {string, int64} allocates %v times, want 1 (the string)", n)
	}
}

// TestReadLongEveryLength: every long of every encoded length is written as
// the Avro specification says (zig-zag, then a base-128 varint) and reads back
// with its length, at the end of the input and followed by other bytes;
// every truncation of it reads as truncated.
func TestReadLongEveryLength(t *testing.T) {
	var vs []int64
	for shift := range 64 {
		u := uint64(1) << shift
		for _, x := range []uint64{u - 1, u, u + 1, u | u>>1 | 0x5555} {
			vs = append(vs, int64(x), -int64(x))
		}
	}
	vs = append(vs, math.MaxInt64, math.MinInt64)
	for _, v := range vs {
		enc := appendLong(nil, v)
		if want := binary.AppendUvarint(nil, uint64(v<<1)^uint64(v>>63)); !bytes.Equal(enc, want) {
			t.Fatalf("appendLong(%d) = % x, want % x", v, enc, want)
		}
		for _, tail := range [][]byte{nil, {0}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}} {
			got, n := readLong(append(append([]byte{}, enc...), tail...))
			if got != v || n != len(enc) {
				t.Fatalf("readLong(% x + % x) = %d, %d; want %d, %d", enc, tail, got, n, v, len(enc))
			}
		}
		for cut := range len(enc) {
			if _, n := readLong(enc[:cut]); n != 0 {
				t.Fatalf("readLong(% x), truncated from % x: n = %d, want 0", enc[:cut], enc, n)
			}
		}
	}
}

// TestDecodeAppend: DecodeAppend decodes what Append wrote, after what dst
// held; a bad value keeps those before it and says at which byte it is.
func TestDecodeAppend(t *testing.T) {
	c := mustFor[stringEntry](t)
	want := []stringEntry{{"a", 1}, {"", -2}, {strings.Repeat("k", 300), 1 << 50}}
	var b []byte
	for _, v := range want {
		b = c.Append(b, v)
	}
	b = append(b, 7)
	got, rest, err := c.DecodeAppend([]stringEntry{{"before", 0}}, b, len(want))
	if err != nil || !reflect.DeepEqual(got, append([]stringEntry{{"before", 0}}, want...)) || !bytes.Equal(rest, []byte{7}) {
		t.Fatalf("DecodeAppend = %v, % x, %v", got, rest, err)
	}
	bad := append(c.Append(nil, want[0]), 0x80) // the second value's length is truncated
	got, _, err = c.DecodeAppend(nil, bad, 2)
	if !errors.Is(err, ErrCorrupt) || !reflect.DeepEqual(got, want[:1]) || !strings.Contains(err.Error(), "at byte 3") {
		t.Fatalf("DecodeAppend of a truncated second value = %v, %v", got, err)
	}
}
