package dispatcher

import (
	"embed"
	"net/http"
	"time"
)

// The web UI: plain HTML, JavaScript and CSS embedded in the binary (no
// build step, no request leaves the cluster). Every URL in it is relative,
// so it works behind YARN's web proxy, which serves it under
// /proxy/<application>/; everything it shows comes from the REST API.

//go:embed ui/index.html ui/app.js ui/style.css
var uiFiles embed.FS

// uiAssets maps the UI's paths to their files and types.
var uiAssets = map[string][2]string{
	"/":           {"ui/index.html", "text/html; charset=utf-8"},
	"/index.html": {"ui/index.html", "text/html; charset=utf-8"},
	"/app.js":     {"ui/app.js", "text/javascript; charset=utf-8"},
	"/style.css":  {"ui/style.css", "text/css; charset=utf-8"},
}

// contentSecurityPolicy lets the UI load and call only its own origin.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'self'"

// serveUI answers a request for one of the UI's files and reports whether
// it did. Only GET and HEAD reach a file; other methods are a 405.
func (s *Server) serveUI(w http.ResponseWriter, r *http.Request, start time.Time) bool {
	asset, ok := uiAssets[r.URL.Path] // unversioned only, as Flink's UI
	if !ok {
		return false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.sendError(w, r, start, http.StatusMethodNotAllowed, "Method "+clip(r.Method)+" is not allowed on "+clip(r.URL.Path)+"; allowed: GET, HEAD.", nil)
		return true
	}
	body, err := uiFiles.ReadFile(asset[0])
	if err != nil { // cannot happen: the files are embedded
		s.sendError(w, r, start, http.StatusInternalServerError, msgInternal, err)
		return true
	}
	w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
	w.Header().Set("Cache-Control", "no-cache")
	s.send(w, r, start, http.StatusOK, asset[1], body, nil)
	return true
}
