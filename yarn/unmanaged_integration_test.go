package yarn

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/spate-io/spate/integration/hadooptest"
	"github.com/spate-io/spate/yarn/ipc"
	yarnpb "github.com/spate-io/spate/yarn/proto"
	"github.com/spate-io/spate/yarn/security"
)

// unmanagedAM submits an application whose AM is this process and returns
// its id and a registered AMRMClient.
func unmanagedAM(t testing.TB, secure bool) (*Client, ApplicationID, *AMRMClient) {
	t.Helper()
	var c *hadooptest.Cluster
	var cl *Client
	var err error
	if secure {
		c = secureHadoop.Get(t)
		cl, err = NewClient(ClientOptions{Conf: confOf(t, c), Kerberos: kerberosLogin(t, c, c.ClientPrincipal, c.ClientKeytab)})
	} else {
		c = insecureHadoop.Get(t)
		cl, err = NewClient(ClientOptions{Conf: confOf(t, c), User: c.User})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	ctx := ctxFor(t, 60*time.Second)
	id, _, err := cl.GetNewApplication(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Submit(ctx, &Submission{ID: id, Name: "unmanaged", Unmanaged: true, AMResource: Resource{MemoryMB: 64, VCores: 1}}); err != nil {
		t.Fatal(err)
	}
	r, err := cl.WaitForApplication(ctx, id, 20*time.Millisecond, func(r *yarnpb.ApplicationReportProto) bool { return r.GetAmRmToken() != nil || Final(r) })
	if err != nil {
		t.Fatal(err)
	}
	if r.GetAmRmToken() == nil {
		t.Fatalf("no AMRMToken in the report: %v", r)
	}
	sched, err := confOf(t, c).SchedulerAddress()
	if err != nil {
		t.Fatal(err)
	}
	tok := security.TokenFromProto(r.GetAmRmToken())
	if tok.Kind != AMRMTokenKind {
		t.Fatalf("token kind %q", tok.Kind)
	}
	am, err := NewAMRMClient(sched, tok, ipc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { am.Close() })
	if _, err := am.Register(ctx, "localhost", 0, ""); err != nil {
		t.Fatal(err)
	}
	return cl, id, am
}

// Insecure only: on a secure cluster the RM puts an unmanaged AM's AMRMToken
// in the report only when the caller's user name equals the application's
// user (RMAppImpl.createAndGetApplicationReport), and a Kerberos caller's
// name is the full principal (spate@REALM) while the application's user is
// its short name (spate), so the token never comes. The AM protocol on the
// secure cluster is tested by TestGoApplicationMaster, whose AM runs in YARN.
func TestUnmanagedAMAllocatesAndFinishes(t *testing.T) {
	for _, secure := range []bool{false} {
		t.Run(fmt.Sprintf("secure=%v", secure), func(t *testing.T) {
			cl, id, am := unmanagedAM(t, secure)
			ctx := ctxFor(t, 60*time.Second)
			// The RM moves the application to RUNNING on its dispatcher after
			// the register call returned: wait for the state, not a moment.
			var r *yarnpb.ApplicationReportProto
			var err error
			for {
				if r, err = cl.GetApplicationReport(ctx, id); err != nil {
					t.Fatal(err)
				}
				if r.GetYarnApplicationState() != yarnpb.YarnApplicationStateProto_ACCEPTED || ctx.Err() != nil {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if r.GetYarnApplicationState() != yarnpb.YarnApplicationStateProto_RUNNING || !r.GetUnmanagedApplication() {
				t.Fatalf("after register: %s unmanaged=%v, want RUNNING, unmanaged", r.GetYarnApplicationState(), r.GetUnmanagedApplication())
			}
			req := AllocateRequest{Asks: []ContainerRequest{{Priority: 1, Resource: Resource{MemoryMB: 64, VCores: 1}, Count: 1}}, Progress: 0.5}
			var got *yarnpb.ContainerProto
			var nmTok *security.Token
			for got == nil && ctx.Err() == nil {
				resp, err := am.Allocate(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				req.Asks = nil
				if resp.GetNumClusterNodes() != 1 {
					t.Errorf("num cluster nodes %d, want 1", resp.GetNumClusterNodes())
				}
				if cs := resp.GetAllocatedContainers(); len(cs) > 0 {
					got = cs[0]
					nmTok = NMTokenFor(resp.GetNmTokens(), got.GetNodeId())
				} else {
					time.Sleep(50 * time.Millisecond)
				}
			}
			if got == nil {
				t.Fatal("no container allocated")
			}
			cid := ContainerIDFromProto(got.GetId())
			if cid.App != id || got.GetResource().GetMemory() != 64 || nmTok == nil {
				t.Errorf("container %s resource %v NMToken %v", cid, got.GetResource(), nmTok)
			}
			// Released unused, it completes with YARN's ABORTED status (-100).
			req = AllocateRequest{Release: []ContainerID{cid}}
			var done *yarnpb.ContainerStatusProto
			for done == nil && ctx.Err() == nil {
				resp, err := am.Allocate(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				req.Release = nil
				if cs := resp.GetCompletedContainerStatuses(); len(cs) > 0 {
					done = cs[0]
				} else {
					time.Sleep(50 * time.Millisecond)
				}
			}
			if done == nil || ContainerIDFromProto(done.GetContainerId()) != cid || done.GetExitStatus() != -100 || done.GetState() != yarnpb.ContainerStateProto_C_COMPLETE {
				t.Errorf("released container's status %v, want %s COMPLETE exit -100", done, cid)
			}
			if err := am.Finish(ctx, yarnpb.FinalApplicationStatusProto_APP_SUCCEEDED, "done by the test", ""); err != nil {
				t.Fatal(err)
			}
			r, err = cl.WaitForApplication(ctx, id, 20*time.Millisecond, Final)
			if err != nil {
				t.Fatal(err)
			}
			if r.GetYarnApplicationState() != yarnpb.YarnApplicationStateProto_FINISHED || r.GetFinalApplicationStatus() != yarnpb.FinalApplicationStatusProto_APP_SUCCEEDED || r.GetDiagnostics() != "done by the test" {
				t.Errorf("final %s / %s %q", r.GetYarnApplicationState(), r.GetFinalApplicationStatus(), r.GetDiagnostics())
			}
		})
	}
}

// An AMRMToken presented to the RM's client port, whose secret manager
// issued no such token, is refused by the server with its reason.
func TestTokenForAnotherServiceIsRefused(t *testing.T) {
	_, _, am := unmanagedAM(t, false)
	c := insecureHadoop.Get(t)
	tok := am.mech.Token()
	// ipc directly: on an insecure cluster NewClient speaks SIMPLE.
	ipcc, err := ipc.NewClient(ipc.Options{Addr: c.RMAddress, Protocol: ApplicationClientProtocol, ProtocolVersion: 1, Mechanisms: []ipc.Mechanism{security.NewDigestMD5(tok)}})
	if err != nil {
		t.Fatal(err)
	}
	defer ipcc.Close()
	cl := &Client{rm: ipcc}
	_, err = cl.GetClusterMetrics(ctxFor(t, 30*time.Second))
	var ae *ipc.AuthError
	ok := errors.As(err, &ae)
	if !ok || ae.Remote == nil || ae.Remote.Class != "org.apache.hadoop.security.token.SecretManager$InvalidToken" {
		t.Fatalf("err = %v, want an AuthError from the server", err)
	}
	if want := "the server refused the YARN_AM_RM_TOKEN token for " + tok.Service + ": "; !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want it to name the token: %q", err, want)
	}
}

// BenchmarkAllocateHeartbeat measures allocate calls with nothing asked,
// an AM's idle heartbeat, from an unmanaged AM (insecure: see
// TestUnmanagedAMAllocatesAndFinishes for why not secure).
func BenchmarkAllocateHeartbeat(b *testing.B) {
	for _, secure := range []bool{false} {
		b.Run(fmt.Sprintf("secure=%v", secure), func(b *testing.B) {
			_, _, am := unmanagedAM(b, secure)
			ctx := ctxFor(b, 10*time.Minute)
			n := 0
			t0 := time.Now()
			for b.Loop() {
				if _, err := am.Allocate(ctx, AllocateRequest{Progress: 0.1}); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/time.Since(t0).Seconds(), "heartbeats/s")
		})
	}
}
