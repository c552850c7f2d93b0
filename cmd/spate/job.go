package main

import (
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/spate-io/spate/conf"
)

// Roles a job binary is started in; the sdk reads SPATE_ROLE.
const (
	envRole    = "SPATE_ROLE"
	roleClient = "client"
	roleInfo   = "info"
)

var dynamicFlag = &cli.StringSliceFlag{
	Name:  "D",
	Usage: "set configuration `key=value` (repeatable; -Dkey=value works too; 'spate config' lists the keys)",
}

// Restore flags of run, as Flink's "flink run -s PATH --allowNonRestoredState".
var restoreFlags = []cli.Flag{
	&cli.StringFlag{Name: "fromSavepoint", Aliases: []string{"s"},
		Usage: "start the job from the savepoint or retained checkpoint in `PATH` (sets execution.savepoint.path)"},
	&cli.BoolFlag{Name: "allow-non-restored-state", Aliases: []string{"n"},
		Usage: "start even if the savepoint holds state of operators the job no longer has, dropping it"},
	&cli.StringFlag{Name: "resume",
		Usage: "resume from the newest completed checkpoint or savepoint of the job's name; `WHAT` must be 'latest'"},
}

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run a job binary on the embedded cluster (or, with --target remote, on a running one)",
		ArgsUsage: "JOB [-- ARGS...]",
		Description: "Runs the job binary JOB with ARGS, passing stdin, stdout and stderr through, and exits\n" +
			"with its exit code (with --target remote it submits the job instead, as spate submit). The\n" +
			"effective configuration (spate.yaml, SPATE_PROPERTIES, -D) is\n" +
			"validated first and handed to the job in SPATE_PROPERTIES. SIGINT and SIGTERM are\n" +
			"forwarded to the job. -s PATH starts the job from a savepoint; --resume latest from the\n" +
			"newest completed checkpoint or savepoint of its name.",
		Flags: append(append([]cli.Flag{dynamicFlag,
			&cli.StringFlag{Name: "target", Aliases: []string{"t"}, Usage: "`TARGET` embedded (the default), or remote: submit to a running cluster, as spate submit (execution.target)"},
		}, restoreFlags...), submitFlags()...),
		HideHelpCommand: true,
		OnUsageError:    onUsageError,
		Action: func(c *cli.Context) error {
			target := c.String("target")
			if target == "" {
				cfg, err := conf.Load(c.StringSlice("D"))
				if err != nil {
					return usageErrorf("%s: %v", c.Command.HelpName, err)
				}
				target = conf.Target.Get(cfg)
			}
			switch target {
			case "embedded":
				return execJob(c, roleClient)
			case "remote":
				return submitJob(c)
			}
			return usageErrorf("%s: --target %q: want embedded or remote", c.Command.HelpName, target)
		},
	}
}

func infoCommand() *cli.Command {
	return &cli.Command{
		Name:      "info",
		Usage:     "print a job's plan as JSON without running it",
		ArgsUsage: "JOB [-- ARGS...]",
		Description: "Starts the job binary JOB with ARGS in the info role: it builds its JobGraph and prints\n" +
			"the plan as JSON to stdout instead of running it. Exits with the binary's exit code.",
		Flags:           []cli.Flag{dynamicFlag},
		HideHelpCommand: true,
		OnUsageError:    onUsageError,
		Action:          func(c *cli.Context) error { return execJob(c, roleInfo) },
	}
}

// execJob runs the job binary named on the command line in role and returns
// its exit code through an exitError.
func execJob(c *cli.Context, role string) error {
	name := c.Command.HelpName
	job, path, jobArgs, cfg, err := jobCommandLine(c, "[-D key=value]...")
	if err != nil {
		return err
	}

	cmd := &exec.Cmd{
		Path:   path,
		Args:   append([]string{job}, jobArgs...),
		Env:    jobEnv(os.Environ(), conf.EncodeProperties(cfg), role),
		Stdin:  os.Stdin,
		Stdout: c.App.Writer,
		Stderr: c.App.ErrWriter,
	}
	log := conf.NewLogger(cfg, c.App.ErrWriter)
	log.Debug().Str("job", job).Strs("args", jobArgs).Str("role", role).Msg("starting job binary")

	// Catch the signals before the job starts, so none is lost or kills
	// spate while the job runs.
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)

	// The job dies with spate (see startTied): a kill -9 of spate must not
	// leave it running beside the next run of the same job.
	wait, err := startTied(cmd)
	if err != nil {
		return usageErrorf("%s: start job binary %q: %v", name, job, err)
	}
	done := make(chan struct{})
	defer close(done)
	go forwardSignals(cmd.Process, signals, done)

	err = wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return &exitError{
				code: 128 + int(ws.Signal()),
				msg:  fmt.Sprintf("%s: job binary %q was killed by signal: %v", name, job, ws.Signal()),
			}
		}
		if code := ee.ExitCode(); code > 0 {
			return &exitError{code: code}
		}
	}
	if err != nil {
		return failuref("%s: job binary %q: %v", name, job, err)
	}
	return nil
}

