package dispatcher

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// newTestServer returns a server over a fresh fake, with the clock pinned.
func newTestServer(t testing.TB, opts Options) (*Server, *fakeCluster) {
	t.Helper()
	f := &fakeCluster{}
	if opts.Version == "" {
		opts.Version = "0.1.0"
	}
	if opts.Commit == "" {
		opts.Commit = "abc1234"
	}
	s := New(f, opts)
	s.now = func() time.Time { return time.Date(2024, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600)) }
	return s, f
}

// rawRequest parses a request exactly as net/http's server does, so that
// RequestURI, RawPath and Path are what a client on the wire would produce.
func rawRequest(t testing.TB, method, target, body, contentType string) (*http.Request, error) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n", method, target, len(body))
	if contentType != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", contentType)
	}
	b.WriteString("\r\n" + body)
	return http.ReadRequest(bufio.NewReader(strings.NewReader(b.String())))
}

// assertJSON compares two JSON documents as decoded values. want may be
// "@name" for testdata/name.json.
func assertJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	if strings.HasPrefix(want, "@") {
		data, err := os.ReadFile(filepath.Join("testdata", want[1:]+".json"))
		if err != nil {
			t.Fatal(err)
		}
		want = string(data)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation: %v\n%s", err, want)
	}
	if !reflect.DeepEqual(g, w) {
		gi, _ := json.MarshalIndent(g, "", "  ")
		wi, _ := json.MarshalIndent(w, "", "  ")
		t.Errorf("body mismatch\n got: %s\nwant: %s", gi, wi)
	}
}

func errorBody(msg string) string {
	b, _ := json.Marshal(map[string][]string{"errors": {msg}})
	return string(b)
}

type routeCase struct {
	name      string
	method    string
	path      string // {v} is replaced by "" and "/v1"
	body      string
	status    int
	want      string   // JSON, "@golden", or the exact text for non-JSON answers
	calls     []string // exact Cluster calls, in order; nil means none
	allow     string   // expected Allow header (405)
	ctype     string   // expected Content-Type; empty means JSON
	noV1      bool     // run only as written
	setup     func(*fakeCluster)
	headNoDoc bool
}

