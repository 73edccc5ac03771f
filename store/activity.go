package store

import (
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// activity queues sessions whose last-active time, network or browser
// changed since the last flush. Requests only touch memory; FlushActivity
// writes the whole queue in one transaction. A crash loses at most one flush interval of
// last-active times, never a revoke.
type activity struct {
	mu      sync.Mutex
	pending map[TokenHash]*cachedSession
}

func newActivity() *activity {
	return &activity{pending: make(map[TokenHash]*cachedSession)}
}

func (a *activity) add(h TokenHash, e *cachedSession) {
	a.mu.Lock()
	if old := a.pending[h]; old != nil && old != e {
		// The cache evicted old and a request loaded the session again
		// as e. The flush writes only what the queued entry holds, so e
		// takes over what old saw and e has not (e's own are newer).
		e.place.CompareAndSwap(nil, old.place.Load())
		e.agent.CompareAndSwap(nil, old.agent.Load())
	}
	a.pending[h] = e
	a.mu.Unlock()
}

func (a *activity) get(h TokenHash) *cachedSession {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pending[h]
}

func (a *activity) take() map[TokenHash]*cachedSession {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.pending
	a.pending = make(map[TokenHash]*cachedSession, len(p))
	return p
}

// putBack re-queues entries after a failed flush, keeping any newer ones.
func (a *activity) putBack(p map[TokenHash]*cachedSession) {
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

// FlushActivity writes queued last-active times and networks in one
// transaction and reports how many sessions it updated. It never writes a
// session that was revoked or deleted meanwhile, so a request that was in
// flight during a revoke cannot bring the session back. On failure the
// queue is kept for the next try.
func (s *Store) FlushActivity() (int, error) {
	pending := s.activity.take()
	expired, failures := s.expired.Take(), s.failures.Take()
	if len(pending)+len(expired)+len(failures) == 0 {
		return 0, nil
	}
	for _, e := range pending {
		e.dirty.Store(false) // a touch after this re-queues the entry
	}
	n := 0
	err := s.updateActivity(func(tx *bolt.Tx) error {
		n = 0
		records := getSessionsBucket(tx)
		for h, e := range pending {
			x, err := loadSession(records, h)
			if errors.Is(err, ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if !x.RevokedAt.IsZero() {
				continue
			}
			changed := false
			if la := time.Unix(0, e.lastActive.Load()).UTC(); la.After(x.LastActive) {
				x.LastActive, changed = la, true
			}
			if p := e.place.Load(); p != nil && *p != x.LastPlace {
				x.LastPlace, changed = *p, true
			}
			if a := e.agent.Load(); a != nil && (a.UserAgent != x.UserAgent || a.Device != x.Device) {
				x.UserAgent, x.Device, changed = a.UserAgent, a.Device, true
			}
			if !changed {
				continue
			}
			if err := putSession(tx, x); err != nil {
				return err
			}
			n++
		}
		now := s.now()
		for _, h := range expired {
			if err := s.recordExpiryTx(tx, h, now); err != nil {
				return err
			}
		}
		return recordFailuresTx(tx, failures)
	})
	if err != nil {
		s.activity.putBack(pending)
		s.expired.Add(expired...)
		s.failures.PutBack(failures)
		return 0, fmt.Errorf("store: flush last-active of %d sessions: %w", len(pending), err)
	}
	return n, nil
}

// mergeActivity brings x up to date with activity not yet flushed.
func (s *Store) mergeActivity(x *Session) {
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
