package yarn

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spate-io/spate/yarn/ipc"
	yarnpb "github.com/spate-io/spate/yarn/proto"
)

// clientOf returns a client of the secure or insecure cluster.
func clientOf(t *testing.T, secure bool) *Client {
	if secure {
		cl, _ := secureClient(t)
		return cl
	}
	cl, _ := insecureClient(t, ipc.Options{})
	return cl
}

func submitShell(t *testing.T, cl *Client, name, command string, tags []string) ApplicationID {
	t.Helper()
	ctx := ctxFor(t, 30*time.Second)
	id, _, err := cl.GetNewApplication(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = cl.Submit(ctx, &Submission{
		ID: id, Name: name, Tags: tags, MaxAttempts: 1,
		AMResource: Resource{MemoryMB: 64, VCores: 1},
		AM: ContainerLaunchContext{
			Command:     []string{command},
			Environment: map[string]string{"SPATE_TEST": name},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func inState(states ...yarnpb.YarnApplicationStateProto) func(*yarnpb.ApplicationReportProto) bool {
	return func(r *yarnpb.ApplicationReportProto) bool {
		return slices.Contains(states, r.GetYarnApplicationState())
	}
}

// An AM that never registers: accepted, then killed from the client.
func TestSubmitAndKill(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(fmt.Sprintf("secure=%v", secure), func(t *testing.T) {
			cl := clientOf(t, secure)
			tag := fmt.Sprintf("kill-%d", time.Now().UnixNano())
			id := submitShell(t, cl, "sleeper", "sleep 120", []string{tag})
			ctx := ctxFor(t, 60*time.Second)
			r, err := cl.WaitForApplication(ctx, id, 50*time.Millisecond, inState(yarnpb.YarnApplicationStateProto_ACCEPTED, yarnpb.YarnApplicationStateProto_RUNNING))
			if err != nil {
				t.Fatal(err)
			}
			if r.GetName() != "sleeper" || r.GetApplicationType() != "Spate" || r.GetQueue() != "root.default" || !slices.Equal(r.GetApplicationTags(), []string{tag}) {
				t.Errorf("report %v", r)
			}
			if r.GetUser() != "spate" {
				t.Errorf("user %q, want spate", r.GetUser())
			}
			// The queue is reported by its path. Listed by type and tag:
			apps, err := cl.GetApplications(ctx, &yarnpb.GetApplicationsRequestProto{ApplicationTypes: []string{"Spate"}, ApplicationTags: []string{tag},
				ApplicationStates: []yarnpb.YarnApplicationStateProto{yarnpb.YarnApplicationStateProto_ACCEPTED, yarnpb.YarnApplicationStateProto_RUNNING}})
			if err != nil {
				t.Fatal(err)
			}
			if len(apps) != 1 || ApplicationIDFromProto(apps[0].GetApplicationId()) != id {
				t.Errorf("applications tagged %s: %v, want only %s", tag, apps, id)
			}
			if err := cl.Kill(ctx, id, "killed by the test", 50*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			r, err = cl.WaitForApplication(ctx, id, 50*time.Millisecond, Final)
			if err != nil {
				t.Fatal(err)
			}
			if r.GetYarnApplicationState() != yarnpb.YarnApplicationStateProto_KILLED || r.GetFinalApplicationStatus() != yarnpb.FinalApplicationStatusProto_APP_KILLED {
				t.Errorf("after kill: %s / %s, want KILLED / APP_KILLED", r.GetYarnApplicationState(), r.GetFinalApplicationStatus())
			}
			if !strings.Contains(r.GetDiagnostics(), "killed by the test") {
				t.Errorf("diagnostics %q do not carry the kill's", r.GetDiagnostics())
			}
			// Listed by state: no longer among the live, now among the killed.
			for state, want := range map[yarnpb.YarnApplicationStateProto]int{yarnpb.YarnApplicationStateProto_RUNNING: 0, yarnpb.YarnApplicationStateProto_KILLED: 1} {
				apps, err := cl.GetApplications(ctx, &yarnpb.GetApplicationsRequestProto{ApplicationTags: []string{tag}, ApplicationStates: []yarnpb.YarnApplicationStateProto{state}})
				if err != nil || len(apps) != want {
					t.Errorf("applications tagged %s in %s: %d, %v; want %d", tag, state, len(apps), err, want)
				}
			}
		})
	}
}

// An AM that exits without registering fails its only attempt.
func TestAMThatNeverRegistersFails(t *testing.T) {
	cl := clientOf(t, false)
	id := submitShell(t, cl, "quitter", "exit 7", nil)
	r, err := cl.WaitForApplication(ctxFor(t, 60*time.Second), id, 50*time.Millisecond, Final)
	if err != nil {
		t.Fatal(err)
	}
	if r.GetYarnApplicationState() != yarnpb.YarnApplicationStateProto_FAILED || r.GetFinalApplicationStatus() != yarnpb.FinalApplicationStatusProto_APP_FAILED {
		t.Errorf("%s / %s, want FAILED / APP_FAILED", r.GetYarnApplicationState(), r.GetFinalApplicationStatus())
	}
	if !strings.Contains(r.GetDiagnostics(), "Exit code: 7") {
		t.Errorf("diagnostics %q, want the AM's exit code 7", r.GetDiagnostics())
	}
}
