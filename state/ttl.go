package state

import (
	"fmt"
	"math"
	"time"
)

// TTLUpdate says which accesses restart an entry's time to live (Flink's
// StateTtlConfig.UpdateType).
type TTLUpdate uint8

const (
	// OnCreateAndWrite restarts the TTL when an entry is created or written (the default).
	OnCreateAndWrite TTLUpdate = iota
	// OnReadAndWrite also restarts it when the entry is read.
	OnReadAndWrite
)

func (u TTLUpdate) String() string {
	switch u {
	case OnCreateAndWrite:
		return "OnCreateAndWrite"
	case OnReadAndWrite:
		return "OnReadAndWrite"
	}
	return fmt.Sprintf("TTLUpdate(%d)", uint8(u))
}

// TTLVisibility says whether a read may return an entry that has expired but
// has not been cleaned up yet (Flink's StateTtlConfig.StateVisibility).
type TTLVisibility uint8

const (
	// NeverReturnExpired hides expired entries (the default).
	NeverReturnExpired TTLVisibility = iota
	// ReturnExpiredIfNotCleanedUp returns an expired entry that is still stored.
	// Cleanup is lazy, so the first read after expiry returns the entry and drops
	// it; later reads do not see it.
	ReturnExpiredIfNotCleanedUp
)

func (v TTLVisibility) String() string {
	switch v {
	case NeverReturnExpired:
		return "NeverReturnExpired"
	case ReturnExpiredIfNotCleanedUp:
		return "ReturnExpiredIfNotCleanedUp"
	}
	return fmt.Sprintf("TTLVisibility(%d)", uint8(v))
}

// TTLConfig gives keyed state a time to live in processing time, as Flink's
// StateTtlConfig does. The zero Update and Visibility are Flink's defaults.
type TTLConfig struct {
	// TTL is how long an entry lives after its last update (or read, with
	// OnReadAndWrite). It is counted in whole milliseconds, the unit of the
	// backend's clock, and must be at least 1ms.
	TTL        time.Duration
	Update     TTLUpdate
	Visibility TTLVisibility
}

func (c TTLConfig) String() string {
	return fmt.Sprintf("TTL %v (%v, %v)", c.TTL, c.Update, c.Visibility)
}

func (c TTLConfig) validate() error {
	if c.TTL < time.Millisecond {
		return fmt.Errorf("TTL must be at least 1ms, got %v", c.TTL)
	}
	if c.Update > OnReadAndWrite {
		return fmt.Errorf("TTL update type must be OnCreateAndWrite or OnReadAndWrite, got %v", c.Update)
	}
	if c.Visibility > ReturnExpiredIfNotCleanedUp {
		return fmt.Errorf("TTL visibility must be NeverReturnExpired or ReturnExpiredIfNotCleanedUp, got %v", c.Visibility)
	}
	return nil
}

// ttlPolicy is a validated TTLConfig bound to the backend's clock. A nil
// *ttlPolicy means the state has no TTL; its methods accept a nil receiver where
// noted so the hot path without TTL is one nil check.
type ttlPolicy struct {
	ttl           int64 // milliseconds, > 0
	updateOnRead  bool
	returnExpired bool
	clock         func() int64
}

func newTTLPolicy(c *TTLConfig, clock func() int64) *ttlPolicy {
	if c == nil {
		return nil
	}
	return &ttlPolicy{
		ttl:           c.TTL.Milliseconds(),
		updateOnRead:  c.Update == OnReadAndWrite,
		returnExpired: c.Visibility == ReturnExpiredIfNotCleanedUp,
		clock:         clock,
	}
}

// stamp is the timestamp to store with a write: the clock with TTL, 0 without.
func (p *ttlPolicy) stamp() int64 {
	if p == nil {
		return 0
	}
	return p.clock()
}

// expired reports whether an entry last stamped at ts has expired at now, as
// Flink's TtlUtils.expired: ts+ttl <= now, where ts+ttl saturates instead of
// overflowing.
func (p *ttlPolicy) expired(ts, now int64) bool {
	exp := int64(math.MaxInt64)
	if ts <= math.MaxInt64-p.ttl {
		exp = ts + p.ttl
	}
	return exp <= now
}

// usableByWrite reports whether a write that merges with an existing entry
// (ReducingState.Add, AggregatingState.Add) may use it. As in Flink, an expired
// entry is used only with ReturnExpiredIfNotCleanedUp: it has not been cleaned up.
func (p *ttlPolicy) usableByWrite(ts, now int64) bool {
	return p == nil || p.returnExpired || !p.expired(ts, now)
}

// stamped is a state value with the time of its last TTL-relevant access; ts is
// 0 and unused when the state has no TTL.
type stamped[V any] struct {
	v  V
	ts int64
}
