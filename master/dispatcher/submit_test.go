package dispatcher

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type formPart struct {
	name, filename, data string
}

func multipartBody(t testing.TB, parts ...formPart) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disp := fmt.Sprintf(`form-data; name=%q`, p.name)
		if p.filename != "" {
			disp += fmt.Sprintf(`; filename=%q`, p.filename)
			h.Set("Content-Type", "application/octet-stream")
		}
		h.Set("Content-Disposition", disp)
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, p.data)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}

func jobBinary(n int) string {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return string(b)
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("upload dir not empty: %v", left)
	}
}

// TestSubmit uploads a job: the Cluster gets a 0600 file in the upload dir
// holding exactly the bytes sent, their SHA-256, the arguments and the plan;
// the answer is Flink's jobUrl plus the id and digest; the file is gone after.
func TestSubmit(t *testing.T) {
	binary := jobBinary(300 << 10) // several reads of the copy loop
	sum := sha256.Sum256([]byte(binary))
	wantSum := hex.EncodeToString(sum[:])
	for _, v := range []string{"", "/v1"} {
		t.Run("prefix "+v, func(t *testing.T) {
			dir := t.TempDir()
			s, f := newTestServer(t, Options{UploadDir: dir})
			f.submit = func(sub Submission) (string, error) {
				if filepath.Dir(sub.BinaryPath) != dir {
					t.Errorf("binary stored at %s, not in %s", sub.BinaryPath, dir)
				}
				fi, err := os.Stat(sub.BinaryPath)
				if err != nil {
					return "", err
				}
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("binary mode %v, want 0600", fi.Mode().Perm())
				}
				got, err := sha256File(sub.BinaryPath)
				if err != nil {
					return "", err
				}
				if got != wantSum || sub.BinarySHA256 != wantSum || sub.BinarySize != int64(len(binary)) {
					t.Errorf("file sha256 %s, submission sha256 %s size %d; want %s size %d", got, sub.BinarySHA256, sub.BinarySize, wantSum, len(binary))
				}
				if !slices.Equal(sub.Arguments, []string{"--input", "hdfs:///in", "-Dparallelism.default=4"}) {
					t.Errorf("arguments %q", sub.Arguments)
				}
				if string(sub.Plan) != `{"name":"wordcount","nodes":[]}` {
					t.Errorf("plan %s", sub.Plan)
				}
				return jobNew, nil
			}
			body, ctype := multipartBody(t,
				formPart{name: "arguments", data: `["--input","hdfs:///in","-Dparallelism.default=4"]`},
				formPart{name: "binary", filename: "wordcount", data: binary},
				formPart{name: "plan", data: `{"name":"wordcount","nodes":[]}`},
			)
			r := httptest.NewRequest("POST", v+"/jobs", body)
			r.Header.Set("Content-Type", ctype)
			w := httptest.NewRecorder()
			s.Handler().ServeHTTP(w, r)
			if w.Code != http.StatusAccepted {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			assertJSON(t, w.Body.Bytes(), `{"jobUrl":"/jobs/`+jobNew+`","jid":"`+jobNew+`","sha256":"`+wantSum+`"}`)
			if calls := f.Calls(); !slices.Equal(calls, []string{"Submit()"}) {
				t.Errorf("calls %q", calls)
			}
			assertEmptyDir(t, dir)
		})
	}
}

// TestSubmitTooLarge checks the 413: announced by Content-Length, or found
// while streaming a chunked body, in process and over a real socket. The
// answer names the limit and the key that raises it; nothing is submitted
// and nothing is left on disk.
func TestSubmitTooLarge(t *testing.T) {
	const limit = 1024
	want := errorBody("Request body exceeds the limit of 1024 bytes; raise rest.server.max-content-length to upload larger job binaries.")
	body, ctype := multipartBody(t,
		formPart{name: "arguments", data: `[]`},
		formPart{name: "plan", data: `{}`},
		formPart{name: "binary", filename: "job", data: jobBinary(4096)},
	)
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			dir := t.TempDir()
			s, f := newTestServer(t, Options{UploadDir: dir, MaxContentLength: limit})
			r := httptest.NewRequest("POST", "/jobs", bytes.NewReader(body.Bytes()))
			r.Header.Set("Content-Type", ctype)
			if chunked {
				r.ContentLength = -1
			}
			w := httptest.NewRecorder()
			s.Handler().ServeHTTP(w, r)
			if w.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			assertJSON(t, w.Body.Bytes(), want)
			if calls := f.Calls(); len(calls) > 0 {
				t.Errorf("calls %q", calls)
			}
			assertEmptyDir(t, dir)
		})
	}
	t.Run("over TCP, chunked", func(t *testing.T) {
		dir := t.TempDir()
		s, f := newTestServer(t, Options{Address: "127.0.0.1:0", UploadDir: dir, MaxContentLength: limit})
		addr, err := s.Start()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		// A reader of unknown length makes the client send it chunked.
		resp, err := http.Post("http://"+addr+"/v1/jobs", ctype, io.MultiReader(bytes.NewReader(body.Bytes())))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d: %s", resp.StatusCode, got)
		}
		assertJSON(t, got, want)
		if calls := f.Calls(); len(calls) > 0 {
			t.Errorf("calls %q", calls)
		}
		assertEmptyDir(t, dir)
	})
}

