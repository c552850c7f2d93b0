package yarn

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/spate-io/spate/yarn/ipc"
	yarnpb "github.com/spate-io/spate/yarn/proto"
	"github.com/spate-io/spate/yarn/security"
)

// Token kinds an ApplicationMaster meets.
const (
	AMRMTokenKind = "YARN_AM_RM_TOKEN"
	NMTokenKind   = "NMToken"
)

// AMRMClient is an ApplicationMaster's client of ApplicationMasterProtocol
// on the RM's scheduler address. It authenticates with the AMRMToken from
// the AM's container_tokens (TOKEN/DIGEST-MD5, in secure and insecure
// clusters alike) and follows the RM's roll-over of that token.
type AMRMClient struct {
	rm   *ipc.Client
	mech *security.DigestMD5

	mu         sync.Mutex
	responseID int32
}

// NewAMRMClient returns a client of the scheduler at addr ("" is the
// token's service) with the AMRMToken.
func NewAMRMClient(addr string, token *security.Token, ipcOpts ipc.Options) (*AMRMClient, error) {
	if token == nil {
		return nil, fmt.Errorf("yarn: no %s: an ApplicationMaster takes it from its container_tokens (HADOOP_TOKEN_FILE_LOCATION)", AMRMTokenKind)
	}
	if addr == "" {
		addr = token.Service
	}
	mech := security.NewDigestMD5(token)
	ipcOpts.Addr, ipcOpts.Protocol, ipcOpts.ProtocolVersion = addr, ApplicationMasterProtocol, protocolVersion
	ipcOpts.Mechanisms = []ipc.Mechanism{mech}
	c, err := ipc.NewClient(ipcOpts)
	if err != nil {
		return nil, err
	}
	return &AMRMClient{rm: c, mech: mech}, nil
}

// Close closes the connection.
func (a *AMRMClient) Close() error { return a.rm.Close() }

