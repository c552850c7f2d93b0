package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/yarn"
)

// The client side of the REST API: submit, list, cancel, savepoint, stop.

var jobManagerFlag = &cli.StringFlag{Name: "jobmanager", Aliases: []string{"m"},
	Usage: "the JobManager's REST endpoint `HOST:PORT` (default rest.address:rest.port)"}

func submitCommand() *cli.Command {
	return &cli.Command{
		Name:      "submit",
		Usage:     "submit a job binary to a running cluster (spate jobmanager)",
		ArgsUsage: "JOB [-- ARGS...]",
		Description: "Builds the job's plan (JOB in the info role, with the effective configuration), uploads\n" +
			"the binary, its arguments and the plan, and prints the job id first. Attached (the\n" +
			"default), it waits for the job and exits 0 only when the job finished; 1 when it failed or\n" +
			"was cancelled. SIGINT or SIGTERM cancels the job (--on-interrupt detach leaves it\n" +
			"running), and spate then exits with 128+signal. --detached returns once submitted.",
		Flags: append(append([]cli.Flag{dynamicFlag,
			&cli.StringFlag{Name: "session", Usage: "submit to the YARN session `NAME|APPID` (spate yarn-session start) instead of --jobmanager"}},
			submitFlags()...), restoreFlags...),
		HideHelpCommand: true,
		OnUsageError:    onUsageError,
		Action:          submitJob,
	}
}

// submitFlags are submit's own flags, which run --target remote takes too.
func submitFlags() []cli.Flag {
	return []cli.Flag{jobManagerFlag,
		&cli.BoolFlag{Name: "detached", Aliases: []string{"d"}, Usage: "return once the job is submitted"},
		&cli.IntFlag{Name: "parallelism", Aliases: []string{"p"}, Usage: "parallelism.default of the job"},
		&cli.StringFlag{Name: "on-interrupt", Value: "cancel", Usage: "what SIGINT or SIGTERM of an attached submit does: `cancel` the job, or detach"},
	}
}

func listCommand() *cli.Command {
	return &cli.Command{
		Name:            "list",
		Usage:           "list the cluster's jobs: id, state, name",
		Flags:           []cli.Flag{dynamicFlag, jobManagerFlag, yarnFlag},
		HideHelpCommand: true,
		OnUsageError:    onUsageError,
		Action: func(c *cli.Context) error {
			if c.Bool("yarn") {
				return listYARN(c) // yarnapp.go
			}
			rc, err := newRESTClient(c, 0)
			if err != nil {
				return err
			}
			var out struct {
				Jobs []struct {
					ID    string `json:"jid"`
					Name  string `json:"name"`
					State string `json:"state"`
					Start int64  `json:"start-time"`
				} `json:"jobs"`
			}
			if err := rc.call(http.MethodGet, "/jobs/overview", nil, &out); err != nil {
				return err
			}
			for _, j := range out.Jobs {
				fmt.Fprintf(c.App.Writer, "%s %-12s %s %s\n", j.ID, j.State, time.UnixMilli(j.Start).UTC().Format(time.RFC3339), j.Name)
			}
			return nil
		},
	}
}

