package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/master/dispatcher"
	"github.com/spate-io/spate/worker/metrics"
	"github.com/spate-io/spate/worker/taskmanager"
	"github.com/spate-io/spate/worker/transport"
	"github.com/spate-io/spate/yarn"
	"github.com/spate-io/spate/yarn/appmaster"
	yarnpb "github.com/spate-io/spate/yarn/proto"
)

// Session clusters on YARN (as Flink's yarn-session.sh): the AM runs this
// generic binary as the session's JobManager (yarn-session jobmanager, see
// yarn/appmaster.Session); each job's TaskManagers are containers running
// this binary as a session TaskManager (yarn-session taskmanager) with the
// job's binary, staged by submit --session in the session's staging
// directory, localized beside it.

const (
	// sessionTag marks a session's application among the Spate ones.
	sessionTag = "spate-session"
	// sessionBinary is the name of the generic binary in the containers.
	sessionBinary = "spate"
	// jobBinary is the name of the job's binary in a TaskManager container.
	jobBinary = "job"
	// envJobBinary carries the job binary's sha256 to its containers.
	envJobBinary = "SPATE_YARN_JOB_SHA256"
)

func yarnSessionCommand() *cli.Command {
	nameFlag := &cli.StringFlag{Name: "name", Value: "spate-session", Usage: "the session's `NAME` (its YARN application's name), for submit --session"}
	return &cli.Command{
		Name:  "yarn-session",
		Usage: "start, list, inspect and stop session clusters on YARN",
		Description: "A session is a YARN application whose ApplicationMaster runs the generic spate binary as\n" +
			"the JobManager; jobs submitted with 'spate submit --session NAME|APPID JOB' run on\n" +
			"TaskManager containers of their own binary, released after resourcemanager.taskmanager-timeout\n" +
			"without a job of that binary. A session without jobs for --idle-timeout stops itself.",
		HideHelpCommand: true,
		OnUsageError:    onUsageError,
		Subcommands: []*cli.Command{
			{
				Name:      "start",
				Usage:     "start a session and print its application id and REST address",
				ArgsUsage: " ",
				Description: "Stages this binary and the configuration in /user/USER/.spate/APPID/, prints the\n" +
					"application id first on stderr and, once the JobManager serves, 'APPID URL' on stdout.\n" +
					"Attached (the default) it then follows the session until it ends; SIGINT or SIGTERM stops\n" +
					"it. --detached returns once the session serves.",
				Flags: []cli.Flag{dynamicFlag, nameFlag,
					&cli.DurationFlag{Name: "idle-timeout", Value: 30 * time.Minute, Usage: "stop the session after this long without a job (0: never)"},
					&cli.BoolFlag{Name: "detached", Aliases: []string{"d"}, Usage: "return once the session serves"}},
				HideHelpCommand: true,
				OnUsageError:    onUsageError,
				Action:          yarnSessionStart,
			},
			{
				Name:            "list",
				Usage:           "list the running sessions: application id, state, name, REST address",
				Flags:           []cli.Flag{dynamicFlag},
				HideHelpCommand: true,
				OnUsageError:    onUsageError,
				Action:          yarnSessionList,
			},
			{
				Name:            "status",
				Usage:           "show a session's application and jobs",
				ArgsUsage:       "NAME|APPID",
				Flags:           []cli.Flag{dynamicFlag},
				HideHelpCommand: true,
				OnUsageError:    onUsageError,
				Action:          yarnSessionStatus,
			},
			{
				Name:            "stop",
				Usage:           "stop a session (its jobs are killed with it)",
				ArgsUsage:       "NAME|APPID",
				Flags:           []cli.Flag{dynamicFlag},
				HideHelpCommand: true,
				OnUsageError:    onUsageError,
				Action:          yarnSessionStop,
			},
			{
				Name:   "jobmanager",
				Usage:  "the session's ApplicationMaster (started by YARN)",
				Hidden: true,
				Flags:  []cli.Flag{&cli.DurationFlag{Name: "idle-timeout"}},
				Action: yarnSessionJobManager,
			},
			{
				Name:   "taskmanager",
				Usage:  "a session's TaskManager container (started by the ApplicationMaster)",
				Hidden: true,
				Action: yarnSessionTaskManager,
			},
		},
	}
}

