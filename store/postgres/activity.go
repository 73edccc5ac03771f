package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"portal/store"
)

// activity queues sessions whose last-active time, network or browser
// changed since the last flush, as in the bbolt store (store/activity.go):
// requests only touch memory, and FlushActivity writes the queue with one
// UPDATE.
type activity struct {
	mu      sync.Mutex
	pending map[store.TokenHash]*cachedSession
}

func newActivity() *activity {
	return &activity{pending: make(map[store.TokenHash]*cachedSession)}
}

func (a *activity) add(h store.TokenHash, e *cachedSession) {
	a.mu.Lock()
	if old := a.pending[h]; old != nil && old != e {
		// The session was loaded again as e (evicted, or read through
		// while the cache was not trusted): e takes over what old saw
		// and e has not.
		e.place.CompareAndSwap(nil, old.place.Load())
		e.agent.CompareAndSwap(nil, old.agent.Load())
	}
	a.pending[h] = e
	a.mu.Unlock()
}

func (a *activity) get(h store.TokenHash) *cachedSession {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pending[h]
}

func (a *activity) take() map[store.TokenHash]*cachedSession {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.pending
	a.pending = make(map[store.TokenHash]*cachedSession, len(p))
	return p
}

// putBack re-queues entries after a failed flush, keeping newer ones.
func (a *activity) putBack(p map[store.TokenHash]*cachedSession) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for h, e := range p {
		if _, ok := a.pending[h]; !ok {
			a.pending[h] = e
		}
	}
}

// PendingActivity is how many sessions wait for the next flush.
func (s *Store) PendingActivity() int {
	s.activity.mu.Lock()
	defer s.activity.mu.Unlock()
	return len(s.activity.pending)
}

// FlushActivity writes queued last-active times, networks and browsers
// with one UPDATE, and records queued expiries and failed sign-ins, in
// one transaction, and
// reports how many sessions it updated. The later last-active time wins,
// so two instances flushing the same session keep the later of theirs;
// a session revoked or deleted meanwhile is not written, so a request in
// flight during a revoke cannot bring it back. On failure the queue is
// kept for the next try.
func (s *Store) FlushActivity() (int, error) {
	pending := s.activity.take()
	expired := s.expired.Take()
	failures := s.failures.Take()
	if len(pending)+len(expired)+len(failures) == 0 {
		return 0, nil
	}
	for _, e := range pending {
		e.dirty.Store(false) // a touch after this re-queues the entry
	}
	var n int64
	err := s.write(func(ctx context.Context, tx pgx.Tx, fx *effects) error {
		var err error
		if n, err = flushTx(ctx, tx, pending); err != nil {
			return err
		}
		for _, e := range pending { // their lists show other times now
			fx.users = append(fx.users, e.sess.UserID)
		}
		if err := s.recordExpiriesTx(ctx, tx, fx, expired); err != nil {
			return err
		}
		return recordFailuresTx(ctx, tx, fx, failures)
	})
	if err != nil {
		s.activity.putBack(pending)
		s.expired.Add(expired...)
		s.failures.PutBack(failures)
		return 0, fmt.Errorf("store: flush last-active of %d sessions: %w", len(pending), err)
	}
	return int(n), nil
}

// flushTx is FlushActivity's one UPDATE.
func flushTx(ctx context.Context, tx pgx.Tx, pending map[store.TokenHash]*cachedSession) (int64, error) {
	if len(pending) == 0 {
		return 0, nil
	}
	var (
		hashes               [][]byte
		las                  []time.Time
		places, uas, devices []*string
		jsonOf               = func(v any) *string { b, _ := json.Marshal(v); s := string(b); return &s }
	)
	for h, e := range pending {
		hashes = append(hashes, h[:])
		las = append(las, time.Unix(0, e.lastActive.Load()).UTC())
		var place, ua, dev *string
		if p := e.place.Load(); p != nil {
			place = jsonOf(*p)
		}
		if a := e.agent.Load(); a != nil {
			ua, dev = &a.UserAgent, jsonOf(a.Device)
		}
		places, uas, devices = append(places, place), append(uas, ua), append(devices, dev)
	}
	tag, err := tx.Exec(ctx, `UPDATE sessions s SET
			last_active = GREATEST(s.last_active, v.la),
			last_place = coalesce(v.place::jsonb, s.last_place),
			user_agent = coalesce(v.ua, s.user_agent),
			device = coalesce(v.dev::jsonb, s.device)
		FROM unnest($1::bytea[], $2::timestamptz[], $3::text[], $4::text[], $5::text[]) AS v(h, la, place, ua, dev)
		WHERE s.token_hash = v.h AND s.revoked_at IS NULL
			AND (v.la > s.last_active
				OR (v.place IS NOT NULL AND v.place::jsonb <> s.last_place)
				OR (v.ua IS NOT NULL AND (v.ua <> s.user_agent OR v.dev::jsonb <> s.device)))`,
		hashes, las, places, uas, devices)
	return tag.RowsAffected(), err
}

// recordExpiriesTx closes the sessions under hashes that have expired
// without a record, each dated when it expired, not when it was noticed.
func (s *Store) recordExpiriesTx(ctx context.Context, tx pgx.Tx, fx *effects, expired []store.TokenHash) error {
	if len(expired) == 0 {
		return nil
	}
	hashes := make([][]byte, len(expired))
	for i := range expired {
		hashes[i] = expired[i][:]
	}
	list, err := querySessions(ctx, tx, "SELECT "+sessionCols+" FROM sessions s WHERE s.token_hash = ANY($1) AND s.revoked_at IS NULL ORDER BY s.id FOR UPDATE", hashes)
	if err != nil {
		return err
	}
	return closeTx(ctx, tx, fx, s.expiries(list, s.now()), false)
}

// expiries are the ends of the sessions in list that have expired at now
// (counting this instance's unflushed activity), each with its reason and
// the time it expired, naming no one.
func (s *Store) expiries(list []sessionRow, now time.Time) []ending {
	var ends []ending
	for _, x := range list {
		s.mergeActivity(&x)
		if ended, reason := x.Ended(now, s.opts.Policy); ended {
			x.RevokedAt, x.RevokeReason = endedAt(x.Session, now, s.opts.Policy).Truncate(time.Microsecond), reason
			ends = append(ends, ending{x, store.Actor{}})
		}
	}
	return ends
}

// mergeActivity brings x up to date with this instance's activity not
// yet flushed.
func (s *Store) mergeActivity(x *sessionRow) {
	e := s.cache.peek(x.hash)
	if e == nil {
		e = s.activity.get(x.hash)
	}
	if e == nil {
		return
	}
	if la := time.Unix(0, e.lastActive.Load()).UTC(); la.After(x.LastActive) {
		x.LastActive = la
	}
	if p := e.place.Load(); p != nil && x.RevokedAt.IsZero() {
		x.LastPlace = *p
	}
	if a := e.agent.Load(); a != nil && x.RevokedAt.IsZero() {
		x.UserAgent, x.Device = a.UserAgent, a.Device
	}
}
