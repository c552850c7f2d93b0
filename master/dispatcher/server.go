package dispatcher

import (
	"context"
	"errors"
	"fmt"
	stdlog "log"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Defaults of Options.
const (
	// DefaultAddress is loopback on Flink's REST port: nothing outside the
	// machine reaches the REST API unless Address says so.
	DefaultAddress = "127.0.0.1:8081"
	// DefaultMaxContentLength bounds request bodies, uploads included
	// (rest.server.max-content-length). Flink's default is 100 MiB; a Go job
	// binary is larger than a typical jar, hence 512 MiB.
	DefaultMaxContentLength int64 = 512 << 20
	// DefaultRefreshInterval is how often the web UI refreshes
	// (web.refresh-interval, Flink's default).
	DefaultRefreshInterval = 3 * time.Second
)

// MaxContentLengthKey is the configuration key that raises the upload limit;
// a 413 answer names it.
const MaxContentLengthKey = "rest.server.max-content-length"

// Options configure a Server. The zero value is usable.
type Options struct {
	// Address is the host:port to listen on; empty means DefaultAddress
	// (loopback). Binding another interface ("0.0.0.0:8081", ":8081") exposes
	// job submission and cancellation to the network: do it only behind
	// SPNEGO or a proxy that authenticates. Port 0 picks a free port; Start
	// returns it.
	Address string
	// MaxContentLength bounds the body of POST /jobs in bytes; 0 means
	// DefaultMaxContentLength.
	MaxContentLength int64
	// UploadDir is where uploaded binaries are stored until Submit returns
	// (web.upload.dir); empty means os.TempDir().
	UploadDir string
	// Version is Spate's version, sent as flink-version "spate-<Version>"
	// ("spate-dev" when empty); Commit is sent as flink-commit and
	// flink-revision.
	Version string
	Commit  string
	// RefreshInterval is the web UI's refresh interval sent by /config; 0
	// means DefaultRefreshInterval.
	RefreshInterval time.Duration
	// Log receives one debug line per request and the errors; the zero
	// Logger discards everything.
	Log zerolog.Logger
}

// Server is the Dispatcher's REST endpoint. It holds no job state: every
// request is answered from one or two Cluster calls.
type Server struct {
	cluster Cluster
	opts    Options
	log     zerolog.Logger
	now     func() time.Time // tests pin the clock (only /config reads it)

	mu     sync.Mutex
	srv    *http.Server
	served chan struct{} // closed when Serve has returned
}

// New returns a Server that answers from cluster. It does not listen until
// Start.
func New(cluster Cluster, opts Options) *Server {
	if opts.Address == "" {
		opts.Address = DefaultAddress
	}
	if opts.MaxContentLength <= 0 {
		opts.MaxContentLength = DefaultMaxContentLength
	}
	if opts.UploadDir == "" {
		opts.UploadDir = os.TempDir()
	}
	if opts.RefreshInterval <= 0 {
		opts.RefreshInterval = DefaultRefreshInterval
	}
	return &Server{
		cluster: cluster,
		opts:    opts,
		log:     opts.Log.With().Str("component", "dispatcher").Logger(),
		now:     time.Now,
	}
}

// Handler returns the REST API as an http.Handler, for tests and for callers
// that run their own http.Server (say, behind SPNEGO).
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// Start listens on Options.Address and serves in the background. It returns
// the address bound, which tells the port when Address asked for port 0.
func (s *Server) Start() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return "", errors.New("dispatcher: server already started")
	}
	ln, err := net.Listen("tcp", s.opts.Address)
	if err != nil {
		return "", fmt.Errorf("listen for REST on %s: %w", s.opts.Address, err)
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          stdlog.New(s.log.With().Str("source", "net/http").Logger(), "", 0),
	}
	served := make(chan struct{})
	s.srv, s.served = srv, served
	go func() {
		defer close(served)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error().Err(err).Msg("REST server stopped")
		}
	}()
	addr := ln.Addr().String()
	s.log.Info().Str("address", addr).Msg("REST endpoint listening")
	return addr, nil
}

// Shutdown stops listening and waits for requests in flight to finish, or for
// ctx to be done; then it closes what is left, as Close.
func (s *Server) Shutdown(ctx context.Context) error {
	srv, served := s.stop()
	if srv == nil {
		return nil
	}
	err := srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, srv.Close())
	}
	<-served
	return err
}

// Close stops listening and closes every connection at once, uploads in
// flight included. Closing a server that is not started does nothing.
func (s *Server) Close() error {
	srv, served := s.stop()
	if srv == nil {
		return nil
	}
	err := srv.Close()
	<-served
	return err
}

func (s *Server) stop() (*http.Server, chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	srv, served := s.srv, s.served
	s.srv, s.served = nil, nil
	return srv, served
}
