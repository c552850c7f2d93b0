package metrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Type is a family's Prometheus type.
type Type string

// The types Spate emits.
const (
	Counter Type = "counter"
	Gauge   Type = "gauge"
)

// Label is one label name and value of a sample.
type Label struct {
	Name, Value string
}

// Sample is one value of a family, with its labels.
type Sample struct {
	Labels []Label
	Value  float64
}

// Family is every sample of one metric name.
type Family struct {
	Name    string
	Help    string
	Type    Type
	Samples []Sample
}

// Add appends a sample with labels given as name, value pairs.
func (f *Family) Add(v float64, labels ...string) {
	s := Sample{Value: v}
	for i := 0; i+1 < len(labels); i += 2 {
		s.Labels = append(s.Labels, Label{labels[i], labels[i+1]})
	}
	f.Samples = append(f.Samples, s)
}

// Set is a collection of families by name, for building a page from several
// sources: Family returns the one family of a name, made on first use.
type Set struct {
	byName map[string]*Family
}

// Family returns the family called name, creating it with help and typ.
func (s *Set) Family(name, help string, typ Type) *Family {
	if s.byName == nil {
		s.byName = map[string]*Family{}
	}
	f := s.byName[name]
	if f == nil {
		f = &Family{Name: name, Help: help, Type: typ}
		s.byName[name] = f
	}
	return f
}

// Families returns the set's families, sorted by name.
func (s *Set) Families() []Family {
	out := make([]Family, 0, len(s.byName))
	for _, f := range s.byName {
		out = append(out, *f)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

// Check reports whether a metric or label name is valid in Prometheus'
// text format: [a-zA-Z_:][a-zA-Z0-9_:]* (no colon in label names).
func Check(name string, label bool) error {
	if name == "" {
		return fmt.Errorf("metrics: empty name")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9') || (!label && c == ':')
		if !ok {
			return fmt.Errorf("metrics: invalid name %q at byte %d", name, i)
		}
	}
	return nil
}

// Write writes fams in the text exposition format 0.0.4, sorted by name, a
// family's samples in the order given. A family with an invalid name or
// label name is an error, and nothing after it is written.
func Write(w io.Writer, fams []Family) error {
	sorted := append([]Family(nil), fams...)
	sort.SliceStable(sorted, func(a, b int) bool { return sorted[a].Name < sorted[b].Name })
	bw := bufio.NewWriter(w)
	for i, f := range sorted {
		if i > 0 && f.Name == sorted[i-1].Name {
			return fmt.Errorf("metrics: family %s given twice", f.Name)
		}
		if err := Check(f.Name, false); err != nil {
			return err
		}
		typ := f.Type
		if typ == "" {
			typ = Gauge
		}
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s %s\n", f.Name, escapeHelp(f.Help), f.Name, typ)
		for _, s := range f.Samples {
			bw.WriteString(f.Name)
			if len(s.Labels) > 0 {
				bw.WriteByte('{')
				for j, l := range s.Labels {
					if err := Check(l.Name, true); err != nil {
						return fmt.Errorf("family %s: %w", f.Name, err)
					}
					if j > 0 {
						bw.WriteByte(',')
					}
					bw.WriteString(l.Name)
					bw.WriteString(`="`)
					bw.WriteString(escapeValue(l.Value))
					bw.WriteByte('"')
				}
				bw.WriteByte('}')
			}
			bw.WriteByte(' ')
			bw.WriteString(formatValue(s.Value))
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	valueEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func escapeHelp(s string) string  { return helpEscaper.Replace(s) }
func escapeValue(s string) string { return valueEscaper.Replace(s) }

// formatValue writes integers without an exponent, as Prometheus' own
// client does, and the special values as the format spells them.
func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