// sessionSubmission reads the configuration of a yarn-session command.
func sessionSubmission(c *cli.Context) (*yarnSubmission, error) {
	name := c.Command.HelpName
	var dynamic []string
	if c.IsSet("log-level") {
		dynamic = append(dynamic, conf.LogLevel.Key()+"="+c.String("log-level"))
	}
	cfg, err := conf.Load(append(dynamic, c.StringSlice("D")...))
	if err != nil {
		return nil, usageErrorf("%s: %v", name, err)
	}
	return newYarnSubmission(name, cfg)
}

func yarnSessionStart(c *cli.Context) error {
	s, err := sessionSubmission(c)
	if err != nil {
		return err
	}
	if c.NArg() > 0 {
		return usageErrorf("%s: unexpected argument %q", s.name, c.Args().First())
	}
	if s.secure && s.login.Keytab == "" {
		// package hdfs cannot use delegation tokens, and they expire.
		return usageErrorf("%s: a session on a secure cluster needs %s (and %s): its JobManager reads the submitted binaries on HDFS, for longer than a delegation token lives",
			s.name, conf.KerberosLoginKeytab.Key(), conf.KerberosLoginPrincipal.Key())
	}
	s.appName = c.String("name")
	if s.appName == "" || strings.ContainsAny(s.appName, " \t\n") {
		return usageErrorf("%s: --name %q: want a name without blanks", s.name, s.appName)
	}
	exe, err := os.Executable()
	if err != nil {
		return failuref("%s: %v", s.name, err)
	}
	s.stagedFiles = map[string]string{sessionBinary: exe}
	if err := s.stageConfig(); err != nil {
		return err
	}
	errw := c.App.ErrWriter
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// A name names one session: submit --session NAME must find one.
	client, closeClient, err := rmClient(s)
	if err != nil {
		return err
	}
	running, err := sessions(ctx, client, s.appName)
	closeClient()
	if err != nil {
		return &exitError{code: ExitLost, msg: fmt.Sprintf("%s: %v", s.name, err)}
	}
	if len(running) > 0 {
		return usageErrorf("%s: a session named %s already runs (%s): stop it, or choose another --name",
			s.name, s.appName, yarn.ApplicationIDFromProto(running[0].GetApplicationId()))
	}

	app, err := newYarnApp(ctx, s, errw)
	if err != nil {
		return err
	}
	defer app.Close()
	cmd := appmaster.LaunchCommand(sessionBinary, []string{"yarn-session", "jobmanager", "--idle-timeout", c.Duration("idle-timeout").String()})
	sub, err := app.submit(ctx, s, errw, cmd, nil, []string{sessionTag})
	if err != nil {
		return err
	}
	fmt.Fprintf(errw, "Submitted session %s (%s) to queue %s.\n", s.appName, app.id, sub.Queue)
	// Until the JobManager serves.
	var rest string
	for rest == "" {
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		r, err := app.client.GetApplicationReport(rctx, app.id)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				break // followApplication kills it
			}
			return &exitError{code: ExitLost, msg: fmt.Sprintf("%s: report of %s: %v", s.name, app.id, err)}
		}
		if yarn.Final(r) {
			_ = app.fsys.RemoveAll(app.staging)
			if err := finalStatus(s.name, app.id, r, false); err != nil {
				return err
			}
			return failuref("%s: session %s ended before it served: %s", s.name, app.id, r.GetDiagnostics())
		}
		if u := r.GetOriginalTrackingUrl(); strings.HasPrefix(u, "http") && r.GetYarnApplicationState() == yarnpb.YarnApplicationStateProto_RUNNING {
			rest = u
			fmt.Fprintf(c.App.Writer, "%s %s\n", app.id, u)
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
	if c.Bool("detached") && rest != "" {
		fmt.Fprintf(errw, "Session %s (%s) serves at %s (detached); 'spate yarn-session stop %s' ends it.\n", s.appName, app.id, rest, s.appName)
		return nil
	}
	err = followApplication(ctx, s.name, app.client, app.id, errw, followOptions{})
	if rerr := app.fsys.RemoveAll(app.staging); rerr != nil {
		fmt.Fprintf(errw, "%s: remove the staging directory %s: %v\n", s.name, app.staging, rerr)
	}
	var ee *exitError
	if errors.As(err, &ee) && ee.code == ExitKilled && ctx.Err() != nil {
		return nil // stopped on the signal, as asked
	}
	return err
}

