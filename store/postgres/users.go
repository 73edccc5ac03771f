package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"portal/store"
)

// CreateAccount adds an account.
func (s *Store) CreateAccount(name string, kind store.AccountKind) (store.Account, error) {
	a := store.Account{ID: store.NewID(), Name: name, Kind: kind, CreatedAt: s.nowUTC()}
	err := s.write(func(ctx context.Context, tx pgx.Tx, _ *effects) error { return insertAccount(ctx, tx, a) })
	if err != nil {
		return store.Account{}, fmt.Errorf("store: create account %q: %w", name, err)
	}
	return a, nil
}

func insertAccount(ctx context.Context, tx pgx.Tx, a store.Account) error {
	_, err := tx.Exec(ctx, "INSERT INTO accounts (id, name, kind, created_at) VALUES ($1, $2, $3, $4)", a.ID, a.Name, a.Kind, a.CreatedAt)
	return err
}

// AccountByID returns the account with id, or store.ErrNotFound.
func (s *Store) AccountByID(id string) (store.Account, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	return scanAccount(s.pool.QueryRow(ctx, "SELECT "+accountCols+" FROM accounts a WHERE a.id = $1", id))
}

// Accounts lists every account, by id as the bbolt store does.
func (s *Store) Accounts() ([]store.Account, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, "SELECT "+accountCols+" FROM accounts a ORDER BY a.id")
	if err != nil {
		return nil, unavailable(fmt.Errorf("store: list accounts: %w", err))
	}
	defer rows.Close()
	var out []store.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, unavailable(fmt.Errorf("store: list accounts: %w", err))
		}
		out = append(out, a)
	}
	return out, unavailable(rows.Err())
}

// CreateUsers adds many users in one transaction; all or none are added.
func (s *Store) CreateUsers(in []store.NewUser) ([]store.User, error) {
	now := s.nowUTC()
	out := make([]store.User, len(in))
	for i, n := range in {
		out[i] = store.User{ID: store.NewID(), AccountID: n.AccountID, Email: store.NormalizeEmail(n.Email), Name: n.Name, Role: n.Role, PasswordHash: n.PasswordHash, CreatedAt: now}
	}
	err := s.write(func(ctx context.Context, tx pgx.Tx, _ *effects) error {
		for _, u := range out {
			if err := insertUser(ctx, tx, u); err != nil {
				return fmt.Errorf("create user %s: %w", u.Email, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return out, nil
}

func insertUser(ctx context.Context, tx pgx.Tx, u store.User) error {
	var kind store.AccountKind
	if err := tx.QueryRow(ctx, "SELECT kind FROM accounts WHERE id = $1", u.AccountID).Scan(&kind); err != nil {
		return fmt.Errorf("account %s: %w", u.AccountID, notFound(err))
	}
	if !u.Role.Valid() || u.Role.AccountKind() != kind {
		return fmt.Errorf("role %q does not belong in a %s account", u.Role, kind)
	}
	_, err := tx.Exec(ctx, `INSERT INTO users (id, account_id, email, name, role, password_hash, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, u.ID, u.AccountID, u.Email, u.Name, u.Role, u.PasswordHash, u.CreatedAt)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "users_by_email" {
		return store.ErrEmailTaken
	}
	return err
}

// UserByID returns the user with id, or store.ErrNotFound.
func (s *Store) UserByID(id string) (store.User, error) {
	return s.queryUser("u.id = $1", id)
}

// UserByEmail returns the user with that email (any case), or
// store.ErrNotFound.
func (s *Store) UserByEmail(email string) (store.User, error) {
	return s.queryUser("lower(u.email) = $1", store.NormalizeEmail(email))
}

func (s *Store) queryUser(where string, arg string) (store.User, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	var x userScan
	if err := s.pool.QueryRow(ctx, "SELECT "+userCols+" FROM users u WHERE "+where, arg).Scan(x.dests()...); err != nil {
		return store.User{}, notFound(err)
	}
	return x.user(), nil
}

// Users lists every user, by id as the bbolt store does.
func (s *Store) Users() ([]store.User, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, "SELECT "+userCols+" FROM users u ORDER BY u.id")
	if err != nil {
		return nil, unavailable(fmt.Errorf("store: list users: %w", err))
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		var x userScan
		if err := rows.Scan(x.dests()...); err != nil {
			return nil, unavailable(fmt.Errorf("store: list users: %w", err))
		}
		out = append(out, x.user())
	}
	return out, unavailable(rows.Err())
}

// UpdateUser (store.Storage) sets the columns ch changes, records its
// event if it has one and, if ch.Revoke is set, revokes the user's
// sessions other than ch.KeepID, all in one transaction. Every instance then drops
// all of the user's sessions from its cache, since they carry the old
// user, before its Notifier hears that the user changed (and which
// sessions ended), as in the bbolt store.
func (s *Store) UpdateUser(userID string, ch store.UserChange) (revoked int, err error) {
	var set []string
	args := []any{userID}
	if ch.PasswordHash != nil {
		args = append(args, *ch.PasswordHash, ch.At)
		set = append(set, fmt.Sprintf("password_hash = $%d, password_changed_at = $%d", len(args)-1, len(args)))
	}
	if ch.Disabled != nil {
		args = append(args, *ch.Disabled)
		set = append(set, fmt.Sprintf("disabled = $%d", len(args)))
	}
	if len(set) == 0 {
		return 0, errors.New("store: a user change that changes nothing")
	}
	err = s.write(func(ctx context.Context, tx pgx.Tx, fx *effects) error {
		var id string
		if err := tx.QueryRow(ctx, "UPDATE users SET "+strings.Join(set, ", ")+" WHERE id = $1 RETURNING id", args...).Scan(&id); err != nil {
			return notFound(err)
		}
		all, err := userSessionHashes(ctx, tx, userID)
		if err != nil {
			return err
		}
		fx.forget = append(fx.forget, all...)
		fx.changes = append(fx.changes, store.Change{Kind: store.UserChanged, UserID: userID})
		if ch.Event != nil {
			if err := addEventsTx(ctx, tx, fx, []userEvent{{userID, *ch.Event}}); err != nil {
				return err
			}
		}
		if ch.Revoke != "" {
			revoked, err = s.revokeUserSessionsTx(ctx, tx, fx, userID, ch.KeepID, ch.Revoke, store.Actor{Session: ch.KeepID})
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	return revoked, nil
}

// userSessionHashes lists the keys of all the user's sessions.
func userSessionHashes(ctx context.Context, tx pgx.Tx, userID string) ([]store.TokenHash, error) {
	rows, err := tx.Query(ctx, "SELECT token_hash FROM sessions WHERE user_id = $1", userID)
	if err != nil {
		return nil, err
	}
	raw, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, err
	}
	out := make([]store.TokenHash, len(raw))
	for i, b := range raw {
		copy(out[i][:], b)
	}
	return out, nil
}
