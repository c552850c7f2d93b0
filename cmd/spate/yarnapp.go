package main

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/yarn"
	yarnpb "github.com/spate-io/spate/yarn/proto"
)

// The REST commands (list, cancel, savepoint, stop) on YARN applications:
// list --yarn asks the RM for the Spate applications, and an application id
// in place of a job id names the one job of an application-mode
// application, reached through its JobManager's REST API (the tracking URL).

// yarnFlag is list's --yarn.
var yarnFlag = &cli.BoolFlag{Name: "yarn", Usage: "list the Spate applications on YARN (type Spate) instead of a JobManager's jobs"}

// yarnConfig loads a REST command's configuration for talking to YARN.
func yarnConfig(c *cli.Context) (*yarnSubmission, error) {
	cfg, err := conf.Load(c.StringSlice("D"))
	if err != nil {
		return nil, usageErrorf("%s: %v", c.Command.HelpName, err)
	}
	return newYarnSubmission(c.Command.HelpName, cfg)
}

// listYARN is list --yarn: every Spate application the RM knows, oldest
// first: id, state, final status, queue, user, name, tracking URL.
func listYARN(c *cli.Context) error {
	s, err := yarnConfig(c)
	if err != nil {
		return err
	}
	client, closeClient, err := rmClient(s)
	if err != nil {
		return err
	}
	defer closeClient()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	apps, err := client.GetApplications(ctx, &yarnpb.GetApplicationsRequestProto{ApplicationTypes: []string{"Spate"}})
	if err != nil {
		return &exitError{code: ExitLost, msg: fmt.Sprintf("%s: list the Spate applications: %v", s.name, err)}
	}
	ids := make([]yarn.ApplicationID, len(apps))
	for i, a := range apps {
		ids[i] = yarn.ApplicationIDFromProto(a.GetApplicationId())
	}
	sort.Sort(byAppID{ids, apps})
	for i, a := range apps {
		url := a.GetTrackingUrl()
		if url == "" {
			url = "-"
		}
		fmt.Fprintf(c.App.Writer, "%s %-9s %-13s %s %s %s %s\n", ids[i], a.GetYarnApplicationState(), a.GetFinalApplicationStatus(),
			a.GetQueue(), a.GetUser(), a.GetName(), url)
	}
	return nil
}

type byAppID struct {
	ids  []yarn.ApplicationID
	apps []*yarnpb.ApplicationReportProto
}

func (b byAppID) Len() int { return len(b.ids) }
func (b byAppID) Less(i, j int) bool {
	if b.ids[i].ClusterTimestamp != b.ids[j].ClusterTimestamp {
		return b.ids[i].ClusterTimestamp < b.ids[j].ClusterTimestamp
	}
	return b.ids[i].ID < b.ids[j].ID
}
func (b byAppID) Swap(i, j int) {
	b.ids[i], b.ids[j] = b.ids[j], b.ids[i]
	b.apps[i], b.apps[j] = b.apps[j], b.apps[i]
}

// jobREST is newRESTClient for a command whose first argument is a job id,
// or an application id: then the REST API is the application's JobManager
// and the job its one job.
func jobREST(c *cli.Context, nargs int) (*restClient, string, error) {
	arg := c.Args().First()
	app, err := yarn.ParseApplicationID(arg)
	if err != nil {
		rc, err := newRESTClient(c, nargs)
		return rc, arg, err
	}
	name := c.Command.HelpName
	if n := c.NArg(); nargs == 1 && n != 1 || nargs == -1 && (n < 1 || n > 2) {
		return nil, "", usageErrorf("%s: usage: %s %s", name, name, c.Command.ArgsUsage)
	}
	s, err := yarnConfig(c)
	if err != nil {
		return nil, "", err
	}
	client, closeClient, err := rmClient(s)
	if err != nil {
		return nil, "", err
	}
	defer closeClient()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := client.GetApplicationReport(ctx, app)
	if err != nil {
		return nil, "", usageErrorf("%s: %s: %v", name, app, err)
	}
	switch {
	case r.GetApplicationType() != "Spate":
		return nil, "", usageErrorf("%s: %s is a %s application, not Spate's", name, app, r.GetApplicationType())
	case isSession(r):
		return nil, "", usageErrorf("%s: %s is a session (%s): name one of its jobs by its job id with --jobmanager %s, or stop the session with spate yarn-session stop",
			name, app, r.GetName(), strings.TrimPrefix(sessionURL(r), "http://"))
	case yarn.Final(r):
		return nil, "", failuref("%s: %s has ended: %s / %s", name, app, r.GetYarnApplicationState(), r.GetFinalApplicationStatus())
	case !strings.HasPrefix(r.GetOriginalTrackingUrl(), "http"):
		return nil, "", failuref("%s: %s is %s and its JobManager does not serve yet", name, app, r.GetYarnApplicationState())
	}
	base := strings.TrimSuffix(r.GetOriginalTrackingUrl(), "/")
	job, err := pollJob(base, false)
	if err != nil {
		return nil, "", failuref("%s: the job of %s at %s: %v", name, app, base, err)
	}
	return &restClient{name: name, base: base, http: &http.Client{Timeout: 10 * time.Minute}}, job.id, nil
}

// stopYARN is stop APPID: stop-with-savepoint of an application-mode job.
// Its JobManager ends with the job, often before it says where the
// savepoint went: then the client waits for the application's end and
// finds the savepoint on HDFS (savepointIn).
func stopYARN(c *cli.Context) error {
	rc, job, err := jobREST(c, 1)
	if err != nil {
		return err
	}
	name := rc.name
	dir := c.String("savepoint-path")
	body := map[string]any{"drain": c.Bool("drain")}
	if dir != "" {
		body["targetDirectory"] = dir
	} else {
		var entries []struct {
			Key   string `json:"key"`
			Value string `json:"value"`
		}
		if err := rc.call(http.MethodGet, "/jobmanager/config", nil, &entries); err != nil {
			return err
		}
		for _, e := range entries {
			if e.Key == conf.SavepointDirectory.Key() {
				dir = e.Value
			}
		}
	}
	app, _ := yarn.ParseApplicationID(c.Args().First())
	fmt.Fprintf(c.App.ErrWriter, "Stopping job %s of %s with a savepoint.\n", job, app)
	triggered := time.Now()
	loc, accepted, err := stopWithSavepoint(rc.base, job, body)
	if err == nil {
		fmt.Fprintln(c.App.Writer, loc)
		return nil
	}
	if !accepted {
		return failuref("%s: stop job %s: %v", name, job, err)
	}
	s, err := yarnConfig(c)
	if err != nil {
		return err
	}
	client, closeClient, err := rmClient(s)
	if err != nil {
		return err
	}
	defer closeClient()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	r, err := client.WaitForApplication(ctx, app, 250*time.Millisecond, yarn.Final)
	if err != nil {
		return &exitError{code: ExitLost, msg: fmt.Sprintf("%s: report of %s: %v", name, app, err)}
	}
	if err := finalStatus(name, app, r, false); err != nil {
		return err
	}
	fsys, closeFS, err := stagingFS(s)
	if err != nil {
		return usageErrorf("%s: %v", name, err)
	}
	defer closeFS()
	if loc, err = savepointIn(fsys, dir, job, triggered); err != nil {
		return failuref("%s: job %s stopped, but its savepoint: %v", name, job, err)
	}
	fmt.Fprintln(c.App.Writer, loc)
	return nil
}
