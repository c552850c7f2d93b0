// Spate's wire contract between processes: the control plane services (the
// TaskManager's ResourceManager registration and heartbeats, the JobMaster's
// calls into a TaskExecutor and back) and the data plane envelope.
//
// Generated with Apache Thrift 0.17.0 (Debian's thrift-compiler package):
//
//   thrift --gen go:package_prefix=github.com/spate-io/spate/,skip_remote \
//       -out . worker/transport/spate.thrift
//
// run from the module root; `./build.sh gen` does exactly that. The output
// (worker/transport/gen/wire) is committed, so a build needs no compiler. It
// builds against github.com/apache/thrift v0.17.0, v0.22.0 and v0.25.0.
//
// Every message is authenticated before it is parsed and travels in frames of
// bounded size: see worker/transport/README.md. Both planes use Thrift's compact
// protocol.
//
// Compatibility: field ids are forever. Add fields as optional (or with a
// default that means "as before"), never renumber or reuse an id, and never
// make an existing field required.

namespace go worker.transport.gen.wire

// ExecutionAttemptID names one execution attempt of one subtask. Every message
// that concerns a task carries it, so a late message from an attempt that has
// since been restarted matches no live task and is dropped.
struct ExecutionAttemptID {
  // The job's id (Flink's JobID: 32 lowercase hex characters).
  1: required string jobId
  // The job's execution attempt number: 0 for the first run, +1 on every restart.
  2: required i32 attempt
  // The chain's index in the ExecutionGraph (the task's vertex).
  3: required i32 vertex
  // The subtask's index within the chain, 0 ≤ subtask < parallelism.
  4: required i32 subtask
}

// ---------------------------------------------------------------------------
// TaskManager → ResourceManager

// SlotStatus is one slot of a TaskManager as the TaskManager sees it.
struct SlotStatus {
  // The slot's index on its TaskManager, 0 ≤ slot < slots.
  1: required i32 slot
  // The ResourceManager's allocation the slot holds; unset when the slot is free.
  2: optional string allocationId
  // The job the slot is allocated to; unset when the slot is free.
  3: optional string jobId
}

// SlotReport lists every slot of a TaskManager, free or not.
struct SlotReport {
  1: required list<SlotStatus> slots
}

struct RegistrationSuccess {
  // Identifies this registration; every heartbeat carries it. A ResourceManager
  // that restarted does not know it and answers UnknownTaskManager.
  1: required string registrationId
  // Where the JobManager serves its JobMasterGateway (host:port), which the
  // TaskManager's tasks report to.
  2: optional string jobMasterAddress
}

// RegistrationRejected: the ResourceManager refuses this TaskManager (for
// example, a second registration under a live id from another address).
exception RegistrationRejected {
  1: required string reason
}

// UnknownTaskManager: the heartbeat's TaskManager or registration is not known
// (the ResourceManager restarted or already declared it lost); register again.
exception UnknownTaskManager {
  1: required string taskManagerId
}

service ResourceManagerGateway {
  // registerTaskManager announces a TaskManager and its slots. dataAddress is
  // the host:port of its data plane listener (the other TaskManagers connect
  // there), rpcAddress that of its TaskExecutorGateway (the JobMasters connect
  // there).
  RegistrationSuccess registerTaskManager(
      1: string taskManagerId,
      2: string dataAddress,
      3: i32 slots,
      4: string hostname,
      5: string rpcAddress)
    throws (1: RegistrationRejected rejected)

  // heartbeat keeps the registration alive and reports the slots and the
  // metrics of the tasks running here (an encoded payload; its format belongs
  // to the metrics code, not to this contract).
  void heartbeat(
      1: string taskManagerId,
      2: string registrationId,
      3: SlotReport slots,
      4: binary taskMetrics)
    throws (1: UnknownTaskManager unknown)
}

