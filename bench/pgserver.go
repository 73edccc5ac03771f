package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"

	"portal/handlers"
	"portal/internal/pgtest"
	"portal/store"
	"portal/store/postgres"
)

// pgConfig is what -db postgres needs besides the scenarios' flags.
type pgConfig struct {
	DB      string // "postgres" runs the PostgreSQL comparison; "" or "bbolt" does not
	URL     string // -pg-url: a database to create the benchmark's databases beside
	Pool    int    // each portal's pool (portal's -db-pool)
	Revokes int    // revokes timed for the cross-instance window
}

// pgSettings are the throwaway cluster's settings. Unlike the tests'
// cluster it keeps fsync and synchronous commit on, PostgreSQL's
// defaults, so that a revoke waits for its commit to reach the disk as a
// bbolt revoke does; beyond the defaults, room for the portals' pools and
// the seeding, and a buffer cache that holds the -big database.
var pgSettings = []string{
	"max_connections=200",
	"shared_buffers=512MB",
	"max_wal_size=4GB", // no checkpoint forced in the middle of the seeding
}

// pgServer is where the benchmark's databases are created: the throwaway
// cluster (internal/pgtest's, under -dir, whose disk is what commits are
// fsynced to), or the server of -pg-url.
type pgServer struct {
	cluster *pgtest.Cluster // nil with -pg-url
	admin   string          // URL of a database to run CREATE DATABASE from
	made    []string
}

// openPGServer starts the throwaway cluster under dir, or connects to
// -pg-url's server.
func openPGServer(ctx context.Context, cfg pgConfig, dir string) (*pgServer, error) {
	if cfg.URL != "" {
		return &pgServer{admin: cfg.URL}, nil
	}
	c, err := pgtest.New(ctx, pgtest.Options{Parent: dir, Settings: pgSettings})
	if err != nil {
		return nil, fmt.Errorf("%w; or give -pg-url to use a database that is already running", err)
	}
	return &pgServer{cluster: c, admin: c.URL("postgres")}, nil
}

func (p *pgServer) describe() string {
	if p.cluster == nil {
		return "PostgreSQL: the server of -pg-url " + postgres.MaskURL(p.admin) + " (its settings as they are)"
	}
	return fmt.Sprintf("PostgreSQL: throwaway cluster in %s (Unix socket, fsync and synchronous_commit on as by default, %v)", p.cluster.SocketDir(), pgSettings)
}

// newDB creates database name, a copy of template if that is not "", and
// returns its URL.
func (p *pgServer) newDB(ctx context.Context, name, template string) (string, error) {
	name = "portal_bench_" + name
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		sql += " TEMPLATE " + pgx.Identifier{"portal_bench_" + template}.Sanitize()
	}
	if err := p.exec(ctx, p.admin, sql); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	p.made = append(p.made, name)
	u, err := url.Parse(p.admin)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// exec runs sql in the database at dbURL.
func (p *pgServer) exec(ctx context.Context, dbURL, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// close drops the databases made on -pg-url's server, or stops the
// throwaway cluster and removes its files.
func (p *pgServer) close(keep bool) error {
	if p.cluster != nil {
		return p.cluster.Close()
	}
	if keep {
		return nil
	}
	var errs []error
	for _, name := range p.made {
		errs = append(errs, p.exec(context.Background(), p.admin, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"))
	}
	return errors.Join(errs...)
}

// withPGSeed creates database name (from template unless "") and runs fn
// with a seeder on it that writes users and sessions with COPY. The
// seeding connections commit without waiting for the disk
// (synchronous_commit off, for them only): it is preparation, not
// measurement.
func withPGSeed(ctx context.Context, srv *pgServer, cfg pgConfig, name, template string, loc handlers.Locator, pwHash string, fn func(*seeder) error) (string, error) {
	dbURL, err := srv.newDB(ctx, name, template)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	st, err := postgres.Open(ctx, u.String(), postgres.Options{Policy: storeOptions().Policy, PoolSize: cfg.Pool})
	if err != nil {
		return "", err
	}
	s, err := newSeeder(st, loc, pwHash)
	if err == nil {
		s.copy = &bulkCopy{
			users:    func(in []store.NewUser) ([]store.User, error) { return postgres.CopyUsers(st, in) },
			sessions: func(in []store.SessionFor) ([]store.Session, []string, error) { return postgres.CopySessions(st, in) },
		}
		err = fn(s)
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = srv.exec(ctx, dbURL, "VACUUM ANALYZE") // statistics for the planner, as autovacuum would soon have them
	}
	return dbURL, err
}
