package integration

// yarn-submit's contract with schedulers (cron, Airflow, Oozie) beyond the
// exit codes of yarn_test.go: --unique-tag, --output json and
// --stop-on-signal savepoint, on the secure YARN.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/yarn"
	"github.com/spate-io/spate/yarn/ipc"
	yarnpb "github.com/spate-io/spate/yarn/proto"
	"github.com/spate-io/spate/yarn/security"
)

// yarnSubmitArgs is yarn-submit with the test cluster's keytab and small
// containers, then flags, then the job and its arguments.
func yarnSubmitArgs(o *onHDFS, flags []string, job string, args ...string) []string {
	c := o.c
	out := append([]string{"yarn-submit",
		"-D", "security.kerberos.login.keytab=" + c.ClientKeytab,
		"-D", "security.kerberos.login.principal=" + c.ClientPrincipal,
		"-D", "security.kerberos.krb5-conf.path=" + c.Krb5Conf,
		"-D", "jobmanager.memory.process.size=256m", "-D", "taskmanager.memory.process.size=256m",
	}, flags...)
	return append(append(out, filepath.Join(binDir, job), "--"), args...)
}

// waitRunning waits for the application whose id the client printed first
// until its JobManager serves, and returns the id and the REST address.
func waitRunning(t *testing.T, o *onHDFS, client *running) (yarn.ApplicationID, *sessionCluster) {
	t.Helper()
	cl := yarnClientOf(t, o.c)
	var app yarn.ApplicationID
	var rest *sessionCluster
	poll(t, "the application RUNNING", func() bool {
		first, _, ok := strings.Cut(client.stderr.String(), "\n")
		if !ok || !appIDLine.MatchString(first) {
			return false
		}
		app, _ = yarn.ParseApplicationID(first)
		r, err := cl.GetApplicationReport(context.Background(), app)
		if u, ok := strings.CutPrefix(r.GetOriginalTrackingUrl(), "http://"); err == nil && ok {
			rest = &sessionCluster{rest: strings.TrimSuffix(u, "/")}
		}
		return rest != nil
	})
	return app, rest
}

// TestYARNSubmitUniqueTag: while an application tagged T runs, a second
// yarn-submit --tag T --unique-tag is refused with exit 3 naming it, and
// never reaches YARN; the tag is on the first application, lowercased.
func TestYARNSubmitUniqueTag(t *testing.T) {
	o := newOnHDFS(t)
	tag := fmt.Sprintf("Nightly-%d", time.Now().UnixNano())
	flags := []string{"--tag", tag, "--unique-tag", "-D", "state.checkpoints.dir=" + o.uri("ckpt")}
	first := start(t, o.env, "spate", yarnSubmitArgs(o, flags, "exactlyonce", eoArgs(o.uri("out"))...)...)
	app, _ := waitRunning(t, o, first)
	cl := yarnClientOf(t, o.c)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = cl.Kill(ctx, app, "end of TestYARNSubmitUniqueTag", 100*time.Millisecond)
	})
	rep, err := cl.GetApplicationReport(context.Background(), app)
	if err != nil {
		t.Fatal(err)
	}
	if tags := rep.GetApplicationTags(); !reflect.DeepEqual(tags, []string{strings.ToLower(tag)}) {
		t.Errorf("tags of %s: %q, want [%q]", app, tags, strings.ToLower(tag))
	}
	second := runBin(t, o.env, "spate", yarnSubmitArgs(o, flags, "exactlyonce", eoArgs(o.uri("out2"))...)...)
	want := fmt.Sprintf("spate yarn-submit: %s (exactlyonce, RUNNING) has the tag %s and is not finished (--unique-tag): wait for it, or kill it\n", app, strings.ToLower(tag))
	if second.code != 3 || second.stderr != want {
		t.Errorf("second submission: exit %d, stderr %q; want exit 3, stderr %q", second.code, second.stderr, want)
	}
}

