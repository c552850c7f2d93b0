package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/master/jobmanager"
	"github.com/spate-io/spate/master/jobmaster"
	"github.com/spate-io/spate/master/resource"
	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker"
	"github.com/spate-io/spate/worker/task"
	"github.com/spate-io/spate/worker/taskmanager"
)

// RuntimeMode is execution.runtime-mode.
type RuntimeMode string

const (
	Streaming RuntimeMode = "streaming"
	Batch     RuntimeMode = "batch"
	// Automatic runs bounded jobs as Batch and the others as Streaming.
	Automatic RuntimeMode = "automatic"
)

// EnvRole is the environment variable that tells a job binary which role it plays.
const EnvRole = "SPATE_ROLE"

// EnvInfoConfig=1 makes the info role add the job's effective
// configuration (spate.yaml, SPATE_PROPERTIES and what main() set) to the
// plan it prints: what `spate submit` sends the JobManager with the plan.
const EnvInfoConfig = "SPATE_INFO_CONFIG"

// Roles a job binary can play.
const (
	RoleClient = "client"
	RoleInfo   = "info"
	// RoleJobManager and RoleTaskManager run the job on a cluster of this
	// binary's processes (application mode, as YARN will start them).
	RoleJobManager  = "jobmanager"
	RoleTaskManager = "taskmanager"
)

// SuppressRestarts marks err as a failure a restart cannot mend: the job fails
// at once, whatever its restart strategy.
func SuppressRestarts(err error) error {
	return fmt.Errorf("%w: %w", jobmaster.ErrSuppressRestarts, err)
}

// ErrInvalidJob wraps every mistake found while building the dataflow.
var ErrInvalidJob = errors.New("invalid job")

// Env is the context in which a job is built and executed.
type Env struct {
	cfg    *conf.Config
	graph  *graph.JobGraph
	errs   []error
	stdout io.Writer
	log    zerolog.Logger
	logSet bool
	used   bool
	deploy func(*jobmaster.Options)
	// onTaskManager: this process is a TaskManager of the job
	// (SPATE_ROLE=taskmanager), where factories plan but do not check.
	onTaskManager bool
}

// Option configures NewEnv.
type Option func(*Env)

// WithConfig uses cfg instead of loading the configuration from SPATE_CONF_DIR
// and SPATE_PROPERTIES.
func WithConfig(cfg *conf.Config) Option { return func(e *Env) { e.cfg = cfg.Clone() } }

// WithStdout sends Print's output to w instead of os.Stdout.
func WithStdout(w io.Writer) Option { return func(e *Env) { e.stdout = w } }

// WithDeployOptions lets fn adjust how the job is deployed (tests and tools:
// checkpoint responders, barrier alignment).
func WithDeployOptions(fn func(*jobmaster.Options)) Option { return func(e *Env) { e.deploy = fn } }

// WithLogger sets the logger; by default one is made from log.level and log.format, on stderr.
func WithLogger(l zerolog.Logger) Option { return func(e *Env) { e.log, e.logSet = l, true } }

// NewEnv returns an environment configured from spate.yaml ($SPATE_CONF_DIR),
// SPATE_PROPERTIES and opts. A configuration error is reported by Execute.
func NewEnv(opts ...Option) *Env {
	e := &Env{graph: graph.New(""), stdout: os.Stdout}
	for _, o := range opts {
		o(e)
	}
	if e.cfg == nil {
		cfg, err := conf.Load(nil)
		if err != nil {
			e.errs = append(e.errs, err)
			cfg = conf.New()
		}
		e.cfg = cfg
	}
	if !e.logSet {
		e.log = conf.NewLogger(e.cfg, os.Stderr)
	}
	return e
}

// Config is the job's configuration; changes apply to the next Execute.
func (e *Env) Config() *conf.Config { return e.cfg }

// Configure sets one configuration key, as -Dkey=value would.
func (e *Env) Configure(key, value string) *Env {
	if e.graph.Finalized() {
		e.fail("Configure(%q) after Plan or Execute has no effect; configure the Env before", key)
		return e
	}
	if err := e.cfg.Set(key, value); err != nil {
		e.errs = append(e.errs, err)
	}
	return e
}

// SetParallelism sets parallelism.default for this job.
func (e *Env) SetParallelism(n int) *Env {
	return e.Configure(conf.ParallelismDefault.Key(), fmt.Sprint(n))
}

// SetMaxParallelism sets the number of key groups.
func (e *Env) SetMaxParallelism(n int) *Env {
	return e.Configure(conf.MaxParallelism.Key(), fmt.Sprint(n))
}

// SetRuntimeMode sets execution.runtime-mode.
func (e *Env) SetRuntimeMode(m RuntimeMode) *Env {
	return e.Configure(conf.RuntimeMode.Key(), string(m))
}

// Logger is the job's logger.
func (e *Env) Logger() zerolog.Logger { return e.log }

func (e *Env) fail(format string, args ...any) {
	e.errs = append(e.errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidJob}, args...)...))
}

// Plan finalizes the graph and returns its plan without running it.
func (e *Env) Plan(name string) (graph.Plan, error) {
	if err := e.finalize(name); err != nil {
		return graph.Plan{}, err
	}
	return e.graph.Plan(), nil
}

