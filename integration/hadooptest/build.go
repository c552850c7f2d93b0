package hadooptest

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
	"time"
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
	if fresh, err := upToDate(dir, cpFile); err != nil {
		return "", err
	} else if !fresh {
		mvn := lookPath("mvn")
		if mvn == "" {
			return "", fmt.Errorf("mvn is not on PATH and %s is missing or older than the launcher's sources: install Maven", cpFile)
		}
		t0 := time.Now()
		cmd := exec.Command(mvn, "-q", "-B", "-f", filepath.Join(dir, "pom.xml"),
			"package", "dependency:build-classpath", "-Dmdep.outputFile="+cpFile)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("build the Hadoop launcher (%s): %v\n%s", strings.Join(cmd.Args, " "), err, lastLines(out.String(), 40))
		}
		BuildTime = time.Since(t0)
		// build-classpath leaves an unchanged file alone: mark the build as done.
		now := time.Now()
		if err := os.Chtimes(cpFile, now, now); err != nil {
			return "", err
		}
	}
	cp, err := os.ReadFile(cpFile)
	if err != nil {
		return "", err
	}
	return filepath.Join(target, "classes") + string(os.PathListSeparator) + strings.TrimSpace(string(cp)), nil
}

// upToDate reports whether stamp exists, target/classes too, and stamp is
// newer than pom.xml and everything under src/.
func upToDate(dir, stamp string) (bool, error) {
	st, err := os.Stat(stamp)
	if errors.Is(err, fs.ErrNotExist) || st != nil && st.Size() == 0 {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := os.Stat(filepath.Join(dir, "target", "classes", "io", "spate", "hadoop", "Launcher.class")); err != nil {
		return false, nil
	}
	newer := false
	check := func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
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
	}
	if err := filepath.WalkDir(filepath.Join(dir, "pom.xml"), check); err != nil {
		return false, err
	}
	if err := filepath.WalkDir(filepath.Join(dir, "src"), check); err != nil {
		return false, err
	}
	return !newer, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
