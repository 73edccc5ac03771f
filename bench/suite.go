package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"portal/geo"
)

// run is the whole benchmark: seed, serve, measure, report.
func run(cfg config, out io.Writer) (err error) {
	if cfg.Workers < 1 || cfg.Runs < 1 || cfg.Duration <= 0 {
		return errors.New("-c, -runs and -d must be positive")
	}
	if cfg.Rate < 0 {
		return errors.New("-rate must not be negative (0 is closed loop)")
	}
	if cfg.Only == "live" {
		cfg.Live.Only = true
	}
	fmt.Fprintln(out, machineInfo())
	fmt.Fprintf(out, "flags: %s\n", strings.Join(os.Args[1:], " "))
	work, err := os.MkdirTemp(cfg.Dir, "portal-bench-")
	if err != nil {
		return err
	}
	if !cfg.Keep {
		defer os.RemoveAll(work)
	}
	seedDir, err := os.MkdirTemp(cfg.SeedDir, "portal-bench-seed-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(seedDir)
	fmt.Fprintf(out, "databases under test in %s (seeded in %s)\n", work, seedDir)

	geoPath := filepath.Join(work, "geo.mmdb")
	if err := geo.WriteDemoDB(geoPath); err != nil {
		return err
	}
	loc, err := geo.Open(geoPath, nil)
	if err != nil {
		return err
	}
	defer loc.Close()
	log, err := newLogger(cfg.Log)
	if err != nil {
		return err
	}

	switch cfg.PG.DB {
	case "postgres":
		if err := runPostgres(cfg, seedDir, work, geoPath, loc, log, out); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		fmt.Fprintf(out, "\nload average at the end: %s (other work on the machine shows up as disagreeing runs)\n", loadAverage())
		return nil
	case "bbolt":
	default:
		return fmt.Errorf("-db %q: want bbolt or postgres", cfg.PG.DB)
	}
	if !cfg.Live.Only {
		if err := runScenarios(cfg, seedDir, work, geoPath, loc, log, out); err != nil {
			return err
		}
	}
	if cfg.liveWanted() {
		res, err := runLive(cfg, seedDir, work, geoPath, loc, log, out)
		if err != nil {
			return fmt.Errorf("live updates: %w", err)
		}
		printLive(out, res)
		printLiveTargets(out, res)
	}
	fmt.Fprintf(out, "\nload average at the end: %s (other work on the machine shows up as disagreeing runs)\n", loadAverage())
	return nil
}

// runScenarios seeds, serves and times the scenarios, and prints their
// table, the heap measurement and their targets.
func runScenarios(cfg config, seedDir, work, geoPath string, loc *geo.Resolver, log *slog.Logger, out io.Writer) (err error) {
	fx, err := seedAll(cfg, seedDir, work, loc, out)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	runner, err := newRunner(cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, runner.close()) }()
	fmt.Fprintln(out, runner.describe())
	if cfg.Hub {
		fmt.Fprintln(out, "portals serve live updates (/events) with the store publishing to their hub; no stream is open during the scenarios")
	} else {
		fmt.Fprintln(out, "portals without live updates (-hub=false), as before issue 17")
	}

	e, scenarios, err := startAll(cfg, fx, geoPath, log, out)
	if err != nil {
		return err
	}
	results, err := runSuite(cfg, runner, scenarios, out)
	if err == nil && cfg.CPUProfile != "" {
		err = profile(cfg, runner, scenarios, out)
	}
	if cerr := e.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	sums := summarize(scenarios, results)
	printTable(out, cfg, scenarios, sums)
	heap, err := heapPhase(cfg, fx, geoPath)
	if err != nil {
		return err
	}
	printHeap(out, heap)
	printTargets(out, sums, heap, cfg.Rate > 0)
	return nil
}

// newRunner starts the load generator: a pinned child process with -pin
// (this process was already re-executed on the server CPUs), else this
// process.
func newRunner(cfg config) (loadRunner, error) {
	if !cfg.Pin {
		return inProcess{}, nil
	}
	return startChild(cfg.ClientCPUs)
}

