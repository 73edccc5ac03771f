package postgres

import (
	"fmt"

	"portal/geo"
	"portal/store"
)

// Authenticate returns the live session for token and its user. It
// returns store.ErrNotFound for an unknown token and *store.EndedError for
// a revoked or expired one, and any other error when PostgreSQL cannot be
// asked (never a session it could not check). It records the activity in
// memory only; FlushActivity writes it out. On a cache hit no query is
// made; a miss reads the session and its user in one query.
func (s *Store) Authenticate(token string) (store.Session, store.User, error) {
	return s.authenticate(token, true)
}

// Peek is Authenticate without the activity: it answers whether the
// session for token is live, and whose it is, but does not move its
// last-active time. A live-updates stream checks its session with it, so
// that a page left open does not keep the session alive.
func (s *Store) Peek(token string) (store.Session, store.User, error) {
	return s.authenticate(token, false)
}

func (s *Store) authenticate(token string, touch bool) (store.Session, store.User, error) {
	e, sess, err := s.validate(token, touch)
	if err != nil {
		return store.Session{}, store.User{}, err
	}
	u, ok := e.User()
	if !ok { // every load reads the user with the session
		return store.Session{}, store.User{}, fmt.Errorf("store: session %s was kept without its user", sess.ID)
	}
	return sess, u, nil
}

func (s *Store) validate(token string, touch bool) (*store.Tracked, store.Session, error) {
	if len(token) != tokenLen {
		return nil, store.Session{}, store.ErrNotFound
	}
	h := store.HashToken(token)
	e, err := s.cache.load(h, func() (sessionRow, error) { return s.fetchSession(h) })
	if err != nil {
		return nil, store.Session{}, err
	}
	now := s.now()
	sess := e.Snapshot()
	if ended, reason := sess.Ended(now, s.opts.Policy); ended {
		if sess.RevokedAt.IsZero() {
			s.expired.Add(h) // recorded, dated when it expired, at the next flush
		}
		s.cache.forget(h)
		return nil, store.Session{}, &store.EndedError{Reason: reason}
	}
	if touch && e.Touch(now) {
		s.activity.Add(h, e)
	}
	return e, sess, nil
}

// fetchSession reads the session under h with its user, and this
// instance's activity not yet flushed.
func (s *Store) fetchSession(h store.TokenHash) (sessionRow, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	var x sessionScan
	var u userScan
	err := s.pool.QueryRow(ctx, "SELECT "+sessionCols+", "+userCols+" FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
		h[:]).Scan(append(x.dests(), u.dests()...)...)
	if err != nil {
		if err = notFound(err); err != store.ErrNotFound {
			err = fmt.Errorf("store: read a session: %w", err)
		}
		return sessionRow{}, err
	}
	r := x.row()
	// An entry evicted before its activity was flushed still has it
	// queued; without it the stored last-active could make a busy
	// session look idle.
	s.mergeActivity(&r)
	r.user = u.user()
	return r, nil
}

// SeenFrom records that the session for token was just used from place;
// written by the next FlushActivity.
func (s *Store) SeenFrom(token string, place geo.Place) {
	s.observe(token, func(e *store.Tracked) { e.SeenFrom(place) })
}

// SeenWith records that the session for token now sends a different user
// agent; written by the next FlushActivity.
func (s *Store) SeenWith(token string, a store.Agent) {
	s.observe(token, func(e *store.Tracked) { e.SeenWith(a) })
}

func (s *Store) observe(token string, set func(*store.Tracked)) {
	h := store.HashToken(token)
	e := s.cache.peek(h)
	if e == nil {
		// Not cached (the cache is not trusted now): the entry the last
		// validation queued carries it.
		e = s.activity.Get(h)
	}
	if e != nil {
		set(e)
		s.activity.Add(h, e)
	}
}
