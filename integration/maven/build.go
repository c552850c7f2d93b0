package maven

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Module is a Maven module whose build writes target/cp.txt (its runtime
// class path) and compiles MainClass.
type Module struct {
	// Dir holds pom.xml and src/.
	Dir string
	// MainClass is the class file that proves a build, relative to
	// target/classes ("io/spate/hadoop/Launcher.class").
	MainClass string
	// What names the module in errors ("the Hadoop launcher").
	What string
}

// Build compiles m with Maven unless target/cp.txt is newer than pom.xml and
// every source, and returns its class path (classes first) and the time spent
// in Maven (0 when the cached build was current).
func (m Module) Build() (classPath string, took time.Duration, err error) {
	target := filepath.Join(m.Dir, "target")
	if err := os.MkdirAll(target, 0o755); err != nil {
		return "", 0, err
	}
	unlock, err := lockFile(filepath.Join(target, ".build.lock"))
	if err != nil {
		return "", 0, err
	}
	defer unlock()

	cpFile := filepath.Join(target, "cp.txt")
	fresh, err := m.upToDate(cpFile)
	if err != nil {
		return "", 0, err
	}
	if !fresh {
		mvn, err := exec.LookPath("mvn")
		if err != nil {
			return "", 0, fmt.Errorf("mvn is not on PATH and %s is missing or older than %s's sources: install Maven (Debian: apt-get install maven)", cpFile, m.What)
		}
		t0 := time.Now()
		cmd := exec.Command(mvn, "-q", "-B", "-f", filepath.Join(m.Dir, "pom.xml"),
			"package", "dependency:build-classpath", "-Dmdep.outputFile="+cpFile)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return "", 0, fmt.Errorf("build %s (%s): %v\n%s", m.What, strings.Join(cmd.Args, " "), err, LastLines(out.String(), 40))
		}
		took = time.Since(t0)
		// build-classpath leaves an unchanged file alone: mark the build as done.
		now := time.Now()
		if err := os.Chtimes(cpFile, now, now); err != nil {
			return "", 0, err
		}
	}
	cp, err := os.ReadFile(cpFile)
	if err != nil {
		return "", 0, err
	}
	return filepath.Join(target, "classes") + string(os.PathListSeparator) + strings.TrimSpace(string(cp)), took, nil
}

// upToDate reports whether stamp and the main class exist and stamp is newer
// than pom.xml and everything under src/.
func (m Module) upToDate(stamp string) (bool, error) {
	st, err := os.Stat(stamp)
	if errors.Is(err, fs.ErrNotExist) || st != nil && st.Size() == 0 {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := os.Stat(filepath.Join(m.Dir, "target", "classes", filepath.FromSlash(m.MainClass))); err != nil {
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
	for _, p := range []string{"pom.xml", "src"} {
		if err := filepath.WalkDir(filepath.Join(m.Dir, p), check); err != nil {
			return false, err
		}
	}
	return !newer, nil
}

// LastLines returns the last n lines of s, for error messages that quote a
// tool's output.
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
