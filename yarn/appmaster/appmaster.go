package appmaster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/yarn"
	"github.com/spate-io/spate/yarn/ipc"
	yarnpb "github.com/spate-io/spate/yarn/proto"
	"github.com/spate-io/spate/yarn/security"
)

// Options configure an ApplicationMaster.
type Options struct {
	// SlotsPerTaskManager is taskmanager.numberOfTaskSlots.
	SlotsPerTaskManager int
	// TaskManager is the resource of each TaskManager container.
	TaskManager yarn.Resource
	// MaxStartFailures bounds the containers in a row that end before
	// their TaskManager registers.
	MaxStartFailures int
	Log              zerolog.Logger
}

// Heartbeat intervals to the RM: fast while containers are asked for (they
// come with later heartbeats), slow otherwise.
const (
	fastHeartbeat = 200 * time.Millisecond
	slowHeartbeat = 2 * time.Second
	// maxAllocateFailures in a row mean the RM is gone for this attempt.
	maxAllocateFailures = 20
)

// AppMaster is a registered ApplicationMaster: the YARN driver of the
// JobManager's ResourceManager (master/jobmanager.Driver). Its TaskManager
// containers come in groups (Group), one per binary they run, told apart by
// the priority of their asks; in application mode the one group runs the
// AM's own binary.
type AppMaster struct {
	opts      Options
	amrm      *yarn.AMRMClient
	resources map[string]yarn.LocalResource
	creds     *security.Credentials // for the TaskManagers: no AMRMToken
	cancel    context.CancelFunc
	done      chan struct{}
	wake      chan struct{}
	app       *Group // application mode's group, made on first use

	mu          sync.Mutex
	groups      map[int32]*Group // by priority
	nmTokens    map[string]*security.Token
	containers  map[string]*yarnpb.ContainerProto
	owner       map[string]*Group // container id → its group
	release     []yarn.ContainerID
	trackingURL string
	finished    bool
}

// Group is the TaskManager containers that run one binary, with their own
// Pool, ask and JobManager. It implements master/jobmanager.Driver.
type Group struct {
	a        *AppMaster
	priority int32
	launch   ContainerSpec

	// under a.mu
	pool   *Pool
	ask    *int
	jmAddr string
	lose   func(name, reason string)
}

// ContainerSpec says what a group's containers run.
type ContainerSpec struct {
	// Resources are localized in the container's working directory.
	Resources map[string]yarn.LocalResource
	// Command is the launch command (LaunchCommand).
	Command []string
	// Env is added to ContainerEnv(Resources); the AM sets
	// SPATE_TASKMANAGER_NAME (the container id), GOMEMLIMIT and
	// SPATE_PROPERTIES (the JobManager's RPC address) itself.
	Env map[string]string
}

// Register reads this AM container's credentials and configuration,
// registers with the ResourceManager (host: NM_HOST) and starts the
// heartbeat. The tracking URL follows with SetTrackingURL.
func Register(ctx context.Context, opts Options) (*AppMaster, error) {
	creds, err := containerCredentials()
	if err != nil {
		return nil, err
	}
	resources, err := Resources()
	if err != nil {
		return nil, err
	}
	conf, err := yarn.LoadConfFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	sched, err := conf.SchedulerAddress()
	if err != nil {
		return nil, err
	}
	amrm, err := yarn.NewAMRMClient(sched, creds.TokenOfKind(yarn.AMRMTokenKind), ipc.Options{})
	if err != nil {
		return nil, err
	}
	if _, err := amrm.Register(ctx, os.Getenv("NM_HOST"), 0, ""); err != nil {
		amrm.Close()
		return nil, fmt.Errorf("register the ApplicationMaster with the ResourceManager at %s: %w", sched, err)
	}
	tmCreds := &security.Credentials{Tokens: map[string]*security.Token{}, Secrets: creds.Secrets}
	for alias, t := range creds.Tokens {
		if t.Kind != yarn.AMRMTokenKind {
			tmCreds.Tokens[alias] = t
		}
	}
	hctx, cancel := context.WithCancel(context.Background())
	a := &AppMaster{opts: opts, amrm: amrm, resources: resources, creds: tmCreds, cancel: cancel, done: make(chan struct{}), wake: make(chan struct{}, 1),
		groups: map[int32]*Group{}, nmTokens: map[string]*security.Token{}, containers: map[string]*yarnpb.ContainerProto{}, owner: map[string]*Group{}}
	// Application mode: the TaskManagers run this binary with its arguments.
	a.app = a.NewGroup(ContainerSpec{Resources: resources, Command: LaunchCommand(binaryName(), os.Args[1:]), Env: map[string]string{"SPATE_ROLE": "taskmanager"}})
	opts.Log.Info().Str("scheduler", sched).Msg("ApplicationMaster registered")
	go a.heartbeat(hctx)
	return a, nil
}