// ---------------------------------------------------------------------------
// JobMaster → TaskExecutor (served by every TaskManager)
//
// Each call returns once the TaskManager has accepted the request, not when the
// work is done: outcomes come back through JobMasterGateway. Calls for an
// attempt the TaskManager does not run (already ended, or never deployed here)
// are no-ops, except submitTask.

enum CheckpointKind {
  // An automatic checkpoint, owned by the job, for recovery.
  CHECKPOINT = 1
  // A user-triggered savepoint; the job goes on.
  SAVEPOINT = 2
  // A savepoint after which every task ends (Flink's stop-with-savepoint).
  STOP_WITH_SAVEPOINT = 3
}

// TaskRejected: the TaskManager will not run the task. The reason names what to
// change, for example "job binary or arguments differ" when the graph
// fingerprint in the descriptor is not this binary's.
exception TaskRejected {
  1: required string reason
  // How the JobMaster's restart logic classifies the failure (for example
  // "incompatible-state" when a restore finds state of another type); empty
  // for an ordinary one.
  2: optional string errorClass
}

service TaskExecutorGateway {
  // submitTask deploys one subtask. The descriptor is the serialized
  // TaskDeploymentDescriptor (its own versioned encoding); it must name the
  // same attempt.
  void submitTask(1: ExecutionAttemptID attempt, 2: binary deploymentDescriptor)
    throws (1: TaskRejected rejected)

  // cancelTask stops a task and closes its input gates (also of a task that
  // ended); cause says why, for the task's error.
  void cancelTask(1: ExecutionAttemptID attempt, 2: string cause)

  // triggerCheckpoint asks a source task to inject a barrier. drain applies to
  // STOP_WITH_SAVEPOINT only: the sources end their input first, so every
  // operator finishes (final windows fire) before the savepoint. false: the
  // task cannot take the barrier now (it ended, or its mailbox is full).
  bool triggerCheckpoint(
      1: ExecutionAttemptID attempt,
      2: i64 checkpointId,
      3: i64 timestampMs,
      4: CheckpointKind kind,
      5: bool drain)

  // setCheckpointDirectory says where the state files of checkpointId (a
  // savepoint) go, before its barrier is triggered.
  void setCheckpointDirectory(1: string jobId, 2: i64 checkpointId, 3: string directory)

  // taskMetrics returns a task's counters and gate occupancy (JSON, the
  // worker/task TaskMetrics); empty for a task not known here.
  binary taskMetrics(1: ExecutionAttemptID attempt)

  // releaseAttempt forgets every task of one attempt of a job once they ended.
  void releaseAttempt(1: string jobId, 2: i32 attempt)

  // heartbeatFromJobMaster: the JobMaster of jobId checks, every
  // heartbeat.interval, that the process serving this gateway is alive (in
  // session mode the job's child process, which no ResourceManager
  // heartbeat covers). It fails only with the connection.
  void heartbeatFromJobMaster(1: string jobId)

  void notifyCheckpointComplete(1: ExecutionAttemptID attempt, 2: i64 checkpointId)

  // commitAtJobEnd lets the sinks of a task that ended with its bounded input
  // commit what they pre-committed on the final checkpoint.
  void commitAtJobEnd(1: ExecutionAttemptID attempt)
    throws (1: TaskRejected rejected)
}

// ---------------------------------------------------------------------------
// JobManager → TaskManager (session mode: served by the generic spate
// taskmanager at the rpcAddress it registered)
//
// A session TaskManager runs no user code itself: for each job it starts a
// child process from the job's own binary, which serves that job's
// TaskExecutorGateway and data plane.

// JobEndpoints are where a job's child process on a TaskManager serves.
struct JobEndpoints {
  1: required string rpcAddress
  2: required string dataAddress
}

