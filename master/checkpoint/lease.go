package checkpoint

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"github.com/spate-io/spate/hdfs"
)

// LeaseDir is the directory under state.checkpoints.dir that holds the
// leases: <dir>/_leases/<job name>.lease.
const LeaseDir = "_leases"

// A Lease makes a run the only one of its job (by name) on one checkpoint
// directory: two runs that resume the same checkpoints would each delete the
// other's uncommitted output. The lease is a small JSON file created
// exclusively; its holder renews it while it runs and removes it at the end.
// A lease is stale, and taken over, when it has expired or when its holder's
// process is gone from this host (kill -9 leaves the file behind).
//
// Taking over a stale lease renames it aside before creating the new one, so
// of two runs racing for one stale lease one wins; a holder that finds its
// lease replaced on renewal reports ErrLeaseLost and must stop.
type Lease struct {
	fs     hdfs.FileSystem
	path   string
	holder LeaseHolder
	ttl    time.Duration
	now    func() time.Time
}

// LeaseHolder is what a lease file says about the run that holds it.
type LeaseHolder struct {
	Owner    string `json:"owner"` // the job id of the run
	JobName  string `json:"jobName"`
	Host     string `json:"host"`
	PID      int    `json:"pid"`
	Acquired int64  `json:"acquired"` // ms since the epoch
	Renewed  int64  `json:"renewed"`
	Expires  int64  `json:"expires"`
}

// LeaseOptions say whose lease to take and how to judge an existing one.
type LeaseOptions struct {
	FS hdfs.FileSystem
	// Root is state.checkpoints.dir.
	Root    string
	JobName string
	// Owner identifies the run (its job id).
	Owner string
	// TTL is how long a lease lives without renewal.
	TTL time.Duration
	// Host and PID describe this process; empty and 0 mean os.Hostname and
	// os.Getpid.
	Host string
	PID  int
	// Now is the clock (time.Now when nil); Alive tells whether a process of
	// this host exists (a signal-0 probe when nil).
	Now   func() time.Time
	Alive func(pid int) bool
}

// ErrLeaseHeld is wrapped by AcquireLease's error when a live run holds the lease.
var ErrLeaseHeld = errors.New("another run of the job holds its lease")

// ErrLeaseLost is wrapped by Renew's error when the lease file is gone or
// belongs to another run: this run must stop, another one has taken over.
var ErrLeaseLost = errors.New("the job's lease was lost")

// LeaseHeldError is AcquireLease's error for a live lease; it wraps ErrLeaseHeld.
type LeaseHeldError struct {
	Path   string
	Holder LeaseHolder // zero when the file could not be read yet
	Now    time.Time
}

func (e *LeaseHeldError) Error() string {
	h := e.Holder
	if h.Owner == "" {
		return fmt.Sprintf("job is already starting or running on this checkpoint directory: %s is being written by another run; try again in a moment", e.Path)
	}
	renewed := e.Now.Sub(time.UnixMilli(h.Renewed)).Round(time.Second)
	expires := time.UnixMilli(h.Expires).Sub(e.Now).Round(time.Second)
	return fmt.Sprintf("job %q is already running on this checkpoint directory: run %s (pid %d on host %s) holds %s, renewed %s ago, expires in %s; stop that run first (or, if it died on another host, wait until its lease expires)",
		h.JobName, h.Owner, h.PID, h.Host, e.Path, renewed, expires)
}

func (e *LeaseHeldError) Unwrap() error { return ErrLeaseHeld }

// LeasePath is where the lease of jobName lives under root.
func LeasePath(root, jobName string) string {
	return path.Join(root, LeaseDir, leaseFileName(jobName)+".lease")
}

// leaseFileName turns a job name into a file name: letters, digits, '-' and
// '_' are kept, anything else becomes '_', and a name that changed gets a
// hash of the original so that two names never share a lease.
func leaseFileName(name string) string {
	var b strings.Builder
	changed := name == ""
	for _, r := range name {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
			changed = true
		}
	}
	if changed {
		h := uint32(2166136261) // FNV-1a
		for i := range len(name) {
			h = (h ^ uint32(name[i])) * 16777619
		}
		fmt.Fprintf(&b, "-%08x", h)
	}
	return b.String()
}

