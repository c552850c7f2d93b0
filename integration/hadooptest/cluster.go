package hadooptest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ErrNoJava is returned by Start when neither java nor mvn is on PATH: the
// only reason a test may skip instead of failing.
var ErrNoJava = errors.New("neither java nor mvn is on PATH: the Hadoop tests need a JDK 17 and Maven")

// ReadyPrefix starts the launcher's one line on standard output.
const ReadyPrefix = "SPATE-HADOOP-READY "

// The launcher's replies to a control command start with one of these,
// followed by the command (and, for an error, ": " and what went wrong).
const (
	replyOK  = "SPATE-HADOOP-OK "
	replyErr = "SPATE-HADOOP-ERR "
)

// Options choose the cluster to start.
type Options struct {
	// Secure starts a KDC and runs HDFS and YARN with Kerberos.
	Secure bool
	// Dir holds the configuration, keytabs, data and log; "" is a new
	// temporary directory, removed by Stop.
	Dir string
	// DataNodes and NodeManagers default to 1.
	DataNodes, NodeManagers int
	// MaxTicketLifetime sets the KDC's maximum ticket (and renewal) lifetime;
	// 0 is MiniKdc's default of a day.
	MaxTicketLifetime time.Duration
	// CoreSite sets core-site.xml properties, for the daemons and the
	// clients, over the launcher's own.
	CoreSite map[string]string
	// StartTimeout bounds the wait for the ready line, not the Maven build;
	// 0 is 3 minutes.
	StartTimeout time.Duration
	// JavaOptions replace the lean default JVM flags.
	JavaOptions []string
}

// DefaultJavaOptions halve the start-up time of the launcher's JVM.
var DefaultJavaOptions = []string{"-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"}

// Cluster is a running launcher. Its fields are the ready line's.
type Cluster struct {
	Secure bool
	// Dir is the launcher's directory; ConfDir (HADOOP_CONF_DIR) holds
	// core-site.xml, hdfs-site.xml and yarn-site.xml.
	Dir, ConfDir string
	// DefaultFS is fs.defaultFS, hdfs://localhost:PORT; RMAddress the
	// ResourceManager's host:port.
	DefaultFS, RMAddress string
	// User is the HDFS user of an insecure cluster ("spate"); for a secure
	// one the client principal's short name.
	User string

	// Secure only: the KDC's realm and its krb5.conf (KRB5_CONFIG).
	Realm, Krb5Conf string
	// ClientPrincipal (spate@REALM) and its keytab; TicketCache holds a
	// ticket for it (KRB5CCNAME), if the launcher could write one.
	ClientPrincipal, ClientKeytab, TicketCache string
	// OtherPrincipal (intruder@REALM) is a valid principal that owns
	// nothing, with its own keytab.
	OtherPrincipal, OtherKeytab string
	// ServicePrincipal is the daemons' principal, OSUSER/localhost@REALM.
	ServicePrincipal string

	// StartupTime is from starting the JVM to its ready line (no build);
	// LauncherStartup is the launcher's own measure, from main.
	StartupTime, LauncherStartup time.Duration
	// LogPath is the launcher's standard error.
	LogPath string

	cmd       *exec.Cmd
	classPath string
	control   sync.Mutex  // one control command at a time
	replies   chan string // the launcher's reply lines
	stdin     io.WriteCloser
	log       *os.File
	tempDir   bool
	exited    chan struct{} // closed when the process has exited
	waitErr   error
	stop      sync.Once
}

// Env returns the environment for a child that should use this cluster:
// HADOOP_CONF_DIR, and KRB5_CONFIG and KRB5CCNAME for a secure one or
// HADOOP_USER_NAME for an insecure one.
func (c *Cluster) Env() []string {
	env := []string{"HADOOP_CONF_DIR=" + c.ConfDir, "YARN_CONF_DIR=" + c.ConfDir}
	if c.Secure {
		env = append(env, "KRB5_CONFIG="+c.Krb5Conf)
		if c.TicketCache != "" {
			env = append(env, "KRB5CCNAME=FILE:"+c.TicketCache)
		}
	} else {
		env = append(env, "HADOOP_USER_NAME="+c.User)
	}
	return env
}

