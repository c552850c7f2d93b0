package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/urfave/cli/v2"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/master/dispatcher"
	"github.com/spate-io/spate/master/jobmanager"
	"github.com/spate-io/spate/worker/metrics"
	"github.com/spate-io/spate/worker/taskmanager"
	"github.com/spate-io/spate/worker/transport"
)

// The standalone session cluster: `spate jobmanager` and `spate taskmanager`
// run no user code; the jobs submitted to them (spate submit) run in child
// processes of their own binaries on the TaskManagers.

func jobManagerCommand() *cli.Command {
	return &cli.Command{
		Name:  "jobmanager",
		Usage: "run a session cluster's JobManager: the REST API, the ResourceManager and a JobMaster per job",
		Description: "Serves the REST API on rest.bind-address:rest.port, the RPC endpoint that TaskManagers\n" +
			"register with on jobmanager.rpc.address:jobmanager.rpc.port, and runs the jobs submitted\n" +
			"with 'spate submit' on the registered TaskManagers. It prints the REST and RPC addresses\n" +
			"on stdout once it serves, and ends on SIGINT or SIGTERM.",
		Flags:           []cli.Flag{dynamicFlag},
		HideHelpCommand: true,
		OnUsageError:    onUsageError,
		Action:          runJobManager,
	}
}

func taskManagerCommand() *cli.Command {
	return &cli.Command{
		Name:  "taskmanager",
		Usage: "run a session cluster's TaskManager, which offers taskmanager.numberOfTaskSlots slots",
		Description: "Registers with the JobManager and runs, for each job it is given, the job's own binary\n" +
			"(fetched from the JobManager and checked by SHA-256) as a child process. It ends on SIGINT\n" +
			"or SIGTERM, or when the JobManager stops answering.",
		Flags: []cli.Flag{dynamicFlag,
			&cli.StringFlag{Name: "jobmanager", Usage: "the JobManager's RPC endpoint `HOST:PORT` (default jobmanager.rpc.address:jobmanager.rpc.port)"}},
		HideHelpCommand: true,
		OnUsageError:    onUsageError,
		Action:          runTaskManager,
	}
}

// clusterConfig loads the configuration and the cluster secret of a
// jobmanager or taskmanager command.
func clusterConfig(c *cli.Context) (*conf.Config, transport.Authenticator, []string, error) {
	name := c.Command.HelpName
	if c.NArg() > 0 {
		return nil, nil, nil, usageErrorf("%s: unexpected argument %q", name, c.Args().First())
	}
	var dynamic []string
	if c.IsSet("log-level") {
		dynamic = append(dynamic, conf.LogLevel.Key()+"="+c.String("log-level"))
	}
	cfg, err := conf.Load(append(dynamic, c.StringSlice("D")...))
	if err != nil {
		return nil, nil, nil, usageErrorf("%s: %v", name, err)
	}
	// The session JobManager resolves the jobs' checkpoint and savepoint
	// directories as the jobs do.
	if err := hdfs.SetDefaultScheme(conf.FSDefaultScheme.Get(cfg)); err != nil {
		return nil, nil, nil, usageErrorf("%s: %v", name, err)
	}
	var path string
	auth, err := transport.ClusterAuthenticator(cfg, func() (transport.Authenticator, error) {
		path = conf.ClusterSecretFile.Get(cfg)
		if path == "" {
			return nil, usageErrorf("%s: %s is required: point it at a file of mode 0600 that the JobManager and every TaskManager share (scripts/start-cluster.sh creates one)", name, conf.ClusterSecretFile.Key())
		}
		var err error
		if path, err = filepath.Abs(path); err != nil {
			return nil, usageErrorf("%s: %s: %v", name, conf.ClusterSecretFile.Key(), err)
		}
		secret, err := transport.LoadSecret(path)
		if err != nil {
			return nil, usageErrorf("%s: %s: %v", name, conf.ClusterSecretFile.Key(), err)
		}
		auth, err := transport.NewSharedSecret(secret)
		if err != nil {
			return nil, usageErrorf("%s: %s: %v", name, conf.ClusterSecretFile.Key(), err)
		}
		return auth, nil
	})
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return nil, nil, nil, err
		}
		return nil, nil, nil, failuref("%s: %v", name, err)
	}
	return cfg, auth, securityOverrides(cfg, path), nil
}

// securityOverrides are the settings a session TaskManager hands its job
// processes so that they authenticate as it does: the secret file, or the
// Kerberos and TLS settings, with file names made absolute.
func securityOverrides(cfg *conf.Config, secretPath string) []string {
	var out []string
	if secretPath != "" {
		out = append(out, conf.ClusterSecretFile.Key()+"="+secretPath)
	}
	files := map[string]bool{conf.KerberosLoginKeytab.Key(): true, conf.SSLInternalCertificate.Key(): true,
		conf.SSLInternalPrivateKey.Key(): true, conf.SSLInternalTruststore.Key(): true}
	for _, key := range []string{conf.TransportAuthentication.Key(), conf.TransportKerberosServicePrincipal.Key(),
		conf.TransportKerberosAllowedPrincipals.Key(), conf.KerberosLoginPrincipal.Key(), conf.KerberosLoginKeytab.Key(),
		conf.SSLInternalEnabled.Key(), conf.SSLInternalCertificate.Key(), conf.SSLInternalPrivateKey.Key(), conf.SSLInternalTruststore.Key()} {
		v, ok := cfg.Get(key)
		if !ok {
			continue
		}
		if files[key] && v != "" {
			if abs, err := filepath.Abs(v); err == nil {
				v = abs
			}
		}
		out = append(out, key+"="+v)
	}
	return out
}