// sessions lists the live (not final) sessions, named name unless empty.
func sessions(ctx context.Context, client *yarn.Client, name string) ([]*yarnpb.ApplicationReportProto, error) {
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	apps, err := client.GetApplications(rctx, &yarnpb.GetApplicationsRequestProto{ApplicationTypes: []string{"Spate"},
		ApplicationStates: []yarnpb.YarnApplicationStateProto{yarnpb.YarnApplicationStateProto_NEW, yarnpb.YarnApplicationStateProto_NEW_SAVING,
			yarnpb.YarnApplicationStateProto_SUBMITTED, yarnpb.YarnApplicationStateProto_ACCEPTED, yarnpb.YarnApplicationStateProto_RUNNING},
		ApplicationTags: []string{sessionTag}})
	if err != nil {
		return nil, fmt.Errorf("list the Spate applications: %w", err)
	}
	var out []*yarnpb.ApplicationReportProto
	for _, a := range apps {
		if isSession(a) && (name == "" || a.GetName() == name) {
			out = append(out, a)
		}
	}
	return out, nil
}

func isSession(r *yarnpb.ApplicationReportProto) bool {
	for _, t := range r.GetApplicationTags() {
		if t == sessionTag {
			return r.GetApplicationType() == "Spate"
		}
	}
	return false
}

// findSession resolves NAME|APPID to a session's report.
func findSession(ctx context.Context, name string, client *yarn.Client, arg string) (*yarnpb.ApplicationReportProto, error) {
	if id, err := yarn.ParseApplicationID(arg); err == nil {
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		r, err := client.GetApplicationReport(rctx, id)
		if err != nil {
			return nil, usageErrorf("%s: %s: %v", name, arg, err)
		}
		if !isSession(r) {
			return nil, usageErrorf("%s: %s is not a Spate session (type %s, tags %v): spate yarn-session list shows the sessions", name, arg, r.GetApplicationType(), r.GetApplicationTags())
		}
		return r, nil
	}
	found, err := sessions(ctx, client, arg)
	if err != nil {
		return nil, &exitError{code: ExitLost, msg: fmt.Sprintf("%s: %v", name, err)}
	}
	switch len(found) {
	case 0:
		return nil, usageErrorf("%s: no running session is named %q (spate yarn-session list shows them)", name, arg)
	case 1:
		return found[0], nil
	}
	var ids []string
	for _, r := range found {
		ids = append(ids, yarn.ApplicationIDFromProto(r.GetApplicationId()).String())
	}
	return nil, usageErrorf("%s: %d sessions are named %q (%s): name one by its application id", name, len(found), arg, strings.Join(ids, ", "))
}

// sessionCommand runs fn with the RM client and the session that the one
// argument names.
func sessionCommand(c *cli.Context, fn func(s *yarnSubmission, client *yarn.Client, r *yarnpb.ApplicationReportProto) error) error {
	s, err := sessionSubmission(c)
	if err != nil {
		return err
	}
	if c.NArg() != 1 {
		return usageErrorf("%s: usage: %s NAME|APPID", s.name, s.name)
	}
	client, closeClient, err := rmClient(s)
	if err != nil {
		return err
	}
	defer closeClient()
	r, err := findSession(context.Background(), s.name, client, c.Args().First())
	if err != nil {
		return err
	}
	return fn(s, client, r)
}

