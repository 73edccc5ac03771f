package store

import (
	"context"
	"fmt"
	"time"

	"portal/geo"
)

// Flush is what one FlushLastActive writes, in one transaction.
type Flush struct {
	// LastActive is the sessions whose last-active time, network or
	// browser requests moved (Tracked.Seen, Tracked.MergeInto).
	LastActive map[TokenHash]*Tracked
	// Expired is sessions a request found expired with nothing recorded.
	Expired []TokenHash
	// Failures is failed and refused sign-ins, grouped.
	Failures []*FailureGroup
	Now      time.Time
}

// PendingLastActive is how many sessions wait for the next flush.
func (c *Core) PendingLastActive() int { return c.pending.Len() }

// FlushLastActive writes queued last-active times, networks and browsers,
// expiries and failed sign-ins in one transaction, and reports how many
// sessions it updated. A session revoked or deleted meanwhile is not
// written, so a request in flight during a revoke cannot bring it back.
// On failure everything is queued again for the next try.
func (c *Core) FlushLastActive() (int, error) {
	f := Flush{LastActive: c.pending.Take(), Expired: c.expired.Take(), Failures: c.failures.Take()}
	if len(f.LastActive)+len(f.Expired)+len(f.Failures) == 0 {
		return 0, nil
	}
	for _, e := range f.LastActive {
		e.Flushing()
	}
	f.Now = c.now()
	n, err := c.db.WriteFlush(f)
	if err != nil {
		c.pending.PutBack(f.LastActive)
		c.expired.Add(f.Expired...)
		c.failures.PutBack(f.Failures)
		return 0, fmt.Errorf("store: flush last-active of %d sessions: %w", len(f.LastActive), err)
	}
	return n, nil
}

// Sweep deletes sessions that ended more than retention ago, batch at a
// time, and reports how many it deleted; see SweepContext.
func (c *Core) Sweep(retention time.Duration, batch int) (int, error) {
	return c.SweepContext(context.Background(), retention, batch)
}

// SweepContext is Sweep that stops between batches when ctx is done, so a
// shutdown never waits for a long sweep.
func (c *Core) SweepContext(ctx context.Context, retention time.Duration, batch int) (int, error) {
	if batch <= 0 {
		batch = 500
	}
	return c.db.SweepEnded(ctx, retention, batch)
}

// RecordSignInFailure notes a failed sign-in for an existing user from
// place (throttled: refused before the password was checked). Attempts
// from one network in one 5-minute window become one event with a count,
// across flushes and instances, so a guesser cannot grow the log without
// bound. It is written with the next last-active flush.
func (c *Core) RecordSignInFailure(userID string, place geo.Place, throttled bool) {
	kind := EventSignInFailed
	if throttled {
		kind = EventSignInThrottled
	}
	c.failures.add(userID, place, kind, c.nowUTC())
}
