// Package jobmanager is the JobManager process's shell: it serves the
// ResourceManagerGateway that TaskManagers register with and heartbeat to,
// and the JobMasterGateway their tasks report to, drives the
// ResourceManager core (master/resource.Manager) with the clock, and hands a
// JobMaster the slots and TaskManagerGateways of the registered TaskManagers.
//
// It serves application mode, where the job binary started with
// SPATE_ROLE=jobmanager runs its one job on the TaskManagers that register
// (the same binary started with SPATE_ROLE=taskmanager), and session mode
// (Config.Session, see Session): the generic `spate jobmanager` runs the jobs
// submitted through the Dispatcher on generic TaskManagers, in child
// processes of each job's own binary.
//
//	TaskManager ──registerTaskManager(id, data, slots, rpc)──▶ ResourceManager core
//	            ◀── registrationId, JobMaster address ───────┘ (dials the TaskExecutor)
//	            ──heartbeat every heartbeat.interval───────▶ lost after heartbeat.timeout
//	JobMaster   ──AwaitSlots(n)──▶ SlotsAllocated ──▶ Deploy over TaskExecutorClients
//
// # What this package must never do
//
// It makes no scheduling or restart decision (the core and the JobMaster
// do) and runs no user code.
package jobmanager

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/master/jobmaster"
	"github.com/spate-io/spate/master/resource"
	"github.com/spate-io/spate/worker/metrics"
	"github.com/spate-io/spate/worker/rpc"
	"github.com/spate-io/spate/worker/task"
	"github.com/spate-io/spate/worker/transport"
	"github.com/spate-io/spate/worker/transport/gen/wire"
)

// Config configures a JobManager.
type Config struct {
	// Address is host:port of the ResourceManager's RPC endpoint
	// (jobmanager.rpc.address, jobmanager.rpc.port); the JobMasterGateway
	// listens on the same host, on a port the system picks.
	Address          string
	Auth             transport.Authenticator
	HeartbeatTimeout time.Duration
	// SlotRequestTimeout bounds AwaitSlots.
	SlotRequestTimeout time.Duration
	// Session: the TaskManagers are generic (spate taskmanager) and serve
	// the TaskManagerGateway; each job's tasks run in a child process of
	// the job's binary that they start (see Session). Otherwise they are
	// processes of the job's own binary (application mode) and serve its
	// TaskExecutorGateway themselves.
	Session bool
	// Driver, when set, starts TaskManagers when the core asks for more
	// (YARN application mode); without one they register by themselves.
	Driver Driver
	Log    zerolog.Logger
}

// Driver is an active ResourceManager driver: it starts TaskManager
// processes (YARN containers) that then register. Its methods are called
// without the JobManager's lock held and must not block.
type Driver interface {
	// StartTaskManagers: the pending slot requests need slots more slots
	// than the registered TaskManagers have free.
	StartTaskManagers(slots int)
	// TaskManagerRegistered: the TaskManager named name registered.
	TaskManagerRegistered(name string)
}

// JobManager is a running JobManager shell.
type JobManager struct {
	cfg    Config
	jms    *rpc.JobMasterServer
	rmLn   *transport.Listener
	jmLn   *transport.Listener
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	rm       *resource.Manager
	gateways []jobmaster.TaskManagerGateway // by TaskManager number; nil once lost
	clients  []*rpc.TaskExecutorClient
	// session mode: the TaskManagers' TaskManagerGateway, by number
	sessionTMs []*sessionTM
	waiting    map[int64]chan resource.Command
	jobs       map[string]*jobmaster.Job
}

