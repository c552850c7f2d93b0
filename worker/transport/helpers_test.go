package transport

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// testTimeout bounds every wait in these tests; none of them waits for time to pass.
const testTimeout = 10 * time.Second

// logBuffer collects a zerolog logger's JSON lines, safely across goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() zerolog.Logger { return zerolog.New(b).Level(zerolog.DebugLevel) }

// lineWith returns the first log line that contains every one of parts.
func (b *logBuffer) lineWith(parts ...string) (string, bool) {
	for _, line := range strings.Split(b.String(), "\n") {
		ok := line != ""
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			return line, true
		}
	}
	return "", false
}

// waitLine polls the log until a line holds every one of parts.
func (b *logBuffer) waitLine(t *testing.T, parts ...string) string {
	t.Helper()
	var line string
	waitFor(t, "a log line with "+strings.Join(parts, ", "), func() bool {
		var ok bool
		line, ok = b.lineWith(parts...)
		return ok
	})
	return line
}

// waitFor polls cond until it holds, failing the test after testTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func testSecret(t testing.TB, fill byte) *SharedSecret {
	t.Helper()
	s, err := NewSharedSecret(bytes.Repeat([]byte{fill}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// listen starts a Listener on loopback whose log goes to a fresh logBuffer.
func listen(t testing.TB, auth Authenticator, opts Options) (*Listener, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	opts.Log = logs.logger()
	l, err := Listen("127.0.0.1:0", auth, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, logs
}

type acceptResult struct {
	c   *Conn
	err error
}

// acceptAsync accepts one connection in the background.
func acceptAsync(l *Listener) <-chan acceptResult {
	ch := make(chan acceptResult, 1)
	go func() {
		c, err := l.Accept()
		ch <- acceptResult{c, err}
	}()
	return ch
}

// connPair returns the two ends of an authenticated connection.
func connPair(t testing.TB, opts Options) (client, server *Conn) {
	t.Helper()
	auth := testSecret(t, 1)
	l, _ := listen(t, auth, opts)
	accepted := acceptAsync(l)
	client, err := Dial(testCtx(t), l.Addr().String(), auth, opts)
	if err != nil {
		t.Fatal(err)
	}
	r := <-accepted
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { client.Close(); r.c.Close() })
	return client, r.c
}
