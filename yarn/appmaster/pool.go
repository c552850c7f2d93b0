package appmaster

import (
	"fmt"
	"sort"
)

// Pool is the ApplicationMaster's container bookkeeping as a step function,
// in the style of master/resource.Manager: the JobManager asks for slots,
// YARN allocates and completes containers, TaskManagers register; every
// input returns the commands the shell carries out. It does no I/O and is
// not safe for concurrent use.
//
// A container is asked (pending), then allocated and launched (starting),
// then its TaskManager registers (running). Only pending and starting
// containers count against a StartTaskManagers: the slots of running ones
// are already in the core's free count, or lost with them.
type Pool struct {
	slotsPerTM int
	// maxStartFailures bounds the containers that end before their
	// TaskManager registers: past it the pool gives up (no endless retry).
	maxStartFailures int
	pending          int
	starting         map[string]bool
	running          map[string]bool
	startFailures    int
	gaveUp           bool
}

// Commands of the Pool.
type (
	// Ask sets YARN's outstanding request to Total containers (asks are
	// totals, not increments).
	Ask struct{ Total int }
	// Launch starts the TaskManager in an allocated container.
	Launch struct{ Container string }
	// Release gives back a container nobody needs.
	Release struct{ Container string }
	// Lose tells the JobManager that the TaskManager named Name is gone, so
	// that its job fails over at once; the restart asks for a replacement.
	Lose struct{ Name, Reason string }
	// GiveUp: containers keep failing before their TaskManager registers;
	// the application must fail with Reason.
	GiveUp struct{ Reason string }
)

// Command is one of the commands above.
type Command any

// NewPool returns a pool of TaskManagers with slotsPerTM slots each, which
// gives up after maxStartFailures containers ended before registering.
func NewPool(slotsPerTM, maxStartFailures int) *Pool {
	return &Pool{slotsPerTM: max(1, slotsPerTM), maxStartFailures: maxStartFailures, starting: map[string]bool{}, running: map[string]bool{}}
}

// StartTaskManagers asks for the containers that slots more slots need,
// less those already asked for or starting.
func (p *Pool) StartTaskManagers(slots int) []Command {
	if p.gaveUp || slots <= 0 {
		return nil
	}
	want := (slots+p.slotsPerTM-1)/p.slotsPerTM - p.pending - len(p.starting)
	if want <= 0 {
		return nil
	}
	p.pending += want
	return []Command{Ask{Total: p.pending}}
}

// Allocated takes YARN's newly allocated containers: launched while asked
// for, released beyond that (YARN may over-allocate when an ask changed
// under an allocation).
func (p *Pool) Allocated(ids ...string) []Command {
	var out []Command
	for _, id := range ids {
		if p.pending == 0 || p.gaveUp {
			out = append(out, Release{Container: id})
			continue
		}
		p.pending--
		p.starting[id] = true
		out = append(out, Launch{Container: id})
	}
	return out
}

// Registered marks the container whose TaskManager registered (its name is
// the container id).
func (p *Pool) Registered(name string) {
	if p.starting[name] {
		delete(p.starting, name)
		p.running[name] = true
		p.startFailures = 0
	}
}

// Completed takes a container YARN reports completed (or that could not be
// started): a running one is lost to the JobManager; a starting one is
// replaced, up to maxStartFailures in a row.
func (p *Pool) Completed(id, reason string) []Command {
	switch {
	case p.running[id]:
		delete(p.running, id)
		return []Command{Lose{Name: id, Reason: reason}}
	case p.starting[id]:
		delete(p.starting, id)
		p.startFailures++
		if p.startFailures > p.maxStartFailures {
			p.gaveUp = true
			p.pending = 0
			return []Command{Ask{Total: 0}, GiveUp{Reason: fmt.Sprintf("%d TaskManager containers in a row ended before they registered; the last: %s", p.startFailures, reason)}}
		}
		p.pending++
		return []Command{Ask{Total: p.pending}}
	}
	return nil
}

// Remove gives back the container id, whose TaskManager the JobManager no
// longer needs (idle for resourcemanager.taskmanager-timeout): it is
// released, and its completion is no loss.
func (p *Pool) Remove(id string) []Command {
	if !p.running[id] && !p.starting[id] {
		return nil
	}
	delete(p.running, id)
	delete(p.starting, id)
	return []Command{Release{Container: id}}
}

// Containers lists the containers launched and not completed, sorted.
func (p *Pool) Containers() []string {
	var out []string
	for id := range p.starting {
		out = append(out, id)
	}
	for id := range p.running {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Pending is the number of containers asked for and not yet allocated.
func (p *Pool) Pending() int { return p.pending }

// Container exit statuses YARN reports (ContainerExitStatus).
const (
	exitAborted            = -100
	exitDisksFailed        = -101
	exitPreempted          = -102
	exitKilledExceededVMem = -103
	exitKilledExceededPMem = -104
	exitKilledByAppMaster  = -105
	exitKilledByRM         = -106
	exitKilledAfterAppDone = -107
)

// DescribeExit says why a container ended, from its exit status and YARN's
// diagnostics.
func DescribeExit(status int32, diagnostics string) string {
	var what string
	switch status {
	case 0:
		what = "exited with status 0"
	case exitKilledExceededPMem, exitKilledExceededVMem:
		what = "killed by YARN for exceeding memory limits (raise taskmanager.memory.process.size)"
	case exitPreempted:
		what = "preempted by YARN"
	case exitAborted:
		what = "aborted by YARN (released, or its node was lost)"
	case exitDisksFailed:
		what = "lost to failed disks on its node"
	case exitKilledByAppMaster:
		what = "killed by the ApplicationMaster"
	case exitKilledByRM:
		what = "killed by the ResourceManager"
	case exitKilledAfterAppDone:
		what = "killed after the application completed"
	default:
		what = fmt.Sprintf("exited with status %d", status)
	}
	if diagnostics != "" {
		return what + ": " + diagnostics
	}
	return what
}
