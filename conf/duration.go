package conf

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// durationUnits maps every unit label Flink accepts (TimeUtils) to its length.
// "us" is accepted as well as "µs".
var durationUnits = map[string]time.Duration{
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
	"h": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"min": time.Minute, "m": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"ms": time.Millisecond, "milli": time.Millisecond, "millis": time.Millisecond,
	"millisecond": time.Millisecond, "milliseconds": time.Millisecond,
	"µs": time.Microsecond, "us": time.Microsecond, "micro": time.Microsecond, "micros": time.Microsecond,
	"microsecond": time.Microsecond, "microseconds": time.Microsecond,
	"ns": time.Nanosecond, "nano": time.Nanosecond, "nanos": time.Nanosecond,
	"nanosecond": time.Nanosecond, "nanoseconds": time.Nanosecond,
}

// ParseDuration parses a duration the way Flink does: a non-negative integer,
// optional spaces, and an optional unit — ms, s, min (or m), h, d, their long
// forms (milliseconds, seconds, minutes, hours, days; singular or plural),
// also µs and ns. Units are case-insensitive. A plain integer is a number of
// milliseconds. Examples: "100ms", "100 ms", "2s", "1 min", "5 minutes", "250".
// A duration beyond time.Duration's range (about 292 years: 106751 d,
// 9223372036854 ms) is an error that says so and gives the maximum in the
// unit written.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("duration %q does not start with a number", s)
	}
	label := strings.TrimSpace(t[i:])
	unit := time.Millisecond
	if label != "" {
		u, ok := durationUnits[label]
		if !ok {
			return 0, fmt.Errorf("duration %q has an unknown unit %q (want ms, s, min, h or d)", s, label)
		}
		unit = u
	} else {
		label = "ms"
	}
	// Only digits: ParseInt fails only on a number beyond int64.
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil || n > math.MaxInt64/int64(unit) {
		return 0, &durationRangeError{s: s, max: fmt.Sprintf("%d %s", math.MaxInt64/int64(unit), label)}
	}
	return time.Duration(n) * unit, nil
}

// durationRangeError is ParseDuration's error for a duration beyond the
// range of time.Duration, about 292 years.
type durationRangeError struct {
	s   string // the duration as written
	max string // the largest duration, in the unit of s
}

func (e *durationRangeError) Error() string {
	return fmt.Sprintf("duration %q is too large; the maximum is %s (about 292 years)", e.s, e.max)
}

// FormatDuration writes d in the largest unit that represents it exactly,
// the way Flink prints durations: "100 ms", "2 s", "1 min", "0 ms".
// ParseDuration reads it back. It panics on a negative duration, which
// Flink's syntax cannot express.
func FormatDuration(d time.Duration) string {
	if d < 0 {
		panic(fmt.Sprintf("conf: negative duration %v", d))
	}
	if d == 0 {
		return "0 ms"
	}
	for _, u := range []struct {
		label string
		len   time.Duration
	}{
		{"d", 24 * time.Hour}, {"h", time.Hour}, {"min", time.Minute}, {"s", time.Second},
		{"ms", time.Millisecond}, {"µs", time.Microsecond},
	} {
		if d%u.len == 0 {
			return fmt.Sprintf("%d %s", d/u.len, u.label)
		}
	}
	return fmt.Sprintf("%d ns", d)
}