// Start listens and serves until Close.
func Start(cfg Config) (*JobManager, error) {
	rmLn, err := transport.Listen(cfg.Address, cfg.Auth, transport.Options{Log: cfg.Log})
	if err != nil {
		return nil, fmt.Errorf("jobmanager: listen on %s (jobmanager.rpc.address, jobmanager.rpc.port): %w", cfg.Address, err)
	}
	host := cfg.Address[:strings.LastIndexByte(cfg.Address, ':')]
	jmLn, err := transport.Listen(host+":0", cfg.Auth, transport.Options{Log: cfg.Log})
	if err != nil {
		rmLn.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &JobManager{cfg: cfg, jms: rpc.NewJobMasterServer(), rmLn: rmLn, jmLn: jmLn, cancel: cancel, done: make(chan struct{}),
		rm:      resource.NewManager(resource.ManagerConfig{HeartbeatTimeout: cfg.HeartbeatTimeout, SlotRequestTimeout: cfg.SlotRequestTimeout}),
		waiting: map[int64]chan resource.Command{}, jobs: map[string]*jobmaster.Job{}}
	go transport.ServeRPC(ctx, rmLn, wire.NewResourceManagerGatewayProcessor(resourceManager{m}))
	go transport.ServeRPC(ctx, jmLn, m.jms.Processor())
	go m.tick(ctx)
	return m, nil
}

// Addr is the ResourceManager's address.
func (m *JobManager) Addr() string { return m.rmLn.Addr().String() }

// Close stops serving and closes the connections to the TaskManagers, which
// end when they notice.
func (m *JobManager) Close() {
	m.cancel()
	m.mu.Lock()
	clients, tms := m.clients, m.sessionTMs
	m.clients, m.sessionTMs = nil, nil
	m.mu.Unlock()
	for _, c := range clients {
		c.Close()
	}
	for _, tm := range tms {
		if tm != nil {
			tm.rc.Close()
		}
	}
}

// tick drives the core's timeouts, five times a second.
func (m *JobManager) tick(ctx context.Context) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			m.mu.Lock()
			cmds := m.rm.Tick(now)
			m.mu.Unlock()
			m.exec(cmds)
		}
	}
}

// exec carries out the core's commands.
func (m *JobManager) exec(cmds []resource.Command) {
	for _, c := range cmds {
		switch c := c.(type) {
		case resource.SlotsAllocated:
			m.answer(c.Request, c)
		case resource.SlotRequestFailed:
			m.answer(c.Request, c)
		case resource.TaskManagerLost:
			m.cfg.Log.Warn().Str("taskmanager", c.Name).Str("reason", c.Reason).Strs("jobs", c.Jobs).Msg("TaskManager lost")
			m.mu.Lock()
			if c.TaskManager < len(m.gateways) {
				m.gateways[c.TaskManager] = failedGateway{errLost}
			}
			if c.TaskManager < len(m.sessionTMs) && m.sessionTMs[c.TaskManager] != nil {
				m.sessionTMs[c.TaskManager].lost = true
				m.sessionTMs[c.TaskManager].rc.Close()
			}
			var jobs []*jobmaster.Job
			for _, id := range c.Jobs {
				if j := m.jobs[id]; j != nil {
					jobs = append(jobs, j)
				}
			}
			m.mu.Unlock()
			for _, j := range jobs {
				j.TaskManagerLost(c.TaskManager, fmt.Sprintf("TaskManager %s lost: %s", c.Name, c.Reason))
			}
		case resource.StartTaskManagers:
			m.cfg.Log.Info().Int("slots", c.Slots).Msg("waiting for TaskManagers to register")
			if m.cfg.Driver != nil {
				m.cfg.Driver.StartTaskManagers(c.Slots)
			}
		}
	}
}

func (m *JobManager) answer(req int64, c resource.Command) {
	m.mu.Lock()
	ch := m.waiting[req]
	delete(m.waiting, req)
	m.mu.Unlock()
	if ch != nil {
		ch <- c
	}
}

// AwaitSlots waits until n slots are allocated to job, or the request fails
// (slot.request.timeout) or ctx ends.
func (m *JobManager) AwaitSlots(ctx context.Context, job string, n int) ([]resource.SlotID, error) {
	ch := make(chan resource.Command, 1)
	m.mu.Lock()
	req, cmds := m.rm.RequestSlots(time.Now(), job, n, true)
	m.waiting[req] = ch
	m.mu.Unlock()
	m.exec(cmds)
	select {
	case c := <-ch:
		switch c := c.(type) {
		case resource.SlotsAllocated:
			return c.Slots, nil
		case resource.SlotRequestFailed:
			return nil, fmt.Errorf("%w: %s", resource.ErrNotEnoughSlots, c.Reason)
		}
		return nil, fmt.Errorf("slot request: unexpected %T", c)
	case <-ctx.Done():
		m.mu.Lock()
		delete(m.waiting, req)
		m.mu.Unlock()
		m.ReleaseSlots(job)
		return nil, ctx.Err()
	}
}