// workDir is dir, or a new directory of this process under the temp dir,
// removed by the returned function.
func workDir(dir, prefix string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, os.MkdirAll(dir, 0o700)
	}
	d, err := os.MkdirTemp("", prefix)
	return d, func() { os.RemoveAll(d) }, err
}

func runJobManager(c *cli.Context) error {
	name := c.Command.HelpName
	cfg, auth, _, err := clusterConfig(c)
	if err != nil {
		return err
	}
	log := conf.NewLogger(cfg, c.App.ErrWriter)
	blobs, cleanup, err := workDir(conf.WebUploadDir.Get(cfg), "spate-jobmanager-")
	if err != nil {
		return failuref("%s: %s: %v", name, conf.WebUploadDir.Key(), err)
	}
	defer cleanup()
	rpcAddr := net.JoinHostPort(conf.JobManagerRPCAddress.Get(cfg), strconv.Itoa(conf.JobManagerRPCPort.Get(cfg)))
	jm, err := jobmanager.Start(jobmanager.Config{Address: rpcAddr, Auth: auth, Session: true,
		HeartbeatTimeout: conf.HeartbeatTimeout.Get(cfg), SlotRequestTimeout: conf.SlotRequestTimeout.Get(cfg),
		Log: log.With().Str("component", "jobmanager").Logger()})
	if err != nil {
		return failuref("%s: %v", name, err)
	}
	defer jm.Close()
	session, err := jobmanager.NewSession(jm, jobmanager.SessionConfig{BlobDir: filepath.Join(blobs, "blobs"), Config: cfg,
		HeartbeatInterval: conf.HeartbeatInterval.Get(cfg), HeartbeatTimeout: conf.HeartbeatTimeout.Get(cfg),
		Log: log.With().Str("component", "jobmaster").Logger()})
	if err != nil {
		return failuref("%s: %v", name, err)
	}
	srv := dispatcher.New(session, dispatcher.Options{
		Address:          net.JoinHostPort(conf.RestBindAddress.Get(cfg), strconv.Itoa(conf.RestPort.Get(cfg))),
		MaxContentLength: int64(conf.RestMaxContentLength.Get(cfg)),
		UploadDir:        blobs,
		Version:          version,
		Log:              log.With().Str("component", "dispatcher").Logger(),
	})
	restAddr, err := srv.Start()
	if err != nil {
		return failuref("%s: REST endpoint (rest.bind-address, rest.port): %v", name, err)
	}
	fmt.Fprintf(c.App.Writer, "rest: http://%s\nrpc: %s\n", restAddr, jm.Addr())
	log.Info().Str("rest", restAddr).Str("rpc", jm.Addr()).Msg("JobManager serving")
	waitForSignal(log)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	return nil
}

func runTaskManager(c *cli.Context) error {
	name := c.Command.HelpName
	cfg, auth, overrides, err := clusterConfig(c)
	if err != nil {
		return err
	}
	// The log's tail (and the job processes') goes to the JobManager with
	// every heartbeat, for the web UI's log view. Not on a terminal, where
	// the logger picks the console format by the writer's type.
	ring := metrics.NewLogRing(500, 128<<10)
	stderr := c.App.ErrWriter
	if f, ok := stderr.(*os.File); !ok || !isCharDevice(f) {
		stderr = io.MultiWriter(stderr, ring)
	}
	log := conf.NewLogger(cfg, stderr)
	jmAddr := c.String("jobmanager")
	if jmAddr == "" {
		jmAddr = net.JoinHostPort(conf.JobManagerRPCAddress.Get(cfg), strconv.Itoa(conf.JobManagerRPCPort.Get(cfg)))
	}
	if _, _, err := net.SplitHostPort(jmAddr); err != nil {
		return usageErrorf("%s: --jobmanager %q: want HOST:PORT", name, jmAddr)
	}
	dir, cleanup, err := workDir(conf.TaskManagerWorkDir.Get(cfg), "spate-taskmanager-")
	if err != nil {
		return failuref("%s: %s: %v", name, conf.TaskManagerWorkDir.Key(), err)
	}
	defer cleanup()
	tmName := os.Getenv("SPATE_TASKMANAGER_NAME")
	if tmName == "" {
		host, _ := os.Hostname()
		tmName = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	host := conf.TaskManagerHost.Get(cfg)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = taskmanager.RunSession(ctx, taskmanager.SessionConfig{Name: tmName, JobManager: jmAddr, Host: host,
		Slots: conf.NumberOfTaskSlots.Get(cfg), Auth: auth, HeartbeatInterval: conf.HeartbeatInterval.Get(cfg),
		RegistrationTimeout: conf.TaskManagerRegistrationTimeout.Get(cfg),
		Overrides:           append(overrides, conf.TaskManagerHost.Key()+"="+host),
		WorkDir:             dir, Stdout: c.App.Writer, Stderr: stderr, Log: log,
		Report: func() []byte {
			return metrics.EncodeReport(metrics.Report{Process: metrics.ReadProcess(), Log: ring.Lines()})
		}})
	if err != nil && !errors.Is(err, context.Canceled) {
		return failuref("%s: %v", name, err)
	}
	return nil
}

// waitForSignal blocks until SIGINT or SIGTERM.
func isCharDevice(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func waitForSignal(log zerolog.Logger) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	s := <-ch
	signal.Stop(ch)
	log.Info().Str("signal", s.String()).Msg("shutting down")
}
