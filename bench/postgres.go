package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"portal/handlers"
	"portal/password"
)

// pgFixtures are one backend's logins for the -db postgres scenarios.
type pgFixtures struct {
	Readers, Listers     []login
	RevokeOne, RevokeAll []revokePool
}

// pgEnv is what the -db postgres scenarios talk to: the same read and
// write fixtures on bbolt and on PostgreSQL, served side by side.
type pgEnv struct {
	bare                        *appServer
	bbReads, bbWrites           *portal
	pgReads, pgWrites, pgBig    *portal // pgBig is nil without -big
	bb, pg                      pgFixtures
	bbReadsDB, bbWritesDB       string // bbolt files
	readsURL, writesURL, bigURL string // PostgreSQL databases; bigURL "" without -big
	bigSessions                 int
	window                      windowFixture
}

// runPostgres is -db postgres: auth-fragment, list-100, revoke-one and
// revoke-all-99 on bbolt and on PostgreSQL in the same runs (and
// list-100 with a million other sessions with -big), then the
// cross-instance revoke window between two portals on one database.
func runPostgres(cfg config, seedDir, work, geoPath string, loc handlers.Locator, log *slog.Logger, out io.Writer) (err error) {
	ctx := context.Background()
	srv, err := openPGServer(ctx, cfg.PG, cfg.Dir)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, srv.close(cfg.Keep)) }()
	fmt.Fprintln(out, srv.describe())
	e, err := seedPG(ctx, cfg, srv, seedDir, work, loc, out)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	runner, err := newRunner(cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, runner.close()) }()
	fmt.Fprintln(out, runner.describe())
	fmt.Fprintf(out, "PostgreSQL portals: pool of %d connections each (portal's -db-pool); cpu_us/req is this process's CPU only, not PostgreSQL's\n", cfg.PG.Pool)

	scenarios, err := startPG(cfg, e, geoPath, log, out)
	if err == nil {
		var results map[string][]measurement
		if results, err = runSuite(cfg, runner, scenarios, out); err == nil {
			sums := summarize(scenarios, results)
			printTable(out, cfg, scenarios, sums)
			printPGTargets(out, sums, cfg.Rate > 0)
		}
	}
	err = errors.Join(err, e.close())
	if err != nil {
		return err
	}
	w, err := measureWindow(cfg, e, geoPath, log)
	if err != nil {
		return fmt.Errorf("cross-instance window: %w", err)
	}
	printWindow(out, w)
	return nil
}