service TaskManagerGateway {
  // startJob starts the child process of jobId from jobBinary (the job's own
  // executable, checked against binarySha256; it travels on this
  // authenticated connection, so it is bounded by the control plane's frame
  // size), run with arguments and the job's configuration (properties, as
  // SPATE_PROPERTIES), whose graph must have this fingerprint; its tasks
  // report to the JobMaster at jobMasterAddress. Returns once the child
  // serves.
  JobEndpoints startJob(
      1: string jobId,
      2: binary jobBinary,
      3: string binarySha256,
      4: list<string> arguments,
      5: string properties,
      6: string fingerprint,
      7: string jobMasterAddress)
    throws (1: TaskRejected rejected)

  // stopJob ends the child process of jobId.
  void stopJob(1: string jobId)
}

// ---------------------------------------------------------------------------
// TaskExecutor → JobMaster

// ExecutionState is what a TaskManager reports about a task. The JobMaster's
// other states (CREATED, SCHEDULED, DEPLOYING, CANCELING) never cross the wire.
enum ExecutionState {
  RUNNING = 1
  FINISHED = 2
  FAILED = 3
  CANCELED = 4
}

service JobMasterGateway {
  // registerTaskExecutor: the job's process on a TaskManager is up, with its
  // TaskExecutorGateway at rpcAddress and its data plane at dataAddress, and
  // built the graph with this fingerprint. The JobMaster refuses another
  // fingerprint ("job binary or arguments differ").
  void registerTaskExecutor(
      1: string jobId,
      2: string taskManagerId,
      3: string rpcAddress,
      4: string dataAddress,
      5: string fingerprint)
    throws (1: TaskRejected rejected)

  // updateTaskExecutionState reports a task's transition. For FAILED,
  // errorMessage is the error's text, errorClass its classification (as the
  // restart strategy sees it) and userFrame the innermost user-code frame
  // ("main.tokenize (job.go:42)"), each empty when unknown.
  void updateTaskExecutionState(
      1: ExecutionAttemptID attempt,
      2: ExecutionState state,
      3: string errorMessage,
      4: string errorClass,
      5: string userFrame)

  // acknowledgeCheckpoint: the task's snapshot for checkpointId is durable;
  // stateHandles (encoded by the checkpoint code) say where it is.
  void acknowledgeCheckpoint(
      1: ExecutionAttemptID attempt,
      2: i64 checkpointId,
      3: binary stateHandles)

  // declineCheckpoint: the task cannot take part in checkpointId. unrecoverable
  // means the job must fail rather than retry the checkpoint.
  void declineCheckpoint(
      1: ExecutionAttemptID attempt,
      2: i64 checkpointId,
      3: string reason,
      4: bool unrecoverable,
      // The failure's class, as for updateTaskExecutionState's errorClass.
      5: string errorClass)
}

// ---------------------------------------------------------------------------
// Data plane: one multiplexed connection per TaskManager pair carries many
// logical channels; each frame holds one Envelope.

enum EnvelopeKind {
  // A buffer of Avro-encoded records; takes one credit.
  BUFFER = 1
  // An event in order with the buffers (watermark, barrier, end of partition),
  // encoded by worker/network; takes no credit.
  EVENT = 2
  // The receiver grants `credits` more buffers on the channel (consumer → producer).
  CREDIT = 3
  // The sender will send nothing more on the channel (either direction).
  CLOSE = 4
  // The channel failed on the sender's side; payload is the UTF-8 reason.
  ERROR = 5
  // The producer sets up a channel (producer → consumer): payload names the
  // consumer's job, attempt, chain, subtask, input side and channel index
  // (encoded by the worker package). The consumer answers with CREDIT.
  OPEN = 6
}

struct Envelope {
  // The logical channel. worker/network assigns ids when it sets a channel up;
  // an id is never reused on a connection, so an envelope for a channel of an
  // ended attempt finds no channel and is dropped.
  1: required i64 channelId
  2: required EnvelopeKind kind
  // CREDIT: the number of buffers granted (> 0). 0 otherwise.
  3: i32 credits
  // BUFFER: how many more buffers the sender has queued on this channel
  // (Flink's backlog), so the receiver can grant floating buffers. 0 otherwise.
  4: i32 backlog
  // BUFFER and EVENT: the encoded buffer or event; ERROR: the reason. Empty otherwise.
  5: binary payload
}
