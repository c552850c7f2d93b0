package dispatcher

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Handlers: decode the request, make one Cluster call, encode its answer in
// Flink's shape. Anything more belongs to the Cluster.

// GET /config: the web UI's configuration (Flink's DashboardConfiguration).
func (s *Server) dashboardConfig(w http.ResponseWriter, r *http.Request, _ params) {
	name, offset := s.now().Zone()
	s.writeJSON(w, r, http.StatusOK, dashboardConfig{
		RefreshInterval: s.opts.RefreshInterval.Milliseconds(),
		TimezoneName:    name,
		TimezoneOffset:  int64(offset) * 1000,
		FlinkVersion:    s.version(),
		FlinkRevision:   s.opts.Commit,
		Features:        features{WebSubmit: false, WebCancel: true, WebRescale: false, WebHistory: false},
	})
}

type dashboardConfig struct {
	RefreshInterval int64    `json:"refresh-interval"`
	TimezoneName    string   `json:"timezone-name"`
	TimezoneOffset  int64    `json:"timezone-offset"`
	FlinkVersion    string   `json:"flink-version"`
	FlinkRevision   string   `json:"flink-revision"`
	Features        features `json:"features"`
}

// features tell the web UI what to offer. Web submission is off: Flink's UI
// uploads jars to /jars, which Spate does not have.
type features struct {
	WebSubmit  bool `json:"web-submit"`
	WebCancel  bool `json:"web-cancel"`
	WebRescale bool `json:"web-rescale"`
	WebHistory bool `json:"web-history"`
}

func (s *Server) version() string {
	if s.opts.Version == "" {
		return "spate-dev"
	}
	return "spate-" + s.opts.Version
}

// GET /overview.
func (s *Server) overview(w http.ResponseWriter, r *http.Request, _ params) {
	s.writeJSON(w, r, http.StatusOK, struct {
		ClusterOverview
		FlinkVersion string `json:"flink-version"`
		FlinkCommit  string `json:"flink-commit"`
	}{s.cluster.Overview(), s.version(), s.opts.Commit})
}

// GET /jobs: ids and states only.
func (s *Server) listJobs(w http.ResponseWriter, r *http.Request, _ params) {
	type idStatus struct {
		ID     string    `json:"id"`
		Status JobStatus `json:"status"`
	}
	jobs := []idStatus{}
	for _, j := range s.cluster.Jobs() {
		jobs = append(jobs, idStatus{j.ID, j.State})
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"jobs": jobs})
}

// GET /jobs/overview.
func (s *Server) jobsOverview(w http.ResponseWriter, r *http.Request, _ params) {
	s.writeJSON(w, r, http.StatusOK, map[string]any{"jobs": nonNil(s.cluster.Jobs())})
}

// GET /jobs/:jobid.
func (s *Server) jobDetails(w http.ResponseWriter, r *http.Request, p params) {
	d, err := s.cluster.Job(p.jobID)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	d.Vertices = nonNil(d.Vertices)
	d.Plan = planOrEmpty(d.Plan)
	s.writeJSON(w, r, http.StatusOK, d)
}

// GET /jobs/:jobid/plan.
func (s *Server) jobPlan(w http.ResponseWriter, r *http.Request, p params) {
	d, err := s.cluster.Job(p.jobID)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]json.RawMessage{"plan": planOrEmpty(d.Plan)})
}

// PATCH /jobs/:jobid?mode=cancel: 202 with an empty object, as Flink.
func (s *Server) terminateJob(w http.ResponseWriter, r *http.Request, p params) {
	switch mode := r.URL.Query().Get("mode"); strings.ToLower(mode) {
	case "", "cancel":
	case "stop":
		s.fail(w, r, p, badRequest("mode=stop is not supported; stop a job with POST /jobs/%s/stop.", p.jobID))
		return
	default:
		s.fail(w, r, p, badRequest("Unknown termination mode %q; the only mode is cancel.", clip(mode)))
		return
	}
	if err := s.cluster.Cancel(r.Context(), p.jobID); err != nil {
		s.fail(w, r, p, err)
		return
	}
	s.writeJSON(w, r, http.StatusAccepted, struct{}{})
}

// GET /jobs/:jobid/checkpoints.
func (s *Server) checkpoints(w http.ResponseWriter, r *http.Request, p params) {
	st, err := s.cluster.Checkpoints(p.jobID)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	st.History = nonNil(st.History)
	s.writeJSON(w, r, http.StatusOK, st)
}

// GET /jobs/:jobid/exceptions: 200 {"exceptionHistory": {"entries": [...],
// "truncated": false}}, Flink's JobExceptionsInfoWithHistory, newest first.
func (s *Server) exceptions(w http.ResponseWriter, r *http.Request, p params) {
	entries, err := s.cluster.Exceptions(p.jobID)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	for i := range entries {
		entries[i].ConcurrentExceptions = nonNil(entries[i].ConcurrentExceptions)
	}
	type history struct {
		Entries   []ExceptionEntry `json:"entries"`
		Truncated bool             `json:"truncated"`
	}
	s.writeJSON(w, r, http.StatusOK, map[string]history{"exceptionHistory": {Entries: nonNil(entries)}})
}

