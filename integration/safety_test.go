package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// nobody is the unprivileged user the tests below run jobs as when the test
// runs as root (as CI does): root writes anywhere, so a permission test as
// root proves nothing.
const nobody = 65534

// sharedDir is a world-writable directory with the sticky bit, like /tmp,
// that any user can reach.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "spate-shared-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	return dir
}

// asUser runs a built binary as uid (0: as this process), with env added.
func asUser(t *testing.T, uid int, env []string, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, name), args...)
	if uid != 0 && uid != os.Getuid() {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	}
	return runCmd(t, cmd, env)
}

// TestDefaultCheckpointDirIsPerUser: without state.checkpoints.dir, each
// user gets a directory of their own in the temp dir, so one created there by
// root does not stop another user's job (it used to decline every checkpoint
// and restart forever).
func TestDefaultCheckpointDirIsPerUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a job as a second user; CI runs as root")
	}
	tmp := sharedDir(t)
	args := []string{"--keys", "2", "--per-key", "50", "--failures", "0", "--checkpoint-interval", "20", "--parallelism", "2"}
	for _, u := range []struct {
		uid  int
		name string
	}{{0, "root"}, {nobody, "nobody"}} {
		out := filepath.Join(tmp, "out-"+u.name)
		r := asUser(t, u.uid, []string{"TMPDIR=" + tmp}, "exactlyonce", append(args, "--output", out)...)
		if r.code != 0 {
			t.Fatalf("as %s: exit %d\n%s", u.name, r.code, r.stderr)
		}
		fi, err := os.Stat(filepath.Join(tmp, "spate-checkpoints-"+u.name))
		if err != nil || fi.Sys().(*syscall.Stat_t).Uid != uint32(u.uid) {
			t.Fatalf("as %s: checkpoint directory %v, %v", u.name, fi, err)
		}
	}
}

// TestUnwritableCheckpointDir: a checkpoint directory the user cannot write
// is a clear error before the job starts, not a restart loop.
func TestUnwritableCheckpointDir(t *testing.T) {
	tmp := sharedDir(t)
	ckpt := filepath.Join(tmp, "theirs")
	if err := os.Mkdir(ckpt, 0o755); err != nil {
		t.Fatal(err)
	}
	uid := nobody
	if os.Getuid() != 0 {
		uid = os.Getuid()
		if err := os.Chmod(ckpt, 0o555); err != nil {
			t.Fatal(err)
		}
	}
	r := asUser(t, uid, []string{"SPATE_PROPERTIES=state.checkpoints.dir=" + ckpt}, "exactlyonce",
		"--keys", "2", "--per-key", "50", "--failures", "0", "--checkpoint-interval", "20", "--output", filepath.Join(tmp, "out"))
	want := regexp.MustCompile(`^exactlyonce: state\.checkpoints\.dir "` + regexp.QuoteMeta(ckpt) + `" is not writable: open ` + regexp.QuoteMeta(ckpt) +
		`/\.spate-write-probe-[0-9a-f]{12}: permission denied; set state\.checkpoints\.dir to a directory this user \(uid ` + strconv.Itoa(uid) + `\) can write\n$`)
	if r.code != 1 || !want.MatchString(r.stderr) {
		t.Fatalf("exit %d, stderr:\n%s\nwant %s", r.code, r.stderr, want)
	}
	if strings.Contains(r.stderr, "restarting") {
		t.Fatal("the job restarted")
	}
	if _, err := os.Stat(filepath.Join(tmp, "out")); !os.IsNotExist(err) {
		t.Fatalf("the job created its output: %v", err)
	}
}
