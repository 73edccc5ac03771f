package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/demo"
	"portal/geo"
	"portal/handlers"
	"portal/store"
)

// run dispatches to a subcommand or starts the server, and returns the
// process exit code.
func run(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		return runCommand(args, getenv, stdin, stdout, stderr)
	}
	cfg, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flagHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "portal: %v\n", err)
		return 2
	}
	if cfg.Version {
		fmt.Fprintf(stdout, "portal %s\n", version)
		return 0
	}
	log := newLogger(cfg.LogFormat, stderr)
	srv, err := newServer(cfg, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		fmt.Fprintf(stderr, "portal: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Run(ctx); err != nil {
		log.Error("server stopped", "err", err)
		srv.Close()
		return 1
	}
	if err := srv.Close(); err != nil {
		log.Error("shutdown incomplete", "err", err)
		return 1
	}
	return 0
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// server is the running portal: the store, the geo resolver and the HTTP
// app, plus the background jobs that keep them tidy.
type server struct {
	cfg   config
	log   *slog.Logger
	store *store.Store
	geo   *geo.Resolver
	app   *fiber.App
}

func newServer(cfg config, log *slog.Logger) (*server, error) {
	if cfg.DemoReset {
		if err := os.Remove(cfg.DB); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("reset demo database %s: %w", cfg.DB, err)
		}
	}
	st, err := store.Open(cfg.DB, store.Options{
		Policy:             store.Policy{IdleTimeout: cfg.IdleTimeout, MaxLifetime: cfg.MaxLifetime},
		MaxSessionsPerUser: cfg.MaxSessions,
	})
	if err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, log: log, store: st}
	geoPath := cfg.GeoIPDB
	if cfg.Demo && geoPath == "" {
		// The demo resolves its sample addresses through the real lookup
		// path, from a small database of documentation ranges.
		geoPath = cfg.DB + ".demo-geo.mmdb"
		if err := geo.WriteDemoDB(geoPath); err != nil {
			st.Close()
			return nil, err
		}
	}
	s.geo, err = geo.Open(geoPath, log)
	if err != nil {
		log.Warn(err.Error()) // rows show masked addresses until it is fixed
	}
	cfgH := handlers.Config{
		SecureCookies: cfg.SecureCookies, TrustedProxies: cfg.TrustedProxies, ProxyHeader: cfg.ProxyHeader,
		Demo: cfg.Demo, Logger: log,
	}
	if cfg.Demo {
		seeded, err := demo.Seed(st, s.geo, time.Now())
		if err != nil {
			s.Close()
			return nil, err
		}
		if seeded {
			log.Info("seeded demo users and sessions", "password", "see the sign-in page")
		}
		cfgH.DemoPassword = demo.Password
		for _, l := range demo.Logins {
			cfgH.DemoLogins = append(cfgH.DemoLogins, handlers.DemoLogin{Email: l.Email, Role: handlers.RoleLabel(l.Role)})
		}
	}
	if s.app, err = handlers.New(st, s.geo, cfgH); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Run serves until ctx is cancelled, then stops accepting, lets in-flight
// requests finish (up to a deadline) and returns.
func (s *server) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go s.flushLoop(ctx)
	go s.sweepLoop(ctx)
	go s.geo.Watch(ctx, time.Minute)
	go s.reloadOnHUP(ctx)

	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.app.Listener(ln) }()
	// The real address, so -addr 127.0.0.1:0 works for tests and scripts.
	s.log.Info("portal listening", "addr", "http://"+ln.Addr().String(), "db", s.cfg.DB, "demo", s.cfg.Demo)
	select {
	case err := <-errc:
		return fmt.Errorf("serve on %s: %w", s.cfg.Addr, err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	if err := s.app.ShutdownWithTimeout(10 * time.Second); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// Close flushes last-active times and closes the database and geo reader.
func (s *server) Close() error {
	err := s.store.Close()
	if gerr := s.geo.Close(); gerr != nil {
		err = errors.Join(err, gerr)
	}
	if err == nil {
		s.log.Info("stopped cleanly")
	}
	return err
}

// flushLoop writes last-active times once per interval. A failed flush
// keeps its queue for the next one and never blocks requests.
func (s *server) flushLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.store.FlushActivity(); err != nil {
				s.log.Error("last-active flush failed; will retry", "err", err)
			}
		}
	}
}

// sweepLoop deletes long-ended sessions, hourly, in small batches.
func (s *server) sweepLoop(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := s.store.Sweep(s.cfg.Retention, 500); err != nil {
			s.log.Error("session sweep failed", "err", err)
		} else if n > 0 {
			s.log.Info("deleted ended sessions", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// reloadOnHUP reopens the GeoIP database on SIGHUP.
func (s *server) reloadOnHUP(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := s.geo.Reload(); err != nil {
				s.log.Error("GeoIP reload failed; keeping the previous database", "err", err)
			} else {
				s.log.Info("GeoIP database reloaded")
			}
		}
	}
}