func yarnSessionList(c *cli.Context) error {
	s, err := sessionSubmission(c)
	if err != nil {
		return err
	}
	client, closeClient, err := rmClient(s)
	if err != nil {
		return err
	}
	defer closeClient()
	all, err := sessions(context.Background(), client, "")
	if err != nil {
		return &exitError{code: ExitLost, msg: fmt.Sprintf("%s: %v", s.name, err)}
	}
	for _, r := range all {
		fmt.Fprintf(c.App.Writer, "%s %-8s %s %s\n", yarn.ApplicationIDFromProto(r.GetApplicationId()), r.GetYarnApplicationState(), r.GetName(), sessionURL(r))
	}
	return nil
}

// sessionURL is the JobManager's REST address, or "-" before it serves.
func sessionURL(r *yarnpb.ApplicationReportProto) string {
	if u := r.GetOriginalTrackingUrl(); strings.HasPrefix(u, "http") {
		return u
	}
	return "-"
}

func yarnSessionStatus(c *cli.Context) error {
	return sessionCommand(c, func(s *yarnSubmission, _ *yarn.Client, r *yarnpb.ApplicationReportProto) error {
		w := c.App.Writer
		fmt.Fprintf(w, "application: %s\nname: %s\nstate: %s\nfinal status: %s\nqueue: %s\nuser: %s\nrest: %s\n",
			yarn.ApplicationIDFromProto(r.GetApplicationId()), r.GetName(), r.GetYarnApplicationState(), r.GetFinalApplicationStatus(),
			r.GetQueue(), r.GetUser(), sessionURL(r))
		if d := strings.TrimSpace(r.GetDiagnostics()); d != "" {
			fmt.Fprintf(w, "diagnostics: %s\n", d)
		}
		u := sessionURL(r)
		if u == "-" || r.GetYarnApplicationState() != yarnpb.YarnApplicationStateProto_RUNNING {
			return nil
		}
		rc := &restClient{name: s.name, base: strings.TrimSuffix(u, "/"), http: &http.Client{Timeout: time.Minute}}
		var o dispatcher.ClusterOverview
		if err := rc.call(http.MethodGet, "/overview", nil, &o); err != nil {
			return err
		}
		fmt.Fprintf(w, "taskmanagers: %d\nslots: %d (%d free)\njobs: %d running, %d finished, %d cancelled, %d failed\n",
			o.TaskManagers, o.SlotsTotal, o.SlotsAvailable, o.JobsRunning, o.JobsFinished, o.JobsCancelled, o.JobsFailed)
		return nil
	})
}

func yarnSessionStop(c *cli.Context) error {
	return sessionCommand(c, func(s *yarnSubmission, client *yarn.Client, r *yarnpb.ApplicationReportProto) error {
		id := yarn.ApplicationIDFromProto(r.GetApplicationId())
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := client.Kill(ctx, id, "stopped by spate yarn-session stop", 200*time.Millisecond); err != nil {
			return &exitError{code: ExitLost, msg: fmt.Sprintf("%s: kill %s: %v", s.name, id, err)}
		}
		fsys, closeFS, err := stagingFS(s)
		if err == nil {
			defer closeFS()
			err = fsys.RemoveAll(path.Join("/user", r.GetUser(), ".spate", id.String()))
		}
		if err != nil {
			fmt.Fprintf(c.App.ErrWriter, "%s: remove the staging directory of %s: %v\n", s.name, id, err)
		}
		fmt.Fprintf(c.App.ErrWriter, "Stopped session %s (%s).\n", r.GetName(), id)
		return nil
	})
}

