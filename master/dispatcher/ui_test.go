package dispatcher

import (
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestUIRoutes pins the endpoints the web UI reads, in Flink's shapes.
func TestUIRoutes(t *testing.T) {
	v := "/jobs/" + jobA + "/vertices/" + vertexA
	for _, tc := range []struct {
		name, path string
		status     int
		want       string
		calls      []string
	}{
		{"vertex", v, 200, `{"id":"` + vertexA + `","name":"Source: ids -> Map","parallelism":2,"maxParallelism":128,"now":1700000060000,"subtasks":[
			{"subtask":0,"status":"RUNNING","attempt":0,"endpoint":"10.0.0.5:35001","start-time":1700000000000,"end-time":-1,"duration":60000,"taskmanager-id":"tm-0",
			 "metrics":{"read-bytes":0,"read-bytes-complete":false,"write-bytes":0,"write-bytes-complete":false,"read-records":10,"read-records-complete":true,
			  "write-records":20,"write-records-complete":true,"accumulated-backpressured-time":0,"accumulated-idle-time":5,"accumulated-busy-time":0}},
			{"subtask":1,"status":"RUNNING","attempt":1,"endpoint":"10.0.0.6:35001","start-time":1700000000000,"end-time":-1,"duration":60000,"taskmanager-id":"tm-1",
			 "metrics":{"read-bytes":0,"read-bytes-complete":false,"write-bytes":0,"write-bytes-complete":false,"read-records":0,"read-records-complete":false,
			  "write-records":0,"write-records-complete":false,"accumulated-backpressured-time":0,"accumulated-idle-time":0,"accumulated-busy-time":0}}]}`,
			[]string{"Vertex(" + jobA + "," + vertexA + ")"}},
		{"backpressure", v + "/backpressure", 200, `{"status":"ok","backpressureLevel":"high","end-timestamp":1700000060000,"subtasks":[
			{"subtask":0,"attempt-number":0,"backpressureLevel":"high","ratio":0.75,"idleRatio":0.125,"busyRatio":0.125},
			{"subtask":1,"attempt-number":1,"backpressureLevel":"ok","ratio":0.05,"idleRatio":0.5,"busyRatio":0.45}]}`,
			[]string{"Vertex(" + jobA + "," + vertexA + ")"}},
		{"watermarks", v + "/watermarks", 200, `[{"id":"0.currentInputWatermark","value":"1700000000000"}]`,
			[]string{"Vertex(" + jobA + "," + vertexA + ")"}},
		{"unknown vertex", "/jobs/" + jobA + "/vertices/" + vertexB, 404,
			errorBody("not found: job " + jobA + " has no vertex " + vertexB), []string{"Vertex(" + jobA + "," + vertexB + ")"}},
		{"vertex of unknown job", "/v1/jobs/" + jobUnknown + "/vertices/" + vertexA, 404,
			errorBody("Job " + jobUnknown + " not found"), []string{"Vertex(" + jobUnknown + "," + vertexA + ")"}},
		{"bad vertex id", "/jobs/" + jobA + "/vertices/xyz", 400,
			errorBody(`Invalid vertex id "xyz": a vertex id is 32 lowercase hexadecimal characters.`), nil},
		{"job metrics", "/jobs/" + jobA + "/metrics", 200,
			`[{"id":"uptime","value":"60000"},{"id":"numRestarts","value":"1"},{"id":"numberOfCompletedCheckpoints","value":"3"}]`,
			[]string{"JobMetrics(" + jobA + ")"}},
		{"job metrics get", "/jobs/" + jobA + "/metrics?get=numRestarts,nope", 200, `[{"id":"numRestarts","value":"1"}]`,
			[]string{"JobMetrics(" + jobA + ")"}},
		{"taskmanager", "/taskmanagers/tm-0", 200, `{"id":"tm-0","path":"10.0.0.5:35001","dataPort":0,"jmxPort":-1,"timeSinceLastHeartbeat":0,
			"slotsNumber":2,"freeSlots":1,"blocked":false,"hardware":{"cpuCores":0,"physicalMemory":0,"freeMemory":0,"managedMemory":0},
			"metrics":{"heapUsed":1000,"rss":4000,"goroutines":12,"garbageCollectors":[]},
			"jobs":[{"jid":"` + jobA + `","name":"a","subtasks":[],"heapUsed":0,"rss":0,"goroutines":0}]}`,
			[]string{"TaskManager(tm-0)"}},
		{"unknown taskmanager", "/taskmanagers/tm-9", 404, errorBody(`not found: no TaskManager "tm-9" is registered`), []string{"TaskManager(tm-9)"}},
		{"bad taskmanager id", "/taskmanagers/a:b", 400,
			errorBody(`Invalid TaskManager id "a:b": letters, digits, '.', '_' and '-', at most 128.`), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, f := newTestServer(t, Options{})
			w := httptest.NewRecorder()
			s.Handler().ServeHTTP(w, httptest.NewRequest("GET", tc.path, nil))
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			assertJSON(t, w.Body.Bytes(), tc.want)
			if got := f.Calls(); !slices.Equal(got, tc.calls) {
				t.Errorf("calls %q, want %q", got, tc.calls)
			}
		})
	}
}

