package store

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// PendingActivity is how many sessions wait for the next flush.
func (s *Store) PendingActivity() int {
	return s.activity.Len()
}

// FlushActivity writes queued last-active times and networks in one
// transaction and reports how many sessions it updated. It never writes a
// session that was revoked or deleted meanwhile, so a request that was in
// flight during a revoke cannot bring the session back. On failure the
// queue is kept for the next try.
func (s *Store) FlushActivity() (int, error) {
	pending := s.activity.Take()
	expired, failures := s.expired.Take(), s.failures.Take()
	if len(pending)+len(expired)+len(failures) == 0 {
		return 0, nil
	}
	for _, e := range pending {
		e.Flushing()
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
			before := x
			e.MergeInto(&x)
			if x == before {
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
		s.activity.PutBack(pending)
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
		e = s.activity.Get(x.hash)
	}
	if e != nil {
		e.MergeInto(x)
	}
}
