package taskmanager

import (
	"context"
	"fmt"
	"net"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/master/checkpoint"
	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/worker"
	"github.com/spate-io/spate/worker/rpc"
	"github.com/spate-io/spate/worker/task"
	"github.com/spate-io/spate/worker/transport"
)

// JobProcessConfig configures the child process a session TaskManager
// starts for one job from the job's own binary.
type JobProcessConfig struct {
	// JobID is the job's id, given by the JobManager.
	JobID string
	// JobMaster is where the job's JobMasterGateway listens.
	JobMaster string
	// Name is the TaskManager's, for the logs and the data plane.
	Name string
	// Graph is the job this binary built; the JobManager's fingerprint was
	// checked against it before.
	Graph *graph.JobGraph
	// Host is the address the RPC and data endpoints bind to.
	Host string
	Auth transport.Authenticator
	// CheckpointFS, CheckpointsDir and SavepointPathFS are as in Config.
	CheckpointFS    hdfs.FileSystem
	CheckpointsDir  string
	SavepointPathFS hdfs.FileSystem
	// Ready is called once the process serves, with its TaskExecutorGateway
	// and data plane addresses: the TaskManager is waiting for them.
	Ready func(rpcAddr, dataAddr string) error
	Log   zerolog.Logger
}

// RunJobProcess serves the job's TaskExecutor until ctx ends: the
// TaskManager stops the process when the job ends or is stopped, and a
// parent-death signal ends it with the TaskManager.
func RunJobProcess(ctx context.Context, cfg JobProcessConfig) error {
	log := cfg.Log.With().Str("taskmanager", cfg.Name).Str("job", cfg.JobID).Logger()
	x, ln, err := serveExecutor(cfg.Name, cfg.Host, cfg.Auth, log)
	if err != nil {
		return err
	}
	defer x.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go transport.ServeRPC(ctx, ln, rpc.TaskExecutorServer{X: x}.Processor())

	c, err := transport.Dial(ctx, cfg.JobMaster, cfg.Auth, transport.Options{})
	if err != nil {
		return fmt.Errorf("the JobMaster of job %s at %s: %w", cfg.JobID, cfg.JobMaster, err)
	}
	jm := rpc.NewJobMasterClient(c, log)
	defer jm.Close()
	x.AdoptJobs(func(jobID string) (task.JobRegistration, error) {
		if jobID != cfg.JobID {
			return task.JobRegistration{}, fmt.Errorf("this process runs job %s, not %s", cfg.JobID, jobID)
		}
		r := task.JobRegistration{JobID: jobID, Graph: cfg.Graph, JobMaster: jm, Log: log,
			CheckpointFS: cfg.CheckpointFS, SavepointPathFS: cfg.SavepointPathFS}
		if cfg.CheckpointFS != nil {
			r.Storage = checkpoint.NewStorage(cfg.CheckpointFS, cfg.CheckpointsDir, jobID)
		}
		return r, nil
	})
	if err := cfg.Ready(ln.Addr().String(), x.DataAddress()); err != nil {
		return err
	}
	log.Info().Str("rpc", ln.Addr().String()).Str("data", x.DataAddress()).Msg("job process serving")
	<-ctx.Done()
	return nil
}

// serveExecutor starts a TaskExecutor's data plane and the listener of its
// TaskExecutorGateway, on host and ports the system picks.
func serveExecutor(name, host string, auth transport.Authenticator, log zerolog.Logger) (*worker.TaskExecutor, *transport.Listener, error) {
	x := worker.NewTaskExecutor(name, worker.NewShuffle())
	if err := x.ServeData(net.JoinHostPort(host, "0"), auth, transport.Options{Log: log}, log); err != nil {
		return nil, nil, err
	}
	ln, err := transport.Listen(net.JoinHostPort(host, "0"), auth, transport.Options{Log: log})
	if err != nil {
		x.Close()
		return nil, nil, err
	}
	return x, ln, nil
}
