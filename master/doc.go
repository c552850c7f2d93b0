// Package master is the JobManager: the Dispatcher (REST, submission), the
// ResourceManager (slots; embedded, standalone and YARN drivers) and one JobMaster
// per job (ExecutionGraph, scheduling, failover, checkpoints). Its parts live in
// the subpackages; this package holds nothing yet but the map:
//
//	master/dispatcher  the REST API with Flink's paths and fields (web UI to come)
//	master/resource    the ResourceManager core (a step function) and the embedded driver
//	master/jobmaster   ExecutionGraph, deployment through TaskManagerGateways, failover, job result
//	master/checkpoint  the checkpoint coordinator (a pure core), storage, leases, resume
package master
