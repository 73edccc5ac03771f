package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TokenHash is SHA-256 of a session token: the only form of a token at rest.
type TokenHash [32]byte

// tokenLen is the length of a token: 32 random bytes, base64url, no padding.
const tokenLen = 43

// HashToken returns the key a token's session is stored under.
func HashToken(token string) TokenHash { return sha256.Sum256([]byte(token)) }

func newToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ErrUserDisabled is returned when a disabled user tries to start a session.
var ErrUserDisabled = errors.New("store: user is disabled")

// NewSession describes a sign-in. Zero times mean now.
type NewSession struct {
	UserAgent  string
	Device     Device
	Place      Place
	CreatedAt  time.Time
	LastActive time.Time
}

// CreateSession starts a session for userID and returns it with its token,
// which is shown to no one but the browser's cookie. If the user is at the
// session cap, their least recently active sessions are ended first, in the
// same transaction.
func (s *Store) CreateSession(userID string, in NewSession) (Session, string, error) {
	out, tokens, err := s.CreateSessions([]SessionFor{{UserID: userID, NewSession: in}})
	if err != nil {
		return Session{}, "", err
	}
	return out[0], tokens[0], nil
}

// SessionFor is one sign-in for CreateSessions.
type SessionFor struct {
	UserID string
	NewSession
}

// CreateSessions starts many sessions in one transaction (for seeding and
// imports); all or none are created. Tokens come back in the same order.
func (s *Store) CreateSessions(batch []SessionFor) ([]Session, []string, error) {
	now := s.now().UTC()
	out := make([]Session, len(batch))
	tokens := make([]string, len(batch))
	for i, b := range batch {
		tokens[i] = newToken()
		out[i] = newSession(b.UserID, b.NewSession, tokens[i], now)
	}
	var capped []TokenHash
	err := s.update(func(tx *bolt.Tx) error {
		capped = capped[:0]
		for _, sess := range out {
			c, err := s.createSessionTx(tx, sess, now)
			if err != nil {
				return fmt.Errorf("session for user %s: %w", sess.UserID, err)
			}
			capped = append(capped, c...)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: create sessions: %w", err)
	}
	s.cache.forget(capped...)
	return out, tokens, nil
}

func newSession(userID string, in NewSession, token string, now time.Time) Session {
	sess := Session{
		ID: newID(), UserID: userID, CreatedAt: in.CreatedAt, LastActive: in.LastActive,
		UserAgent: in.UserAgent, Device: in.Device, FirstPlace: in.Place, LastPlace: in.Place,
		hash: HashToken(token),
	}
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = now
	}
	if sess.LastActive.IsZero() {
		sess.LastActive = sess.CreatedAt
	}
	return sess
}

// createSessionTx writes one session and its index entries, ending the
// user's oldest sessions first if they are at the cap.
func (s *Store) createSessionTx(tx *bolt.Tx, sess Session, now time.Time) ([]TokenHash, error) {
	var u User
	if err := get(getUsersBucket(tx), []byte(sess.UserID), &u); err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, ErrUserDisabled
	}
	set, err := createSessionSetBucket(tx, sess.UserID)
	if err != nil {
		return nil, err
	}
	capped, err := s.enforceCapTx(tx, set, now)
	if err != nil {
		return nil, err
	}
	if err := putSession(tx, sess); err != nil {
		return nil, err
	}
	if err := getSessionsByIDBucket(tx).Put([]byte(sess.ID), sess.hash[:]); err != nil {
		return nil, err
	}
	return capped, set.Put([]byte(sess.ID), nil)
}

// enforceCapTx ends the least recently active live sessions in set so that
// one more fits under MaxSessionsPerUser.
func (s *Store) enforceCapTx(tx *bolt.Tx, set *bolt.Bucket, now time.Time) ([]TokenHash, error) {
	limit := s.opts.MaxSessionsPerUser
	if limit <= 0 {
		return nil, nil
	}
	all, err := sessionsInSetTx(tx, set, nil)
	if err != nil {
		return nil, err
	}
	// Judge liveness with the activity not yet flushed: a session whose
	// stored last-active looks idle may have been used a moment ago.
	var live []Session
	for _, x := range all {
		s.mergeActivity(&x)
		if ended, _ := x.Ended(now, s.opts.Policy); !ended {
			live = append(live, x)
		}
	}
	if len(live) < limit {
		return nil, nil
	}
	sort.Slice(live, func(i, j int) bool { return live[i].LastActive.Before(live[j].LastActive) })
	var ended []TokenHash
	for _, x := range live[:len(live)-limit+1] {
		if err := revokeTx(tx, x, ReasonSessionLimit, now); err != nil {
			return nil, err
		}
		ended = append(ended, x.hash)
	}
	return ended, nil
}

