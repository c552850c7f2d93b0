package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/spate-io/spate/worker/transport/gen/wire"
)

// fakeResourceManager registers TaskManagers once each and takes heartbeats.
type fakeResourceManager struct {
	mu         sync.Mutex
	registered map[string]string // tm id → registration id
	heartbeats []heartbeatCall
	block      chan struct{} // a heartbeat from "slow" waits for it
}

type heartbeatCall struct {
	tm, registration string
	slots            *wire.SlotReport
	metrics          []byte
}

func (rm *fakeResourceManager) RegisterTaskManager(_ context.Context, tm, dataAddress string, slots int32, hostname, rpcAddress string) (*wire.RegistrationSuccess, error) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if _, ok := rm.registered[tm]; ok {
		return nil, &wire.RegistrationRejected{Reason: "task manager " + tm + " is already registered"}
	}
	id := "reg-" + tm + "-" + dataAddress + "-" + hostname + "-" + rpcAddress
	rm.registered[tm] = id
	return &wire.RegistrationSuccess{RegistrationId: id}, nil
}

func (rm *fakeResourceManager) Heartbeat(ctx context.Context, tm, registration string, slots *wire.SlotReport, metrics []byte) error {
	switch tm {
	case "boom":
		return errors.New("metrics decoder exploded")
	case "slow":
		select {
		case <-rm.block:
		case <-ctx.Done():
		}
		return nil
	}
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if rm.registered[tm] != registration {
		return &wire.UnknownTaskManager{TaskManagerId: tm}
	}
	rm.heartbeats = append(rm.heartbeats, heartbeatCall{tm, registration, slots, metrics})
	return nil
}

// serveRM serves a fakeResourceManager; the returned function stops it and
// returns ServeRPC's result.
func serveRM(t *testing.T, opts Options) (*fakeResourceManager, *Listener, *logBuffer) {
	t.Helper()
	rm := &fakeResourceManager{registered: map[string]string{}, block: make(chan struct{})}
	l, logs := listen(t, testSecret(t, 1), opts)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- ServeRPC(ctx, l, wire.NewResourceManagerGatewayProcessor(rm)) }()
	t.Cleanup(func() {
		close(rm.block)
		cancel()
		if err := <-served; err != nil {
			t.Errorf("ServeRPC: %v", err)
		}
	})
	return rm, l, logs
}

func rmClient(t *testing.T, l *Listener, opts Options) (*wire.ResourceManagerGatewayClient, *RPCClient) {
	t.Helper()
	c, err := Dial(testCtx(t), l.Addr().String(), testSecret(t, 1), opts)
	if err != nil {
		t.Fatal(err)
	}
	rc := NewRPCClient(c)
	t.Cleanup(func() { rc.Close() })
	return wire.NewResourceManagerGatewayClient(rc), rc
}

func TestRPCRoundTrip(t *testing.T) {
	rm, l, _ := serveRM(t, Options{})
	client, _ := rmClient(t, l, Options{})
	ctx := testCtx(t)

	reg, err := client.RegisterTaskManager(ctx, "tm-1", "10.0.0.5:6121", 4, "worker-5", "10.0.0.5:6122")
	if err != nil {
		t.Fatal(err)
	}
	if want := "reg-tm-1-10.0.0.5:6121-worker-5-10.0.0.5:6122"; reg.RegistrationId != want {
		t.Errorf("registration id = %q, want %q", reg.RegistrationId, want)
	}

	jobID := "a3f5c0de00000000000000000000beef"
	slots := &wire.SlotReport{Slots: []*wire.SlotStatus{
		{Slot: 0, AllocationId: thrift.StringPtr("alloc-7"), JobId: &jobID},
		{Slot: 1},
	}}
	metrics := bytes.Repeat([]byte{0, 1, 2, 0xff}, 1000)
	if err := client.Heartbeat(ctx, "tm-1", reg.RegistrationId, slots, metrics); err != nil {
		t.Fatal(err)
	}
	rm.mu.Lock()
	got := rm.heartbeats
	rm.mu.Unlock()
	want := []heartbeatCall{{"tm-1", reg.RegistrationId, slots, metrics}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("heartbeats = %+v, want %+v", got, want)
	}

	// A declared exception comes back as itself; the connection goes on.
	_, err = client.RegisterTaskManager(ctx, "tm-1", "elsewhere:1", 4, "other", "elsewhere:2")
	var rejected *wire.RegistrationRejected
	if !errors.As(err, &rejected) || rejected.Reason != "task manager tm-1 is already registered" {
		t.Fatalf("second registration: %v, want RegistrationRejected", err)
	}
	err = client.Heartbeat(ctx, "tm-2", "reg-unknown", slots, nil)
	var unknown *wire.UnknownTaskManager
	if !errors.As(err, &unknown) || unknown.TaskManagerId != "tm-2" {
		t.Fatalf("heartbeat of an unknown task manager: %v, want UnknownTaskManager", err)
	}

	// An undeclared error is an INTERNAL_ERROR application exception; the
	// connection still goes on.
	err = client.Heartbeat(ctx, "boom", "", slots, nil)
	var tae thrift.TApplicationException
	if !errors.As(err, &tae) || tae.TypeId() != thrift.INTERNAL_ERROR ||
		tae.Error() != "Internal error processing heartbeat: metrics decoder exploded" {
		t.Fatalf("handler error: %v, want INTERNAL_ERROR with the handler's message", err)
	}
	if err := client.Heartbeat(ctx, "tm-1", reg.RegistrationId, slots, nil); err != nil {
		t.Fatalf("call after the errors: %v", err)
	}
}

