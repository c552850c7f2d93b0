package dispatcher

import (
	"net/http"
	"slices"
	"strings"
)

// params are a request's validated path parameters.
type params struct {
	jobID     string // 32 lowercase hex, or empty for routes without :jobid
	triggerID string // likewise for :triggerid
	vertexID  string // likewise for :vertexid
	// taskManagerID is a resource id: [A-Za-z0-9._-]{1,128} (a name or a
	// YARN container id).
	taskManagerID string
}

type handler func(s *Server, w http.ResponseWriter, r *http.Request, p params)

// A route is one path pattern and its handler per method. Segments starting
// with ':' are parameters; every other segment matches itself only.
type route struct {
	segs    []string
	methods map[string]handler
}

// routes is the route table (doc.go lists it with status codes). Literal
// segments take precedence: /jobs/overview is listed before /jobs/:jobid.
var routes = []route{
	newRoute("/config", map[string]handler{get: (*Server).dashboardConfig}),
	newRoute("/overview", map[string]handler{get: (*Server).overview}),
	newRoute("/jobs", map[string]handler{get: (*Server).listJobs, post: (*Server).submitJob}),
	newRoute("/jobs/overview", map[string]handler{get: (*Server).jobsOverview}),
	newRoute("/jobs/:jobid", map[string]handler{get: (*Server).jobDetails, patch: (*Server).terminateJob}),
	newRoute("/jobs/:jobid/plan", map[string]handler{get: (*Server).jobPlan}),
	newRoute("/jobs/:jobid/checkpoints", map[string]handler{get: (*Server).checkpoints}),
	newRoute("/jobs/:jobid/exceptions", map[string]handler{get: (*Server).exceptions}),
	newRoute("/jobs/:jobid/metrics", map[string]handler{get: (*Server).jobMetrics}),
	newRoute("/jobs/:jobid/vertices/:vertexid", map[string]handler{get: (*Server).vertexDetails}),
	newRoute("/jobs/:jobid/vertices/:vertexid/backpressure", map[string]handler{get: (*Server).vertexBackPressure}),
	newRoute("/jobs/:jobid/vertices/:vertexid/watermarks", map[string]handler{get: (*Server).vertexWatermarks}),
	newRoute("/jobs/:jobid/savepoints", map[string]handler{post: (*Server).triggerSavepoint}),
	newRoute("/jobs/:jobid/savepoints/:triggerid", map[string]handler{get: (*Server).savepointStatus}),
	newRoute("/jobs/:jobid/stop", map[string]handler{post: (*Server).stopJob}),
	newRoute("/taskmanagers", map[string]handler{get: (*Server).taskManagers}),
	newRoute("/taskmanagers/:taskmanagerid", map[string]handler{get: (*Server).taskManagerDetails}),
	newRoute("/taskmanagers/:taskmanagerid/log", map[string]handler{get: (*Server).taskManagerLog}),
	newRoute("/jobmanager/config", map[string]handler{get: (*Server).jobManagerConfig}),
	newRoute("/metrics", map[string]handler{get: (*Server).metrics}),
}

const (
	get   = http.MethodGet
	post  = http.MethodPost
	patch = http.MethodPatch
)

func newRoute(pattern string, methods map[string]handler) route {
	return route{segs: strings.Split(pattern[1:], "/"), methods: methods}
}

// allow is the Allow header of a route.
func (rt *route) allow() string {
	var m []string
	for k := range rt.methods {
		m = append(m, k)
	}
	if rt.methods[http.MethodGet] != nil {
		m = append(m, http.MethodHead)
	}
	slices.Sort(m)
	return strings.Join(m, ", ")
}

// match finds the route of path (already checked by safePath, version prefix
// removed) and its raw parameters. Nothing is decoded or cleaned: a path
// matches only as sent.
func match(path string) (*route, map[string]string) {
	if len(path) > 1 && strings.HasSuffix(path, "/") {
		path = path[:len(path)-1] // Flink's router ignores one trailing slash
	}
	if !strings.HasPrefix(path, "/") {
		return nil, nil
	}
	segs := strings.Split(path[1:], "/")
next:
	for i := range routes {
		rt := &routes[i]
		if len(rt.segs) != len(segs) {
			continue
		}
		var raw map[string]string
		for j, want := range rt.segs {
			got := segs[j]
			switch {
			case got == "":
				continue next
			case strings.HasPrefix(want, ":"):
				if raw == nil {
					raw = map[string]string{}
				}
				raw[want] = got
			case want != got:
				continue next
			}
		}
		return rt, raw
	}
	return nil, nil
}

// stripVersion removes the API version prefix: Flink serves every route both
// unversioned and under /v1/.
func stripVersion(path string) string {
	if path == "/v1" {
		return "/"
	}
	if strings.HasPrefix(path, "/v1/") {
		return path[len("/v1"):]
	}
	return path
}

// safePath reports whether a request's path may be routed. Every form of the
// path is checked, the raw request target included, so that no decoding
// step (ours, a proxy's, the client's) can turn it into another path: it
// must be plain printable ASCII, start with '/', and hold no "..", no
// backslash and no percent sign at all. No route needs escaping (ids are
// hex), so any percent-encoding, single (%2e%2e, %2f, %00, %5c) or double
// (%252f), is refused rather than interpreted.
func safePath(r *http.Request) bool {
	if r.URL == nil || r.URL.Opaque != "" || !strings.HasPrefix(r.URL.Path, "/") {
		return false
	}
	target := r.RequestURI
	if i := strings.IndexAny(target, "?#"); i >= 0 {
		target = target[:i]
	}
	for _, p := range [...]string{target, r.URL.RawPath, r.URL.EscapedPath(), r.URL.Path} {
		if !plainPath(p) {
			return false
		}
	}
	return true
}

func plainPath(p string) bool {
	if strings.Contains(p, "..") {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c == '%' || c == '\\' || c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// isID reports whether s is a Flink id (JobID, TriggerId, JobVertexID): 32
// lowercase hexadecimal characters.
func isID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// isResourceID reports whether s may be a TaskManager's resource id: 1 to
// 128 letters, digits, '.', '_' or '-' (a name as tm-0, a YARN container id).
func isResourceID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}
