package yarn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/user"
	"time"

	krbclient "github.com/jcmturner/gokrb5/v8/client"
	"google.golang.org/protobuf/proto"

	"github.com/spate-io/spate/yarn/ipc"
	yarnpb "github.com/spate-io/spate/yarn/proto"
	"github.com/spate-io/spate/yarn/security"
)

// Protocol names and versions as the ResourceManager and NodeManagers
// register them (the *PB interfaces of hadoop-yarn-common).
const (
	ApplicationClientProtocol   = "org.apache.hadoop.yarn.api.ApplicationClientProtocolPB"
	ApplicationMasterProtocol   = "org.apache.hadoop.yarn.api.ApplicationMasterProtocolPB"
	ContainerManagementProtocol = "org.apache.hadoop.yarn.api.ContainerManagementProtocolPB"
	protocolVersion             = 1
)

// ClientOptions say how a Client reaches the ResourceManager.
type ClientOptions struct {
	// Conf is the cluster's configuration; the RM address, whether it is
	// secure and its principal come from it.
	Conf *Conf
	// Addr overrides yarn.resourcemanager.address.
	Addr string
	// User is the user under simple authentication; "" is
	// $HADOOP_USER_NAME, else the OS user.
	User string
	// Kerberos is a logged-in gokrb5 client: on a secure cluster the client
	// authenticates with SASL GSSAPI as its principal, to the RM principal
	// of yarn.resourcemanager.principal.
	Kerberos *krbclient.Client
	// Mechanisms are further SASL mechanisms (e.g. a token's DIGEST-MD5,
	// package yarn/security), tried after Kerberos in the server's order.
	Mechanisms []ipc.Mechanism
	// Getenv reads HADOOP_USER_NAME; nil is os.Getenv.
	Getenv func(string) string
	// IPC tunes the connection (timeouts, retries); its Addr, Protocol,
	// User and Mechanisms are set by NewClient.
	IPC ipc.Options
}

// Client is a YARN client: ApplicationClientProtocol on the ResourceManager.
// It is safe for concurrent use.
type Client struct {
	rm   *ipc.Client
	User string
}

// NewClient returns a client for the ResourceManager; it connects on the
// first call.
func NewClient(opts ClientOptions) (*Client, error) {
	if opts.Conf == nil {
		return nil, errors.New("yarn: ClientOptions.Conf is nil")
	}
	addr := opts.Addr
	if addr == "" {
		var err error
		if addr, err = opts.Conf.ResourceManagerAddress(); err != nil {
			return nil, err
		}
	}
	io := opts.IPC
	io.Addr, io.Protocol, io.ProtocolVersion = addr, ApplicationClientProtocol, protocolVersion
	secure, err := opts.Conf.Secure()
	if err != nil {
		return nil, err
	}
	if secure {
		if opts.Kerberos != nil {
			m, err := opts.Conf.kerberosMechanism(opts.Kerberos, addr, "yarn.resourcemanager.principal")
			if err != nil {
				return nil, err
			}
			io.Mechanisms = append(io.Mechanisms, m)
		}
		io.Mechanisms = append(io.Mechanisms, opts.Mechanisms...)
		if len(io.Mechanisms) == 0 {
			return nil, fmt.Errorf("yarn: the cluster is secure (hadoop.security.authentication=kerberos in %s) but the client has no Kerberos login or token", opts.Conf.Dir)
		}
	} else {
		if io.User, err = simpleUser(opts.User, opts.Getenv); err != nil {
			return nil, err
		}
	}
	c, err := ipc.NewClient(io)
	if err != nil {
		return nil, err
	}
	return &Client{rm: c, User: io.User}, nil
}

// simpleUser is the user of simple authentication, as Hadoop's
// UserGroupInformation picks it.
func simpleUser(u string, getenv func(string) string) (string, error) {
	if u != "" {
		return u, nil
	}
	if getenv != nil {
		if u = getenv("HADOOP_USER_NAME"); u != "" {
			return u, nil
		}
	}
	cur, err := user.Current()
	if err != nil {
		return "", fmt.Errorf("yarn: find the user for simple authentication: %w; set HADOOP_USER_NAME", err)
	}
	return cur.Username, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.rm.Close() }

// GetNewApplication asks the RM for a new application id and the largest
// container it can grant.
func (c *Client) GetNewApplication(ctx context.Context) (ApplicationID, *yarnpb.ResourceProto, error) {
	resp := &yarnpb.GetNewApplicationResponseProto{}
	if err := c.rm.Call(ctx, "getNewApplication", &yarnpb.GetNewApplicationRequestProto{}, resp); err != nil {
		return ApplicationID{}, nil, err
	}
	return ApplicationIDFromProto(resp.GetApplicationId()), resp.GetMaximumCapability(), nil
}

// SubmitApplication submits an application under an id from
// GetNewApplication.
func (c *Client) SubmitApplication(ctx context.Context, sub *yarnpb.ApplicationSubmissionContextProto) error {
	return c.rm.Call(ctx, "submitApplication",
		&yarnpb.SubmitApplicationRequestProto{ApplicationSubmissionContext: sub}, &yarnpb.SubmitApplicationResponseProto{})
}

// ApplicationNotFoundException is the class of the RemoteError for an
// application the RM does not know.
const ApplicationNotFoundException = "org.apache.hadoop.yarn.exceptions.ApplicationNotFoundException"

