package bolt

import (
	"fmt"
	"sort"
	"time"

	bbolt "go.etcd.io/bbolt"

	"portal/store"
)

// CreateSessions starts many sessions in one transaction (for seeding and
// imports); all or none are created. Tokens come back in the same order.
func (s *Store) CreateSessions(batch []store.SessionFor) ([]store.Session, []string, error) {
	now := s.now().UTC()
	out := make([]store.Session, len(batch))
	tokens := make([]string, len(batch))
	for i, b := range batch {
		tokens[i] = store.NewToken()
		out[i] = newSession(b.UserID, b.NewSession, tokens[i], now)
	}
	var capped []store.TokenHash
	refused := false
	err := s.signInBatch(func(tx *bbolt.Tx) error {
		capped, refused = capped[:0], false
		for i, sess := range out {
			if p := batch[i].WithPasskey; p != nil {
				back, err := usePasskeyTx(tx, p.ID, p.Use, p.Refused)
				if err != nil {
					return fmt.Errorf("passkey of user %s: %w", sess.UserID, err)
				}
				if back { // the refusal is kept, the session never made
					refused = true
					continue
				}
			}
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
	s.Forget(capped...)
	if refused {
		return nil, nil, store.ErrSignCountBack
	}
	return out, tokens, nil
}

func newSession(userID string, in store.NewSession, token string, now time.Time) store.Session {
	sess := store.Session{
		ID: store.NewID(), UserID: userID, CreatedAt: in.CreatedAt, LastActive: in.LastActive,
		UserAgent: in.UserAgent, Device: in.Device, FirstPlace: in.Place, LastPlace: in.Place,
		TimeZone: in.TimeZone, Auth: in.Auth, Passkey: in.Passkey, Hash: store.HashToken(token),
	}
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = now
	}
	if sess.LastActive.IsZero() {
		sess.LastActive = sess.CreatedAt
	}
	return sess
}

// createSessionTx writes one session and its index entries, revoking the
// user's least recently active sessions first if they are at the cap.
func (s *Store) createSessionTx(tx *bbolt.Tx, sess store.Session, now time.Time) ([]store.TokenHash, error) {
	var u store.User
	if err := get(getUsersBucket(tx), []byte(sess.UserID), &u); err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, store.ErrUserDisabled
	}
	set, err := createSessionSetBucket(tx, sess.UserID)
	if err != nil {
		return nil, err
	}
	capped, err := s.enforceCapTx(tx, set, sess.ID, now)
	if err != nil {
		return nil, err
	}
	if err := putSession(tx, sess); err != nil {
		return nil, err
	}
	signedIn := store.SignedInEvent(sess)
	if err := addEventTx(tx, sess.UserID, signedIn); err != nil {
		return nil, err
	}
	if err := getSessionsByIDBucket(tx).Put([]byte(sess.ID), sess.Hash[:]); err != nil {
		return nil, err
	}
	s.notify(tx, store.TokenHash{}, store.Change{Kind: store.SessionStarted, UserID: sess.UserID, SessionID: sess.ID})
	return capped, set.Put([]byte(sess.ID), nil)
}

// enforceCapTx revokes the least recently active live sessions in set so
// that one more, newID, fits under MaxSessionsPerUser.
func (s *Store) enforceCapTx(tx *bbolt.Tx, set *bbolt.Bucket, newID string, now time.Time) ([]store.TokenHash, error) {
	limit := s.opts.MaxSessionsPerUser
	if limit <= 0 {
		return nil, nil
	}
	all, err := sessionsInSetTx(tx, set, nil)
	if err != nil {
		return nil, err
	}
	// Judge liveness with the use not yet flushed: a session whose
	// stored last-active looks idle may have been used a moment ago.
	var live []store.Session
	for _, x := range all {
		s.MergeUnflushed(&x)
		if ended, _ := x.Ended(now, s.opts.Policy); !ended {
			live = append(live, x)
		}
	}
	if len(live) < limit {
		return nil, nil
	}
	sort.Slice(live, func(i, j int) bool { return live[i].LastActive.Before(live[j].LastActive) })
	var ended []store.TokenHash
	for _, x := range live[:len(live)-limit+1] {
		if err := s.revokeTx(tx, x, store.ReasonSessionLimit, store.Actor{Session: newID}, now); err != nil {
			return nil, err
		}
		ended = append(ended, x.Hash)
	}
	return ended, nil
}

// SessionsNotRevoked is userID's sessions that are not revoked, as
// stored (Storage).
func (s *Store) SessionsNotRevoked(userID string) ([]store.Session, error) {
	var out []store.Session
	err := s.db.View(func(tx *bbolt.Tx) error {
		set := getSessionSetBucket(tx, userID)
		if set == nil {
			return nil
		}
		var err error
		out, err = sessionsInSetTx(tx, set, func(x store.Session) bool { return x.EndedAt.IsZero() })
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: list sessions of user %s: %w", userID, err)
	}
	return out, nil
}

// UserSession returns one of the user's sessions in whatever state it is,
// or ErrNotFound if it is not theirs.
func (s *Store) UserSession(userID, sessionID string) (store.Session, error) {
	var sess store.Session
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		sess, err = userSessionTx(tx, userID, sessionID)
		return err
	})
	if err == nil {
		s.MergeUnflushed(&sess)
	}
	return sess, err
}