// POST /jobs/:jobid/savepoints: 202 {"request-id": trigger id}.
func (s *Server) triggerSavepoint(w http.ResponseWriter, r *http.Request, p params) {
	var body struct {
		TargetDirectory string `json:"target-directory"`
		CancelJob       bool   `json:"cancel-job"`
		TriggerID       string `json:"triggerId"`
		FormatType      string `json:"formatType"`
	}
	err := readJSON(w, r, &body)
	if err == nil {
		err = checkSavepointFields("target-directory", body.TargetDirectory, body.TriggerID, body.FormatType)
	}
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	id, err := s.cluster.TriggerSavepoint(r.Context(), SavepointRequest{
		JobID: p.jobID, TargetDirectory: body.TargetDirectory, CancelJob: body.CancelJob,
		TriggerID: body.TriggerID, FormatType: body.FormatType,
	})
	s.triggered(w, r, p, id, err)
}

// POST /jobs/:jobid/stop: 202 {"request-id": trigger id}; the status is read
// at /jobs/:jobid/savepoints/:triggerid, as in Flink.
func (s *Server) stopJob(w http.ResponseWriter, r *http.Request, p params) {
	var body struct {
		TargetDirectory string `json:"targetDirectory"`
		Drain           bool   `json:"drain"`
		TriggerID       string `json:"triggerId"`
		FormatType      string `json:"formatType"`
	}
	err := readJSON(w, r, &body)
	if err == nil {
		err = checkSavepointFields("targetDirectory", body.TargetDirectory, body.TriggerID, body.FormatType)
	}
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	id, err := s.cluster.Stop(r.Context(), StopRequest{
		JobID: p.jobID, TargetDirectory: body.TargetDirectory, Drain: body.Drain,
		TriggerID: body.TriggerID, FormatType: body.FormatType,
	})
	s.triggered(w, r, p, id, err)
}

func (s *Server) triggered(w http.ResponseWriter, r *http.Request, p params, triggerID string, err error) {
	if err == nil && !isID(triggerID) {
		err = fmt.Errorf("cluster returned trigger id %q, not 32 lowercase hexadecimal characters", clip(triggerID))
	}
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	s.writeJSON(w, r, http.StatusAccepted, map[string]string{"request-id": triggerID})
}

// checkSavepointFields checks what the dispatcher can check of a savepoint or
// stop body; the directory itself is the Cluster's to resolve.
func checkSavepointFields(dirField, dir, triggerID, format string) error {
	if strings.ContainsFunc(dir, func(c rune) bool { return c < ' ' || c == 0x7f }) {
		return badRequest("%s must not contain control characters.", dirField)
	}
	if triggerID != "" && !isID(triggerID) {
		return badRequest("triggerId must be 32 lowercase hexadecimal characters, got %q.", clip(triggerID))
	}
	switch format {
	case "", "CANONICAL", "NATIVE":
		return nil
	}
	return badRequest("formatType must be CANONICAL or NATIVE, got %q.", clip(format))
}

// GET /jobs/:jobid/savepoints/:triggerid (Flink's AsynchronousOperationResult).
func (s *Server) savepointStatus(w http.ResponseWriter, r *http.Request, p params) {
	op, err := s.cluster.SavepointStatus(p.jobID, p.triggerID)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	type queueStatus struct {
		ID string `json:"id"`
	}
	type savepointInfo struct {
		Location     string        `json:"location,omitempty"`
		FailureCause *FailureCause `json:"failure-cause,omitempty"`
	}
	var body struct {
		Status    queueStatus    `json:"status"`
		Operation *savepointInfo `json:"operation,omitempty"`
	}
	body.Status.ID = "IN_PROGRESS"
	if op.Done {
		body.Status.ID = "COMPLETED"
		body.Operation = &savepointInfo{Location: op.Location, FailureCause: op.Failure}
		if op.Failure != nil {
			body.Operation.Location = ""
		}
	}
	s.writeJSON(w, r, http.StatusOK, body)
}

// GET /taskmanagers.
func (s *Server) taskManagers(w http.ResponseWriter, r *http.Request, _ params) {
	s.writeJSON(w, r, http.StatusOK, map[string]any{"taskmanagers": nonNil(s.cluster.TaskManagers())})
}

// GET /jobmanager/config: [{key, value}], secrets masked.
func (s *Server) jobManagerConfig(w http.ResponseWriter, r *http.Request, _ params) {
	entries := []ConfigEntry{}
	for _, e := range s.cluster.Config() {
		if isSensitive(e.Key) {
			e.Value = hiddenValue
		}
		entries = append(entries, e)
	}
	s.writeJSON(w, r, http.StatusOK, entries)
}

// GET /metrics: the Cluster's Prometheus text, as it wrote it.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request, p params) {
	var buf bytes.Buffer
	if err := s.cluster.Metrics(&buf); err != nil {
		s.fail(w, r, p, fmt.Errorf("metrics: %w", err))
		return
	}
	s.send(w, r, startOf(r), http.StatusOK, contentTypeMetrics, buf.Bytes(), nil)
}

// nonNil makes a nil slice encode as [] rather than null: Flink never sends
// null for a list.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func planOrEmpty(p json.RawMessage) json.RawMessage {
	if len(p) == 0 {
		return json.RawMessage(`{}`)
	}
	return p
}
