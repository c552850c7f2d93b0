package appmaster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spate-io/spate/yarn"
	"github.com/spate-io/spate/yarn/ipc"
	yarnpb "github.com/spate-io/spate/yarn/proto"
)

// EnvStatusFile, set in the AM container's job process by Supervise, names
// the file where it reports the job's final status instead of unregistering.
const EnvStatusFile = "SPATE_YARN_AM_STATUS"

// Supervised reports whether this process is the job process of a
// supervised AM.
func Supervised() bool { return os.Getenv(EnvStatusFile) != "" }

// Supervise runs this binary again, with the same arguments, as the AM
// container's job process, and unregisters when it has exited: YARN reports
// an application FINISHED as soon as its AM unregisters, and then kills the
// container, so unregistering from the job process itself would cut off
// what main() does after Execute (its output, its exit status). The final
// status is the job's, reported by the job process (End); FAILED when the
// job finished but main() exited non-zero. A job process that ends without
// reporting (a crash) leaves the attempt unregistered, failed with its exit
// status, and YARN retries it up to yarn.application-attempts.
// Supervise never returns.
func Supervise() {
	status := filepath.Join(os.Getenv("PWD"), ".spate-am-status")
	if os.Getenv("PWD") == "" {
		status = ".spate-am-status"
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "jobmanager: %v\n", err)
		os.Exit(1)
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), EnvStatusFile+"="+status)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, os.Interrupt)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "jobmanager: start the job process: %v\n", err)
		os.Exit(1)
	}
	go func() {
		for s := range signals {
			_ = cmd.Process.Signal(s) // the NodeManager's SIGTERM is the job's
		}
	}()
	err = cmd.Wait()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
		if code < 0 {
			code = 1
		}
	} else if err != nil {
		code = 1
	}
	b, rerr := os.ReadFile(status)
	if rerr != nil {
		fmt.Fprintf(os.Stderr, "jobmanager: the job process exited with status %d before the job ended\n", code)
		os.Exit(max(code, 1))
	}
	name, diag, _ := strings.Cut(string(b), "\n")
	st, ok := yarnpb.FinalApplicationStatusProto_value[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "jobmanager: bad status %q in %s\n", name, status)
		os.Exit(1)
	}
	final := yarnpb.FinalApplicationStatusProto(st)
	if final == yarnpb.FinalApplicationStatusProto_APP_SUCCEEDED && code != 0 {
		final, diag = yarnpb.FinalApplicationStatusProto_APP_FAILED, fmt.Sprintf("the job finished, but its main() then exited with status %d", code)
	}
	if err := unregister(final, diag); err != nil {
		fmt.Fprintf(os.Stderr, "jobmanager: unregister the ApplicationMaster (%s): %v\n", final, err)
		os.Exit(max(code, 1))
	}
	os.Exit(code)
}

// unregister finishes the attempt with a connection of its own: Finish
// needs the AMRMToken, not the job process's heartbeat state.
func unregister(status yarnpb.FinalApplicationStatusProto, diag string) error {
	creds, err := containerCredentials()
	if err != nil {
		return err
	}
	conf, err := yarn.LoadConfFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	sched, err := conf.SchedulerAddress()
	if err != nil {
		return err
	}
	amrm, err := yarn.NewAMRMClient(sched, creds.TokenOfKind(yarn.AMRMTokenKind), ipc.Options{})
	if err != nil {
		return err
	}
	defer amrm.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return amrm.Finish(ctx, status, diag, "")
}

// End ends the AM with the job's final status: in a supervised job process
// it stops the heartbeat and reports the status to Supervise, which
// unregisters once main() returned; otherwise it is Finish.
func (a *AppMaster) End(ctx context.Context, status yarnpb.FinalApplicationStatusProto, diagnostics string) error {
	path := os.Getenv(EnvStatusFile)
	if path == "" {
		return a.Finish(ctx, status, diagnostics)
	}
	a.mu.Lock()
	if a.finished {
		a.mu.Unlock()
		return nil
	}
	a.finished = true
	a.mu.Unlock()
	a.cancel()
	<-a.done
	a.amrm.Close()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(status.String()+"\n"+diagnostics), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
