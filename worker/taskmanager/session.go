package taskmanager

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/worker/rpc"
	"github.com/spate-io/spate/worker/transport"
	"github.com/spate-io/spate/worker/transport/gen/wire"
)

// A session TaskManager (the generic `spate taskmanager`) runs no user code:
// for each job the JobManager starts on it, it starts the job's own binary as
// a child process in the taskexecutor role, which rebuilds the job's graph,
// checks its fingerprint, serves the job's TaskExecutorGateway and data plane
// on ports of its own, and answers on the file descriptor EndpointsFD:
//
//	ok <rpc address> <data address>
//	error <class> <message>
//
// The child learns its job from these variables; SPATE_PROPERTIES carries
// the configuration the job was submitted with, plus the TaskManager's own
// cluster settings (Overrides), and SPATE_CONF_DIR is cleared so that the
// TaskManager's spate.yaml does not change the job's graph.
const (
	EnvJobID       = "SPATE_JOB_ID"
	EnvJobMaster   = "SPATE_JOBMASTER_ADDRESS"
	EnvFingerprint = "SPATE_JOB_FINGERPRINT"
	// EndpointsFD is the child's file descriptor of its answer.
	EndpointsFD = 3
)

// RoleTaskExecutor is the SPATE_ROLE of a session TaskManager's child.
const RoleTaskExecutor = "taskexecutor"

// ErrGraphMismatch is the child's refusal when its graph is not the
// JobManager's: the binary or its arguments are not those submitted.
var ErrGraphMismatch = errors.New("job binary or arguments differ")

// SessionConfig configures a session TaskManager.
type SessionConfig struct {
	Name       string
	JobManager string
	Host       string
	Slots      int
	Auth       transport.Authenticator
	// HeartbeatInterval and RegistrationTimeout are as in Config.
	HeartbeatInterval   time.Duration
	RegistrationTimeout time.Duration
	// Overrides are configuration lines (key=value) appended to every job's
	// properties: the cluster secret and the host, which are the
	// TaskManager's and not the job's.
	Overrides []string
	// WorkDir keeps the job binaries, by SHA-256.
	WorkDir string
	// StartTimeout bounds a child's start, up to its answer.
	StartTimeout time.Duration
	// Stdout and Stderr receive the children's output.
	Stdout, Stderr io.Writer
	Log            zerolog.Logger
	// Report, when set, is the payload of every heartbeat: this process's
	// metrics and log tail (worker/metrics Report) for the JobManager's UI.
	Report func() []byte
}

// RunSession registers with the JobManager and starts and stops job
// processes for it until ctx ends (nil) or the JobManager goes away.
func RunSession(ctx context.Context, cfg SessionConfig) error {
	log := cfg.Log.With().Str("taskmanager", cfg.Name).Logger()
	if err := os.MkdirAll(filepath.Join(cfg.WorkDir, "blobs"), 0o700); err != nil {
		return fmt.Errorf("taskmanager: work directory: %w", err)
	}
	s := &session{cfg: cfg, log: log, jobs: map[string]*jobChild{}}
	defer s.stopAll()
	ln, err := transport.Listen(net.JoinHostPort(cfg.Host, "0"), cfg.Auth, transport.Options{Log: log})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go transport.ServeRPC(ctx, ln, wire.NewTaskManagerGatewayProcessor(s))

	c, err := dialRetrying(ctx, cfg.JobManager, cfg.Auth, cfg.RegistrationTimeout)
	if err != nil {
		return err
	}
	rc := transport.NewRPCClient(c)
	defer rc.Close()
	rm := func() *wire.ResourceManagerGatewayClient { return wire.NewResourceManagerGatewayClient(rc) }
	reg, err := register(ctx, rm(), cfg.Name, "", cfg.Slots, ln.Addr().String())
	if err != nil {
		return err
	}
	log.Info().Str("jobmanager", cfg.JobManager).Str("registration", reg.RegistrationId).Int("slots", cfg.Slots).Msg("registered")
	if err := heartbeat(ctx, rm, cfg.Name, reg.RegistrationId, cfg.HeartbeatInterval, cfg.Report); err != nil {
		return fmt.Errorf("taskmanager: the JobManager at %s stopped answering heartbeats (%v); its jobs' processes here are stopped", cfg.JobManager, err)
	}
	return nil
}

// session serves the TaskManagerGateway.
type session struct {
	cfg SessionConfig
	log zerolog.Logger

	mu   sync.Mutex
	jobs map[string]*jobChild
}

// jobChild is a job's process on this TaskManager.
type jobChild struct {
	cmd       *exec.Cmd
	endpoints *wire.JobEndpoints
	exited    chan struct{}
}

var _ wire.TaskManagerGateway = (*session)(nil)