// sessionRESTClient is submit --session's: it finds the session, stages the
// job binary in the session's staging directory (jobs/SHA256, for the
// TaskManager containers to localize) and returns the client of the
// session's REST API.
func sessionRESTClient(c *cli.Context, arg, binary string, cfg *conf.Config) (*restClient, error) {
	s, err := newYarnSubmission(c.Command.HelpName, cfg)
	if err != nil {
		return nil, err
	}
	client, closeClient, err := rmClient(s)
	if err != nil {
		return nil, err
	}
	defer closeClient()
	r, err := findSession(context.Background(), s.name, client, arg)
	if err != nil {
		return nil, err
	}
	id := yarn.ApplicationIDFromProto(r.GetApplicationId())
	u := sessionURL(r)
	if u == "-" || r.GetYarnApplicationState() != yarnpb.YarnApplicationStateProto_RUNNING {
		return nil, failuref("%s: session %s (%s) is %s and does not serve yet", s.name, r.GetName(), id, r.GetYarnApplicationState())
	}
	sum, err := fileSHA256(binary)
	if err != nil {
		return nil, failuref("%s: %v", s.name, err)
	}
	fsys, closeFS, err := stagingFS(s)
	if err != nil {
		return nil, usageErrorf("%s: %v", s.name, err)
	}
	defer closeFS()
	dir := path.Join("/user", r.GetUser(), ".spate", id.String(), "jobs")
	if err := stageOnce(fsys, dir, sum, binary, c.App.ErrWriter); err != nil {
		return nil, failuref("%s: stage the job binary in %s%s: %v", s.name, fsys.URI(), dir, err)
	}
	base, err := url.Parse(u)
	if err != nil {
		return nil, failuref("%s: the session's REST address %q: %v", s.name, u, err)
	}
	return &restClient{name: s.name, base: "http://" + base.Host, http: &http.Client{Timeout: 10 * time.Minute}}, nil
}

