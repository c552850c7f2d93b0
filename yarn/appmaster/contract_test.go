package appmaster

import (
	"reflect"
	"testing"
)

func TestParseMemorySize(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		err  string
	}{
		{"512m", 512, ""},
		{"2g", 2048, ""},
		{"1024 mb", 1024, ""},
		{"1073741824", 1024, ""},
		{"1 GB", 1024, ""},
		{"100k", 0, `taskmanager.memory.process.size="100k": a container needs at least 1m`},
		{"", 0, `taskmanager.memory.process.size="": want a memory size such as 512m or 2g`},
		{"1.5g", 0, `taskmanager.memory.process.size="1.5g": want a memory size such as 512m or 2g`},
		{"12x", 0, `taskmanager.memory.process.size="12x": want a memory size such as 512m or 2g`},
	} {
		got, err := ParseMemorySize("taskmanager.memory.process.size", tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseMemorySize(%q): %v, want %s", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseMemorySize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestLaunchCommand(t *testing.T) {
	got := LaunchCommand("wordcount", []string{"--input", "hdfs:///a b", "it's"})
	want := []string{`./'wordcount' '--input' 'hdfs:///a b' 'it'\''s' 1><LOG_DIR>/stdout 2><LOG_DIR>/stderr`}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestMemoryLimit(t *testing.T) {
	if got := MemoryLimit(256); got != "230MiB" {
		t.Fatalf("MemoryLimit(256) = %q, want 230MiB", got)
	}
}
