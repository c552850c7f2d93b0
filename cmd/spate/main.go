package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/spate-io/spate/conf"
)

// Exit codes of spate. `spate run` and `spate info` exit with the job
// binary's own code instead, once the binary has started.
const (
	ExitOK      = 0 // success
	ExitFailure = 1 // a runtime error
	ExitUsage   = 2 // a usage or configuration error: change the command line or the configuration
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the spate command line args (without the program name), writes
// results to stdout and messages to stderr, and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	err := app.Run(append([]string{"spate"}, splitAttachedD(args)...))
	var ee *exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintln(stderr, ee.msg)
		}
		return ee.code
	default:
		fmt.Fprintf(stderr, "spate: %v\n", err)
		return ExitFailure
	}
}

func newApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:     "spate",
		HelpName: "spate",
		Usage:    "run and inspect Spate stream processing jobs",
		Flags: []cli.Flag{
			&cli.StringFlag{
				Name:  "log-level",
				Usage: "log `LEVEL` of spate and of the job: trace, debug, info, warn or error (same as -D log.level=LEVEL, which wins)",
			},
		},
		Commands: []*cli.Command{
			runCommand(),
			infoCommand(),
			submitCommand(),
			listCommand(),
			cancelCommand(),
			savepointCommand(),
			stopCommand(),
			jobManagerCommand(),
			taskManagerCommand(),
			yarnSubmitCommand(),
			yarnSessionCommand(),
			configCommand(),
			doctorCommand(),
			versionCommand(),
		},
		Before:                    checkLogLevel,
		Action:                    rootAction,
		Writer:                    stdout,
		ErrWriter:                 stderr,
		HideVersion:               true,
		HideHelpCommand:           true,
		DisableSliceFlagSeparator: true, // -D values may contain commas
		OnUsageError:              onUsageError,
		ExitErrHandler:            func(*cli.Context, error) {}, // run() decides the exit code; never os.Exit inside
	}
}

// rootAction handles `spate`, `spate help [COMMAND]` and unknown commands.
func rootAction(c *cli.Context) error {
	args := c.Args().Slice()
	switch {
	case len(args) == 0, len(args) == 1 && args[0] == "help":
		return cli.ShowAppHelp(c)
	case args[0] == "help" && len(args) == 2 && c.App.Command(args[1]) != nil:
		return cli.ShowCommandHelp(c, args[1])
	case args[0] == "help":
		return usageErrorf("spate help: unknown command %q (run 'spate --help' for the list)", strings.Join(args[1:], " "))
	}
	return usageErrorf("spate: unknown command %q (run 'spate --help' for the list)", args[0])
}

// checkLogLevel validates the global --log-level before any command runs.
func checkLogLevel(c *cli.Context) error {
	if !c.IsSet("log-level") {
		return nil
	}
	if err := conf.New().Set(conf.LogLevel.Key(), c.String("log-level")); err != nil {
		return usageErrorf("spate: --log-level: %v", err)
	}
	return nil
}

// onUsageError turns a flag parsing error into one line, instead of the full
// help that urfave/cli prints by default.
func onUsageError(c *cli.Context, err error, _ bool) error {
	name := c.Command.HelpName
	if name == "" {
		name = "spate"
	}
	return usageErrorf("%s: %v (run '%s --help')", name, err, name)
}

// exitError ends spate with code after printing msg (if any) as one line.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string {
	if e.msg == "" {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.msg
}

func usageErrorf(format string, args ...any) error {
	return &exitError{code: ExitUsage, msg: fmt.Sprintf(format, args...)}
}

func failuref(format string, args ...any) error {
	return &exitError{code: ExitFailure, msg: fmt.Sprintf(format, args...)}
}

// splitAttachedD rewrites Flink's attached form -Dkey=value into -D
// key=value among the flags of run, info and submit, which Go's flag syntax would
// otherwise read as an unknown flag "-Dkey". Only the flags before JOB are
// touched: everything from JOB (or "--") on belongs to the job.
func splitAttachedD(args []string) []string {
	isFlag := func(a string) bool { return a != "-" && a != "--" && strings.HasPrefix(a, "-") }
	out := make([]string, 0, len(args)+2)
	i := 0
	for ; i < len(args) && isFlag(args[i]); i++ { // global flags
		out = append(out, args[i])
		if (args[i] == "--log-level" || args[i] == "-log-level") && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
	}
	if i == len(args) || (args[i] != "run" && args[i] != "info" && args[i] != "submit" && args[i] != "yarn-submit") {
		return append(out, args[i:]...)
	}
	out = append(out, args[i])
	for i++; i < len(args) && isFlag(args[i]); i++ {
		a := args[i]
		switch {
		case a == "-D" || a == "--D":
			out = append(out, a)
			if i+1 < len(args) {
				i++
				out = append(out, args[i])
			}
		case strings.HasPrefix(a, "-D") && !strings.HasPrefix(a, "-D="):
			out = append(out, "-D", a[2:])
		case valueFlags[strings.TrimLeft(a, "-")] && i+1 < len(args):
			out = append(out, a, args[i+1])
			i++
		default:
			out = append(out, a)
		}
	}
	return append(out, args[i:]...)
}

// valueFlags are the flags of run, info and submit that take a separate
// value, which splitAttachedD passes over.
var valueFlags = map[string]bool{"s": true, "fromSavepoint": true, "resume": true, "t": true, "target": true,
	"m": true, "jobmanager": true, "p": true, "parallelism": true, "on-interrupt": true, "session": true,
	"tag": true, "output": true, "o": true, "stop-on-signal": true}