// Resources are the files this AM container was given, which its
// TaskManagers get too.
func (a *AppMaster) Resources() map[string]yarn.LocalResource { return a.resources }

// NewGroup adds a group of TaskManager containers that run launch; it asks
// for none until its StartTaskManagers.
func (a *AppMaster) NewGroup(launch ContainerSpec) *Group {
	a.mu.Lock()
	defer a.mu.Unlock()
	g := &Group{a: a, priority: int32(len(a.groups) + 1), launch: launch, pool: NewPool(a.opts.SlotsPerTaskManager, a.opts.MaxStartFailures)}
	a.groups[g.priority] = g
	return g
}

// SetJobManager says where the application's TaskManagers register
// (host:port) and how a completed container's TaskManager is declared lost.
func (a *AppMaster) SetJobManager(addr string, lose func(name, reason string)) {
	a.app.SetJobManager(addr, lose)
}

// SetTrackingURL makes url (the REST endpoint) the application's tracking
// URL, with the next heartbeat.
func (a *AppMaster) SetTrackingURL(url string) {
	a.mu.Lock()
	a.trackingURL = url
	a.mu.Unlock()
	a.poke()
}

// StartTaskManagers implements master/jobmanager.Driver.
func (a *AppMaster) StartTaskManagers(slots int) { a.app.StartTaskManagers(slots) }

// TaskManagerRegistered implements master/jobmanager.Driver.
func (a *AppMaster) TaskManagerRegistered(name string) { a.app.TaskManagerRegistered(name) }

// SetJobManager says where the group's TaskManagers register (host:port)
// and how a completed container's TaskManager is declared lost.
func (g *Group) SetJobManager(addr string, lose func(name, reason string)) {
	g.a.mu.Lock()
	g.jmAddr, g.lose = addr, lose
	g.a.mu.Unlock()
}

// StartTaskManagers implements master/jobmanager.Driver.
func (g *Group) StartTaskManagers(slots int) {
	g.a.mu.Lock()
	cmds := g.pool.StartTaskManagers(slots)
	g.a.mu.Unlock()
	g.a.exec(g, cmds)
}

// TaskManagerRegistered implements master/jobmanager.Driver.
func (g *Group) TaskManagerRegistered(name string) {
	g.a.mu.Lock()
	g.pool.Registered(name)
	g.a.mu.Unlock()
}

// ReleaseTaskManager gives back the container of the TaskManager named
// name (an idle one): YARN stops it, and its completion is not a loss.
func (g *Group) ReleaseTaskManager(name string) {
	g.a.mu.Lock()
	cmds := g.pool.Remove(name)
	g.a.mu.Unlock()
	g.a.exec(g, cmds)
}

// Containers lists the group's containers launched and not completed.
func (g *Group) Containers() []string {
	g.a.mu.Lock()
	defer g.a.mu.Unlock()
	return g.pool.Containers()
}

