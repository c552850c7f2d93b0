package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	krbclient "github.com/jcmturner/gokrb5/v8/client"
	"github.com/urfave/cli/v2"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/yarn"
	"github.com/spate-io/spate/yarn/appmaster"
	"github.com/spate-io/spate/yarn/ipc"
	yarnpb "github.com/spate-io/spate/yarn/proto"
	"github.com/spate-io/spate/yarn/security"
)

// Exit codes of yarn-submit beyond ExitFailure and ExitUsage, for schedulers
// (cron, Airflow, Oozie).
const (
	ExitRefused = 3 // YARN refused the submission
	ExitKilled  = 4 // the application was killed
	ExitLost    = 5 // lost contact with YARN, or timed out
)

func yarnSubmitCommand() *cli.Command {
	return &cli.Command{
		Name:      "yarn-submit",
		Usage:     "run a job binary on YARN in application mode (as flink run -t yarn-application)",
		ArgsUsage: "JOB [-- ARGS...]",
		Description: "Creates a YARN application whose ApplicationMaster is JOB run as the JobManager, and\n" +
			"whose TaskManagers are containers running JOB too. JOB, the effective configuration and\n" +
			"(when set) the keytab are staged in /user/USER/.spate/APPID/ on HDFS. The application id is\n" +
			"the first line on stderr. Attached (the default) it follows the application and exits 0\n" +
			"only when the job succeeded: 1 failed, 2 usage or configuration error, 3 refused by YARN,\n" +
			"4 killed, 5 lost contact. SIGINT or SIGTERM kills the application.",
		Flags: append([]cli.Flag{dynamicFlag,
			&cli.BoolFlag{Name: "detached", Aliases: []string{"d"}, Usage: "return once YARN accepted the application"},
			&cli.IntFlag{Name: "parallelism", Aliases: []string{"p"}, Usage: "parallelism.default of the job"},
			&cli.StringSliceFlag{Name: "tag", Usage: "a YARN application `TAG` besides yarn.tags (repeatable; YARN lowercases tags)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "text", Usage: "`text`, or json: one JSON object on stdout once the application ended"},
			&cli.StringFlag{Name: "stop-on-signal", Value: "kill", Usage: "what SIGINT or SIGTERM does: `kill` the application, or savepoint: stop the job with a savepoint (state.savepoints.dir) and print its path"},
			&cli.BoolFlag{Name: "unique-tag", Usage: "refuse to start (exit 3) while a Spate application with one of the --tag tags is not finished"},
		}, restoreFlags...),
		HideHelpCommand: true,
		OnUsageError:    onUsageError,
		Action:          yarnSubmit,
	}
}

// yarnSubmission is what yarnSubmit prepares before it talks to YARN.
type yarnSubmission struct {
	name         string
	cfg          *conf.Config
	jobPath      string
	jobArgs      []string
	hconf        *yarn.Conf
	secure       bool
	login        hdfs.KerberosLogin
	amResource   yarn.Resource
	tmResource   yarn.Resource
	appName      string
	stagedFiles  map[string]string // name in the container → local file
	tags         []string          // --tag, lowercased
	uniqueTags   bool
	delegated    *security.Credentials // HADOOP_TOKEN_FILE_LOCATION's, or nil
	output       string                // --output: text or json
	stopOnSignal string                // --stop-on-signal: kill or savepoint
}

func yarnSubmit(c *cli.Context) error {
	s, err := prepareYarnSubmit(c)
	if err != nil {
		return err
	}
	errw := c.App.ErrWriter
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app, err := newYarnApp(ctx, s, errw)
	if err != nil {
		return err
	}
	defer app.Close()
	sub, err := app.submit(ctx, s, errw, appmaster.LaunchCommand(filepath.Base(s.jobPath), s.jobArgs), map[string]string{envRole: "jobmanager"}, s.tags)
	if err != nil {
		return err
	}
	id, fsys, staging := app.id, app.fsys, app.staging
	fmt.Fprintf(errw, "Submitted %s to queue %s.\n", id, sub.Queue)
	if c.Bool("detached") {
		fmt.Fprintf(errw, "Application %s submitted (detached); the ApplicationMaster follows the job, %s%s holds its files.\n", id, fsys.URI(), staging)
		return nil
	}
	opts := followOptions{savepointOnSignal: s.stopOnSignal == "savepoint", stdout: c.App.Writer,
		findSavepoint: func(job string, since time.Time) (string, error) {
			return savepointIn(fsys, conf.SavepointDirectory.Get(s.cfg), job, since)
		}}
	if s.output == "json" {
		opts.json = c.App.Writer
	}
	err = followApplication(ctx, s.name, app.client, id, errw, opts)
	// The AM removes it when it can log in to HDFS (a keytab, or an
	// insecure cluster; package hdfs cannot use delegation tokens); the
	// attached client makes sure.
	if rerr := fsys.RemoveAll(staging); rerr != nil {
		fmt.Fprintf(errw, "%s: remove the staging directory %s: %v\n", s.name, staging, rerr)
	}
	return err
}

// yarnApp is an application being created, by yarn-submit or yarn-session
// start: the client's login, the RM and the staging directory's HDFS.
type yarnApp struct {
	kc      *yarnKerberos
	client  *yarn.Client
	id      yarn.ApplicationID
	fsys    *hdfs.HDFS
	closeFS func()
	staging string // /user/USER/.spate/APPID
}

// newYarnApp logs in and asks the RM for a new application, whose id it
// prints first on errw (for schedulers), and checks that the containers fit.
func newYarnApp(ctx context.Context, s *yarnSubmission, errw io.Writer) (*yarnApp, error) {
	a := &yarnApp{closeFS: func() {}}
	var err error
	if a.kc, a.client, err = yarnClient(s); err != nil {
		return nil, err
	}
	callCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if s.uniqueTags {
		if err := refuseTagged(callCtx, s, a.client); err != nil {
			a.Close()
			return nil, err
		}
	}
	id, maxRes, err := a.client.GetNewApplication(callCtx)
	if err != nil {
		a.Close()
		return nil, &exitError{code: ExitRefused, msg: fmt.Sprintf("%s: new application from the ResourceManager: %v", s.name, err)}
	}
	a.id = id
	// First, for schedulers: the id, before the upload's progress.
	fmt.Fprintln(errw, id.String())
	for _, r := range []struct {
		what, memKey, coresKey string
		res                    yarn.Resource
	}{{"the JobManager", conf.JobManagerMemoryProcessSize.Key(), conf.YarnAppMasterVCores.Key(), s.amResource},
		{"a TaskManager", conf.TaskManagerMemoryProcessSize.Key(), conf.YarnContainerVCores.Key(), s.tmResource}} {
		if r.res.MemoryMB > maxRes.GetMemory() || int64(r.res.VCores) > int64(maxRes.GetVirtualCores()) {
			a.Close()
			return nil, usageErrorf("%s: %s asks for %d MiB and %d vcores but YARN's largest container has %d MiB and %d vcores: lower %s or %s",
				s.name, r.what, r.res.MemoryMB, r.res.VCores, maxRes.GetMemory(), maxRes.GetVirtualCores(), r.memKey, r.coresKey)
		}
	}
	if a.fsys, a.closeFS, err = stagingFS(s); err != nil {
		a.Close()
		return nil, usageErrorf("%s: %v", s.name, err)
	}
	a.staging = path.Join("/user", a.fsys.User(), ".spate", id.String())
	return a, nil
}

// refuseTagged is --unique-tag: a Spate application with one of s.tags that
// has not finished refuses this one. Two submissions racing each other may
// both pass: YARN has no atomic check.
func refuseTagged(ctx context.Context, s *yarnSubmission, client *yarn.Client) error {
	apps, err := client.GetApplications(ctx, &yarnpb.GetApplicationsRequestProto{ApplicationTypes: []string{"Spate"},
		ApplicationStates: []yarnpb.YarnApplicationStateProto{yarnpb.YarnApplicationStateProto_NEW, yarnpb.YarnApplicationStateProto_NEW_SAVING,
			yarnpb.YarnApplicationStateProto_SUBMITTED, yarnpb.YarnApplicationStateProto_ACCEPTED, yarnpb.YarnApplicationStateProto_RUNNING},
		ApplicationTags: s.tags})
	if err != nil {
		return &exitError{code: ExitLost, msg: fmt.Sprintf("%s: --unique-tag: list the Spate applications: %v", s.name, err)}
	}
	for _, a := range apps {
		for _, t := range a.GetApplicationTags() {
			for _, want := range s.tags {
				if t == want {
					return &exitError{code: ExitRefused, msg: fmt.Sprintf("%s: %s (%s, %s) has the tag %s and is not finished (--unique-tag): wait for it, or kill it",
						s.name, yarn.ApplicationIDFromProto(a.GetApplicationId()), a.GetName(), a.GetYarnApplicationState(), t)}
				}
			}
		}
	}
	return nil
}

// yarnClient logs in (on a secure cluster) and connects to the RM.
func yarnClient(s *yarnSubmission) (*yarnKerberos, *yarn.Client, error) {
	var kc *yarnKerberos
	var err error
	if s.secure {
		if kc, err = newYarnKerberos(s.login); err != nil {
			return nil, nil, usageErrorf("%s: %v", s.name, err)
		}
	}
	opts := yarn.ClientOptions{Conf: s.hconf}
	if kc != nil {
		opts.Kerberos = kc.cl
	}
	if s.delegated != nil && s.secure {
		if t := s.delegated.TokenOfKind(rmDelegationTokenKind); t != nil {
			opts.Mechanisms = append(opts.Mechanisms, security.NewDigestMD5(t))
		}
	}
	client, err := yarn.NewClient(opts)
	if err != nil {
		if kc != nil {
			kc.cl.Destroy()
		}
		return nil, nil, usageErrorf("%s: %v", s.name, err)
	}
	return kc, client, nil
}

// rmClient is yarnClient for commands that only talk to the RM: close ends
// the connection and the Kerberos login together.
func rmClient(s *yarnSubmission) (client *yarn.Client, close func(), err error) {
	kc, client, err := yarnClient(s)
	if err != nil {
		return nil, nil, err
	}
	return client, func() {
		client.Close()
		if kc != nil {
			kc.cl.Destroy()
		}
	}, nil
}

func (a *yarnApp) Close() {
	a.closeFS()
	if a.client != nil {
		a.client.Close()
	}
	if a.kc != nil {
		a.kc.cl.Destroy()
	}
}

// submit stages s.stagedFiles and submits the application, its AM running
// command with env (besides the containers' own) and s's tags plus tags.
func (a *yarnApp) submit(ctx context.Context, s *yarnSubmission, errw io.Writer, command []string, env map[string]string, tags []string) (*yarn.Submission, error) {
	id, fsys, staging := a.id, a.fsys, a.staging
	resources, err := stage(fsys, staging, s.stagedFiles, errw)
	if err != nil {
		_ = fsys.RemoveAll(staging)
		return nil, failuref("%s: stage the job in %s%s: %v", s.name, fsys.URI(), staging, err)
	}
	tokens, err := yarnCredentials(ctx, s, a.kc, fsys.URI())
	if err != nil {
		_ = fsys.RemoveAll(staging)
		return nil, usageErrorf("%s: %v", s.name, err)
	}
	amEnv, err := appmaster.ContainerEnv(resources)
	if err != nil {
		return nil, failuref("%s: %v", s.name, err)
	}
	for k, v := range env {
		amEnv[k] = v
	}
	amEnv[appmaster.EnvStaging] = fsys.URI() + staging
	amEnv["GOMEMLIMIT"] = appmaster.MemoryLimit(s.amResource.MemoryMB)
	if !s.secure {
		amEnv["HADOOP_USER_NAME"] = a.client.User
	}
	sub := &yarn.Submission{
		ID: id, Name: s.appName, Queue: conf.YarnApplicationQueue.Get(s.cfg), Type: "Spate", Tags: append(splitTags(conf.YarnTags.Get(s.cfg)), tags...),
		MaxAttempts:                     int32(conf.YarnApplicationAttempts.Get(s.cfg)),
		AttemptFailuresValidityInterval: conf.YarnAttemptFailuresValidityInterval.Get(s.cfg),
		KeepContainersAcrossAttempts:    conf.YarnKeepContainersAcrossAttempts.Get(s.cfg),
		AMResource:                      s.amResource,
		AM:                              yarn.ContainerLaunchContext{LocalResources: resources, Environment: amEnv, Tokens: tokens, Command: command},
	}
	if p := conf.YarnApplicationPriority.Get(s.cfg); p >= 0 {
		sub.Priority = int32(p)
	}
	callCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := a.client.Submit(callCtx, sub); err != nil {
		_ = fsys.RemoveAll(staging)
		return nil, &exitError{code: ExitRefused, msg: fmt.Sprintf("%s: YARN refused %s: %v", s.name, id, err)}
	}
	return sub, nil
}

// prepareYarnSubmit checks the command line, the configuration and the job
// before anything is asked of YARN.
func prepareYarnSubmit(c *cli.Context) (*yarnSubmission, error) {
	name := c.Command.HelpName
	job, jp, jobArgs, cfg, err := jobCommandLine(c, "[flags]")
	if err != nil {
		return nil, err
	}
	s, err := newYarnSubmission(name, cfg)
	if err != nil {
		return nil, err
	}
	s.jobPath, s.jobArgs = jp, jobArgs
	for _, t := range c.StringSlice("tag") {
		for _, t := range splitTags(t) {
			s.tags = append(s.tags, strings.ToLower(t))
		}
	}
	if s.output = c.String("output"); s.output != "text" && s.output != "json" {
		return nil, usageErrorf("%s: --output %q: want text or json", name, s.output)
	}
	if s.stopOnSignal = c.String("stop-on-signal"); s.stopOnSignal != "kill" && s.stopOnSignal != "savepoint" {
		return nil, usageErrorf("%s: --stop-on-signal %q: want kill or savepoint", name, s.stopOnSignal)
	}
	if s.uniqueTags = c.Bool("unique-tag"); s.uniqueTags && len(s.tags) == 0 {
		return nil, usageErrorf("%s: --unique-tag needs a --tag to be unique", name)
	}
	// The plan: the job builds (else it fails here, not in YARN), and its
	// name names the application.
	var plan bytes.Buffer
	cmd := &exec.Cmd{Path: jp, Args: append([]string{job}, jobArgs...),
		Env: jobEnv(os.Environ(), conf.EncodeProperties(cfg), roleInfo), Stdout: &plan, Stderr: c.App.ErrWriter}
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() > 0 {
			return nil, usageErrorf("%s: job binary %q could not build its plan (exit status %d)", name, job, ee.ExitCode())
		}
		return nil, failuref("%s: job binary %q: %v", name, job, err)
	}
	var p struct {
		Job string `json:"job"`
	}
	if err := json.Unmarshal(plan.Bytes(), &p); err != nil {
		return nil, failuref("%s: job binary %q printed no plan: %v", name, job, err)
	}
	s.appName = conf.YarnApplicationName.Get(cfg)
	if s.appName == "" {
		s.appName = p.Job
	}
	if s.appName == "" {
		s.appName = filepath.Base(jp)
	}

	s.stagedFiles = map[string]string{filepath.Base(jp): jp}
	if err := s.stageConfig(); err != nil {
		return nil, err
	}
	return s, nil
}