// Validate returns the live session for token. It returns ErrNotFound for
// an unknown token and *EndedError for a revoked or expired one. It records
// the activity in memory only; FlushActivity writes it out.
func (s *Store) Validate(token string) (Session, error) {
	_, sess, err := s.validate(token)
	return sess, err
}

// Authenticate is Validate that also returns the session's user. The user
// is cached with the session: every change to a user drops all of that
// user's sessions from the cache, so the next request reads both afresh.
func (s *Store) Authenticate(token string) (Session, User, error) {
	e, sess, err := s.validate(token)
	if err != nil {
		return Session{}, User{}, err
	}
	if u := e.user.Load(); u != nil {
		return sess, *u, nil
	}
	u, err := s.UserByID(sess.UserID)
	if err != nil {
		return Session{}, User{}, fmt.Errorf("store: user of session %s: %w", sess.ID, err)
	}
	e.user.Store(&u)
	return sess, u, nil
}

func (s *Store) validate(token string) (*cachedSession, Session, error) {
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
	sess := e.snapshot()
	if ended, reason := sess.Ended(now, s.opts.Policy); ended {
		s.cache.forget(h)
		return nil, Session{}, &EndedError{Reason: reason}
	}
	if e.touch(now) {
		s.activity.add(h, e)
	}
	return e, sess, nil
}

// SeenFrom records that the session for token was just used from place (a
// different network than before). Like last-active, it is written by the
// next FlushActivity, so no request waits for the disk.
func (s *Store) SeenFrom(token string, place Place) {
	s.observe(token, func(e *cachedSession) { e.place.Store(&place) })
}

// Agent is the browser a session is using: its user agent as stored and
// what was parsed from it.
type Agent struct {
	UserAgent string
	Device    Device
}

// SeenWith records that the session for token now sends a different user
// agent (a browser update); written by the next FlushActivity.
func (s *Store) SeenWith(token string, a Agent) {
	s.observe(token, func(e *cachedSession) { e.agent.Store(&a) })
}

