package conf

import (
	"testing"
)

// FuzzParseDuration checks that ParseDuration never panics and that what it
// accepts survives FormatDuration and back.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"100 ms", "2s", "1min", "5 minutes", "250", "1d", "9 µs", "-1", "1.5 s", "99999999999999999999 d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		back, err := ParseDuration(FormatDuration(d))
		if err != nil || back != d {
			t.Fatalf("ParseDuration(%q) = %v; FormatDuration gives %q, which parses to %v, %v", s, d, FormatDuration(d), back, err)
		}
	})
}

// FuzzParseFloat checks that parseFloat never panics and that what it
// accepts survives formatFloat and back.
func FuzzParseFloat(f *testing.F) {
	for _, s := range []string{"1.5", "0.1", "+2", ".5", "1e3", "0x1p3", "1e400", "NaN", "-0", "1_5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseFloat(s)
		if err != nil {
			return
		}
		back, err := parseFloat(formatFloat(v))
		if err != nil || back != v {
			t.Fatalf("parseFloat(%q) = %v; formatFloat gives %q, which parses to %v, %v", s, v, formatFloat(v), back, err)
		}
	})
}

// FuzzParseYAML checks that any spate.yaml either fails to load or yields a
// configuration that survives EncodeProperties and parseProperties.
func FuzzParseYAML(f *testing.F) {
	for _, s := range []string{
		"parallelism.default: 4\n",
		"parallelism:\n  default: 4\nexecution: {runtime-mode: BATCH}\n",
		"a: &x {b: 1}\nc: *x\n",
		"log.level: [info]\n",
		"- 1\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseYAML("spate.yaml", data)
		if err != nil {
			return
		}
		text := EncodeProperties(c)
		back, err := parseProperties(text)
		if err != nil {
			t.Fatalf("properties %q do not parse: %v", text, err)
		}
		if got := EncodeProperties(back); got != text {
			t.Fatalf("round trip changed %q into %q", text, got)
		}
	})
}
