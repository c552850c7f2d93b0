package sdk

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/master/dispatcher"
	"github.com/spate-io/spate/master/jobmanager"
	"github.com/spate-io/spate/master/jobmaster"
	"github.com/spate-io/spate/worker/rpc"
	"github.com/spate-io/spate/worker/task"
	"github.com/spate-io/spate/worker/taskmanager"
	"github.com/spate-io/spate/worker/transport"
	"github.com/spate-io/spate/yarn/appmaster"
)

// Application mode: the job binary started with SPATE_ROLE=jobmanager runs
// the job on the TaskManagers that register with it, and the same binary
// started with SPATE_ROLE=taskmanager is one of them. Both build the same
// graph (main() runs in each), and a TaskManager refuses tasks of another
// graph. JobManager and TaskManagers authenticate each other with the secret
// in security.cluster.secret-file.

// EnvTaskManagerName names a TaskManager process to the ResourceManager
// (default: host and pid).
const EnvTaskManagerName = "SPATE_TASKMANAGER_NAME"

// clusterAuth returns the authenticator of security.transport.authentication:
// the cluster secret, or Kerberos; in TLS with security.ssl.internal.enabled.
func (e *Env) clusterAuth() (transport.Authenticator, error) {
	return transport.ClusterAuthenticator(e.cfg, e.clusterSecret)
}

// clusterSecret loads the cluster secret.
func (e *Env) clusterSecret() (transport.Authenticator, error) {
	path := conf.ClusterSecretFile.Get(e.cfg)
	if path == "" && appmaster.InYARN() {
		secret, err := appmaster.ClusterSecret()
		if err != nil {
			return nil, err
		}
		return transport.NewSharedSecret(secret)
	}
	if path == "" {
		return nil, fmt.Errorf("%s is required in the %s and %s roles: point it at a file of mode 0600 that the JobManager and every TaskManager share", conf.ClusterSecretFile.Key(), RoleJobManager, RoleTaskManager)
	}
	secret, err := transport.LoadSecret(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", conf.ClusterSecretFile.Key(), err)
	}
	return transport.NewSharedSecret(secret)
}

// jobManager starts the JobManager shell, waits for the job's slots and
// points opts at the TaskManagers that offer them.
func (e *Env) jobManager(ctx context.Context, opts *jobmaster.Options) (*jobmanager.JobManager, error) {
	auth, err := e.clusterAuth()
	if err != nil {
		return nil, err
	}
	jcfg := jobmanager.Config{HeartbeatTimeout: conf.HeartbeatTimeout.Get(e.cfg),
		SlotRequestTimeout: conf.SlotRequestTimeout.Get(e.cfg), Log: e.log.With().Str("component", "jobmanager").Logger()}
	var am *appmaster.AppMaster // YARN application mode: see yarn.go
	if e.inYARN() {
		if am, err = e.registerAM(ctx); err != nil {
			return nil, err
		}
		jcfg.Driver = am
	}
	jcfg.Address, jcfg.Auth = net.JoinHostPort(conf.JobManagerRPCAddress.Get(e.cfg), strconv.Itoa(conf.JobManagerRPCPort.Get(e.cfg))), auth
	jm, err := jobmanager.Start(jcfg)
	if err != nil {
		return nil, err
	}
	if am != nil {
		adoptAM(jm, am)
	}
	e.log.Info().Str("address", jm.Addr()).Int("slots", e.graph.MaxChainParallelism()).Msg("JobManager waiting for TaskManagers")
	// Deploy waits for the slots; a restart after a lost TaskManager waits
	// for new ones.
	opts.Slots, opts.Gateway, opts.Registered = jm.Slots(), jm.Gateway, jm.Serve
	opts.TaskManagers = nil
	return jm, nil
}

