// Package dispatcher is the Dispatcher's REST API: Apache Flink's REST paths,
// JSON field names, job states and status codes for what Spate has, so that
// Flink users' scripts, dashboards and the flink CLI's REST calls keep
// working, plus Spate's own job submission (POST /jobs) and Prometheus
// metrics (GET /metrics).
//
// # Model
//
// The package is a thin HTTP shell over one small interface, Cluster, which
// the JobManager implements. A request goes through one path, in order:
//
//	path check ─▶ route ─▶ method ─▶ path parameters ─▶ handler ─▶ one Cluster call ─▶ JSON
//	  400          404       405          400
//
// and nothing before the handler touches the Cluster. A handler decodes the
// request, makes one Cluster call and encodes the answer in Flink's shape
// (the types in api.go); errors the Cluster returns are classified by the
// sentinel they wrap (ErrJobNotFound → 404, ErrInvalidRequest → 400,
// ErrConflict → 409, ErrUnavailable → 503, anything else → 500 with its text
// logged, not sent). Every error body is Flink's: {"errors": ["..."]}. Every
// JSON answer has Content-Type "application/json; charset=UTF-8".
//
// # Routes
//
// Every route is served both as below and under /v1/ (/v1/jobs/overview), as
// Flink serves its API unversioned and versioned; HEAD is accepted wherever
// GET is.
//
//	GET   /config                             200 web UI configuration (refresh-interval, timezone, flink-version, features)
//	GET   /overview                           200 taskmanagers, slots-*, jobs-*, flink-version "spate-<version>", flink-commit
//	GET   /jobs                               200 {"jobs": [{"id", "status"}]}
//	POST  /jobs                               202 {"jobUrl": "/jobs/<id>", "jid", "sha256"}; 400, 413 (Spate's submission, below)
//	GET   /jobs/overview                      200 {"jobs": [{"jid", "name", "state", "start-time", ..., "tasks"}]}
//	GET   /jobs/:jobid                        200 job details; 404
//	PATCH /jobs/:jobid?mode=cancel            202 {}; 404, 409 (ended); 400 (mode=stop or unknown)
//	GET   /jobs/:jobid/plan                   200 {"plan": ...}; 404
//	GET   /jobs/:jobid/checkpoints            200 counts, summary, latest, history; 404 (unknown job, or no checkpointing)
//	GET   /jobs/:jobid/metrics[?get=a,b]      200 [{"id", "value"}]: uptime, numRestarts, checkpoint counts, last duration, size, restore; 404
//	GET   /jobs/:jobid/vertices/:vertexid     200 {"id", "name", "parallelism", "subtasks": [{"subtask", "status", "metrics", "taskmanager-id", ...}]}; 400, 404
//	GET   /jobs/:jobid/vertices/:vertexid/backpressure  200 {"status", "backpressureLevel", "subtasks": [{"ratio", "idleRatio", "busyRatio"}]}
//	GET   /jobs/:jobid/vertices/:vertexid/watermarks    200 [{"id": "<subtask>.currentInputWatermark", "value"}]
//	GET   /jobs/:jobid/exceptions             200 {"exceptionHistory": {"entries": [{"exceptionName", "stacktrace", "timestamp"}], "truncated"}}; 404
//	POST  /jobs/:jobid/savepoints             202 {"request-id"}; body {"target-directory", "cancel-job", "triggerId", "formatType"}; 400, 404, 409
//	GET   /jobs/:jobid/savepoints/:triggerid  200 {"status": {"id": "IN_PROGRESS"|"COMPLETED"}, "operation": {"location"} or {"failure-cause"}}; 404
//	POST  /jobs/:jobid/stop                   202 {"request-id"}; body {"targetDirectory", "drain", "triggerId", "formatType"};
//	                                              its status is read at /jobs/:jobid/savepoints/:triggerid, as in Flink
//	GET   /taskmanagers                       200 {"taskmanagers": [{"id", "path", "dataPort", "slotsNumber", "freeSlots", "hardware", ...}]}
//	GET   /taskmanagers/:taskmanagerid        200 the TaskManagerInfo plus "metrics" (heapUsed, rss, goroutines, garbageCollectors) and "jobs"; 400, 404
//	GET   /taskmanagers/:taskmanagerid/log    200 text/plain: the tail of its log, as its heartbeats carry it; 404
//	GET   /jobmanager/config                  200 [{"key", "value"}], secret-looking keys masked as Flink masks them
//	GET   /metrics                            200 Prometheus text format (version 0.0.4), as the Cluster writes it
//
// The web UI is served unversioned at / (also /index.html, /app.js,
// /style.css; ui.go): plain files embedded in the binary, relative URLs only
// so that it works under YARN's proxy, every value read from the routes
// above, so anything it shows can be scripted.
//
// Anything else is 404 ("Not found: <path>"); a known path with another
// method is 405 with an Allow header. JSON request bodies are optional (an
// empty body is {}), at most 1 MiB, and must not carry unknown fields: a
// misspelt "targetDirectory" is a 400, not a savepoint silently written to
// the default directory.
//
// # Path validation
//
// A :jobid, :vertexid or :triggerid must be 32 lowercase hexadecimal
// characters (Flink's JobID, JobVertexID and TriggerId), a :taskmanagerid
// 1 to 128 letters, digits, '.', '_' or '-', else 400, before anything is looked up. Before
// routing at all, every form of the path (the raw request target, the
// URL's RawPath and escaped path, and the decoded path) must be printable
// ASCII without "..", backslashes, control characters or '%': no route needs
// percent-encoding, so encoded dots and slashes, single or double
// (%2e%2e, %2f, %252f, %00, %5c), are refused with 400 rather than decoded.
// Paths are never cleaned or redirected: /v1/jobs/../config is a 400, not
// /config.
//
// # Submission
//
// POST /jobs is Spate's, not Flink's (which takes a serialized JobGraph and
// jars): a multipart/form-data body with three parts, "binary" (the job
// binary), "arguments" (a JSON array of strings) and "plan" (a JSON object, as
// `spate info` prints it). The body is bounded by Options.MaxContentLength
// (rest.server.max-content-length, 512 MiB by default); a larger one is
// answered 413 with the limit and the key to raise. The binary is streamed to
// a 0600 temporary file in Options.UploadDir while its SHA-256 is computed;
// Cluster.Submit receives the file's path and digest, must copy the file
// before returning (it is removed then), and hands the digest to the
// TaskManagers to check what they fetch. Missing, repeated or unknown parts,
// and parts that are not the JSON they should be, are 400 naming the part.
//
// # Security
//
// The server listens on loopback (127.0.0.1:8081) unless Options.Address
// says otherwise: anyone who reaches it can submit, stop and cancel jobs, so
// bind another interface only behind authentication (SPNEGO where Kerberos
// is on; not built here yet). Answers carry X-Content-Type-Options: nosniff;
// what is echoed of a request (a path, an id) is clipped and JSON-escaped.
//
// # What it must never do
//
// No job logic: it does not schedule, track state, decide whether a
// savepoint is possible or where it goes; the Cluster decides and the
// dispatcher reports. No user code: it never loads, runs or inspects a job
// binary (it stores and hashes the bytes, nothing more), so one job cannot
// break the JobManager. No path from a request reaches the filesystem: the
// upload's file name is chosen here, and a savepoint's target directory is
// passed to the Cluster as sent, for it to resolve.
package dispatcher
