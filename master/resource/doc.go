// Package resource is the ResourceManager's bookkeeping: TaskManagers, their
// slots, and which slots a job holds.
//
// With slot sharing a slot holds one subtask of every chain of a job, so a job
// needs as many slots as its highest chain parallelism, and subtask i of every
// chain runs in the job's i-th slot. SlotPool is a pure data structure: it never
// starts a process. The embedded driver backs its TaskManagers with goroutines in
// this process; standalone and YARN drivers come later.
package resource
