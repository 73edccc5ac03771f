package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"

	"portal/store"
)

// ErrUsePgDump is Backup's answer: portal does not copy a PostgreSQL
// database itself.
var ErrUsePgDump = errors.New("store: a PostgreSQL database is backed up with pg_dump (for example pg_dump --format=custom --file=portal.dump URL), not by portal")

// Backup writes nothing and returns ErrUsePgDump: pg_dump takes a
// consistent copy of a running database, which is what the bbolt store's
// Backup gives for a file.
func (s *Store) Backup(w io.Writer) (int64, error) {
	return 0, fmt.Errorf("store: back up %s: %w", s.url, ErrUsePgDump)
}

// damage is an inconsistency Check found: it matches both
// store.ErrDamaged and what it wraps, like the bbolt store's.
type damage struct{ err error }

func (d damage) Error() string   { return d.err.Error() }
func (d damage) Unwrap() []error { return []error{store.ErrDamaged, d.err} }

// Check verifies what the schema's own constraints do not: that the
// schema is the one this binary writes, that every user's role belongs in
// the kind of their account, that every managing account is a partner,
// and that each event about a session is in its user's log. PostgreSQL
// keeps its indexes and references itself. What it finds matches
// store.ErrDamaged; a database that cannot be asked is another error.
func (s *Store) Check() error {
	migs, err := loadMigrations(migrationFiles)
	if err != nil {
		return fmt.Errorf("store: check: the embedded migrations: %w", err)
	}
	var problem error
	err = s.read(func(ctx context.Context, tx pgx.Tx) error {
		var have int
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&have); err != nil {
			return err
		}
		if have != len(migs) {
			problem = fmt.Errorf("the schema is version %d, and this binary writes %d", have, len(migs))
			return nil
		}
		rows, err := tx.Query(ctx, "SELECT DISTINCT u.role, a.kind FROM users u JOIN accounts a ON a.id = u.account_id")
		if err != nil {
			return err
		}
		pairs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct {
			Role store.Role
			Kind store.AccountKind
		}])
		if err != nil {
			return err
		}
		for _, p := range pairs {
			if !p.Role.Valid() || p.Role.AccountKind() != p.Kind {
				problem = fmt.Errorf("a user has the role %q in a %s account", p.Role, p.Kind)
				return nil
			}
		}
		for _, c := range consistencyChecks {
			var n int
			if err := tx.QueryRow(ctx, c.count).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				problem = fmt.Errorf("%d %s", n, c.what)
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: check %s: %w", s.url, err)
	}
	if problem != nil {
		return damage{fmt.Errorf("store: check %s: %w", s.url, problem)}
	}
	return nil
}

// consistencyChecks count rows that break a rule of the data the schema
// does not state; each must find none.
var consistencyChecks = []struct{ what, count string }{
	{"client accounts are managed by an account that is not a partner",
		"SELECT count(*) FROM accounts c JOIN accounts p ON p.id = c.partner_id WHERE p.kind <> 'partner'"},
	{"events about a session are in another user's log",
		"SELECT count(*) FROM events e JOIN sessions s ON s.id = e.body->>'session' WHERE e.kind IN ('signed_in', 'ended') AND s.user_id <> e.user_id"},
}
