package bench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/spate-io/spate/integration/maven"
)

var (
	flinkOnce sync.Once
	flinkCP   string
	flinkErr  error
)

// FlinkModuleDir is the Maven module of the Flink jobs, integration/bench/flink.
func FlinkModuleDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot find integration/bench/flink from the binary's sources")
	}
	d := filepath.Join(filepath.Dir(file), "flink")
	if _, err := os.Stat(filepath.Join(d, "pom.xml")); err != nil {
		return "", fmt.Errorf("cannot find the Flink jobs' pom.xml: %w", err)
	}
	return d, nil
}

// BuildFlink compiles the Flink jobs with Maven unless target/cp.txt is newer
// than pom.xml and every source, and returns their class path (classes
// first). Maven runs at most once per process, under a lock on the module so
// that a test and a benchmark run started together do not build it at once.
// The first build fetches Flink's jars (about 90 MB) into ~/.m2.
func BuildFlink() (string, error) {
	flinkOnce.Do(func() { flinkCP, flinkErr = buildFlink() })
	return flinkCP, flinkErr
}

func buildFlink() (string, error) {
	dir, err := FlinkModuleDir()
	if err != nil {
		return "", err
	}
	cp, _, err := maven.Module{Dir: dir, MainClass: "io/spate/bench/Bench.class", What: "the Flink jobs"}.Build()
	return cp, err
}