func (a *AppMaster) poke() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// exec carries out a group's pool's commands; the heartbeat sends asks
// and releases.
func (a *AppMaster) exec(g *Group, cmds []Command) {
	for _, c := range cmds {
		switch c := c.(type) {
		case Ask:
			a.mu.Lock()
			n := c.Total
			g.ask = &n
			a.mu.Unlock()
			a.opts.Log.Info().Int("containers", n).Int32("priority", g.priority).Msg("asking YARN for TaskManager containers")
			a.poke()
		case Release:
			id, err := yarn.ParseContainerID(c.Container)
			if err == nil {
				a.mu.Lock()
				a.release = append(a.release, id)
				a.mu.Unlock()
				a.poke()
			}
		case Launch:
			go a.launch(g, c.Container)
		case Lose:
			a.opts.Log.Warn().Str("container", c.Name).Str("reason", c.Reason).Msg("TaskManager container completed")
			a.mu.Lock()
			lose := g.lose
			a.mu.Unlock()
			if lose != nil {
				lose(c.Name, "its YARN container "+c.Reason)
			}
		case GiveUp:
			a.opts.Log.Error().Str("reason", c.Reason).Msg("giving up on TaskManager containers")
			go a.fatal(c.Reason) // not on the heartbeat, which Finish stops and waits for
		}
	}
}

// fatal ends the application FAILED: the job cannot get its TaskManagers.
func (a *AppMaster) fatal(reason string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Finish(ctx, yarnpb.FinalApplicationStatusProto_APP_FAILED, reason); err != nil {
		a.opts.Log.Error().Err(err).Msg("unregister")
	}
	fmt.Fprintln(os.Stderr, "jobmanager: "+reason)
	os.Exit(1)
}

// launch starts a TaskManager in an allocated container through its
// NodeManager; a refusal counts as a container that ended.
func (a *AppMaster) launch(g *Group, id string) {
	a.mu.Lock()
	c, jm := a.containers[id], g.jmAddr
	n := c.GetNodeId()
	addr := net.JoinHostPort(n.GetHost(), strconv.Itoa(int(n.GetPort())))
	tok := a.nmTokens[addr]
	a.mu.Unlock()
	err := a.startContainer(g.launch, c, addr, tok, jm)
	if err != nil {
		a.opts.Log.Warn().Str("container", id).Err(err).Msg("could not start the TaskManager container")
		a.mu.Lock()
		cmds := g.pool.Completed(id, "could not be started: "+err.Error())
		a.mu.Unlock()
		a.exec(g, cmds)
		return
	}
	a.opts.Log.Info().Str("container", id).Str("node", addr).Msg("TaskManager container started")
}

func (a *AppMaster) startContainer(l ContainerSpec, c *yarnpb.ContainerProto, addr string, tok *security.Token, jm string) error {
	if jm == "" {
		return errors.New("the JobManager's address is not known yet")
	}
	host, port, err := net.SplitHostPort(jm)
	if err != nil {
		return err
	}
	env, err := ContainerEnv(l.Resources)
	if err != nil {
		return err
	}
	for k, v := range l.Env {
		env[k] = v
	}
	id := yarn.ContainerIDFromProto(c.GetId()).String()
	env["SPATE_TASKMANAGER_NAME"] = id
	env["GOMEMLIMIT"] = MemoryLimit(a.opts.TaskManager.MemoryMB)
	env["SPATE_PROPERTIES"] = "jobmanager.rpc.address=" + host + "\njobmanager.rpc.port=" + port
	if u := os.Getenv("HADOOP_USER_NAME"); u != "" {
		env["HADOOP_USER_NAME"] = u
	}
	tokens, err := a.creds.Marshal(security.CredentialsWritable)
	if err != nil {
		return err
	}
	nm, err := yarn.NewNMClient(addr, tok, ipc.Options{})
	if err != nil {
		return err
	}
	defer nm.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return nm.StartContainer(ctx, c, &yarn.ContainerLaunchContext{
		LocalResources: l.Resources, Environment: env, Tokens: tokens, Command: l.Command,
	})
}

