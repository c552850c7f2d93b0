package appmaster

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/master/dispatcher"
	"github.com/spate-io/spate/master/jobmanager"
	"github.com/spate-io/spate/worker/transport"
)

// Session is a YARN session's JobManager side, run by the generic spate
// binary in the AM container: it implements dispatcher.Cluster over one
// session JobManager (master/jobmanager, Config.Session) per job binary,
// each with its own Group of TaskManager containers. A container therefore
// only ever runs jobs of the binary it was started for, and is kept while
// idle for that binary's next job, up to TaskManagerTimeout.
//
//	spate submit --session ──POST /jobs (binary sha256)──▶ Session.Submit
//	  first job of this sha256: Group (priority n) + JobManager + jobmanager.Session
//	  JobManager core short of slots ──▶ Group.StartTaskManagers ──▶ containers
//	  running `spate yarn-session taskmanager` with the binary localized from HDFS
//	no job of the binary for TaskManagerTimeout ──▶ its containers released
//	no job at all for IdleTimeout ──▶ Idle() reports it: the caller unregisters
type Session struct {
	cfg SessionConfig

	mu       sync.Mutex
	binaries map[string]*binarySession // by sha256
	order    []*binarySession
	jobs     map[string]*binarySession // job id → its binary's
	active   time.Time                 // the last time a job ran or was submitted
}

// SessionConfig configures a Session.
type SessionConfig struct {
	AM *AppMaster
	// Host is the address the JobManagers' RPC endpoints bind to (NM_HOST).
	Host string
	Auth transport.Authenticator
	// WorkDir keeps the submitted binaries, one directory per sha256.
	WorkDir string
	// Config is the session's configuration: timeouts, and /jobmanager/config.
	Config *conf.Config
	// TaskManager is what a container of the binary sha256 runs; an error
	// refuses the submission (the binary was not staged).
	TaskManager func(sha256 string) (ContainerSpec, error)
	// TaskManagerTimeout releases containers idle this long
	// (resourcemanager.taskmanager-timeout); IdleTimeout ends the session
	// after this long without a job (0: never).
	TaskManagerTimeout, IdleTimeout time.Duration
	Log                             zerolog.Logger
}

// binarySession is the JobManager of one job binary and its containers.
type binarySession struct {
	sha   string
	group *Group
	jm    *jobmanager.JobManager
	s     *jobmanager.Session
	// idle is when the binary's last job ended (zero while one runs).
	idle time.Time
}

var _ dispatcher.Cluster = (*Session)(nil)

// NewSession returns a session without jobs, idle from now.
func NewSession(cfg SessionConfig) *Session {
	return &Session{cfg: cfg, binaries: map[string]*binarySession{}, jobs: map[string]*binarySession{}, active: time.Now()}
}

// Close stops every JobManager.
func (s *Session) Close() {
	s.mu.Lock()
	order := s.order
	s.mu.Unlock()
	for _, b := range order {
		b.jm.Close()
	}
}

// Submit implements dispatcher.Cluster.
func (s *Session) Submit(ctx context.Context, sub dispatcher.Submission) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.binaries[sub.BinarySHA256]
	if b == nil {
		var err error
		if b, err = s.newBinary(sub.BinarySHA256); err != nil {
			return "", err
		}
	}
	id, err := b.s.Submit(ctx, sub)
	if err != nil {
		return "", err
	}
	s.jobs[id] = b
	b.idle, s.active = time.Time{}, time.Now()
	return id, nil
}

