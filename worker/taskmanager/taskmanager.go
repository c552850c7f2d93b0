// Package taskmanager is the TaskManager process's shell in application
// mode: the job binary, started with SPATE_ROLE=taskmanager, serves a
// worker.TaskExecutor (its TaskExecutorGateway over RPC and its data
// plane), registers its slots with the JobManager's ResourceManager,
// heartbeats, and runs the tasks of the one job it built, under whatever id
// its JobManager gives it. It ends when the JobManager goes away.
//
//	taskmanager ──registerTaskManager──▶ ResourceManager ──▶ dials TaskExecutorGateway
//	            ◀── JobMaster address ──┘
//	            ──heartbeat every heartbeat.interval──▶
//	tasks       ──states, acknowledgements──▶ JobMasterGateway
//
// # What this package must never do
//
// It decides nothing about the job; it carries out what the JobMaster asks.
package taskmanager

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/master/checkpoint"
	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/worker/rpc"
	"github.com/spate-io/spate/worker/task"
	"github.com/spate-io/spate/worker/transport"
	"github.com/spate-io/spate/worker/transport/gen/wire"
)

// Config configures a TaskManager.
type Config struct {
	// Name identifies the TaskManager to the ResourceManager.
	Name string
	// Graph is the job this binary built.
	Graph *graph.JobGraph
	// JobManager is the ResourceManager's host:port.
	JobManager string
	// Host is the address the RPC and data endpoints bind to.
	Host  string
	Slots int
	Auth  transport.Authenticator
	// HeartbeatInterval is heartbeat.interval.
	HeartbeatInterval time.Duration
	// RegistrationTimeout bounds the attempts to reach the JobManager
	// (taskmanager.registration.timeout): it may start after the TaskManager.
	RegistrationTimeout time.Duration
	// CheckpointFS and CheckpointsDir are state.checkpoints.dir (nil: no
	// checkpointing); SavepointPathFS reads execution.savepoint.path.
	CheckpointFS    hdfs.FileSystem
	CheckpointsDir  string
	SavepointPathFS hdfs.FileSystem
	Log             zerolog.Logger
}

// ErrRegistration wraps the error of a TaskManager that could not register.
var ErrRegistration = errors.New("taskmanager: could not register with the JobManager")

// Run serves until ctx ends or the JobManager goes away (nil: the job's
// JobManager ended, as it does when the job has), or fails to register.
func Run(ctx context.Context, cfg Config) error {
	log := cfg.Log.With().Str("taskmanager", cfg.Name).Logger()
	x, ln, err := serveExecutor(cfg.Name, cfg.Host, cfg.Auth, log)
	if err != nil {
		return err
	}
	defer x.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go transport.ServeRPC(ctx, ln, rpc.TaskExecutorServer{X: x}.Processor())

	c, err := dialRetrying(ctx, cfg.JobManager, cfg.Auth, cfg.RegistrationTimeout)
	if err != nil {
		return err
	}
	rc := transport.NewRPCClient(c)
	defer rc.Close()
	rm := func() *wire.ResourceManagerGatewayClient { return wire.NewResourceManagerGatewayClient(rc) }
	// The JobManager may deploy the moment it has our slots, before the
	// registration's answer (the JobMaster's address) has arrived here: a job
	// adopted then waits for it.
	var jm *rpc.JobMasterClient
	ready := make(chan struct{})
	x.AdoptJobs(func(jobID string) (task.JobRegistration, error) {
		select {
		case <-ready:
		case <-ctx.Done():
			return task.JobRegistration{}, ctx.Err()
		}
		r := task.JobRegistration{JobID: jobID, Graph: cfg.Graph, JobMaster: jm, Log: cfg.Log.With().Str("job", jobID).Logger(),
			CheckpointFS: cfg.CheckpointFS, SavepointPathFS: cfg.SavepointPathFS}
		if cfg.CheckpointFS != nil {
			r.Storage = checkpoint.NewStorage(cfg.CheckpointFS, cfg.CheckpointsDir, jobID)
		}
		return r, nil
	})
	reg, err := register(ctx, rm(), cfg.Name, x.DataAddress(), cfg.Slots, ln.Addr().String())
	if err != nil {
		return err
	}
	jc, err := transport.Dial(ctx, reg.GetJobMasterAddress(), cfg.Auth, transport.Options{})
	if err != nil {
		return fmt.Errorf("%w: the JobMaster at %s: %w", ErrRegistration, reg.GetJobMasterAddress(), err)
	}
	jm = rpc.NewJobMasterClient(jc, log)
	defer jm.Close()
	close(ready)
	log.Info().Str("jobmanager", cfg.JobManager).Str("registration", reg.RegistrationId).Int("slots", cfg.Slots).Msg("registered")

	if err := heartbeat(ctx, rm, cfg.Name, reg.RegistrationId, cfg.HeartbeatInterval, nil); err != nil {
		// The JobManager of an application ends with its job.
		log.Info().Err(err).Msg("the JobManager is gone; stopping")
	}
	return nil
}

// register announces the TaskManager's slots to the ResourceManager; an
// error wraps ErrRegistration.
func register(ctx context.Context, rm *wire.ResourceManagerGatewayClient, name, dataAddr string, slots int, rpcAddr string) (*wire.RegistrationSuccess, error) {
	host, _ := os.Hostname()
	reg, err := rm.RegisterTaskManager(ctx, name, dataAddr, int32(slots), host, rpcAddr)
	if err != nil {
		var rej *wire.RegistrationRejected
		if errors.As(err, &rej) {
			return nil, fmt.Errorf("%w: %s", ErrRegistration, rej.Reason)
		}
		return nil, fmt.Errorf("%w: %w", ErrRegistration, err)
	}
	return reg, nil
}

// heartbeat sends a heartbeat, with report's payload when report is set,
// every interval until ctx ends (nil) or one fails (its error).
func heartbeat(ctx context.Context, rm func() *wire.ResourceManagerGatewayClient, name, registration string, interval time.Duration, report func() []byte) error {
	every := max(interval, 10*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			var payload []byte
			if report != nil {
				payload = report()
			}
			hctx, hcancel := context.WithTimeout(ctx, max(every, time.Second))
			err := rm().Heartbeat(hctx, name, registration, &wire.SlotReport{}, payload)
			hcancel()
			if err != nil && ctx.Err() == nil {
				return err
			}
		}
	}
}

// dialRetrying connects to the JobManager, retrying with a growing pause
// until RegistrationTimeout: it may not be listening yet. A refused
// handshake (wrong secret) is not retried. An error wraps ErrRegistration.
func dialRetrying(ctx context.Context, addr string, auth transport.Authenticator, timeout time.Duration) (*transport.Conn, error) {
	c, err := dialUntil(ctx, addr, auth, timeout)
	if err != nil {
		return nil, fmt.Errorf("%w at %s (jobmanager.rpc.address, jobmanager.rpc.port) within %s (taskmanager.registration.timeout): %w",
			ErrRegistration, addr, timeout, err)
	}
	return c, nil
}

func dialUntil(ctx context.Context, addr string, auth transport.Authenticator, timeout time.Duration) (*transport.Conn, error) {
	deadline := time.Now().Add(timeout)
	pause := 50 * time.Millisecond
	for {
		c, err := transport.Dial(ctx, addr, auth, transport.Options{})
		if err == nil || errors.Is(err, transport.ErrAuthFailed) || time.Now().Add(pause).After(deadline) {
			return c, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 2*time.Second)
	}
}
