package jobmanager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/master/checkpoint"
	"github.com/spate-io/spate/master/dispatcher"
	"github.com/spate-io/spate/master/jobmaster"
	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/worker/rpc"
	"github.com/spate-io/spate/worker/transport"
	"github.com/spate-io/spate/worker/transport/gen/wire"
)

// Session is a session cluster's JobManager: the jobs submitted through the
// Dispatcher (it implements dispatcher.Cluster) run on the TaskManagers that
// registered, each subtask inside a child process of the job's own binary
// that the TaskManager starts (startJob). The JobManager runs no user code:
// it rebuilds each job's graph from its plan (graph.FromPlan) and deploys it
// with the configuration the job was submitted with.
//
//	spate submit ──POST /jobs (binary, arguments, plan + config)──▶ Submit
//	JobMaster ──Gateway(tm)──▶ startJob(binary, sha256, …) on TaskManager tm
//	          ◀── the child's TaskExecutorGateway and data plane addresses
//	          ──heartbeatFromJobMaster every heartbeat.interval──▶ child
//
// A child that dies (or stops answering within heartbeat.timeout) counts as a
// TaskManager lost to its job: the job fails over, and its next attempt
// starts a new child.
type Session struct {
	m   *JobManager
	cfg SessionConfig

	mu   sync.Mutex
	jobs map[string]*sessionJob
}

// SessionConfig configures a Session.
type SessionConfig struct {
	// BlobDir keeps the submitted job binaries, by SHA-256.
	BlobDir string
	// Config is the JobManager's configuration, for /jobmanager/config.
	Config            *conf.Config
	HeartbeatInterval time.Duration
	HeartbeatTimeout  time.Duration
	Log               zerolog.Logger
}

var _ dispatcher.Cluster = (*Session)(nil)

// NewSession serves jobs on m. A JobManager started without Config.Session
// (application mode) takes no submissions: it serves the REST API of the one
// job its binary runs, which Adopt hands it.
func NewSession(m *JobManager, cfg SessionConfig) (*Session, error) {
	if m.cfg.Session {
		if err := os.MkdirAll(cfg.BlobDir, 0o700); err != nil {
			return nil, fmt.Errorf("jobmanager: the job binaries' directory (web.upload.dir): %w", err)
		}
	}
	return &Session{m: m, cfg: cfg, jobs: map[string]*sessionJob{}}, nil
}

// Adopt serves the REST API of a job this process deployed itself (the job
// binary as the application's JobManager), configured with cfg.
func (s *Session) Adopt(j *jobmaster.Job, g *graph.JobGraph, cfg *conf.Config) {
	sj := &sessionJob{s: s, id: j.ID, name: g.Name, graph: g, plan: g.Plan().JSON(), log: s.cfg.Log.With().Str("job", j.ID).Logger(),
		submitted: time.Now(), procs: map[int]*jobProc{}, ops: map[string]*savepointOp{}, job: j, deployed: true,
		checkpoints: conf.CheckpointingInterval.Get(cfg) > 0, savepoints: conf.SavepointDirectory.Get(cfg)}
	s.mu.Lock()
	s.jobs[j.ID] = sj
	s.mu.Unlock()
	go func() {
		r, err := j.Wait()
		sj.mu.Lock()
		sj.result, sj.err, sj.ended = r, err, time.Now()
		sj.mu.Unlock()
	}()
}

// sessionJob is one submitted job.
type sessionJob struct {
	s           *Session
	id, name    string
	graph       *graph.JobGraph
	plan        json.RawMessage
	binary      string // path in BlobDir
	sha         string
	args        []string
	properties  string
	checkpoints bool
	savepoints  string // state.savepoints.dir
	log         zerolog.Logger
	submitted   time.Time

	mu       sync.Mutex
	job      *jobmaster.Job // nil until Deploy registered it
	deployed bool
	ended    time.Time
	err      error // Deploy's or the job's
	result   *jobmaster.Result
	procs    map[int]*jobProc
	ops      map[string]*savepointOp
	stopping bool         // cancelled (before Deploy registered the job, too)
	clock    attemptClock // session_metrics.go
}

// jobProc is the job's child process on one TaskManager.
type jobProc struct {
	tm     int
	client *rpc.TaskExecutorClient
	dead   atomic.Bool
}

type savepointOp struct {
	done     bool
	location string
	err      error
}