// GetApplicationReport returns an application's report.
func (c *Client) GetApplicationReport(ctx context.Context, id ApplicationID) (*yarnpb.ApplicationReportProto, error) {
	resp := &yarnpb.GetApplicationReportResponseProto{}
	if err := c.rm.Call(ctx, "getApplicationReport", &yarnpb.GetApplicationReportRequestProto{ApplicationId: id.Proto()}, resp); err != nil {
		return nil, err
	}
	return resp.GetApplicationReport(), nil
}

// KillApplication asks the RM to kill an application; it reports whether
// the kill has completed (the RM answers false until the application's
// state is final, and the call may be repeated).
func (c *Client) KillApplication(ctx context.Context, id ApplicationID, diagnostics string) (bool, error) {
	req := &yarnpb.KillApplicationRequestProto{ApplicationId: id.Proto()}
	if diagnostics != "" {
		req.Diagnostics = proto.String(diagnostics)
	}
	resp := &yarnpb.KillApplicationResponseProto{}
	if err := c.rm.Call(ctx, "forceKillApplication", req, resp); err != nil {
		return false, err
	}
	return resp.GetIsKillCompleted(), nil
}

// GetClusterMetrics returns the counts of NodeManagers by state.
func (c *Client) GetClusterMetrics(ctx context.Context) (*yarnpb.YarnClusterMetricsProto, error) {
	resp := &yarnpb.GetClusterMetricsResponseProto{}
	if err := c.rm.Call(ctx, "getClusterMetrics", &yarnpb.GetClusterMetricsRequestProto{}, resp); err != nil {
		return nil, err
	}
	return resp.GetClusterMetrics(), nil
}

// GetApplications lists applications matching req (types, tags, states...).
func (c *Client) GetApplications(ctx context.Context, req *yarnpb.GetApplicationsRequestProto) ([]*yarnpb.ApplicationReportProto, error) {
	resp := &yarnpb.GetApplicationsResponseProto{}
	if err := c.rm.Call(ctx, "getApplications", req, resp); err != nil {
		return nil, err
	}
	return resp.GetApplications(), nil
}

// GetClusterNodes lists the NodeManagers in the given states (all when none).
func (c *Client) GetClusterNodes(ctx context.Context, states ...yarnpb.NodeStateProto) ([]*yarnpb.NodeReportProto, error) {
	resp := &yarnpb.GetClusterNodesResponseProto{}
	if err := c.rm.Call(ctx, "getClusterNodes", &yarnpb.GetClusterNodesRequestProto{NodeStates: states}, resp); err != nil {
		return nil, err
	}
	return resp.GetNodeReports(), nil
}

// GetQueueInfo describes a queue.
func (c *Client) GetQueueInfo(ctx context.Context, queue string) (*yarnpb.QueueInfoProto, error) {
	resp := &yarnpb.GetQueueInfoResponseProto{}
	req := &yarnpb.GetQueueInfoRequestProto{QueueName: proto.String(queue), IncludeApplications: proto.Bool(false), IncludeChildQueues: proto.Bool(false), Recursive: proto.Bool(false)}
	if err := c.rm.Call(ctx, "getQueueInfo", req, resp); err != nil {
		return nil, err
	}
	return resp.GetQueueInfo(), nil
}

// WaitForApplication polls the application's report every interval until
// done returns true for it (returning that report) or ctx ends.
func (c *Client) WaitForApplication(ctx context.Context, id ApplicationID, interval time.Duration, done func(*yarnpb.ApplicationReportProto) bool) (*yarnpb.ApplicationReportProto, error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var last *yarnpb.ApplicationReportProto
	for {
		r, err := c.GetApplicationReport(ctx, id)
		if err != nil {
			if ctx.Err() != nil && last != nil {
				return last, fmt.Errorf("yarn: %s still %s: %w", id, last.GetYarnApplicationState(), ctx.Err())
			}
			return nil, err
		}
		if done(r) {
			return r, nil
		}
		last = r
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("yarn: %s still %s: %w", id, last.GetYarnApplicationState(), ctx.Err())
		case <-t.C:
		}
	}
}

// Final reports whether an application's state is final: FINISHED, FAILED
// or KILLED.
func Final(r *yarnpb.ApplicationReportProto) bool {
	switch r.GetYarnApplicationState() {
	case yarnpb.YarnApplicationStateProto_FINISHED, yarnpb.YarnApplicationStateProto_FAILED, yarnpb.YarnApplicationStateProto_KILLED:
		return true
	}
	return false
}

// kerberosMechanism is GSSAPI to the principal of key (with _HOST the host
// of addr), at the protection of hadoop.rpc.protection.
func (c *Conf) kerberosMechanism(cl *krbclient.Client, addr, key string) (*security.GSSAPI, error) {
	spn := c.Get(key)
	if spn == "" {
		return nil, fmt.Errorf("yarn: the cluster is secure but %s is not set in %s: set it to the server's principal (e.g. rm/_HOST@REALM)", key, c.Dir)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("yarn: server address %q: %w", addr, err)
	}
	prot, err := security.ParseProtection(c.RPCProtection())
	if err != nil {
		return nil, fmt.Errorf("yarn: %w in %s", err, c.Dir)
	}
	return &security.GSSAPI{Client: cl, ServicePrincipal: spn, Host: host, ConfKey: key + " in " + c.Dir, Protection: prot}, nil
}
