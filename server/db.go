package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"portal/store"
	"portal/store/bolt"
	"portal/store/postgres"
)

// DBOptions is how to open the database -db names, whichever kind it is.
type DBOptions struct {
	Policy         store.Policy
	MaxSessions    int
	Notifier       store.Notifier
	PoolSize       int           // PostgreSQL: connections in the pool
	ConnectTimeout time.Duration // PostgreSQL: how long to wait for it at start
	LockTimeout    time.Duration // bbolt: how long to wait for another process's lock
	// MustExist refuses a bbolt path with no file rather than creating
	// one, so a typo in -db does not quietly start an empty database.
	MustExist bool
}

// IsPostgres reports whether db is a PostgreSQL URL rather than a file.
func IsPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// DBKind names the kind of database db is, as /readyz reports it.
func DBKind(db string) string {
	if IsPostgres(db) {
		return "postgres"
	}
	return "bbolt"
}

// ShowDB is db as logs may show it: a URL without its password.
func ShowDB(db string) string {
	if IsPostgres(db) {
		return postgres.MaskURL(db)
	}
	return db
}

// OpenDB opens the database db names: a bbolt file, or PostgreSQL for a
// postgres:// or postgresql:// URL. Either way it is migrated to the
// schema this binary knows, and one newer than that is refused.
func OpenDB(ctx context.Context, db string, o DBOptions) (store.Backend, error) {
	if IsPostgres(db) {
		return postgres.Open(ctx, db, postgres.Options{
			Policy: o.Policy, MaxSessionsPerUser: o.MaxSessions, Notifier: o.Notifier,
			PoolSize: o.PoolSize, ConnectTimeout: o.ConnectTimeout,
		})
	}
	if o.MustExist {
		if _, err := os.Stat(db); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("there is no database at %s; pass -db or set PORTAL_DB to the server's database file", db)
		}
	}
	return bolt.Open(db, bolt.Options{
		Policy: o.Policy, MaxSessionsPerUser: o.MaxSessions, Notifier: o.Notifier, Timeout: o.LockTimeout,
	})
}
