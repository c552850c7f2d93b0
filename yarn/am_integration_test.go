package yarn

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	yarnpb "github.com/spate-io/spate/yarn/proto"
)

var (
	testAMOnce sync.Once
	testAMPath string
	testAMErr  error
)

// testAM builds yarn/internal/testam once per test binary, static, so any
// container can run it.
func testAM(t *testing.T) string {
	t.Helper()
	testAMOnce.Do(func() {
		dir, err := os.MkdirTemp("", "spate-testam-")
		if err != nil {
			testAMErr = err
			return
		}
		testAMPath = filepath.Join(dir, "testam")
		cmd := exec.Command("go", "build", "-o", testAMPath, "./internal/testam")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			testAMErr = fmt.Errorf("build testam: %v\n%s", err, out)
		}
	})
	if testAMErr != nil {
		t.Fatal(testAMErr)
	}
	return testAMPath
}

type amResult struct {
	Registered bool
	Containers []struct {
		Container   string
		ExitStatus  int32
		Diagnostics string
	}
	Error string
}

// The whole life of an application whose AM is a Go program: RUNNING once
// it registered, two workers started through the NodeManager, their exit
// statuses as the RM reports them, FINISHED/SUCCEEDED after it unregistered.
func TestGoApplicationMaster(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(fmt.Sprintf("secure=%v", secure), func(t *testing.T) {
			bin := testAM(t)
			cl := clientOf(t, secure)
			var conf *Conf
			if secure {
				conf = confOf(t, secureHadoop.Get(t))
			} else {
				conf = confOf(t, insecureHadoop.Get(t))
			}
			sched, err := conf.SchedulerAddress()
			if err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			os.Chmod(out, 0o777)
			ctx := ctxFor(t, 120*time.Second)
			id, _, err := cl.GetNewApplication(ctx)
			if err != nil {
				t.Fatal(err)
			}
			err = cl.Submit(ctx, &Submission{
				ID: id, Name: "go-am", MaxAttempts: 1,
				AMResource: Resource{MemoryMB: 64, VCores: 1},
				AM: ContainerLaunchContext{
					Command:     []string{bin + " am -out " + out + " -exits 0,3 1><LOG_DIR>/stdout 2><LOG_DIR>/stderr"},
					Environment: map[string]string{"SPATE_SCHEDULER_ADDRESS": sched},
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[yarnpb.YarnApplicationStateProto]bool{}
			r, err := cl.WaitForApplication(ctx, id, 20*time.Millisecond, func(r *yarnpb.ApplicationReportProto) bool {
				seen[r.GetYarnApplicationState()] = true
				return Final(r)
			})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(filepath.Join(out, "am.json"))
			var res amResult
			json.Unmarshal(b, &res)
			if r.GetYarnApplicationState() != yarnpb.YarnApplicationStateProto_FINISHED || r.GetFinalApplicationStatus() != yarnpb.FinalApplicationStatusProto_APP_SUCCEEDED {
				t.Fatalf("final %s / %s (%s), want FINISHED / APP_SUCCEEDED; am.json: %s", r.GetYarnApplicationState(), r.GetFinalApplicationStatus(), r.GetDiagnostics(), b)
			}
			if !seen[yarnpb.YarnApplicationStateProto_RUNNING] {
				t.Errorf("states seen %v, want RUNNING before FINISHED", seen)
			}
			if r.GetDiagnostics() != "all workers completed" {
				t.Errorf("diagnostics %q, want the AM's", r.GetDiagnostics())
			}
			if !res.Registered || res.Error != "" || len(res.Containers) != 2 {
				t.Fatalf("am.json: %s", b)
			}
			var exits []int32
			for _, c := range res.Containers {
				exits = append(exits, c.ExitStatus)
				cid, err := ParseContainerID(c.Container)
				if err != nil || cid.App != id {
					t.Errorf("container %s: %v, not of %s", c.Container, err, id)
				}
				// What the worker wrote proves it ran, with its CONTAINER_ID.
				w, err := os.ReadFile(filepath.Join(out, c.Container+".out"))
				if err != nil {
					t.Errorf("worker output: %v", err)
				} else if want := fmt.Sprintf("worker %s ran on ", c.Container); !strings.HasPrefix(string(w), want) {
					t.Errorf("worker output %q, want %q...", w, want)
				}
			}
			slices.Sort(exits)
			if !slices.Equal(exits, []int32{0, 3}) {
				t.Errorf("worker exit statuses %v, want [0 3]", exits)
			}
		})
	}
}