// Submit implements dispatcher.Cluster.
func (s *Session) Submit(_ context.Context, sub dispatcher.Submission) (string, error) {
	if !s.m.cfg.Session {
		return "", fmt.Errorf("%w: this JobManager runs one application's job; submit jobs to a session cluster (spate jobmanager)", dispatcher.ErrConflict)
	}
	// startJob carries the binary in one control-plane frame.
	if limit := int64(transport.DefaultControlMaxFrame - 1<<20); sub.BinarySize > limit {
		return "", fmt.Errorf("%w: the job binary has %d bytes, more than the %d a TaskManager can be sent: build it smaller (go build -ldflags='-s -w' drops the symbol tables)",
			dispatcher.ErrInvalidRequest, sub.BinarySize, limit)
	}
	var p graph.Plan
	if err := json.Unmarshal(sub.Plan, &p); err != nil {
		return "", fmt.Errorf("%w: the plan: %v", dispatcher.ErrInvalidRequest, err)
	}
	g, err := graph.FromPlan(p)
	if err != nil {
		return "", fmt.Errorf("%w: %v", dispatcher.ErrInvalidRequest, err)
	}
	cfg := conf.New()
	keys := make([]string, 0, len(p.Config))
	for k := range p.Config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := cfg.Set(k, p.Config[k]); err != nil {
			return "", fmt.Errorf("%w: the job's configuration: %v", dispatcher.ErrInvalidRequest, err)
		}
	}
	id := jobmaster.NewJobID()
	log := s.cfg.Log.With().Str("job", id).Logger()
	path := filepath.Join(s.cfg.BlobDir, sub.BinarySHA256)
	if err := copyFile(sub.BinaryPath, path); err != nil {
		return "", fmt.Errorf("keep the job binary: %w", err)
	}
	sj := &sessionJob{s: s, id: id, name: p.Job, graph: g, plan: sub.Plan, binary: path, sha: sub.BinarySHA256, args: sub.Arguments,
		properties: conf.EncodeProperties(cfg), log: log, submitted: time.Now(), procs: map[int]*jobProc{}, ops: map[string]*savepointOp{},
		checkpoints: conf.CheckpointingInterval.Get(cfg) > 0, savepoints: conf.SavepointDirectory.Get(cfg)}
	opts := jobmaster.Options{JobID: id, Slots: s.m.Slots(), Gateway: sj.gateway, Log: log,
		Registered: func(j *jobmaster.Job) {
			sj.mu.Lock()
			sj.job = j
			cancel := sj.stopping
			sj.mu.Unlock()
			s.m.Serve(j)
			if cancel { // cancelled while it waited for slots
				j.Cancel()
			}
		}}
	if err := jobmaster.Configure(&opts, cfg, g, log); err != nil {
		return "", fmt.Errorf("%w: %v", dispatcher.ErrInvalidRequest, err)
	}
	s.mu.Lock()
	s.jobs[id] = sj
	s.mu.Unlock()
	log.Info().Str("name", p.Job).Str("sha256", sub.BinarySHA256).Strs("args", sub.Arguments).Msg("job submitted")
	go sj.run(opts)
	return id, nil
}

// run deploys the job, waits for its end and stops its processes.
func (sj *sessionJob) run(opts jobmaster.Options) {
	j, err := jobmaster.Deploy(context.Background(), sj.graph, opts)
	sj.mu.Lock()
	sj.deployed = true
	if err != nil {
		sj.err, sj.ended = err, time.Now()
	}
	sj.mu.Unlock()
	var r *jobmaster.Result
	if err == nil {
		r, err = j.Wait()
	}
	sj.mu.Lock()
	sj.result, sj.err, sj.ended = r, err, time.Now()
	procs := sj.procs
	sj.procs = map[int]*jobProc{}
	sj.mu.Unlock()
	for _, p := range procs {
		p.dead.Store(true)
		sj.stopProcess(p.tm)
		p.client.Close()
	}
	sj.s.m.forget(sj.id)
	if err != nil {
		sj.log.Warn().Err(err).Msg("job ended")
	} else {
		sj.log.Info().Msg("job finished")
	}
}

