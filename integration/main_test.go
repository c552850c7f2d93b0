package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// binDir holds the binaries built once for the whole package.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	prestartHadoop() // hdfs_test.go: the shared Hadoop starts while the binaries build
	defer stopHadoop()
	defer stopKafka() // kafka_test.go: the shared broker, if a Kafka test started it
	dir, err := os.MkdirTemp("", "spate-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// World-readable, so a test can run a binary as an unprivileged user.
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	binDir = filepath.Join(dir, "bin")
	for _, pkg := range []string{"cmd/spate", "examples/wordcount", "examples/windowcount", "examples/exactlyonce"} {
		out := filepath.Join(binDir, filepath.Base(pkg))
		cmd := exec.Command("go", "build", "-o", out, "./"+pkg)
		cmd.Dir = ".."
		if b, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", pkg, err, b)
			return 1
		}
	}
	return m.Run()
}

// result of one command.
type result struct {
	code           int
	stdout, stderr string
}

// runBin runs a built binary with a clean Spate environment plus env.
func runBin(t *testing.T, env []string, name string, args ...string) result {
	t.Helper()
	return runCmd(t, exec.Command(filepath.Join(binDir, name), args...), env)
}

func runCmd(t *testing.T, cmd *exec.Cmd, env []string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(cleanEnv(), env...)
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", cmd.Args, err)
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// cleanEnv is the test process's environment without Spate's own variables.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SPATE_") {
			env = append(env, kv)
		}
	}
	return env
}