func routeCases() []routeCase {
	notFound := func(id string) string { return errorBody("Job " + id + " not found") }
	return []routeCase{
		// Cluster-wide reads.
		{name: "config", method: "GET", path: "{v}/config", status: 200,
			want: `{"refresh-interval":3000,"timezone-name":"CET","timezone-offset":3600000,"flink-version":"spate-0.1.0","flink-revision":"abc1234",
				"features":{"web-submit":false,"web-cancel":true,"web-rescale":false,"web-history":false}}`},
		{name: "overview", method: "GET", path: "{v}/overview", status: 200,
			want: `{"taskmanagers":2,"slots-total":8,"slots-available":5,"jobs-running":1,"jobs-finished":1,"jobs-cancelled":0,"jobs-failed":0,
				"flink-version":"spate-0.1.0","flink-commit":"abc1234"}`,
			calls: []string{"Overview()"}},
		{name: "overview trailing slash", method: "GET", path: "{v}/overview/", status: 200,
			want: `{"taskmanagers":2,"slots-total":8,"slots-available":5,"jobs-running":1,"jobs-finished":1,"jobs-cancelled":0,"jobs-failed":0,
				"flink-version":"spate-0.1.0","flink-commit":"abc1234"}`,
			calls: []string{"Overview()"}},
		{name: "head overview", method: "HEAD", path: "{v}/overview", status: 200, calls: []string{"Overview()"}, headNoDoc: true},
		{name: "jobs", method: "GET", path: "{v}/jobs", status: 200,
			want:  `{"jobs":[{"id":"` + jobA + `","status":"RUNNING"},{"id":"` + jobB + `","status":"FINISHED"}]}`,
			calls: []string{"Jobs()"}},
		{name: "jobs overview", method: "GET", path: "{v}/jobs/overview", status: 200, want: "@jobs_overview", calls: []string{"Jobs()"}},
		{name: "taskmanagers", method: "GET", path: "{v}/taskmanagers", status: 200,
			want: `{"taskmanagers":[{"id":"container_1700000000000_0001_01_000002","path":"10.0.0.5:35001","dataPort":35002,"jmxPort":-1,
				"timeSinceLastHeartbeat":1700000059000,"slotsNumber":4,"freeSlots":1,"blocked":false,
				"hardware":{"cpuCores":8,"physicalMemory":34359738368,"freeMemory":1073741824,"managedMemory":536870912}}]}`,
			calls: []string{"TaskManagers()"}},
		{name: "jobmanager config masks secrets", method: "GET", path: "{v}/jobmanager/config", status: 200,
			want: `[{"key":"state.checkpoints.dir","value":"hdfs:///ckpt"},{"key":"security.ssl.rest.keystore-password","value":"******"},
				{"key":"rest.auth.Token","value":"******"},{"key":"taskmanager.numberOfTaskSlots","value":"4"}]`,
			calls: []string{"Config()"}},
		{name: "metrics", method: "GET", path: "{v}/metrics", status: 200, want: promText, ctype: contentTypeMetrics, calls: []string{"Metrics()"}},
		{name: "metrics error", method: "GET", path: "{v}/metrics", status: 500, want: errorBody(msgInternal), calls: []string{"Metrics()"},
			setup: func(f *fakeCluster) { f.metricsErr = errors.New("registry closed") }},

		// One job.
		{name: "job details", method: "GET", path: "{v}/jobs/" + jobA, status: 200, want: "@job_details", calls: []string{"Job(" + jobA + ")"}},
		{name: "job details, empty lists", method: "GET", path: "{v}/jobs/" + jobB, status: 200,
			want: `{"jid":"` + jobB + `","name":"backfill","isStoppable":false,"state":"FINISHED","start-time":1690000000000,"end-time":1690000100000,
				"duration":100000,"maxParallelism":-1,"now":1700000060000,"timestamps":{"FINISHED":1690000100000},"vertices":[],"status-counts":{},"plan":{}}`,
			calls: []string{"Job(" + jobB + ")"}},
		{name: "job unknown", method: "GET", path: "{v}/jobs/" + jobUnknown, status: 404, want: notFound(jobUnknown), calls: []string{"Job(" + jobUnknown + ")"}},
		{name: "plan", method: "GET", path: "{v}/jobs/" + jobA + "/plan", status: 200,
			want:  `{"plan":{"jid":"` + jobA + `","name":"wordcount","type":"STREAMING","nodes":[{"id":"` + vertexA + `","parallelism":2}]}}`,
			calls: []string{"Job(" + jobA + ")"}},
		{name: "plan unknown job", method: "GET", path: "{v}/jobs/" + jobUnknown + "/plan", status: 404, want: notFound(jobUnknown), calls: []string{"Job(" + jobUnknown + ")"}},
		{name: "checkpoints", method: "GET", path: "{v}/jobs/" + jobA + "/checkpoints", status: 200, want: "@checkpoints", calls: []string{"Checkpoints(" + jobA + ")"}},
		{name: "checkpoints disabled", method: "GET", path: "{v}/jobs/" + jobB + "/checkpoints", status: 404,
			want: errorBody("Checkpointing has not been enabled for job " + jobB + "."), calls: []string{"Checkpoints(" + jobB + ")"}},
		{name: "checkpoints unknown job", method: "GET", path: "{v}/jobs/" + jobUnknown + "/checkpoints", status: 404, want: notFound(jobUnknown),
			calls: []string{"Checkpoints(" + jobUnknown + ")"}},

		{name: "exceptions", method: "GET", path: "{v}/jobs/" + jobA + "/exceptions", status: 200,
			want: `{"exceptionHistory":{"entries":[{"exceptionName":"TaskFailure","stacktrace":"map: boom\nmain.tokenize (job.go:42)","timestamp":1700000055000,
				"taskName":"Map (1/2)","location":"tm-1","concurrentExceptions":[]}],"truncated":false}}`,
			calls: []string{"Exceptions(" + jobA + ")"}},
		{name: "exceptions, none", method: "GET", path: "{v}/jobs/" + jobB + "/exceptions", status: 200,
			want: `{"exceptionHistory":{"entries":[],"truncated":false}}`, calls: []string{"Exceptions(" + jobB + ")"}},
		{name: "exceptions unknown job", method: "GET", path: "{v}/jobs/" + jobUnknown + "/exceptions", status: 404, want: notFound(jobUnknown),
			calls: []string{"Exceptions(" + jobUnknown + ")"}},

		// Cancel.
		{name: "cancel", method: "PATCH", path: "{v}/jobs/" + jobA + "?mode=cancel", status: 202, want: `{}`, calls: []string{"Cancel(" + jobA + ")"}},
		{name: "cancel, no mode", method: "PATCH", path: "{v}/jobs/" + jobA, status: 202, want: `{}`, calls: []string{"Cancel(" + jobA + ")"}},
		{name: "cancel, upper case", method: "PATCH", path: "{v}/jobs/" + jobA + "?mode=CANCEL", status: 202, want: `{}`, calls: []string{"Cancel(" + jobA + ")"}},
		{name: "cancel ended job", method: "PATCH", path: "{v}/jobs/" + jobB + "?mode=cancel", status: 409,
			want: errorBody("conflict: job " + jobB + " has already finished"), calls: []string{"Cancel(" + jobB + ")"}},
		{name: "cancel unknown job", method: "PATCH", path: "{v}/jobs/" + jobUnknown + "?mode=cancel", status: 404, want: notFound(jobUnknown),
			calls: []string{"Cancel(" + jobUnknown + ")"}},
		{name: "mode=stop", method: "PATCH", path: "{v}/jobs/" + jobA + "?mode=stop", status: 400,
			want: errorBody("mode=stop is not supported; stop a job with POST /jobs/" + jobA + "/stop.")},
		{name: "unknown mode", method: "PATCH", path: "{v}/jobs/" + jobA + "?mode=kill", status: 400,
			want: errorBody(`Unknown termination mode "kill"; the only mode is cancel.`)},

		// Savepoints.
		{name: "savepoint", method: "POST", path: "{v}/jobs/" + jobA + "/savepoints", body: `{"target-directory":"hdfs:///sp","cancel-job":true}`,
			status: 202, want: `{"request-id":"` + trigNew + `"}`,
			calls: []string{"TriggerSavepoint({JobID:" + jobA + " TargetDirectory:hdfs:///sp CancelJob:true TriggerID: FormatType:})"}},
		{name: "savepoint with client trigger id and format", method: "POST", path: "{v}/jobs/" + jobA + "/savepoints",
			body:   `{"target-directory":"hdfs:///sp","triggerId":"` + trigB + `","formatType":"NATIVE"}`,
			status: 202, want: `{"request-id":"` + trigB + `"}`,
			calls: []string{"TriggerSavepoint({JobID:" + jobA + " TargetDirectory:hdfs:///sp CancelJob:false TriggerID:" + trigB + " FormatType:NATIVE})", "requested trigger"}},
		{name: "savepoint, empty body, no default dir", method: "POST", path: "{v}/jobs/" + jobA + "/savepoints", status: 400,
			want:  errorBody("invalid request: no savepoint directory: pass one or set state.savepoints.dir"),
			calls: []string{"TriggerSavepoint({JobID:" + jobA + " TargetDirectory: CancelJob:false TriggerID: FormatType:})"}},
		{name: "savepoint of ended job", method: "POST", path: "{v}/jobs/" + jobB + "/savepoints", body: `{"target-directory":"hdfs:///sp"}`, status: 409,
			want:  errorBody("conflict: job " + jobB + " has already finished"),
			calls: []string{"TriggerSavepoint({JobID:" + jobB + " TargetDirectory:hdfs:///sp CancelJob:false TriggerID: FormatType:})"}},
		{name: "savepoint of unknown job", method: "POST", path: "{v}/jobs/" + jobUnknown + "/savepoints", body: `{"target-directory":"hdfs:///sp"}`, status: 404,
			want:  notFound(jobUnknown),
			calls: []string{"TriggerSavepoint({JobID:" + jobUnknown + " TargetDirectory:hdfs:///sp CancelJob:false TriggerID: FormatType:})"}},
		{name: "savepoint, stop's field name", method: "POST", path: "{v}/jobs/" + jobA + "/savepoints", body: `{"targetDirectory":"hdfs:///sp"}`, status: 400,
			want: errorBody(`Request body is not valid for this request: json: unknown field "targetDirectory"`)},
		{name: "savepoint, bad JSON", method: "POST", path: "{v}/jobs/" + jobA + "/savepoints", body: `{"target-directory":`, status: 400,
			want: errorBody("Request body is not valid for this request: unexpected EOF")},
		{name: "savepoint, two objects", method: "POST", path: "{v}/jobs/" + jobA + "/savepoints", body: `{} {}`, status: 400,
			want: errorBody("Request body is not valid for this request: data after the JSON object.")},
		{name: "savepoint, bad trigger id", method: "POST", path: "{v}/jobs/" + jobA + "/savepoints", body: `{"triggerId":"../x"}`, status: 400,
			want: errorBody(`triggerId must be 32 lowercase hexadecimal characters, got "../x".`)},
		{name: "savepoint, bad format", method: "POST", path: "{v}/jobs/" + jobA + "/savepoints", body: `{"formatType":"ZIP"}`, status: 400,
			want: errorBody(`formatType must be CANONICAL or NATIVE, got "ZIP".`)},
		{name: "savepoint, NUL in directory", method: "POST", path: "{v}/jobs/" + jobA + "/savepoints", body: `{"target-directory":"/sp\u0000x"}`, status: 400,
			want: errorBody("target-directory must not contain control characters.")},
		{name: "savepoint, body too large", method: "POST", path: "{v}/jobs/" + jobA + "/savepoints",
			body: `{"target-directory":"` + strings.Repeat("a", maxRequestBody) + `"}`, status: 413,
			want: errorBody("Request body exceeds the limit of 1048576 bytes for this request.")},
		{name: "savepoint in progress", method: "GET", path: "{v}/jobs/" + jobA + "/savepoints/" + trigA, status: 200,
			want: `{"status":{"id":"IN_PROGRESS"}}`, calls: []string{"SavepointStatus(" + jobA + ", " + trigA + ")"}},
		{name: "savepoint completed", method: "GET", path: "{v}/jobs/" + jobA + "/savepoints/" + trigB, status: 200,
			want: `{"status":{"id":"COMPLETED"},"operation":{"location":"hdfs:///sp/savepoint-5e0f9c-2"}}`, calls: []string{"SavepointStatus(" + jobA + ", " + trigB + ")"}},
		{name: "savepoint failed", method: "GET", path: "{v}/jobs/" + jobA + "/savepoints/" + trigC, status: 200,
			want:  `{"status":{"id":"COMPLETED"},"operation":{"failure-cause":{"class":"checkpoint.ErrDeclined","stack-trace":"savepoint 9 declined by Count (1/1): not running"}}}`,
			calls: []string{"SavepointStatus(" + jobA + ", " + trigC + ")"}},
		{name: "savepoint unknown trigger", method: "GET", path: "{v}/jobs/" + jobA + "/savepoints/" + trigNew, status: 404,
			want:  errorBody("There is no savepoint operation with triggerId=" + trigNew + " for job " + jobA + "."),
			calls: []string{"SavepointStatus(" + jobA + ", " + trigNew + ")"}},
		{name: "savepoint status, unknown job", method: "GET", path: "{v}/jobs/" + jobUnknown + "/savepoints/" + trigA, status: 404,
			want: notFound(jobUnknown), calls: []string{"SavepointStatus(" + jobUnknown + ", " + trigA + ")"}},
		{name: "cluster returns a bad trigger id", method: "POST", path: "{v}/jobs/" + jobA + "/savepoints", body: `{"target-directory":"d"}`, status: 500,
			want:  errorBody(msgInternal),
			calls: []string{"TriggerSavepoint({JobID:" + jobA + " TargetDirectory:d CancelJob:false TriggerID: FormatType:})"},
			setup: func(f *fakeCluster) { f.triggerID = "not-an-id" }},

		// Stop.
		{name: "stop", method: "POST", path: "{v}/jobs/" + jobA + "/stop", body: `{"targetDirectory":"hdfs:///sp","drain":true}`, status: 202,
			want:  `{"request-id":"` + trigNew + `"}`,
			calls: []string{"Stop({JobID:" + jobA + " TargetDirectory:hdfs:///sp Drain:true TriggerID: FormatType:})"}},
		{name: "stop, savepoint's field name", method: "POST", path: "{v}/jobs/" + jobA + "/stop", body: `{"target-directory":"hdfs:///sp"}`, status: 400,
			want: errorBody(`Request body is not valid for this request: json: unknown field "target-directory"`)},
		{name: "stop ended job", method: "POST", path: "{v}/jobs/" + jobB + "/stop", body: `{"targetDirectory":"x"}`, status: 409,
			want:  errorBody("conflict: job " + jobB + " has already finished"),
			calls: []string{"Stop({JobID:" + jobB + " TargetDirectory:x Drain:false TriggerID: FormatType:})"}},

		// Routing errors: nothing reaches the cluster.
		{name: "unknown path", method: "GET", path: "{v}/foo", status: 404, want: errorBody("Not found: {v}/foo")},
		{name: "unknown subpath", method: "GET", path: "{v}/jobs/" + jobA + "/accumulators", status: 404, want: errorBody("Not found: {v}/jobs/" + jobA + "/accumulators")},
		{name: "empty segment", method: "GET", path: "{v}/jobs//checkpoints", status: 404, want: errorBody("Not found: {v}/jobs//checkpoints")},
		{name: "index.html under v1", method: "GET", path: "/v1/index.html", status: 404, want: errorBody("Not found: /v1/index.html"), noV1: true},
		{name: "v1 alone", method: "GET", path: "/v1", status: 404, want: errorBody("Not found: /v1"), noV1: true},
		{name: "unsupported version", method: "GET", path: "/v2/jobs", status: 404, want: errorBody("Not found: /v2/jobs"), noV1: true},
		{name: "DELETE overview", method: "DELETE", path: "{v}/jobs/overview", status: 405, allow: "GET, HEAD",
			want: errorBody("Method DELETE is not allowed on {v}/jobs/overview; allowed: GET, HEAD.")},
		{name: "PUT jobs", method: "PUT", path: "{v}/jobs", status: 405, allow: "GET, HEAD, POST",
			want: errorBody("Method PUT is not allowed on {v}/jobs; allowed: GET, HEAD, POST.")},
		{name: "GET stop", method: "GET", path: "{v}/jobs/" + jobA + "/stop", status: 405, allow: "POST",
			want: errorBody("Method GET is not allowed on {v}/jobs/" + jobA + "/stop; allowed: POST.")},
		{name: "GET savepoints", method: "GET", path: "{v}/jobs/" + jobA + "/savepoints", status: 405, allow: "POST",
			want: errorBody("Method GET is not allowed on {v}/jobs/" + jobA + "/savepoints; allowed: POST.")},
		{name: "DELETE job", method: "DELETE", path: "{v}/jobs/" + jobA, status: 405, allow: "GET, HEAD, PATCH",
			want: errorBody("Method DELETE is not allowed on {v}/jobs/" + jobA + "; allowed: GET, HEAD, PATCH.")},

		// Parameter validation: nothing reaches the cluster.
		{name: "short job id", method: "GET", path: "{v}/jobs/abc", status: 400,
			want: errorBody(`Invalid job id "abc": a job id is 32 lowercase hexadecimal characters.`)},
		{name: "upper-case job id", method: "GET", path: "{v}/jobs/" + strings.ToUpper(jobA), status: 400,
			want: errorBody(`Invalid job id "` + strings.ToUpper(jobA) + `": a job id is 32 lowercase hexadecimal characters.`)},
		{name: "33-character job id", method: "GET", path: "{v}/jobs/" + jobA + "0/checkpoints", status: 400,
			want: errorBody(`Invalid job id "` + jobA + `0": a job id is 32 lowercase hexadecimal characters.`)},
		{name: "non-hex job id", method: "PATCH", path: "{v}/jobs/" + strings.Repeat("g", 32) + "?mode=cancel", status: 400,
			want: errorBody(`Invalid job id "` + strings.Repeat("g", 32) + `": a job id is 32 lowercase hexadecimal characters.`)},
		{name: "bad trigger id", method: "GET", path: "{v}/jobs/" + jobA + "/savepoints/latest", status: 400,
			want: errorBody(`Invalid trigger id "latest": a trigger id is 32 lowercase hexadecimal characters.`)},
		{name: "bad job id on stop", method: "POST", path: "{v}/jobs/overview/stop", body: `{}`, status: 400,
			want: errorBody(`Invalid job id "overview": a job id is 32 lowercase hexadecimal characters.`)},
	}
}

