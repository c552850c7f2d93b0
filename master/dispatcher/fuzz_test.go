package dispatcher

import (
	"bufio"
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var fuzzMethods = []string{"GET", "POST", "PATCH", "HEAD", "DELETE", "PUT", "OPTIONS"}

// FuzzRoute sends any request target with any method. Whatever the path,
// the handler must not panic, must answer with a known status and a JSON
// error body, must never hand the Cluster an id that is not 32 lowercase
// hex, and must not call the Cluster at all for a path with "..", '%', a
// backslash or a control character in any of its forms.
func FuzzRoute(f *testing.F) {
	for _, rt := range routes {
		p := "/" + strings.Join(rt.segs, "/")
		p = strings.ReplaceAll(p, ":jobid", jobA)
		p = strings.ReplaceAll(p, ":triggerid", trigA)
		f.Add(uint8(0), p)
		f.Add(uint8(1), "/v1"+p)
	}
	for _, p := range traversals {
		f.Add(uint8(0), p)
	}
	f.Add(uint8(2), "/jobs/"+jobA+"?mode=cancel")
	f.Add(uint8(0), "/jobs/"+strings.ToUpper(jobA))
	f.Add(uint8(0), "//jobs")
	f.Add(uint8(0), "http://host/jobs/overview")
	f.Add(uint8(0), "*")

	s, fc := newTestServer(f, Options{})
	fc.countOnly = true // millions of calls: count them, do not keep them
	h := s.Handler()
	f.Fuzz(func(t *testing.T, m uint8, target string) {
		method := fuzzMethods[int(m)%len(fuzzMethods)]
		body := `{"target-directory":"hdfs:///sp","targetDirectory":"hdfs:///sp"}`
		if strings.Contains(target, "stop") {
			body = `{"targetDirectory":"hdfs:///sp"}`
		} else if strings.Contains(target, "savepoints") {
			body = `{"target-directory":"hdfs:///sp"}`
		}

		// As a server reads it off the wire.
		var b strings.Builder
		b.WriteString(method + " " + target + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
		if r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(b.String()))); err == nil {
			check(t, h, fc, r, unsafeForms(r))
		}

		// As code may build it: a decoded path and no raw form.
		r := httptest.NewRequest(method, "/", strings.NewReader(body))
		r.URL = &url.URL{Path: target}
		r.RequestURI = ""
		check(t, h, fc, r, !plainPath(target))
	})
}

// unsafeForms is the test's own reading of the rule: any form of the path
// holding '%', "..", '\\' or a byte outside printable ASCII.
func unsafeForms(r *http.Request) bool {
	target, _, _ := strings.Cut(r.RequestURI, "?")
	for _, p := range []string{target, r.URL.RawPath, r.URL.Path} {
		if strings.ContainsAny(p, "%\\") || strings.Contains(p, "..") {
			return true
		}
		for i := 0; i < len(p); i++ {
			if p[i] <= ' ' || p[i] >= 0x7f {
				return true
			}
		}
	}
	return false
}

func check(t *testing.T, h http.Handler, fc *fakeCluster, r *http.Request, unsafe bool) {
	t.Helper()
	before := fc.NumCalls()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if unsafe && fc.NumCalls() != before {
		t.Fatalf("%s %q (raw %q): cluster called", r.Method, r.URL.Path, r.URL.RawPath)
	}
	if bad := fc.BadIDs(); len(bad) > 0 {
		t.Fatalf("%s %q: cluster got invalid ids %q", r.Method, r.URL.Path, bad)
	}
	switch w.Code {
	case 200, 202, 400, 404, 405, 409, 413, 500:
	default:
		t.Fatalf("%s %q: status %d", r.Method, r.URL.Path, w.Code)
	}
	if w.Code >= 400 && !bytes.HasPrefix(w.Body.Bytes(), []byte(`{"errors":[`)) {
		t.Fatalf("%s %q: error body %q", r.Method, r.URL.Path, w.Body)
	}
}

// FuzzSubmit feeds any body to POST /jobs: it must not panic, must answer
// 202 only for a well-formed submission, and must leave no file behind.
func FuzzSubmit(f *testing.F) {
	good, ctype := multipartBody(f,
		formPart{name: "binary", filename: "job", data: "bin"},
		formPart{name: "arguments", data: `["a"]`},
		formPart{name: "plan", data: `{}`})
	f.Add(good.Bytes())
	f.Add([]byte("--x\r\n\r\n"))
	f.Add([]byte{})
	boundary := strings.TrimPrefix(ctype, "multipart/form-data; boundary=")
	f.Add([]byte("--" + boundary + "\r\nContent-Disposition: form-data; name=\"plan\"\r\n\r\n{\r\n--" + boundary + "--\r\n"))

	dir := f.TempDir()
	s, fc := newTestServer(f, Options{UploadDir: dir, MaxContentLength: 1 << 16})
	fc.countOnly = true
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/jobs", bytes.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case 202, 400, 413:
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if bad := fc.BadIDs(); len(bad) > 0 {
			t.Fatalf("invalid ids %q", bad)
		}
		if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) > 0 {
			t.Fatalf("files left: %v", left)
		}
	})
}