// Slots is the jobmaster.SlotAllocator of the registered TaskManagers: an
// allocation waits for their slots (AwaitSlots).
func (m *JobManager) Slots() jobmaster.SlotAllocator { return allocator{m} }

type allocator struct{ m *JobManager }

func (a allocator) Allocate(job string, n int) ([]resource.SlotID, error) {
	return a.m.AwaitSlots(context.Background(), job, n)
}

func (a allocator) Release(job string) { a.m.ReleaseSlots(job) }

// Gateway is the gateway of TaskManager number tm (jobmaster.Options.Gateway):
// nil for one never registered, a gateway whose calls fail for a lost one.
func (m *JobManager) Gateway(tm int) jobmaster.TaskManagerGateway {
	m.mu.Lock()
	defer m.mu.Unlock()
	if tm < 0 || tm >= len(m.gateways) {
		return nil
	}
	return m.gateways[tm]
}

// ReleaseSlots gives job's slots back to the core.
func (m *JobManager) ReleaseSlots(job string) {
	m.mu.Lock()
	cmds := m.rm.ReleaseSlots(job)
	m.mu.Unlock()
	m.exec(cmds)
}

// Serve makes the TaskManagers' reports about job reach it, and a lost
// TaskManager fail it over; for jobmaster.Options.Registered.
func (m *JobManager) Serve(j *jobmaster.Job) {
	m.mu.Lock()
	m.jobs[j.ID] = j
	m.mu.Unlock()
	m.jms.Serve(j.ID, rpc.ServedJob{Gateway: j})
}

// sessionTM is a session TaskManager: its TaskManagerGateway.
type sessionTM struct {
	name, rpcAddr string
	rc            *transport.RPCClient
	lost          bool
	report        []byte // the last heartbeat's payload (worker/metrics Report)
}

// sessionTaskManager returns the TaskManagerGateway connection and name of
// session TaskManager tm, and whether it was lost; rc is nil for one never
// registered.
func (m *JobManager) sessionTaskManager(tm int) (rc *transport.RPCClient, name string, lost bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if tm < 0 || tm >= len(m.sessionTMs) || m.sessionTMs[tm] == nil {
		return nil, "", false
	}
	t := m.sessionTMs[tm]
	return t.rc, t.name, t.lost
}

// taskManagers lists the live TaskManagers.
func (m *JobManager) taskManagers() []resource.TaskManagerInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rm.TaskManagers()
}

// taskManagerAddr is the RPC address TaskManager tm registered.
func (m *JobManager) taskManagerAddr(tm int) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if tm < len(m.sessionTMs) && m.sessionTMs[tm] != nil {
		return m.sessionTMs[tm].rpcAddr
	}
	return ""
}

// loseTaskManager declares TaskManager tm lost at once, as a heartbeat
// timeout would later: its slots go, and its jobs fail over.
func (m *JobManager) loseTaskManager(tm int, reason string) {
	m.mu.Lock()
	cmds := m.rm.UnregisterTaskManager(time.Now(), tm, reason)
	m.mu.Unlock()
	m.exec(cmds)
}

// LoseTaskManager declares the TaskManager named name lost at once (its
// YARN container completed), so that its jobs fail over without waiting for
// heartbeat.timeout; an unknown name is ignored.
func (m *JobManager) LoseTaskManager(name, reason string) {
	m.mu.Lock()
	n := -1
	for _, info := range m.rm.TaskManagers() {
		if info.Name == name {
			n = info.ID
		}
	}
	m.mu.Unlock()
	if n >= 0 {
		m.loseTaskManager(n, reason)
	}
}

// JobMasterAddr is where the JobMasterGateway listens.
func (m *JobManager) JobMasterAddr() string { return m.jmLn.Addr().String() }

// forget stops serving an ended job's reports.
func (m *JobManager) forget(job string) {
	m.mu.Lock()
	delete(m.jobs, job)
	m.mu.Unlock()
	m.jms.Forget(job)
}

// resourceManager serves the ResourceManagerGateway.
type resourceManager struct{ m *JobManager }