// TestRoutes runs every route, as written and under /v1/, against a fresh
// fake, and checks the exact status, body, headers and Cluster calls.
func TestRoutes(t *testing.T) {
	for _, tc := range routeCases() {
		prefixes := []string{"", "/v1"}
		if tc.noV1 {
			prefixes = []string{""}
		}
		for _, v := range prefixes {
			path := strings.ReplaceAll(tc.path, "{v}", v)
			t.Run(tc.name+" "+path, func(t *testing.T) {
				s, f := newTestServer(t, Options{})
				if tc.setup != nil {
					tc.setup(f)
				}
				r := httptest.NewRequest(tc.method, path, strings.NewReader(tc.body))
				w := httptest.NewRecorder()
				s.Handler().ServeHTTP(w, r)

				if w.Code != tc.status {
					t.Fatalf("status %d, want %d; body %s", w.Code, tc.status, w.Body)
				}
				ctype := tc.ctype
				if ctype == "" {
					ctype = contentTypeJSON
				}
				if got := w.Header().Get("Content-Type"); got != ctype {
					t.Errorf("Content-Type %q, want %q", got, ctype)
				}
				if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
					t.Errorf("X-Content-Type-Options %q", got)
				}
				if got := w.Header().Get("Allow"); got != tc.allow {
					t.Errorf("Allow %q, want %q", got, tc.allow)
				}
				switch {
				case tc.headNoDoc:
				case ctype != contentTypeJSON:
					if w.Body.String() != tc.want {
						t.Errorf("body %q, want %q", w.Body, tc.want)
					}
				default:
					assertJSON(t, w.Body.Bytes(), strings.ReplaceAll(tc.want, "{v}", v))
				}
				if got := f.Calls(); !slices.Equal(got, tc.calls) {
					t.Errorf("calls %q, want %q", got, tc.calls)
				}
				if bad := f.BadIDs(); len(bad) > 0 {
					t.Errorf("cluster saw invalid ids %q", bad)
				}
			})
		}
	}
}