// Register registers the AM: its host, RPC port and tracking URL.
func (a *AMRMClient) Register(ctx context.Context, host string, rpcPort int32, trackingURL string) (*yarnpb.RegisterApplicationMasterResponseProto, error) {
	resp := &yarnpb.RegisterApplicationMasterResponseProto{}
	req := &yarnpb.RegisterApplicationMasterRequestProto{Host: proto.String(host), RpcPort: proto.Int32(rpcPort), TrackingUrl: proto.String(trackingURL)}
	if err := a.rm.Call(ctx, "registerApplicationMaster", req, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// ContainerRequest asks for Count containers of Resource at Priority,
// anywhere in the cluster.
type ContainerRequest struct {
	Priority int32
	Resource Resource
	Count    int32
}

// AllocateRequest is one heartbeat's asks, releases, blacklist and progress.
// Asks replace the outstanding ask of their priority (YARN's asks are
// totals, not increments).
type AllocateRequest struct {
	Asks               []ContainerRequest
	Release            []ContainerID
	BlacklistAdditions []string
	BlacklistRemovals  []string
	Progress           float32
	// TrackingURL, when set, replaces the one given at Register (the AM's
	// web endpoint may start after it registered).
	TrackingURL string
}

// Allocate is the heartbeat: it sends r and returns the RM's answer
// (allocated and completed containers, NMTokens, pre-emption). An AMRMToken
// in the answer replaces the one used for later connections.
func (a *AMRMClient) Allocate(ctx context.Context, r AllocateRequest) (*yarnpb.AllocateResponseProto, error) {
	a.mu.Lock()
	id := a.responseID
	a.mu.Unlock()
	req := &yarnpb.AllocateRequestProto{ResponseId: proto.Int32(id), Progress: proto.Float32(r.Progress)}
	for _, ask := range r.Asks {
		req.Ask = append(req.Ask, &yarnpb.ResourceRequestProto{
			Priority:      &yarnpb.PriorityProto{Priority: proto.Int32(ask.Priority)},
			ResourceName:  proto.String("*"),
			Capability:    ask.Resource.Proto(),
			NumContainers: proto.Int32(ask.Count),
			RelaxLocality: proto.Bool(true),
		})
	}
	if r.TrackingURL != "" {
		req.TrackingUrl = proto.String(r.TrackingURL)
	}
	for _, c := range r.Release {
		req.Release = append(req.Release, c.Proto())
	}
	if len(r.BlacklistAdditions)+len(r.BlacklistRemovals) > 0 {
		req.BlacklistRequest = &yarnpb.ResourceBlacklistRequestProto{BlacklistAdditions: r.BlacklistAdditions, BlacklistRemovals: r.BlacklistRemovals}
	}
	resp := &yarnpb.AllocateResponseProto{}
	if err := a.rm.Call(ctx, "allocate", req, resp); err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.responseID = resp.GetResponseId()
	a.mu.Unlock()
	if t := resp.GetAmRmToken(); t != nil {
		// The roll-over token's service is empty: keep the address.
		nt := security.TokenFromProto(t)
		nt.Service = a.mech.Token().Service
		a.mech.SetToken(nt)
	}
	return resp, nil
}

// Finish unregisters the AM with its final status; the RM may need the
// call repeated until it answers unregistered, which Finish does.
func (a *AMRMClient) Finish(ctx context.Context, status yarnpb.FinalApplicationStatusProto, diagnostics, trackingURL string) error {
	req := &yarnpb.FinishApplicationMasterRequestProto{FinalApplicationStatus: status.Enum(), Diagnostics: proto.String(diagnostics), TrackingUrl: proto.String(trackingURL)}
	for {
		resp := &yarnpb.FinishApplicationMasterResponseProto{}
		if err := a.rm.Call(ctx, "finishApplicationMaster", req, resp); err != nil {
			return err
		}
		if resp.GetIsUnregistered() {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := sleepCtx(ctx, 100e6); err != nil {
			return err
		}
	}
}

// NMClient is an AM's client of ContainerManagementProtocol on one
// NodeManager, authenticated with the NMToken the RM gave for that node.
type NMClient struct {
	nm *ipc.Client
}

// NewNMClient returns a client of the NodeManager at addr (host:port of the
// container's NodeId) with its NMToken.
func NewNMClient(addr string, nmToken *security.Token, ipcOpts ipc.Options) (*NMClient, error) {
	if nmToken == nil {
		return nil, fmt.Errorf("yarn: no NMToken for the NodeManager %s: the RM sends one with the first container on each node", addr)
	}
	ipcOpts.Addr, ipcOpts.Protocol, ipcOpts.ProtocolVersion = addr, ContainerManagementProtocol, protocolVersion
	ipcOpts.Mechanisms = []ipc.Mechanism{security.NewDigestMD5(nmToken)}
	c, err := ipc.NewClient(ipcOpts)
	if err != nil {
		return nil, err
	}
	return &NMClient{nm: c}, nil
}

// Close closes the connection.
func (n *NMClient) Close() error { return n.nm.Close() }

// ContainerError is a NodeManager's refusal of one container.
type ContainerError struct {
	Container      ContainerID
	Class, Message string
}

func (e *ContainerError) Error() string {
	return fmt.Sprintf("yarn: container %s: %s: %s", e.Container, e.Class, e.Message)
}

func containerErrors(failed []*yarnpb.ContainerExceptionMapProto) error {
	var errs []error
	for _, f := range failed {
		errs = append(errs, &ContainerError{Container: ContainerIDFromProto(f.GetContainerId()), Class: f.GetException().GetClassName(), Message: f.GetException().GetMessage()})
	}
	return errors.Join(errs...)
}

// StartContainer starts an allocated container with its launch context.
func (n *NMClient) StartContainer(ctx context.Context, c *yarnpb.ContainerProto, launch *ContainerLaunchContext) error {
	req := &yarnpb.StartContainersRequestProto{StartContainerRequest: []*yarnpb.StartContainerRequestProto{{
		ContainerLaunchContext: launch.Proto(), ContainerToken: c.GetContainerToken(),
	}}}
	resp := &yarnpb.StartContainersResponseProto{}
	if err := n.nm.Call(ctx, "startContainers", req, resp); err != nil {
		return err
	}
	return containerErrors(resp.GetFailedRequests())
}

// StopContainers stops containers.
func (n *NMClient) StopContainers(ctx context.Context, ids ...ContainerID) error {
	req := &yarnpb.StopContainersRequestProto{}
	for _, id := range ids {
		req.ContainerId = append(req.ContainerId, id.Proto())
	}
	resp := &yarnpb.StopContainersResponseProto{}
	if err := n.nm.Call(ctx, "stopContainers", req, resp); err != nil {
		return err
	}
	return containerErrors(resp.GetFailedRequests())
}

// ContainerStatuses returns the NodeManager's view of containers.
func (n *NMClient) ContainerStatuses(ctx context.Context, ids ...ContainerID) ([]*yarnpb.ContainerStatusProto, error) {
	req := &yarnpb.GetContainerStatusesRequestProto{}
	for _, id := range ids {
		req.ContainerId = append(req.ContainerId, id.Proto())
	}
	resp := &yarnpb.GetContainerStatusesResponseProto{}
	if err := n.nm.Call(ctx, "getContainerStatuses", req, resp); err != nil {
		return nil, err
	}
	return resp.GetStatus(), containerErrors(resp.GetFailedRequests())
}

// NMTokenFor returns the NMToken for a node from an allocate response.
func NMTokenFor(tokens []*yarnpb.NMTokenProto, node *yarnpb.NodeIdProto) *security.Token {
	for _, t := range tokens {
		if t.GetNodeId().GetHost() == node.GetHost() && t.GetNodeId().GetPort() == node.GetPort() {
			return security.TokenFromProto(t.GetToken())
		}
	}
	return nil
}
