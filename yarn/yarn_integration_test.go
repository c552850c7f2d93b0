package yarn

// Tests against the real ResourceManager and NodeManagers of the test
// Hadoop (integration/hadoop), secure (KDC + Kerberos) and insecure, each
// started once for this test binary and shared. They skip only when neither
// java nor mvn is on PATH.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spate-io/spate/integration/hadooptest"
	"github.com/spate-io/spate/yarn/ipc"
	yarnpb "github.com/spate-io/spate/yarn/proto"
)

var (
	secureHadoop   = &hadooptest.Shared{Options: hadooptest.Options{Secure: true}}
	insecureHadoop = &hadooptest.Shared{Options: hadooptest.Options{Secure: false}}
)

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "" && !testing.Short() {
		secureHadoop.Prestart()
		insecureHadoop.Prestart()
	}
	code := m.Run()
	if testAMPath != "" {
		os.RemoveAll(filepath.Dir(testAMPath))
	}
	for _, s := range []*hadooptest.Shared{secureHadoop, insecureHadoop} {
		if err := s.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func confOf(t testing.TB, c *hadooptest.Cluster) *Conf {
	t.Helper()
	conf, err := LoadConf(c.ConfDir)
	if err != nil {
		t.Fatal(err)
	}
	return conf
}

// insecureClient is a client of the insecure cluster as its user.
func insecureClient(t *testing.T, ipcOpts ipc.Options) (*Client, *hadooptest.Cluster) {
	t.Helper()
	c := insecureHadoop.Get(t)
	cl, err := NewClient(ClientOptions{Conf: confOf(t, c), User: c.User, IPC: ipcOpts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl, c
}

func TestInsecureClusterMetricsAndNodes(t *testing.T) {
	cl, _ := insecureClient(t, ipc.Options{})
	ctx := ctxFor(t, 30*time.Second)
	m, err := cl.GetClusterMetrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The launcher starts one NodeManager.
	if m.GetNumNodeManagers() != 1 || m.GetNumActiveNms() != 1 || m.GetNumLostNms() != 0 || m.GetNumUnhealthyNms() != 0 {
		t.Errorf("cluster metrics %v, want one active NodeManager", m)
	}
	nodes, err := cl.GetClusterNodes(ctx, yarnpb.NodeStateProto_NS_RUNNING)
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 1 || nodes[0].GetNodeId().GetHost() != "localhost" || nodes[0].GetNodeState() != yarnpb.NodeStateProto_NS_RUNNING {
		t.Errorf("nodes %v, want one running NodeManager on localhost", nodes)
	}
	q, err := cl.GetQueueInfo(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	if q.GetQueueName() != "default" || q.GetState() != yarnpb.QueueStateProto_Q_RUNNING || q.GetQueuePath() != "root.default" {
		t.Errorf("queue %v", q)
	}
}

func TestInsecureNewApplicationIDsAreConsecutive(t *testing.T) {
	cl, _ := insecureClient(t, ipc.Options{})
	ctx := ctxFor(t, 30*time.Second)
	a, max, err := cl.GetNewApplication(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := cl.GetNewApplication(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b.ClusterTimestamp != a.ClusterTimestamp || b.ID != a.ID+1 {
		t.Errorf("new applications %s then %s, want consecutive ids", a, b)
	}
	if max.GetMemory() <= 0 || max.GetVirtualCores() <= 0 {
		t.Errorf("maximum capability %v", max)
	}
	want := fmt.Sprintf("application_%d_%04d", a.ClusterTimestamp, a.ID)
	if a.String() != want {
		t.Errorf("String() = %s, want %s", a, want)
	}
}

func TestInsecureUnknownApplicationIsTypedError(t *testing.T) {
	cl, _ := insecureClient(t, ipc.Options{})
	ctx := ctxFor(t, 30*time.Second)
	a, _, err := cl.GetNewApplication(ctx)
	if err != nil {
		t.Fatal(err)
	}
	unknown := ApplicationID{ClusterTimestamp: a.ClusterTimestamp, ID: a.ID + 1000}
	_, err = cl.GetApplicationReport(ctx, unknown)
	re, ok := ipc.IsRemote(err, ApplicationNotFoundException)
	if !ok {
		t.Fatalf("err = %v, want ApplicationNotFoundException", err)
	}
	want := fmt.Sprintf("Application with id '%s' doesn't exist in RM.", unknown)
	if !strings.HasPrefix(re.Message, want) || re.Method != "getApplicationReport" || re.Fatal {
		t.Errorf("remote error %+v, want message starting %q", re, want)
	}
	// The connection survives an ERROR: the next call on it succeeds.
	if _, err := cl.GetClusterMetrics(ctx); err != nil {
		t.Errorf("after an ERROR response: %v", err)
	}
}

func TestInsecureConcurrentCalls(t *testing.T) {
	cl, _ := insecureClient(t, ipc.Options{})
	ctx := ctxFor(t, 60*time.Second)
	const goroutines, calls = 16, 20
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*calls)
	ids := make(chan ApplicationID, goroutines*calls)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < calls; i++ {
				if g%2 == 0 {
					m, err := cl.GetClusterMetrics(ctx)
					if err == nil && m.GetNumNodeManagers() != 1 {
						err = fmt.Errorf("metrics %v", m)
					}
					errs <- err
				} else {
					id, _, err := cl.GetNewApplication(ctx)
					errs <- err
					ids <- id
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	close(ids)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Each response reached its own call: every new application id is distinct.
	seen := map[ApplicationID]bool{}
	for id := range ids {
		if seen[id] {
			t.Fatalf("application id %s returned to two calls", id)
		}
		seen[id] = true
	}
	if len(seen) != goroutines/2*calls {
		t.Fatalf("%d distinct ids, want %d", len(seen), goroutines/2*calls)
	}
}

func TestSimpleAuthAgainstSecureRMIsRefused(t *testing.T) {
	c := secureHadoop.Get(t)
	conf := confOf(t, c)
	addr, _ := conf.ResourceManagerAddress()
	// A client that thinks the cluster insecure: no SASL.
	cl, err := ipc.NewClient(ipc.Options{Addr: addr, Protocol: ApplicationClientProtocol, ProtocolVersion: 1, User: "spate"})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	err = cl.Call(ctxFor(t, 30*time.Second), "getClusterMetrics", &yarnpb.GetClusterMetricsRequestProto{}, &yarnpb.GetClusterMetricsResponseProto{})
	re, ok := ipc.IsRemote(err, ipc.AccessControlException)
	if !ok || !re.Fatal || re.Message != "SIMPLE authentication is not enabled.  Available:[TOKEN, KERBEROS]" {
		t.Fatalf("err = %v (%+v), want a fatal AccessControlException saying SIMPLE is not enabled", err, re)
	}
}

func TestConnectRetryIsBounded(t *testing.T) {
	// A port nothing listens on: take one and close it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cl, err := ipc.NewClient(ipc.Options{Addr: addr, Protocol: ApplicationClientProtocol, User: "spate",
		ConnectRetries: 2, ConnectRetryInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = cl.Call(ctxFor(t, 10*time.Second), "getClusterMetrics", &yarnpb.GetClusterMetricsRequestProto{}, &yarnpb.GetClusterMetricsResponseProto{})
	var ce *ipc.ConnectError
	if !errors.As(err, &ce) || ce.Attempts != 3 || ce.Addr != addr {
		t.Fatalf("err = %v, want a ConnectError after 3 attempts", err)
	}
}
