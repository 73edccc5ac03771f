package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// migrationFiles are the numbered schema changes: migrations/NNNN_what.sql,
// numbered from 1 without gaps. A file, once released, never changes: a
// new layout is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered file.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads fsys's migrations/*.sql in version order and
// checks that they are numbered 1, 2, 3... with nothing missing or doubled.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	out := make([]migration, 0, len(names))
	for _, name := range names { // Glob sorts, and the numbers are zero-padded
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != len(out)+1 {
			return nil, fmt.Errorf("migration %s: want a name starting %04d_", base, len(out)+1)
		}
		sql, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(sql)})
	}
	return out, nil
}

// migrationLock is the advisory lock key that serialises schema changes,
// so two instances starting together do not both migrate.
const migrationLock int64 = 0x706f7274616c // "portal"

// errNewer is a database whose schema is newer than this binary knows.
type errNewer struct{ have, know int }

func (e errNewer) Error() string {
	return fmt.Sprintf("the database's schema is version %d, and this binary knows only up to %d", e.have, e.know)
}

// migrate brings the database to the last of migs in one transaction
// under migrationLock, recording each step in schema_version, and returns
// the version it is at. A failure changes nothing.
func migrate(ctx context.Context, pool *pgxpool.Pool, migs []migration) (int, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx) // after Commit, a harmless no-op
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
		return 0, fmt.Errorf("wait for the migration lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return 0, fmt.Errorf("create schema_version: %w", err)
	}
	var have int
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&have); err != nil {
		return 0, fmt.Errorf("read schema_version: %w", err)
	}
	if have > len(migs) {
		return have, errNewer{have: have, know: len(migs)}
	}
	for _, m := range migs[have:] {
		// No arguments: pgx sends it as a simple query, so a file may hold
		// many statements.
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return have, fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_version (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
			return have, fmt.Errorf("record migration %s: %w", m.name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return have, err
	}
	return len(migs), nil
}

// loadCSRFKey returns the database's CSRF key, creating it if it is
// missing or not 32 bytes. Two instances starting together get the same.
func loadCSRFKey(ctx context.Context, pool *pgxpool.Pool) ([]byte, error) {
	fresh := randomBytes(32)
	var key []byte
	err := pool.QueryRow(ctx, `INSERT INTO keys (name, value) VALUES ('csrf_key', $1)
		ON CONFLICT (name) DO UPDATE SET value = CASE WHEN length(keys.value) = 32 THEN keys.value ELSE excluded.value END
		RETURNING value`, fresh).Scan(&key)
	if err != nil {
		return nil, fmt.Errorf("load the CSRF key: %w", err)
	}
	return key, nil
}

// isNewer reports whether err is migrate's refusal of a newer schema.
func isNewer(err error) (errNewer, bool) {
	var n errNewer
	return n, errors.As(err, &n)
}