// traversals are request targets that try to leave or re-enter the route
// table through decoding; each must be refused before routing.
var traversals = []string{
	"/jobs/..%2f..%2fetc",
	"/jobs/..%2F..%2Fetc%2Fpasswd",
	"/jobs/%2e%2e/checkpoints",
	"/jobs/%2E%2E/checkpoints",
	"/jobs/.%2e/config",
	"/jobs/%2e./config",
	"/jobs/%252e%252e",
	"/jobs/%252e%252e%252fconfig",
	"/jobs/%252f",
	"/v1/jobs/../config",
	"/jobs/../jobs/" + jobA,
	"/v1/jobs/" + jobA + "/savepoints/..",
	"/jobs/..\\etc",
	"/jobs/" + jobA + "\\checkpoints",
	"/jobs/%5c..%5cetc",
	"/jobs/%00",
	"/jobs/" + jobA + "%00",
	"/v1/jobs/" + jobA + "%2fcheckpoints", // decodes to a real route: must still be refused
	"/v1/jobs/" + jobA + "/savepoints%2f" + trigA,
	"/jobs/%35e0f9c0f58b7c3b5d8c3a1f0e2d4b6a8", // an encoded hex digit
	"/%6aobs/overview",
	"/jobs/overview%3f",
	"/jobs/\u00e9",
}

