package yarn

import (
	"context"
	"fmt"
	"time"

	krbclient "github.com/jcmturner/gokrb5/v8/client"
	"google.golang.org/protobuf/proto"

	"github.com/spate-io/spate/yarn/ipc"
	yarnpb "github.com/spate-io/spate/yarn/proto"
	"github.com/spate-io/spate/yarn/security"
)

// Delegation tokens: a Kerberos-authenticated client asks a server (the RM,
// the NameNode) for a token that its application's containers use instead
// of Kerberos. The renewer (usually the RM, which renews the HDFS tokens of
// running applications) may extend it; the server refuses tokens of
// unauthenticated (simple) clients.

// Token kinds of delegation tokens.
const (
	RMDelegationTokenKind   = "RM_DELEGATION_TOKEN"
	HDFSDelegationTokenKind = "HDFS_DELEGATION_TOKEN"
)

// tokenCalls are the three delegation-token methods, which the RM's and the
// NameNode's protocols share with the same messages.
type tokenCalls struct {
	c       *ipc.Client
	service string
}

func (t tokenCalls) get(ctx context.Context, renewer string) (*security.Token, error) {
	resp := &yarnpb.GetDelegationTokenResponseProto{}
	if err := t.c.Call(ctx, "getDelegationToken", &yarnpb.GetDelegationTokenRequestProto{Renewer: proto.String(renewer)}, resp); err != nil {
		return nil, err
	}
	tok := security.TokenFromProto(resp.GetToken())
	if tok == nil {
		return nil, fmt.Errorf("yarn: %s returned no delegation token", t.c.Addr())
	}
	// The server leaves the service empty: clients name it by the address
	// they reached it at, as an IP (see security.TokenService).
	tok.Service = security.TokenService(t.service)
	return tok, nil
}

func (t tokenCalls) renew(ctx context.Context, tok *security.Token) (time.Time, error) {
	resp := &yarnpb.RenewDelegationTokenResponseProto{}
	if err := t.c.Call(ctx, "renewDelegationToken", &yarnpb.RenewDelegationTokenRequestProto{Token: tok.Proto()}, resp); err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(int64(resp.GetNewExpiryTime())), nil
}

func (t tokenCalls) cancel(ctx context.Context, tok *security.Token) error {
	return t.c.Call(ctx, "cancelDelegationToken", &yarnpb.CancelDelegationTokenRequestProto{Token: tok.Proto()}, &yarnpb.CancelDelegationTokenResponseProto{})
}

// GetDelegationToken returns an RM delegation token that renewer may
// renew; its service is the RM address this client uses.
func (c *Client) GetDelegationToken(ctx context.Context, renewer string) (*security.Token, error) {
	return tokenCalls{c.rm, c.rm.Addr()}.get(ctx, renewer)
}

// RenewDelegationToken extends an RM delegation token and returns its new
// expiry; only its renewer may.
func (c *Client) RenewDelegationToken(ctx context.Context, tok *security.Token) (time.Time, error) {
	return tokenCalls{c.rm, c.rm.Addr()}.renew(ctx, tok)
}

// CancelDelegationToken revokes an RM delegation token.
func (c *Client) CancelDelegationToken(ctx context.Context, tok *security.Token) error {
	return tokenCalls{c.rm, c.rm.Addr()}.cancel(ctx, tok)
}

// ClientNamenodeProtocol is the NameNode's client protocol.
const ClientNamenodeProtocol = "org.apache.hadoop.hdfs.protocol.ClientProtocol"

// NameNodeTokens fetches and renews HDFS delegation tokens from the
// NameNode of fs.defaultFS (the first, with HA), authenticated with
// Kerberos to dfs.namenode.kerberos.principal.
type NameNodeTokens struct {
	t tokenCalls
}

// NewNameNodeTokens connects on first use.
func NewNameNodeTokens(conf *Conf, kc *krbclient.Client, ipcOpts ipc.Options) (*NameNodeTokens, error) {
	addrs, err := conf.core.NameNodes("")
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("yarn: no NameNode: set fs.defaultFS in %s", conf.Dir)
	}
	m, err := conf.kerberosMechanism(kc, addrs[0], "dfs.namenode.kerberos.principal")
	if err != nil {
		return nil, err
	}
	ipcOpts.Addr, ipcOpts.Protocol, ipcOpts.ProtocolVersion = addrs[0], ClientNamenodeProtocol, 1
	ipcOpts.Mechanisms = []ipc.Mechanism{m}
	c, err := ipc.NewClient(ipcOpts)
	if err != nil {
		return nil, err
	}
	return &NameNodeTokens{t: tokenCalls{c, addrs[0]}}, nil
}

// Close closes the connection.
func (n *NameNodeTokens) Close() error { return n.t.c.Close() }

// Get returns an HDFS delegation token that renewer may renew.
func (n *NameNodeTokens) Get(ctx context.Context, renewer string) (*security.Token, error) {
	return n.t.get(ctx, renewer)
}

// Renew extends an HDFS delegation token; only its renewer may.
func (n *NameNodeTokens) Renew(ctx context.Context, tok *security.Token) (time.Time, error) {
	return n.t.renew(ctx, tok)
}

// Cancel revokes an HDFS delegation token.
func (n *NameNodeTokens) Cancel(ctx context.Context, tok *security.Token) error {
	return n.t.cancel(ctx, tok)
}
