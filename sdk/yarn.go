package sdk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/master/jobmanager"
	"github.com/spate-io/spate/master/jobmaster"
	"github.com/spate-io/spate/yarn"
	"github.com/spate-io/spate/yarn/appmaster"
	yarnpb "github.com/spate-io/spate/yarn/proto"
)

// YARN application mode (spate yarn-submit): the jobmanager role inside the
// AM container registers as the ApplicationMaster, which starts the
// TaskManager containers (package yarn/appmaster); both roles bind to their
// node (NM_HOST) and authenticate with the secret in their credentials.

// yarnAMs maps a JobManager of this process to its ApplicationMaster: a
// process runs one job in the jobmanager role, but the hooks in roles.go
// only see the JobManager.
var yarnAMs sync.Map // *jobmanager.JobManager → *appmaster.AppMaster

// inYARN binds this process to its node's host when it runs in a YARN
// container that Spate launched, and reports whether it does.
func (e *Env) inYARN() bool {
	if !appmaster.InYARN() {
		return false
	}
	host := os.Getenv("NM_HOST")
	set := func(key, value string) {
		if err := e.cfg.Set(key, value); err != nil {
			e.log.Error().Err(err).Str("key", key).Msg("YARN container configuration")
		}
	}
	// Other nodes reach this one by its host, whatever spate.yaml said for
	// a standalone cluster (as Flink overrides them on YARN).
	set(conf.JobManagerRPCAddress.Key(), host)
	set(conf.TaskManagerHost.Key(), host)
	if !e.cfg.IsSet(conf.RestBindAddress.Key()) {
		set(conf.RestBindAddress.Key(), host)
	}
	return true
}

// registerAM registers this jobmanager process as the ApplicationMaster.
// The process YARN started supervises a job process of the same binary
// (appmaster.Supervise, which never returns): the application's final status
// then waits for main() to return.
func (e *Env) registerAM(ctx context.Context) (*appmaster.AppMaster, error) {
	if !appmaster.Supervised() {
		appmaster.Supervise()
	}
	mem, err := appmaster.ParseMemorySize(conf.TaskManagerMemoryProcessSize.Key(), conf.TaskManagerMemoryProcessSize.Get(e.cfg))
	if err != nil {
		return nil, err
	}
	slots := conf.NumberOfTaskSlots.Get(e.cfg)
	vcores := conf.YarnContainerVCores.Get(e.cfg)
	if vcores < 0 {
		vcores = slots
	}
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return appmaster.Register(rctx, appmaster.Options{SlotsPerTaskManager: slots,
		TaskManager: yarn.Resource{MemoryMB: mem, VCores: int32(vcores)}, MaxStartFailures: 3,
		Log: e.log.With().Str("component", "appmaster").Logger()})
}

// adoptAM ties am to jm: TaskManagers register with jm, and a completed
// container's TaskManager is lost to it at once.
func adoptAM(jm *jobmanager.JobManager, am *appmaster.AppMaster) {
	am.SetJobManager(jm.Addr(), jm.LoseTaskManager)
	yarnAMs.Store(jm, am)
}

// trackAM makes the REST address the application's tracking URL.
func trackAM(jm *jobmanager.JobManager, restAddr string) {
	if am, ok := yarnAMs.Load(jm); ok {
		am.(*appmaster.AppMaster).SetTrackingURL("http://" + restAddr)
	}
}

// finishAM ends jm's ApplicationMaster with the job's true final status:
// SUCCEEDED only when it finished, KILLED when cancelled, else FAILED with
// its error (appmaster.AppMaster.End).
func finishAM(jm *jobmanager.JobManager, jobErr error) {
	v, ok := yarnAMs.LoadAndDelete(jm)
	if !ok {
		return
	}
	am := v.(*appmaster.AppMaster)
	status, diag := yarnpb.FinalApplicationStatusProto_APP_SUCCEEDED, "the job finished"
	switch {
	case errors.Is(jobErr, jobmaster.ErrJobCancelled):
		status, diag = yarnpb.FinalApplicationStatusProto_APP_KILLED, jobErr.Error()
	case jobErr != nil:
		status, diag = yarnpb.FinalApplicationStatusProto_APP_FAILED, jobErr.Error()
	}
	// Before unregistering: the application is FINISHED at once after.
	if staging := os.Getenv(appmaster.EnvStaging); staging != "" {
		fsys, p, err := hdfs.Resolve(staging)
		if err == nil {
			err = fsys.RemoveAll(p)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: remove the staging directory %s (the attached client removes it too): %v\n", RoleJobManager, staging, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := am.End(ctx, status, diag); err != nil {
		fmt.Fprintf(os.Stderr, "%s: unregister the ApplicationMaster (%s): %v\n", RoleJobManager, status, err)
	}
}
