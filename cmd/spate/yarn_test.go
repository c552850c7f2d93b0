package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spate-io/spate/conf"
)

// The staged spate.yaml reads back as the configuration it was written
// from, whatever the values hold (colons, quotes, YAML's special characters).
func TestStagedYAMLRoundTrip(t *testing.T) {
	c := conf.New()
	for k, v := range map[string]string{
		"state.checkpoints.dir":            "hdfs://localhost:9000/a b/#c",
		"yarn.tags":                        `it's "quoted", *star, &anchor`,
		"execution.checkpointing.interval": "1 min",
		"parallelism.default":              "3",
		"yarn.application.name":            "- [x]: {y}",
	} {
		if err := c.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(t.TempDir(), "spate.yaml")
	if err := os.WriteFile(p, []byte(stagedYAML(c)), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := conf.LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := conf.EncodeProperties(got), conf.EncodeProperties(c); g != w {
		t.Fatalf("read back\n%s\nwant\n%s", g, w)
	}
}