// fakeTaskExecutor records the calls it gets, as strings of their arguments.
type fakeTaskExecutor struct {
	mu    sync.Mutex
	calls []any
}

type triggerCall struct {
	Attempt      wire.ExecutionAttemptID
	CheckpointID int64
	TimestampMs  int64
	Kind         wire.CheckpointKind
	Drain        bool
}

func (te *fakeTaskExecutor) record(c any) error {
	te.mu.Lock()
	defer te.mu.Unlock()
	te.calls = append(te.calls, c)
	return nil
}

func (te *fakeTaskExecutor) SubmitTask(_ context.Context, a *wire.ExecutionAttemptID, tdd []byte) error {
	if len(tdd) == 0 {
		return &wire.TaskRejected{Reason: "empty deployment descriptor"}
	}
	return te.record([]any{*a, tdd})
}
func (te *fakeTaskExecutor) CancelTask(_ context.Context, a *wire.ExecutionAttemptID, cause string) error {
	return te.record([]any{*a, cause})
}
func (te *fakeTaskExecutor) TriggerCheckpoint(_ context.Context, a *wire.ExecutionAttemptID, id, ts int64, kind wire.CheckpointKind, drain bool) (bool, error) {
	return id%2 == 0, te.record(triggerCall{*a, id, ts, kind, drain})
}
func (te *fakeTaskExecutor) SetCheckpointDirectory(_ context.Context, job string, id int64, dir string) error {
	return te.record([]any{job, id, dir})
}
func (te *fakeTaskExecutor) TaskMetrics(_ context.Context, a *wire.ExecutionAttemptID) ([]byte, error) {
	return []byte(`{"operators":{}}`), te.record(*a)
}
func (te *fakeTaskExecutor) HeartbeatFromJobMaster(_ context.Context, job string) error {
	return te.record("heartbeat " + job)
}
func (te *fakeTaskExecutor) ReleaseAttempt(_ context.Context, job string, attempt int32) error {
	return te.record([]any{job, attempt})
}
func (te *fakeTaskExecutor) NotifyCheckpointComplete(_ context.Context, a *wire.ExecutionAttemptID, id int64) error {
	return te.record([]any{*a, id})
}
func (te *fakeTaskExecutor) CommitAtJobEnd(_ context.Context, a *wire.ExecutionAttemptID) error {
	return te.record(*a)
}

