package jobmanager

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/spate-io/spate/master/dispatcher"
	"github.com/spate-io/spate/master/jobmaster"
	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/worker/metrics"
	"github.com/spate-io/spate/worker/task"
)

// The Session's metrics and the REST reads the web UI needs beyond the job
// overview. Every value comes from one snapshot of a job's subtasks
// (jobmaster.Job.SubtaskMetrics: one taskMetrics RPC per subtask to the
// job's process on its TaskManager), so the JobManager's /metrics is the one
// scrape target of the whole cluster, a YARN application's included.

// attemptClock remembers when each attempt of a job was first seen running,
// the start of its subtasks' idle share, and each subtask's last counters:
// a TaskManager forgets a task once it has ended, and a finished subtask
// should still show what it did.
type attemptClock struct {
	mu   sync.Mutex
	seen map[int]time.Time
	last map[subtaskKey]task.TaskMetrics
	snap jobSnap // the latest snapshot, for reads close together
}

// snapshotReuse is how long a snapshot answers reads of the same job.
const snapshotReuse = 200 * time.Millisecond

type subtaskKey struct{ attempt, chain, subtask int }

// remember returns m, or the subtask's last counters when m is empty (its
// TaskManager no longer knows the task).
func (c *attemptClock) remember(st jobmaster.SubtaskMetrics) task.TaskMetrics {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := subtaskKey{st.Attempt, st.Chain.Index, st.Subtask}
	if st.Operators == nil {
		return c.last[k]
	}
	if c.last == nil {
		c.last = map[subtaskKey]task.TaskMetrics{}
	}
	for k := range c.last {
		if k.attempt < st.Attempt {
			delete(c.last, k) // an older attempt's
		}
	}
	c.last[k] = st.TaskMetrics
	return st.TaskMetrics
}

func (c *attemptClock) since(attempt int, now time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[int]time.Time{}
	}
	t, ok := c.seen[attempt]
	if !ok {
		c.seen[attempt], t = now, now
	}
	return now.Sub(t)
}

// subtaskSnap is one subtask in a snapshot.
type subtaskSnap struct {
	jobmaster.SubtaskMetrics
	vertexID string
	tmName   string
	// backPressure and idle are shares (0..1); see snapshot.
	backPressure, idle float64
	recordsIn          int64 // the chain head's
	recordsOut         int64 // the chain tail's
}

// jobSnap is one job's state and subtasks at one moment.
type jobSnap struct {
	sj       *sessionJob
	job      *jobmaster.Job // nil before deployment
	subtasks []subtaskSnap
	now      time.Time
}

// snapshot reads the job's subtask counters. A subtask's back-pressure is
// the occupancy of the input gates its vertex writes to (queued buffers over
// their capacity, over every consumer subtask): full gates downstream are
// what makes a producer wait for credit. Its idle share is its time waiting
// for input over the time since its attempt was first seen here.
//
// Reads closer together than snapshotReuse share one snapshot: an attached
// spate submit polls /jobs/:jobid four times a second, the UI reads a job
// and each vertex on every refresh, and each snapshot is one RPC per
// subtask.
func (s *Session) snapshot(sj *sessionJob) jobSnap {
	sj.mu.Lock()
	j := sj.job
	sj.mu.Unlock()
	now := time.Now()
	snap := jobSnap{sj: sj, job: j, now: now}
	if j == nil {
		return snap
	}
	sj.clock.mu.Lock()
	last := sj.clock.snap
	sj.clock.mu.Unlock()
	if last.job == j && now.Sub(last.now) < snapshotReuse {
		return last
	}
	defer func() {
		sj.clock.mu.Lock()
		sj.clock.snap = snap
		sj.clock.mu.Unlock()
	}()
	subs := j.SubtaskMetrics()
	for i := range subs {
		subs[i].TaskMetrics = sj.clock.remember(subs[i])
	}
	snap.subtasks = foldSubtasks(sj.graph, subs, func(attempt int) time.Duration { return sj.clock.since(attempt, snap.now) }, s.tmName)
	return snap
}

