package yarn

import (
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	yarnpb "github.com/spate-io/spate/yarn/proto"
)

// ApplicationID is the ResourceManager's name for an application: its start
// time and a sequence number.
type ApplicationID struct {
	ClusterTimestamp int64
	ID               int32
}

// String is Hadoop's form, application_1700000000000_0001.
func (a ApplicationID) String() string {
	return fmt.Sprintf("application_%d_%04d", a.ClusterTimestamp, a.ID)
}

// Proto returns the wire form.
func (a ApplicationID) Proto() *yarnpb.ApplicationIdProto {
	return &yarnpb.ApplicationIdProto{Id: proto.Int32(a.ID), ClusterTimestamp: proto.Int64(a.ClusterTimestamp)}
}

// ApplicationIDFromProto is the inverse of Proto.
func ApplicationIDFromProto(p *yarnpb.ApplicationIdProto) ApplicationID {
	return ApplicationID{ClusterTimestamp: p.GetClusterTimestamp(), ID: p.GetId()}
}

// ParseApplicationID parses application_TS_N.
func ParseApplicationID(s string) (ApplicationID, error) {
	parts := strings.Split(s, "_")
	if len(parts) != 3 || parts[0] != "application" {
		return ApplicationID{}, fmt.Errorf("yarn: %q is not an application id (application_CLUSTERTS_N)", s)
	}
	ts, err1 := strconv.ParseInt(parts[1], 10, 64)
	n, err2 := strconv.ParseInt(parts[2], 10, 32)
	if err1 != nil || err2 != nil {
		return ApplicationID{}, fmt.Errorf("yarn: %q is not an application id (application_CLUSTERTS_N)", s)
	}
	return ApplicationID{ClusterTimestamp: ts, ID: int32(n)}, nil
}

// ContainerID names a container: its application attempt and a number whose
// high bits carry the RM's epoch.
type ContainerID struct {
	App     ApplicationID
	Attempt int32
	ID      int64
}

// String is Hadoop's form, container_TS_APP_ATTEMPT_N, or with an epoch
// container_eEPOCH_TS_APP_ATTEMPT_N.
func (c ContainerID) String() string {
	epoch := c.ID >> 40
	n := c.ID & (1<<40 - 1)
	prefix := "container_"
	if epoch > 0 {
		prefix = fmt.Sprintf("container_e%02d_", epoch)
	}
	return fmt.Sprintf("%s%d_%04d_%02d_%06d", prefix, c.App.ClusterTimestamp, c.App.ID, c.Attempt, n)
}

// Proto returns the wire form.
func (c ContainerID) Proto() *yarnpb.ContainerIdProto {
	app := c.App.Proto()
	return &yarnpb.ContainerIdProto{
		AppId:        app,
		AppAttemptId: &yarnpb.ApplicationAttemptIdProto{ApplicationId: app, AttemptId: proto.Int32(c.Attempt)},
		Id:           proto.Int64(c.ID),
	}
}

// ContainerIDFromProto is the inverse of Proto.
func ContainerIDFromProto(p *yarnpb.ContainerIdProto) ContainerID {
	app := p.GetAppAttemptId().GetApplicationId()
	if app == nil {
		app = p.GetAppId()
	}
	return ContainerID{App: ApplicationIDFromProto(app), Attempt: p.GetAppAttemptId().GetAttemptId(), ID: p.GetId()}
}

// ParseContainerID parses Hadoop's container id form (the CONTAINER_ID a
// NodeManager gives each container).
func ParseContainerID(s string) (ContainerID, error) {
	bad := fmt.Errorf("yarn: %q is not a container id (container_[eEPOCH_]CLUSTERTS_APP_ATTEMPT_N)", s)
	parts := strings.Split(s, "_")
	if len(parts) < 5 || parts[0] != "container" {
		return ContainerID{}, bad
	}
	parts = parts[1:]
	var epoch int64
	if strings.HasPrefix(parts[0], "e") {
		e, err := strconv.ParseInt(parts[0][1:], 10, 64)
		if err != nil {
			return ContainerID{}, bad
		}
		epoch, parts = e, parts[1:]
	}
	if len(parts) != 4 {
		return ContainerID{}, bad
	}
	var v [4]int64
	for i, p := range parts {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n < 0 {
			return ContainerID{}, bad
		}
		v[i] = n
	}
	return ContainerID{App: ApplicationID{ClusterTimestamp: v[0], ID: int32(v[1])}, Attempt: int32(v[2]), ID: epoch<<40 | v[3]}, nil
}