// stageOnce uploads binary as dir/sha unless it is there already: every job
// of one binary shares it.
func stageOnce(fsys *hdfs.HDFS, dir, sha, binary string, progress io.Writer) error {
	fi, err := os.Stat(binary)
	if err != nil {
		return err
	}
	if have, err := fsys.Stat(path.Join(dir, sha)); err == nil && have.Size == fi.Size() {
		return nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	tmp := "." + sha + ".tmp"
	if _, err := stage(fsys, dir, map[string]string{tmp: binary}, progress); err != nil {
		return err
	}
	return fsys.Rename(path.Join(dir, tmp), path.Join(dir, sha))
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// yarnSessionJobManager is the session's AM: the session JobManagers of
// yarn/appmaster.Session behind one REST API, until the session was idle
// for --idle-timeout (then it unregisters SUCCEEDED) or YARN kills it.
func yarnSessionJobManager(c *cli.Context) error {
	name := "spate yarn-session jobmanager"
	cfg, err := conf.Load(nil)
	if err != nil {
		return usageErrorf("%s: %v", name, err)
	}
	log := conf.NewLogger(cfg, c.App.ErrWriter)
	hdfs.SetKerberosLogin(hdfs.KerberosLogin{Principal: conf.KerberosLoginPrincipal.Get(cfg), Keytab: conf.KerberosLoginKeytab.Get(cfg),
		NoTicketCache: !conf.KerberosLoginUseTicketCache.Get(cfg)})
	secret, err := appmaster.ClusterSecret()
	if err != nil {
		return failuref("%s: %v", name, err)
	}
	auth, err := transport.NewSharedSecret(secret)
	if err != nil {
		return failuref("%s: %v", name, err)
	}
	host := os.Getenv("NM_HOST")
	mem, err := appmaster.ParseMemorySize(conf.TaskManagerMemoryProcessSize.Key(), conf.TaskManagerMemoryProcessSize.Get(cfg))
	if err != nil {
		return usageErrorf("%s: %v", name, err)
	}
	slots := conf.NumberOfTaskSlots.Get(cfg)
	vcores := conf.YarnContainerVCores.Get(cfg)
	if vcores < 0 {
		vcores = slots
	}
	rctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	am, err := appmaster.Register(rctx, appmaster.Options{SlotsPerTaskManager: slots, TaskManager: yarn.Resource{MemoryMB: mem, VCores: int32(vcores)},
		MaxStartFailures: 3, Log: log.With().Str("component", "appmaster").Logger()})
	cancel()
	if err != nil {
		return failuref("%s: %v", name, err)
	}
	finish := func(status yarnpb.FinalApplicationStatusProto, diag string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := am.Finish(ctx, status, diag); err != nil {
			log.Error().Err(err).Msg("unregister")
		}
	}
	staging := os.Getenv(appmaster.EnvStaging)
	stagingURL, err := url.Parse(staging)
	if err != nil || stagingURL.Scheme != "hdfs" {
		finish(yarnpb.FinalApplicationStatusProto_APP_FAILED, fmt.Sprintf("%s=%q is not an hdfs:// URI", appmaster.EnvStaging, staging))
		return failuref("%s: %s=%q is not an hdfs:// URI", name, appmaster.EnvStaging, staging)
	}
	port, _ := strconv.Atoi(stagingURL.Port())
	work, err := os.MkdirTemp(".", "jobmanager-")
	if err != nil {
		finish(yarnpb.FinalApplicationStatusProto_APP_FAILED, err.Error())
		return failuref("%s: %v", name, err)
	}
	session := appmaster.NewSession(appmaster.SessionConfig{AM: am, Host: host, Auth: auth, WorkDir: filepath.Join(work, "blobs"), Config: cfg,
		TaskManagerTimeout: conf.ResourceManagerTaskManagerTimeout.Get(cfg), IdleTimeout: c.Duration("idle-timeout"),
		Log: log.With().Str("component", "session").Logger(),
		TaskManager: func(sha string) (appmaster.ContainerSpec, error) {
			fsys, p, err := hdfs.Resolve(staging + "/jobs/" + sha)
			if err != nil {
				return appmaster.ContainerSpec{}, err
			}
			fi, err := fsys.Stat(p)
			if err != nil {
				return appmaster.ContainerSpec{}, fmt.Errorf("the job binary with SHA-256 %s is not staged in %s/jobs (submit it with spate submit --session): %w", sha, staging, err)
			}
			res := map[string]yarn.LocalResource{}
			for k, v := range am.Resources() {
				res[k] = v
			}
			res[jobBinary] = yarn.LocalResource{Scheme: "hdfs", Host: stagingURL.Hostname(), Port: int32(port), File: p, Size: fi.Size, Timestamp: fi.ModTime.UnixMilli()}
			return appmaster.ContainerSpec{Resources: res, Command: appmaster.LaunchCommand(sessionBinary, []string{"yarn-session", "taskmanager"}),
				Env: map[string]string{envJobBinary: sha}}, nil
		}})
	defer session.Close()
	srv := dispatcher.New(session, dispatcher.Options{
		Address:          net.JoinHostPort(host, strconv.Itoa(conf.RestPort.Get(cfg))),
		MaxContentLength: int64(conf.RestMaxContentLength.Get(cfg)),
		UploadDir:        work,
		Version:          version,
		Log:              log.With().Str("component", "dispatcher").Logger(),
	})
	restAddr, err := srv.Start()
	if err != nil {
		finish(yarnpb.FinalApplicationStatusProto_APP_FAILED, "the REST endpoint: "+err.Error())
		return failuref("%s: the REST endpoint (rest.port): %v", name, err)
	}
	am.SetTrackingURL("http://" + restAddr)
	log.Info().Str("rest", restAddr).Dur("idle-timeout", c.Duration("idle-timeout")).Msg("session JobManager serving")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			log.Info().Msg("stopped by YARN") // killed: YARN reports it KILLED
			return nil
		case now := <-t.C:
			if !session.Tick(now) {
				continue
			}
		}
		diag := fmt.Sprintf("the session was idle for %v", c.Duration("idle-timeout"))
		log.Info().Msg(diag)
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = srv.Shutdown(sctx)
		cancel()
		// Before unregistering: the application is FINISHED at once after.
		if fsys, p, err := hdfs.Resolve(staging); err != nil {
			log.Error().Err(err).Msg("the staging directory")
		} else if err := fsys.RemoveAll(p); err != nil {
			log.Error().Err(err).Str("staging", staging).Msg("remove the staging directory")
		}
		finish(yarnpb.FinalApplicationStatusProto_APP_SUCCEEDED, diag)
		return nil
	}
}

