package conf

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Type is the type of an option's value.
type Type string

// The option types.
const (
	TypeInt      Type = "int"
	TypeFloat    Type = "float"
	TypeString   Type = "string"
	TypeBool     Type = "bool"
	TypeDuration Type = "duration"
	TypeEnum     Type = "enum"
)

// Option describes one configuration key: one row of the table.
type Option struct {
	Key     string
	Type    Type
	Default string   // the default, written as a user would write it; "" for an unset enum (see Enum)
	Doc     string   // one sentence for the user
	Values  []string // the allowed values, lower case; enums only
}

// entry is a registered option and its validation rules.
type entry struct {
	opt Option
	// min and max bound int options, fmin and fmax float options, when
	// hasMin and hasMax are set.
	min, max       int
	fmin, fmax     float64
	hasMin, hasMax bool
}

// registry is the table. It is written only by the option constructors,
// which run during package initialisation.
var registry = map[string]*entry{}

// register adds an option to the table. A duplicate key or a default that
// does not validate is a programming error and panics.
func register(o Option) *entry {
	if o.Key == "" || strings.ContainsAny(o.Key, " \t\r\n=:") {
		panic(fmt.Sprintf("conf: invalid option key %q", o.Key))
	}
	if _, dup := registry[o.Key]; dup {
		panic(fmt.Sprintf("conf: option %q registered twice", o.Key))
	}
	e := &entry{opt: o}
	e.mustValidateDefault()
	registry[o.Key] = e
	return e
}

func (e *entry) mustValidateDefault() {
	if e.opt.Type == TypeEnum && e.opt.Default == "" {
		return // unset by default: decided by other settings (see Enum)
	}
	if _, err := e.validate(e.opt.Default); err != nil {
		panic(fmt.Sprintf("conf: default of %s: %v", e.opt.Key, err))
	}
}

// validate checks a trimmed value against the option and returns it in its
// stored form.
func (e *entry) validate(v string) (string, error) {
	invalid := func(want string) error {
		return &valueError{key: e.opt.Key, value: v, want: want}
	}
	if strings.ContainsAny(v, "\r\n") {
		return "", invalid("a single line")
	}
	switch e.opt.Type {
	case TypeInt:
		n, err := strconv.Atoi(v)
		if err != nil || (e.hasMin && n < e.min) || (e.hasMax && n > e.max) {
			return "", invalid(e.intWant())
		}
		return strconv.Itoa(n), nil
	case TypeFloat:
		f, err := parseFloat(v)
		if err != nil || (e.hasMin && f < e.fmin) || (e.hasMax && f > e.fmax) {
			return "", invalid(e.floatWant())
		}
		return formatFloat(f), nil
	case TypeBool:
		switch strings.ToLower(v) {
		case "true", "false":
			return strings.ToLower(v), nil
		}
		return "", invalid("true or false")
	case TypeDuration:
		_, err := ParseDuration(v)
		var tooLarge *durationRangeError
		if errors.As(err, &tooLarge) {
			return "", invalid(fmt.Sprintf("a duration of at most %s (about 292 years); this one is too large", tooLarge.max))
		}
		if err != nil {
			return "", invalid(`a duration such as "100 ms", "2 s" or "1 min"`)
		}
		return v, nil
	case TypeEnum:
		lv := strings.ToLower(v)
		if slices.Contains(e.opt.Values, lv) {
			return lv, nil
		}
		return "", invalid("one of " + strings.Join(e.opt.Values, ", "))
	default:
		return v, nil
	}
}

func (e *entry) intWant() string {
	switch {
	case e.hasMin && e.hasMax:
		return fmt.Sprintf("an integer from %d to %d", e.min, e.max)
	case e.hasMin:
		return fmt.Sprintf("an integer ≥ %d", e.min)
	case e.hasMax:
		return fmt.Sprintf("an integer ≤ %d", e.max)
	}
	return "an integer"
}

func (e *entry) floatWant() string {
	switch {
	case e.hasMin && e.hasMax:
		return fmt.Sprintf("a number from %s to %s", formatFloat(e.fmin), formatFloat(e.fmax))
	case e.hasMin:
		return fmt.Sprintf("a number ≥ %s", formatFloat(e.fmin))
	case e.hasMax:
		return fmt.Sprintf("a number ≤ %s", formatFloat(e.fmax))
	}
	return "a number"
}

