package metrics

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

// Report is what a TaskManager sends on every heartbeat (the payload of
// heartbeat's taskMetrics): its own process and the tail of its log, so
// that the JobManager can show both without reaching the TaskManager.
// It is a snapshot, not a delta: a lost heartbeat loses nothing.
type Report struct {
	Process Process `json:"process"`
	// Log is the last lines the TaskManager (and the job processes it
	// started) wrote to stderr, oldest first.
	Log []string `json:"log,omitempty"`
}

// Bounds of a decoded Report: a heartbeat payload is read from the network.
const (
	MaxReportBytes = 256 << 10
	MaxReportLines = 1000
)

// EncodeReport encodes r for the heartbeat.
func EncodeReport(r Report) []byte {
	b, _ := json.Marshal(r) // cannot fail: strings and integers
	return b
}

// DecodeReport reads a heartbeat payload; an empty one is a zero Report (a
// TaskManager that reports nothing).
func DecodeReport(b []byte) (Report, error) {
	var r Report
	if len(b) == 0 {
		return r, nil
	}
	if len(b) > MaxReportBytes {
		return r, fmt.Errorf("metrics: heartbeat report of %d bytes, more than %d", len(b), MaxReportBytes)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return Report{}, fmt.Errorf("metrics: heartbeat report: %w", err)
	}
	if len(r.Log) > MaxReportLines {
		return Report{}, fmt.Errorf("metrics: heartbeat report of %d log lines, more than %d", len(r.Log), MaxReportLines)
	}
	return r, nil
}

// LogRing is an io.Writer that keeps the last lines written to it, for a
// Report's log. It is safe for concurrent use; a line longer than
// maxLineBytes is cut.
type LogRing struct {
	mu      sync.Mutex
	lines   []string // ring of at most max lines
	next    int
	full    bool
	partial []byte
	bytes   int // total size of lines held
	max     int
	budget  int
}

const maxLineBytes = 4 << 10

// NewLogRing keeps the last n lines, and at most budget bytes of them.
func NewLogRing(n, budget int) *LogRing {
	return &LogRing{lines: make([]string, n), max: n, budget: budget}
}

// Write implements io.Writer; it never fails.
func (l *LogRing) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rest := p
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			l.partial = append(l.partial, rest[:min(len(rest), max(0, maxLineBytes-len(l.partial)))]...)
			break
		}
		line := append(l.partial, rest[:min(i, max(0, maxLineBytes-len(l.partial)))]...)
		l.partial = nil
		l.add(strings.TrimRight(string(line), "\r"))
		rest = rest[i+1:]
	}
	return len(p), nil
}

func (l *LogRing) add(s string) {
	if l.full {
		l.bytes -= len(l.lines[l.next])
	}
	l.lines[l.next] = s
	l.bytes += len(s)
	l.next = (l.next + 1) % l.max
	if l.next == 0 {
		l.full = true
	}
}

// Lines returns the lines held, oldest first, dropping the oldest ones
// beyond the byte budget.
func (l *LogRing) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	if l.full {
		out = append(out, l.lines[l.next:]...)
	}
	out = append(out, l.lines[:l.next]...)
	size := l.bytes
	for len(out) > 0 && size > l.budget {
		size -= len(out[0])
		out = out[1:]
	}
	return out
}