func (s *session) StartJob(ctx context.Context, jobID string, binary []byte, sha string, args []string, properties, fingerprint, jobMaster string) (*wire.JobEndpoints, error) {
	reject := func(class, format string, a ...any) (*wire.JobEndpoints, error) {
		return nil, &wire.TaskRejected{Reason: fmt.Sprintf(format, a...), ErrorClass: &class}
	}
	if !validID(jobID) {
		return reject(rpc.ClassSuppressRestarts, "job id %q is not 32 lowercase hexadecimal characters", jobID)
	}
	sum := sha256.Sum256(binary)
	if got := hex.EncodeToString(sum[:]); got != sha {
		return reject(rpc.ClassSuppressRestarts, "the job binary received has SHA-256 %s, not the %s the JobManager sent", got, sha)
	}
	s.mu.Lock()
	if c := s.jobs[jobID]; c != nil {
		select {
		case <-c.exited:
			delete(s.jobs, jobID)
		default:
			s.mu.Unlock()
			return c.endpoints, nil // a repeated request: the process serves
		}
	}
	s.mu.Unlock()
	path, err := s.storeBinary(sha, binary)
	if err != nil {
		return reject("", "store the job binary: %v", err)
	}
	c, err := s.start(ctx, jobID, path, args, properties, fingerprint, jobMaster)
	if err != nil {
		var rej *wire.TaskRejected
		if errors.As(err, &rej) {
			return nil, rej
		}
		return reject("", "%v", err)
	}
	s.mu.Lock()
	s.jobs[jobID] = c
	s.mu.Unlock()
	return c.endpoints, nil
}

// storeBinary keeps binary under WorkDir/blobs/<sha256>, once.
func (s *session) storeBinary(sha string, binary []byte) (string, error) {
	path := filepath.Join(s.cfg.WorkDir, "blobs", sha)
	if fi, err := os.Stat(path); err == nil && fi.Size() == int64(len(binary)) {
		return path, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), sha+".*.tmp")
	if err != nil {
		return "", err
	}
	_, werr := f.Write(binary)
	cerr := f.Close()
	if err := errors.Join(werr, cerr, os.Chmod(f.Name(), 0o700)); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return path, os.Rename(f.Name(), path)
}

// start runs the job's process and waits for its answer. The process
// works in the TaskManager's working directory, so that relative paths of
// the job mean on every TaskManager what they mean on one started from the
// same directory.
func (s *session) start(ctx context.Context, jobID, path string, args []string, properties, fingerprint, jobMaster string) (*jobChild, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	tail := &tailBuffer{max: 4096}
	props := strings.Join(append([]string{properties}, s.cfg.Overrides...), "\n")
	cmd := &exec.Cmd{
		Path: path,
		Args: append([]string{filepath.Base(path)}, args...),
		Env: append(withoutSpate(os.Environ()), "SPATE_ROLE="+RoleTaskExecutor, "SPATE_CONF_DIR=", "SPATE_PROPERTIES="+props,
			EnvJobID+"="+jobID, EnvJobMaster+"="+jobMaster, EnvFingerprint+"="+fingerprint,
			"SPATE_TASKMANAGER_NAME="+s.cfg.Name),
		Stdout:     s.cfg.Stdout,
		Stderr:     io.MultiWriter(s.cfg.Stderr, tail),
		ExtraFiles: []*os.File{w}, // EndpointsFD
	}
	c := &jobChild{cmd: cmd, exited: make(chan struct{})}
	waitErr := make(chan error, 1)
	if err := startTied(cmd, func(err error) { waitErr <- err; close(c.exited) }); err != nil {
		w.Close()
		return nil, fmt.Errorf("start the job binary: %w", err)
	}
	w.Close() // the child holds it now: EOF when it exits
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(io.LimitReader(r, 64<<10)).ReadString('\n')
		answer <- strings.TrimSpace(line)
	}()
	timeout := s.cfg.StartTimeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	var line string
	select {
	case line = <-answer:
	case <-time.After(timeout):
		line = "error  the job's process did not answer within " + timeout.String()
	case <-ctx.Done():
		line = "error  " + ctx.Err().Error()
	}
	f := strings.SplitN(line, " ", 3)
	if len(f) == 3 && f[0] == "ok" {
		c.endpoints = &wire.JobEndpoints{RpcAddress: f[1], DataAddress: f[2]}
		s.log.Info().Str("job", jobID).Int("pid", cmd.Process.Pid).Str("rpc", f[1]).Str("data", f[2]).Msg("job process started")
		go func() {
			<-c.exited
			s.log.Info().Str("job", jobID).Int("pid", cmd.Process.Pid).Str("state", cmd.ProcessState.String()).Msg("job process exited")
		}()
		return c, nil
	}
	_ = cmd.Process.Kill()
	werr := <-waitErr
	class, msg := "", ""
	if len(f) == 3 && f[0] == "error" {
		class, msg = f[1], f[2]
	} else {
		msg = fmt.Sprintf("the job's process exited before it served (%v)", werr)
		if t := lastLine(tail.String()); t != "" {
			msg += ": " + t
		}
	}
	return nil, &wire.TaskRejected{Reason: msg, ErrorClass: &class}
}

func (s *session) StopJob(_ context.Context, jobID string) error {
	s.mu.Lock()
	c := s.jobs[jobID]
	delete(s.jobs, jobID)
	s.mu.Unlock()
	if c != nil {
		stopChild(c)
	}
	return nil
}

// stopAll ends every job's process.
func (s *session) stopAll() {
	s.mu.Lock()
	jobs := s.jobs
	s.jobs = map[string]*jobChild{}
	s.mu.Unlock()
	for _, c := range jobs {
		stopChild(c)
	}
}

// stopChild asks a job's process to end (SIGTERM), and kills it after 10 s.
func stopChild(c *jobChild) {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

// withoutSpate drops the SPATE_ variables: the child's are set anew.
func withoutSpate(env []string) []string {
	out := make([]string, 0, len(env)+8)
	for _, kv := range env {
		if !strings.HasPrefix(kv, "SPATE_") {
			out = append(out, kv)
		}
	}
	return out
}

func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for _, c := range id {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b.Write(p)
	if over := t.b.Len() - t.max; over > 0 {
		t.b.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.String()
}
