package taskmanager

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/worker/transport/gen/wire"
)

const testJob = "0123456789abcdef0123456789abcdef"

func testSession(t *testing.T) *session {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "blobs"), 0o700); err != nil {
		t.Fatal(err)
	}
	return &session{cfg: SessionConfig{Name: "tm", WorkDir: dir, Stdout: io.Discard, Stderr: io.Discard}, log: zerolog.Nop(), jobs: map[string]*jobChild{}}
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// rejection is the reason and class of a TaskRejected.
func rejection(t *testing.T, err error) (string, string) {
	t.Helper()
	var rej *wire.TaskRejected
	if !errors.As(err, &rej) {
		t.Fatalf("error %v (%T) is not a TaskRejected", err, err)
	}
	return rej.Reason, rej.GetErrorClass()
}

// TestStartJobRefusals: a job id that is not one, and a binary whose SHA-256
// is not the one sent, are refused for good before anything is stored or
// run.
func TestStartJobRefusals(t *testing.T) {
	s := testSession(t)
	bin := []byte("#!/bin/sh\nexit 0\n")
	_, err := s.StartJob(context.Background(), "../../etc", bin, sum(bin), nil, "", "fp", "jm:1")
	if r, c := rejection(t, err); r != `job id "../../etc" is not 32 lowercase hexadecimal characters` || c != "suppress-restarts" {
		t.Fatalf("bad id: %q, class %q", r, c)
	}
	wrong := sum([]byte("other"))
	_, err = s.StartJob(context.Background(), testJob, bin, wrong, nil, "", "fp", "jm:1")
	if r, c := rejection(t, err); r != "the job binary received has SHA-256 "+sum(bin)+", not the "+wrong+" the JobManager sent" || c != "suppress-restarts" {
		t.Fatalf("bad sha: %q, class %q", r, c)
	}
	if ents, _ := os.ReadDir(filepath.Join(s.cfg.WorkDir, "blobs")); len(ents) != 0 {
		t.Fatalf("refused binaries were stored: %v", ents)
	}
}

// TestStartJobAnswers: the child's answer on its descriptor decides: "ok"
// gives its endpoints (a repeated start returns the same), "error" is
// refused with its class and message, and a child that exits without an
// answer is refused with the last line of its stderr.
func TestStartJobAnswers(t *testing.T) {
	s := testSession(t)
	ok := []byte("#!/bin/sh\necho \"ok 127.0.0.1:1 127.0.0.1:2\" >&3\nexec sleep 30\n")
	ep, err := s.StartJob(context.Background(), testJob, ok, sum(ok), nil, "a=1", "fp", "jm:1")
	if err != nil || ep.RpcAddress != "127.0.0.1:1" || ep.DataAddress != "127.0.0.1:2" {
		t.Fatalf("ok: %+v, %v", ep, err)
	}
	again, err := s.StartJob(context.Background(), testJob, ok, sum(ok), nil, "a=1", "fp", "jm:1")
	if err != nil || again != ep {
		t.Fatalf("a repeated start: %+v, %v", again, err)
	}
	if err := s.StopJob(context.Background(), testJob); err != nil {
		t.Fatal(err)
	}
	refuse := []byte("#!/bin/sh\necho \"error suppress-restarts job binary or arguments differ: graph x\" >&3\nexit 1\n")
	_, err = s.StartJob(context.Background(), testJob, refuse, sum(refuse), nil, "", "fp", "jm:1")
	if r, c := rejection(t, err); r != "job binary or arguments differ: graph x" || c != "suppress-restarts" {
		t.Fatalf("refusal: %q, class %q", r, c)
	}
	silent := []byte("#!/bin/sh\necho first >&2\necho \"cannot open the input\" >&2\nexit 3\n")
	_, err = s.StartJob(context.Background(), testJob, silent, sum(silent), nil, "", "fp", "jm:1")
	if r, c := rejection(t, err); r != "the job's process exited before it served (exit status 3): cannot open the input" || c != "" {
		t.Fatalf("silent exit: %q, class %q", r, c)
	}
}

// TestJobProcessEnvironment: the child gets its job, the JobMaster, the
// fingerprint and the properties with the TaskManager's overrides last, and
// no other SPATE_ variable.
func TestJobProcessEnvironment(t *testing.T) {
	s := testSession(t)
	s.cfg.Overrides = []string{"security.cluster.secret-file=/s"}
	t.Setenv("SPATE_CONF_DIR", "/tm/conf")
	t.Setenv("SPATE_OTHER", "x")
	out := filepath.Join(t.TempDir(), "env")
	bin := []byte("#!/bin/sh\n{ env | grep '^SPATE_' | grep -v '^SPATE_PROPERTIES=' | sort; printf 'properties:\\n%s\\n' \"$SPATE_PROPERTIES\"; } > " + out +
		"\necho \"ok a b\" >&3\nexec sleep 30\n")
	if _, err := s.StartJob(context.Background(), testJob, bin, sum(bin), []string{"--x"}, "p=1", "fp", "jm:1"); err != nil {
		t.Fatal(err)
	}
	defer s.stopAll()
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{"SPATE_CONF_DIR=", "SPATE_JOBMASTER_ADDRESS=jm:1", "SPATE_JOB_FINGERPRINT=fp", "SPATE_JOB_ID=" + testJob,
		"SPATE_ROLE=taskexecutor", "SPATE_TASKMANAGER_NAME=tm", "properties:", "p=1", "security.cluster.secret-file=/s"}, "\n") + "\n"
	if string(b) != want {
		t.Fatalf("environment\n%s\nwant\n%s", b, want)
	}
}