// heartbeat calls allocate until Finish: asks, releases and the tracking
// URL out; allocated and completed containers in.
func (a *AppMaster) heartbeat(ctx context.Context) {
	defer close(a.done)
	failures := 0
	for {
		a.mu.Lock()
		req := yarn.AllocateRequest{Release: a.release, TrackingURL: a.trackingURL}
		asked := map[*Group]*int{}
		for _, g := range a.groups {
			if g.ask != nil {
				req.Asks = append(req.Asks, yarn.ContainerRequest{Priority: g.priority, Resource: a.opts.TaskManager, Count: int32(*g.ask)})
				asked[g], g.ask = g.ask, nil
			}
		}
		a.release, a.trackingURL = nil, ""
		a.mu.Unlock()
		resp, err := a.amrm.Allocate(ctx, req)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			failures++
			a.opts.Log.Warn().Err(err).Int("failures", failures).Msg("heartbeat to the ResourceManager failed")
			if failures >= maxAllocateFailures {
				fmt.Fprintf(os.Stderr, "jobmanager: lost the ResourceManager: %d heartbeats in a row failed, the last: %v\n", failures, err)
				os.Exit(1)
			}
			// Sent again with the next heartbeat.
			a.mu.Lock()
			a.release = append(req.Release, a.release...)
			for g, ask := range asked {
				if g.ask == nil {
					g.ask = ask
				}
			}
			if a.trackingURL == "" {
				a.trackingURL = req.TrackingURL
			}
			a.mu.Unlock()
		} else {
			failures = 0
			a.handle(resp)
		}
		a.mu.Lock()
		interval := slowHeartbeat
		for _, g := range a.groups {
			if g.pool.Pending() > 0 {
				interval = fastHeartbeat
			}
		}
		a.mu.Unlock()
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-a.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

func (a *AppMaster) handle(resp *yarnpb.AllocateResponseProto) {
	// Only when present: proto2's default of an absent enum is its first
	// value, AM_RESYNC.
	if cmd := resp.GetAMCommand(); resp.AMCommand != nil && (cmd == yarnpb.AMCommandProto_AM_SHUTDOWN || cmd == yarnpb.AMCommandProto_AM_RESYNC) {
		fmt.Fprintf(os.Stderr, "jobmanager: the ResourceManager sent %s: this attempt ends\n", cmd)
		os.Exit(1)
	}
	type step struct {
		g    *Group
		cmds []Command
	}
	var steps []step
	a.mu.Lock()
	for _, t := range resp.GetNmTokens() {
		n := t.GetNodeId()
		a.nmTokens[net.JoinHostPort(n.GetHost(), strconv.Itoa(int(n.GetPort())))] = security.TokenFromProto(t.GetToken())
	}
	for _, c := range resp.GetAllocatedContainers() {
		id := yarn.ContainerIDFromProto(c.GetId()).String()
		g := a.groups[c.GetPriority().GetPriority()]
		if g == nil { // no group asked at this priority
			if cid, err := yarn.ParseContainerID(id); err == nil {
				a.release = append(a.release, cid)
			}
			continue
		}
		a.containers[id], a.owner[id] = c, g
		steps = append(steps, step{g, g.pool.Allocated(id)})
	}
	for _, s := range resp.GetCompletedContainerStatuses() {
		id := yarn.ContainerIDFromProto(s.GetContainerId()).String()
		g := a.owner[id]
		delete(a.containers, id)
		delete(a.owner, id)
		if g != nil {
			steps = append(steps, step{g, g.pool.Completed(id, DescribeExit(s.GetExitStatus(), s.GetDiagnostics()))})
		}
	}
	a.mu.Unlock()
	for _, s := range steps {
		a.exec(s.g, s.cmds)
	}
}

// Finish stops the heartbeat and unregisters with the final status and
// diagnostics; only the first call does.
func (a *AppMaster) Finish(ctx context.Context, status yarnpb.FinalApplicationStatusProto, diagnostics string) error {
	a.mu.Lock()
	if a.finished {
		a.mu.Unlock()
		return nil
	}
	a.finished = true
	a.mu.Unlock()
	a.cancel()
	<-a.done
	defer a.amrm.Close()
	a.opts.Log.Info().Str("status", status.String()).Str("diagnostics", diagnostics).Msg("ApplicationMaster unregistering")
	return a.amrm.Finish(ctx, status, diagnostics, "")
}