// TestRPCTaskExecutor: every call reaches the TaskManager with the attempt it
// names, exactly.
func TestRPCTaskExecutor(t *testing.T) {
	te := &fakeTaskExecutor{}
	l, _ := listen(t, testSecret(t, 1), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ServeRPC(ctx, l, wire.NewTaskExecutorGatewayProcessor(te))
	c, err := Dial(testCtx(t), l.Addr().String(), testSecret(t, 1), Options{})
	if err != nil {
		t.Fatal(err)
	}
	rc := NewRPCClient(c)
	defer rc.Close()
	client := wire.NewTaskExecutorGatewayClient(rc)

	a := wire.ExecutionAttemptID{JobId: "a3f5c0de00000000000000000000beef", Attempt: 2, Vertex: 3, Subtask: 7}
	call := testCtx(t)
	if err := client.SubmitTask(call, &a, []byte("tdd")); err != nil {
		t.Fatal(err)
	}
	var rejected *wire.TaskRejected
	if err := client.SubmitTask(call, &a, nil); !errors.As(err, &rejected) {
		t.Fatalf("SubmitTask without a descriptor: %v, want TaskRejected", err)
	}
	if ok, err := client.TriggerCheckpoint(call, &a, 42, 1700000000123, wire.CheckpointKind_STOP_WITH_SAVEPOINT, true); err != nil || !ok {
		t.Fatalf("TriggerCheckpoint = %v, %v", ok, err)
	}
	if err := client.SetCheckpointDirectory(call, a.JobId, 43, "/sp/savepoint-a3f5c0-1"); err != nil {
		t.Fatal(err)
	}
	if m, err := client.TaskMetrics(call, &a); err != nil || string(m) != `{"operators":{}}` {
		t.Fatalf("TaskMetrics = %q, %v", m, err)
	}
	if err := client.ReleaseAttempt(call, a.JobId, 2); err != nil {
		t.Fatal(err)
	}
	if err := client.NotifyCheckpointComplete(call, &a, 42); err != nil {
		t.Fatal(err)
	}
	if err := client.CommitAtJobEnd(call, &a); err != nil {
		t.Fatal(err)
	}
	if err := client.CancelTask(call, &a, "job failover"); err != nil {
		t.Fatal(err)
	}
	want := []any{
		[]any{a, []byte("tdd")},
		triggerCall{a, 42, 1700000000123, wire.CheckpointKind_STOP_WITH_SAVEPOINT, true},
		[]any{a.JobId, int64(43), "/sp/savepoint-a3f5c0-1"},
		a,
		[]any{a.JobId, int32(2)},
		[]any{a, int64(42)},
		a,
		[]any{a, "job failover"},
	}
	te.mu.Lock()
	defer te.mu.Unlock()
	if !reflect.DeepEqual(te.calls, want) {
		t.Errorf("calls = %#v\nwant %#v", te.calls, want)
	}
}

// TestRPCBadFrames: an oversized or truncated frame from one client closes that
// connection only, with a log line naming the client and the sizes.
func TestRPCBadFrames(t *testing.T) {
	const max = 4096
	_, l, logs := serveRM(t, Options{MaxFrameSize: max})
	good, _ := rmClient(t, l, Options{MaxFrameSize: max})
	ctx := testCtx(t)
	if _, err := good.RegisterTaskManager(ctx, "tm-1", "d", 1, "h", "r"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		send  []byte
		logs  string
		close bool // half-close after sending
	}{
		{name: "oversized", send: []byte{0, 0, 0x10, 0x01}, logs: "declares 4097 bytes, above the limit of 4096 bytes: frame too large"},
		{name: "4 GiB", send: []byte{0xff, 0xff, 0xff, 0xff}, logs: "declares 4294967295 bytes, above the limit of 4096 bytes"},
		{name: "truncated", send: append([]byte{0, 0, 0, 100}, "0123456789"...), close: true,
			logs: "stream ended after 10 of 100 declared bytes (unexpected EOF): truncated frame"},
		{name: "not thrift", send: frameBytes("hello, world"), logs: "rpc connection ended"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad, err := Dial(ctx, l.Addr().String(), testSecret(t, 1), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer bad.Close()
			bad.SetDeadline(time.Now().Add(testTimeout))
			if _, err := bad.Write(tt.send); err != nil {
				t.Fatal(err)
			}
			if tt.close {
				bad.Conn.(*net.TCPConn).CloseWrite()
			}
			// The server answers nothing (or an exception for the non-thrift frame), then hangs up.
			io.Copy(io.Discard, bad)
			remote := `"remote":"` + bad.LocalAddr().String() + `"`
			logs.waitLine(t, remote, "rpc connection ended", tt.logs)

			// The other connection is not affected.
			if _, err := good.RegisterTaskManager(ctx, "tm-after-"+string(rune('a'+i)), "d", 1, "h", "r"); err != nil {
				t.Fatalf("good client after %s: %v", tt.name, err)
			}
		})
	}
}

// TestRPCClientDeadline: a call ends by its context; the connection, whose
// stream position is lost, is closed and later calls say so.
func TestRPCClientDeadline(t *testing.T) {
	_, l, _ := serveRM(t, Options{})
	client, _ := rmClient(t, l, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := client.Heartbeat(ctx, "slow", "", &wire.SlotReport{}, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("call past its deadline: %v, want context.DeadlineExceeded", err)
	}
	err = client.Heartbeat(testCtx(t), "tm-1", "", &wire.SlotReport{}, nil)
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("call after a timed-out call: %v, want ErrClosed", err)
	}
}

// TestRPCClientRefusesOversizedRequest: a request the server would refuse is not sent.
func TestRPCClientRefusesOversizedRequest(t *testing.T) {
	rm, l, _ := serveRM(t, Options{})
	client, _ := rmClient(t, l, Options{MaxFrameSize: 1024})
	err := client.Heartbeat(testCtx(t), "tm-1", "", &wire.SlotReport{}, make([]byte, 2048))
	if !errors.Is(err, ErrFrameTooLarge) || !strings.Contains(err.Error(), "above the frame limit of 1024 bytes") {
		t.Fatalf("oversized request: %v, want ErrFrameTooLarge", err)
	}
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if len(rm.heartbeats) != 0 {
		t.Errorf("the server got %d heartbeats", len(rm.heartbeats))
	}
}

// TestRPCConcurrentCalls: one RPCClient, many goroutines, every answer to its
// caller. Each goroutine wraps the RPCClient in a generated client of its own:
// the generated clients record the last response without a lock.
func TestRPCConcurrentCalls(t *testing.T) {
	_, l, _ := serveRM(t, Options{})
	_, rc := rmClient(t, l, Options{})
	ctx := testCtx(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tm := "tm-" + string(rune('a'+i))
			client := wire.NewResourceManagerGatewayClient(rc)
			reg, err := client.RegisterTaskManager(ctx, tm, "d", 1, "h", "r")
			if err == nil && reg.RegistrationId != "reg-"+tm+"-d-h-r" {
				err = errors.New("answer for another call: " + reg.RegistrationId)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
