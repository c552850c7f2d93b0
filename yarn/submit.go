package yarn

import (
	"context"
	"errors"
	"sort"
	"time"

	"google.golang.org/protobuf/proto"

	yarnpb "github.com/spate-io/spate/yarn/proto"
)

// Resource is an amount of memory and virtual cores.
type Resource struct {
	MemoryMB int64
	VCores   int32
}

// Proto returns the wire form.
func (r Resource) Proto() *yarnpb.ResourceProto {
	return &yarnpb.ResourceProto{Memory: proto.Int64(r.MemoryMB), VirtualCores: proto.Int32(r.VCores)}
}

// LocalResource is a file the NodeManager localizes into the container's
// working directory: its URL (an hdfs:// file), size and modification time
// must be the file's own, or localization fails.
type LocalResource struct {
	// Scheme, Host, Port and File make the URL (hdfs, NameNode, path).
	Scheme, Host string
	Port         int32
	File         string
	Size         int64
	// Timestamp is the file's modification time in milliseconds.
	Timestamp  int64
	Type       yarnpb.LocalResourceTypeProto       // FILE when 0
	Visibility yarnpb.LocalResourceVisibilityProto // APPLICATION when 0
}

// ContainerLaunchContext is what a NodeManager needs to start a container.
type ContainerLaunchContext struct {
	// LocalResources maps the name in the working directory to its source.
	LocalResources map[string]LocalResource
	Environment    map[string]string
	// Command is joined with spaces and run by the NodeManager's launch
	// script (bash), so redirections such as 1><LOG_DIR>/stdout work.
	Command []string
	// Tokens is a credentials file's bytes (WriteCredentials), given to the
	// container as HADOOP_TOKEN_FILE_LOCATION.
	Tokens []byte
	// ViewACL and ModifyACL are the application ACLs ("user1,user2 group").
	ViewACL, ModifyACL string
}

// Proto returns the wire form, with maps in key order.
func (c *ContainerLaunchContext) Proto() *yarnpb.ContainerLaunchContextProto {
	p := &yarnpb.ContainerLaunchContextProto{Command: c.Command, Tokens: c.Tokens}
	for _, k := range sortedKeys(c.LocalResources) {
		r := c.LocalResources[k]
		typ, vis := r.Type, r.Visibility
		if typ == 0 {
			typ = yarnpb.LocalResourceTypeProto_FILE
		}
		if vis == 0 {
			vis = yarnpb.LocalResourceVisibilityProto_APPLICATION
		}
		url := &yarnpb.URLProto{Scheme: proto.String(r.Scheme), File: proto.String(r.File)}
		if r.Host != "" {
			url.Host = proto.String(r.Host)
		}
		if r.Port != 0 {
			url.Port = proto.Int32(r.Port)
		}
		p.LocalResources = append(p.LocalResources, &yarnpb.StringLocalResourceMapProto{Key: proto.String(k), Value: &yarnpb.LocalResourceProto{
			Resource: url, Size: proto.Int64(r.Size), Timestamp: proto.Int64(r.Timestamp), Type: typ.Enum(), Visibility: vis.Enum(),
		}})
	}
	for _, k := range sortedKeys(c.Environment) {
		p.Environment = append(p.Environment, &yarnpb.StringStringMapProto{Key: proto.String(k), Value: proto.String(c.Environment[k])})
	}
	if c.ViewACL != "" {
		p.Application_ACLs = append(p.Application_ACLs, &yarnpb.ApplicationACLMapProto{AccessType: yarnpb.ApplicationAccessTypeProto_APPACCESS_VIEW_APP.Enum(), Acl: proto.String(c.ViewACL)})
	}
	if c.ModifyACL != "" {
		p.Application_ACLs = append(p.Application_ACLs, &yarnpb.ApplicationACLMapProto{AccessType: yarnpb.ApplicationAccessTypeProto_APPACCESS_MODIFY_APP.Enum(), Acl: proto.String(c.ModifyACL)})
	}
	return p
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Submission describes an application to submit.
type Submission struct {
	ID    ApplicationID
	Name  string
	Queue string // "default" when ""
	// Type is the application type; "Spate" when "".
	Type     string
	Tags     []string
	Priority int32
	// MaxAttempts is the number of AM attempts; 0 is the cluster's
	// yarn.resourcemanager.am.max-attempts.
	MaxAttempts int32
	// AttemptFailuresValidityInterval: failures older than this do not
	// count towards MaxAttempts; 0 counts all.
	AttemptFailuresValidityInterval time.Duration
	// KeepContainersAcrossAttempts keeps the workers when the AM restarts.
	KeepContainersAcrossAttempts bool
	// Unmanaged: the AM runs outside YARN (the submitting process, say); it
	// takes its AMRMToken from the application report.
	Unmanaged  bool
	AMResource Resource
	AM         ContainerLaunchContext
}

// Proto returns the wire form.
func (s *Submission) Proto() *yarnpb.ApplicationSubmissionContextProto {
	typ, queue := s.Type, s.Queue
	if typ == "" {
		typ = "Spate"
	}
	if queue == "" {
		queue = "default"
	}
	p := &yarnpb.ApplicationSubmissionContextProto{
		ApplicationId:                           s.ID.Proto(),
		ApplicationName:                         proto.String(s.Name),
		Queue:                                   proto.String(queue),
		Priority:                                &yarnpb.PriorityProto{Priority: proto.Int32(s.Priority)},
		AmContainerSpec:                         s.AM.Proto(),
		Resource:                                s.AMResource.Proto(),
		ApplicationType:                         proto.String(typ),
		ApplicationTags:                         s.Tags,
		KeepContainersAcrossApplicationAttempts: proto.Bool(s.KeepContainersAcrossAttempts),
		UnmanagedAm:                             proto.Bool(s.Unmanaged),
	}
	if s.MaxAttempts > 0 {
		p.MaxAppAttempts = proto.Int32(s.MaxAttempts)
	}
	if s.AttemptFailuresValidityInterval > 0 {
		p.AttemptFailuresValidityInterval = proto.Int64(s.AttemptFailuresValidityInterval.Milliseconds())
	}
	return p
}

// Submit submits s; s.ID must come from GetNewApplication.
func (c *Client) Submit(ctx context.Context, s *Submission) error {
	if s.ID == (ApplicationID{}) {
		return errors.New("yarn: Submission.ID is not set: take it from GetNewApplication")
	}
	if s.AMResource.MemoryMB <= 0 || s.AMResource.VCores <= 0 {
		return errors.New("yarn: Submission.AMResource needs memory and vcores")
	}
	return c.SubmitApplication(ctx, s.Proto())
}

// Kill kills an application and waits, polling every interval, until the
// RM reports the kill complete.
func (c *Client) Kill(ctx context.Context, id ApplicationID, diagnostics string, interval time.Duration) error {
	for {
		done, err := c.KillApplication(ctx, id, diagnostics)
		if err != nil || done {
			return err
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