// gateway is the job's jobmaster.Options.Gateway: the child process on
// TaskManager tm, started on first use and after it died.
func (sj *sessionJob) gateway(tm int) jobmaster.TaskManagerGateway {
	sj.mu.Lock()
	defer sj.mu.Unlock() // one start at a time per job
	if p := sj.procs[tm]; p != nil && !p.dead.Load() {
		return p.client
	}
	rc, name, lost := sj.s.m.sessionTaskManager(tm)
	switch {
	case lost:
		return failedGateway{errLost}
	case rc == nil:
		return nil
	}
	p, err := sj.startProcess(tm, rc, name)
	if err != nil {
		sj.log.Warn().Err(err).Str("taskmanager", name).Msg("could not start the job's process")
		return failedGateway{err}
	}
	sj.procs[tm] = p
	go sj.watch(p, name)
	return p.client
}

// startProcess has TaskManager tm start the job's child and connects to it.
func (sj *sessionJob) startProcess(tm int, rc *transport.RPCClient, name string) (*jobProc, error) {
	binary, err := os.ReadFile(sj.binary)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ep, err := wire.NewTaskManagerGatewayClient(rc).StartJob(ctx, sj.id, binary, sj.sha, sj.args, sj.properties, sj.graph.Fingerprint(), sj.s.m.JobMasterAddr())
	if err != nil {
		var rej *wire.TaskRejected
		if errors.As(err, &rej) {
			return nil, fmt.Errorf("TaskManager %s: %w", name, &rpc.RemoteError{Message: rej.Reason, Class: rej.GetErrorClass()})
		}
		sj.s.m.loseTaskManager(tm, fmt.Sprintf("it does not answer startJob (%v)", err))
		return nil, fmt.Errorf("TaskManager %s: start the job's process: %w", name, err)
	}
	c, err := transport.Dial(ctx, ep.RpcAddress, sj.s.m.cfg.Auth, transport.Options{})
	if err != nil {
		return nil, fmt.Errorf("TaskManager %s: the job's process at %s: %w", name, ep.RpcAddress, err)
	}
	log := sj.log.With().Str("taskmanager", name).Logger()
	return &jobProc{tm: tm, client: rpc.NewTaskExecutorClient(c, ep.DataAddress, nil, log)}, nil
}

// watch heartbeats the child until it fails to answer, then fails the job
// over as for a lost TaskManager.
func (sj *sessionJob) watch(p *jobProc, name string) {
	every := max(sj.s.cfg.HeartbeatInterval, 10*time.Millisecond)
	timeout := max(sj.s.cfg.HeartbeatTimeout, every)
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		if p.dead.Load() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		err := p.client.Heartbeat(ctx, sj.id)
		cancel()
		if err == nil {
			continue
		}
		if p.dead.Swap(true) {
			return // the job ended meanwhile
		}
		p.client.Close()
		reason := fmt.Sprintf("the process of job %s on TaskManager %s is gone (%v)", sj.id, name, err)
		sj.log.Warn().Str("taskmanager", name).Err(err).Msg("job process lost")
		// Is the TaskManager gone too? Then the ResourceManager must not
		// hand its slots to the restart.
		if serr := sj.stopProcess(p.tm); serr != nil {
			sj.s.m.loseTaskManager(p.tm, fmt.Sprintf("it does not answer (%v) and its job process is gone", serr))
		}
		sj.mu.Lock()
		j := sj.job
		sj.mu.Unlock()
		if j != nil {
			j.TaskManagerLost(p.tm, reason)
		}
		return
	}
}

// stopProcess asks TaskManager tm to end the job's child; an error means
// the TaskManager did not answer.
func (sj *sessionJob) stopProcess(tm int) error {
	rc, name, lost := sj.s.m.sessionTaskManager(tm)
	if rc == nil || lost {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), max(sj.s.cfg.HeartbeatTimeout, time.Second))
	defer cancel()
	err := wire.NewTaskManagerGatewayClient(rc).StopJob(ctx, sj.id)
	if err != nil {
		sj.log.Warn().Err(err).Str("taskmanager", name).Msg("could not stop the job's process")
	}
	return err
}

// status is the job's state in Flink's words.
func (sj *sessionJob) status() dispatcher.JobStatus {
	sj.mu.Lock()
	defer sj.mu.Unlock()
	switch {
	case sj.ended.IsZero() && !sj.deployed && sj.job == nil:
		return dispatcher.JobInitializing
	case sj.ended.IsZero() && sj.stopping:
		return dispatcher.JobCancelling
	case sj.ended.IsZero():
		return dispatcher.JobRunning
	case sj.err == nil:
		return dispatcher.JobFinished
	case errors.Is(sj.err, jobmaster.ErrJobCancelled):
		return dispatcher.JobCanceled
	}
	return dispatcher.JobFailed
}