// newYarnSubmission reads the Hadoop configuration and the containers'
// resources from cfg.
func newYarnSubmission(name string, cfg *conf.Config) (*yarnSubmission, error) {
	s := &yarnSubmission{name: name, cfg: cfg,
		login: hdfs.KerberosLogin{Principal: conf.KerberosLoginPrincipal.Get(cfg), Keytab: conf.KerberosLoginKeytab.Get(cfg),
			NoTicketCache: !conf.KerberosLoginUseTicketCache.Get(cfg)}}
	var err error
	if s.hconf, err = yarn.LoadConfFromEnv(os.Getenv); err != nil {
		return nil, usageErrorf("%s: %v", name, err)
	}
	if s.secure, err = s.hconf.Secure(); err != nil {
		return nil, usageErrorf("%s: %v", name, err)
	}
	// Delegated submission (Oozie, Airflow's launchers): the scheduler's
	// tokens go to the application, as Hadoop's UserGroupInformation does.
	if p := os.Getenv("HADOOP_TOKEN_FILE_LOCATION"); p != "" {
		if s.delegated, err = security.ReadCredentialsFile(p); err != nil {
			return nil, usageErrorf("%s: HADOOP_TOKEN_FILE_LOCATION=%s: %v", name, p, err)
		}
	}
	amMem, err := appmaster.ParseMemorySize(conf.JobManagerMemoryProcessSize.Key(), conf.JobManagerMemoryProcessSize.Get(cfg))
	if err != nil {
		return nil, usageErrorf("%s: %v", name, err)
	}
	tmMem, err := appmaster.ParseMemorySize(conf.TaskManagerMemoryProcessSize.Key(), conf.TaskManagerMemoryProcessSize.Get(cfg))
	if err != nil {
		return nil, usageErrorf("%s: %v", name, err)
	}
	tmCores := conf.YarnContainerVCores.Get(cfg)
	if tmCores < 0 {
		tmCores = conf.NumberOfTaskSlots.Get(cfg)
	}
	s.amResource = yarn.Resource{MemoryMB: amMem, VCores: int32(conf.YarnAppMasterVCores.Get(cfg))}
	s.tmResource = yarn.Resource{MemoryMB: tmMem, VCores: int32(tmCores)}
	return s, nil
}