func (r resourceManager) RegisterTaskManager(ctx context.Context, tm, dataAddr string, slots int32, hostname, rpcAddr string) (*wire.RegistrationSuccess, error) {
	m := r.m
	if slots < 1 {
		return nil, &wire.RegistrationRejected{Reason: fmt.Sprintf("TaskManager %s offers %d slots: set taskmanager.numberOfTaskSlots to at least 1", tm, slots)}
	}
	c, err := transport.Dial(ctx, rpcAddr, m.cfg.Auth, transport.Options{})
	if err != nil {
		return nil, &wire.RegistrationRejected{Reason: fmt.Sprintf("the JobManager cannot reach TaskManager %s at %s: %v", tm, rpcAddr, err)}
	}
	m.mu.Lock()
	n, cmds := m.rm.RegisterTaskManager(time.Now(), tm, int(slots))
	for len(m.gateways) <= n {
		m.gateways = append(m.gateways, nil)
		m.sessionTMs = append(m.sessionTMs, nil)
	}
	if m.cfg.Session {
		m.sessionTMs[n] = &sessionTM{name: tm, rpcAddr: rpcAddr, rc: transport.NewRPCClient(c)}
	} else {
		gw := rpc.NewTaskExecutorClient(c, dataAddr, nil, m.cfg.Log.With().Str("taskmanager", tm).Logger())
		m.gateways[n] = gw
		m.clients = append(m.clients, gw)
	}
	m.mu.Unlock()
	m.cfg.Log.Info().Str("taskmanager", tm).Str("host", hostname).Int32("slots", slots).Int("number", n).Msg("TaskManager registered")
	if m.cfg.Driver != nil {
		m.cfg.Driver.TaskManagerRegistered(tm)
	}
	m.exec(cmds)
	addr := m.JobMasterAddr()
	return &wire.RegistrationSuccess{RegistrationId: strconv.Itoa(n), JobMasterAddress: &addr}, nil
}

func (r resourceManager) Heartbeat(_ context.Context, tm, registration string, _ *wire.SlotReport, report []byte) error {
	n, err := strconv.Atoi(registration)
	m := r.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil || !m.known(n, tm) {
		return &wire.UnknownTaskManager{TaskManagerId: tm}
	}
	m.rm.Heartbeat(time.Now(), n)
	if n < len(m.sessionTMs) && m.sessionTMs[n] != nil && len(report) <= metrics.MaxReportBytes {
		m.sessionTMs[n].report = report // decoded when read: heartbeats are frequent, reads rare
	}
	return nil
}

// taskManagerReport is what session TaskManager tm last reported of its own
// process and log; false when it reported nothing readable.
func (m *JobManager) taskManagerReport(tm int) (metrics.Report, bool) {
	m.mu.Lock()
	var b []byte
	if tm >= 0 && tm < len(m.sessionTMs) && m.sessionTMs[tm] != nil {
		b = m.sessionTMs[tm].report
	}
	m.mu.Unlock()
	r, err := metrics.DecodeReport(b)
	return r, err == nil && len(b) > 0
}

// known reports whether TaskManager number n is tm and alive.
func (m *JobManager) known(n int, tm string) bool {
	for _, info := range m.rm.TaskManagers() {
		if info.ID == n {
			return info.Name == tm
		}
	}
	return false
}

// errLost is the error of every call to a lost TaskManager.
var errLost = errors.New("the TaskManager is lost")

// failedGateway stands for a TaskManager that is gone, or a job process
// that could not be started: every call fails with err or does nothing.
type failedGateway struct{ err error }

var _ jobmaster.TaskManagerGateway = failedGateway{}

func (g failedGateway) RegisterJob(task.JobRegistration) error         { return g.err }
func (failedGateway) UnregisterJob(string)                             {}
func (g failedGateway) SubmitTask(task.TaskDeploymentDescriptor) error { return g.err }
func (failedGateway) CancelTask(task.ExecutionAttemptID, error)        {}
func (failedGateway) TriggerCheckpoint(task.ExecutionAttemptID, int64, int64, bool, bool, bool) bool {
	return false
}
func (failedGateway) NotifyCheckpointComplete(task.ExecutionAttemptID, int64) {}
func (g failedGateway) CommitAtJobEnd(task.ExecutionAttemptID) error          { return g.err }
func (failedGateway) TaskMetrics(task.ExecutionAttemptID) task.TaskMetrics {
	return task.TaskMetrics{}
}
func (failedGateway) ReleaseAttempt(string, int) {}
func (failedGateway) DataAddress() string        { return "" }