// newBinary starts the JobManager of a binary not seen before.
func (s *Session) newBinary(sha string) (*binarySession, error) {
	spec, err := s.cfg.TaskManager(sha)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", dispatcher.ErrInvalidRequest, err)
	}
	b := &binarySession{sha: sha, group: s.cfg.AM.NewGroup(spec)}
	c := s.cfg.Config
	log := s.cfg.Log.With().Str("binary", sha[:12]).Logger()
	b.jm, err = jobmanager.Start(jobmanager.Config{Address: net.JoinHostPort(s.cfg.Host, "0"), Auth: s.cfg.Auth, Session: true, Driver: b.group,
		HeartbeatTimeout: conf.HeartbeatTimeout.Get(c), SlotRequestTimeout: conf.SlotRequestTimeout.Get(c), Log: log.With().Str("component", "jobmanager").Logger()})
	if err != nil {
		return nil, err
	}
	b.group.SetJobManager(b.jm.Addr(), b.jm.LoseTaskManager)
	b.s, err = jobmanager.NewSession(b.jm, jobmanager.SessionConfig{BlobDir: filepath.Join(s.cfg.WorkDir, sha), Config: c,
		HeartbeatInterval: conf.HeartbeatInterval.Get(c), HeartbeatTimeout: conf.HeartbeatTimeout.Get(c), Log: log.With().Str("component", "jobmaster").Logger()})
	if err != nil {
		b.jm.Close()
		return nil, err
	}
	s.binaries[sha] = b
	s.order = append(s.order, b)
	log.Info().Str("rpc", b.jm.Addr()).Msg("JobManager of a new job binary")
	return b, nil
}

// Tick releases the containers of binaries without a running job for
// TaskManagerTimeout, and reports whether the session has had no job for
// IdleTimeout (then the caller ends it).
func (s *Session) Tick(now time.Time) (idle bool) {
	s.mu.Lock()
	order := s.order
	s.mu.Unlock()
	running := false
	for _, b := range order {
		busy := false
		for _, j := range b.s.Jobs() {
			if !terminal(j.State) {
				busy = true
			}
		}
		s.mu.Lock()
		switch {
		case busy:
			b.idle = time.Time{}
			s.active = now
			running = true
		case b.idle.IsZero():
			b.idle = now
		}
		release := !busy && now.Sub(b.idle) >= s.cfg.TaskManagerTimeout
		s.mu.Unlock()
		if !release {
			continue
		}
		for _, name := range b.group.Containers() {
			s.cfg.Log.Info().Str("container", name).Str("binary", b.sha[:12]).Dur("idle", now.Sub(b.idle)).Msg("releasing an idle TaskManager container")
			b.jm.LoseTaskManager(name, fmt.Sprintf("idle for %v (%s)", s.cfg.TaskManagerTimeout, conf.ResourceManagerTaskManagerTimeout.Key()))
			b.group.ReleaseTaskManager(name)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return !running && s.cfg.IdleTimeout > 0 && now.Sub(s.active) >= s.cfg.IdleTimeout
}

func terminal(st dispatcher.JobStatus) bool {
	return st == dispatcher.JobFinished || st == dispatcher.JobFailed || st == dispatcher.JobCanceled
}

// of finds the session of a job's binary.
func (s *Session) of(jobID string) (*jobmanager.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.jobs[jobID]; b != nil {
		return b.s, nil
	}
	return nil, fmt.Errorf("%w: %s", dispatcher.ErrJobNotFound, jobID)
}

func (s *Session) sessions() []*jobmanager.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*jobmanager.Session, len(s.order))
	for i, b := range s.order {
		out[i] = b.s
	}
	return out
}

// Overview implements dispatcher.Cluster.
func (s *Session) Overview() dispatcher.ClusterOverview {
	var o dispatcher.ClusterOverview
	for _, js := range s.sessions() {
		v := js.Overview()
		o.TaskManagers += v.TaskManagers
		o.SlotsTotal += v.SlotsTotal
		o.SlotsAvailable += v.SlotsAvailable
		o.JobsRunning += v.JobsRunning
		o.JobsFinished += v.JobsFinished
		o.JobsCancelled += v.JobsCancelled
		o.JobsFailed += v.JobsFailed
	}
	return o
}

// Jobs implements dispatcher.Cluster.
func (s *Session) Jobs() []dispatcher.JobSummary {
	var out []dispatcher.JobSummary
	for _, js := range s.sessions() {
		out = append(out, js.Jobs()...)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].StartTime < out[b].StartTime })
	return out
}

// Job implements dispatcher.Cluster.
func (s *Session) Job(id string) (dispatcher.JobDetails, error) {
	js, err := s.of(id)
	if err != nil {
		return dispatcher.JobDetails{}, err
	}
	return js.Job(id)
}

// Checkpoints implements dispatcher.Cluster.
func (s *Session) Checkpoints(id string) (dispatcher.CheckpointStats, error) {
	js, err := s.of(id)
	if err != nil {
		return dispatcher.CheckpointStats{}, err
	}
	return js.Checkpoints(id)
}

