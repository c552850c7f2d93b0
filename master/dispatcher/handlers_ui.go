package dispatcher

import (
	"net/http"
	"strconv"
	"strings"
)

// GET /jobs/:jobid/vertices/:vertexid.
func (s *Server) vertexDetails(w http.ResponseWriter, r *http.Request, p params) {
	v, err := s.cluster.Vertex(p.jobID, p.vertexID)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	v.Subtasks = nonNil(v.Subtasks)
	s.writeJSON(w, r, http.StatusOK, v)
}

// GET /jobs/:jobid/vertices/:vertexid/backpressure: Flink's shape, from the
// subtasks' buffer occupancy downstream; the vertex's level is its worst
// subtask's.
func (s *Server) vertexBackPressure(w http.ResponseWriter, r *http.Request, p params) {
	v, err := s.cluster.Vertex(p.jobID, p.vertexID)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	bp := BackPressure{Status: "ok", EndTimestamp: v.Now, Subtasks: []SubtaskBackPressure{}}
	worst := 0.0
	for _, st := range v.Subtasks {
		busy := max(0, 1-st.IdleRatio-st.BackPressureRatio)
		bp.Subtasks = append(bp.Subtasks, SubtaskBackPressure{Subtask: st.Subtask, Attempt: st.Attempt, Level: backPressureLevel(st.BackPressureRatio),
			Ratio: st.BackPressureRatio, IdleRatio: st.IdleRatio, BusyRatio: busy})
		worst = max(worst, st.BackPressureRatio)
	}
	bp.Level = backPressureLevel(worst)
	s.writeJSON(w, r, http.StatusOK, bp)
}

// GET /jobs/:jobid/vertices/:vertexid/watermarks: Flink's
// [{"id": "<subtask>.currentInputWatermark", "value": "<ms>"}], only for
// subtasks that have one.
func (s *Server) vertexWatermarks(w http.ResponseWriter, r *http.Request, p params) {
	v, err := s.cluster.Vertex(p.jobID, p.vertexID)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	out := []MetricValue{}
	for _, st := range v.Subtasks {
		if st.InputWatermark != nil {
			out = append(out, MetricValue{ID: strconv.Itoa(st.Subtask) + ".currentInputWatermark", Value: strconv.FormatInt(*st.InputWatermark, 10)})
		}
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// GET /jobs/:jobid/metrics[?get=a,b]: every metric of the job, or those
// named, as Flink's [{"id", "value"}].
func (s *Server) jobMetrics(w http.ResponseWriter, r *http.Request, p params) {
	ms, err := s.cluster.JobMetrics(p.jobID)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	if get := r.URL.Query().Get("get"); get != "" {
		want := map[string]bool{}
		for _, name := range strings.Split(get, ",") {
			want[name] = true
		}
		var kept []MetricValue
		for _, m := range ms {
			if want[m.ID] {
				kept = append(kept, m)
			}
		}
		ms = kept
	}
	s.writeJSON(w, r, http.StatusOK, nonNil(ms))
}

// GET /taskmanagers/:taskmanagerid.
func (s *Server) taskManagerDetails(w http.ResponseWriter, r *http.Request, p params) {
	d, err := s.cluster.TaskManager(p.taskManagerID)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	d.Metrics.GarbageCollectors = nonNil(d.Metrics.GarbageCollectors)
	d.Jobs = nonNil(d.Jobs)
	for i := range d.Jobs {
		d.Jobs[i].Subtasks = nonNil(d.Jobs[i].Subtasks)
	}
	s.writeJSON(w, r, http.StatusOK, d)
}

// GET /taskmanagers/:taskmanagerid/log: the log's tail as text, as Flink
// serves a TaskManager's log file.
func (s *Server) taskManagerLog(w http.ResponseWriter, r *http.Request, p params) {
	lines, err := s.cluster.TaskManagerLog(p.taskManagerID)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	s.send(w, r, startOf(r), http.StatusOK, contentTypeText, []byte(b.String()), nil)
}
