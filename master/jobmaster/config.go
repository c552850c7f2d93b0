package jobmaster

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/master/checkpoint"
	"github.com/spate-io/spate/sdk/graph"
)

// Configure fills what a job's configuration decides in o: the exchange
// knobs, the runtime mode, checkpointing, the restart strategy and where the
// job restores from. The job binary calls it for its own jobs (embedded and
// application mode) and a session JobManager for the jobs submitted to it,
// with the configuration the job was submitted with, so that both deploy a
// job alike.
func Configure(o *Options, cfg *conf.Config, g *graph.JobGraph, log zerolog.Logger) error {
	mode := conf.RuntimeMode.Get(cfg)
	o.BatchSize = conf.BatchSize.Get(cfg)
	o.Credits = conf.BuffersPerChannel.Get(cfg)
	o.BufferTimeout = conf.BufferTimeout.Get(cfg)
	o.BatchMode = mode == "batch" || (mode == "automatic" && g.Bounded())
	o.WatermarkInterval = conf.AutoWatermarkInterval.Get(cfg)

	interval := conf.CheckpointingInterval.Get(cfg)
	checkpointing := interval > 0
	restart, err := NewRestartStrategy(cfg, checkpointing, rand.Float64)
	if err != nil {
		return err
	}
	o.Restart = restart
	if checkpointing {
		fsys, p, err := hdfs.Resolve(CheckpointsDir(cfg))
		if err != nil {
			return fmt.Errorf("%s: %w", conf.CheckpointsDirectory.Key(), err)
		}
		o.ExactlyOnce = conf.CheckpointingMode.Get(cfg) != "at_least_once"
		o.Checkpointing = &CheckpointOptions{
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
			o.Checkpointing.SavepointFS, o.Checkpointing.SavepointDir = spFS, spPath
		}
	}
	from := conf.SavepointPath.Get(cfg)
	if from == "" {
		return nil
	}
	var fsys hdfs.FileSystem
	var p string
	if from == "latest" {
		if fsys, p, err = findLatest(cfg, g.Name, log); err != nil {
			return err
		}
		from = p
	} else if fsys, p, err = hdfs.Resolve(from); err != nil {
		return fmt.Errorf("%s: %w", conf.SavepointPath.Key(), err)
	}
	o.Restore = &RestoreOptions{FS: fsys, Dir: p, AllowNonRestoredState: conf.SavepointIgnoreUnclaimedState.Get(cfg)}
	log.Info().Str("from", from).Msg("restoring")
	return nil
}

// CheckpointsDir is state.checkpoints.dir, or the embedded default: a
// directory of the user's own in the system temp dir, since the temp dir is
// shared and a directory another user created there could not be written.
func CheckpointsDir(cfg *conf.Config) string {
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
// checkpoint or savepoint of the job named name whose lineage has not
// finished. It says at warn level which one it resumes, and which newer
// ones it passed over and why.
func findLatest(cfg *conf.Config, name string, log zerolog.Logger) (hdfs.FileSystem, string, error) {
	fsys, cp, err := hdfs.Resolve(CheckpointsDir(cfg))
	if err != nil {
		return nil, "", err
	}
	var spFS hdfs.FileSystem
	sp := ""
	if sdir := conf.SavepointDirectory.Get(cfg); sdir != "" {
		if spFS, sp, err = hdfs.Resolve(sdir); err != nil {
			return nil, "", err
		}
	}
	found, err := checkpoint.FindLatest(checkpoint.FindOptions{FS: fsys, CheckpointsDir: cp, SavepointsFS: spFS, SavepointsDir: sp,
		JobName: name, Retention: conf.ExternalizedCheckpointRetention.Get(cfg)})
	if err != nil {
		return nil, "", err
	}
	ev := log.Warn().Str("dir", found.Dir).Int64("checkpoint", found.Meta.ID).Str("kind", found.Meta.Kind).
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
