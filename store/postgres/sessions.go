package postgres

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"portal/store"
)

// CreateSessions starts many sessions in one transaction; all or none are
// created. Tokens come back in the same order. Each user's row is locked
// (SELECT ... FOR UPDATE) before its sessions are counted, so two
// sign-ins of one user at the cap, on any instances, take turns rather
// than both counting the same sessions.
func (s *Store) CreateSessions(batch []store.SessionFor) ([]store.Session, []string, error) {
	now := s.nowUTC()
	rows := make([]sessionRow, len(batch))
	tokens := make([]string, len(batch))
	for i, b := range batch {
		tokens[i] = store.NewToken()
		rows[i] = newSession(b.UserID, b.NewSession, tokens[i], now)
	}
	refused := false
	err := s.write(func(ctx context.Context, tx pgx.Tx, fx *effects) error {
		refused = false
		for i, r := range rows {
			if p := batch[i].WithPasskey; p != nil {
				if err := lockUserTx(ctx, tx, r.UserID); err != nil {
					return err
				}
				back, err := usePasskeyTx(ctx, tx, fx, p.ID, p.Use, p.Refused)
				if err != nil {
					return fmt.Errorf("passkey of user %s: %w", r.UserID, err)
				}
				if back { // the refusal is kept, the session never made
					refused = true
					continue
				}
			}
			if err := s.createSessionTx(ctx, tx, fx, r, now); err != nil {
				return fmt.Errorf("session for user %s: %w", r.UserID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: create sessions: %w", err)
	}
	if refused {
		return nil, nil, store.ErrSignCountBack
	}
	out := make([]store.Session, len(rows))
	for i, r := range rows {
		out[i] = r.Session
	}
	return out, tokens, nil
}

func newSession(userID string, in store.NewSession, token string, now time.Time) sessionRow {
	r := sessionRow{Session: store.Session{
		ID: store.NewID(), UserID: userID, CreatedAt: in.CreatedAt.UTC().Truncate(time.Microsecond), LastActive: in.LastActive.UTC().Truncate(time.Microsecond),
		UserAgent: in.UserAgent, Device: in.Device, FirstPlace: in.Place, LastPlace: in.Place, TimeZone: in.TimeZone, Auth: in.Auth, Passkey: in.Passkey,
		Hash: store.HashToken(token),
	}}
	if in.CreatedAt.IsZero() {
		r.CreatedAt = now
	}
	if in.LastActive.IsZero() {
		r.LastActive = r.CreatedAt
	}
	return r
}

// createSessionTx writes one session and its sign-in event, revoking the
// user's least recently active sessions first if they are at the cap.
func (s *Store) createSessionTx(ctx context.Context, tx pgx.Tx, fx *effects, r sessionRow, now time.Time) error {
	var disabled bool
	if err := tx.QueryRow(ctx, "SELECT disabled FROM users WHERE id = $1 FOR UPDATE", r.UserID).Scan(&disabled); err != nil {
		return notFound(err)
	}
	if disabled {
		return store.ErrUserDisabled
	}
	if err := s.enforceCapTx(ctx, tx, fx, r.UserID, r.ID, now); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO sessions (token_hash, id, user_id, created_at, last_active, user_agent, device, first_place, last_place, time_zone, auth, passkey)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		r.Hash[:], r.ID, r.UserID, r.CreatedAt, r.LastActive, r.UserAgent, r.Device, r.FirstPlace, r.LastPlace, r.TimeZone, string(r.Auth), r.Passkey)
	if err != nil {
		return err
	}
	fx.changes = append(fx.changes, store.Change{Kind: store.SessionStarted, UserID: r.UserID, SessionID: r.ID})
	signedIn := store.SignedInEvent(r.Session)
	return addEventsTx(ctx, tx, fx, []userEvent{{r.UserID, signedIn}})
}

// enforceCapTx revokes the least recently active live sessions of userID
// so that one more, newID, fits under MaxSessionsPerUser. The caller holds
// the user's row lock.
func (s *Store) enforceCapTx(ctx context.Context, tx pgx.Tx, fx *effects, userID, newID string, now time.Time) error {
	limit := s.opts.MaxSessionsPerUser
	if limit <= 0 {
		return nil
	}
	all, err := querySessions(ctx, tx, "SELECT "+sessionCols+" FROM sessions s WHERE s.user_id = $1 AND s.revoked_at IS NULL ORDER BY s.id FOR UPDATE", userID)
	if err != nil {
		return err
	}
	// Judge liveness with the use this instance has not flushed yet:
	// a session whose stored last-active looks idle may have been used a
	// moment ago. (Another instance's unflushed use is not seen: at
	// worst the cap picks a session that instance used within its last
	// flush interval.)
	var live []sessionRow
	for _, x := range all {
		s.MergeUnflushed(&x.Session)
		if ended, _ := x.Ended(now, s.opts.Policy); !ended {
			live = append(live, x)
		}
	}
	if len(live) < limit {
		return nil
	}
	sort.SliceStable(live, func(i, j int) bool { return live[i].LastActive.Before(live[j].LastActive) })
	ends := make([]ending, 0, len(live)-limit+1)
	for _, x := range live[:len(live)-limit+1] {
		x.EndedAt, x.EndReason = now, store.ReasonSessionLimit
		ends = append(ends, ending{x, store.Actor{Session: newID}})
	}
	return closeTx(ctx, tx, fx, ends, true)
}

// SessionsNotRevoked is userID's sessions that are not revoked, as
// stored (store.Storage).
func (s *Store) SessionsNotRevoked(userID string) ([]store.Session, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	list, err := querySessions(ctx, s.pool, "SELECT "+sessionCols+" FROM sessions s WHERE s.user_id = $1 AND s.revoked_at IS NULL ORDER BY s.id", userID)
	if err != nil {
		return nil, fmt.Errorf("store: list sessions of user %s: %w", userID, err)
	}
	out := make([]store.Session, len(list))
	for i, x := range list {
		out[i] = x.Session
	}
	return out, nil
}

// UserSession returns one of the user's sessions in whatever state it is,
// or store.ErrNotFound if it is not theirs.
func (s *Store) UserSession(userID, sessionID string) (store.Session, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	x, err := querySession(ctx, s.pool, "SELECT "+sessionCols+" FROM sessions s WHERE s.user_id = $1 AND s.id = $2", userID, sessionID)
	if err != nil {
		return store.Session{}, err
	}
	s.MergeUnflushed(&x.Session)
	return x.Session, nil
}

// UserSessionsByID returns those of ids that are userID's sessions, in
// whatever state, read with one query: the sessions a page of events
// names. Ids of other users' sessions are left out, as if they did not
// exist.
func (s *Store) UserSessionsByID(userID string, ids []string) (map[string]store.Session, error) {
	out := make(map[string]store.Session, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	if s.KeptSessions(userID, ids, out) {
		return out, nil
	}
	ctx, cancel := s.ctx()
	defer cancel()
	list, err := querySessions(ctx, s.pool, "SELECT "+sessionCols+" FROM sessions s WHERE s.user_id = $1 AND s.id = ANY($2)", userID, ids)
	if err != nil {
		return nil, fmt.Errorf("store: sessions of user %s: %w", userID, err)
	}
	for _, x := range list {
		s.MergeUnflushed(&x.Session)
		out[x.ID] = x.Session
	}
	return out, nil
}

// SessionsEndedSince returns the user's sessions that ended (were
// revoked, or expired) after since, oldest end first: what a page
// rendered at since has not yet shown as ended.
func (s *Store) SessionsEndedSince(userID string, since time.Time) ([]store.Session, error) {
	now := s.now()
	ctx, cancel := s.ctx()
	defer cancel()
	// Revoked after since, or not revoked at all: whether one of those
	// has expired, and when, is judged here with this instance's unflushed use.
	list, err := querySessions(ctx, s.pool, "SELECT "+sessionCols+" FROM sessions s WHERE s.user_id = $1 AND (s.revoked_at IS NULL OR s.revoked_at > $2) ORDER BY s.id", userID, since)
	if err != nil {
		return nil, fmt.Errorf("store: sessions of user %s ended since %s: %w", userID, since.Format(time.RFC3339), err)
	}
	var out []store.Session
	for _, x := range list {
		s.MergeUnflushed(&x.Session)
		if x.EndTime(now, s.opts.Policy).After(since) {
			out = append(out, x.Session)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].EndTime(now, s.opts.Policy).Before(out[j].EndTime(now, s.opts.Policy))
	})
	return out, nil
}