// TestTraversalRefused checks that traversal attempts get 400 with Flink's
// error body and never reach the Cluster, whatever the method.
func TestTraversalRefused(t *testing.T) {
	for _, target := range traversals {
		for _, method := range []string{"GET", "POST", "PATCH"} {
			t.Run(method+" "+target, func(t *testing.T) {
				s, f := newTestServer(t, Options{})
				r, err := rawRequest(t, method, target, `{"target-directory":"x"}`, "application/json")
				if err != nil {
					t.Fatalf("parse %q: %v", target, err)
				}
				w := httptest.NewRecorder()
				s.Handler().ServeHTTP(w, r)
				if w.Code != http.StatusBadRequest {
					t.Errorf("status %d, want 400; body %s", w.Code, w.Body)
				}
				assertJSON(t, w.Body.Bytes(), errorBody(msgUnsafePath))
				if calls := f.Calls(); len(calls) > 0 {
					t.Errorf("cluster was called: %q", calls)
				}
			})
		}
	}
}

// TestTraversalDecodedOnly covers requests built in code, whose URL carries
// a decoded path and no raw form: the decoded path is checked as well.
func TestTraversalDecodedOnly(t *testing.T) {
	for _, p := range []string{"/jobs/../config", "/jobs/" + jobA + "/..", "/jobs/a\\b", "/jobs/\x00", "/jobs/%2e%2e", "jobs/overview", ""} {
		s, f := newTestServer(t, Options{})
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path, r.URL.RawPath, r.RequestURI = p, "", ""
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, r)
		if w.Code != http.StatusBadRequest || len(f.Calls()) > 0 {
			t.Errorf("%q: status %d, calls %q; want 400 and none", p, w.Code, f.Calls())
		}
	}
}

