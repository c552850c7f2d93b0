// Command spate is Spate's command line: it runs and inspects job binaries
// and documents the configuration.
//
//	spate [--log-level LEVEL] COMMAND [OPTIONS] [ARGS]
//
//	spate run  [-D key=value]... JOB [-- ARGS...]   run a job binary on the embedded cluster
//	spate info [-D key=value]... JOB [-- ARGS...]   print the job's plan as JSON, without running it
//	spate config [--output text|json] [--get KEY]   every configuration key, type, default and doc
//	spate version                                   spate <version> (<go version>, <vcs revision>)
//
//	spate submit [--jobmanager HOST:PORT] [--detached] [-p N] [-s PATH] JOB [-- ARGS...]
//	spate list | cancel JOBID | savepoint JOBID [DIR] | stop [--savepoint-path DIR] [--drain] JOBID
//	spate jobmanager                                a session cluster's JobManager (REST, RPC)
//	spate taskmanager [--jobmanager HOST:PORT]      a session cluster's TaskManager
//	spate yarn-submit [--detached] [-p N] [-s PATH] [--tag T [--unique-tag]] [--output json]
//	                  [--stop-on-signal kill|savepoint] JOB [-- ARGS...]   application mode on YARN
//	spate yarn-session start [--name NAME] [--idle-timeout D] [--detached] | list | status NAME|APPID | stop NAME|APPID
//	spate submit --session NAME|APPID JOB [-- ARGS...]   a job on a YARN session
//
// # On YARN
//
// yarn-submit (cmd/spate/yarn.go, with the AM in yarn/appmaster) runs JOB in
// the info role for its name, creates the application and prints its id as
// the first line of stderr, stages JOB, the effective configuration as
// spate.yaml, the Hadoop *-site.xml, the keytab and krb5.conf
// (security.kerberos.krb5-conf.path) in /user/USER/.spate/APPID (0700), and
// submits with an HDFS delegation token and a fresh cluster secret in the
// AM's credentials. Attached, it prints state changes and the tracking URL
// and exits 0 for FINISHED/SUCCEEDED, 1 failed (with YARN's diagnostics, the
// job's error), 3 refused by YARN, 4 killed, 5 lost contact; SIGINT and
// SIGTERM kill the application, or with --stop-on-signal savepoint stop the
// job with a savepoint, whose path goes to stdout. --output json prints one
// summary object on stdout at the end. --unique-tag refuses (3) while a
// Spate application with one of the --tag tags is unfinished. The tokens of
// HADOOP_TOKEN_FILE_LOCATION go to the application; its HDFS delegation
// token replaces a new one, its RM delegation token authenticates.
//
// yarn-session (cmd/spate/yarnsession.go, yarn/appmaster.Session) stages this
// generic binary instead of a job's and starts it in the AM as `yarn-session
// jobmanager`: one session JobManager per submitted job binary behind one
// REST API (the tracking URL). submit --session finds the session by name or
// id, stages the job binary in the session's jobs/SHA256 and submits it
// there; that binary's TaskManagers are containers running `yarn-session
// taskmanager` with the binary localized beside it, released after
// resourcemanager.taskmanager-timeout without a job of theirs. A session
// without jobs for --idle-timeout unregisters SUCCEEDED; stop kills it.
//
// # On a cluster
//
// submit runs JOB in the info role with SPATE_INFO_CONFIG=1, which prints the
// plan with the job's effective configuration (and makes the checks a
// JobManager of the binary would, such as an output directory's leftovers),
// then uploads binary, arguments and plan (POST /jobs, multipart) and prints
// the job id as the first line of stdout. Attached, it polls the job until it
// ends: exit 0 when it FINISHED, 1 when it FAILED or was CANCELED (the
// failure from /jobs/:id/exceptions on stderr), 128+n when signal n
// interrupted it (SIGINT and SIGTERM cancel the job unless --on-interrupt
// detach). run --target remote, or execution.target=remote, is submit. The
// REST endpoint is --jobmanager, else rest.address:rest.port.
//
// jobmanager and taskmanager run no job code: each job's subtasks run in a
// child process of the job's own binary that the TaskManager starts (see
// worker/taskmanager). Both need security.cluster.secret-file; the
// jobmanager prints "rest: http://HOST:PORT" and "rpc: HOST:PORT" on stdout
// once it serves, which scripts/start-cluster.sh reads.
//
// # Running a job
//
// A Spate job is its own Go binary (see the design's "one binary, three
// roles"). run and info execute JOB, a file path that is never looked up in
// $PATH, with ARGS; stdin, stdout and stderr pass straight through. Before it
// starts the binary, spate builds the effective configuration with conf.Load
// (spate.yaml in $SPATE_CONF_DIR, then SPATE_PROPERTIES, then -D flags, each
// overriding the one before) and rejects an unknown key or a bad value. The
// binary gets spate's environment plus
//
//	SPATE_PROPERTIES  the effective configuration, as conf.EncodeProperties writes it
//	SPATE_ROLE        client for run, info for info
//
// -D takes Flink's attached form too (-Dparallelism.default=4), and its value
// may contain commas. The global --log-level LEVEL is -D log.level=LEVEL for
// spate and the job alike; an explicit -D log.level wins.
//
// SIGINT and SIGTERM are forwarded to the job, and spate waits for it to
// exit. A Ctrl-C on the terminal reaches the job directly, since it shares
// spate's process group, so spate does not send that SIGINT a second time.
// A job that cancels its Execute context on these signals (as the examples
// do) is interrupted, not cancelled: it keeps its latest checkpoint whatever
// the retention setting, so that "Ctrl-C, then spate run --resume latest"
// goes on exactly once. On Linux the job dies with spate however spate dies
// (a parent-death signal), so a kill -9 of spate never leaves the job running
// beside the next run; the job's lease on its checkpoints refuses a second
// run of it in any case.
//
// run and info refuse a native executable that is not a Go program built
// with Spate's module ("spate run /bin/true"); a script passes, since it may
// start a Spate job.
//
// # Exit codes
//
//	0 (ExitOK)       success
//	1 (ExitFailure)  a runtime error in spate itself
//	2 (ExitUsage)    a usage or configuration error: bad flag, missing or
//	                 non-executable JOB, unknown key, invalid value
//	other            run and info exit with the job binary's own code;
//	                 128+n when the job was killed by signal n
//
// Every error is one line on stderr that says what to change; spate never
// prints its whole help for a usage error, nor a stack trace. Results go to
// stdout, messages to stderr.
//
// # What it must never do
//
// This package is a thin shell: parse the command line, load the
// configuration, start processes. It holds no engine logic, and nothing
// imports it. The real work happens inside the job binary, in the sdk.
package main
