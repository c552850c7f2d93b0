package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/master/jobmaster"
	"github.com/spate-io/spate/worker"
	"github.com/spate-io/spate/worker/task"
	"github.com/spate-io/spate/worker/transport"
	"github.com/spate-io/spate/worker/transport/gen/wire"
)

// CallTimeout bounds every call a gateway makes.
const CallTimeout = 30 * time.Second

// TaskExecutorClient is the JobMaster's gateway to the TaskExecutor of one
// job on one TaskManager process, over its TaskExecutorGateway service.
type TaskExecutorClient struct {
	rpc      *transport.RPCClient
	dataAddr string
	log      zerolog.Logger
	// register is what RegisterJob does: the job's process on that
	// TaskManager registers the job itself (it rebuilds the graph), so by
	// default there is nothing to send.
	register func(task.JobRegistration) error
}

var _ jobmaster.TaskManagerGateway = (*TaskExecutorClient)(nil)

// NewTaskExecutorClient returns the gateway over an authenticated connection
// to a TaskExecutorGateway whose data plane is at dataAddr. register, when
// not nil, is called by RegisterJob.
func NewTaskExecutorClient(c *transport.Conn, dataAddr string, register func(task.JobRegistration) error, log zerolog.Logger) *TaskExecutorClient {
	rc := transport.NewRPCClient(c)
	return &TaskExecutorClient{rpc: rc, dataAddr: dataAddr, register: register, log: log}
}

// Close closes the connection.
func (c *TaskExecutorClient) Close() error { return c.rpc.Close() }

func callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), CallTimeout)
}

// RegisterJob implements jobmaster.TaskManagerGateway.
func (c *TaskExecutorClient) RegisterJob(reg task.JobRegistration) error {
	if c.register == nil {
		return nil
	}
	return c.register(reg)
}

// UnregisterJob implements jobmaster.TaskManagerGateway: the job's process
// ends with the job.
func (c *TaskExecutorClient) UnregisterJob(string) {}

// SubmitTask implements jobmaster.TaskManagerGateway.
func (c *TaskExecutorClient) SubmitTask(d task.TaskDeploymentDescriptor) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	ctx, cancel := callCtx()
	defer cancel()
	err = c.cl().SubmitTask(ctx, toWireID(d.ID), b)
	return rejectedError(err)
}

// rejectedError turns a TaskRejected back into the error it was.
func rejectedError(err error) error {
	var rejected *wire.TaskRejected
	if errors.As(err, &rejected) {
		return &RemoteError{Message: rejected.Reason, Class: rejected.GetErrorClass()}
	}
	return err
}

// rejected is err as a TaskRejected, classified.
func rejected(err error) error {
	class := classOf(err)
	return &wire.TaskRejected{Reason: err.Error(), ErrorClass: &class}
}

// CancelTask implements jobmaster.TaskManagerGateway.
func (c *TaskExecutorClient) CancelTask(id task.ExecutionAttemptID, cause error) {
	ctx, cancel := callCtx()
	defer cancel()
	msg := ""
	if cause != nil {
		msg = cause.Error()
	}
	if err := c.cl().CancelTask(ctx, toWireID(id), msg); err != nil {
		c.log.Warn().Err(err).Stringer("task", id).Msg("could not cancel a task")
	}
}

// TriggerCheckpoint implements jobmaster.TaskManagerGateway.
func (c *TaskExecutorClient) TriggerCheckpoint(id task.ExecutionAttemptID, checkpointID, timestamp int64, savepoint, stop, drain bool) bool {
	kind := wire.CheckpointKind_CHECKPOINT
	switch {
	case stop:
		kind = wire.CheckpointKind_STOP_WITH_SAVEPOINT
	case savepoint:
		kind = wire.CheckpointKind_SAVEPOINT
	}
	ctx, cancel := callCtx()
	defer cancel()
	ok, err := c.cl().TriggerCheckpoint(ctx, toWireID(id), checkpointID, timestamp, kind, drain)
	if err != nil {
		c.log.Warn().Err(err).Stringer("task", id).Int64("checkpoint", checkpointID).Msg("could not trigger a checkpoint")
		return false
	}
	return ok
}

// NotifyCheckpointComplete implements jobmaster.TaskManagerGateway.
func (c *TaskExecutorClient) NotifyCheckpointComplete(id task.ExecutionAttemptID, checkpointID int64) {
	ctx, cancel := callCtx()
	defer cancel()
	if err := c.cl().NotifyCheckpointComplete(ctx, toWireID(id), checkpointID); err != nil {
		c.log.Warn().Err(err).Stringer("task", id).Int64("checkpoint", checkpointID).Msg("could not notify a task of a completed checkpoint")
	}
}

// CommitAtJobEnd implements jobmaster.TaskManagerGateway.
func (c *TaskExecutorClient) CommitAtJobEnd(id task.ExecutionAttemptID) error {
	ctx, cancel := callCtx()
	defer cancel()
	return rejectedError(c.cl().CommitAtJobEnd(ctx, toWireID(id)))
}

