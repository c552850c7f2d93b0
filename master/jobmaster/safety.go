package jobmaster

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/master/checkpoint"
	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/task"
)

// What keeps a job safe around runs, not only inside one: the start-up
// checks of its directories, the lease that keeps a second run of the job off
// its checkpoints, and the failures a restart cannot mend.

// interruptedError is the error of a job whose context was cancelled: it
// wraps ErrJobCancelled and ErrJobInterrupted, and the context's cause.
type interruptedError struct{ cause error }

func (e *interruptedError) Error() string { return "job interrupted: " + e.cause.Error() }
func (e *interruptedError) Unwrap() error { return e.cause }
func (e *interruptedError) Is(target error) bool {
	return target == ErrJobCancelled || target == ErrJobInterrupted
}

// unmendable reports failures that a restart would meet again: the
// filesystem refuses, is full or read-only, the lease is lost, state is
// corrupt or declared with another type, a record carries the reserved
// timestamp (it is replayed after a restart), or the job asked so.
func unmendable(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EROFS) ||
		errors.Is(err, syscall.EDQUOT) || errors.Is(err, checkpoint.ErrLeaseLost) ||
		errors.Is(err, state.ErrCorruptState) || errors.Is(err, state.ErrIncompatibleState) ||
		errors.Is(err, task.ErrReservedTimestamp) || errors.Is(err, ErrSuppressRestarts)
}

// suppress marks err as unmendable for the restart logic, unless it is already.
func suppress(err error) error {
	if errors.Is(err, ErrSuppressRestarts) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrSuppressRestarts, err)
}

// checkWritable makes sure dir exists (creating it) and that a file can be
// written in it, so that a job whose checkpoints could never be written fails
// before it starts, naming the key to change.
func checkWritable(fsys hdfs.FileSystem, dir, key string) error {
	hint := fmt.Sprintf("; set %s to a directory this user (uid %d) can write", key, syscall.Getuid())
	if err := fsys.MkdirAll(dir); err != nil {
		return fmt.Errorf("%s %q cannot be created: %w%s", key, dir, err, hint)
	}
	fi, err := fsys.Stat(dir)
	if err != nil {
		return fmt.Errorf("%s %q: %w%s", key, dir, err, hint)
	}
	if !fi.IsDir {
		return fmt.Errorf("%s %q is a file, not a directory%s", key, dir, hint)
	}
	probe := path.Join(dir, ".spate-write-probe-"+NewJobID()[:12])
	w, err := fsys.Create(probe)
	if err == nil {
		_, err = w.Write([]byte("spate\n"))
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if rerr := fsys.Remove(probe); err == nil && rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = rerr
		}
	}
	if err != nil {
		return fmt.Errorf("%s %q is not writable: %w%s", key, dir, err, hint)
	}
	return nil
}

// leaseKeeper renews the job's lease until the job ends, and fails the job
// for good when the lease is lost or cannot be renewed before it expires.
type leaseKeeper struct {
	lease *checkpoint.Lease
	every time.Duration
	stop  chan struct{}
	done  chan struct{} // closed when run returns; nil until start
	log   zerolog.Logger
}

func newLeaseKeeper(l *checkpoint.Lease, ttl time.Duration, log zerolog.Logger) *leaseKeeper {
	return &leaseKeeper{lease: l, every: max(ttl/3, 10*time.Millisecond), stop: make(chan struct{}), log: log}
}

// start renews the lease every third of its timeout until release; lost is
// called once, with an error wrapping ErrSuppressRestarts, when the job must
// stop.
func (k *leaseKeeper) start(lost func(error)) {
	k.done = make(chan struct{})
	go k.run(lost)
}

func (k *leaseKeeper) run(lost func(error)) {
	defer close(k.done)
	t := time.NewTicker(k.every)
	defer t.Stop()
	var last error
	for {
		select {
		case <-k.stop:
			return
		case now := <-t.C:
			err := k.lease.Renew()
			switch {
			case err == nil:
				last = nil
			case errors.Is(err, checkpoint.ErrLeaseLost):
				lost(suppress(err))
				return
			case k.lease.Expired(now):
				lost(suppress(fmt.Errorf("%w: could not renew %s before it expired: %w", checkpoint.ErrLeaseLost, k.lease.Path(), err)))
				return
			default:
				if last == nil {
					k.log.Warn().Err(err).Str("lease", k.lease.Path()).Msg("could not renew the job's lease; retrying")
				}
				last = err
			}
		}
	}
}

// release stops the renewals and removes the lease.
func (k *leaseKeeper) release() {
	close(k.stop)
	if k.done != nil {
		<-k.done
	}
	if err := k.lease.Release(); err != nil {
		k.log.Warn().Err(err).Msg("could not release the job's lease")
	}
}