// TestTaskManagerLog: the log's tail as plain text, one line each, as the
// cluster gave it (the browser shows it as text: no HTML is interpreted).
func TestTaskManagerLog(t *testing.T) {
	s, f := newTestServer(t, Options{})
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/v1/taskmanagers/tm-0/log", nil))
	if w.Code != 200 || w.Header().Get("Content-Type") != "text/plain; charset=utf-8" ||
		w.Body.String() != "{\"level\":\"info\",\"message\":\"registered\"}\njob output <b>\n" {
		t.Fatalf("%d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	w = httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/taskmanagers/tm-7/log", nil))
	if w.Code != 404 {
		t.Fatalf("unknown TaskManager: %d", w.Code)
	}
	if got := f.Calls(); !slices.Equal(got, []string{"TaskManagerLog(tm-0)", "TaskManagerLog(tm-7)"}) {
		t.Fatalf("calls %q", got)
	}
}

// absoluteURL finds a request the UI would make to an absolute path or to
// another host: fetches, links, scripts, styles (the SVG namespace is a
// name, never fetched).
var absoluteURL = regexp.MustCompile(`(?:api|fetch)\(\s*['"]/|(?:href|src|action)\s*[=:]\s*['"]/|url\(\s*['"]?/|https?://(?:[^w]|w[^w]|ww[^w]|www[^.]|www\.[^w]|www\.w[^3])`)

// TestUIAssets: the web UI is served from the binary at /, its assets by
// relative name, with a policy that allows nothing from elsewhere; the
// index refers to its assets by relative URLs only (YARN's proxy serves the
// UI under /proxy/<application>/).
func TestUIAssets(t *testing.T) {
	s, f := newTestServer(t, Options{})
	for _, tc := range []struct{ path, ctype, contains string }{
		{"/", "text/html; charset=utf-8", `<script src="app.js"></script>`},
		{"/index.html", "text/html; charset=utf-8", `<link rel="stylesheet" href="style.css">`},
		{"/app.js", "text/javascript; charset=utf-8", "function route("},
		{"/style.css", "text/css; charset=utf-8", "body"},
	} {
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, httptest.NewRequest("GET", tc.path, nil))
		if w.Code != 200 || w.Header().Get("Content-Type") != tc.ctype || !strings.Contains(w.Body.String(), tc.contains) {
			t.Fatalf("GET %s: %d %q, want 200 %q containing %q", tc.path, w.Code, w.Header().Get("Content-Type"), tc.ctype, tc.contains)
		}
		if got := w.Header().Get("Content-Security-Policy"); got != contentSecurityPolicy {
			t.Fatalf("GET %s: CSP %q", tc.path, got)
		}
		if m := absoluteURL.FindString(w.Body.String()); m != "" {
			t.Errorf("GET %s: an absolute URL in the asset: %s", tc.path, m)
		}
	}
	if len(f.Calls()) != 0 {
		t.Fatalf("assets called the cluster: %q", f.Calls())
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("POST", "/", nil))
	if w.Code != 405 {
		t.Fatalf("POST /: %d, want 405", w.Code)
	}
}
