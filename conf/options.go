package conf

import "time"

// The table. Keep it sorted by subsystem, keep each doc to one sentence, and
// add every new key to spate.yaml too (a test checks).
var (
	// Parallelism.

	ParallelismDefault = Int("parallelism.default", 1,
		"Parallelism of operators and sources that do not set their own.").Min(1)
	MaxParallelism = Int("pipeline.max-parallelism", 128,
		"Number of key groups, which bounds the parallelism that keyed state can be rescaled to.").Min(1).Max(32768)

	// Cluster.

	NumberOfTaskSlots = Int("taskmanager.numberOfTaskSlots", 1,
		"Slots per TaskManager, each running one subtask of every chain; the embedded cluster sizes itself to the job when this is not set.").Min(1)
	MiniClusterTaskManagers = Int("minicluster.number-of-taskmanagers", 1,
		"Number of TaskManagers the embedded cluster starts.").Min(1)

	// Data exchange between tasks.

	BufferTimeout = Duration("execution.buffer-timeout", 100*time.Millisecond,
		"Longest time a partly filled network buffer waits before it is flushed: lower means less latency, higher more throughput.")
	BatchSize = Int("execution.batch-size", 1024,
		"Records per batch handed from one task to the next.").Min(1)
	BuffersPerChannel = Int("taskmanager.network.memory.buffers-per-channel", 2,
		"Credits: buffers each input channel can hold before its producer blocks.").Min(1)

	// Execution.

	RuntimeMode = Enum("execution.runtime-mode", "streaming", []string{"streaming", "batch", "automatic"},
		"How the job runs, as in Flink: streaming, batch (every source must be bounded), or automatic (batch when every source is bounded).")
	AutoWatermarkInterval = Duration("pipeline.auto-watermark-interval", 200*time.Millisecond,
		"How often sources with a watermark strategy emit their watermark.")
	Target = Enum("execution.target", "embedded", []string{"embedded", "remote"},
		"Where spate run runs the job: embedded, inside the job's own process, or remote, submitted to the cluster at rest.address as spate submit does.")

	// Standalone and application-mode clusters.

	JobManagerRPCAddress = String("jobmanager.rpc.address", "127.0.0.1",
		"Host of the JobManager's RPC endpoint, which TaskManagers register with and report to.")
	JobManagerRPCPort = Int("jobmanager.rpc.port", 6123,
		"Port of the JobManager's RPC endpoint.").Min(0).Max(65535)
	TaskManagerHost = String("taskmanager.host", "127.0.0.1",
		"Address a TaskManager binds its RPC and data endpoints to (on ports the system picks) and announces to the JobManager.")
	ClusterSecretFile = String("security.cluster.secret-file", "",
		"File (mode 0600) holding the cluster's shared secret, with which JobManager and TaskManagers authenticate each other; required in the jobmanager and taskmanager roles.")
	KerberosLoginKeytab = String("security.kerberos.login.keytab", "",
		"Keytab to log in to a secure Hadoop cluster (HDFS) with, which also renews the login before its tickets expire; without one the Kerberos ticket cache (KRB5CCNAME) is used.")
	KerberosLoginPrincipal = String("security.kerberos.login.principal", "",
		"Principal of security.kerberos.login.keytab, as user@REALM or service/_HOST@REALM (_HOST becomes this machine's host name); with the ticket cache, the principal it must hold.")
	KerberosLoginUseTicketCache = Bool("security.kerberos.login.use-ticket-cache", true,
		"Whether a process without a keytab may log in to a secure Hadoop cluster from the Kerberos ticket cache that kinit wrote.")
	FSDefaultScheme = String("fs.default-scheme", "",
		"Filesystem of paths without a scheme: empty or file:/// is the local one; hdfs:/// resolves them against fs.defaultFS of HADOOP_CONF_DIR (relative ones under /user/NAME), hdfs://namenode:port/ against that NameNode.")
	TransportAuthentication = Enum("security.transport.authentication", "secret", []string{"secret", "kerberos"},
		"How JobManager and TaskManagers authenticate each other on every connection: secret (security.cluster.secret-file) or kerberos (GSSAPI with the keytab of security.kerberos.login.keytab, each side learning the other's principal).")
	TransportKerberosServicePrincipal = String("security.transport.kerberos.service-principal", "",
		"With security.transport.authentication=kerberos, the principal of the JobManager and TaskManagers, e.g. spate/_HOST@REALM, where _HOST becomes the host a peer is dialed at (jobmanager.rpc.address, taskmanager.host); default security.kerberos.login.principal.")
	TransportKerberosAllowedPrincipals = String("security.transport.kerberos.allowed-principals", "",
		"Comma-separated principals a JobManager or TaskManager accepts connections from with kerberos authentication (_HOST matches any host); default the service principal alone.")
	SSLInternalEnabled = Bool("security.ssl.internal.enabled", false,
		"Whether every connection between JobManager and TaskManagers runs in mutual TLS (below the authentication), with the PEM files of security.ssl.internal.certificate, .private-key and .truststore; hostnames are not verified, as in Flink: the truststore decides who belongs.")
	SSLInternalCertificate = String("security.ssl.internal.certificate", "",
		"PEM file with this process's TLS certificate chain for security.ssl.internal.enabled (all processes may share one).")
	SSLInternalPrivateKey = String("security.ssl.internal.private-key", "",
		"PEM file (mode 0600) with the private key of security.ssl.internal.certificate.")
	SSLInternalTruststore = String("security.ssl.internal.truststore", "",
		"PEM file with the CA certificates a peer's certificate must chain to under security.ssl.internal.enabled (for one shared self-signed certificate, that certificate).")
	TaskManagerRegistrationTimeout = Duration("taskmanager.registration.timeout", 5*time.Minute,
		"How long a TaskManager keeps trying to register with the JobManager before it gives up.")
	HeartbeatInterval = Duration("heartbeat.interval", 10*time.Second,
		"Time between a TaskManager's heartbeats to the JobManager.")
	HeartbeatTimeout = Duration("heartbeat.timeout", 50*time.Second,
		"Time without a heartbeat after which the JobManager considers a TaskManager lost and fails over the jobs that ran on it.")
	SlotRequestTimeout = Duration("slot.request.timeout", 5*time.Minute,
		"Longest time a job waits for TaskManagers to offer the slots it needs.")
	ResourceManagerTaskManagerTimeout = Duration("resourcemanager.taskmanager-timeout", 30*time.Second,
		"Time a YARN session's TaskManager container stays idle (no job of its binary running) before it is released.")
	RestAddress = String("rest.address", "127.0.0.1",
		"Host of the JobManager's REST endpoint, which spate submit, list, cancel, savepoint and stop talk to.")
	RestPort = Int("rest.port", 8081,
		"Port of the JobManager's REST endpoint (0 picks a free one, which the JobManager prints).").Min(0).Max(65535)
	RestBindAddress = String("rest.bind-address", "127.0.0.1",
		"Address the REST endpoint listens on; anyone who reaches it can submit and cancel jobs, so bind another interface only behind authentication.")
	RestMaxContentLength = Int("rest.server.max-content-length", 512<<20,
		"Largest request body, in bytes, the REST endpoint accepts: the size limit of an uploaded job binary.").Min(1)
	WebUploadDir = String("web.upload.dir", "",
		"Directory the JobManager keeps submitted job binaries in (default: a directory of its own under the system temp dir).")
	TaskManagerWorkDir = String("taskmanager.work.dir", "",
		"Directory a session TaskManager keeps the job binaries it runs in (default: a directory of its own under the system temp dir).")

	// YARN (spate yarn-submit), with Flink's names.

	YarnApplicationName = String("yarn.application.name", "",
		"Name of the YARN application (default: the job's name, or the job binary's file name).")
	YarnApplicationQueue = String("yarn.application.queue", "default",
		"YARN queue the application is submitted to.")
	YarnTags = String("yarn.tags", "",
		"Comma-separated tags of the YARN application, by which schedulers and `yarn application -list -appTags` find it.")
	YarnApplicationPriority = Int("yarn.application.priority", -1,
		"Priority of the YARN application (higher runs first where the scheduler honours it); -1 leaves it to the queue's default.").Min(-1)
	YarnApplicationAttempts = Int("yarn.application-attempts", 1,
		"Number of ApplicationMaster attempts YARN makes before the application fails, bounded by yarn.resourcemanager.am.max-attempts.").Min(1)
	YarnAttemptFailuresValidityInterval = Duration("yarn.application-attempt-failures-validity-interval", 10*time.Second,
		"AM attempt failures older than this do not count towards yarn.application-attempts; 0 counts them all.")
	YarnKeepContainersAcrossAttempts = Bool("yarn.application.keep-containers-across-attempts", false,
		"Whether YARN keeps the TaskManager containers running when the ApplicationMaster's attempt fails and a new one starts.")
	JobManagerMemoryProcessSize = String("jobmanager.memory.process.size", "512m",
		"Memory of the JobManager's YARN container (the ApplicationMaster), as 512m, 2g or a number of bytes.")
	YarnAppMasterVCores = Int("yarn.appmaster.vcores", 1,
		"Virtual cores of the ApplicationMaster's YARN container.").Min(1)
	TaskManagerMemoryProcessSize = String("taskmanager.memory.process.size", "512m",
		"Memory of each TaskManager's YARN container, as 512m, 2g or a number of bytes.")
	YarnContainerVCores = Int("yarn.containers.vcores", -1,
		"Virtual cores of each TaskManager's YARN container; -1 is taskmanager.numberOfTaskSlots.").Min(-1)
	Krb5ConfPath = String("security.kerberos.krb5-conf.path", "",
		"krb5.conf to ship to the YARN containers, where it becomes their KRB5_CONFIG (default: they use the nodes' own /etc/krb5.conf).")

	// Sources.

	SourceTextMaxLineBytes = Int("source.text.max-line-bytes", 64<<20,
		"Longest line, in bytes without its line ending, that ReadTextFile reads; a longer one fails the job, as a sign that the input is not the text the job expects.").Min(1)

	// Checkpointing.

	CheckpointingInterval = Duration("execution.checkpointing.interval", 0,
		"Time between the starts of periodic checkpoints; 0 turns periodic checkpointing off (Flink leaves the key unset for that).")
	CheckpointingMode = Enum("execution.checkpointing.mode", "exactly_once", []string{"exactly_once", "at_least_once"},
		"Checkpoint guarantee, exactly_once or at_least_once (Flink's upper-case spelling works too): at_least_once does not align barriers, so a restore may replay some records twice.")
	CheckpointingTimeout = Duration("execution.checkpointing.timeout", 10*time.Minute,
		"Longest time a checkpoint may take before it is aborted and counts as failed.")
	MinPauseBetweenCheckpoints = Duration("execution.checkpointing.min-pause", 0,
		"Shortest time between the end of one checkpoint and the start of the next, so that a slow checkpoint cannot leave the job no time to make progress.")
	MaxConcurrentCheckpoints = Int("execution.checkpointing.max-concurrent-checkpoints", 1,
		"Most checkpoints that may be in progress at the same time.").Min(1)
	TolerableFailedCheckpoints = Int("execution.checkpointing.tolerable-failed-checkpoints", 0,
		"Consecutive checkpoint failures tolerated before the job fails; 0 fails the job on the first.").Min(0)
	ExternalizedCheckpointRetention = Enum("execution.checkpointing.externalized-checkpoint-retention", "no_externalized_checkpoints",
		[]string{"no_externalized_checkpoints", "delete_on_cancellation", "retain_on_cancellation"},
		"Which completed checkpoints outlive the job: none, those of a job that fails for good (delete_on_cancellation), or also those of a cancelled one (retain_on_cancellation); while the job runs they are always kept.")
	CheckpointsDirectory = String("state.checkpoints.dir", "",
		`Directory (a path or file:// URI; hdfs:// with the Hadoop build) under which <job-id>/chk-<n>/ directories are written; when empty, the embedded cluster uses "spate-checkpoints-<user>" in the system temp dir.`)
	CheckpointsLeaseTimeout = Duration("state.checkpoints.lease-timeout", 30*time.Second,
		"How long a run's lease on its job's checkpoints lives without renewal: a second run of the job on the same state.checkpoints.dir is refused while the lease is live, and takes it over once it expired (or at once when its holder's process is gone from this host).")
	SavepointDirectory = String("state.savepoints.dir", "",
		"Default target directory of savepoints, used when a savepoint is triggered without one.")
	MaxRetainedCheckpoints = Int("state.checkpoints.num-retained", 1,
		"Number of most recent completed checkpoints kept; older ones are deleted.").Min(1)
	SavepointPath = String("execution.savepoint.path", "",
		`Savepoint or retained checkpoint directory the job starts from, or "latest" for the newest completed one of this job's name under state.checkpoints.dir and state.savepoints.dir (spate run -s, --resume latest).`)
	SavepointIgnoreUnclaimedState = Bool("execution.savepoint.ignore-unclaimed-state", false,
		"Start from the savepoint even if some of its state belongs to no operator of the job, dropping that state (spate run --allow-non-restored-state).")

	// Restart strategies, with Flink's names and defaults.

	RestartStrategyType = Enum("restart-strategy.type", "",
		[]string{"none", "off", "disable", "fixed-delay", "fixeddelay", "failure-rate", "failurerate", "exponential-delay", "exponentialdelay"},
		"What happens when the job fails: none (or off, disable), fixed-delay, failure-rate or exponential-delay; unset means none without checkpointing and exponential-delay with it.")
	RestartFixedDelayAttempts = Int("restart-strategy.fixed-delay.attempts", 1,
		"Restarts the fixed-delay strategy allows before the job fails for good.").Min(0)
	RestartFixedDelayDelay = Duration("restart-strategy.fixed-delay.delay", time.Second,
		"Delay before each fixed-delay restart, long enough for external systems (connections, transactions) to time out.")
	RestartFailureRateMaxFailuresPerInterval = Int("restart-strategy.failure-rate.max-failures-per-interval", 1,
		"Failures the failure-rate strategy restarts from within one failure-rate-interval; one more fails the job for good.").Min(1)
	RestartFailureRateInterval = Duration("restart-strategy.failure-rate.failure-rate-interval", time.Minute,
		"Window over which the failure-rate strategy counts failures.")
	RestartFailureRateDelay = Duration("restart-strategy.failure-rate.delay", time.Second,
		"Delay before each failure-rate restart.")
	RestartExponentialDelayInitialBackoff = Duration("restart-strategy.exponential-delay.initial-backoff", time.Second,
		"Delay before the first exponential-delay restart, and the shortest delay it ever uses.")
	RestartExponentialDelayMaxBackoff = Duration("restart-strategy.exponential-delay.max-backoff", time.Minute,
		"Longest delay before an exponential-delay restart, jitter included.")
	RestartExponentialDelayBackoffMultiplier = Float("restart-strategy.exponential-delay.backoff-multiplier", 1.5,
		"Factor by which the exponential-delay backoff grows after each failure, up to max-backoff.").Min(1)
	RestartExponentialDelayResetBackoffThreshold = Duration("restart-strategy.exponential-delay.reset-backoff-threshold", time.Hour,
		"How long the job must run after a restart without failing for the exponential-delay backoff and attempt count to start over.")
	RestartExponentialDelayJitterFactor = Float("restart-strategy.exponential-delay.jitter-factor", 0.1,
		"Fraction of the backoff added or subtracted at random, so that jobs failing together do not all restart at the same moment.").Min(0).Max(1)
	RestartExponentialDelayAttempts = Int("restart-strategy.exponential-delay.attempts-before-reset-backoff", 10,
		"Restarts the exponential-delay strategy allows before the backoff is reset; one more fails the job for good (Flink's default is unbounded; Spate's is 10, about two minutes of restarts, so that a job never restarts forever on the same cause).").Min(1)

	// Kafka client properties of every Kafka source and sink of a job, named
	// as Flink SQL's Kafka connector options; a builder's SetProperty wins.

	KafkaSecurityProtocol = Enum("properties.security.protocol", "", []string{"plaintext", "sasl_plaintext", "ssl", "sasl_ssl"},
		"How Kafka clients talk to the brokers: plaintext, sasl_plaintext, ssl or sasl_ssl; unset means plaintext.")
	KafkaSASLMechanism = Enum("properties.sasl.mechanism", "", []string{"plain", "scram-sha-256", "scram-sha-512"},
		"SASL mechanism of Kafka clients: plain, scram-sha-256 or scram-sha-512; unset means plain.")
	KafkaSASLUsername = String("properties.sasl.username", "",
		"SASL user of Kafka clients.")
	KafkaSASLPasswordFile = String("properties.sasl.password.file", "",
		"File whose first line is the SASL password of Kafka clients (never the password itself, which would show on command lines).")
	KafkaSSLTruststoreLocation = String("properties.ssl.truststore.location", "",
		"PEM file of the CA certificates Kafka clients trust; unset means the system's.")
	KafkaSSLKeystoreLocation = String("properties.ssl.keystore.location", "",
		"PEM file holding the certificate chain and unencrypted private key of Kafka clients, for brokers that require client certificates.")
	KafkaSSLEndpointIdentificationAlgorithm = String("properties.ssl.endpoint.identification.algorithm", "https",
		`Whether Kafka clients check that the broker's certificate names the host dialed: https, or "" to check only its chain.`)

	// Logging.

	LogLevel = Enum("log.level", "warn", []string{"trace", "debug", "info", "warn", "error"},
		"Least severe level of the log messages written to stderr.")
	LogFormat = Enum("log.format", "auto", []string{"auto", "json", "console"},
		"Format of the log on stderr: json, console (for people), or auto (console on a terminal, JSON otherwise).")
)