// Start builds the launcher if needed, starts it and waits until it is ready.
func Start(opts Options) (*Cluster, error) {
	java, mvn := lookPath("java"), lookPath("mvn")
	if java == "" && mvn == "" {
		return nil, ErrNoJava
	}
	if java == "" {
		return nil, errors.New("java is not on PATH (mvn is): install a JDK 17")
	}
	classPath, err := Build()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Secure: opts.Secure, exited: make(chan struct{}), classPath: classPath, replies: make(chan string, 1)}
	dir := opts.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "spate-hadoop-"); err != nil {
			return nil, err
		}
		c.tempDir = true
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, err
	}
	c.Dir = dir
	c.LogPath = filepath.Join(dir, "launcher.log")
	if c.log, err = os.Create(c.LogPath); err != nil {
		return nil, err
	}

	args := append([]string{}, opts.JavaOptions...)
	if opts.JavaOptions == nil {
		args = append(args, DefaultJavaOptions...)
	}
	args = append(args, "-cp", classPath, "io.spate.hadoop.Launcher", "--dir", dir, "--stdin-lifeline")
	if !opts.Secure {
		args = append(args, "--insecure")
	}
	if opts.DataNodes > 0 {
		args = append(args, "--datanodes", strconv.Itoa(opts.DataNodes))
	}
	if opts.NodeManagers > 0 {
		args = append(args, "--nodemanagers", strconv.Itoa(opts.NodeManagers))
	}
	if opts.MaxTicketLifetime > 0 {
		args = append(args, "--max-ticket-lifetime", strconv.Itoa(int(opts.MaxTicketLifetime.Round(time.Second)/time.Second)))
	}
	keys := make([]string, 0, len(opts.CoreSite))
	for k := range opts.CoreSite {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		args = append(args, "--core", k+"="+opts.CoreSite[k])
	}
	c.cmd = exec.Command(java, args...)
	c.cmd.Dir = dir
	c.cmd.Stderr = c.log
	c.cmd.SysProcAttr = sysProcAttr()
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := c.cmd.Start(); err != nil {
		c.log.Close()
		return nil, fmt.Errorf("start the Hadoop launcher: %w", err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			switch {
			case !sent && strings.HasPrefix(line, ReadyPrefix):
				ready <- line
				sent = true
			case strings.HasPrefix(line, replyOK), strings.HasPrefix(line, replyErr):
				select {
				case c.replies <- line:
				default: // nobody asked: dropped rather than block the launcher
				}
			}
		}
		// Drain until EOF so the launcher never blocks on stdout.
	}()
	go func() {
		c.waitErr = c.cmd.Wait()
		close(c.exited)
	}()

	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 3 * time.Minute
	}
	select {
	case line := <-ready:
		c.StartupTime = time.Since(t0)
		if err := c.parseReady(line); err != nil {
			c.Stop()
			return nil, err
		}
		return c, nil
	case <-c.exited:
		return nil, fmt.Errorf("the Hadoop launcher exited before it was ready (%v); the end of %s:\n%s", c.waitErr, c.LogPath, tail(c.LogPath, 30))
	case <-time.After(timeout):
		c.Stop()
		return nil, fmt.Errorf("the Hadoop launcher was not ready after %v; stopped it; the end of %s:\n%s", timeout, c.LogPath, tail(c.LogPath, 30))
	}
}

// parseReady fills c from the ready line's key=value fields.
func (c *Cluster) parseReady(line string) error {
	f := map[string]string{}
	for _, kv := range strings.Fields(strings.TrimPrefix(line, ReadyPrefix)) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			f[k] = v
		}
	}
	c.ConfDir, c.DefaultFS, c.RMAddress = f["conf"], f["fs.defaultFS"], f["rm"]
	c.Realm, c.Krb5Conf = f["realm"], f["krb5"]
	c.ClientPrincipal, c.ClientKeytab, c.TicketCache = f["principal"], f["keytab"], f["ccache"]
	c.OtherPrincipal, c.OtherKeytab = f["other.principal"], f["other.keytab"]
	c.ServicePrincipal = f["service.principal"]
	c.User = f["user"]
	if c.Secure {
		c.User, _, _ = strings.Cut(c.ClientPrincipal, "@")
	}
	if ms, err := strconv.Atoi(f["startup.ms"]); err == nil {
		c.LauncherStartup = time.Duration(ms) * time.Millisecond
	}
	missing := []string{}
	need := []string{"conf", "fs.defaultFS", "rm"}
	if c.Secure {
		need = append(need, "realm", "krb5", "principal", "keytab")
	}
	for _, k := range need {
		if f[k] == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the Hadoop launcher's ready line lacks %s: %q", strings.Join(missing, ", "), line)
	}
	return nil
}

// Stop stops the launcher (EOF on its standard input and SIGTERM), waits for
// it to exit (killing it after 30 s), and removes a temporary Dir. It may be
// called more than once, and on a nil Cluster.
func (c *Cluster) Stop() error {
	if c == nil {
		return nil
	}
	var err error
	c.stop.Do(func() {
		c.stdin.Close()
		if c.cmd.Process != nil {
			c.cmd.Process.Signal(syscall.SIGTERM)
		}
		select {
		case <-c.exited:
		case <-time.After(30 * time.Second):
			c.cmd.Process.Kill()
			<-c.exited
			err = fmt.Errorf("the Hadoop launcher did not stop within 30 s: killed it; see %s", c.LogPath)
		}
		c.log.Close()
		if c.tempDir && err == nil && os.Getenv("SPATE_HADOOP_KEEP") == "" {
			os.RemoveAll(c.Dir)
		}
	})
	return err
}

