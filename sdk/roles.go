package sdk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/master/jobmanager"
	"github.com/spate-io/spate/master/jobmaster"
	"github.com/spate-io/spate/worker/task"
	"github.com/spate-io/spate/worker/taskmanager"
	"github.com/spate-io/spate/worker/transport"
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

// clusterAuth loads the cluster secret.
func (e *Env) clusterAuth() (transport.Authenticator, error) {
	path := conf.ClusterSecretFile.Get(e.cfg)
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
	addr := net.JoinHostPort(conf.JobManagerRPCAddress.Get(e.cfg), strconv.Itoa(conf.JobManagerRPCPort.Get(e.cfg)))
	jm, err := jobmanager.Start(jobmanager.Config{Address: addr, Auth: auth, HeartbeatTimeout: conf.HeartbeatTimeout.Get(e.cfg),
		SlotRequestTimeout: conf.SlotRequestTimeout.Get(e.cfg), Log: e.log.With().Str("component", "jobmanager").Logger()})
	if err != nil {
		return nil, err
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	e.log.Info().Str("address", jm.Addr()).Int("slots", e.graph.MaxChainParallelism()).Msg("JobManager waiting for TaskManagers")
	// Deploy waits for the slots; a restart after a lost TaskManager waits
	// for new ones.
	opts.JobID, opts.Slots, opts.Gateway, opts.Registered = hex.EncodeToString(b[:]), jm.Slots(), jm.Gateway, jm.Serve
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
	if conf.CheckpointingInterval.Get(e.cfg) > 0 {
		if cfg.CheckpointFS, cfg.CheckpointsDir, err = hdfs.Resolve(jobmaster.CheckpointsDir(e.cfg)); err != nil {
			return err
		}
		cfg.SavepointPathFS = cfg.CheckpointFS
	}
	if sp := conf.SavepointPath.Get(e.cfg); sp != "" && sp != "latest" {
		if cfg.SavepointPathFS, _, err = hdfs.Resolve(sp); err != nil {
			return err
		}
	}
	// The factories plan here too (a file source's splits), as Deploy does on
	// the JobManager; the checks with effects (an output directory's
	// leftovers) are the JobManager's alone (Env.onTaskManager).
	e.onTaskManager = true
	for _, n := range e.graph.Nodes {
		if p, ok := n.Factory.(task.Preparer); ok {
			if err := p.Prepare(n.Parallelism); err != nil {
				return fmt.Errorf("%s: %w", n.Name, err)
			}
		}
	}
	if err := taskmanager.Run(ctx, cfg); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// clusterClient is the JobClient of a job run by this process as a
// JobManager: the JobManager shell ends with the job.
type clusterClient struct {
	embeddedClient
	jm *jobmanager.JobManager
}

func (c clusterClient) Wait() (*JobResult, error) {
	r, err := c.embeddedClient.Wait()
	c.jm.Close()
	return r, err
}