// TestYARNSubmitOutputJSON: --output json prints exactly one JSON object on
// stdout, with YARN's final state, status and times, the job's id and name,
// and the diagnostics; exit 0.
func TestYARNSubmitOutputJSON(t *testing.T) {
	o := newOnHDFS(t)
	const keys, perKey = 3, 3000
	r := runBin(t, o.env, "spate", yarnSubmitArgs(o, []string{"--output", "json", "-D", "state.checkpoints.dir=" + o.uri("ckpt")}, "exactlyonce",
		"--keys", fmt.Sprint(keys), "--per-key", fmt.Sprint(perKey), "--failures", "0", "--checkpoint-interval", "200",
		"--output", o.uri("out"), "--parallelism", "2")...)
	first, _, _ := strings.Cut(r.stderr, "\n")
	if r.code != 0 || !appIDLine.MatchString(first) {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	app, _ := yarn.ParseApplicationID(first)
	rep, err := yarnClientOf(t, o.c).GetApplicationReport(context.Background(), app)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("stdout %q, want one line", r.stdout)
	}
	var keysSeen map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &keysSeen); err != nil {
		t.Fatal(err)
	}
	var names []string
	for k := range keysSeen {
		names = append(names, k)
	}
	sort.Strings(names)
	if want := []string{"applicationId", "diagnostics", "endTime", "exitCode", "finalStatus", "jobId", "jobName", "recordsIn", "recordsOut", "startTime", "state"}; !reflect.DeepEqual(names, want) {
		t.Errorf("fields %v, want %v", names, want)
	}
	var got struct {
		ApplicationID, JobID, JobName, State, FinalStatus, Diagnostics string
		ExitCode                                                       int
		StartTime, EndTime, RecordsIn, RecordsOut                      int64
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(got.JobID) {
		t.Errorf("jobId %q, want the job's id", got.JobID)
	}
	// The records are those the JobManager last reported while it served.
	if got.RecordsIn < 0 || got.RecordsIn > keys*perKey || got.RecordsOut < 0 || got.RecordsOut > keys*perKey {
		t.Errorf("records in %d, out %d: want each within 0..%d", got.RecordsIn, got.RecordsOut, keys*perKey)
	}
	got.JobID, got.RecordsIn, got.RecordsOut = "", 0, 0
	want := got
	want.ApplicationID, want.JobName, want.State, want.FinalStatus, want.Diagnostics = app.String(), "exactlyonce", "FINISHED", "APP_SUCCEEDED", "the job finished"
	want.ExitCode, want.StartTime, want.EndTime = 0, int64(rep.GetStartTime()), int64(rep.GetFinishTime())
	if got != want {
		t.Errorf("summary %+v,\nwant %+v", got, want)
	}
	o.checkExactOnHDFS(t, path.Join(o.dir, "out"), keys, perKey)
}