// Exceptions implements dispatcher.Cluster.
func (s *Session) Exceptions(id string) ([]dispatcher.ExceptionEntry, error) {
	js, err := s.of(id)
	if err != nil {
		return nil, err
	}
	return js.Exceptions(id)
}

// TriggerSavepoint implements dispatcher.Cluster.
func (s *Session) TriggerSavepoint(ctx context.Context, req dispatcher.SavepointRequest) (string, error) {
	js, err := s.of(req.JobID)
	if err != nil {
		return "", err
	}
	return js.TriggerSavepoint(ctx, req)
}

// Stop implements dispatcher.Cluster.
func (s *Session) Stop(ctx context.Context, req dispatcher.StopRequest) (string, error) {
	js, err := s.of(req.JobID)
	if err != nil {
		return "", err
	}
	return js.Stop(ctx, req)
}

// SavepointStatus implements dispatcher.Cluster.
func (s *Session) SavepointStatus(id, trigger string) (dispatcher.SavepointOperation, error) {
	js, err := s.of(id)
	if err != nil {
		return dispatcher.SavepointOperation{}, err
	}
	return js.SavepointStatus(id, trigger)
}

// Cancel implements dispatcher.Cluster.
func (s *Session) Cancel(ctx context.Context, id string) error {
	js, err := s.of(id)
	if err != nil {
		return err
	}
	return js.Cancel(ctx, id)
}

// Vertex implements dispatcher.Cluster.
func (s *Session) Vertex(id, vertex string) (dispatcher.VertexDetails, error) {
	js, err := s.of(id)
	if err != nil {
		return dispatcher.VertexDetails{}, err
	}
	return js.Vertex(id, vertex)
}

// JobMetrics implements dispatcher.Cluster.
func (s *Session) JobMetrics(id string) ([]dispatcher.MetricValue, error) {
	js, err := s.of(id)
	if err != nil {
		return nil, err
	}
	return js.JobMetrics(id)
}

// TaskManagers implements dispatcher.Cluster.
func (s *Session) TaskManagers() []dispatcher.TaskManagerInfo {
	var out []dispatcher.TaskManagerInfo
	for _, js := range s.sessions() {
		out = append(out, js.TaskManagers()...)
	}
	return out
}

// TaskManager implements dispatcher.Cluster: TaskManagers are named by
// their container ids, unique across binaries.
func (s *Session) TaskManager(id string) (dispatcher.TaskManagerDetails, error) {
	for _, js := range s.sessions() {
		if d, err := js.TaskManager(id); err == nil {
			return d, nil
		}
	}
	return dispatcher.TaskManagerDetails{}, fmt.Errorf("%w: TaskManager %s", dispatcher.ErrNotFound, id)
}

// TaskManagerLog implements dispatcher.Cluster.
func (s *Session) TaskManagerLog(id string) ([]string, error) {
	for _, js := range s.sessions() {
		if l, err := js.TaskManagerLog(id); err == nil {
			return l, nil
		}
	}
	return nil, fmt.Errorf("%w: TaskManager %s", dispatcher.ErrNotFound, id)
}

// Config implements dispatcher.Cluster.
func (s *Session) Config() []dispatcher.ConfigEntry {
	var out []dispatcher.ConfigEntry
	for _, k := range s.cfg.Config.Keys() {
		v, _ := s.cfg.Config.Get(k)
		out = append(out, dispatcher.ConfigEntry{Key: k, Value: v})
	}
	return out
}

// Metrics implements dispatcher.Cluster: every binary's metrics, each
// family's HELP and TYPE lines once.
func (s *Session) Metrics(w io.Writer) error {
	seen := map[string]bool{}
	for _, js := range s.sessions() {
		var b bytes.Buffer
		if err := js.Metrics(&b); err != nil {
			return err
		}
		sc := bufio.NewScanner(&b)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if len(line) > 0 && line[0] == '#' {
				if seen[line] {
					continue
				}
				seen[line] = true
			}
			if _, err := fmt.Fprintln(w, line); err != nil {
				return err
			}
		}
	}
	return nil
}
