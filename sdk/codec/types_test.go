package codec

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/linkedin/goavro/v2"
)

// Types shared by the tests. Their Avro names start with pkg, the sanitized
// import path of this package.
const pkg = "github_com_spate_io_spate_sdk_codec_"

type point struct{ X, Y int32 }

type inner struct {
	A int32
	B string
}

// composite holds every supported kind, for round trips, the property test
// and the cross-checks with goavro.
type composite struct {
	Flag bool
	I8   int8
	I16  int16
	I32  int32
	I64  int64
	U8   uint8
	U16  uint16
	U32  uint32
	U64  uint64
	F32  float32
	F64  float64
	S    string
	Bs   []byte
	Fx   [4]byte
	When time.Time
	Dur  time.Duration
	In   inner
	Ptr  *inner
	Opt  *int64
	List []inner
	Ints []int64
	Tags map[string]int64
	ByID map[int32]string
	Grid [2][2]int16
	key  int64 // unexported, as in runtime state types
	E    struct{}
}

// entry is generic like the runtime's keyed state entries.
type entry[K, V any] struct {
	key K
	val V
}

// sample is a composite with every field set and maps of one entry, so that
// its encoding is deterministic.
func sample() composite {
	opt := int64(-7)
	return composite{
		Flag: true, I8: -8, I16: -1600, I32: -320000, I64: -64 << 40,
		U8: 200, U16: 60000, U32: 4000000000, U64: math.MaxUint64,
		F32: 1.5, F64: -2.25, S: "héllo", Bs: []byte{0, 1, 2},
		Fx: [4]byte{9, 8, 7, 6}, When: time.Unix(1700000000, 123456789).UTC(), Dur: 90 * time.Second,
		In: inner{A: 1, B: "in"}, Ptr: &inner{A: 2, B: "ptr"}, Opt: &opt,
		List: []inner{{A: 3, B: "x"}, {A: 4}}, Ints: []int64{1, -1, 1 << 40},
		Tags: map[string]int64{"a": 1}, ByID: map[int32]string{5: "five"},
		Grid: [2][2]int16{{1, 2}, {3, 4}}, key: 42,
	}
}

// randComposite returns a random composite as Decode returns it: empty
// slices are nil, maps are non-nil, times are in UTC.
func randComposite(r *rand.Rand) composite {
	str := func() string {
		b := make([]byte, r.IntN(6))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return string(b)
	}
	i64 := func() int64 {
		return int64(r.Uint64()) >> r.IntN(64) // small and large magnitudes
	}
	in := func() inner { return inner{A: int32(i64()), B: str()} }
	v := composite{
		Flag: r.IntN(2) == 1, I8: int8(r.Uint32()), I16: int16(r.Uint32()), I32: int32(r.Uint32()), I64: i64(),
		U8: uint8(r.Uint32()), U16: uint16(r.Uint32()), U32: r.Uint32(), U64: r.Uint64(),
		F32: float32(r.NormFloat64()), F64: r.NormFloat64() * 1e10, S: str(),
		Dur: time.Duration(i64()), In: in(), key: i64(),
		Tags: map[string]int64{}, ByID: map[int32]string{},
	}
	if n := r.IntN(4); n > 0 {
		v.Bs = []byte(str() + "x")
	}
	for i := range v.Fx {
		v.Fx[i] = byte(r.Uint32())
	}
	if r.IntN(4) > 0 {
		v.When = time.Unix(0, i64()).UTC()
	}
	if r.IntN(2) == 1 {
		p := in()
		v.Ptr = &p
	}
	if r.IntN(2) == 1 {
		o := i64()
		v.Opt = &o
	}
	for range r.IntN(4) {
		v.List = append(v.List, in())
	}
	for range r.IntN(4) {
		v.Ints = append(v.Ints, i64())
	}
	for range r.IntN(4) {
		v.Tags[str()] = i64()
	}
	for range r.IntN(4) {
		v.ByID[int32(i64())] = str()
	}
	for i := range 2 {
		for j := range 2 {
			v.Grid[i][j] = int16(r.Uint32())
		}
	}
	return v
}

// native is v in goavro's native form for composite's schema: the slow,
// obvious reference the compiled codec is checked against.
func (v composite) native() map[string]any {
	in := func(x inner) map[string]any { return map[string]any{"A": x.A, "B": x.B} }
	var ptr, opt any
	if v.Ptr != nil {
		ptr = goavro.Union(pkg+"inner", in(*v.Ptr))
	}
	if v.Opt != nil {
		opt = goavro.Union("long", *v.Opt)
	}
	list := []any{}
	for _, x := range v.List {
		list = append(list, in(x))
	}
	ints := []any{}
	for _, x := range v.Ints {
		ints = append(ints, x)
	}
	tags := map[string]any{}
	for k, x := range v.Tags {
		tags[k] = x
	}
	byID := []any{}
	for k, x := range v.ByID {
		byID = append(byID, map[string]any{"key": k, "value": x})
	}
	when := v.When.UnixNano()
	if v.When.IsZero() {
		when = math.MinInt64
	}
	bs := v.Bs
	if bs == nil {
		bs = []byte{}
	}
	return map[string]any{
		"Flag": v.Flag, "I8": int32(v.I8), "I16": int32(v.I16), "I32": v.I32, "I64": v.I64,
		"U8": int32(v.U8), "U16": int32(v.U16), "U32": int64(v.U32), "U64": int64(v.U64),
		"F32": v.F32, "F64": v.F64, "S": v.S, "Bs": bs, "Fx": v.Fx[:],
		"When": when, "Dur": int64(v.Dur), "In": in(v.In), "Ptr": ptr, "Opt": opt,
		"List": list, "Ints": ints, "Tags": tags, "ByID": byID,
		"Grid": []any{
			[]any{int32(v.Grid[0][0]), int32(v.Grid[0][1])},
			[]any{int32(v.Grid[1][0]), int32(v.Grid[1][1])},
		},
		"key": v.key, "E": map[string]any{},
	}
}
