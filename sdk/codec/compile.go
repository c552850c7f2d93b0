package codec

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// UnsupportedTypeError is returned by For when T, or a type inside it, has
// no Avro encoding here. Path locates the field, starting from T's name.
type UnsupportedTypeError struct {
	Path   string       // e.g. "Foo.Bar", "Foo.List[]", "Foo.Index[key]"; empty for T itself
	Type   reflect.Type // the unsupported type
	Reason string       // empty when the kind itself is unsupported
}

func (e *UnsupportedTypeError) Error() string {
	var s string
	if e.Path == "" {
		s = fmt.Sprintf("codec: type %s is not supported", e.Type)
	} else {
		s = fmt.Sprintf("codec: field %s of type %s is not supported", e.Path, e.Type)
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Schema nodes. Structs rather than maps so that encoding/json writes the
// attributes in a fixed order and Schema is deterministic.
type (
	recordSchema struct {
		Type   string        `json:"type"` // "record"
		Name   string        `json:"name"`
		Fields []fieldSchema `json:"fields"`
	}
	fieldSchema struct {
		Name string `json:"name"`
		Type any    `json:"type"`
	}
	arraySchema struct {
		Type  string `json:"type"` // "array"
		Items any    `json:"items"`
	}
	mapSchema struct {
		Type   string `json:"type"` // "map"
		Values any    `json:"values"`
	}
	fixedSchema struct {
		Type string `json:"type"` // "fixed"
		Name string `json:"name"`
		Size int    `json:"size"`
	}
	logicalSchema struct {
		Type        string `json:"type"`
		LogicalType string `json:"logicalType"`
	}
)

// compiled is what the compiler derives from one Go type.
type compiled struct {
	schema any  // a schema node, or the name of an Avro type defined earlier
	ops    []op // offsets relative to the start of the value
	min    int  // minimum encoded size in bytes
}

// compiler derives the schema and ops of one root type. Avro requires a named
// type (record, fixed) to be defined once, at its first use in the schema,
// and referenced by name afterwards; done records those definitions.
type compiler struct {
	root   string                    // how error paths start; see rootPath
	names  map[string]bool           // Avro names in use
	done   map[reflect.Type]compiled // named Avro types defined so far, as references
	active map[reflect.Type]bool     // structs being compiled, to reject recursive types
}

var timeType = reflect.TypeFor[time.Time]()

func compileType(t reflect.Type) (compiled, error) {
	c := &compiler{
		root:   rootPath(t),
		names:  map[string]bool{},
		done:   map[reflect.Type]compiled{},
		active: map[reflect.Type]bool{},
	}
	ctx := "Anonymous"
	if t.Name() != "" {
		ctx = avroTypeName(t)
	}
	return c.compile(t, "", ctx)
}

// compile derives t at path (empty for the root). ctx names an unnamed
// struct or map entry record after where it first appears.
func (c *compiler) compile(t reflect.Type, path, ctx string) (compiled, error) {
	if d, ok := c.done[t]; ok {
		return d, nil
	}
	unsupported := func(reason string) (compiled, error) {
		return compiled{}, &UnsupportedTypeError{Path: path, Type: t, Reason: reason}
	}
	one := func(schema any, k kind, min int) (compiled, error) {
		return compiled{schema: schema, ops: []op{{kind: k}}, min: min}, nil
	}
	switch t.Kind() {
	case reflect.Bool:
		return one("boolean", kBool, 1)
	case reflect.Int8:
		return one("int", kInt8, 1)
	case reflect.Int16:
		return one("int", kInt16, 1)
	case reflect.Int32:
		return one("int", kInt32, 1)
	case reflect.Uint8:
		return one("int", kUint8, 1)
	case reflect.Uint16:
		return one("int", kUint16, 1)
	case reflect.Int64:
		return one("long", kInt64, 1)
	case reflect.Uint32:
		return one("long", kUint32, 1)
	case reflect.Int:
		if t.Size() == 4 {
			return one("long", kInt32, 1)
		}
		return one("long", kInt64, 1)
	case reflect.Uint, reflect.Uint64, reflect.Uintptr:
		if t.Size() == 4 {
			return one("long", kUint32, 1)
		}
		return one("long", kUint64, 1)
	case reflect.Float32:
		return one("float", kFloat32, 4)
	case reflect.Float64:
		return one("double", kFloat64, 8)
	case reflect.String:
		return one("string", kString, 1)
	case reflect.Pointer:
		if t.Elem().Kind() == reflect.Pointer {
			return unsupported("a pointer to a pointer would be a union inside a union")
		}
		e, err := c.compile(t.Elem(), path, ctx)
		if err != nil {
			return compiled{}, err
		}
		return compiled{
			schema: []any{"null", e.schema},
			ops:    []op{{kind: kPointer, elem: e.ops, min: e.min, typ: t.Elem()}},
			min:    1,
		}, nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return one("bytes", kBytes, 1)
		}
		e, err := c.compile(t.Elem(), c.child(path, "[]"), ctx+"_item")
		if err != nil {
			return compiled{}, err
		}
		return compiled{
			schema: arraySchema{Type: "array", Items: e.schema},
			ops:    []op{{kind: kSlice, elem: e.ops, size: t.Elem().Size(), min: e.min, typ: t}},
			min:    1,
		}, nil
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Len() > 0 {
			base := "fixed_" + strconv.Itoa(t.Len())
			if t.Name() != "" {
				base = avroTypeName(t)
			}
			name := c.unique(base)
			d := compiled{schema: name, ops: []op{{kind: kFixed, n: t.Len()}}, min: t.Len()}
			c.done[t] = d
			return compiled{schema: fixedSchema{Type: "fixed", Name: name, Size: t.Len()}, ops: d.ops, min: d.min}, nil
		}
		e, err := c.compile(t.Elem(), c.child(path, "[]"), ctx+"_item")
		if err != nil {
			return compiled{}, err
		}
		min := 1
		if t.Len() > 0 {
			min = saturatingAdd(2, saturatingMul(t.Len(), e.min))
		}
		return compiled{
			schema: arraySchema{Type: "array", Items: e.schema},
			ops:    []op{{kind: kArray, elem: e.ops, n: t.Len(), size: t.Elem().Size(), min: e.min}},
			min:    min,
		}, nil
	case reflect.Map:
		return c.compileMap(t, path, ctx)
	case reflect.Struct:
		if t == timeType {
			return one(logicalSchema{Type: "long", LogicalType: "timestamp-nanos"}, kTime, 1)
		}
		return c.compileStruct(t, path, ctx)
	}
	// Chan, Func, Interface, UnsafePointer, Complex64, Complex128.
	return unsupported("")
}

func (c *compiler) compileStruct(t reflect.Type, path, ctx string) (compiled, error) {
	if c.active[t] {
		return compiled{}, &UnsupportedTypeError{Path: path, Type: t, Reason: "recursive type"}
	}
	c.active[t] = true
	defer delete(c.active, t)

	base := ctx
	if t.Name() != "" {
		base = avroTypeName(t)
	}
	name := c.unique(base)
	rec := recordSchema{Type: "record", Name: name, Fields: []fieldSchema{}}
	var ops []op
	min := 0
	seen := map[string]string{} // Avro field name → Go field name
	for i := range t.NumField() {
		f := t.Field(i)
		fpath := c.child(path, "."+f.Name)
		fname, skip := fieldName(f)
		if skip {
			continue
		}
		if !validName(fname) {
			return compiled{}, &UnsupportedTypeError{Path: fpath, Type: f.Type,
				Reason: fmt.Sprintf("%q is not a valid Avro field name; rename it with an avro:\"name\" tag", fname)}
		}
		if other, ok := seen[fname]; ok {
			return compiled{}, &UnsupportedTypeError{Path: fpath, Type: f.Type,
				Reason: fmt.Sprintf("Avro field name %q is also used by field %s; rename one with an avro:\"name\" tag", fname, other)}
		}
		seen[fname] = f.Name
		fc, err := c.compile(f.Type, fpath, name+"_"+fname)
		if err != nil {
			return compiled{}, err
		}
		rec.Fields = append(rec.Fields, fieldSchema{Name: fname, Type: fc.schema})
		for _, o := range fc.ops {
			o.off += f.Offset
			ops = append(ops, o)
		}
		min = saturatingAdd(min, fc.min)
	}
	c.done[t] = compiled{schema: name, ops: ops, min: min}
	return compiled{schema: rec, ops: ops, min: min}, nil
}

// compileMap maps map[string]V to an Avro map, and maps with integer keys to
// an array of {key, value} records, since Avro map keys are strings. Both
// have the same binary framing, so they share one op kind.
func (c *compiler) compileMap(t reflect.Type, path, ctx string) (compiled, error) {
	kt := t.Key()
	switch kt.Kind() {
	case reflect.String:
		k, err := c.compile(kt, c.child(path, "[key]"), ctx)
		if err != nil {
			return compiled{}, err
		}
		v, err := c.compile(t.Elem(), c.child(path, "[value]"), ctx+"_value")
		if err != nil {
			return compiled{}, err
		}
		return compiled{
			schema: mapSchema{Type: "map", Values: v.schema},
			ops:    []op{{kind: kMap, key: k.ops, elem: v.ops, min: saturatingAdd(k.min, v.min), typ: t}},
			min:    1,
		}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
	default:
		return compiled{}, &UnsupportedTypeError{Path: path, Type: t, Reason: "map keys must be strings or integers"}
	}
	base := ctx + "_entry"
	if t.Name() != "" {
		base = avroTypeName(t) + "_entry"
	}
	name := c.unique(base)
	k, err := c.compile(kt, c.child(path, "[key]"), name+"_key")
	if err != nil {
		return compiled{}, err
	}
	v, err := c.compile(t.Elem(), c.child(path, "[value]"), name+"_value")
	if err != nil {
		return compiled{}, err
	}
	ops := []op{{kind: kMap, key: k.ops, elem: v.ops, min: saturatingAdd(k.min, v.min), typ: t}}
	// The entry record is defined here; later uses of the map type refer to it.
	c.done[t] = compiled{schema: arraySchema{Type: "array", Items: name}, ops: ops, min: 1}
	entry := recordSchema{Type: "record", Name: name, Fields: []fieldSchema{
		{Name: "key", Type: k.schema},
		{Name: "value", Type: v.schema},
	}}
	return compiled{schema: arraySchema{Type: "array", Items: entry}, ops: ops, min: 1}, nil
}

// rootPath is how error paths start: the name of T (through pointers), or
// nothing for an unnamed struct, whose field names then stand alone.
func rootPath(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Name() != "":
		return t.Name()
	case t.Kind() == reflect.Struct:
		return ""
	}
	return t.String()
}