func (s *Store) observe(token string, set func(*cachedSession)) {
	h := HashToken(token)
	if e := s.cache.peek(h); e != nil {
		set(e)
		e.dirty.Store(true)
		s.activity.add(h, e)
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

// ListUserSessions returns the user's live sessions, most recently active
// first.
func (s *Store) ListUserSessions(userID string) ([]Session, error) {
	now := s.now()
	gen := s.lists.generation()
	out, ok := s.lists.get(userID, gen)
	if !ok {
		err := s.db.View(func(tx *bolt.Tx) error {
			set := getSessionSetBucket(tx, userID)
			if set == nil {
				return nil
			}
			var err error
			out, err = sessionsInSetTx(tx, set, nil)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("store: list sessions of user %s: %w", userID, err)
		}
		s.lists.put(userID, gen, out)
	}
	live := make([]Session, 0, len(out))
	for _, x := range out {
		s.mergeActivity(&x)
		if ended, _ := x.Ended(now, s.opts.Policy); !ended {
			live = append(live, x)
		}
	}
	sort.SliceStable(live, func(i, j int) bool { return live[i].LastActive.After(live[j].LastActive) })
	return live, nil
}

// UserSession returns one of the user's sessions in whatever state it is,
// or ErrNotFound if it is not theirs.
func (s *Store) UserSession(userID, sessionID string) (Session, error) {
	var sess Session
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		sess, err = userSessionTx(tx, userID, sessionID)
		return err
	})
	if err == nil {
		s.mergeActivity(&sess)
	}
	return sess, err
}

// RevokeUserSession ends one of the user's sessions, committed before it
// returns. A session that is not the user's gives ErrNotFound and changes
// nothing; one already ended keeps its own reason.
func (s *Store) RevokeUserSession(userID, sessionID string, reason Reason) (Session, error) {
	now := s.now().UTC()
	var sess Session
	err := s.update(func(tx *bolt.Tx) error {
		var err error
		if sess, err = userSessionTx(tx, userID, sessionID); err != nil {
			return err
		}
		if !sess.RevokedAt.IsZero() {
			return nil
		}
		_, err = s.endTx(tx, &sess, reason, now)
		return err
	})
	if err != nil {
		return Session{}, fmt.Errorf("store: revoke session %s: %w", sessionID, err)
	}
	s.cache.forget(sess.hash)
	return sess, nil
}

// RevokeOtherSessions ends every live session of the user except keepID, in
// one transaction, and reports how many it ended.
func (s *Store) RevokeOtherSessions(userID, keepID string, reason Reason) (int, error) {
	return s.revokeMany(userID, keepID, reason)
}

// RevokeAllUserSessions ends every live session of the user ("sign out
// everywhere").
func (s *Store) RevokeAllUserSessions(userID string, reason Reason) (int, error) {
	return s.revokeMany(userID, "", reason)
}

func (s *Store) revokeMany(userID, keepID string, reason Reason) (int, error) {
	var (
		n      int
		hashes []TokenHash
	)
	err := s.update(func(tx *bolt.Tx) error {
		var err error
		n, hashes, err = s.revokeUserSessionsTx(tx, userID, keepID, reason, s.now().UTC())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: revoke sessions of user %s: %w", userID, err)
	}
	s.cache.forget(hashes...)
	return n, nil
}

// revokeUserSessionsTx ends the user's live sessions other than keepID
// ("" keeps none) and reports how many. Sessions that already ended keep
// their own reason and are not counted. hashes names every record written,
// for the caller to drop from the cache once committed.
func (s *Store) revokeUserSessionsTx(tx *bolt.Tx, userID, keepID string, reason Reason, now time.Time) (n int, hashes []TokenHash, err error) {
	set := getSessionSetBucket(tx, userID)
	if set == nil {
		return 0, nil, nil
	}
	list, err := sessionsInSetTx(tx, set, func(x Session) bool { return x.ID != keepID && x.RevokedAt.IsZero() })
	if err != nil {
		return 0, nil, err
	}
	for _, x := range list {
		live, err := s.endTx(tx, &x, reason, now)
		if err != nil {
			return 0, nil, err
		}
		if live {
			n++
		}
		hashes = append(hashes, x.hash)
	}
	return n, hashes, nil
}

// endTx ends x, which has no RevokedAt yet, for reason at now, and reports
// whether it was live. One that already ended on its own (idle or lifetime)
// is closed with its own reason and end time instead, so that it keeps its
// reason and a request racing with this call cannot bring it back.
func (s *Store) endTx(tx *bolt.Tx, x *Session, reason Reason, now time.Time) (bool, error) {
	s.mergeActivity(x)
	ended, own := x.Ended(now, s.opts.Policy)
	if ended {
		x.RevokedAt, x.RevokeReason = x.endedAt(now, s.opts.Policy), own
	} else {
		x.RevokedAt, x.RevokeReason = now, reason
	}
	return !ended, putSession(tx, *x)
}

func revokeTx(tx *bolt.Tx, x Session, reason Reason, now time.Time) error {
	x.RevokedAt, x.RevokeReason = now, reason
	return putSession(tx, x)
}

// sessionsInSetTx decodes the sessions named in a user's set, keeping those
// that keep accepts (all if keep is nil).
func sessionsInSetTx(tx *bolt.Tx, set *bolt.Bucket, keep func(Session) bool) ([]Session, error) {
	byID, records := getSessionsByIDBucket(tx), getSessionsBucket(tx)
	var out []Session
	err := set.ForEach(func(id, _ []byte) error {
		h, ok := sessionHash(byID, id)
		if !ok {
			return fmt.Errorf("session %s: missing from the id index", id)
		}
		x, err := loadSession(records, h)
		if err != nil {
			return fmt.Errorf("session %s: %w", id, err)
		}
		if keep == nil || keep(x) {
			out = append(out, x)
		}
		return nil
	})
	return out, err
}

// userSessionTx loads a session only through the user's own set, so an id
// belonging to someone else is indistinguishable from one that never was.
func userSessionTx(tx *bolt.Tx, userID, sessionID string) (Session, error) {
	set := getSessionSetBucket(tx, userID)
	if set == nil || !has(set, []byte(sessionID)) {
		return Session{}, ErrNotFound
	}
	h, ok := sessionHash(getSessionsByIDBucket(tx), []byte(sessionID))
	if !ok {
		return Session{}, ErrNotFound
	}
	x, err := loadSession(getSessionsBucket(tx), h)
	if err != nil {
		return Session{}, err
	}
	return x, nil
}

// userSessionHashesTx lists the record keys of all the user's sessions.
func userSessionHashesTx(tx *bolt.Tx, userID string) []TokenHash {
	set := getSessionSetBucket(tx, userID)
	if set == nil {
		return nil
	}
	byID := getSessionsByIDBucket(tx)
	var out []TokenHash
	set.ForEach(func(id, _ []byte) error {
		if h, ok := sessionHash(byID, id); ok {
			out = append(out, h)
		}
		return nil
	})
	return out
}

// loadSession decodes the session stored under h (ErrNotFound if none),
// with h kept as its key. records is getSessionsBucket's.
func loadSession(records *bolt.Bucket, h TokenHash) (Session, error) {
	var x Session
	err := get(records, h[:], &x)
	x.hash = h
	return x, err
}

// putSession writes x under its token hash.
func putSession(tx *bolt.Tx, x Session) error {
	return put(getSessionsBucket(tx), x.hash[:], x)
}
