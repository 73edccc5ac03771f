package store

import (
	"fmt"

	"portal/device"
	"portal/geo"

	bolt "go.etcd.io/bbolt"
)

// Authenticate returns the live session for token and its user. It returns
// ErrNotFound for an unknown token and *EndedError for a revoked or expired
// one. It records the activity in memory only; FlushActivity writes it
// out. The user is cached with the session: every change to a user drops
// all of that user's sessions from the cache, so the next request reads
// both afresh.
func (s *Store) Authenticate(token string) (Session, User, error) {
	return s.authenticate(token, true)
}

// Peek is Authenticate without the activity: it answers whether the
// session for token is live, and whose it is, but does not move its
// last-active time. A live-updates stream checks its session with it, so
// that a page left open does not keep the session alive.
func (s *Store) Peek(token string) (Session, User, error) {
	return s.authenticate(token, false)
}

func (s *Store) authenticate(token string, touch bool) (Session, User, error) {
	e, sess, err := s.validate(token, touch)
	if err != nil {
		return Session{}, User{}, err
	}
	if u, ok := e.User(); ok {
		return sess, u, nil
	}
	u, err := s.UserByID(sess.UserID)
	if err != nil {
		return Session{}, User{}, fmt.Errorf("store: user of session %s: %w", sess.ID, err)
	}
	e.SetUser(u)
	return sess, u, nil
}

func (s *Store) validate(token string, touch bool) (*Tracked, Session, error) {
	if len(token) != tokenLen {
		return nil, Session{}, ErrNotFound
	}
	h := HashToken(token)
	e, err := s.cache.load(h, func() (Session, error) {
		x, err := s.sessionByHash(h)
		if err == nil {
			// An entry evicted from the cache before its activity was
			// flushed still has it queued; without it the stored
			// last-active could make a busy session look idle.
			s.mergeActivity(&x)
		}
		return x, err
	})
	if err != nil {
		return nil, Session{}, err
	}
	now := s.now()
	sess := e.Snapshot()
	if ended, reason := sess.Ended(now, s.opts.Policy); ended {
		if sess.RevokedAt.IsZero() {
			s.expired.Add(h) // recorded, dated when it expired, at the next flush
		}
		s.cache.forget(h)
		return nil, Session{}, &EndedError{Reason: reason}
	}
	if touch && e.Touch(now) {
		s.activity.Add(h, e)
	}
	return e, sess, nil
}

// SeenFrom records that the session for token was just used from place (a
// different network than before). Like last-active, it is written by the
// next FlushActivity, so no request waits for the disk.
func (s *Store) SeenFrom(token string, place geo.Place) {
	s.observe(token, func(e *Tracked) { e.SeenFrom(place) })
}

// Agent is the browser a session is using: its user agent as stored and
// what was parsed from it.
type Agent struct {
	UserAgent string
	Device    device.Info
}

// SeenWith records that the session for token now sends a different user
// agent (a browser update); written by the next FlushActivity.
func (s *Store) SeenWith(token string, a Agent) {
	s.observe(token, func(e *Tracked) { e.SeenWith(a) })
}

func (s *Store) observe(token string, set func(*Tracked)) {
	h := HashToken(token)
	if e := s.cache.peek(h); e != nil {
		set(e)
		s.activity.Add(h, e)
	}
}

func (s *Store) sessionByHash(h TokenHash) (Session, error) {
	var sess Session
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		sess, err = loadSession(getSessionsBucket(tx), h)
		return err
	})
	return sess, err
}
