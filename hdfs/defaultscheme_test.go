package hdfs

import (
	"strings"
	"testing"
)

func TestParseDefaultScheme(t *testing.T) {
	for _, tt := range []struct{ in, want, err string }{
		{"", "", ""},
		{"file:///", "", ""},
		{"FILE://", "", ""},
		{"hdfs:///", "hdfs://", ""},
		{"hdfs://", "hdfs://", ""},
		{"hdfs://NN.example.com:8020/", "hdfs://nn.example.com:8020", ""},
		{"hdfs://ns1", "hdfs://ns1", ""},
		{"hdfs:///user/spate", "", `fs.default-scheme "hdfs:///user/spate" must be file:///, hdfs:/// (the NameNodes of fs.defaultFS) or hdfs://namenode:port/ (no path)`},
		{"s3://bucket/", "", `fs.default-scheme "s3://bucket/" must be`},
		{"/data", "", `fs.default-scheme "/data" must be`},
		{"file:///tmp", "", `fs.default-scheme "file:///tmp" must be`},
	} {
		got, err := parseDefaultScheme(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseDefaultScheme(%q) = %q, %v; want an error with %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseDefaultScheme(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestResolveSchemelessLocal: with no default scheme, or file:///, a path
// without a scheme is local, relative ones included.
func TestResolveSchemelessLocal(t *testing.T) {
	t.Cleanup(func() { SetDefaultScheme("") })
	for _, scheme := range []string{"", "file:///"} {
		if err := SetDefaultScheme(scheme); err != nil {
			t.Fatal(err)
		}
		for in, want := range map[string]string{"/data/in/": "/data/in", "rel/../in": "in"} {
			fsys, p, err := Resolve(in)
			if _, local := fsys.(Local); err != nil || !local || p != want {
				t.Errorf("fs.default-scheme %q: Resolve(%q) = %T, %q, %v; want Local, %q", scheme, in, fsys, p, err, want)
			}
		}
	}
	if err := SetDefaultScheme("ftp://x/"); err == nil {
		t.Error("SetDefaultScheme(ftp://x/) succeeded")
	}
}