// stageConfig adds what every container gets in its working directory to
// s.stagedFiles: the Hadoop configuration, the keytab and krb5.conf, and
// the effective configuration as spate.yaml.
func (s *yarnSubmission) stageConfig() error {
	name, cfg := s.name, s.cfg
	for _, f := range appmaster.HadoopConfFiles {
		if p := filepath.Join(s.hconf.Dir, f); fileExists(p) {
			s.stagedFiles[f] = p
		}
	}
	staged := cfg.Clone()
	if kt := s.login.Keytab; kt != "" {
		if !fileExists(kt) {
			return usageErrorf("%s: %s=%s: no such file", name, conf.KerberosLoginKeytab.Key(), kt)
		}
		s.stagedFiles[appmaster.Keytab] = kt
		// Relative to the container's working directory, where it is localized.
		_ = staged.Set(conf.KerberosLoginKeytab.Key(), appmaster.Keytab)
	}
	if k := conf.Krb5ConfPath.Get(cfg); k != "" {
		if !fileExists(k) {
			return usageErrorf("%s: %s=%s: no such file", name, conf.Krb5ConfPath.Key(), k)
		}
		s.stagedFiles[appmaster.Krb5Conf] = k
	}
	// YARN containers share their nodes: ports the system picks.
	for _, key := range []string{conf.JobManagerRPCPort.Key(), conf.RestPort.Key()} {
		if !staged.IsSet(key) {
			_ = staged.Set(key, "0")
		}
	}
	tmp, err := os.CreateTemp("", "spate-yarn-*.yaml")
	if err != nil {
		return failuref("%s: %v", name, err)
	}
	defer tmp.Close()
	if _, err := tmp.WriteString(stagedYAML(staged)); err != nil {
		return failuref("%s: %v", name, err)
	}
	s.stagedFiles[appmaster.ConfFile] = tmp.Name()
	return nil
}