// foldSubtasks derives what is shown of each subtask from the counters its
// TaskManager reported: a pure function of the graph and the reports.
// elapsed is how long an attempt has run; name names a TaskManager.
func foldSubtasks(g *graph.JobGraph, subs []jobmaster.SubtaskMetrics, elapsed func(attempt int) time.Duration, name func(tm int) string) []subtaskSnap {
	queued, capacity := map[int]int{}, map[int]int{} // by upstream chain
	for _, st := range subs {
		head := g.Nodes[st.Chain.Head]
		for _, gm := range st.Gates {
			for _, ei := range head.Inputs {
				if e := g.Edges[ei]; e.Side == gm.Side && !e.Chained {
					up := g.Nodes[e.Source].Chain
					queued[up] += gm.Queued
					capacity[up] += gm.MaxQueued
					break
				}
			}
		}
	}
	out := make([]subtaskSnap, 0, len(subs))
	for _, st := range subs {
		ss := subtaskSnap{SubtaskMetrics: st, vertexID: g.Nodes[st.Chain.Head].ID, tmName: name(st.TaskManager)}
		if c := capacity[st.Chain.Index]; c > 0 {
			ss.backPressure = float64(queued[st.Chain.Index]) / float64(c)
		}
		if d := elapsed(st.Attempt); d > 0 {
			ss.idle = min(1, float64(st.IdleNanos)/float64(d))
		}
		ss.recordsIn = st.Operators[st.Chain.Head].RecordsIn
		ss.recordsOut = st.Operators[st.Chain.Nodes[len(st.Chain.Nodes)-1]].RecordsOut
		out = append(out, ss)
	}
	return out
}

// operatorTotals are the job's record counts per operator over every
// attempt: the final ones once it ended, as its result reports them.
func (sj *sessionJob) operatorTotals() []jobmaster.OperatorResult {
	sj.mu.Lock()
	j, r := sj.job, sj.result
	sj.mu.Unlock()
	switch {
	case r != nil:
		return r.Operators
	case j != nil:
		return j.Progress().Operators
	}
	return nil
}

// tmName is the name TaskManager tm registered with (its resource id).
func (s *Session) tmName(tm int) string {
	if _, name, _ := s.m.sessionTaskManager(tm); name != "" {
		return name
	}
	return fmt.Sprintf("tm-%d", tm)
}

// vertexMetrics folds a vertex's subtasks into Flink's IOMetricsInfo.
func vertexMetrics(snap jobSnap, vertexID string, parallelism int) dispatcher.IOMetrics {
	var m dispatcher.IOMetrics
	n := 0
	for _, st := range snap.subtasks {
		if st.vertexID != vertexID {
			continue
		}
		n++
		m.ReadRecords += st.recordsIn
		m.WriteRecords += st.recordsOut
		m.AccumulatedIdleTime += st.IdleNanos / 1e6
	}
	complete := n == parallelism
	m.ReadRecordsComplete, m.WriteRecordsComplete = complete, complete
	return m
}

// Vertex implements dispatcher.Cluster.
func (s *Session) Vertex(jobID, vertexID string) (dispatcher.VertexDetails, error) {
	sj, err := s.job(jobID)
	if err != nil {
		return dispatcher.VertexDetails{}, err
	}
	var chainIdx = -1
	for _, c := range sj.graph.Chains {
		if sj.graph.Nodes[c.Head].ID == vertexID {
			chainIdx = c.Index
		}
	}
	if chainIdx < 0 {
		return dispatcher.VertexDetails{}, fmt.Errorf("%w: job %s has no vertex %s", dispatcher.ErrNotFound, jobID, vertexID)
	}
	c := sj.graph.Chains[chainIdx]
	sum := sj.summary()
	snap := s.snapshot(sj)
	v := dispatcher.VertexDetails{ID: vertexID, Name: c.Name, Parallelism: c.Parallelism, MaxParallelism: sj.graph.MaxParallelism, Now: snap.now.UnixMilli()}
	state := vertexState(sum.State)
	for _, st := range snap.subtasks {
		if st.vertexID != vertexID {
			continue
		}
		info := dispatcher.SubtaskInfo{Subtask: st.Subtask, Status: state, Attempt: st.Attempt, Endpoint: s.m.taskManagerAddr(st.TaskManager),
			StartTime: sum.StartTime, EndTime: sum.EndTime, Duration: sum.Duration, TaskManagerID: st.tmName,
			Metrics: dispatcher.IOMetrics{ReadRecords: st.recordsIn, ReadRecordsComplete: true, WriteRecords: st.recordsOut, WriteRecordsComplete: true,
				AccumulatedIdleTime: st.IdleNanos / 1e6},
			BackPressureRatio: st.backPressure, IdleRatio: st.idle}
		if st.Ended {
			info.Status = dispatcher.ExecFinished
		}
		if wm := st.InputWatermark; wm != task.NoWatermark && len(st.Gates) > 0 {
			info.InputWatermark = &wm
		}
		v.Subtasks = append(v.Subtasks, info)
	}
	sort.Slice(v.Subtasks, func(a, b int) bool { return v.Subtasks[a].Subtask < v.Subtasks[b].Subtask })
	return v, nil
}

