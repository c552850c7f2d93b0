package hadooptest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/spate-io/spate/integration/maven"
)

var (
	buildOnce      sync.Once
	buildClassPath string
	buildErr       error
	// BuildTime is how long this process spent in Maven (0 when the cached
	// build was current).
	BuildTime time.Duration
)

// ModuleDir returns the launcher's Maven module, integration/hadoop;
// SPATE_HADOOP_MODULE overrides it.
func ModuleDir() (string, error) {
	if d := os.Getenv("SPATE_HADOOP_MODULE"); d != "" {
		return d, nil
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot find integration/hadoop: set SPATE_HADOOP_MODULE")
	}
	d := filepath.Join(filepath.Dir(file), "..", "hadoop")
	if _, err := os.Stat(filepath.Join(d, "pom.xml")); err != nil {
		return "", fmt.Errorf("cannot find the launcher's pom.xml (set SPATE_HADOOP_MODULE): %w", err)
	}
	return filepath.Clean(d), nil
}

// Build compiles the launcher with Maven unless target/cp.txt is newer than
// pom.xml and every source, and returns its class path (classes first). It
// runs Maven at most once per process, and holds a lock on the module so that
// test binaries built in parallel do not run Maven on it together.
func Build() (string, error) {
	buildOnce.Do(func() { buildClassPath, buildErr = build() })
	return buildClassPath, buildErr
}

func build() (string, error) {
	dir, err := ModuleDir()
	if err != nil {
		return "", err
	}
	cp, took, err := maven.Module{Dir: dir, MainClass: "io/spate/hadoop/Launcher.class", What: "the Hadoop launcher"}.Build()
	BuildTime = took
	return cp, err
}