// startAll starts the portals and baselines, checks that each read
// scenario gets what it claims, and sizes the baseline fragment like the
// auth-fragment.
func startAll(cfg config, fx *fixtures, geoPath string, log *slog.Logger, out io.Writer) (*env, []scenario, error) {
	e := &env{}
	fail := func(err error) (*env, []scenario, error) { return nil, nil, errors.Join(err, e.close()) }
	var err error
	if e.small, err = startPortal(fx.SmallDB, geoPath, log, cfg.portal()); err != nil {
		return fail(err)
	}
	if e.writes, err = startPortal(fx.WritesDB, geoPath, log, cfg.portal()); err != nil {
		return fail(err)
	}
	if e.partner, err = startPortal(fx.PartnerDB, geoPath, log, cfg.portal()); err != nil {
		return fail(err)
	}
	if fx.BigDB != "" {
		if e.big, err = startPortal(fx.BigDB, geoPath, log, cfg.portal()); err != nil {
			return fail(err)
		}
	}
	fragBytes, err := checkPage(e.small.base, fx.Readers[0], true, fewSessions)
	if err != nil {
		return fail(fmt.Errorf("auth-fragment: %w", err))
	}
	for _, c := range []struct {
		p     *portal
		l     login
		htmx  bool
		rows  int
		label string
	}{
		{e.small, fx.Readers[0], false, fewSessions, "auth-page"},
		{e.small, fx.Listers[0], false, manySessions, "list-100"},
		{e.big, fx.Readers[0], true, fewSessions, "auth-fragment-1M"},
		{e.big, fx.Listers[0], false, manySessions, "list-100-1M"},
	} {
		if c.p == nil {
			continue
		}
		if _, err := checkPage(c.p.base, c.l, c.htmx, c.rows); err != nil {
			return fail(fmt.Errorf("%s: %w", c.label, err))
		}
	}
	consoles := partnerScenarios(e.partner, fx.Partners, cfg.Workers, "", "")
	var bigConsoles []partnerScenario
	if e.big != nil {
		bigConsoles = partnerScenarios(e.big, fx.Partners, cfg.Workers, "-1M",
			fmt.Sprintf(", with %d other sessions in the store", fx.BigSessions))
	}
	for _, ps := range append(slices.Clip(consoles), bigConsoles...) {
		if err := ps.check(); err != nil {
			return fail(err)
		}
	}
	if err := checkActivity(e.partner.base, fx.Activity); err != nil {
		return fail(fmt.Errorf("activity: %w", err))
	}
	for r := range fx.RevokeOne {
		if err := fetchCSRF(e.writes.base, fx.RevokeOne[r].Actors); err != nil {
			return fail(err)
		}
		if err := fetchCSRF(e.writes.base, fx.RevokeAll[r].Actors); err != nil {
			return fail(err)
		}
	}

	data, bareBytes, err := newBareData(fragBytes)
	if err != nil {
		return fail(err)
	}
	bareApp, err := newBareApp(data)
	if err != nil {
		return fail(err)
	}
	if e.bare, err = serve(bareApp); err != nil {
		return fail(err)
	}
	sessApp, err := newSessionApp(data)
	if err != nil {
		return fail(err)
	}
	if e.sessions, err = serve(sessApp); err != nil {
		return fail(err)
	}
	cookies, err := startSessions(e.sessions.base, cfg.Workers)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(out, "auth-fragment body %d bytes; bare fragment %d rows, %d bytes\n", fragBytes, len(data.Rows), bareBytes)
	all := buildScenarios(e, fx, cookies, consoles, bigConsoles)
	if cfg.Only != "" {
		keep := strings.Split(cfg.Only, ",")
		all = slices.DeleteFunc(all, func(s scenario) bool { return s.name != "bare" && !slices.Contains(keep, s.name) })
	}
	return e, all, nil
}

// close stops every server and portal that was started.
func (e *env) close() error {
	var errs []error
	for _, s := range []*appServer{e.bare, e.sessions} {
		if s != nil {
			errs = append(errs, s.close())
		}
	}
	for _, p := range []*portal{e.small, e.writes, e.partner, e.big} {
		if p != nil {
			errs = append(errs, p.close())
		}
	}
	return errors.Join(errs...)
}