// jobCommandLine reads what run, info, submit and yarn-submit share: JOB
// and its ARGS, and the effective configuration (spate.yaml,
// SPATE_PROPERTIES, --log-level, -p, the restore flags, -D). JOB must be a
// Spate job binary; path is its absolute path. flags is the usage text
// before JOB.
func jobCommandLine(c *cli.Context, flags string) (job, path string, jobArgs []string, cfg *conf.Config, err error) {
	name := c.Command.HelpName
	args := c.Args().Slice()
	if len(args) == 0 {
		return "", "", nil, nil, usageErrorf("%s: missing JOB (usage: %s %s JOB [-- ARGS...])", name, name, flags)
	}
	job, jobArgs = args[0], args[1:]
	if len(jobArgs) > 0 && jobArgs[0] == "--" {
		jobArgs = jobArgs[1:]
	}
	var dynamic []string
	if c.IsSet("log-level") {
		dynamic = append(dynamic, conf.LogLevel.Key()+"="+c.String("log-level"))
	}
	if c.IsSet("parallelism") {
		dynamic = append(dynamic, conf.ParallelismDefault.Key()+"="+strconv.Itoa(c.Int("parallelism")))
	}
	restore, err := restoreProperties(c)
	if err != nil {
		return "", "", nil, nil, err
	}
	if cfg, err = conf.Load(append(append(dynamic, restore...), c.StringSlice("D")...)); err != nil {
		return "", "", nil, nil, usageErrorf("%s: %v", name, err)
	}
	if path, err = jobPath(job); err != nil {
		return "", "", nil, nil, usageErrorf("%s: %v", name, err)
	}
	if err := checkSpateJob(job, path); err != nil {
		return "", "", nil, nil, usageErrorf("%s: %v", name, err)
	}
	return job, path, jobArgs, cfg, nil
}

// forwardSignals passes SIGINT and SIGTERM on to the job until done is
// closed. A SIGINT from the terminal (Ctrl-C) already reached the job, which
// shares spate's process group, so it is not sent a second time.
func forwardSignals(p *os.Process, signals <-chan os.Signal, done <-chan struct{}) {
	for {
		select {
		case s := <-signals:
			if s == os.Interrupt && terminalSentInterrupt() {
				continue
			}
			_ = p.Signal(s) // fails only once the job has exited
		case <-done:
			return
		}
	}
}

// jobPath checks that job names an executable file and returns its absolute
// path. job is a file path, never looked up in $PATH.
func jobPath(job string) (string, error) {
	fi, err := os.Stat(job)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("job binary %q not found", job)
	case err != nil:
		return "", err
	case fi.IsDir():
		return "", fmt.Errorf("job binary %q is a directory", job)
	case fi.Mode().Perm()&0o111 == 0:
		return "", fmt.Errorf("job binary %q is not executable (chmod +x %s)", job, job)
	}
	return filepath.Abs(job)
}

// spateModule is the module a Spate job is built with.
const spateModule = "github.com/spate-io/spate"

// checkSpateJob refuses a native executable that is not a Go program built
// with Spate's module, so that "spate run /bin/true" says what is wrong
// instead of succeeding at nothing. A script ("#!") passes: it may well
// start a Spate job.
func checkSpateJob(job, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	var head [2]byte
	_, _ = io.ReadFull(f, head[:])
	f.Close()
	if string(head[:]) == "#!" {
		return nil
	}
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		if inner := errors.Unwrap(err); inner != nil {
			err = inner // without buildinfo's repetition of the path
		}
		return fmt.Errorf("job binary %q is not a Spate job: it is not a Go program (%v); build the job with %s/sdk", job, err, spateModule)
	}
	if bi.Main.Path == spateModule {
		return nil
	}
	for _, d := range bi.Deps {
		if d.Path == spateModule || d.Replace != nil && d.Replace.Path == spateModule {
			return nil
		}
	}
	return fmt.Errorf("job binary %q is not a Spate job: the Go program %s does not use %s; build the job with %s/sdk", job, bi.Path, spateModule, spateModule)
}

// jobEnv returns env with SPATE_PROPERTIES and SPATE_ROLE replaced.
func jobEnv(env []string, properties, role string) []string {
	out := make([]string, 0, len(env)+2)
	for _, kv := range env {
		if strings.HasPrefix(kv, conf.EnvProperties+"=") || strings.HasPrefix(kv, envRole+"=") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, conf.EnvProperties+"="+properties, envRole+"="+role)
}

// restoreProperties turns run's restore flags into configuration settings.
func restoreProperties(c *cli.Context) ([]string, error) {
	name := c.Command.HelpName
	from, resume := c.String("fromSavepoint"), c.String("resume")
	var out []string
	switch {
	case from != "" && resume != "":
		return nil, usageErrorf("%s: -s and --resume both say where to start from; give one", name)
	case resume != "" && resume != "latest":
		return nil, usageErrorf("%s: --resume %q: only 'latest' is supported (or use -s PATH)", name, resume)
	case resume != "":
		out = append(out, conf.SavepointPath.Key()+"=latest")
	case from != "":
		out = append(out, conf.SavepointPath.Key()+"="+from)
	}
	if c.Bool("allow-non-restored-state") {
		if len(out) == 0 {
			return nil, usageErrorf("%s: --allow-non-restored-state needs -s PATH or --resume latest", name)
		}
		out = append(out, conf.SavepointIgnoreUnclaimedState.Key()+"=true")
	}
	return out, nil
}
