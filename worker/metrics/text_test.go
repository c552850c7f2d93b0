package metrics

import (
	"math"
	"strings"
	"testing"
)

func TestWriteExact(t *testing.T) {
	var s Set
	in := s.Family("spate_taskmanager_job_task_numRecordsIn", "Records read.", Counter)
	in.Add(42, "job_name", "word count", "task_name", `Source: "x"`, "subtask_index", "0", "tm_id", "tm-0")
	in.Add(7, "job_name", "word count", "task_name", "a\\b\nc", "subtask_index", "1", "tm_id", "tm-1")
	s.Family("spate_jobmanager_numRegisteredTaskManagers", "TaskManagers\nregistered.", Gauge).Add(2)
	s.Family("spate_x_ratio", "", Gauge).Add(0.25)
	s.Family("spate_x_special", "", Gauge).Add(math.Inf(1))
	var b strings.Builder
	if err := Write(&b, s.Families()); err != nil {
		t.Fatal(err)
	}
	want := `# HELP spate_jobmanager_numRegisteredTaskManagers TaskManagers\nregistered.
# TYPE spate_jobmanager_numRegisteredTaskManagers gauge
spate_jobmanager_numRegisteredTaskManagers 2
# HELP spate_taskmanager_job_task_numRecordsIn Records read.
# TYPE spate_taskmanager_job_task_numRecordsIn counter
spate_taskmanager_job_task_numRecordsIn{job_name="word count",task_name="Source: \"x\"",subtask_index="0",tm_id="tm-0"} 42
spate_taskmanager_job_task_numRecordsIn{job_name="word count",task_name="a\\b\nc",subtask_index="1",tm_id="tm-1"} 7
# HELP spate_x_ratio 
# TYPE spate_x_ratio gauge
spate_x_ratio 0.25
# HELP spate_x_special 
# TYPE spate_x_special gauge
spate_x_special +Inf
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		fams []Family
		want string
	}{
		{"bad name", []Family{{Name: "spate-x"}}, `invalid name "spate-x" at byte 5`},
		{"bad label", []Family{{Name: "x", Samples: []Sample{{Labels: []Label{{"a:b", "v"}}}}}}, `family x: metrics: invalid name "a:b" at byte 1`},
		{"twice", []Family{{Name: "x"}, {Name: "x"}}, "family x given twice"},
		{"digit first", []Family{{Name: "1x"}}, `invalid name "1x" at byte 0`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Write(&strings.Builder{}, tc.fams)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestReadProcess(t *testing.T) {
	p := ReadProcess()
	if p.Goroutines < 1 || p.HeapBytes <= 0 || p.RSSBytes <= 0 {
		t.Fatalf("ReadProcess = %+v: want goroutines, heap and RSS above zero", p)
	}
}

func TestLogRing(t *testing.T) {
	l := NewLogRing(3, 1<<20)
	l.Write([]byte("a\nb"))
	l.Write([]byte("c\nd\n"))
	if got := strings.Join(l.Lines(), "|"); got != "a|bc|d" {
		t.Fatalf("lines %q", got)
	}
	l.Write([]byte("e\nf\n"))
	if got := strings.Join(l.Lines(), "|"); got != "d|e|f" {
		t.Fatalf("after wrapping: %q", got)
	}
	small := NewLogRing(10, 4)
	small.Write([]byte("12\n34\n56\n"))
	if got := strings.Join(small.Lines(), "|"); got != "34|56" {
		t.Fatalf("over the byte budget: %q", got)
	}
	long := NewLogRing(2, 1<<20)
	long.Write([]byte(strings.Repeat("x", maxLineBytes+10) + "\n"))
	if got := long.Lines(); len(got) != 1 || len(got[0]) != maxLineBytes {
		t.Fatalf("a long line: %d lines, %d bytes", len(got), len(got[0]))
	}
}

func TestReportRoundTrip(t *testing.T) {
	r := Report{Process: Process{HeapBytes: 1, RSSBytes: 2, Goroutines: 3, GCPauseTotalNanos: 4, GCCount: 5}, Log: []string{"x", `y "z"`}}
	got, err := DecodeReport(EncodeReport(r))
	if err != nil || got.Process != r.Process || strings.Join(got.Log, "|") != `x|y "z"` {
		t.Fatalf("DecodeReport = %+v, %v", got, err)
	}
	if r, err := DecodeReport(nil); err != nil || r.Process != (Process{}) {
		t.Fatalf("empty payload: %+v, %v", r, err)
	}
	if _, err := DecodeReport(make([]byte, MaxReportBytes+1)); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("oversized payload: %v", err)
	}
	if _, err := DecodeReport([]byte("{")); err == nil {
		t.Fatal("bad JSON accepted")
	}
}

func FuzzDecodeReport(f *testing.F) {
	f.Add(EncodeReport(Report{Log: []string{"a"}}))
	f.Add([]byte(`{"log":[1]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeReport(b)
		if err == nil && len(r.Log) > MaxReportLines {
			t.Fatalf("%d lines accepted", len(r.Log))
		}
	})
}
