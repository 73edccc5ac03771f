package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"portal/store"
)

// CopyUsers writes users with COPY, for filling a database with many of
// them fast (the benchmark's hundred thousand). It stores what CreateUsers
// stores but trusts its input: it checks neither the account nor the role
// against the account's kind, and a duplicate email fails the whole batch.
// A function rather than a method, so the Store keeps the bbolt store's
// method set.
func CopyUsers(s *Store, in []store.NewUser) ([]store.User, error) {
	now := s.nowUTC()
	out := make([]store.User, len(in))
	rows := make([][]any, len(in))
	for i, n := range in {
		u := store.User{ID: store.NewID(), AccountID: n.AccountID, Email: store.NormalizeEmail(n.Email), Name: n.Name, Role: n.Role, PasswordHash: n.PasswordHash, CreatedAt: now}
		out[i] = u
		rows[i] = []any{u.ID, u.AccountID, u.Email, u.Name, string(u.Role), u.PasswordHash, u.CreatedAt}
	}
	err := s.copyTx(func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"users"},
			[]string{"id", "account_id", "email", "name", "role", "password_hash", "created_at"}, pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: copy %d users: %w", len(in), err)
	}
	return out, nil
}

// CopySessions writes batch with COPY, for filling a database with many
// sessions fast (the benchmark's million): each session and its sign-in
// event, as CreateSessions writes them, in one transaction. Unlike
// CreateSessions it takes no user's lock, checks neither a disabled user
// nor the session cap, trims no activity log and tells no cache, Notifier
// or other instance: use it on a database no instance serves yet.
func CopySessions(s *Store, batch []store.SessionFor) ([]store.Session, []string, error) {
	now := s.nowUTC()
	out := make([]store.Session, len(batch))
	tokens := make([]string, len(batch))
	sessions := make([][]any, len(batch))
	events := make([][]any, len(batch))
	users := make(map[string]bool)
	for i, b := range batch {
		tokens[i] = store.NewToken()
		r := newSession(b.UserID, b.NewSession, tokens[i], now)
		out[i] = r.Session
		sessions[i] = []any{r.Hash[:], r.ID, r.UserID, r.CreatedAt, r.LastActive, r.UserAgent, r.Device, r.FirstPlace, r.LastPlace, r.TimeZone, string(r.Auth), r.Passkey}
		body, err := json.Marshal(store.SignedInEvent(r.Session))
		if err != nil {
			return nil, nil, fmt.Errorf("store: encode a sign-in event: %w", err)
		}
		events[i] = []any{r.UserID, r.CreatedAt, string(store.EventSignedIn), json.RawMessage(body)}
		users[r.UserID] = true
	}
	versions := make([]string, 0, len(users))
	for u := range users {
		versions = append(versions, u)
	}
	err := s.copyTx(func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"sessions"},
			[]string{"token_hash", "id", "user_id", "created_at", "last_active", "user_agent", "device", "first_place", "last_place", "time_zone", "auth", "passkey"},
			pgx.CopyFromRows(sessions)); err != nil {
			return fmt.Errorf("sessions: %w", err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"user_id", "at", "kind", "body"}, pgx.CopyFromRows(events)); err != nil {
			return fmt.Errorf("sign-in events: %w", err)
		}
		return bumpVersionsTx(ctx, tx, versions)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: copy %d sessions: %w", len(batch), err)
	}
	s.ForgetUsers(versions...) // other instances are not told: fill a database none serves
	return out, tokens, nil
}

// copyTx runs fn in one transaction with a longer timeout than a call's:
// a COPY of a large batch is no request's work.
func (s *Store) copyTx(fn func(ctx context.Context, tx pgx.Tx) error) error {
	s.writes.Add(1)
	ctx, cancel := context.WithTimeout(context.Background(), max(s.opts.QueryTimeout, 5*time.Minute))
	defer cancel()
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return fn(ctx, tx) })
}
