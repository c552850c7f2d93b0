package conf

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ErrUnknownKey is wrapped by Set, LoadFile and Load when a key is not in the
// table.
var ErrUnknownKey = errors.New("unknown configuration key")

// ErrInvalidValue is wrapped by Set, LoadFile and Load when a value does not
// fit its option.
var ErrInvalidValue = errors.New("invalid configuration value")

// Config holds the explicitly set configuration values; the defaults come
// from the table. The zero value is an empty configuration ready for use, and
// a nil *Config reads as empty. A Config is not safe for concurrent
// modification.
type Config struct {
	values map[string]string
}

// New returns an empty configuration.
func New() *Config { return &Config{values: map[string]string{}} }

// Set validates value for key and stores it. Surrounding spaces are trimmed;
// enum and boolean values are stored in lower case. An unknown key wraps
// ErrUnknownKey, a bad value ErrInvalidValue.
func (c *Config) Set(key, value string) error {
	e, ok := registry[key]
	if !ok {
		return &unknownKeyError{key: key}
	}
	v, err := e.validate(strings.TrimSpace(value))
	if err != nil {
		return err
	}
	if c.values == nil {
		c.values = map[string]string{}
	}
	c.values[key] = v
	return nil
}

// IsSet reports whether key was set explicitly.
func (c *Config) IsSet(key string) bool {
	_, ok := c.Get(key)
	return ok
}

// Get returns the explicitly set value of key, if any; it does not fall back
// to the default (the typed options do).
func (c *Config) Get(key string) (string, bool) {
	if c == nil {
		return "", false
	}
	v, ok := c.values[key]
	return v, ok
}

// Clone returns a copy of c that shares nothing with it.
func (c *Config) Clone() *Config {
	n := New()
	if c != nil {
		maps.Copy(n.values, c.values)
	}
	return n
}

// Merge copies every value set in other into c; other's values win.
func (c *Config) Merge(other *Config) {
	if other == nil || len(other.values) == 0 {
		return
	}
	if c.values == nil {
		c.values = map[string]string{}
	}
	maps.Copy(c.values, other.values)
}

// Keys returns the explicitly set keys, sorted.
func (c *Config) Keys() []string {
	if c == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(c.values))
}

// unknownKeyError is a key missing from the table, with the nearest key as a
// suggestion when one is close.
type unknownKeyError struct{ key string }

func (e *unknownKeyError) Error() string {
	if s := suggestKey(e.key); s != "" {
		return fmt.Sprintf("%v %q (did you mean %q? run 'spate config' for every key)", ErrUnknownKey, e.key, s)
	}
	return fmt.Sprintf("%v %q (run 'spate config' for every key)", ErrUnknownKey, e.key)
}

func (e *unknownKeyError) Unwrap() error { return ErrUnknownKey }

// valueError is a value that does not fit its option; want says what would.
type valueError struct{ key, value, want string }

func (e *valueError) Error() string {
	return fmt.Sprintf("invalid value %q for %s: want %s", e.value, e.key, e.want)
}

func (e *valueError) Unwrap() error { return ErrInvalidValue }

// suggestKey returns the registered key nearest to key by edit distance
// (ignoring case), or "" if none is close enough to be a likely typo.
func suggestKey(key string) string {
	lk := strings.ToLower(key)
	best, bestDist := "", -1
	for _, k := range slices.Sorted(maps.Keys(registry)) {
		d := editDistance(lk, strings.ToLower(k))
		if bestDist < 0 || d < bestDist {
			best, bestDist = k, d
		}
	}
	if bestDist < 0 || bestDist > max(2, len([]rune(key))/5) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