// parseFloat reads a number the way Flink reads a double option (Java's
// Double.parseDouble): "1.5", "1", ".5", "+2", "1e3", "0x1p3". Unlike Java
// it rejects NaN and infinities, which no option means, and the f/d
// suffixes; like Java it rejects the underscores Go's syntax allows.
func parseFloat(s string) (float64, error) {
	if strings.Contains(s, "_") {
		return 0, fmt.Errorf("number %q contains an underscore", s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("number %q is not finite", s)
	}
	return f, nil
}

// formatFloat writes f in the shortest form that parseFloat reads back
// exactly: "1.5", "0.1", "2".
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// Options returns every registered option, sorted by key.
func Options() []Option {
	out := make([]Option, 0, len(registry))
	for _, e := range registry {
		o := e.opt
		o.Values = slices.Clone(o.Values)
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b Option) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// lookup returns the stored value of key in c, or its default.
func lookup(c *Config, key string) string {
	if v, ok := c.Get(key); ok {
		return v
	}
	return registry[key].opt.Default
}

// IntOption is an integer option.
type IntOption struct{ e *entry }

// Int registers an integer option. Bound it with Min and Max.
func Int(key string, def int, doc string) IntOption {
	return IntOption{register(Option{Key: key, Type: TypeInt, Default: strconv.Itoa(def), Doc: doc})}
}

// Min sets the smallest allowed value. Call it only where the option is
// declared.
func (o IntOption) Min(n int) IntOption {
	o.e.min, o.e.hasMin = n, true
	o.e.mustValidateDefault()
	return o
}

// Max sets the largest allowed value. Call it only where the option is
// declared.
func (o IntOption) Max(n int) IntOption {
	o.e.max, o.e.hasMax = n, true
	o.e.mustValidateDefault()
	return o
}

// Key returns the option's key.
func (o IntOption) Key() string { return o.e.opt.Key }

// Get returns the option's value in c (which may be nil), or its default.
func (o IntOption) Get(c *Config) int {
	n, err := strconv.Atoi(lookup(c, o.Key()))
	if err != nil {
		panic("conf: stored value of " + o.Key() + " is not an integer") // Set validates
	}
	return n
}

// FloatOption is a floating-point option, Flink's double type.
type FloatOption struct{ e *entry }

// Float registers a floating-point option. Bound it with Min and Max.
func Float(key string, def float64, doc string) FloatOption {
	return FloatOption{register(Option{Key: key, Type: TypeFloat, Default: formatFloat(def), Doc: doc})}
}

// Min sets the smallest allowed value (inclusive). Call it only where the
// option is declared.
func (o FloatOption) Min(f float64) FloatOption {
	o.e.fmin, o.e.hasMin = f, true
	o.e.mustValidateDefault()
	return o
}

// Max sets the largest allowed value (inclusive). Call it only where the
// option is declared.
func (o FloatOption) Max(f float64) FloatOption {
	o.e.fmax, o.e.hasMax = f, true
	o.e.mustValidateDefault()
	return o
}

// Key returns the option's key.
func (o FloatOption) Key() string { return o.e.opt.Key }

// Get returns the option's value in c (which may be nil), or its default.
func (o FloatOption) Get(c *Config) float64 {
	f, err := parseFloat(lookup(c, o.Key()))
	if err != nil {
		panic("conf: stored value of " + o.Key() + " is not a number") // Set validates
	}
	return f
}

// StringOption is a free-form string option.
type StringOption struct{ e *entry }

// String registers a string option.
func String(key, def, doc string) StringOption {
	return StringOption{register(Option{Key: key, Type: TypeString, Default: def, Doc: doc})}
}

// Key returns the option's key.
func (o StringOption) Key() string { return o.e.opt.Key }

// Get returns the option's value in c (which may be nil), or its default.
func (o StringOption) Get(c *Config) string { return lookup(c, o.Key()) }

// BoolOption is a boolean option: true or false, in any case.
type BoolOption struct{ e *entry }

// Bool registers a boolean option.
func Bool(key string, def bool, doc string) BoolOption {
	return BoolOption{register(Option{Key: key, Type: TypeBool, Default: strconv.FormatBool(def), Doc: doc})}
}

// Key returns the option's key.
func (o BoolOption) Key() string { return o.e.opt.Key }

// Get returns the option's value in c (which may be nil), or its default.
func (o BoolOption) Get(c *Config) bool { return lookup(c, o.Key()) == "true" }

// DurationOption is a duration option, written the way Flink writes
// durations (see ParseDuration).
type DurationOption struct{ e *entry }

// Duration registers a duration option.
func Duration(key string, def time.Duration, doc string) DurationOption {
	return DurationOption{register(Option{Key: key, Type: TypeDuration, Default: FormatDuration(def), Doc: doc})}
}

// Key returns the option's key.
func (o DurationOption) Key() string { return o.e.opt.Key }

// Get returns the option's value in c (which may be nil), or its default.
func (o DurationOption) Get(c *Config) time.Duration {
	d, err := ParseDuration(lookup(c, o.Key()))
	if err != nil {
		panic("conf: stored value of " + o.Key() + " is not a duration") // Set validates
	}
	return d
}

// EnumOption is an option whose value is one of a fixed set of lower-case
// words. Values are matched regardless of case and stored in lower case.
type EnumOption struct{ e *entry }

// Enum registers an enum option. values must be lower case. def is one of
// values, or "" for an option that is unset by default because other
// settings decide what it means then (restart-strategy.type depends on
// whether checkpointing is on): Get returns "" until a value is set, and
// "" cannot be set explicitly.
func Enum(key, def string, values []string, doc string) EnumOption {
	for _, v := range values {
		if v == "" || v != strings.ToLower(v) {
			panic(fmt.Sprintf("conf: enum value %q of %s must be lower case", v, key))
		}
	}
	return EnumOption{register(Option{Key: key, Type: TypeEnum, Default: def, Doc: doc, Values: slices.Clone(values)})}
}

// Key returns the option's key.
func (o EnumOption) Key() string { return o.e.opt.Key }

// Values returns the allowed values.
func (o EnumOption) Values() []string { return slices.Clone(o.e.opt.Values) }

// Get returns the option's value in c (which may be nil), or its default.
func (o EnumOption) Get(c *Config) string { return lookup(c, o.Key()) }
