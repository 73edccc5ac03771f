package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"portal/store"
)

// ending is a session about to be closed: its EndedAt, EndReason
// and RevokedBy say how, by its event's actor.
type ending struct {
	x  sessionRow
	by store.Actor
}

// closeTx writes the ends, with the last-active times this instance knew
// (the later time wins), and their events in tx: one UPDATE for all of
// them. Every instance forgets them once tx commits, and with publish the
// Notifiers hear that they ended. A session that another transaction
// closed first is left as that one closed it.
func closeTx(ctx context.Context, tx pgx.Tx, fx *effects, ends []ending, publish bool) error {
	if len(ends) == 0 {
		return nil
	}
	n := len(ends)
	hashes, ats, las := make([][]byte, n), make([]time.Time, n), make([]time.Time, n)
	reasons, bys := make([]string, n), make([]string, n)
	evs := make([]userEvent, n)
	for i, e := range ends {
		hashes[i], ats[i], las[i] = e.x.Hash[:], e.x.EndedAt, e.x.LastActive
		reasons[i], bys[i] = string(e.x.EndReason), e.x.RevokedBy
		evs[i] = userEvent{e.x.UserID, endedEvent(e.x.Session, e.by)}
	}
	_, err := tx.Exec(ctx, `UPDATE sessions s SET revoked_at = v.at, revoke_reason = v.reason, revoked_by = v.by,
			last_active = GREATEST(s.last_active, v.la)
		FROM unnest($1::bytea[], $2::timestamptz[], $3::text[], $4::text[], $5::timestamptz[]) AS v(h, at, reason, by, la)
		WHERE s.token_hash = v.h AND s.revoked_at IS NULL`, hashes, ats, reasons, bys, las)
	if err != nil {
		return fmt.Errorf("close %d sessions: %w", n, err)
	}
	for _, e := range ends {
		fx.ended(e.x, publish)
	}
	return addEventsTx(ctx, tx, fx, evs)
}

// endBy prepares the revoke of x, which has no EndedAt yet, for reason
// at now by by, and reports whether it was live. One that had already
// expired is closed with its own reason and end time instead, naming no
// one (the bbolt store's endByTx).
func (s *Store) endBy(x sessionRow, reason store.Reason, by store.Actor, now time.Time) (ending, bool) {
	s.MergeUnflushed(&x.Session)
	ended, own := x.Ended(now, s.opts.Policy)
	if ended {
		x.EndedAt, x.EndReason = x.EndTime(now, s.opts.Policy), own
		return ending{x, store.Actor{}}, false
	}
	x.EndedAt, x.EndReason, x.RevokedBy = now, reason, by.User
	return ending{x, by}, true
}

// RevokeUserSession revokes one of the user's sessions, committed before
// it returns. A session that is not the user's gives store.ErrNotFound
// and changes nothing; one already ended keeps its own reason.
func (s *Store) RevokeUserSession(userID, sessionID string, reason store.Reason) (store.Session, error) {
	return s.RevokeUserSessionBy(userID, sessionID, reason, store.Actor{})
}

// RevokeUserSessionBy is RevokeUserSession recording who did it: another
// of the user's sessions signing this one out.
func (s *Store) RevokeUserSessionBy(userID, sessionID string, reason store.Reason, by store.Actor) (store.Session, error) {
	sess, err := s.revokeOne(userID, sessionID, reason, by, nil)
	if err != nil {
		return store.Session{}, fmt.Errorf("store: revoke session %s: %w", sessionID, err)
	}
	return sess, nil
}

// scopeCheck is a check a change makes in its own transaction before it
// changes anything (a partner's reach); its error ends the transaction.
type scopeCheck func(context.Context, pgx.Tx) error

// revokeOne revokes one session of userID after check, if given, has
// passed in the same transaction.
func (s *Store) revokeOne(userID, sessionID string, reason store.Reason, by store.Actor, check scopeCheck) (store.Session, error) {
	now := s.nowUTC()
	var x sessionRow
	err := s.write(func(ctx context.Context, tx pgx.Tx, fx *effects) error {
		if check != nil {
			if err := check(ctx, tx); err != nil {
				return err
			}
		}
		var err error
		x, err = querySession(ctx, tx, "SELECT "+sessionCols+" FROM sessions s WHERE s.user_id = $1 AND s.id = $2 FOR UPDATE", userID, sessionID)
		if err != nil || !x.EndedAt.IsZero() {
			return err
		}
		e, _ := s.endBy(x, reason, by, now)
		x = e.x
		return closeTx(ctx, tx, fx, []ending{e}, true)
	})
	if err != nil {
		return store.Session{}, err
	}
	return x.Session, nil
}

// RevokeOtherSessions revokes every live session of the user except
// keepID, in one transaction, and reports how many it revoked.
func (s *Store) RevokeOtherSessions(userID, keepID string, reason store.Reason) (int, error) {
	n, err := s.revokeMany(userID, keepID, reason, store.Actor{Session: keepID}, nil)
	if err != nil {
		return 0, fmt.Errorf("store: revoke sessions of user %s: %w", userID, err)
	}
	return n, nil
}

// RevokeAllUserSessions revokes every live session of the user ("sign
// out everywhere").
func (s *Store) RevokeAllUserSessions(userID string, reason store.Reason) (int, error) {
	return s.RevokeOtherSessions(userID, "", reason)
}

// revokeMany revokes userID's live sessions but keepID in one
// transaction, after check, if given, has passed in it.
func (s *Store) revokeMany(userID, keepID string, reason store.Reason, by store.Actor, check scopeCheck) (int, error) {
	var n int
	err := s.write(func(ctx context.Context, tx pgx.Tx, fx *effects) error {
		if check != nil {
			if err := check(ctx, tx); err != nil {
				return err
			}
		}
		var err error
		n, err = s.revokeUserSessionsTx(ctx, tx, fx, userID, keepID, reason, by)
		return err
	})
	return n, err
}

// revokeUserSessionsTx revokes the user's sessions other than keepID (""
// keeps none) that have no end recorded, and reports how many were live.
// Every one closed is published as ended, those that had expired too
// (with their own reason), as in the bbolt store.
func (s *Store) revokeUserSessionsTx(ctx context.Context, tx pgx.Tx, fx *effects, userID, keepID string, reason store.Reason, by store.Actor) (n int, err error) {
	now := s.nowUTC()
	list, err := querySessions(ctx, tx, "SELECT "+sessionCols+" FROM sessions s WHERE s.user_id = $1 AND s.id <> $2 AND s.revoked_at IS NULL ORDER BY s.id FOR UPDATE", userID, keepID)
	if err != nil {
		return 0, err
	}
	ends := make([]ending, 0, len(list))
	for _, x := range list {
		e, live := s.endBy(x, reason, by, now)
		if live {
			n++
		}
		ends = append(ends, e)
	}
	return n, closeTx(ctx, tx, fx, ends, true)
}
