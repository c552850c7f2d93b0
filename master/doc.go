// Package master is the JobManager: the Dispatcher (REST, submission), the
// ResourceManager (slots; embedded, standalone and YARN drivers) and one JobMaster
// per job (ExecutionGraph, scheduling, failover, checkpoints). Its parts live in
// the subpackages; this package holds nothing yet but the map:
//
//	master/dispatcher  REST API and web UI (not built yet)
//	master/resource    slot pool and drivers
//	master/jobmaster   ExecutionGraph, deployment, job result
//	master/checkpoint  checkpoint coordinator (a pure core; the shell that drives it is not wired yet)
package master