// TestYARNSubmitStopOnSignal: with --stop-on-signal savepoint, SIGTERM to
// the attached client stops the job with a savepoint: the client prints
// the savepoint's path on stdout, the application ends FINISHED/SUCCEEDED,
// exit 0, and the savepoint is complete on HDFS.
func TestYARNSubmitStopOnSignal(t *testing.T) {
	o := newOnHDFS(t)
	flags := []string{"--stop-on-signal", "savepoint", "-D", "state.checkpoints.dir=" + o.uri("ckpt"), "-D", "state.savepoints.dir=" + o.uri("savepoints")}
	client := start(t, o.env, "spate", yarnSubmitArgs(o, flags, "exactlyonce",
		"--keys", "5", "--per-key", "1000000", "--failures", "0", "--checkpoint-interval", "200", "--output", o.uri("out"), "--parallelism", "2")...)
	app, rest := waitRunning(t, o, client)
	poll(t, "a completed checkpoint", func() bool {
		var jobs struct {
			Jobs []struct {
				ID string `json:"jid"`
			} `json:"jobs"`
		}
		if rest.get("/jobs/overview", &jobs) != nil || len(jobs.Jobs) != 1 {
			return false
		}
		var cps struct {
			Counts struct {
				Completed int `json:"completed"`
			} `json:"counts"`
		}
		return rest.get("/jobs/"+jobs.Jobs[0].ID+"/checkpoints", &cps) == nil && cps.Counts.Completed >= 1
	})
	if err := client.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := waitLong(t, client, 2*time.Minute); code != 0 {
		t.Fatalf("yarn-submit: exit %d\n%s", code, client.stderr.String())
	}
	sp := strings.TrimSpace(client.stdout.String())
	prefix := o.uri("savepoints") + "/savepoint-"
	if !strings.HasPrefix(sp, prefix) || strings.Contains(sp, "\n") {
		t.Fatalf("stdout %q, want the one savepoint path under %s\nstderr: %s", client.stdout.String(), prefix, client.stderr.String())
	}
	if _, err := o.fs.Stat(path.Join(strings.TrimPrefix(sp, o.c.DefaultFS), "_metadata")); err != nil {
		t.Errorf("the savepoint %s: %v", sp, err)
	}
	rep, err := yarnClientOf(t, o.c).GetApplicationReport(context.Background(), app)
	if err != nil {
		t.Fatal(err)
	}
	if st, fs := rep.GetYarnApplicationState(), rep.GetFinalApplicationStatus(); st != yarnpb.YarnApplicationStateProto_FINISHED || fs != yarnpb.FinalApplicationStatusProto_APP_SUCCEEDED {
		t.Errorf("%s ended %s / %s (%s), want FINISHED / APP_SUCCEEDED", app, st, fs, rep.GetDiagnostics())
	}
}

// TestYARNSubmitTokenFile: the tokens of HADOOP_TOKEN_FILE_LOCATION
// (delegated submission, as from Oozie) go to the application, and its HDFS
// delegation token replaces the one the client would get: one cancelled
// before the submission makes YARN refuse the application (exit 3), as it
// cannot renew it.
func TestYARNSubmitTokenFile(t *testing.T) {
	o := newOnHDFS(t)
	c := o.c
	yc, err := yarn.LoadConf(c.ConfDir)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range c.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	kc, err := hdfs.KerberosClient(hdfs.KerberosLogin{Principal: c.ClientPrincipal, Keytab: c.ClientKeytab}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Destroy()
	nn, err := yarn.NewNameNodeTokens(yc, kc, ipc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer nn.Close()
	rm, err := yc.ResourceManagerAddress()
	if err != nil {
		t.Fatal(err)
	}
	host, _, _ := net.SplitHostPort(rm)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := nn.Get(ctx, security.ReplaceHost(yc.Get("yarn.resourcemanager.principal"), host))
	if err != nil {
		t.Fatal(err)
	}
	if err := nn.Cancel(ctx, tok); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "tokens")
	creds := &security.Credentials{Tokens: map[string]*security.Token{tok.Service: tok}, Secrets: map[string][]byte{}}
	if err := creds.WriteCredentialsFile(file, security.CredentialsWritable); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, append(o.env, "HADOOP_TOKEN_FILE_LOCATION="+file), "spate", yarnSubmitArgs(o, nil, "wordcount", "--input", o.uri("in"), "--output", o.uri("out"))...)
	first, _, _ := strings.Cut(r.stderr, "\n")
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	last := lines[len(lines)-1]
	if r.code != 3 || !appIDLine.MatchString(first) || !strings.HasPrefix(last, "spate yarn-submit: YARN refused "+first+": ") || !strings.Contains(last, "HDFS_DELEGATION_TOKEN") {
		t.Fatalf("exit %d, want 3 with YARN's refusal of the cancelled token\nstderr: %s", r.code, r.stderr)
	}
	t.Log(last)
}
