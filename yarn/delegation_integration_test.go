package yarn

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spate-io/spate/yarn/ipc"
	"github.com/spate-io/spate/yarn/security"
)

func TestRMDelegationTokenAuthenticatesRenewsAndCancels(t *testing.T) {
	cl, c := secureClient(t)
	ctx := ctxFor(t, 60*time.Second)
	tok, err := cl.GetDelegationToken(ctx, "spate")
	if err != nil {
		t.Fatal(err)
	}
	if tok.Kind != RMDelegationTokenKind || tok.Service != security.TokenService(cl.rm.Addr()) || !strings.HasPrefix(tok.Service, "127.0.0.1:") {
		t.Errorf("token kind %q service %q", tok.Kind, tok.Service)
	}
	exp, err := cl.RenewDelegationToken(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(exp); d < time.Hour || d > 25*time.Hour {
		t.Errorf("renewed until %v (in %v), want about a day", exp, d)
	}
	// The token alone, DIGEST-MD5 and no Kerberos, is a client of the RM.
	byToken, err := NewClient(ClientOptions{Conf: confOf(t, c), Mechanisms: []ipc.Mechanism{security.NewDigestMD5(tok)}})
	if err != nil {
		t.Fatal(err)
	}
	defer byToken.Close()
	if m, err := byToken.GetClusterMetrics(ctx); err != nil || m.GetNumNodeManagers() != 1 {
		t.Fatalf("with the delegation token: %v, %v", m, err)
	}
	if err := cl.CancelDelegationToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	again, _ := NewClient(ClientOptions{Conf: confOf(t, c), Mechanisms: []ipc.Mechanism{security.NewDigestMD5(tok)}})
	defer again.Close()
	_, err = again.GetClusterMetrics(ctx)
	var ae *ipc.AuthError
	if !errors.As(err, &ae) || ae.Remote == nil {
		t.Fatalf("a cancelled token: err = %v, want an AuthError from the server", err)
	}
	t.Logf("cancelled token: %v", err)
}

func TestHDFSDelegationToken(t *testing.T) {
	c := secureHadoop.Get(t)
	nn, err := NewNameNodeTokens(confOf(t, c), kerberosLogin(t, c, c.ClientPrincipal, c.ClientKeytab), ipc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer nn.Close()
	ctx := ctxFor(t, 30*time.Second)
	tok, err := nn.Get(ctx, "spate")
	if err != nil {
		t.Fatal(err)
	}
	_, nnPort, _ := strings.Cut(strings.TrimPrefix(c.DefaultFS, "hdfs://"), ":")
	if tok.Kind != HDFSDelegationTokenKind || tok.Service != "127.0.0.1:"+nnPort {
		t.Errorf("token kind %q service %q (fs.defaultFS %s)", tok.Kind, tok.Service, c.DefaultFS)
	}
	exp, err := nn.Renew(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if time.Until(exp) < time.Hour {
		t.Errorf("renewed until %v", exp)
	}
	// A token for someone else to renew cannot be renewed by us.
	other, err := nn.Get(ctx, "yarn")
	if err != nil {
		t.Fatal(err)
	}
	_, err = nn.Renew(ctx, other)
	if _, ok := ipc.IsRemote(err, "org.apache.hadoop.security.AccessControlException"); !ok {
		t.Errorf("renewing another renewer's token: %v, want AccessControlException", err)
	}
	if err := nn.Cancel(ctx, tok); err != nil {
		t.Fatal(err)
	}
}

// An insecure RM issues delegation tokens too (Hadoop allows token
// operations whenever security is off), and the token authenticates.
func TestInsecureRMDelegationToken(t *testing.T) {
	cl, c := insecureClient(t, ipc.Options{})
	ctx := ctxFor(t, 30*time.Second)
	tok, err := cl.GetDelegationToken(ctx, "spate")
	if err != nil {
		t.Fatal(err)
	}
	if tok.Kind != RMDelegationTokenKind {
		t.Errorf("kind %q", tok.Kind)
	}
	if _, err := cl.RenewDelegationToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	// On an insecure cluster the client speaks SIMPLE whatever it holds; the
	// token is for the containers, which present it to a server over SASL.
	ipcc, _ := ipc.NewClient(ipc.Options{Addr: cl.rm.Addr(), Protocol: ApplicationClientProtocol, ProtocolVersion: 1, Mechanisms: []ipc.Mechanism{security.NewDigestMD5(tok)}})
	defer ipcc.Close()
	byToken := &Client{rm: ipcc}
	if m, err := byToken.GetClusterMetrics(ctx); err != nil || m.GetNumNodeManagers() != 1 {
		t.Fatalf("with the delegation token: %v, %v (%s)", m, err, c.RMAddress)
	}
}