func (s *Session) job(id string) (*sessionJob, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sj := s.jobs[id]
	if sj == nil {
		return nil, fmt.Errorf("%w: %s", dispatcher.ErrJobNotFound, id)
	}
	return sj, nil
}

func (s *Session) allJobs() []*sessionJob {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*sessionJob, 0, len(s.jobs))
	for _, sj := range s.jobs {
		out = append(out, sj)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].submitted.Before(out[b].submitted) })
	return out
}

// Overview implements dispatcher.Cluster.
func (s *Session) Overview() dispatcher.ClusterOverview {
	var o dispatcher.ClusterOverview
	for _, tm := range s.m.taskManagers() {
		o.TaskManagers++
		o.SlotsTotal += tm.Slots
		o.SlotsAvailable += tm.Free
	}
	for _, sj := range s.allJobs() {
		switch sj.status() {
		case dispatcher.JobFinished:
			o.JobsFinished++
		case dispatcher.JobCanceled:
			o.JobsCancelled++
		case dispatcher.JobFailed:
			o.JobsFailed++
		default:
			o.JobsRunning++
		}
	}
	return o
}

// Jobs implements dispatcher.Cluster.
func (s *Session) Jobs() []dispatcher.JobSummary {
	var out []dispatcher.JobSummary
	for _, sj := range s.allJobs() {
		out = append(out, sj.summary())
	}
	return out
}

func (sj *sessionJob) summary() dispatcher.JobSummary {
	st := sj.status()
	sj.mu.Lock()
	defer sj.mu.Unlock()
	start := sj.submitted.UnixMilli()
	end, last := int64(-1), time.Now().UnixMilli()
	dur := last - start
	if !sj.ended.IsZero() {
		end, last = sj.ended.UnixMilli(), sj.ended.UnixMilli()
		dur = end - start
	}
	n := 0 // subtasks: one per chain and parallel instance
	for _, c := range sj.graph.Chains {
		n += c.Parallelism
	}
	tc := dispatcher.TaskCounts{Total: n}
	switch st {
	case dispatcher.JobFinished:
		tc.Finished = n
	case dispatcher.JobCanceled:
		tc.Canceled = n
	case dispatcher.JobFailed:
		tc.Failed = n
	case dispatcher.JobInitializing:
		tc.Created = n
	default:
		tc.Running = n
	}
	return dispatcher.JobSummary{ID: sj.id, Name: sj.name, State: st, StartTime: start, EndTime: end, Duration: dur, LastModification: last, Tasks: tc}
}

// Job implements dispatcher.Cluster.
func (s *Session) Job(id string) (dispatcher.JobDetails, error) {
	sj, err := s.job(id)
	if err != nil {
		return dispatcher.JobDetails{}, err
	}
	sum := sj.summary()
	d := dispatcher.JobDetails{ID: sum.ID, Name: sum.Name, IsStoppable: sj.checkpoints, State: sum.State, StartTime: sum.StartTime,
		EndTime: sum.EndTime, Duration: sum.Duration, MaxParallelism: int64(sj.graph.MaxParallelism), Now: time.Now().UnixMilli(),
		Timestamps: map[dispatcher.JobStatus]int64{dispatcher.JobInitializing: sum.StartTime}, Plan: sj.plan,
		StatusCounts: map[dispatcher.ExecutionState]int{}}
	vstate := map[dispatcher.JobStatus]dispatcher.ExecutionState{dispatcher.JobFinished: dispatcher.ExecFinished,
		dispatcher.JobCanceled: dispatcher.ExecCanceled, dispatcher.JobFailed: dispatcher.ExecFailed,
		dispatcher.JobInitializing: dispatcher.ExecCreated}[sum.State]
	if vstate == "" {
		vstate = dispatcher.ExecRunning
	}
	snap := s.snapshot(sj)
	for _, c := range sj.graph.Chains {
		vid := sj.graph.Nodes[c.Head].ID
		d.Vertices = append(d.Vertices, dispatcher.Vertex{ID: vid, Name: c.Name, MaxParallelism: sj.graph.MaxParallelism,
			Parallelism: c.Parallelism, Status: vstate, StartTime: sum.StartTime, EndTime: sum.EndTime, Duration: sum.Duration,
			Tasks: map[dispatcher.ExecutionState]int{vstate: c.Parallelism}, Metrics: vertexMetrics(snap, vid, c.Parallelism)})
		d.StatusCounts[vstate]++
	}
	if sum.EndTime > 0 {
		d.Timestamps[sum.State] = sum.EndTime
	}
	return d, nil
}