// child extends an error path; the root's path is empty.
func (c *compiler) child(path, suffix string) string {
	if path == "" {
		if c.root == "" {
			return strings.TrimPrefix(suffix, ".")
		}
		return c.root + suffix
	}
	return path + suffix
}

// unique returns base, or base with a numeric suffix if another Go type
// already took that Avro name.
func (c *compiler) unique(base string) string {
	name := base
	for i := 2; c.names[name]; i++ {
		name = base + "_" + strconv.Itoa(i)
	}
	c.names[name] = true
	return name
}

// fieldName returns the Avro name of a struct field, or skip for fields
// tagged avro:"-" and blank (padding) fields.
func fieldName(f reflect.StructField) (name string, skip bool) {
	tag, ok := f.Tag.Lookup("avro")
	switch {
	case tag == "-":
		return "", true
	case ok && tag != "":
		return tag, false
	case f.Name == "_":
		return "", true
	}
	return f.Name, false
}

// avroTypeName derives an Avro name from a named Go type: its package path
// and name, with every character outside [A-Za-z0-9_] replaced by '_'.
// Generic instantiations such as entry[int64,string] become entry_int64_string_.
func avroTypeName(t reflect.Type) string {
	s := t.Name()
	if t.PkgPath() != "" {
		s = t.PkgPath() + "." + s
	}
	return sanitize(s)
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !isNameByte(c, true) {
			b[i] = '_'
		}
	}
	if len(b) > 0 && b[0] >= '0' && b[0] <= '9' {
		b = append([]byte{'_'}, b...)
	}
	return string(b)
}

// validName reports whether s is a valid Avro name: [A-Za-z_][A-Za-z0-9_]*.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i], i > 0) {
			return false
		}
	}
	return true
}

func isNameByte(c byte, digitOK bool) bool {
	return c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || digitOK && c >= '0' && c <= '9'
}

func saturatingAdd(a, b int) int {
	if a > maxMin-b {
		return maxMin
	}
	return a + b
}

func saturatingMul(a, b int) int {
	if b != 0 && a > maxMin/b {
		return maxMin
	}
	return a * b
}

// maxMin caps minimum sizes: a bound, not an exact count, beyond any real input.
const maxMin = 1 << 40