// TaskMetrics implements jobmaster.TaskManagerGateway.
func (c *TaskExecutorClient) TaskMetrics(id task.ExecutionAttemptID) task.TaskMetrics {
	ctx, cancel := callCtx()
	defer cancel()
	b, err := c.cl().TaskMetrics(ctx, toWireID(id))
	var m task.TaskMetrics
	if err == nil && len(b) > 0 {
		err = json.Unmarshal(b, &m)
	}
	if err != nil {
		c.log.Debug().Err(err).Stringer("task", id).Msg("no metrics")
	}
	return m
}

// ReleaseAttempt implements jobmaster.TaskManagerGateway.
func (c *TaskExecutorClient) ReleaseAttempt(jobID string, attempt int) {
	ctx, cancel := callCtx()
	defer cancel()
	if err := c.cl().ReleaseAttempt(ctx, jobID, int32(attempt)); err != nil {
		c.log.Warn().Err(err).Int("attempt", attempt).Msg("could not release an attempt")
	}
}

// SetCheckpointDirectory tells the TaskManager where checkpoint id's (a
// savepoint's) files go.
func (c *TaskExecutorClient) SetCheckpointDirectory(jobID string, checkpointID int64, dir string) error {
	ctx, cancel := callCtx()
	defer cancel()
	return c.cl().SetCheckpointDirectory(ctx, jobID, checkpointID, dir)
}

// DataAddress implements jobmaster.TaskManagerGateway.
func (c *TaskExecutorClient) DataAddress() string { return c.dataAddr }

// Heartbeat checks that the process serving the gateway is alive: an error
// means the connection is gone or the call outlived ctx.
func (c *TaskExecutorClient) Heartbeat(ctx context.Context, jobID string) error {
	return c.cl().HeartbeatFromJobMaster(ctx, jobID)
}

// TaskExecutorServer serves a TaskExecutor's TaskExecutorGateway.
type TaskExecutorServer struct{ X *worker.TaskExecutor }

var _ wire.TaskExecutorGateway = TaskExecutorServer{}

// Processor is the Thrift processor to serve (transport.ServeRPC).
func (s TaskExecutorServer) Processor() *wire.TaskExecutorGatewayProcessor {
	return wire.NewTaskExecutorGatewayProcessor(s)
}

func (s TaskExecutorServer) SubmitTask(_ context.Context, id *wire.ExecutionAttemptID, descriptor []byte) error {
	var d task.TaskDeploymentDescriptor
	if err := json.Unmarshal(descriptor, &d); err != nil {
		return &wire.TaskRejected{Reason: fmt.Sprintf("unreadable deployment descriptor: %v", err)}
	}
	if d.ID != fromWireID(id) {
		return &wire.TaskRejected{Reason: fmt.Sprintf("the descriptor is of %v, the call of %v", d.ID, fromWireID(id))}
	}
	if err := s.X.SubmitTask(d); err != nil {
		return rejected(err)
	}
	return nil
}

func (s TaskExecutorServer) CancelTask(_ context.Context, id *wire.ExecutionAttemptID, cause string) error {
	s.X.CancelTask(fromWireID(id), remoteError(cause, "cancelled"))
	return nil
}

func (s TaskExecutorServer) TriggerCheckpoint(_ context.Context, id *wire.ExecutionAttemptID, checkpointID, timestamp int64, kind wire.CheckpointKind, drain bool) (bool, error) {
	return s.X.TriggerCheckpoint(fromWireID(id), checkpointID, timestamp, kind != wire.CheckpointKind_CHECKPOINT,
		kind == wire.CheckpointKind_STOP_WITH_SAVEPOINT, drain), nil
}

func (s TaskExecutorServer) NotifyCheckpointComplete(_ context.Context, id *wire.ExecutionAttemptID, checkpointID int64) error {
	s.X.NotifyCheckpointComplete(fromWireID(id), checkpointID)
	return nil
}

func (s TaskExecutorServer) CommitAtJobEnd(_ context.Context, id *wire.ExecutionAttemptID) error {
	if err := s.X.CommitAtJobEnd(fromWireID(id)); err != nil {
		return rejected(err)
	}
	return nil
}

func (s TaskExecutorServer) SetCheckpointDirectory(_ context.Context, jobID string, checkpointID int64, dir string) error {
	return s.X.StoreCheckpointIn(jobID, checkpointID, dir)
}

func (s TaskExecutorServer) TaskMetrics(_ context.Context, id *wire.ExecutionAttemptID) ([]byte, error) {
	return json.Marshal(s.X.TaskMetrics(fromWireID(id)))
}

func (s TaskExecutorServer) HeartbeatFromJobMaster(context.Context, string) error { return nil }

func (s TaskExecutorServer) ReleaseAttempt(_ context.Context, jobID string, attempt int32) error {
	s.X.ReleaseAttempt(jobID, int(attempt))
	return nil
}

// cl is a generated client for one call: they record the last response
// without a lock, so concurrent calls must not share one.
func (c *TaskExecutorClient) cl() *wire.TaskExecutorGatewayClient {
	return wire.NewTaskExecutorGatewayClient(c.rpc)
}
