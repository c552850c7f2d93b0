package dispatcher

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	contentTypeJSON    = "application/json; charset=UTF-8"
	contentTypeMetrics = "text/plain; version=0.0.4; charset=utf-8"
	contentTypeText    = "text/plain; charset=utf-8"

	// maxRequestBody bounds the JSON bodies of the savepoint and stop
	// requests; POST /jobs has its own, configurable limit.
	maxRequestBody = 1 << 20

	msgUnsafePath = "Bad request: the path must be plain ASCII without '..', backslashes or percent-encoding."
	msgInternal   = "Internal server error."
)

// serve is the whole request path: check the path, route, check the method,
// validate the parameters, and only then call the handler. Nothing before
// the handler touches the Cluster.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if !safePath(r) {
		s.sendError(w, r, start, http.StatusBadRequest, msgUnsafePath, nil)
		return
	}
	if s.serveUI(w, r, start) {
		return
	}
	rt, raw := match(stripVersion(r.URL.Path))
	if rt == nil {
		s.sendError(w, r, start, http.StatusNotFound, "Not found: "+clip(r.URL.Path), nil)
		return
	}
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet // net/http drops the body
	}
	h := rt.methods[method]
	if h == nil {
		w.Header().Set("Allow", rt.allow())
		s.sendError(w, r, start, http.StatusMethodNotAllowed,
			fmt.Sprintf("Method %s is not allowed on %s; allowed: %s.", clip(r.Method), clip(r.URL.Path), rt.allow()), nil)
		return
	}
	var p params
	if id, ok := raw[":jobid"]; ok {
		if !isID(id) {
			s.sendError(w, r, start, http.StatusBadRequest,
				fmt.Sprintf("Invalid job id %q: a job id is 32 lowercase hexadecimal characters.", clip(id)), nil)
			return
		}
		p.jobID = id
	}
	if id, ok := raw[":vertexid"]; ok {
		if !isID(id) {
			s.sendError(w, r, start, http.StatusBadRequest,
				fmt.Sprintf("Invalid vertex id %q: a vertex id is 32 lowercase hexadecimal characters.", clip(id)), nil)
			return
		}
		p.vertexID = id
	}
	if id, ok := raw[":taskmanagerid"]; ok {
		if !isResourceID(id) {
			s.sendError(w, r, start, http.StatusBadRequest,
				fmt.Sprintf("Invalid TaskManager id %q: letters, digits, '.', '_' and '-', at most 128.", clip(id)), nil)
			return
		}
		p.taskManagerID = id
	}
	if id, ok := raw[":triggerid"]; ok {
		if !isID(id) {
			s.sendError(w, r, start, http.StatusBadRequest,
				fmt.Sprintf("Invalid trigger id %q: a trigger id is 32 lowercase hexadecimal characters.", clip(id)), nil)
			return
		}
		p.triggerID = id
	}
	if r.Body == nil {
		r.Body = http.NoBody // a request built in code; servers always set one
	}
	h(s, w, withStart(r, start), p)
}

// requestError is an answer decided by the dispatcher itself: a malformed
// body, a missing part, a limit exceeded.
type requestError struct {
	status int
	msg    string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &requestError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// writeJSON encodes v first, so that an encoding error is still a clean 500.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		s.fail(w, r, params{}, fmt.Errorf("encode response: %w", err))
		return
	}
	s.send(w, r, startOf(r), status, contentTypeJSON, body, nil)
}

