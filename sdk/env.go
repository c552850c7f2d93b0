package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/user"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/master/checkpoint"
	"github.com/spate-io/spate/master/jobmanager"
	"github.com/spate-io/spate/master/jobmaster"
	"github.com/spate-io/spate/master/resource"
	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker"
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
		_, _ = os.Stdout.Write(e.graph.Plan().JSON())
		os.Exit(0)
	case "", RoleClient, RoleJobManager:
	case RoleTaskManager:
		e.used = true
		e.runTaskManager(ctx) // never returns
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
	mode := RuntimeMode(conf.RuntimeMode.Get(e.cfg))
	// The embedded cluster: TaskManagers as TaskExecutors in this process,
	// exchanging typed buffers through one Shuffle.
	shuffle := worker.NewShuffle()
	gateways := make([]jobmaster.TaskManagerGateway, tms)
	for i := range gateways {
		gateways[i] = worker.NewTaskExecutor(fmt.Sprintf("embedded-%d", i), shuffle)
	}
	opts := jobmaster.Options{
		Slots:             resource.NewSlotPool(tms, slots),
		TaskManagers:      gateways,
		BatchSize:         conf.BatchSize.Get(e.cfg),
		Credits:           conf.BuffersPerChannel.Get(e.cfg),
		BufferTimeout:     conf.BufferTimeout.Get(e.cfg),
		BatchMode:         mode == Batch || (mode == Automatic && e.graph.Bounded()),
		WatermarkInterval: conf.AutoWatermarkInterval.Get(e.cfg),
		Log:               e.log,
	}
	if err := e.checkpointOptions(&opts); err != nil {
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
		return clusterClient{embeddedClient{job}, jm}, nil
	}
	return embeddedClient{job}, nil
}

// typeName is the plan's name for T.
func typeName[T any]() string { return reflect.TypeFor[T]().String() }

// restoring reports whether the job starts from a savepoint or checkpoint.
func (e *Env) restoring() bool { return conf.SavepointPath.Get(e.cfg) != "" }

// checkpointOptions fills the checkpointing, restart and restore parts of opts
// from the configuration.
func (e *Env) checkpointOptions(opts *jobmaster.Options) error {
	cfg := e.cfg
	interval := conf.CheckpointingInterval.Get(cfg)
	checkpointing := interval > 0
	restart, err := jobmaster.NewRestartStrategy(cfg, checkpointing, rand.Float64)
	if err != nil {
		return err
	}
	opts.Restart = restart
	if checkpointing {
		fsys, p, err := hdfs.Resolve(checkpointsDir(cfg))
		if err != nil {
			return fmt.Errorf("%s: %w", conf.CheckpointsDirectory.Key(), err)
		}
		opts.ExactlyOnce = conf.CheckpointingMode.Get(cfg) != "at_least_once"
		opts.Checkpointing = &jobmaster.CheckpointOptions{
			Config: checkpoint.Config{
				Interval:          interval,
				Timeout:           conf.CheckpointingTimeout.Get(cfg),
				MinPause:          conf.MinPauseBetweenCheckpoints.Get(cfg),
				MaxConcurrent:     conf.MaxConcurrentCheckpoints.Get(cfg),
				TolerableFailures: conf.TolerableFailedCheckpoints.Get(cfg),
				Retained:          conf.MaxRetainedCheckpoints.Get(cfg),
			},
			FS: fsys, Dir: p,
			Retention:    strings.ToUpper(conf.ExternalizedCheckpointRetention.Get(cfg)),
			LeaseTimeout: conf.CheckpointsLeaseTimeout.Get(cfg),
		}
		if sp := conf.SavepointDirectory.Get(cfg); sp != "" {
			spFS, spPath, err := hdfs.Resolve(sp)
			if err != nil {
				return fmt.Errorf("%s: %w", conf.SavepointDirectory.Key(), err)
			}
			opts.Checkpointing.SavepointFS, opts.Checkpointing.SavepointDir = spFS, spPath
		}
	}
	from := conf.SavepointPath.Get(cfg)
	if from == "" {
		return nil
	}
	var fsys hdfs.FileSystem
	var p string
	if from == "latest" {
		if fsys, p, err = e.findLatest(); err != nil {
			return err
		}
		from = p
	} else if fsys, p, err = hdfs.Resolve(from); err != nil {
		return fmt.Errorf("%s: %w", conf.SavepointPath.Key(), err)
	}
	opts.Restore = &jobmaster.RestoreOptions{FS: fsys, Dir: p, AllowNonRestoredState: conf.SavepointIgnoreUnclaimedState.Get(cfg)}
	e.log.Info().Str("from", from).Msg("restoring")
	return nil
}

// checkpointsDir is state.checkpoints.dir, or the embedded default: a
// directory of the user's own in the system temp dir, since the temp dir is
// shared and a directory another user created there could not be written.
func checkpointsDir(cfg *conf.Config) string {
	if dir := conf.CheckpointsDirectory.Get(cfg); dir != "" {
		return dir
	}
	name := strconv.Itoa(os.Getuid())
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	return filepath.Join(os.TempDir(), "spate-checkpoints-"+name)
}

// findLatest resolves execution.savepoint.path=latest: the newest completed
// checkpoint or savepoint of this job's name whose lineage has not finished.
// It says at warn level which one it resumes, and which newer ones it passed
// over and why.
func (e *Env) findLatest() (hdfs.FileSystem, string, error) {
	fsys, cp, err := hdfs.Resolve(checkpointsDir(e.cfg))
	if err != nil {
		return nil, "", err
	}
	var spFS hdfs.FileSystem
	sp := ""
	if sdir := conf.SavepointDirectory.Get(e.cfg); sdir != "" {
		if spFS, sp, err = hdfs.Resolve(sdir); err != nil {
			return nil, "", err
		}
	}
	found, err := checkpoint.FindLatest(checkpoint.FindOptions{FS: fsys, CheckpointsDir: cp, SavepointsFS: spFS, SavepointsDir: sp,
		JobName: e.graph.Name, Retention: conf.ExternalizedCheckpointRetention.Get(e.cfg)})
	if err != nil {
		return nil, "", err
	}
	ev := e.log.Warn().Str("dir", found.Dir).Int64("checkpoint", found.Meta.ID).Str("kind", found.Meta.Kind).
		Str("lineage", found.Meta.LineageID()).Time("completed", time.UnixMilli(found.Meta.Completed))
	if len(found.Skipped) > 0 {
		skipped := make([]string, len(found.Skipped))
		for i, s := range found.Skipped {
			skipped[i] = s.String()
		}
		ev = ev.Strs("skipped", skipped)
	}
	ev.Msg("--resume latest: resuming the newest completed checkpoint or savepoint of an unfinished run of this job")
	return found.FS, found.Dir, nil
}