// AcquireLease takes the lease of o.JobName under o.Root, taking over a stale
// one, or fails with a *LeaseHeldError while another run holds it.
func AcquireLease(o LeaseOptions) (*Lease, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Alive == nil {
		o.Alive = processAlive
	}
	if o.Host == "" {
		o.Host, _ = os.Hostname()
	}
	if o.PID == 0 {
		o.PID = os.Getpid()
	}
	l := &Lease{fs: o.FS, path: LeasePath(o.Root, o.JobName), ttl: o.TTL, now: o.Now}
	if err := o.FS.MkdirAll(path.Dir(l.path)); err != nil {
		return nil, fmt.Errorf("create lease directory: %w", err)
	}
	for range 3 {
		now := o.Now()
		l.holder = LeaseHolder{Owner: o.Owner, JobName: o.JobName, Host: o.Host, PID: o.PID,
			Acquired: now.UnixMilli(), Renewed: now.UnixMilli(), Expires: now.Add(o.TTL).UnixMilli()}
		err := l.create()
		if err == nil {
			return l, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		held, modTime, rerr := readLease(o.FS, l.path)
		if errors.Is(rerr, fs.ErrNotExist) {
			continue // released meanwhile
		}
		if rerr != nil && !errors.Is(rerr, errLeaseUnreadable) {
			return nil, fmt.Errorf("read lease %s: %w", l.path, rerr)
		}
		if !stale(held, rerr != nil, modTime, now, o) {
			return nil, &LeaseHeldError{Path: l.path, Holder: held, Now: now}
		}
		if err := l.takeOver(held); err != nil {
			return nil, err
		}
	}
	return nil, &LeaseHeldError{Path: l.path, Now: o.Now()}
}

// stale reports whether an existing lease may be taken over.
func stale(h LeaseHolder, unreadable bool, modTime, now time.Time, o LeaseOptions) bool {
	if unreadable {
		// Being written by a racing creator, or left half-written by one that
		// died: stale once a whole TTL has passed since it was touched.
		return now.Sub(modTime) > o.TTL
	}
	if now.UnixMilli() > h.Expires {
		return true
	}
	return h.Host == o.Host && h.PID != o.PID && !o.Alive(h.PID)
}

// takeOver moves a stale lease aside and removes it. If what was moved is not
// the lease judged stale (another run took over first), it is put back.
func (l *Lease) takeOver(judged LeaseHolder) error {
	aside := l.path + ".stale-" + randomHex()
	if err := l.fs.Rename(l.path, aside); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // someone else moved it; try again
		}
		return fmt.Errorf("take over stale lease %s: %w", l.path, err)
	}
	moved, _, err := readLease(l.fs, aside)
	if err == nil && moved.Owner != judged.Owner {
		_ = l.fs.Rename(aside, l.path)
		return &LeaseHeldError{Path: l.path, Holder: moved, Now: l.now()}
	}
	if err := l.fs.Remove(aside); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale lease %s: %w", aside, err)
	}
	return nil
}

// Holder is what the lease says about this run.
func (l *Lease) Holder() LeaseHolder { return l.holder }

// Path is the lease file.
func (l *Lease) Path() string { return l.path }

// Renew extends the lease by its TTL from now. An error wrapping
// ErrLeaseLost means another run holds the lease now; other errors are I/O
// failures, worth a retry until the lease expires.
func (l *Lease) Renew() error {
	if err := l.check(); err != nil {
		return err
	}
	now := l.now()
	h := l.holder
	h.Renewed, h.Expires = now.UnixMilli(), now.Add(l.ttl).UnixMilli()
	tmp := l.path + ".renew-" + l.holder.Owner
	if err := writeLeaseFile(l.fs, tmp, h, false); err != nil {
		return err
	}
	if err := l.fs.Rename(tmp, l.path); err != nil {
		return fmt.Errorf("renew lease %s: %w", l.path, err)
	}
	l.holder = h
	return nil
}

// Expired reports whether the lease ran out without renewal at now.
func (l *Lease) Expired(now time.Time) bool { return now.UnixMilli() > l.holder.Expires }

// Release removes the lease file if this run still holds it.
func (l *Lease) Release() error {
	if err := l.check(); err != nil {
		return err
	}
	if err := l.fs.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("release lease %s: %w", l.path, err)
	}
	return nil
}

// check verifies that the lease file still names this run.
func (l *Lease) check() error {
	h, _, err := readLease(l.fs, l.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %s was removed by someone else", ErrLeaseLost, l.path)
	case errors.Is(err, errLeaseUnreadable):
		return fmt.Errorf("%w: %s was replaced by a file this run did not write", ErrLeaseLost, l.path)
	case err != nil:
		return fmt.Errorf("read lease %s: %w", l.path, err)
	case h.Owner != l.holder.Owner:
		return fmt.Errorf("%w: run %s (pid %d on host %s) took over %s", ErrLeaseLost, h.Owner, h.PID, h.Host, l.path)
	}
	return nil
}

func (l *Lease) create() error { return writeLeaseFile(l.fs, l.path, l.holder, true) }

func writeLeaseFile(fsys hdfs.FileSystem, p string, h LeaseHolder, exclusive bool) error {
	body, err := json.Marshal(h)
	if err != nil {
		return err
	}
	var w io.WriteCloser
	if exclusive {
		w, err = hdfs.CreateExclusive(fsys, p)
	} else {
		w, err = fsys.Create(p)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(append(body, '\n'))
	if s, ok := w.(interface{ Sync() error }); ok && err == nil {
		err = s.Sync()
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write lease %s: %w", p, err)
	}
	return nil
}

var errLeaseUnreadable = errors.New("lease file is not valid JSON")

// readLease reads a lease file and its modification time; a file that does
// not parse (still being written) gives errLeaseUnreadable with the time.
func readLease(fsys hdfs.FileSystem, p string) (LeaseHolder, time.Time, error) {
	fi, err := fsys.Stat(p)
	if err != nil {
		return LeaseHolder{}, time.Time{}, err
	}
	data, err := readFile(fsys, p)
	if err != nil {
		return LeaseHolder{}, fi.ModTime, err
	}
	var h LeaseHolder
	if err := json.Unmarshal(data, &h); err != nil || h.Owner == "" {
		return LeaseHolder{}, fi.ModTime, errLeaseUnreadable
	}
	return h, fi.ModTime, nil
}

func randomHex() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