// TestClusterErrors checks how errors the Cluster returns are answered: the
// sentinel decides the status; only non-internal texts are sent.
func TestClusterErrors(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		want   string
	}{
		{ErrJobNotFound, 404, "Job " + jobA + " not found"},
		{fmt.Errorf("lookup: %w", ErrJobNotFound), 404, "Job " + jobA + " not found"},
		{fmt.Errorf("%w: the JobManager is shutting down", ErrUnavailable), 503, "unavailable: the JobManager is shutting down"},
		{fmt.Errorf("%w: restarting", ErrConflict), 409, "conflict: restarting"},
		{fmt.Errorf("%w: bad plan", ErrInvalidRequest), 400, "invalid request: bad plan"},
		{fmt.Errorf("rpc: %w", errors.Join(errors.New("x"), context.Canceled)), 503, "The request was cancelled before it completed."},
		{errors.New("hdfs: connection refused to namenode:8020"), 500, msgInternal},
	} {
		s, f := newTestServer(t, Options{})
		f.jobErr = tc.err
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/jobs/"+jobA, nil))
		if w.Code != tc.status {
			t.Errorf("%v: status %d, want %d", tc.err, w.Code, tc.status)
		}
		assertJSON(t, w.Body.Bytes(), errorBody(tc.want))
	}
}