// seedPG seeds the bbolt stores (copied to work) and the PostgreSQL
// databases with the same users and sessions.
func seedPG(ctx context.Context, cfg config, srv *pgServer, seedDir, work string, loc handlers.Locator, out io.Writer) (*pgEnv, error) {
	pw, err := password.Hash("bench password, never used to sign in")
	if err != nil {
		return nil, err
	}
	e := &pgEnv{}
	bbReads, bbWrites := filepath.Join(work, "small.db"), filepath.Join(work, "writes.db")
	err = withSeedStore(filepath.Join(seedDir, "reads.db"), loc, pw, func(s *seeder) error {
		var err error
		if e.bb.Readers, e.bb.Listers, err = seedReads(cfg, s, "bbolt reads store", out); err != nil {
			return err
		}
		return snapshot(s.st, bbReads)
	})
	if err != nil {
		return nil, err
	}
	err = withSeedStore(filepath.Join(seedDir, "writes.db"), loc, pw, func(s *seeder) error {
		var err error
		if e.bb.RevokeOne, e.bb.RevokeAll, err = seedRevokePools(cfg, s, "bbolt writes store", out); err != nil {
			return err
		}
		return snapshot(s.st, bbWrites)
	})
	if err != nil {
		return nil, err
	}
	e.bbReadsDB, e.bbWritesDB = bbReads, bbWrites
	e.readsURL, err = withPGSeed(ctx, srv, cfg.PG, "reads", "", loc, pw, func(s *seeder) error {
		var err error
		e.pg.Readers, e.pg.Listers, err = seedReads(cfg, s, "PostgreSQL reads database (COPY)", out)
		return err
	})
	if err != nil {
		return nil, err
	}
	if cfg.Big {
		// A copy of the reads database (the same logins) plus the others.
		e.bigURL, err = withPGSeed(ctx, srv, cfg.PG, "big", "reads", loc, pw, func(s *seeder) error {
			return seedPGBig(cfg, s, out)
		})
		if err != nil {
			return nil, err
		}
		e.bigSessions = cfg.BigUsers * cfg.BigPerUser
	}
	e.writesURL, err = withPGSeed(ctx, srv, cfg.PG, "writes", "", loc, pw, func(s *seeder) error {
		var err error
		e.pg.RevokeOne, e.pg.RevokeAll, err = seedRevokePools(cfg, s, "PostgreSQL writes database (COPY)", out)
		return err
	})
	if err != nil {
		return nil, err
	}
	e.window.URL, err = withPGSeed(ctx, srv, cfg.PG, "window", "", loc, pw, func(s *seeder) error {
		var err error
		e.window.Actors, e.window.Victims, err = s.userSessions((cfg.PG.Revokes+windowVictims-1)/windowVictims, windowVictims+1)
		return err
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// seedPGBig adds the -big other sessions with COPY.
func seedPGBig(cfg config, s *seeder, out io.Writer) error {
	total := cfg.BigUsers * cfg.BigPerUser
	t0 := time.Now()
	s.n = 2 * cfg.Workers // the reads database's users, copied: their emails are taken
	err := seedOthers(s, cfg.BigUsers, cfg.BigPerUser, 50_000, func(done int) {})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "seeded PostgreSQL big database: a copy of the reads database plus %d other sessions of %d users (COPY) in %s\n", total, cfg.BigUsers, since(t0))
	return nil
}

// startPG starts the portals and the bare baseline, checks the read
// scenarios' pages, fetches the revokers' CSRF tokens and lists the
// scenarios.
func startPG(cfg config, e *pgEnv, geoPath string, log *slog.Logger, out io.Writer) ([]scenario, error) {
	var err error
	opts := cfg.portal()
	if e.bbReads, err = startPortal(e.bbReadsDB, geoPath, log, opts); err != nil {
		return nil, err
	}
	if e.bbWrites, err = startPortal(e.bbWritesDB, geoPath, log, opts); err != nil {
		return nil, err
	}
	if e.pgReads, err = startPortal(e.readsURL, geoPath, log, opts); err != nil {
		return nil, err
	}
	if e.pgWrites, err = startPortal(e.writesURL, geoPath, log, opts); err != nil {
		return nil, err
	}
	if e.bigURL != "" {
		if e.pgBig, err = startPortal(e.bigURL, geoPath, log, opts); err != nil {
			return nil, err
		}
	}
	fragBytes, err := checkPage(e.bbReads.base, e.bb.Readers[0], true, fewSessions)
	if err != nil {
		return nil, fmt.Errorf("auth-fragment: %w", err)
	}
	for _, c := range []struct {
		p     *portal
		l     login
		htmx  bool
		rows  int
		label string
	}{
		{e.pgReads, e.pg.Readers[0], true, fewSessions, "auth-fragment-pg"},
		{e.bbReads, e.bb.Listers[0], false, manySessions, "list-100"},
		{e.pgReads, e.pg.Listers[0], false, manySessions, "list-100-pg"},
		{e.pgBig, e.pg.Listers[0], false, manySessions, "list-100-1M-pg"},
	} {
		if c.p == nil {
			continue
		}
		if _, err := checkPage(c.p.base, c.l, c.htmx, c.rows); err != nil {
			return nil, fmt.Errorf("%s: %w", c.label, err)
		}
	}
	for _, side := range []struct {
		p  *portal
		fx pgFixtures
	}{{e.bbWrites, e.bb}, {e.pgWrites, e.pg}} {
		for r := range side.fx.RevokeOne {
			if err := fetchCSRF(side.p.base, side.fx.RevokeOne[r].Actors); err != nil {
				return nil, err
			}
			if err := fetchCSRF(side.p.base, side.fx.RevokeAll[r].Actors); err != nil {
				return nil, err
			}
		}
	}
	data, _, err := newBareData(fragBytes)
	if err != nil {
		return nil, err
	}
	bareApp, err := newBareApp(data)
	if err != nil {
		return nil, err
	}
	if e.bare, err = serve(bareApp); err != nil {
		return nil, err
	}
	all := pgScenarios(e)
	if cfg.Only != "" {
		keep := strings.Split(cfg.Only, ",")
		all = slices.DeleteFunc(all, func(s scenario) bool { return s.name != "bare" && !slices.Contains(keep, s.name) })
	}
	return all, nil
}

// pgScenarios lists the -db postgres scenarios, each bbolt one beside its
// PostgreSQL twin.
func pgScenarios(e *pgEnv) []scenario {
	fixed := func(p plan) func(int) plan { return func(int) plan { return p } }
	const onPG = " (PostgreSQL)"
	list := []scenario{
		{name: "bare", warm: true, plan: fixed(plan{Method: "GET", Base: e.bare.base, Jobs: []job{{Path: "/fragment"}}}),
			about: "Fiber handler rendering an html/template fragment sized like auth-fragment; no auth"},
		{name: "auth-fragment", warm: true, owner: e.bbReads,
			plan:  fixed(readPlan(e.bbReads.base, activeSessionsPath, htmxHeader(), e.bb.Readers)),
			about: fmt.Sprintf("GET %s with HX-Request: true, user with %d sessions (bbolt)", activeSessionsPath, fewSessions)},
		{name: "auth-fragment-pg", warm: true, owner: e.pgReads,
			plan:  fixed(readPlan(e.pgReads.base, activeSessionsPath, htmxHeader(), e.pg.Readers)),
			about: "auth-fragment" + onPG},
		{name: "list-100", warm: true, owner: e.bbReads,
			plan:  fixed(readPlan(e.bbReads.base, activeSessionsPath, nil, e.bb.Listers)),
			about: fmt.Sprintf("full page, user with %d sessions (bbolt)", manySessions)},
		{name: "list-100-pg", warm: true, owner: e.pgReads,
			plan:  fixed(readPlan(e.pgReads.base, activeSessionsPath, nil, e.pg.Listers)),
			about: "list-100" + onPG},
	}
	if e.pgBig != nil {
		list = append(list, scenario{name: "list-100-1M-pg", warm: true, owner: e.pgBig,
			plan:  fixed(readPlan(e.pgBig.base, activeSessionsPath, nil, e.pg.Listers)),
			about: fmt.Sprintf("list-100-pg with %d other sessions in the database", e.bigSessions)})
	}
	return append(list,
		scenario{name: "revoke-one", owner: e.bbWrites,
			plan:  func(r int) plan { return revokeOnePlan(e.bbWrites.base, e.bb.RevokeOne[r]) },
			about: "htmx POST /settings/active-sessions/:id/sign-out of a fresh session (bbolt)"},
		scenario{name: "revoke-one-pg", owner: e.pgWrites,
			plan:  func(r int) plan { return revokeOnePlan(e.pgWrites.base, e.pg.RevokeOne[r]) },
			about: "revoke-one" + onPG},
		scenario{name: "revoke-all-99", owner: e.bbWrites,
			plan:  func(r int) plan { return revokeAllPlan(e.bbWrites.base, e.bb.RevokeAll[r]) },
			about: fmt.Sprintf("htmx POST %s by a fresh user with %d other sessions (bbolt)", signOutOthersPath, revokeAllOther)},
		scenario{name: "revoke-all-99-pg", owner: e.pgWrites,
			plan:  func(r int) plan { return revokeAllPlan(e.pgWrites.base, e.pg.RevokeAll[r]) },
			about: "revoke-all-99" + onPG},
	)
}

// close stops every server and portal that was started.
func (e *pgEnv) close() error {
	var errs []error
	if e.bare != nil {
		errs = append(errs, e.bare.close())
	}
	for _, p := range []*portal{e.bbReads, e.bbWrites, e.pgReads, e.pgWrites, e.pgBig} {
		if p != nil {
			errs = append(errs, p.close())
		}
	}
	return errors.Join(errs...)
}
