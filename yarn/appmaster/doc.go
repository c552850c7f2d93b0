// Package appmaster is Spate's YARN ApplicationMaster: the YARN driver of the
// JobManager's ResourceManager in application mode, and the contract between
// spate yarn-submit and the containers it leads to.
//
// # Model
//
// The job binary, started by YARN as the AM with SPATE_ROLE=jobmanager,
// registers (Register) before its JobManager starts, then plays
// master/jobmanager.Driver: when the ResourceManager core lacks slots
// (StartTaskManagers) the Pool, a pure core, turns the shortage into a total
// ask of containers of taskmanager.memory.process.size and
// yarn.containers.vcores; the heartbeat (allocate, fast while containers are
// pending) brings them, and each is started through its NodeManager running
// the same binary with SPATE_ROLE=taskmanager and SPATE_TASKMANAGER_NAME set
// to the container id, so a registration names its container.
//
//	client ──submit: binary, spate.yaml, *-site.xml, keytab, krb5.conf
//	         (hdfs:///user/U/.spate/APPID/), credentials: HDFS token + secret──▶ RM
//	RM ──AM container──▶ job binary (jobmanager) ──Register──▶ RM
//	  JobManager core: StartTaskManagers(n) ──▶ Pool ──Ask──▶ allocate
//	  allocate ◀── containers + NMTokens ──▶ startContainers (NodeManager)
//	  TaskManager (taskmanager role) ──register──▶ JobManager ──▶ Pool.Registered
//	  container completed ──▶ Pool ──Lose──▶ JobManager fails the job over;
//	                                          the restart asks again
//	job ends ──▶ Finish(SUCCEEDED | FAILED + the job's error | KILLED)
//
// A container that ends before its TaskManager registers is replaced, up to
// Options.MaxStartFailures in a row; then the application fails with the
// last container's exit status and diagnostics (no endless retry). Excess
// containers (YARN over-allocating across a changed ask) are released.
//
// # Supervision
//
// YARN reports an application FINISHED as soon as its AM unregisters, and
// then kills the AM container: unregistering when the job ends would cut off
// what main() does after Execute. So the process YARN starts runs the binary
// again as the job process (Supervise, from Register's caller), which
// registers, heartbeats and runs the JobManager, and at the job's end
// reports its final status (End) instead of unregistering; the supervisor
// unregisters once the job process exited: FAILED when the job finished but
// main() exited non-zero, and not at all (the attempt fails, YARN may retry)
// when the job process ended without a status.
//
// # Sessions
//
// A session's AM is the generic spate binary, which runs no user code: its
// Session holds one session JobManager (master/jobmanager) per job binary,
// each driving a Group of containers of its own (NewGroup; the groups' asks
// differ by priority, which is how an allocated container finds its group).
// Those containers run the generic binary as a session TaskManager with the
// job's binary localized from HDFS, which it runs for each job of that
// binary. Session.Tick releases the containers of a binary without a
// running job for resourcemanager.taskmanager-timeout and says when the
// whole session has been idle for its idle timeout.
//
// # What the caller must do
//
// Call Register first thing in the jobmanager role (an AM that never
// registers fails its attempt), SetJobManager once the JobManager listens,
// SetTrackingURL once the REST endpoint does, and End with the job's true
// final status.
//
// Containers authenticate to the JobManager with the per-application secret
// in their credentials (ClusterSecret), not a file; the AM passes its own
// credentials less the AMRMToken to the TaskManagers.
package appmaster