// vertexState is the state of a job's vertices in Flink's words.
func vertexState(js dispatcher.JobStatus) dispatcher.ExecutionState {
	switch js {
	case dispatcher.JobFinished:
		return dispatcher.ExecFinished
	case dispatcher.JobCanceled:
		return dispatcher.ExecCanceled
	case dispatcher.JobFailed:
		return dispatcher.ExecFailed
	case dispatcher.JobInitializing:
		return dispatcher.ExecCreated
	}
	return dispatcher.ExecRunning
}

// jobMetric is one per-job metric: Flink's name and its value.
type jobMetric struct {
	name, help string
	typ        metrics.Type
	value      int64
}

// jobMetrics are the job's metrics under Flink's names (JobManager scope).
func (s *Session) jobMetrics(sj *sessionJob) []jobMetric {
	sum := sj.summary()
	sj.mu.Lock()
	j := sj.job
	sj.mu.Unlock()
	uptime := int64(0)
	if sum.State == dispatcher.JobRunning {
		uptime = sum.Duration
	}
	out := []jobMetric{{"uptime", "Milliseconds the job has been running (0 once it ended).", metrics.Gauge, uptime}}
	if j == nil {
		return out
	}
	out = append(out, jobMetric{"numRestarts", "Restarts of the job since it was submitted.", metrics.Gauge, int64(j.Restarts())})
	if sj.checkpoints {
		st := j.CheckpointStats()
		out = append(out,
			jobMetric{"totalNumberOfCheckpoints", "Checkpoints and savepoints triggered.", metrics.Gauge, st.Triggered},
			jobMetric{"numberOfCompletedCheckpoints", "Checkpoints and savepoints completed.", metrics.Gauge, st.Completed},
			jobMetric{"numberOfFailedCheckpoints", "Checkpoints and savepoints failed.", metrics.Gauge, st.Failed},
			jobMetric{"numberOfInProgressCheckpoints", "Checkpoints in progress.", metrics.Gauge, int64(st.InProgress)},
			jobMetric{"lastCheckpointDuration", "Milliseconds the latest completed checkpoint took.", metrics.Gauge, st.LatestCompleted.Duration.Milliseconds()},
			jobMetric{"lastCheckpointSize", "Bytes of the latest completed checkpoint.", metrics.Gauge, st.LatestCompleted.Size})
	}
	r := j.LastRestore()
	at := int64(-1)
	if r.CheckpointID != 0 {
		at = r.At.UnixMilli()
	}
	out = append(out, jobMetric{"lastCheckpointRestoreTimestamp", "When the job last restored a checkpoint (ms since the epoch; -1 never).", metrics.Gauge, at})
	return out
}

// JobMetrics implements dispatcher.Cluster.
func (s *Session) JobMetrics(jobID string) ([]dispatcher.MetricValue, error) {
	sj, err := s.job(jobID)
	if err != nil {
		return nil, err
	}
	var out []dispatcher.MetricValue
	for _, m := range s.jobMetrics(sj) {
		out = append(out, dispatcher.MetricValue{ID: m.name, Value: strconv.FormatInt(m.value, 10)})
	}
	return out, nil
}

// tmIndex is the resource manager's number of the TaskManager called id.
func (s *Session) tmIndex(id string) (int, bool) {
	for _, tm := range s.m.taskManagers() {
		if tm.Name == id {
			return tm.ID, true
		}
	}
	return 0, false
}

