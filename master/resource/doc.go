// Package resource is the ResourceManager: TaskManagers, their slots, and
// which slots a job holds.
//
// With slot sharing a slot holds one subtask of every chain of a job, so a job
// needs as many slots as its highest chain parallelism, and subtask i of every
// chain runs in the job's i-th slot.
//
// # Model
//
// Manager (manager.go) is the core, a step function in the checkpoint
// coordinator's style: inputs (RegisterTaskManager, Heartbeat,
// UnregisterTaskManager, RequestSlots, ReleaseSlots, Tick) carry the time and
// return commands for the shell:
//
//	SlotsAllocated      a request is served: slot i for subtask i
//	SlotRequestFailed   it never will be (now, or after slot.request.timeout)
//	TaskManagerLost     heartbeat.timeout passed, the TaskManager went away or
//	                    registered again; the jobs that held slots fail over
//	StartTaskManagers   an active driver (YARN) should start TaskManagers
//
// TaskManagers are numbered in registration order; a number is never reused,
// so a slot of a lost TaskManager can never be mistaken for a new one.
// Requests are served oldest first, filling TaskManagers in order.
//
// Drivers put TaskManagers in: the embedded one (SlotPool, a synchronous
// shell: a fixed set registered at once, allocations that succeed now or fail
// now), standalone (TaskManager processes register themselves) and YARN
// (containers) to come.
//
// # What this package must never do
//
// The Manager starts no process, reads no clock and does no I/O; drivers do.
package resource
