package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/task"
	"github.com/spate-io/spate/worker/transport"
	"github.com/spate-io/spate/worker/transport/gen/wire"
)

// JobMasterClient is a TaskExecutor's task.JobMasterGateway to the JobMaster
// of one job in another process, over its JobMasterGateway service.
type JobMasterClient struct {
	rpc *transport.RPCClient
	log zerolog.Logger
}

var _ task.JobMasterGateway = (*JobMasterClient)(nil)

// NewJobMasterClient returns the gateway over an authenticated connection to
// the JobManager's JobMasterGateway.
func NewJobMasterClient(c *transport.Conn, log zerolog.Logger) *JobMasterClient {
	rc := transport.NewRPCClient(c)
	return &JobMasterClient{rpc: rc, log: log}
}

// Close closes the connection.
func (c *JobMasterClient) Close() error { return c.rpc.Close() }

// RegisterTaskExecutor tells the JobMaster that the job's TaskExecutor on
// TaskManager tm serves RPC at rpcAddr and data at dataAddr, for a graph
// with fingerprint.
func (c *JobMasterClient) RegisterTaskExecutor(ctx context.Context, jobID, tm, rpcAddr, dataAddr, fingerprint string) error {
	return rejectedError(c.cl().RegisterTaskExecutor(ctx, jobID, tm, rpcAddr, dataAddr, fingerprint))
}

// UpdateTaskExecutionState implements task.JobMasterGateway.
func (c *JobMasterClient) UpdateTaskExecutionState(id task.ExecutionAttemptID, s task.ExecutionState, err error) {
	msg, class := "", ""
	if err != nil {
		msg, class = err.Error(), classOf(err)
	}
	ctx, cancel := callCtx()
	defer cancel()
	if rerr := c.cl().UpdateTaskExecutionState(ctx, toWireID(id), toWireState(s), msg, class, ""); rerr != nil {
		c.log.Error().Err(rerr).Stringer("task", id).Stringer("state", s).Msg("could not report a task's state to the JobMaster")
	}
}

// AcknowledgeCheckpoint implements task.JobMasterGateway.
func (c *JobMasterClient) AcknowledgeCheckpoint(id task.ExecutionAttemptID, checkpointID int64, handles []state.Handle) {
	b, err := json.Marshal(handles)
	if err == nil {
		ctx, cancel := callCtx()
		defer cancel()
		err = c.cl().AcknowledgeCheckpoint(ctx, toWireID(id), checkpointID, b)
	}
	if err != nil {
		c.log.Warn().Err(err).Stringer("task", id).Int64("checkpoint", checkpointID).Msg("could not acknowledge a checkpoint")
	}
}

// DeclineCheckpoint implements task.JobMasterGateway.
func (c *JobMasterClient) DeclineCheckpoint(id task.ExecutionAttemptID, checkpointID int64, err error) {
	ctx, cancel := callCtx()
	defer cancel()
	class := classOf(err)
	if rerr := c.cl().DeclineCheckpoint(ctx, toWireID(id), checkpointID, err.Error(), class != "", class); rerr != nil {
		c.log.Warn().Err(rerr).Stringer("task", id).Int64("checkpoint", checkpointID).Msg("could not decline a checkpoint")
	}
}

// JobMasterServer serves the JobMasterGateway of one JobManager process: it
// hands each call to the job it names.
type JobMasterServer struct {
	mu   sync.Mutex
	jobs map[string]ServedJob
}

// ServedJob is a job the server dispatches to: its gateway, and what to do
// when one of its TaskExecutors registers.
type ServedJob struct {
	Gateway task.JobMasterGateway
	// Register is called by RegisterTaskExecutor; an error refuses the
	// TaskExecutor.
	Register func(tm, rpcAddr, dataAddr, fingerprint string) error
}

var _ wire.JobMasterGateway = (*JobMasterServer)(nil)

// NewJobMasterServer returns a server with no jobs.
func NewJobMasterServer() *JobMasterServer { return &JobMasterServer{jobs: map[string]ServedJob{}} }

// Processor is the Thrift processor to serve (transport.ServeRPC).
func (s *JobMasterServer) Processor() *wire.JobMasterGatewayProcessor {
	return wire.NewJobMasterGatewayProcessor(s)
}

// Serve makes calls naming jobID reach job.
func (s *JobMasterServer) Serve(jobID string, job ServedJob) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs[jobID] = job
}

// Forget drops a job; calls naming it are dropped too.
func (s *JobMasterServer) Forget(jobID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.jobs, jobID)
}

func (s *JobMasterServer) job(jobID string) (ServedJob, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[jobID]
	return j, ok
}

func (s *JobMasterServer) RegisterTaskExecutor(_ context.Context, jobID, tm, rpcAddr, dataAddr, fingerprint string) error {
	j, ok := s.job(jobID)
	if !ok || j.Register == nil {
		return &wire.TaskRejected{Reason: fmt.Sprintf("no job %s here", jobID)}
	}
	if err := j.Register(tm, rpcAddr, dataAddr, fingerprint); err != nil {
		return rejected(err)
	}
	return nil
}

func (s *JobMasterServer) UpdateTaskExecutionState(_ context.Context, id *wire.ExecutionAttemptID, st wire.ExecutionState, msg, class, _ string) error {
	if j, ok := s.job(id.GetJobId()); ok {
		j.Gateway.UpdateTaskExecutionState(fromWireID(id), fromWireState(st), remoteError(msg, class))
	}
	return nil
}

func (s *JobMasterServer) AcknowledgeCheckpoint(_ context.Context, id *wire.ExecutionAttemptID, checkpointID int64, handles []byte) error {
	j, ok := s.job(id.GetJobId())
	if !ok {
		return nil
	}
	var hs []state.Handle
	if err := json.Unmarshal(handles, &hs); err != nil {
		j.Gateway.DeclineCheckpoint(fromWireID(id), checkpointID, fmt.Errorf("unreadable state handles: %w", err))
		return nil
	}
	j.Gateway.AcknowledgeCheckpoint(fromWireID(id), checkpointID, hs)
	return nil
}

func (s *JobMasterServer) DeclineCheckpoint(_ context.Context, id *wire.ExecutionAttemptID, checkpointID int64, reason string, _ bool, class string) error {
	if j, ok := s.job(id.GetJobId()); ok {
		j.Gateway.DeclineCheckpoint(fromWireID(id), checkpointID, remoteError(reason, class))
	}
	return nil
}

// cl is a generated client for one call: they record the last response
// without a lock, so concurrent calls must not share one.
func (c *JobMasterClient) cl() *wire.JobMasterGatewayClient {
	return wire.NewJobMasterGatewayClient(c.rpc)
}