// TaskManager implements dispatcher.Cluster: the TaskManager, its own
// process as its heartbeats report it, and the job processes it runs.
func (s *Session) TaskManager(id string) (dispatcher.TaskManagerDetails, error) {
	var d dispatcher.TaskManagerDetails
	found := false
	for _, tm := range s.TaskManagers() {
		if tm.ID == id {
			d.TaskManagerInfo, found = tm, true
		}
	}
	n, ok := s.tmIndex(id)
	if !found || !ok {
		return d, fmt.Errorf("%w: no TaskManager %q is registered", dispatcher.ErrNotFound, id)
	}
	if r, ok := s.m.taskManagerReport(n); ok {
		p := r.Process
		d.Metrics = dispatcher.TaskManagerMetrics{HeapUsed: p.HeapBytes, RSS: p.RSSBytes, Goroutines: p.Goroutines,
			GarbageCollectors: []dispatcher.GarbageCollector{{Name: "go", Count: p.GCCount, Time: p.GCPauseTotalNanos / 1e6}}}
	}
	for _, sj := range s.allJobs() {
		snap := s.snapshot(sj)
		var job *dispatcher.TaskManagerJob
		for _, st := range snap.subtasks {
			if st.tmName != id {
				continue
			}
			if job == nil {
				job = &dispatcher.TaskManagerJob{ID: sj.id, Name: sj.name}
				if p := st.Process; p != nil { // one process per job and TaskManager
					job.HeapUsed, job.RSS, job.Goroutines = p.HeapBytes, p.RSSBytes, p.Goroutines
				}
			}
			job.Subtasks = append(job.Subtasks, fmt.Sprintf("%s (%d/%d)", st.Chain.Name, st.Subtask+1, st.Chain.Parallelism))
		}
		if job != nil {
			d.Jobs = append(d.Jobs, *job)
		}
	}
	return d, nil
}

// TaskManagerLog implements dispatcher.Cluster: the tail of the
// TaskManager's log as its last heartbeat carried it.
func (s *Session) TaskManagerLog(id string) ([]string, error) {
	n, ok := s.tmIndex(id)
	if !ok {
		return nil, fmt.Errorf("%w: no TaskManager %q is registered", dispatcher.ErrNotFound, id)
	}
	r, _ := s.m.taskManagerReport(n)
	return r.Log, nil
}