// Checkpoints implements dispatcher.Cluster.
func (s *Session) Checkpoints(id string) (dispatcher.CheckpointStats, error) {
	sj, err := s.job(id)
	if err != nil {
		return dispatcher.CheckpointStats{}, err
	}
	if !sj.checkpoints {
		return dispatcher.CheckpointStats{}, fmt.Errorf("%w for job %s: set execution.checkpointing.interval", dispatcher.ErrCheckpointingDisabled, id)
	}
	sj.mu.Lock()
	j := sj.job
	sj.mu.Unlock()
	var out dispatcher.CheckpointStats
	if j == nil {
		return out, nil
	}
	st := j.CheckpointStats()
	out.Counts = dispatcher.CheckpointCounts{Total: st.Triggered, InProgress: st.InProgress, Completed: st.Completed, Failed: st.Failed}
	stat := func(a checkpoint.Attempt, status dispatcher.CheckpointStatus) *dispatcher.CheckpointStatistics {
		if a.ID == 0 {
			return nil
		}
		kind := "CHECKPOINT"
		if a.Kind != checkpoint.Checkpoint {
			kind = "SAVEPOINT"
		}
		return &dispatcher.CheckpointStatistics{ID: a.ID, Status: status, IsSavepoint: a.Kind != checkpoint.Checkpoint,
			TriggerTimestamp: a.Triggered.UnixMilli(), LatestAckTimestamp: a.Ended.UnixMilli(), CheckpointedSize: a.Size, StateSize: a.Size,
			EndToEndDuration: a.Duration.Milliseconds(), CheckpointType: kind, FailureTimestamp: a.Ended.UnixMilli(), FailureMessage: a.Reason}
	}
	out.Latest.Completed = stat(st.LatestCompleted, dispatcher.CheckpointCompleted)
	out.Latest.Savepoint = stat(st.LatestSavepoint, dispatcher.CheckpointCompleted)
	out.Latest.Failed = stat(st.LatestFailed, dispatcher.CheckpointFailed)
	if r := j.LastRestore(); r.CheckpointID != 0 {
		out.Counts.Restored = r.Count
		out.Latest.Restored = &dispatcher.RestoredCheckpoint{ID: r.CheckpointID, RestoreTimestamp: r.At.UnixMilli(), IsSavepoint: r.FromSavepointPath, ExternalPath: r.Path}
	}
	for _, a := range st.History { // newest first, as Flink's
		status := dispatcher.CheckpointCompleted
		if a.Failed {
			status = dispatcher.CheckpointFailed
		}
		out.History = append(out.History, *stat(a, status))
	}
	return out, nil
}

// Exceptions implements dispatcher.Cluster: the failure the job ended
// with, if any.
func (s *Session) Exceptions(id string) ([]dispatcher.ExceptionEntry, error) {
	sj, err := s.job(id)
	if err != nil {
		return nil, err
	}
	sj.mu.Lock()
	defer sj.mu.Unlock()
	if sj.err == nil || sj.ended.IsZero() {
		return nil, nil
	}
	name := "JobFailure"
	if errors.Is(sj.err, jobmaster.ErrJobCancelled) {
		name = "JobCancelled"
	}
	return []dispatcher.ExceptionEntry{{Name: name, StackTrace: sj.err.Error(), Timestamp: sj.ended.UnixMilli()}}, nil
}

// TriggerSavepoint implements dispatcher.Cluster.
func (s *Session) TriggerSavepoint(_ context.Context, req dispatcher.SavepointRequest) (string, error) {
	return s.savepoint(req.JobID, req.TriggerID, req.TargetDirectory, false, false, req.CancelJob)
}

// Stop implements dispatcher.Cluster.
func (s *Session) Stop(_ context.Context, req dispatcher.StopRequest) (string, error) {
	return s.savepoint(req.JobID, req.TriggerID, req.TargetDirectory, true, req.Drain, false)
}