// stagedYAML renders the effective configuration as spate.yaml, every value
// quoted (a JSON string is a YAML double-quoted scalar).
func stagedYAML(c *conf.Config) string {
	var b strings.Builder
	b.WriteString("# The effective configuration of spate yarn-submit.\n")
	for _, k := range c.Keys() {
		v, _ := c.Get(k)
		q, _ := json.Marshal(v)
		fmt.Fprintf(&b, "%s: %s\n", k, q)
	}
	return b.String()
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

func splitTags(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// yarnKerberos is the client's Kerberos login.
type yarnKerberos struct{ cl *krbclient.Client }

func newYarnKerberos(login hdfs.KerberosLogin) (*yarnKerberos, error) {
	cl, err := hdfs.KerberosClient(login, nil)
	if err != nil {
		return nil, err
	}
	return &yarnKerberos{cl: cl}, nil
}

// stagingFS is the HDFS of fs.defaultFS, as the submitting user.
func stagingFS(s *yarnSubmission) (*hdfs.HDFS, func(), error) {
	hc, err := hdfs.LoadHadoopConf(s.hconf.Dir)
	if err != nil {
		return nil, nil, err
	}
	h := hdfs.NewHadoop(hdfs.HadoopOptions{Conf: hc, Login: s.login})
	fsys, err := h.FileSystem("")
	if err != nil {
		h.Close()
		return nil, nil, fmt.Errorf("the staging directory's HDFS (fs.defaultFS in %s): %w", s.hconf.Dir, err)
	}
	return fsys, func() { h.Close() }, nil
}

// stage uploads files to dir (mode 0700) and returns them as the
// containers' local resources.
func stage(fsys *hdfs.HDFS, dir string, files map[string]string, progress io.Writer) (map[string]yarn.LocalResource, error) {
	if err := fsys.MkdirAll(dir); err != nil {
		return nil, err
	}
	for _, d := range []string{path.Dir(dir), dir} {
		if err := fsys.Chmod(d, 0o700); err != nil {
			return nil, err
		}
	}
	u, err := url.Parse(fsys.URI())
	if err != nil {
		return nil, err
	}
	port, _ := strconv.Atoi(u.Port())
	out := map[string]yarn.LocalResource{}
	for _, name := range sortedNames(files) {
		local := files[name]
		b, err := os.ReadFile(local)
		if err != nil {
			return nil, err
		}
		p := path.Join(dir, name)
		fmt.Fprintf(progress, "Uploading %s (%.1f MB) to %s%s\n", local, float64(len(b))/1e6, fsys.URI(), p)
		w, err := fsys.Create(p)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(b); err != nil {
			w.Close()
			return nil, err
		}
		if err := closeRetrying(w); err != nil {
			return nil, fmt.Errorf("close %s: %w", p, err)
		}
		fi, err := fsys.Stat(p)
		if err != nil {
			return nil, err
		}
		out[name] = yarn.LocalResource{Scheme: "hdfs", Host: u.Hostname(), Port: int32(port), File: p, Size: fi.Size, Timestamp: fi.ModTime.UnixMilli()}
	}
	return out, nil
}

// closeRetrying closes an HDFS writer, again while the NameNode says
// "replication in progress" (colinmarc/hdfs; a second call is safe), a few
// times with backoff.
func closeRetrying(w io.Closer) error {
	var err error
	for i, d := 0, 50*time.Millisecond; i < 8; i, d = i+1, d*2 {
		if err = w.Close(); err == nil {
			return nil
		}
		time.Sleep(d)
	}
	return err
}

func sortedNames(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Token kinds of HADOOP_TOKEN_FILE_LOCATION that the client uses itself.
const (
	rmDelegationTokenKind   = "RM_DELEGATION_TOKEN"
	hdfsDelegationTokenKind = "HDFS_DELEGATION_TOKEN"
)

// yarnCredentials are the AM's credentials: the cluster secret, the tokens
// of HADOOP_TOKEN_FILE_LOCATION, and on a secure cluster an HDFS delegation
// token the RM renews (with it the NodeManagers localize the staged files):
// the file's, when it holds one for the default NameNode, else a new one.
func yarnCredentials(ctx context.Context, s *yarnSubmission, kc *yarnKerberos, defaultFS string) ([]byte, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	creds := &security.Credentials{Tokens: map[string]*security.Token{}, Secrets: map[string][]byte{}}
	if d := s.delegated; d != nil {
		for alias, t := range d.Tokens {
			creds.Tokens[alias] = t
		}
		for alias, v := range d.Secrets {
			creds.Secrets[alias] = v
		}
	}
	creds.Secrets[appmaster.SecretAlias] = secret
	if s.secure {
		if u, err := url.Parse(defaultFS); err == nil {
			service := security.TokenService(u.Host)
			for _, t := range creds.Tokens {
				if t.Kind == hdfsDelegationTokenKind && t.Service == service {
					return creds.Marshal(security.CredentialsWritable)
				}
			}
		}
		if kc == nil {
			return nil, fmt.Errorf("an HDFS delegation token for %s: HADOOP_TOKEN_FILE_LOCATION holds none, and there is no Kerberos login to get one (%s)", defaultFS, conf.KerberosLoginKeytab.Key())
		}
		nn, err := yarn.NewNameNodeTokens(s.hconf, kc.cl, ipc.Options{})
		if err != nil {
			return nil, err
		}
		defer nn.Close()
		rm, err := s.hconf.ResourceManagerAddress()
		if err != nil {
			return nil, err
		}
		host, _, _ := net.SplitHostPort(rm)
		renewer := security.ReplaceHost(s.hconf.Get("yarn.resourcemanager.principal"), host)
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		tok, err := nn.Get(cctx, renewer)
		if err != nil {
			return nil, fmt.Errorf("HDFS delegation token (renewer %s): %w", renewer, err)
		}
		creds.Tokens[tok.Service] = tok
	}
	return creds.Marshal(security.CredentialsWritable)
}

// followOptions are yarn-submit's --stop-on-signal and --output.
type followOptions struct {
	savepointOnSignal bool
	stdout            io.Writer // the savepoint's path goes here
	json              io.Writer // --output json: the summary goes here
	// findSavepoint finds the savepoint of job triggered at since, when
	// the JobManager ended before it said where.
	findSavepoint func(job string, since time.Time) (string, error)
}

// yarnSummary is --output json: one object, for schedulers.
type yarnSummary struct {
	ApplicationID string `json:"applicationId"`
	JobID         string `json:"jobId"`
	JobName       string `json:"jobName"`
	State         string `json:"state"`       // YARN's final state
	FinalStatus   string `json:"finalStatus"` // YARN's final status
	ExitCode      int    `json:"exitCode"`
	StartTime     int64  `json:"startTime"` // ms since the epoch, YARN's
	EndTime       int64  `json:"endTime"`
	// RecordsIn and RecordsOut are the job's sources' output and its sinks'
	// input as the JobManager last reported them while it served.
	RecordsIn   int64  `json:"recordsIn"`
	RecordsOut  int64  `json:"recordsOut"`
	Savepoint   string `json:"savepoint,omitempty"`
	Diagnostics string `json:"diagnostics"`
}

// followApplication prints the application's state changes and tracking URL
// until it ends, and turns its final status into the exit code.
func followApplication(ctx context.Context, name string, client *yarn.Client, id yarn.ApplicationID, errw io.Writer, opts followOptions) error {
	var lastState yarnpb.YarnApplicationStateProto
	tracking, rest := "", ""
	killed := false
	sum := yarnSummary{ApplicationID: id.String()}
	var job *restJob // the job the JobManager serves, once seen
	var nextJobPoll time.Time
	stopped, stoppedAt := "", time.Time{} // a stop-with-savepoint without an answer
	savepointFound := func(loc string) {
		fmt.Fprintf(errw, "Savepoint: %s\n", loc)
		if sum.Savepoint = loc; opts.json == nil && opts.stdout != nil {
			fmt.Fprintln(opts.stdout, loc)
		}
	}
	for {
		rctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		r, err := client.GetApplicationReport(rctx, id)
		cancel()
		if err != nil {
			return &exitError{code: ExitLost, msg: fmt.Sprintf("%s: report of %s: %v", name, id, err)}
		}
		if st := r.GetYarnApplicationState(); st != lastState {
			lastState = st
			fmt.Fprintf(errw, "%s %s\n", id, st)
		}
		running := r.GetYarnApplicationState() == yarnpb.YarnApplicationStateProto_RUNNING
		// The RM's proxy URL, then the JobManager's own REST address once
		// the AM set it.
		if u := r.GetTrackingUrl(); u != "" && u != tracking && running {
			tracking = u
			fmt.Fprintf(errw, "Tracking URL: %s\n", u)
		}
		if u := r.GetOriginalTrackingUrl(); strings.HasPrefix(u, "http") && u != rest && running {
			rest = u
			fmt.Fprintf(errw, "JobManager REST API: %s\n", u)
		}
		if rest != "" && running && (opts.json != nil || opts.savepointOnSignal) && time.Now().After(nextJobPoll) {
			// Best effort: the REST API ends with the job.
			if j, err := pollJob(rest, opts.json != nil); err == nil {
				job = j
			}
			nextJobPoll = time.Now().Add(time.Second)
		}
		if yarn.Final(r) {
			err := finalStatus(name, id, r, killed)
			if stopped != "" && err == nil {
				loc, ferr := opts.findSavepoint(stopped, stoppedAt)
				if ferr != nil {
					err = failuref("%s: job %s stopped, but its savepoint: %v", name, stopped, ferr)
				} else {
					savepointFound(loc)
				}
			}
			if opts.json != nil {
				if job != nil {
					sum.JobID, sum.JobName, sum.RecordsIn, sum.RecordsOut = job.id, job.name, job.in, job.out
				}
				sum.State, sum.FinalStatus = r.GetYarnApplicationState().String(), r.GetFinalApplicationStatus().String()
				sum.StartTime, sum.EndTime = int64(r.GetStartTime()), int64(r.GetFinishTime())
				sum.Diagnostics = strings.TrimSpace(r.GetDiagnostics())
				var ee *exitError
				if errors.As(err, &ee) {
					sum.ExitCode = ee.code
				}
				b, _ := json.Marshal(sum)
				fmt.Fprintf(opts.json, "%s\n", b)
			}
			return err
		}
		select {
		case <-ctx.Done():
			if killed {
				break
			}
			killed = true
			if opts.savepointOnSignal && job != nil {
				fmt.Fprintf(errw, "Stopping job %s of %s with a savepoint (interrupted).\n", job.id, id)
				triggered := time.Now()
				loc, accepted, err := stopWithSavepoint(rest, job.id, map[string]any{"drain": false})
				if err != nil && accepted && opts.findSavepoint != nil {
					// The JobManager ends with its job, before it could
					// answer: the savepoint is looked for once YARN says
					// how the application ended.
					fmt.Fprintf(errw, "The JobManager stopped answering (%v): the savepoint is looked for in state.savepoints.dir once %s ended.\n", err, id)
					stopped, stoppedAt = job.id, triggered
					killed = false
					ctx = context.Background()
					break
				}
				if err == nil {
					savepointFound(loc)
					killed = false // the job ends by itself: its final status is the application's
					ctx = context.Background()
					break
				}
				fmt.Fprintf(errw, "%s: stop job %s with a savepoint: %v; killing %s instead\n", name, job.id, err, id)
			}
			fmt.Fprintf(errw, "Killing %s (interrupted).\n", id)
			kctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := client.Kill(kctx, id, "killed by spate yarn-submit on a signal", 200*time.Millisecond)
			cancel()
			if err != nil {
				return &exitError{code: ExitLost, msg: fmt.Sprintf("%s: kill %s: %v", name, id, err)}
			}
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// restJob is the application's job as its JobManager's REST API reports it.
type restJob struct {
	id, name string
	in, out  int64
}

// pollJob reads the one job of an application's JobManager, and with
// records its sources' output and its sinks' input.
func pollJob(base string, records bool) (*restJob, error) {
	rc := &restClient{name: "", base: strings.TrimSuffix(base, "/"), http: &http.Client{Timeout: 5 * time.Second}}
	var ov struct {
		Jobs []struct {
			ID   string `json:"jid"`
			Name string `json:"name"`
		} `json:"jobs"`
	}
	if err := rc.call(http.MethodGet, "/jobs/overview", nil, &ov); err != nil {
		return nil, err
	}
	if len(ov.Jobs) != 1 {
		return nil, fmt.Errorf("%d jobs", len(ov.Jobs))
	}
	j := &restJob{id: ov.Jobs[0].ID, name: ov.Jobs[0].Name}
	if !records {
		return j, nil
	}
	var d struct {
		Vertices []struct {
			ID      string `json:"id"`
			Metrics struct {
				Read  int64 `json:"read-records"`
				Write int64 `json:"write-records"`
			} `json:"metrics"`
		} `json:"vertices"`
		Plan struct {
			Operators []struct {
				ID     string `json:"id"`
				Task   int    `json:"task"`
				Inputs []struct {
					Operator string `json:"operator"`
				} `json:"inputs"`
			} `json:"operators"`
		} `json:"plan"`
	}
	if err := rc.call(http.MethodGet, "/jobs/"+j.id, nil, &d); err != nil {
		return nil, err
	}
	// A vertex is a chain, named by its head. Its records in are the
	// sources' output when its head has no inputs; its records out the
	// sinks' input when no other chain reads from it.
	task, head := map[string]int{}, map[int]string{}
	for _, op := range d.Plan.Operators {
		task[op.ID] = op.Task
		if _, ok := head[op.Task]; !ok {
			head[op.Task] = op.ID
		}
	}
	source, read := map[string]bool{}, map[int]bool{}
	for _, op := range d.Plan.Operators {
		if len(op.Inputs) == 0 && head[op.Task] == op.ID {
			source[op.ID] = true
		}
		for _, in := range op.Inputs {
			if t := task[in.Operator]; t != op.Task {
				read[t] = true
			}
		}
	}
	for _, v := range d.Vertices {
		if source[v.ID] {
			j.in += v.Metrics.Write
		}
		if t, ok := task[v.ID]; ok && !read[t] {
			j.out += v.Metrics.Read
		}
	}
	return j, nil
}

// stopWithSavepoint stops job with a savepoint into its
// state.savepoints.dir and returns the savepoint's path; accepted says the
// JobManager took the request (then an error may only mean that it ended
// with the job before it answered).
func stopWithSavepoint(base, job string, body map[string]any) (loc string, accepted bool, err error) {
	rc := &restClient{name: "stop", base: strings.TrimSuffix(base, "/"), http: &http.Client{Timeout: time.Minute}}
	var trig struct {
		RequestID string `json:"request-id"`
	}
	if err := rc.call(http.MethodPost, "/jobs/"+job+"/stop", body, &trig); err != nil {
		return "", false, err
	}
	loc, failed, err := rc.savepointResult(job, trig.RequestID, time.Now().Add(10*time.Minute))
	switch {
	case errors.Is(err, errSavepointTimeout):
		return "", true, errors.New("the savepoint did not complete within 10 minutes")
	case err != nil:
		return "", true, err
	case failed != "":
		return "", false, errors.New(failed)
	}
	return loc, true, nil
}

// savepointIn finds the one complete savepoint of job in dir (on fsys, the
// staging directory's HDFS) written since since: savepoint-<job[:6]>-*
// with its _metadata (master/checkpoint's layout).
func savepointIn(fsys *hdfs.HDFS, dir, job string, since time.Time) (string, error) {
	if dir == "" {
		return "", fmt.Errorf("%s is not set", conf.SavepointDirectory.Key())
	}
	u, err := url.Parse(dir)
	fu, _ := url.Parse(fsys.URI())
	if err != nil || u.Scheme != "hdfs" || (u.Host != "" && u.Host != fu.Host) {
		return "", fmt.Errorf("%s=%s is not on %s: look for savepoint-%s-* there", conf.SavepointDirectory.Key(), dir, fsys.URI(), job[:6])
	}
	p := u.Path
	entries, err := fsys.ReadDir(p)
	if err != nil {
		return "", err
	}
	var found []string
	for _, e := range entries {
		if !e.IsDir || !strings.HasPrefix(e.Name, "savepoint-"+job[:6]+"-") || e.ModTime.Before(since.Add(-time.Minute)) {
			continue
		}
		if _, err := fsys.Stat(path.Join(p, e.Name, "_metadata")); err == nil {
			found = append(found, strings.TrimSuffix(dir, "/")+"/"+e.Name)
		}
	}
	if len(found) != 1 {
		return "", fmt.Errorf("%d complete savepoints of job %s in %s since %s: %v", len(found), job, dir, since.UTC().Format(time.RFC3339), found)
	}
	return found[0], nil
}

// finalStatus: 0 only for FINISHED/SUCCEEDED.
func finalStatus(name string, id yarn.ApplicationID, r *yarnpb.ApplicationReportProto, interrupted bool) error {
	st, fs := r.GetYarnApplicationState(), r.GetFinalApplicationStatus()
	diag := strings.TrimSpace(r.GetDiagnostics())
	switch {
	case st == yarnpb.YarnApplicationStateProto_FINISHED && fs == yarnpb.FinalApplicationStatusProto_APP_SUCCEEDED:
		return nil
	case st == yarnpb.YarnApplicationStateProto_FAILED && r.GetCurrentApplicationAttemptId().GetAttemptId() <= 0:
		// Rejected before any attempt (an unknown queue, a limit): the RM
		// reports no attempt, or a dummy one numbered -1 or 0.
		return &exitError{code: ExitRefused, msg: fmt.Sprintf("%s: YARN refused %s: %s", name, id, diag)}
	case st == yarnpb.YarnApplicationStateProto_KILLED || fs == yarnpb.FinalApplicationStatusProto_APP_KILLED || interrupted:
		return &exitError{code: ExitKilled, msg: fmt.Sprintf("%s: %s was killed: %s", name, id, diag)}
	default:
		return &exitError{code: ExitFailure, msg: fmt.Sprintf("%s: %s %s (%s): %s", name, id, strings.ToLower(st.String()), fs, diag)}
	}
}
