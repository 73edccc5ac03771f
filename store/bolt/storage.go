package bolt

import (
	"errors"

	bbolt "go.etcd.io/bbolt"

	"portal/store"
)

// SessionByHash reads the session stored under h and its user in one read
// transaction (Storage).
func (s *Store) SessionByHash(h store.TokenHash) (store.Session, store.User, error) {
	var (
		sess store.Session
		u    store.User
	)
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		if sess, err = loadSession(getSessionsBucket(tx), h); err != nil {
			return err
		}
		return get(getUsersBucket(tx), []byte(sess.UserID), &u)
	})
	return sess, u, err
}

// WriteFlush writes f in one transaction (Storage): last-active times,
// networks and browsers of sessions still live, the expiries, and the
// failed sign-ins.
func (s *Store) WriteFlush(f store.Flush) (int, error) {
	n := 0
	err := s.updateLastActive(func(tx *bbolt.Tx) error {
		n = 0
		records := getSessionsBucket(tx)
		for h, e := range f.LastActive {
			x, err := loadSession(records, h)
			if errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if !x.EndedAt.IsZero() {
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
		for _, h := range f.Expired {
			if err := s.recordExpiryTx(tx, h, f.Now); err != nil {
				return err
			}
		}
		return recordFailuresTx(tx, f.Failures)
	})
	return n, err
}
