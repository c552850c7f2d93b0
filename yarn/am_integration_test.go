package yarn

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/integration/hadooptest"
	"github.com/spate-io/spate/yarn/ipc"
	"github.com/spate-io/spate/yarn/security"

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
			// The AM and its workers run the binary localized from HDFS; on
			// the secure cluster the NodeManager fetches it with the HDFS
			// delegation token the client puts in the AM's credentials, and
			// the AM passes on to the workers.
			c := insecureHadoop
			if secure {
				c = secureHadoop
			}
			lr, tokens := uploadToHDFS(t, c.Get(t), conf, bin, "/user/spate/"+id.String()+"/testam")
			resource := fmt.Sprintf("%s://%s:%d%s %d %d", lr.Scheme, lr.Host, lr.Port, lr.File, lr.Size, lr.Timestamp)
			err = cl.Submit(ctx, &Submission{
				ID: id, Name: "go-am", MaxAttempts: 1,
				AMResource: Resource{MemoryMB: 64, VCores: 1},
				AM: ContainerLaunchContext{
					LocalResources: map[string]LocalResource{"testam": lr},
					Command:        []string{"./testam am -out " + out + " -exits 0,3 1><LOG_DIR>/stdout 2><LOG_DIR>/stderr"},
					Environment:    map[string]string{"SPATE_SCHEDULER_ADDRESS": sched, "SPATE_TESTAM_RESOURCE": resource},
					Tokens:         tokens,
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
				} else if want := fmt.Sprintf("worker %s ran on ", c.Container); !strings.HasPrefix(string(w), want) || !strings.Contains(string(w), "/filecache/") {
					t.Errorf("worker output %q, want %q... from a localized binary (/filecache/)", w, want)
				}
				// Its stdout, as the NodeManager kept it, says the same.
				logDirs, _ := os.ReadFile(filepath.Join(out, c.Container+".logdir"))
				first, _, _ := strings.Cut(string(logDirs), ",")
				if stdout, err := os.ReadFile(filepath.Join(first, "stdout")); err != nil || string(stdout) != string(w) {
					t.Errorf("container stdout %q, %v; want %q", stdout, err, w)
				}
			}
			slices.Sort(exits)
			if !slices.Equal(exits, []int32{0, 3}) {
				t.Errorf("worker exit statuses %v, want [0 3]", exits)
			}
		})
	}
}

// uploadToHDFS copies a local file to p on the cluster's HDFS and returns it
// as a LocalResource, with the credentials a container needs to localize it:
// on a secure cluster an HDFS delegation token that the RM may renew.
func uploadToHDFS(t *testing.T, c *hadooptest.Cluster, conf *Conf, local, p string) (LocalResource, []byte) {
	t.Helper()
	hconf, err := hdfs.LoadHadoopConf(c.ConfDir)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range c.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	var login hdfs.KerberosLogin
	if c.Secure {
		login = hdfs.KerberosLogin{Principal: c.ClientPrincipal, Keytab: c.ClientKeytab}
	}
	h := hdfs.NewHadoop(hdfs.HadoopOptions{Conf: hconf, Login: login, Getenv: func(k string) string { return env[k] }})
	defer h.Close()
	fsys, err := h.FileSystem("")
	if err != nil {
		t.Fatal(err)
	}
	if err := fsys.MkdirAll(path.Dir(p)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(local)
	if err != nil {
		t.Fatal(err)
	}
	w, err := fsys.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	// colinmarc/hdfs's Close may say "replication in progress": retry.
	for i := 0; ; i++ {
		if err = w.Close(); err == nil || i == 20 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	fi, err := fsys.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(c.DefaultFS)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	res := LocalResource{Scheme: "hdfs", Host: u.Hostname(), Port: int32(port), File: p, Size: fi.Size, Timestamp: fi.ModTime.UnixMilli()}
	if !c.Secure {
		return res, nil
	}
	nn, err := NewNameNodeTokens(conf, kerberosLogin(t, c, c.ClientPrincipal, c.ClientKeytab), ipc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer nn.Close()
	rmPrincipal := security.ReplaceHost(conf.Get("yarn.resourcemanager.principal"), "localhost")
	tok, err := nn.Get(ctxFor(t, 30*time.Second), rmPrincipal)
	if err != nil {
		t.Fatal(err)
	}
	creds := &security.Credentials{Tokens: map[string]*security.Token{tok.Service: tok}}
	tokens, err := creds.Marshal(security.CredentialsWritable)
	if err != nil {
		t.Fatal(err)
	}
	return res, tokens
}