func (e *Env) finalize(name string) error {
	if len(e.errs) > 0 {
		return errors.Join(e.errs...)
	}
	// Before any hdfs:// path is resolved: the job's own Kerberos login.
	hdfs.SetKerberosLogin(hdfs.KerberosLogin{Principal: conf.KerberosLoginPrincipal.Get(e.cfg),
		Keytab: conf.KerberosLoginKeytab.Get(e.cfg), NoTicketCache: !conf.KerberosLoginUseTicketCache.Get(e.cfg)})
	if err := hdfs.SetDefaultScheme(conf.FSDefaultScheme.Get(e.cfg)); err != nil {
		return err
	}
	// Checked on every call, not only the first: Plan finalizes the graph, and a
	// later Execute must not skip this check.
	if conf.RuntimeMode.Get(e.cfg) == string(Batch) && !e.graph.Bounded() {
		var names []string
		for _, n := range e.graph.Nodes {
			if n.Kind == graph.KindSource && !n.Bounded {
				names = append(names, n.Name)
			}
		}
		return fmt.Errorf("%w: execution.runtime-mode is batch but %s never ends; use streaming or automatic", ErrInvalidJob, strings.Join(names, ", "))
	}
	if e.graph.Finalized() {
		return nil
	}
	e.graph.Name = name
	maxP := conf.MaxParallelism.Get(e.cfg)
	if err := state.CheckParallelism(1, maxP); err != nil {
		return err
	}
	return e.graph.Finalize(conf.ParallelismDefault.Get(e.cfg), maxP)
}

// Execute runs the job and waits for it to end. Under SPATE_ROLE=info it prints
// the plan as JSON to stdout and exits the process with status 0 instead.
func (e *Env) Execute(ctx context.Context, name string) (*JobResult, error) {
	c, err := e.ExecuteAsync(ctx, name)
	if err != nil {
		return nil, err
	}
	return c.Wait()
}

// ExecuteAsync starts the job and returns at once.
func (e *Env) ExecuteAsync(ctx context.Context, name string) (JobClient, error) {
	if e.used {
		return nil, fmt.Errorf("%w: Execute was already called on this Env; build a new Env for another job", ErrInvalidJob)
	}
	if err := e.finalize(name); err != nil {
		return nil, err
	}
	switch role := os.Getenv(EnvRole); role {
	case RoleInfo:
		p := e.graph.Plan()
		if os.Getenv(EnvInfoConfig) == "1" {
			// A submission: the checks a JobManager of this binary would
			// make before deploying (an output directory's leftovers) are
			// made here, since a session JobManager runs no job code.
			for _, n := range e.graph.Nodes {
				if pr, ok := n.Factory.(task.Preparer); ok {
					if err := pr.Prepare(n.Parallelism); err != nil {
						fmt.Fprintf(os.Stderr, "%s: %v\n", n.Name, err)
						os.Exit(1)
					}
				}
			}
			p.Config = map[string]string{}
			for _, k := range e.cfg.Keys() {
				p.Config[k], _ = e.cfg.Get(k)
			}
		}
		_, _ = os.Stdout.Write(p.JSON())
		os.Exit(0)
	case "", RoleClient, RoleJobManager:
	case RoleTaskManager:
		e.used = true
		e.runTaskManager(ctx) // never returns
	case taskmanager.RoleTaskExecutor:
		e.used = true
		e.runJobProcess(ctx) // never returns
	default:
		return nil, fmt.Errorf("%s=%q is not a role this build supports; use %q, %q, %q or %q", EnvRole, role, RoleClient, RoleInfo, RoleJobManager, RoleTaskManager)
	}
	e.used = true
	need := e.graph.MaxChainParallelism()
	tms := conf.MiniClusterTaskManagers.Get(e.cfg)
	slots := conf.NumberOfTaskSlots.Get(e.cfg)
	if !e.cfg.IsSet(conf.NumberOfTaskSlots.Key()) {
		slots = max(1, (need+tms-1)/tms) // size the embedded cluster to the job, as Flink's local environment does
	}
	// The embedded cluster: TaskManagers as TaskExecutors in this process,
	// exchanging typed buffers through one Shuffle.
	shuffle := worker.NewShuffle()
	gateways := make([]jobmaster.TaskManagerGateway, tms)
	for i := range gateways {
		gateways[i] = worker.NewTaskExecutor(fmt.Sprintf("embedded-%d", i), shuffle)
	}
	opts := jobmaster.Options{Slots: resource.NewSlotPool(tms, slots), TaskManagers: gateways, Log: e.log}
	if err := jobmaster.Configure(&opts, e.cfg, e.graph, e.log); err != nil {
		return nil, err
	}
	var jm *jobmanager.JobManager
	if os.Getenv(EnvRole) == RoleJobManager {
		var err error
		if jm, err = e.jobManager(ctx, &opts); err != nil {
			return nil, err
		}
	}
	if e.deploy != nil {
		e.deploy(&opts)
	}
	job, err := jobmaster.Deploy(ctx, e.graph, opts)
	if err != nil {
		if jm != nil {
			jm.Close()
		}
		return nil, err
	}
	if jm != nil {
		rest, err := e.serveREST(jm, job)
		if err != nil {
			job.Cancel()
			_, _ = job.Wait()
			jm.Close()
			return nil, err
		}
		return clusterClient{embeddedClient{job}, jm, rest}, nil
	}
	return embeddedClient{job}, nil
}

// typeName is the plan's name for T.
func typeName[T any]() string { return reflect.TypeFor[T]().String() }

// restoring reports whether the job starts from a savepoint or checkpoint.
func (e *Env) restoring() bool { return conf.SavepointPath.Get(e.cfg) != "" }