func (s *Session) savepoint(id, trigger, dir string, stop, drain, cancelAfter bool) (string, error) {
	sj, err := s.job(id)
	if err != nil {
		return "", err
	}
	if !sj.checkpoints {
		return "", fmt.Errorf("%w: job %s runs without checkpoints, and savepoints need them: submit it with execution.checkpointing.interval set", dispatcher.ErrConflict, id)
	}
	if dir == "" && sj.savepoints == "" {
		return "", fmt.Errorf("%w: no savepoint directory: pass one or submit the job with state.savepoints.dir", dispatcher.ErrInvalidRequest)
	}
	sj.mu.Lock()
	defer sj.mu.Unlock()
	if trigger != "" && sj.ops[trigger] != nil {
		return trigger, nil // Flink's idempotent trigger
	}
	if !sj.ended.IsZero() || sj.job == nil {
		return "", fmt.Errorf("%w: job %s is %s, not running", dispatcher.ErrConflict, id, map[bool]string{true: "over", false: "not deployed yet"}[!sj.ended.IsZero()])
	}
	if trigger == "" {
		trigger = jobmaster.NewJobID()
	}
	op := &savepointOp{}
	sj.ops[trigger] = op
	j := sj.job
	go func() {
		loc, err := j.TriggerSavepoint(context.Background(), dir, stop, drain)
		if err == nil && cancelAfter {
			j.Cancel()
		}
		sj.mu.Lock()
		op.done, op.location, op.err = true, loc, err
		sj.mu.Unlock()
	}()
	return trigger, nil
}

// SavepointStatus implements dispatcher.Cluster.
func (s *Session) SavepointStatus(id, trigger string) (dispatcher.SavepointOperation, error) {
	sj, err := s.job(id)
	if err != nil {
		return dispatcher.SavepointOperation{}, err
	}
	sj.mu.Lock()
	defer sj.mu.Unlock()
	op := sj.ops[trigger]
	if op == nil {
		return dispatcher.SavepointOperation{}, fmt.Errorf("%w: no savepoint %s of job %s", dispatcher.ErrOperationNotFound, trigger, id)
	}
	out := dispatcher.SavepointOperation{Done: op.done, Location: op.location}
	if op.err != nil {
		out.Failure = &dispatcher.FailureCause{Class: "SavepointFailed", StackTrace: op.err.Error()}
	}
	return out, nil
}

// Cancel implements dispatcher.Cluster.
func (s *Session) Cancel(_ context.Context, id string) error {
	sj, err := s.job(id)
	if err != nil {
		return err
	}
	sj.mu.Lock()
	j, ended := sj.job, !sj.ended.IsZero()
	if !ended {
		sj.stopping = true
	}
	sj.mu.Unlock()
	if ended {
		return fmt.Errorf("%w: job %s has already ended", dispatcher.ErrConflict, id)
	}
	if j != nil {
		go j.Cancel()
	} // else Registered cancels it
	return nil
}

// TaskManagers implements dispatcher.Cluster.
func (s *Session) TaskManagers() []dispatcher.TaskManagerInfo {
	var out []dispatcher.TaskManagerInfo
	for _, tm := range s.m.taskManagers() {
		out = append(out, dispatcher.TaskManagerInfo{ID: tm.Name, Path: s.m.taskManagerAddr(tm.ID), JMXPort: -1,
			TimeSinceLastHeartbeat: tm.LastSeen.UnixMilli(), SlotsNumber: tm.Slots, FreeSlots: tm.Free})
	}
	return out
}

// Config implements dispatcher.Cluster.
func (s *Session) Config() []dispatcher.ConfigEntry {
	var out []dispatcher.ConfigEntry
	if s.cfg.Config == nil {
		return out
	}
	for _, k := range s.cfg.Config.Keys() {
		v, _ := s.cfg.Config.Get(k)
		out = append(out, dispatcher.ConfigEntry{Key: k, Value: v})
	}
	return out
}

// copyFile copies src to dst (mode 0700) unless dst already holds it.
func copyFile(src, dst string) error {
	si, err := os.Stat(src)
	if err != nil {
		return err
	}
	if di, err := os.Stat(dst); err == nil && di.Size() == si.Size() {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), filepath.Base(dst)+".*.tmp")
	if err != nil {
		return err
	}
	_, cerr := io.Copy(tmp, in)
	if err := errors.Join(cerr, tmp.Close(), os.Chmod(tmp.Name(), 0o700)); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), dst)
}