// yarnSessionTaskManager is a session's TaskManager container: a session
// TaskManager (worker/taskmanager.RunSession) registered with the JobManager
// of its job binary, whose jobs' processes run the binary localized in the
// container (job), found under its work directory by SHA-256.
func yarnSessionTaskManager(c *cli.Context) error {
	name := "spate yarn-session taskmanager"
	cfg, err := conf.Load(nil)
	if err != nil {
		return usageErrorf("%s: %v", name, err)
	}
	ring := metrics.NewLogRing(500, 128<<10)
	log := conf.NewLogger(cfg, io.MultiWriter(c.App.ErrWriter, ring))
	secret, err := appmaster.ClusterSecret()
	if err != nil {
		return failuref("%s: %v", name, err)
	}
	auth, err := transport.NewSharedSecret(secret)
	if err != nil {
		return failuref("%s: %v", name, err)
	}
	cwd, err := os.Getwd()
	if err != nil {
		return failuref("%s: %v", name, err)
	}
	// The jobs' processes get no container credentials of their own
	// (worker/taskmanager clears SPATE_*): the secret goes as a file.
	secretFile := filepath.Join(cwd, "cluster.secret")
	if err := os.WriteFile(secretFile, []byte(hex.EncodeToString(secret)+"\n"), 0o600); err != nil {
		return failuref("%s: %v", name, err)
	}
	sha := os.Getenv(envJobBinary)
	work := filepath.Join(cwd, "taskmanager")
	if err := os.MkdirAll(filepath.Join(work, "blobs"), 0o700); err != nil {
		return failuref("%s: %v", name, err)
	}
	// The session TaskManager runs a job from blobs/SHA256 when it is there
	// with the size sent: the binary YARN localized from HDFS.
	if err := os.Symlink(filepath.Join(cwd, jobBinary), filepath.Join(work, "blobs", sha)); err != nil {
		return failuref("%s: %v", name, err)
	}
	host := os.Getenv("NM_HOST")
	overrides := []string{conf.ClusterSecretFile.Key() + "=" + secretFile, conf.TaskManagerHost.Key() + "=" + host}
	if fileExists(appmaster.Keytab) {
		overrides = append(overrides, conf.KerberosLoginKeytab.Key()+"="+filepath.Join(cwd, appmaster.Keytab))
	}
	if fileExists(appmaster.Krb5Conf) {
		overrides = append(overrides, conf.Krb5ConfPath.Key()+"="+filepath.Join(cwd, appmaster.Krb5Conf))
	}
	tmName := os.Getenv("SPATE_TASKMANAGER_NAME")
	jm := net.JoinHostPort(conf.JobManagerRPCAddress.Get(cfg), strconv.Itoa(conf.JobManagerRPCPort.Get(cfg)))
	log.Info().Str("taskmanager", tmName).Str("binary", sha).Str("jobmanager", jm).Msg("session TaskManager container of a job binary")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = taskmanager.RunSession(ctx, taskmanager.SessionConfig{Name: tmName, JobManager: jm, Host: host,
		Slots: conf.NumberOfTaskSlots.Get(cfg), Auth: auth, HeartbeatInterval: conf.HeartbeatInterval.Get(cfg),
		RegistrationTimeout: conf.TaskManagerRegistrationTimeout.Get(cfg), Overrides: overrides,
		WorkDir: work, Stdout: c.App.Writer, Stderr: c.App.ErrWriter, Log: log,
		Report: func() []byte {
			return metrics.EncodeReport(metrics.Report{Process: metrics.ReadProcess(), Log: ring.Lines()})
		}})
	if err != nil && !errors.Is(err, context.Canceled) {
		return failuref("%s: %v", name, err)
	}
	return nil
}
