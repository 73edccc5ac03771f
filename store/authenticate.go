package store

import (
	"fmt"

	"portal/device"
	"portal/geo"
)

// Authenticate returns the live session for token and its user. It returns
// ErrNotFound for an unknown token and *EndedError for a revoked or expired
// one, and any other error when the database cannot be asked (never a
// session it could not check). It records the use in memory only;
// FlushLastActive writes it out. The user is cached with the session: every
// change to a user drops all of that user's sessions from the cache, so
// the next request reads both afresh.
func (c *Core) Authenticate(token string) (Session, User, error) {
	return c.authenticate(token, true)
}

// Peek is Authenticate without recording the use: it answers whether the
// session for token is live, and whose it is, but does not move its
// last-active time. A live-updates stream checks its session with it, so
// that a page left open does not keep the session alive.
func (c *Core) Peek(token string) (Session, User, error) {
	return c.authenticate(token, false)
}

func (c *Core) authenticate(token string, touch bool) (Session, User, error) {
	e, sess, err := c.validate(token, touch)
	if err != nil {
		return Session{}, User{}, err
	}
	if u, ok := e.User(); ok {
		return sess, u, nil
	}
	u, err := c.db.UserByID(sess.UserID)
	if err != nil {
		return Session{}, User{}, fmt.Errorf("store: user of session %s: %w", sess.ID, err)
	}
	e.SetUser(u)
	return sess, u, nil
}

func (c *Core) validate(token string, touch bool) (*Tracked, Session, error) {
	if len(token) != tokenLen {
		return nil, Session{}, ErrNotFound
	}
	h := HashToken(token)
	e, err := c.cache.load(h, func() (*Tracked, error) {
		x, u, err := c.db.SessionByHash(h)
		if err != nil {
			return nil, err
		}
		// An entry evicted from the cache before what it saw was
		// flushed still has it queued; without it the stored
		// last-active could make a busy session look idle.
		x.Hash = h
		c.MergeUnflushed(&x)
		e := NewTracked(x)
		if u.ID != "" {
			e.SetUser(u)
		}
		return e, nil
	})
	if err != nil {
		return nil, Session{}, err
	}
	now := c.now()
	sess := e.Snapshot()
	if ended, reason := sess.Ended(now, c.policy); ended {
		if sess.EndedAt.IsZero() {
			c.expired.Add(h) // recorded, dated when it expired, at the next flush
		}
		c.cache.forget(h)
		return nil, Session{}, &EndedError{Reason: reason}
	}
	if touch && e.Touch(now) {
		c.pending.Add(h, e)
	}
	return e, sess, nil
}

// SeenFrom records that the session for token was just used from place (a
// different network than before). Like last-active, it is written by the
// next FlushLastActive, so no request waits for the disk.
func (c *Core) SeenFrom(token string, place geo.Place) {
	c.observe(token, func(e *Tracked) { e.SeenFrom(place) })
}

// Agent is the browser a session is using: its user agent as stored and
// what was parsed from it.
type Agent struct {
	UserAgent string
	Device    device.Info
}

// SeenWith records that the session for token now sends a different user
// agent (a browser update); written by the next FlushLastActive.
func (c *Core) SeenWith(token string, a Agent) {
	c.observe(token, func(e *Tracked) { e.SeenWith(a) })
}

func (c *Core) observe(token string, set func(*Tracked)) {
	h := HashToken(token)
	e := c.cache.peek(h)
	if e == nil {
		// Not cached (evicted, or the cache is not trusted now): the
		// entry the last validation queued carries it.
		e = c.pending.Get(h)
	}
	if e != nil {
		set(e)
		c.pending.Add(h, e)
	}
}