// fail answers err: the dispatcher's own requestError, or a Cluster error
// classified by the sentinel it wraps. Only 4xx and 503 texts reach the
// client; a 500 is logged with its cause and answered with a fixed text.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, p params, err error) {
	var re *requestError
	var tooLarge *http.MaxBytesError
	status, msg := http.StatusInternalServerError, msgInternal
	switch {
	case errors.As(err, &re):
		status, msg = re.status, re.msg
	case errors.As(err, &tooLarge):
		status, msg = http.StatusRequestEntityTooLarge,
			fmt.Sprintf("Request body exceeds the limit of %d bytes.", tooLarge.Limit)
	case errors.Is(err, ErrJobNotFound):
		status, msg = http.StatusNotFound, fmt.Sprintf("Job %s not found", p.jobID)
	case errors.Is(err, ErrOperationNotFound):
		status, msg = http.StatusNotFound,
			fmt.Sprintf("There is no savepoint operation with triggerId=%s for job %s.", p.triggerID, p.jobID)
	case errors.Is(err, ErrCheckpointingDisabled):
		status, msg = http.StatusNotFound, fmt.Sprintf("Checkpointing has not been enabled for job %s.", p.jobID)
	case errors.Is(err, ErrNotFound):
		status, msg = http.StatusNotFound, err.Error()
	case errors.Is(err, ErrInvalidRequest):
		status, msg = http.StatusBadRequest, err.Error()
	case errors.Is(err, ErrConflict):
		status, msg = http.StatusConflict, err.Error()
	case errors.Is(err, ErrUnavailable):
		status, msg = http.StatusServiceUnavailable, err.Error()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		status, msg = http.StatusServiceUnavailable, "The request was cancelled before it completed."
	}
	var cause error
	if status == http.StatusInternalServerError {
		cause = err
	}
	s.sendError(w, r, startOf(r), status, msg, cause)
}

// sendError writes Flink's error body, {"errors": [msg]}.
func (s *Server) sendError(w http.ResponseWriter, r *http.Request, start time.Time, status int, msg string, cause error) {
	body, _ := json.Marshal(struct {
		Errors []string `json:"errors"`
	}{[]string{msg}}) // cannot fail: a string slice
	s.send(w, r, start, status, contentTypeJSON, body, cause)
}

// send is where every response is written and logged.
func (s *Server) send(w http.ResponseWriter, r *http.Request, start time.Time, status int, contentType string, body []byte, cause error) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, werr := w.Write(body)

	ev := s.log.Debug()
	if status >= http.StatusInternalServerError {
		ev = s.log.Error().Err(cause)
	}
	ev.Str("method", clip(r.Method)).
		Str("path", clip(r.URL.EscapedPath())).
		Int("status", status).
		Dur("took", time.Since(start)).
		AnErr("write", werr).
		Msg("REST request")
}

// readJSON decodes a request body of at most maxRequestBody bytes into v,
// refusing fields v does not have (a misspelt "targetDirectory" must not
// silently send a savepoint to the default directory). An empty body leaves
// v as it is: Flink's bodies are all optional.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &requestError{http.StatusRequestEntityTooLarge,
				fmt.Sprintf("Request body exceeds the limit of %d bytes for this request.", int64(maxRequestBody))}
		}
		return badRequest("Could not read the request body: %v", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("Request body is not valid for this request: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("Request body is not valid for this request: data after the JSON object.")
	}
	return nil
}

// clip bounds what is echoed of a client's input in answers and logs.
func clip(s string) string {
	const n = 200
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// The request's start time travels in its context, so that handlers' answers
// are logged with the time the whole request took.
type startKey struct{}

func withStart(r *http.Request, t time.Time) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), startKey{}, t))
}

func startOf(r *http.Request) time.Time {
	if t, ok := r.Context().Value(startKey{}).(time.Time); ok {
		return t
	}
	return time.Now()
}

// sensitiveKeys are the substrings that make a configuration key secret,
// Flink's list (GlobalConfiguration.SENSITIVE_KEYS); their values are masked.
var sensitiveKeys = []string{
	"password", "secret", "fs.azure.account.key", "apikey", "api-key", "auth-params",
	"service-key", "token", "basic-auth", "jaas.config", "http-headers",
}

const hiddenValue = "******"

func isSensitive(key string) bool {
	k := strings.ToLower(key)
	for _, s := range sensitiveKeys {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}
