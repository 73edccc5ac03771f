package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"portal/store"
)

// sessionRow is a session with the hash of its token, its key.
type sessionRow struct {
	store.Session
}

// sessionCols are the columns sessionScan reads, in its order.
const sessionCols = `s.token_hash, s.id, s.user_id, s.created_at, s.last_active, s.revoked_at,
	s.revoke_reason, s.revoked_by, s.user_agent, s.device, s.first_place, s.last_place, s.time_zone,
	s.auth, s.confirmed_at, s.passkey`

// sessionScan receives sessionCols.
type sessionScan struct {
	r         sessionRow
	hash      []byte
	revokedAt *time.Time
	reason    string
	confirmed *time.Time
}

func (x *sessionScan) dests() []any {
	r := &x.r
	return []any{&x.hash, &r.ID, &r.UserID, &r.CreatedAt, &r.LastActive, &x.revokedAt,
		&x.reason, &r.RevokedBy, &r.UserAgent, &r.Device, &r.FirstPlace, &r.LastPlace, &r.TimeZone,
		&r.Auth, &x.confirmed, &r.Passkey}
}

func (x *sessionScan) row() sessionRow {
	r := x.r
	copy(r.Hash[:], x.hash)
	r.CreatedAt, r.LastActive = r.CreatedAt.UTC(), r.LastActive.UTC()
	if x.revokedAt != nil {
		r.EndedAt = x.revokedAt.UTC()
	}
	r.EndReason = store.Reason(x.reason)
	if x.confirmed != nil {
		r.ConfirmedAt = x.confirmed.UTC()
	}
	return r
}

// userCols are the columns userScan reads, in its order.
const userCols = `u.id, u.account_id, u.email, u.name, u.role, u.password_hash, u.disabled, u.created_at, u.two_step_changed_at`

type userScan struct {
	u       store.User
	twoStep *time.Time
}

func (x *userScan) dests() []any {
	u := &x.u
	return []any{&u.ID, &u.AccountID, &u.Email, &u.Name, &u.Role, &u.PasswordHash, &u.Disabled, &u.CreatedAt, &x.twoStep}
}

func (x *userScan) user() store.User {
	u := x.u
	u.CreatedAt = u.CreatedAt.UTC()
	if x.twoStep != nil {
		u.TwoStepChangedAt = x.twoStep.UTC()
	}
	return u
}

// accountCols are the columns scanAccount reads, in its order.
const accountCols = `a.id, a.name, a.kind, coalesce(a.partner_id, ''), a.created_at, a.require_two_step`

func scanAccount(row pgx.Row) (store.Account, error) {
	var a store.Account
	err := row.Scan(accountDests(&a)...)
	a.CreatedAt = a.CreatedAt.UTC()
	return a, notFound(err)
}

// accountDests receive accountCols into a.
func accountDests(a *store.Account) []any {
	return []any{&a.ID, &a.Name, &a.Kind, &a.Partner, &a.CreatedAt, &a.RequireTwoStep}
}

// notFound turns "no rows" into store.ErrNotFound, and marks an error
// that says the database is out of reach as store.ErrUnavailable.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return unavailable(err)
}

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// querySessions runs a query selecting sessionCols. Its errors match
// store.ErrUnavailable when the database is out of reach.
func querySessions(ctx context.Context, q querier, sql string, args ...any) ([]sessionRow, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	var out []sessionRow
	for rows.Next() {
		var x sessionScan
		if err := rows.Scan(x.dests()...); err != nil {
			return nil, unavailable(fmt.Errorf("read a session: %w", err))
		}
		out = append(out, x.row())
	}
	return out, unavailable(rows.Err())
}

// querySession is querySessions for one row, or store.ErrNotFound.
func querySession(ctx context.Context, q querier, sql string, args ...any) (sessionRow, error) {
	var x sessionScan
	if err := q.QueryRow(ctx, sql, args...).Scan(x.dests()...); err != nil {
		return sessionRow{}, notFound(err)
	}
	return x.row(), nil
}