// TestSubmitBadRequests checks that malformed submissions are 400 (or 413)
// naming what is wrong, never reach the Cluster and leave no file.
func TestSubmitBadRequests(t *testing.T) {
	bin := formPart{name: "binary", filename: "job", data: "\x7fELF..."}
	args := formPart{name: "arguments", data: `["a"]`}
	plan := formPart{name: "plan", data: `{"name":"j"}`}
	for _, tc := range []struct {
		name   string
		parts  []formPart
		ctype  string // overrides the multipart type
		raw    string // overrides the body
		status int
		want   string
	}{
		{name: "not multipart", ctype: "application/json", raw: `{}`, status: 400,
			want: `POST /jobs takes a multipart/form-data body with the parts binary, arguments, plan: request Content-Type isn't multipart/form-data.`},
		{name: "no parts", parts: nil, status: 400,
			want: `Missing part "binary", "arguments", "plan": POST /jobs takes the job binary (binary), its arguments as a JSON array (arguments) and its plan as JSON (plan).`},
		{name: "no plan", parts: []formPart{bin, args}, status: 400,
			want: `Missing part "plan": POST /jobs takes the job binary (binary), its arguments as a JSON array (arguments) and its plan as JSON (plan).`},
		{name: "no binary", parts: []formPart{args, plan}, status: 400,
			want: `Missing part "binary": POST /jobs takes the job binary (binary), its arguments as a JSON array (arguments) and its plan as JSON (plan).`},
		{name: "empty binary", parts: []formPart{{name: "binary", filename: "job"}, args, plan}, status: 400, want: `The part "binary" is empty.`},
		{name: "arguments not JSON", parts: []formPart{bin, {name: "arguments", data: `[--input`}, plan}, status: 400,
			want: `The part "arguments" must be a JSON array of strings: invalid character '-' in numeric literal.`},
		{name: "arguments not an array", parts: []formPart{bin, {name: "arguments", data: `{"a":1}`}, plan}, status: 400,
			want: `The part "arguments" must be a JSON array of strings.`},
		{name: "arguments not strings", parts: []formPart{bin, {name: "arguments", data: `[1]`}, plan}, status: 400,
			want: `The part "arguments" must be a JSON array of strings: json: cannot unmarshal number into Go value of type string.`},
		{name: "plan not an object", parts: []formPart{bin, args, {name: "plan", data: `[]`}}, status: 400,
			want: `The part "plan" must be a JSON object.`},
		{name: "plan truncated", parts: []formPart{bin, args, {name: "plan", data: `{"name":`}}, status: 400,
			want: `The part "plan" must be a JSON object: unexpected end of JSON input.`},
		{name: "duplicate part", parts: []formPart{bin, args, plan, {name: "plan", data: `{}`}}, status: 400,
			want: `The part "plan" appears twice.`},
		{name: "unknown part", parts: []formPart{bin, args, {name: "jarfile", data: "x"}, plan}, status: 400,
			want: `Unexpected part "jarfile"; POST /jobs takes the parts binary, arguments, plan.`},
		{name: "truncated body", ctype: "multipart/form-data; boundary=xyz", raw: "--xyz\r\nContent-Disposition: form-data; name=\"binary\"\r\n\r\nabc", status: 400,
			want: `Malformed multipart body: unexpected EOF.`},
		{name: "plan part too large", parts: []formPart{args, {name: "plan", data: `{"x":"` + strings.Repeat("a", maxJSONPart) + `"}`}, bin}, status: 413,
			want: `The part "plan" exceeds 16777216 bytes.`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, f := newTestServer(t, Options{UploadDir: dir})
			body, ctype := multipartBody(t, tc.parts...)
			if tc.ctype != "" {
				ctype = tc.ctype
			}
			if tc.raw != "" {
				body = bytes.NewBufferString(tc.raw)
			}
			r := httptest.NewRequest("POST", "/jobs", body)
			r.Header.Set("Content-Type", ctype)
			w := httptest.NewRecorder()
			s.Handler().ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Errorf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			assertJSON(t, w.Body.Bytes(), errorBody(tc.want))
			if calls := f.Calls(); len(calls) > 0 {
				t.Errorf("calls %q", calls)
			}
			assertEmptyDir(t, dir)
		})
	}
}

// TestSubmitClusterErrors checks the answers to Submit's errors, and that
// the binary is removed whatever Submit did.
func TestSubmitClusterErrors(t *testing.T) {
	for _, tc := range []struct {
		id     string
		err    error
		status int
		want   string
	}{
		{err: fmt.Errorf("%w: the plan has no sources", ErrInvalidRequest), status: 400, want: "invalid request: the plan has no sources"},
		{err: fmt.Errorf("%w: no TaskManager can run it yet", ErrUnavailable), status: 503, want: "unavailable: no TaskManager can run it yet"},
		{err: errors.New("hdfs: permission denied on /user/spate/.spate"), status: 500, want: msgInternal},
		{id: "../../etc", status: 500, want: msgInternal},
	} {
		dir := t.TempDir()
		s, f := newTestServer(t, Options{UploadDir: dir})
		f.submit = func(Submission) (string, error) { return tc.id, tc.err }
		body, ctype := multipartBody(t,
			formPart{name: "binary", filename: "job", data: "bin"},
			formPart{name: "arguments", data: `[]`},
			formPart{name: "plan", data: `{}`})
		r := httptest.NewRequest("POST", "/jobs", body)
		r.Header.Set("Content-Type", ctype)
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, r)
		if w.Code != tc.status {
			t.Errorf("%v: status %d, want %d", tc.err, w.Code, tc.status)
		}
		assertJSON(t, w.Body.Bytes(), errorBody(tc.want))
		assertEmptyDir(t, dir)
	}
}