// Control sends the launcher one control command (see integration/hadoop's
// README) and waits, bounded, for its reply.
func (c *Cluster) Control(command string) error {
	c.control.Lock()
	defer c.control.Unlock()
	if _, err := io.WriteString(c.stdin, command+"\n"); err != nil {
		return fmt.Errorf("send %q to the Hadoop launcher: %w", command, err)
	}
	select {
	case line := <-c.replies:
		if rest, ok := strings.CutPrefix(line, replyOK); ok && rest == command {
			return nil
		}
		return fmt.Errorf("hadoop launcher: %s", strings.TrimPrefix(line, replyErr))
	case <-c.exited:
		return fmt.Errorf("the Hadoop launcher exited while running %q; see %s", command, c.LogPath)
	case <-time.After(2 * time.Minute):
		return fmt.Errorf("the Hadoop launcher did not answer %q within 2 minutes; see %s", command, c.LogPath)
	}
}

// StopDataNode stops DataNode i (0 to DataNodes-1). The NameNode goes on
// placing blocks on it until DeadDataNode (or, as on a real cluster, about
// ten minutes without its heartbeats).
func (c *Cluster) StopDataNode(i int) error { return c.Control(fmt.Sprintf("stop-datanode %d", i)) }

// DeadDataNode has the NameNode count stopped DataNode i dead at once, so
// that new blocks go to the others.
func (c *Cluster) DeadDataNode(i int) error { return c.Control(fmt.Sprintf("dead-datanode %d", i)) }

// RestartDataNode starts a stopped DataNode again, on its old storage and
// port, and waits until the cluster is active.
func (c *Cluster) RestartDataNode(i int) error {
	return c.Control(fmt.Sprintf("restart-datanode %d", i))
}

// HadoopFS runs Hadoop's own shell (org.apache.hadoop.fs.FsShell, what
// "hadoop fs" runs) in a JVM of its own with the launcher's class path and
// this cluster's configuration and credentials (the ticket cache), and
// returns its standard output. An exit status other than 0 is an error that
// holds its standard error.
func (c *Cluster) HadoopFS(args ...string) ([]byte, error) {
	java := lookPath("java")
	if java == "" {
		return nil, errors.New("java is not on PATH")
	}
	jargs := append([]string{}, DefaultJavaOptions...)
	if c.Secure {
		jargs = append(jargs, "-Djava.security.krb5.conf="+c.Krb5Conf)
	}
	// The configuration directory first: Hadoop reads *-site.xml from the class path.
	jargs = append(jargs, "-cp", c.ConfDir+string(os.PathListSeparator)+c.classPath, "org.apache.hadoop.fs.FsShell")
	cmd := exec.Command(java, append(jargs, args...)...)
	cmd.Env = append(os.Environ(), c.Env()...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("hadoop fs %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// PID returns the launcher's process id.
func (c *Cluster) PID() int { return c.cmd.Process.Pid }

// Exited reports whether the launcher has exited (it should not, before Stop).
func (c *Cluster) Exited() bool {
	select {
	case <-c.exited:
		return true
	default:
		return false
	}
}

// Shared is a cluster started once per test binary on first use and shared
// by its tests; TestMain calls Stop after m.Run.
type Shared struct {
	Options Options

	once    sync.Once
	mu      sync.Mutex
	done    chan struct{} // closed when Start returned; nil before the first use
	cluster *Cluster
	err     error
}

// Prestart begins starting the cluster in the background, so that the first
// test to need it waits less.
func (s *Shared) Prestart() { s.start() }

func (s *Shared) start() {
	s.once.Do(func() {
		done := make(chan struct{})
		s.mu.Lock()
		s.done = done
		s.mu.Unlock()
		go func() {
			defer close(done)
			s.cluster, s.err = Start(s.Options)
		}()
	})
}

// started returns the channel closed when Start returned, or nil if nothing
// asked for the cluster.
func (s *Shared) started() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done
}

// Cluster waits for the cluster and returns it, or Start's error.
func (s *Shared) Cluster() (*Cluster, error) {
	s.start()
	<-s.started()
	return s.cluster, s.err
}

// Started returns the cluster if something asked for it, after its start
// finished; it never starts one.
func (s *Shared) Started() (*Cluster, bool) {
	done := s.started()
	if done == nil {
		return nil, false
	}
	<-done
	return s.cluster, s.cluster != nil
}

// Get returns the cluster for a test: it skips the test when neither java
// nor mvn is on PATH, saying so, and fails it on any other start-up error.
func (s *Shared) Get(t testing.TB) *Cluster {
	t.Helper()
	c, err := s.Cluster()
	if errors.Is(err, ErrNoJava) {
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatalf("start the test Hadoop: %v", err)
	}
	if c.Exited() {
		t.Fatalf("the test Hadoop has exited; see %s:\n%s", c.LogPath, tail(c.LogPath, 20))
	}
	return c
}

// Stop stops the cluster if it was started (waiting for a start in progress).
func (s *Shared) Stop() error {
	done := s.started()
	if done == nil {
		return nil
	}
	<-done
	return s.cluster.Stop()
}

func lookPath(name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		return ""
	}
	return p
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
