package dispatcher

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// The parts of POST /jobs, a multipart/form-data body:
//
//	binary     the job binary (a file part)
//	arguments  its command-line arguments, a JSON array of strings
//	plan       its plan, a JSON object, as `spate info` prints it
const (
	partBinary    = "binary"
	partArguments = "arguments"
	partPlan      = "plan"

	// maxJSONPart bounds the arguments and plan parts, which are held in
	// memory (the binary goes to disk).
	maxJSONPart = 16 << 20
)

var submitParts = []string{partBinary, partArguments, partPlan}

// POST /jobs: 202 {"jobUrl": "/jobs/<id>"} (Flink's JobSubmitResponseBody)
// plus Spate's "jid" and "sha256" of the binary received.
func (s *Server) submitJob(w http.ResponseWriter, r *http.Request, p params) {
	limit := s.opts.MaxContentLength
	if r.ContentLength > limit {
		s.fail(w, r, p, tooLargeUpload(limit))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	sub, err := s.receive(r)
	if sub.BinaryPath != "" {
		defer os.Remove(sub.BinaryPath)
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = tooLargeUpload(limit)
		}
		s.fail(w, r, p, err)
		return
	}
	id, err := s.cluster.Submit(r.Context(), sub)
	if err == nil && !isID(id) {
		err = fmt.Errorf("cluster returned job id %q, not 32 lowercase hexadecimal characters", clip(id))
	}
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	s.log.Info().Str("job", id).Int64("bytes", sub.BinarySize).Str("sha256", sub.BinarySHA256).Msg("job submitted")
	s.writeJSON(w, r, http.StatusAccepted, map[string]string{
		"jobUrl": "/jobs/" + id,
		"jid":    id,
		"sha256": sub.BinarySHA256,
	})
}

func tooLargeUpload(limit int64) error {
	return &requestError{http.StatusRequestEntityTooLarge, fmt.Sprintf(
		"Request body exceeds the limit of %d bytes; raise %s to upload larger job binaries.",
		limit, MaxContentLengthKey)}
}

// receive reads the multipart body. On error the returned Submission still
// names the binary's temporary file, if one was written, for the caller to
// remove.
func (s *Server) receive(r *http.Request) (Submission, error) {
	var sub Submission
	mr, err := r.MultipartReader()
	if err != nil {
		return sub, badRequest("POST /jobs takes a multipart/form-data body with the parts %s: %v.", strings.Join(submitParts, ", "), err)
	}
	seen := map[string]bool{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return sub, readError(err)
		}
		name := part.FormName()
		switch {
		case seen[name]:
			err = badRequest("The part %q appears twice.", clip(name))
		case name == partBinary:
			sub.BinaryPath, sub.BinarySize, sub.BinarySHA256, err = s.storeBinary(part)
		case name == partArguments:
			err = readJSONPart(part, name, '[', "a JSON array of strings", &sub.Arguments)
		case name == partPlan:
			err = readJSONPart(part, name, '{', "a JSON object", &sub.Plan)
		default:
			err = badRequest("Unexpected part %q; POST /jobs takes the parts %s.", clip(name), strings.Join(submitParts, ", "))
		}
		part.Close()
		if err != nil {
			return sub, err
		}
		seen[name] = true
	}
	var missing []string
	for _, name := range submitParts {
		if !seen[name] {
			missing = append(missing, fmt.Sprintf("%q", name))
		}
	}
	if len(missing) > 0 {
		return sub, badRequest("Missing part %s: POST /jobs takes the job binary (binary), its arguments as a JSON array (arguments) and its plan as JSON (plan).", strings.Join(missing, ", "))
	}
	if sub.BinarySize == 0 {
		return sub, badRequest("The part %q is empty.", partBinary)
	}
	return sub, nil
}

// storeBinary copies the binary part to a new temporary file, hashing it on
// the way.
func (s *Server) storeBinary(part io.Reader) (path string, size int64, sum string, err error) {
	f, err := os.CreateTemp(s.opts.UploadDir, "spate-upload-*.bin")
	if err != nil {
		return "", 0, "", fmt.Errorf("create upload file: %w", err)
	}
	h := sha256.New()
	buf := make([]byte, 64<<10)
	for {
		n, rerr := part.Read(buf)
		if n > 0 {
			h.Write(buf[:n])
			if _, werr := f.Write(buf[:n]); werr != nil {
				err = fmt.Errorf("write upload file: %w", werr)
				break
			}
			size += int64(n)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			err = readError(rerr)
			break
		}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write upload file: %w", cerr)
	}
	if err != nil {
		os.Remove(f.Name())
		return "", 0, "", err
	}
	return f.Name(), size, hex.EncodeToString(h.Sum(nil)), nil
}

// readJSONPart reads a JSON part that must start with open ('[' or '{').
func readJSONPart(part io.Reader, name string, open byte, what string, v any) error {
	data, err := io.ReadAll(io.LimitReader(part, maxJSONPart+1))
	if err != nil {
		return readError(err)
	}
	if len(data) > maxJSONPart {
		return &requestError{http.StatusRequestEntityTooLarge, fmt.Sprintf("The part %q exceeds %d bytes.", name, maxJSONPart)}
	}
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != open {
		return badRequest("The part %q must be %s.", name, what)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return badRequest("The part %q must be %s: %v.", name, what, err)
	}
	return nil
}

// readError classifies an error reading the body: the size limit stays
// itself (413), anything else is a malformed body (400).
func readError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err
	}
	return badRequest("Malformed multipart body: %v.", err)
}
