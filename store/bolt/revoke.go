package bolt

import (
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"portal/store"
)

// RevokeUserSession revokes one of the user's sessions, committed before it
// returns. A session that is not the user's gives ErrNotFound and changes
// nothing; one already ended keeps its own reason.
func (s *Store) RevokeUserSession(userID, sessionID string, reason store.Reason) (store.Session, error) {
	return s.RevokeUserSessionBy(userID, sessionID, reason, store.Actor{})
}

// RevokeUserSessionBy is RevokeUserSession recording who did it: another
// of the user's sessions signing this one out.
func (s *Store) RevokeUserSessionBy(userID, sessionID string, reason store.Reason, by store.Actor) (store.Session, error) {
	now := s.now().UTC()
	var sess store.Session
	err := s.update(func(tx *bbolt.Tx) error {
		var err error
		if sess, err = userSessionTx(tx, userID, sessionID); err != nil {
			return err
		}
		if !sess.EndedAt.IsZero() {
			return nil
		}
		_, err = s.endByTx(tx, &sess, reason, by, now)
		return err
	})
	if err != nil {
		return store.Session{}, fmt.Errorf("store: revoke session %s: %w", sessionID, err)
	}
	s.Forget(sess.Hash)
	return sess, nil
}

// RevokeOtherSessions revokes every live session of the user except keepID,
// in one transaction, and reports how many it revoked.
func (s *Store) RevokeOtherSessions(userID, keepID string, reason store.Reason) (int, error) {
	return s.revokeMany(userID, keepID, reason)
}

// RevokeAllUserSessions revokes every live session of the user ("sign out
// everywhere").
func (s *Store) RevokeAllUserSessions(userID string, reason store.Reason) (int, error) {
	return s.revokeMany(userID, "", reason)
}

func (s *Store) revokeMany(userID, keepID string, reason store.Reason) (int, error) {
	var (
		n      int
		hashes []store.TokenHash
	)
	err := s.update(func(tx *bbolt.Tx) error {
		var err error
		n, hashes, err = s.revokeUserSessionsTx(tx, userID, keepID, reason, store.Actor{Session: keepID}, s.now().UTC())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: revoke sessions of user %s: %w", userID, err)
	}
	s.Forget(hashes...)
	return n, nil
}

// revokeUserSessionsTx revokes the user's live sessions other than keepID
// ("" keeps none) and reports how many; by is who did it for the user
// ("" for the user or an operator). Sessions that already ended keep
// their own reason and are not counted. hashes names every record written,
// for the caller to drop from the cache once committed.
func (s *Store) revokeUserSessionsTx(tx *bbolt.Tx, userID, keepID string, reason store.Reason, by store.Actor, now time.Time) (n int, hashes []store.TokenHash, err error) {
	set := getSessionSetBucket(tx, userID)
	if set == nil {
		return 0, nil, nil
	}
	list, err := sessionsInSetTx(tx, set, func(x store.Session) bool { return x.ID != keepID && x.EndedAt.IsZero() })
	if err != nil {
		return 0, nil, err
	}
	for _, x := range list {
		live, err := s.endByTx(tx, &x, reason, by, now)
		if err != nil {
			return 0, nil, err
		}
		if live {
			n++
		}
		hashes = append(hashes, x.Hash)
	}
	return n, hashes, nil
}

// endByTx revokes x, which has no EndedAt yet, for reason at now,
// recording by, who revoked it for its user, and the event, and reports
// whether it was live. One that had already expired is closed with its own
// reason and end time instead (its event dated when it expired, naming no
// one), so that it keeps its reason and a request racing with this call
// cannot bring it back.
func (s *Store) endByTx(tx *bbolt.Tx, x *store.Session, reason store.Reason, by store.Actor, now time.Time) (bool, error) {
	s.MergeUnflushed(x)
	ended, own := x.Ended(now, s.opts.Policy)
	if ended {
		x.EndedAt, x.EndReason = x.EndTime(now, s.opts.Policy), own
		by = store.Actor{}
	} else {
		x.EndedAt, x.EndReason, x.RevokedBy = now, reason, by.User
	}
	if err := putSession(tx, *x); err != nil {
		return false, err
	}
	s.notify(tx, x.Hash, store.Change{Kind: store.SessionEnded, UserID: x.UserID, SessionID: x.ID, Reason: x.EndReason})
	return !ended, addEventTx(tx, x.UserID, endedEvent(*x, by))
}

func (s *Store) revokeTx(tx *bbolt.Tx, x store.Session, reason store.Reason, by store.Actor, now time.Time) error {
	x.EndedAt, x.EndReason = now, reason
	if err := putSession(tx, x); err != nil {
		return err
	}
	s.notify(tx, x.Hash, store.Change{Kind: store.SessionEnded, UserID: x.UserID, SessionID: x.ID, Reason: reason})
	return addEventTx(tx, x.UserID, endedEvent(x, by))
}
