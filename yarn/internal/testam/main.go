// Command testam is the ApplicationMaster and worker that package yarn's
// integration tests run inside the test Hadoop's YARN. As an AM it
// registers, asks for one container per -exits entry, starts itself as a
// worker in each through the NodeManagers, waits for them to complete,
// writes what the RM reported to -out/am.json and unregisters SUCCEEDED.
// As a worker it says where it ran and exits with -exit.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spate-io/spate/yarn"
	"github.com/spate-io/spate/yarn/ipc"
	yarnpb "github.com/spate-io/spate/yarn/proto"
	"github.com/spate-io/spate/yarn/security"
)

// Result is what the AM writes to am.json.
type Result struct {
	Registered bool
	Containers []Completed
	Error      string `json:",omitempty"`
}

// Completed is one worker container as the RM reported it done.
type Completed struct {
	Container   string
	ExitStatus  int32
	Diagnostics string
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: testam am|worker [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	out := fs.String("out", "", "directory for results")
	exits := fs.String("exits", "0,0", "AM: the exit status of each worker")
	exit := fs.Int("exit", 0, "worker: exit status")
	fs.Parse(os.Args[2:])
	switch os.Args[1] {
	case "worker":
		id := os.Getenv("CONTAINER_ID")
		self, _ := os.Executable()
		msg := fmt.Sprintf("worker %s ran on %s from %s, exiting %d\n", id, os.Getenv("NM_HOST"), self, *exit)
		fmt.Print(msg) // to <LOG_DIR>/stdout, by the launch command
		// The test finds the container's stdout through the log directory.
		os.WriteFile(filepath.Join(*out, id+".logdir"), []byte(os.Getenv("LOG_DIRS")), 0o644)
		os.WriteFile(filepath.Join(*out, id+".out"), []byte(msg), 0o644)
		os.Exit(*exit)
	case "am":
		res := runAM(*out, *exits)
		if res.Error != "" {
			writeResult(*out, res)
		}
		if res.Error != "" {
			fmt.Fprintln(os.Stderr, res.Error)
			os.Exit(1)
		}
	}
}

// writeResult publishes am.json atomically.
func writeResult(out string, res Result) {
	b, _ := json.MarshalIndent(res, "", "  ")
	tmp := filepath.Join(out, "am.json.tmp")
	os.WriteFile(tmp, b, 0o644)
	os.Rename(tmp, filepath.Join(out, "am.json"))
}

func runAM(out, exitList string) (res Result) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var am *yarn.AMRMClient
	defer func() {
		if res.Error != "" && am != nil && res.Registered {
			am.Finish(ctx, yarnpb.FinalApplicationStatusProto_APP_FAILED, res.Error, "")
		}
	}()
	fail := func(err error) Result { res.Error = err.Error(); return res }

	creds, err := security.ReadCredentialsFile(os.Getenv("HADOOP_TOKEN_FILE_LOCATION"))
	if err != nil {
		return fail(err)
	}
	am, err = yarn.NewAMRMClient(os.Getenv("SPATE_SCHEDULER_ADDRESS"), creds.TokenOfKind(yarn.AMRMTokenKind), ipc.Options{})
	if err != nil {
		return fail(err)
	}
	defer am.Close()
	if _, err := am.Register(ctx, os.Getenv("NM_HOST"), 0, ""); err != nil {
		return fail(fmt.Errorf("register: %w", err))
	}
	res.Registered = true

	var codes []int
	for _, s := range strings.Split(exitList, ",") {
		n, err := strconv.Atoi(s)
		if err != nil {
			return fail(err)
		}
		codes = append(codes, n)
	}
	self, err := os.Executable()
	if err != nil {
		return fail(err)
	}
	// The workers run the binary the AM was localized from, when the client
	// named it (SPATE_TESTAM_RESOURCE: URL size timestamp), with the AM's
	// credentials less its AMRMToken (an HDFS delegation token, secure).
	launch := yarn.ContainerLaunchContext{}
	if r := os.Getenv("SPATE_TESTAM_RESOURCE"); r != "" {
		lr, err := parseResource(r)
		if err != nil {
			return fail(err)
		}
		launch.LocalResources = map[string]yarn.LocalResource{"testam": lr}
		self = "./testam"
	}
	workerCreds := &security.Credentials{Tokens: map[string]*security.Token{}, Secrets: creds.Secrets}
	for alias, t := range creds.Tokens {
		if t.Kind != yarn.AMRMTokenKind {
			workerCreds.Tokens[alias] = t
		}
	}
	if launch.Tokens, err = workerCreds.Marshal(security.CredentialsWritable); err != nil {
		return fail(err)
	}
	ask := yarn.AllocateRequest{Asks: []yarn.ContainerRequest{{Priority: 1, Resource: yarn.Resource{MemoryMB: 64, VCores: 1}, Count: int32(len(codes))}}}
	nmTokens := map[string]*security.Token{}
	started := 0
	for len(res.Containers) < len(codes) {
		resp, err := am.Allocate(ctx, ask)
		if err != nil {
			return fail(fmt.Errorf("allocate: %w", err))
		}
		ask.Asks = nil // asks are totals: sent once, they stand
		for _, t := range resp.GetNmTokens() {
			n := t.GetNodeId()
			nmTokens[fmt.Sprintf("%s:%d", n.GetHost(), n.GetPort())] = security.TokenFromProto(t.GetToken())
		}
		for _, c := range resp.GetAllocatedContainers() {
			if started == len(codes) {
				ask.Release = append(ask.Release, yarn.ContainerIDFromProto(c.GetId()))
				continue
			}
			n := c.GetNodeId()
			addr := fmt.Sprintf("%s:%d", n.GetHost(), n.GetPort())
			nm, err := yarn.NewNMClient(addr, nmTokens[addr], ipc.Options{})
			if err != nil {
				return fail(err)
			}
			cmd := fmt.Sprintf("%s worker -out %s -exit %d 1><LOG_DIR>/stdout 2><LOG_DIR>/stderr", self, out, codes[started])
			lc := launch
			lc.Command = []string{cmd}
			err = nm.StartContainer(ctx, c, &lc)
			if err == nil {
				// The NodeManager knows the container it just started.
				var st []*yarnpb.ContainerStatusProto
				st, err = nm.ContainerStatuses(ctx, yarn.ContainerIDFromProto(c.GetId()))
				if err == nil && len(st) != 1 {
					err = fmt.Errorf("%d statuses for one container", len(st))
				}
			}
			nm.Close()
			if err != nil {
				return fail(fmt.Errorf("start container on %s: %w", addr, err))
			}
			started++
		}
		for _, s := range resp.GetCompletedContainerStatuses() {
			res.Containers = append(res.Containers, Completed{
				Container:   yarn.ContainerIDFromProto(s.GetContainerId()).String(),
				ExitStatus:  s.GetExitStatus(),
				Diagnostics: s.GetDiagnostics(),
			})
		}
		if len(res.Containers) < len(codes) {
			time.Sleep(100 * time.Millisecond)
		}
	}
	// Written before unregistering: the client sees FINISHED as soon as the
	// RM has the final status, and may look at once.
	writeResult(out, res)
	if err := am.Finish(ctx, yarnpb.FinalApplicationStatusProto_APP_SUCCEEDED, "all workers completed", ""); err != nil {
		return fail(fmt.Errorf("finish: %w", err))
	}
	return res
}

// parseResource parses "hdfs://host:port/path size timestamp".
func parseResource(s string) (yarn.LocalResource, error) {
	f := strings.Fields(s)
	if len(f) != 3 {
		return yarn.LocalResource{}, fmt.Errorf("SPATE_TESTAM_RESOURCE=%q: want URL SIZE TIMESTAMP", s)
	}
	u, err := url.Parse(f[0])
	if err != nil {
		return yarn.LocalResource{}, err
	}
	port, _ := strconv.Atoi(u.Port())
	size, err1 := strconv.ParseInt(f[1], 10, 64)
	ts, err2 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil {
		return yarn.LocalResource{}, fmt.Errorf("SPATE_TESTAM_RESOURCE=%q: bad size or timestamp", s)
	}
	return yarn.LocalResource{Scheme: u.Scheme, Host: u.Hostname(), Port: int32(port), File: u.Path, Size: size, Timestamp: ts}, nil
}