// Metrics implements dispatcher.Cluster: the cluster's, each job's and each
// subtask's metrics, and the resources of each job process, in
// Prometheus' text format under Flink's names.
func (s *Session) Metrics(w io.Writer) error {
	o := s.Overview()
	var set metrics.Set
	gauge := func(name, help string, v int64) { set.Family(name, help, metrics.Gauge).Add(float64(v)) }
	gauge("spate_jobmanager_numRegisteredTaskManagers", "TaskManagers registered.", int64(o.TaskManagers))
	gauge("spate_jobmanager_taskSlotsTotal", "Slots offered by the TaskManagers.", int64(o.SlotsTotal))
	gauge("spate_jobmanager_taskSlotsAvailable", "Slots not allocated to a job.", int64(o.SlotsAvailable))
	gauge("spate_jobmanager_numRunningJobs", "Jobs not ended.", int64(o.JobsRunning))
	jm := metrics.ReadProcess()
	gauge("spate_jobmanager_Status_Memory_Heap_Used", "Bytes of Go heap in use by the JobManager.", jm.HeapBytes)
	gauge("spate_jobmanager_Status_Memory_RSS", "Resident bytes of the JobManager process.", jm.RSSBytes)
	gauge("spate_jobmanager_Status_Goroutines", "Goroutines of the JobManager.", jm.Goroutines)
	gauge("spate_jobmanager_Status_GC_Time", "Milliseconds the JobManager's GC stopped the world.", jm.GCPauseTotalNanos/1e6)

	for _, tm := range s.m.taskManagers() {
		r, ok := s.m.taskManagerReport(tm.ID)
		if !ok {
			continue
		}
		p, l := r.Process, []string{"tm_id", tm.Name}
		set.Family("spate_taskmanager_Status_Memory_Heap_Used", "Bytes of Go heap in use (by the TaskManager, or by a job's process on it with job_id).", metrics.Gauge).Add(float64(p.HeapBytes), l...)
		set.Family("spate_taskmanager_Status_Memory_RSS", "Resident bytes (of the TaskManager, or of a job's process on it with job_id).", metrics.Gauge).Add(float64(p.RSSBytes), l...)
		set.Family("spate_taskmanager_Status_Goroutines", "Goroutines (of the TaskManager, or of a job's process on it with job_id).", metrics.Gauge).Add(float64(p.Goroutines), l...)
		set.Family("spate_taskmanager_Status_GC_Count", "Garbage collections (of the TaskManager, or of a job's process on it with job_id).", metrics.Counter).Add(float64(p.GCCount), l...)
		set.Family("spate_taskmanager_Status_GC_Time", "Milliseconds GC stopped the world (in the TaskManager, or in a job's process on it with job_id).", metrics.Counter).Add(float64(p.GCPauseTotalNanos/1e6), l...)
	}
	for _, sj := range s.allJobs() {
		for _, m := range s.jobMetrics(sj) {
			set.Family("spate_jobmanager_job_"+m.name, m.help, m.typ).Add(float64(m.value), "job_id", sj.id, "job_name", sj.name)
		}
		for _, op := range sj.operatorTotals() {
			l := []string{"job_id", sj.id, "job_name", sj.name, "operator_id", op.ID, "operator_name", op.Name}
			set.Family("spate_jobmanager_job_operator_numRecordsIn", "Records the operator read, over its subtasks and attempts.", metrics.Counter).Add(float64(op.RecordsIn), l...)
			set.Family("spate_jobmanager_job_operator_numRecordsOut", "Records the operator wrote, over its subtasks and attempts.", metrics.Counter).Add(float64(op.RecordsOut), l...)
		}
		if sj.status() != dispatcher.JobRunning {
			continue
		}
		snap := s.snapshot(sj)
		procs := map[string]*task.ProcessMetrics{}
		for _, st := range snap.subtasks {
			l := []string{"job_id", sj.id, "job_name", sj.name, "task_id", st.vertexID, "task_name", st.Chain.Name,
				"subtask_index", strconv.Itoa(st.Subtask), "tm_id", st.tmName}
			put := func(name, help string, typ metrics.Type, v float64) {
				set.Family("spate_taskmanager_job_task_"+name, help, typ).Add(v, l...)
			}
			put("numRecordsIn", "Records the subtask read.", metrics.Counter, float64(st.recordsIn))
			put("numRecordsOut", "Records the subtask wrote.", metrics.Counter, float64(st.recordsOut))
			put("accumulatedIdleTimeMs", "Milliseconds the subtask waited for input.", metrics.Counter, float64(st.IdleNanos/1e6))
			put("idleRatio", "Share of the attempt's time the subtask waited for input.", metrics.Gauge, st.idle)
			put("backPressuredRatio", "Occupancy of the input buffers the subtask's vertex writes to (1: its output waits for credit).", metrics.Gauge, st.backPressure)
			queued := 0
			for _, gm := range st.Gates {
				queued += gm.Queued
			}
			put("buffers_inputQueueLength", "Buffers queued in the subtask's input gates.", metrics.Gauge, float64(queued))
			if wm := st.InputWatermark; wm != task.NoWatermark && len(st.Gates) > 0 {
				put("currentInputWatermark", "The subtask's input watermark (ms).", metrics.Gauge, float64(wm))
				put("watermarkLag", "Milliseconds between now and the input watermark.", metrics.Gauge, float64(snap.now.UnixMilli()-wm))
			}
			for _, ni := range st.Chain.Nodes {
				om := st.Operators[ni]
				ol := append(append([]string(nil), l...), "operator_name", sj.graph.Nodes[ni].Name)
				set.Family("spate_taskmanager_job_task_operator_numRecordsIn", "Records the operator read.", metrics.Counter).Add(float64(om.RecordsIn), ol...)
				set.Family("spate_taskmanager_job_task_operator_numRecordsOut", "Records the operator wrote.", metrics.Counter).Add(float64(om.RecordsOut), ol...)
			}
			if st.Process != nil {
				procs[st.tmName] = st.Process
			}
		}
		tms := make([]string, 0, len(procs))
		for tm := range procs {
			tms = append(tms, tm)
		}
		sort.Strings(tms)
		for _, tm := range tms {
			p := procs[tm]
			l := []string{"job_id", sj.id, "job_name", sj.name, "tm_id", tm}
			set.Family("spate_taskmanager_Status_Memory_Heap_Used", "Bytes of Go heap in use by the job's process on the TaskManager.", metrics.Gauge).Add(float64(p.HeapBytes), l...)
			set.Family("spate_taskmanager_Status_Memory_RSS", "Resident bytes of the job's process on the TaskManager.", metrics.Gauge).Add(float64(p.RSSBytes), l...)
			set.Family("spate_taskmanager_Status_Goroutines", "Goroutines of the job's process on the TaskManager.", metrics.Gauge).Add(float64(p.Goroutines), l...)
			set.Family("spate_taskmanager_Status_GC_Count", "Garbage collections of the job's process.", metrics.Counter).Add(float64(p.GCCount), l...)
			set.Family("spate_taskmanager_Status_GC_Time", "Milliseconds the job process's GC stopped the world.", metrics.Counter).Add(float64(p.GCPauseTotalNanos/1e6), l...)
		}
	}
	return metrics.Write(w, set.Families())
}
