package bench

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
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
	target := filepath.Join(dir, "target")
	if err := os.MkdirAll(target, 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(filepath.Join(target, ".build.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()

	cpFile := filepath.Join(target, "cp.txt")
	fresh, err := upToDate(dir, cpFile)
	if err != nil {
		return "", err
	}
	if !fresh {
		mvn, err := exec.LookPath("mvn")
		if err != nil {
			return "", fmt.Errorf("mvn is not on PATH and %s is missing or older than the Flink jobs' sources: install Maven (Debian: apt-get install maven)", cpFile)
		}
		cmd := exec.Command(mvn, "-q", "-B", "-f", filepath.Join(dir, "pom.xml"),
			"package", "dependency:build-classpath", "-Dmdep.outputFile="+cpFile)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("build the Flink jobs (%s): %v\n%s", strings.Join(cmd.Args, " "), err, lastLines(out.String(), 40))
		}
		// build-classpath leaves an unchanged file alone: mark the build as done.
		if err := touch(cpFile); err != nil {
			return "", err
		}
	}
	cp, err := os.ReadFile(cpFile)
	if err != nil {
		return "", err
	}
	return filepath.Join(target, "classes") + string(os.PathListSeparator) + strings.TrimSpace(string(cp)), nil
}

// upToDate reports whether stamp and the compiled main class exist and stamp
// is newer than pom.xml and everything under src/.
func upToDate(dir, stamp string) (bool, error) {
	st, err := os.Stat(stamp)
	if errors.Is(err, fs.ErrNotExist) || st != nil && st.Size() == 0 {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := os.Stat(filepath.Join(dir, "target", "classes", "io", "spate", "bench", "Bench.class")); err != nil {
		return false, nil
	}
	newer := false
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p == filepath.Join(dir, "target") {
				return filepath.SkipDir
			}
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.ModTime().After(st.ModTime()) {
			newer = true
			return filepath.SkipAll
		}
		return nil
	})
	return !newer, err
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