// TestDefaults checks the Options defaults, loopback above all.
func TestDefaults(t *testing.T) {
	s := New(&fakeCluster{}, Options{})
	if s.opts.Address != "127.0.0.1:8081" {
		t.Errorf("default address %q, want loopback 127.0.0.1:8081", s.opts.Address)
	}
	if s.opts.MaxContentLength != 512<<20 {
		t.Errorf("default max content length %d", s.opts.MaxContentLength)
	}
	if s.version() != "spate-dev" {
		t.Errorf("default version %q", s.version())
	}
}

// TestStartClose serves over a real socket on port 0: the bound address is
// returned, the /v1/ alias and a raw traversal behave as in process, and
// Close stops the server.
func TestStartClose(t *testing.T) {
	s, f := newTestServer(t, Options{Address: "127.0.0.1:0"})
	addr, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if strings.HasSuffix(addr, ":0") || !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("Start returned %q", addr)
	}
	if _, err := s.Start(); err == nil {
		t.Error("second Start succeeded")
	}

	resp, err := http.Get("http://" + addr + "/v1/overview")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != contentTypeJSON {
		t.Fatalf("GET /v1/overview: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}

	for _, target := range traversals {
		status := rawStatus(t, addr, "GET "+target+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if status != http.StatusBadRequest {
			t.Errorf("GET %q over TCP: status %d, want 400", target, status)
		}
	}
	if calls := f.Calls(); !slices.Equal(calls, []string{"Overview()"}) {
		t.Errorf("calls %q", calls)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + addr + "/overview"); err == nil {
		t.Error("server still answers after Close")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// rawStatus sends a request as raw bytes, so that no client library
// normalizes its target, and returns the response's status.
func rawStatus(t *testing.T, addr, request string) int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response to %q: %v", request, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestShutdown stops a started server gracefully.
func TestShutdown(t *testing.T) {
	s, _ := newTestServer(t, Options{Address: "127.0.0.1:0"})
	addr, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + addr + "/overview"); err == nil {
		t.Error("server still answers after Shutdown")
	}
}
