package state

import (
	"encoding/json"
	"fmt"
	"strings"
)

// shortSchemas renders two Avro schemas that differ as short type
// expressions for an error message: records as {field: type, …} without their
// long generated names, arrays as array(T), maps as map(T), unions as
// union(A, B), fixed as fixed(N), a logical type after its base type as
// long(timestamp-nanos). When the short forms hide the difference (the
// schemas differ only in a record's name) or a schema is not JSON, it returns
// both schemas as they are.
func shortSchemas(a, b string) (string, string) {
	sa, okA := shortSchema(a)
	sb, okB := shortSchema(b)
	if !okA || !okB || sa == sb {
		return a, b
	}
	return sa, sb
}

// shortSchema is the short form of one schema, and false if it is not JSON.
func shortSchema(schema string) (string, bool) {
	var v any
	if err := json.Unmarshal([]byte(schema), &v); err != nil {
		return "", false
	}
	var sb strings.Builder
	writeShort(&sb, v)
	return sb.String(), true
}

func writeShort(sb *strings.Builder, v any) {
	switch t := v.(type) {
	case string: // a primitive, or a named type defined earlier
		sb.WriteString(t)
	case []any:
		sb.WriteString("union(")
		for i, branch := range t {
			if i > 0 {
				sb.WriteString(", ")
			}
			writeShort(sb, branch)
		}
		sb.WriteByte(')')
	case map[string]any:
		switch t["type"] {
		case "record", "error":
			sb.WriteByte('{')
			fields, _ := t["fields"].([]any)
			for i, f := range fields {
				if i > 0 {
					sb.WriteString(", ")
				}
				fm, _ := f.(map[string]any)
				fmt.Fprintf(sb, "%v: ", fm["name"])
				writeShort(sb, fm["type"])
			}
			sb.WriteByte('}')
		case "array":
			sb.WriteString("array(")
			writeShort(sb, t["items"])
			sb.WriteByte(')')
		case "map":
			sb.WriteString("map(")
			writeShort(sb, t["values"])
			sb.WriteByte(')')
		case "enum":
			fmt.Fprintf(sb, "enum%v", t["symbols"])
		case "fixed":
			fmt.Fprintf(sb, "fixed(%v)", t["size"])
		default: // a primitive written as an object, maybe with a logical type
			writeShort(sb, t["type"])
			if lt, ok := t["logicalType"]; ok {
				fmt.Fprintf(sb, "(%v)", lt)
			}
		}
	default:
		fmt.Fprint(sb, t)
	}
}