// SessionsEndedSince returns the user's sessions that ended (were revoked,
// or expired) after since, oldest end first: what a page rendered at since
// has not yet shown as ended.
func (s *Store) SessionsEndedSince(userID string, since time.Time) ([]store.Session, error) {
	now := s.now()
	var out []store.Session
	err := s.db.View(func(tx *bbolt.Tx) error {
		set := getSessionSetBucket(tx, userID)
		if set == nil {
			return nil
		}
		var err error
		out, err = sessionsInSetTx(tx, set, func(x store.Session) bool {
			s.MergeUnflushed(&x)
			return x.EndTime(now, s.opts.Policy).After(since)
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: sessions of user %s ended since %s: %w", userID, since.Format(time.RFC3339), err)
	}
	for i := range out {
		s.MergeUnflushed(&out[i])
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].EndTime(now, s.opts.Policy).Before(out[j].EndTime(now, s.opts.Policy))
	})
	return out, nil
}

// sessionsInSetTx decodes the sessions named in a user's set, keeping those
// that keep accepts (all if keep is nil).
func sessionsInSetTx(tx *bbolt.Tx, set *bbolt.Bucket, keep func(store.Session) bool) ([]store.Session, error) {
	byID, records := getSessionsByIDBucket(tx), getSessionsBucket(tx)
	var out []store.Session
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
func userSessionTx(tx *bbolt.Tx, userID, sessionID string) (store.Session, error) {
	set := getSessionSetBucket(tx, userID)
	if set == nil || !has(set, []byte(sessionID)) {
		return store.Session{}, store.ErrNotFound
	}
	h, ok := sessionHash(getSessionsByIDBucket(tx), []byte(sessionID))
	if !ok {
		return store.Session{}, store.ErrNotFound
	}
	x, err := loadSession(getSessionsBucket(tx), h)
	if err != nil {
		return store.Session{}, err
	}
	return x, nil
}

// userSessionHashesTx lists the record keys of all the user's sessions.
func userSessionHashesTx(tx *bbolt.Tx, userID string) []store.TokenHash {
	set := getSessionSetBucket(tx, userID)
	if set == nil {
		return nil
	}
	byID := getSessionsByIDBucket(tx)
	var out []store.TokenHash
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
func loadSession(records *bbolt.Bucket, h store.TokenHash) (store.Session, error) {
	var x store.Session
	err := get(records, h[:], &x)
	x.Hash = h
	return x, err
}

// putSession writes x under its token hash.
func putSession(tx *bbolt.Tx, x store.Session) error {
	return put(getSessionsBucket(tx), x.Hash[:], x)
}