// runTaskManager serves as a TaskManager of this job until its JobManager
// ends, then exits the process: 0, or 1 with the error on stderr.
func (e *Env) runTaskManager(ctx context.Context) {
	err := e.taskManager(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", RoleTaskManager, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func (e *Env) taskManager(ctx context.Context) error {
	e.inYARN()
	auth, err := e.clusterAuth()
	if err != nil {
		return err
	}
	name := os.Getenv(EnvTaskManagerName)
	if name == "" {
		host, _ := os.Hostname()
		name = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	cfg := taskmanager.Config{Name: name, Graph: e.graph,
		JobManager:          net.JoinHostPort(conf.JobManagerRPCAddress.Get(e.cfg), strconv.Itoa(conf.JobManagerRPCPort.Get(e.cfg))),
		Host:                conf.TaskManagerHost.Get(e.cfg),
		Slots:               conf.NumberOfTaskSlots.Get(e.cfg),
		Auth:                auth,
		HeartbeatInterval:   conf.HeartbeatInterval.Get(e.cfg),
		RegistrationTimeout: conf.TaskManagerRegistrationTimeout.Get(e.cfg),
		Log:                 e.log}
	if cfg.CheckpointFS, cfg.CheckpointsDir, cfg.SavepointPathFS, err = e.prepareTasks(); err != nil {
		return err
	}
	if err := taskmanager.Run(ctx, cfg); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// prepareTasks readies this process to run the job's tasks: it resolves the
// filesystems they read and write state through, and lets the factories plan
// (a file source's splits), as Deploy does on the JobManager; the checks
// with effects (an output directory's leftovers) are the JobManager's alone
// (Env.onTaskManager).
func (e *Env) prepareTasks() (checkpointFS hdfs.FileSystem, checkpointsDir string, savepointPathFS hdfs.FileSystem, err error) {
	if conf.CheckpointingInterval.Get(e.cfg) > 0 {
		if checkpointFS, checkpointsDir, err = hdfs.Resolve(jobmaster.CheckpointsDir(e.cfg)); err != nil {
			return nil, "", nil, err
		}
		savepointPathFS = checkpointFS
	}
	if sp := conf.SavepointPath.Get(e.cfg); sp != "" && sp != "latest" {
		if savepointPathFS, _, err = hdfs.Resolve(sp); err != nil {
			return nil, "", nil, err
		}
	}
	e.onTaskManager = true
	for _, n := range e.graph.Nodes {
		if p, ok := n.Factory.(task.Preparer); ok {
			if err := p.Prepare(n.Parallelism); err != nil {
				return nil, "", nil, fmt.Errorf("%s: %w", n.Name, err)
			}
		}
	}
	return checkpointFS, checkpointsDir, savepointPathFS, nil
}

// runJobProcess serves as a session TaskManager's process of one job (the
// taskexecutor role, see worker/taskmanager): it refuses to serve a graph
// other than the JobManager's, answers on the endpoints descriptor, and
// serves until the TaskManager stops it (SIGTERM) or dies. It exits the
// process: 0, or 1 with the error on stderr.
func (e *Env) runJobProcess(ctx context.Context) {
	answer := os.NewFile(uintptr(taskmanager.EndpointsFD), "endpoints")
	fail := func(class string, err error) {
		if answer != nil {
			fmt.Fprintf(answer, "error %s %s\n", class, strings.ReplaceAll(err.Error(), "\n", " "))
		}
		fmt.Fprintf(os.Stderr, "%s: %v\n", taskmanager.RoleTaskExecutor, err)
		os.Exit(1)
	}
	if answer == nil {
		fail("", fmt.Errorf("no file descriptor %d to answer on: the %s role is started by a session TaskManager (spate taskmanager), not by hand", taskmanager.EndpointsFD, taskmanager.RoleTaskExecutor))
	}
	jobID := os.Getenv(taskmanager.EnvJobID)
	if want, got := os.Getenv(taskmanager.EnvFingerprint), e.graph.Fingerprint(); want != got {
		fail(rpc.ClassSuppressRestarts, fmt.Errorf("%w: job %s was submitted with the graph %s, this binary with these arguments builds %s: submit the binary again",
			taskmanager.ErrGraphMismatch, jobID, want, got))
	}
	auth, err := e.clusterAuth()
	if err != nil {
		fail(rpc.ClassSuppressRestarts, err)
	}
	cfg := taskmanager.JobProcessConfig{JobID: jobID, JobMaster: os.Getenv(taskmanager.EnvJobMaster), Name: os.Getenv(EnvTaskManagerName),
		Graph: e.graph, Host: conf.TaskManagerHost.Get(e.cfg), Auth: auth, Log: e.log,
		Ready: func(rpcAddr, dataAddr string) error {
			_, err := fmt.Fprintf(answer, "ok %s %s\n", rpcAddr, dataAddr)
			return errors.Join(err, answer.Close())
		}}
	if cfg.CheckpointFS, cfg.CheckpointsDir, cfg.SavepointPathFS, err = e.prepareTasks(); err != nil {
		fail("", err)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := taskmanager.RunJobProcess(ctx, cfg); err != nil && !errors.Is(err, context.Canceled) {
		fail("", err)
	}
	os.Exit(0)
}

// serveREST serves the REST API of the application's one job, on
// rest.bind-address:rest.port (0 picks a port; the log says which).
func (e *Env) serveREST(jm *jobmanager.JobManager, job *jobmaster.Job) (*dispatcher.Server, error) {
	s, err := jobmanager.NewSession(jm, jobmanager.SessionConfig{Config: e.cfg, Log: e.log.With().Str("component", "jobmaster").Logger()})
	if err != nil {
		return nil, err
	}
	s.Adopt(job, e.graph, e.cfg)
	srv := dispatcher.New(s, dispatcher.Options{
		Address:          net.JoinHostPort(conf.RestBindAddress.Get(e.cfg), strconv.Itoa(conf.RestPort.Get(e.cfg))),
		MaxContentLength: int64(conf.RestMaxContentLength.Get(e.cfg)),
		Log:              e.log.With().Str("component", "dispatcher").Logger(),
	})
	addr, err := srv.Start()
	if err != nil {
		return nil, fmt.Errorf("the REST endpoint (rest.bind-address, rest.port): %w", err)
	}
	e.log.Info().Str("rest", "http://"+addr).Msg("REST API serving")
	trackAM(jm, addr)
	return srv, nil
}

// clusterClient is the JobClient of a job run by this process as a
// JobManager: the JobManager shell and the REST API end with the job.
type clusterClient struct {
	embeddedClient
	jm   *jobmanager.JobManager
	rest *dispatcher.Server
}

func (c clusterClient) Wait() (*JobResult, error) {
	r, err := c.embeddedClient.Wait()
	c.rest.Close()
	c.jm.Close()
	finishAM(c.jm, err)
	return r, err
}