func cancelCommand() *cli.Command {
	return &cli.Command{
		Name:            "cancel",
		Usage:           "cancel a job (by its id, or its YARN application's)",
		ArgsUsage:       "JOBID|APPID",
		Flags:           []cli.Flag{dynamicFlag, jobManagerFlag},
		HideHelpCommand: true,
		OnUsageError:    onUsageError,
		Action: func(c *cli.Context) error {
			rc, id, err := jobREST(c, 1) // JOBID or APPID: yarnapp.go
			if err != nil {
				return err
			}
			if err := rc.call(http.MethodPatch, "/jobs/"+id+"?mode=cancel", nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(c.App.ErrWriter, "Cancelling job %s.\n", id)
			return nil
		},
	}
}

func savepointCommand() *cli.Command {
	return &cli.Command{
		Name:      "savepoint",
		Usage:     "take a savepoint of a running job and print its path",
		ArgsUsage: "JOBID|APPID [DIR]",
		Description: "Triggers a savepoint into DIR (default: the job's state.savepoints.dir), waits for it, and\n" +
			"prints its path on stdout.",
		Flags:           []cli.Flag{dynamicFlag, jobManagerFlag},
		HideHelpCommand: true,
		OnUsageError:    onUsageError,
		Action: func(c *cli.Context) error {
			rc, id, err := jobREST(c, -1)
			if err != nil {
				return err
			}
			body := map[string]any{"cancel-job": false}
			if dir := c.Args().Get(1); dir != "" {
				body["target-directory"] = dir
			}
			return rc.awaitSavepoint(c, id, "/jobs/"+id+"/savepoints", body)
		},
	}
}

func stopCommand() *cli.Command {
	return &cli.Command{
		Name:      "stop",
		Usage:     "stop a job with a savepoint and print its path",
		ArgsUsage: "JOBID|APPID",
		Flags: []cli.Flag{dynamicFlag, jobManagerFlag,
			&cli.StringFlag{Name: "savepoint-path", Aliases: []string{"p"}, Usage: "`DIR` of the savepoint (default: the job's state.savepoints.dir)"},
			&cli.BoolFlag{Name: "drain", Aliases: []string{"d"}, Usage: "end the sources' input first, so every window and timer fires"}},
		HideHelpCommand: true,
		OnUsageError:    onUsageError,
		Action: func(c *cli.Context) error {
			if _, err := yarn.ParseApplicationID(c.Args().First()); err == nil {
				return stopYARN(c) // yarnapp.go
			}
			rc, id, err := jobREST(c, 1)
			if err != nil {
				return err
			}
			body := map[string]any{"drain": c.Bool("drain")}
			if dir := c.String("savepoint-path"); dir != "" {
				body["targetDirectory"] = dir
			}
			return rc.awaitSavepoint(c, id, "/jobs/"+id+"/stop", body)
		},
	}
}

// restClient calls one JobManager's REST API.
type restClient struct {
	name string
	base string
	http *http.Client
}

// newRESTClient checks the command's arguments (nargs of them; -1: one or
// two) and finds the JobManager.
func newRESTClient(c *cli.Context, nargs int) (*restClient, error) {
	name := c.Command.HelpName
	switch n := c.NArg(); {
	case nargs == -1 && (n < 1 || n > 2), nargs >= 0 && n != nargs:
		return nil, usageErrorf("%s: usage: %s %s", name, name, c.Command.ArgsUsage)
	}
	if (nargs == 1 || nargs == -1) && !isJobID(c.Args().First()) {
		return nil, usageErrorf("%s: %q is not a job id (32 hexadecimal characters, as spate list prints them)", name, c.Args().First())
	}
	cfg, err := conf.Load(c.StringSlice("D"))
	if err != nil {
		return nil, usageErrorf("%s: %v", name, err)
	}
	addr := c.String("jobmanager")
	if addr == "" {
		addr = net.JoinHostPort(conf.RestAddress.Get(cfg), strconv.Itoa(conf.RestPort.Get(cfg)))
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, usageErrorf("%s: --jobmanager %q: want HOST:PORT", name, addr)
	}
	return &restClient{name: name, base: "http://" + addr, http: &http.Client{Timeout: 10 * time.Minute}}, nil
}

func isJobID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// call sends a request with a JSON body (nil: none) and decodes a JSON
// answer into out (nil: ignored). An error answer becomes a failure that
// quotes Flink's {"errors": [...]}.
func (rc *restClient) call(method, path string, body any, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, rc.base+path, r)
	if err != nil {
		return failuref("%s: %v", rc.name, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return rc.do(req, out)
}

func (rc *restClient) do(req *http.Request, out any) error {
	resp, err := rc.http.Do(req)
	if err != nil {
		return failuref("%s: the JobManager at %s: %v (is it running? --jobmanager or rest.address and rest.port name it)", rc.name, rc.base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return failuref("%s: %s %s: %v", rc.name, req.Method, req.URL.Path, err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Errors []string `json:"errors"`
		}
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &e) == nil && len(e.Errors) > 0 {
			msg = strings.Join(e.Errors, "; ")
		}
		return failuref("%s: %s", rc.name, msg)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return failuref("%s: %s %s: unreadable answer: %v", rc.name, req.Method, req.URL.Path, err)
		}
	}
	return nil
}

// awaitSavepoint triggers a savepoint or stop and prints its location.
func (rc *restClient) awaitSavepoint(c *cli.Context, id, path string, body any) error {
	var trig struct {
		RequestID string `json:"request-id"`
	}
	if err := rc.call(http.MethodPost, path, body, &trig); err != nil {
		return err
	}
	fmt.Fprintf(c.App.ErrWriter, "Triggering savepoint %s of job %s.\n", trig.RequestID, id)
	loc, failed, err := rc.savepointResult(id, trig.RequestID, time.Time{})
	if err != nil {
		return err
	}
	if failed != "" {
		return failuref("%s: the savepoint failed: %s", rc.name, failed)
	}
	fmt.Fprintln(c.App.Writer, loc)
	return nil
}

// errSavepointTimeout: the savepoint did not complete before the deadline.
var errSavepointTimeout = errors.New("the savepoint did not complete in time")

// savepointResult polls the savepoint (or stop) requestID of job until it
// completes, or until deadline when that is set. It returns the savepoint's
// location, or the failure's stack trace as failed.
func (rc *restClient) savepointResult(job, requestID string, deadline time.Time) (loc, failed string, err error) {
	for deadline.IsZero() || time.Now().Before(deadline) {
		var st struct {
			Status struct {
				ID string `json:"id"`
			} `json:"status"`
			Operation struct {
				Location     string `json:"location"`
				FailureCause *struct {
					StackTrace string `json:"stack-trace"`
				} `json:"failure-cause"`
			} `json:"operation"`
		}
		if err := rc.call(http.MethodGet, "/jobs/"+job+"/savepoints/"+requestID, nil, &st); err != nil {
			return "", "", err
		}
		if st.Status.ID == "COMPLETED" {
			if f := st.Operation.FailureCause; f != nil {
				return "", strings.TrimSpace(f.StackTrace), nil
			}
			return st.Operation.Location, "", nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return "", "", errSavepointTimeout
}

// submitJob is spate submit.
func submitJob(c *cli.Context) error {
	name := c.Command.HelpName
	job, path, jobArgs, cfg, err := jobCommandLine(c, "[flags]")
	if err != nil {
		return err
	}
	if oi := c.String("on-interrupt"); oi != "cancel" && oi != "detach" {
		return usageErrorf("%s: --on-interrupt %q: want cancel or detach", name, oi)
	}
	var rc *restClient
	if session := c.String("session"); session != "" {
		rc, err = sessionRESTClient(c, session, path, cfg)
	} else {
		rc, err = newRESTClient(c, -2)
	}
	if err != nil {
		return err
	}
	// The plan, with the configuration main() ends up with.
	var plan bytes.Buffer
	cmd := &exec.Cmd{Path: path, Args: append([]string{job}, jobArgs...),
		Env:    append(jobEnv(os.Environ(), conf.EncodeProperties(cfg), roleInfo), "SPATE_INFO_CONFIG=1"),
		Stdout: &plan, Stderr: c.App.ErrWriter}
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() > 0 {
			return &exitError{code: ee.ExitCode(), msg: fmt.Sprintf("%s: job binary %q could not build its plan (exit status %d)", name, job, ee.ExitCode())}
		}
		return failuref("%s: job binary %q: %v", name, job, err)
	}
	argsJSON, _ := json.Marshal(append([]string{}, jobArgs...))
	id, err := rc.upload(path, argsJSON, plan.Bytes())
	if err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, id)
	if c.Bool("detached") {
		fmt.Fprintf(c.App.ErrWriter, "Job %s submitted (detached).\n", id)
		return nil
	}
	return rc.awaitJob(c, id)
}

// upload posts the binary, its arguments and its plan (POST /jobs).
func (rc *restClient) upload(path string, args, plan []byte) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", failuref("%s: %v", rc.name, err)
	}
	defer f.Close()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			fw, err := mw.CreateFormFile("binary", "job")
			if err != nil {
				return err
			}
			if _, err := io.Copy(fw, f); err != nil {
				return err
			}
			if err := mw.WriteField("arguments", string(args)); err != nil {
				return err
			}
			if err := mw.WriteField("plan", string(plan)); err != nil {
				return err
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequest(http.MethodPost, rc.base+"/jobs", pr)
	if err != nil {
		return "", failuref("%s: %v", rc.name, err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var out struct {
		ID string `json:"jid"`
	}
	if err := rc.do(req, &out); err != nil {
		return "", err
	}
	return out.ID, nil
}

// awaitJob waits for the job's end and turns it into the exit code.
func (rc *restClient) awaitJob(c *cli.Context, id string) error {
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	var interrupted os.Signal
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case s := <-signals:
			if interrupted != nil {
				continue
			}
			interrupted = s
			if c.String("on-interrupt") == "detach" {
				fmt.Fprintf(c.App.ErrWriter, "Detached from job %s, which keeps running (spate cancel %s ends it).\n", id, id)
				return &exitError{code: 128 + int(s.(syscall.Signal))}
			}
			fmt.Fprintf(c.App.ErrWriter, "Cancelling job %s (%v).\n", id, s)
			if err := rc.call(http.MethodPatch, "/jobs/"+id+"?mode=cancel", nil, nil); err != nil {
				fmt.Fprintln(c.App.ErrWriter, err)
			}
		case <-t.C:
		}
		var job struct {
			State string `json:"state"`
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, rc.base+"/jobs/"+id, nil)
		err := rc.do(req, &job)
		cancel()
		if err != nil {
			return err
		}
		switch job.State {
		case "FINISHED":
			fmt.Fprintf(c.App.ErrWriter, "Job %s finished.\n", id)
			return nil
		case "FAILED", "CANCELED":
			code := ExitFailure
			if interrupted != nil {
				code = 128 + int(interrupted.(syscall.Signal))
			}
			why := "the JobManager's log says why"
			var ex struct {
				History struct {
					Entries []struct {
						StackTrace string `json:"stacktrace"`
					} `json:"entries"`
				} `json:"exceptionHistory"`
			}
			if rc.call(http.MethodGet, "/jobs/"+id+"/exceptions", nil, &ex) == nil && len(ex.History.Entries) > 0 {
				why = ex.History.Entries[0].StackTrace
			}
			return &exitError{code: code, msg: fmt.Sprintf("%s: job %s %s: %s", rc.name, id, strings.ToLower(job.State), why)}
		}
	}
}
