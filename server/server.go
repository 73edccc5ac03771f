// Package server is the running portal: its flags and PORTAL_* variables,
// the wiring of store, GeoIP and HTTP app, their lifecycle, and the server
// side of the admin socket.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/demo"
	"portal/geo"
	"portal/handlers"
	"portal/live"
	"portal/password"
	"portal/store"
	"portal/store/bolt"
)

// Logger is the logger -log-format asks for, writing to w.
func (c Config) Logger(w io.Writer) *slog.Logger {
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// Server is the running portal: the store, the geo resolver and the HTTP
// app, plus the background jobs that keep them tidy.
type Server struct {
	cfg   Config
	log   *slog.Logger
	store store.Backend
	hub   *live.Hub
	geo   *geo.Resolver
	app   *fiber.App
	// hashGate bounds password hashing: sign-ins, and operator commands
	// run for a CLI over the admin socket.
	hashGate *password.Gate
	// fatal carries the first damaged-database error a background job hit;
	// Run then shuts down and returns it.
	fatal chan error
	// flushes counts the flush loop's flushes that wrote last-active times.
	flushes atomic.Int64
}

// New opens the database cfg names (seeding it for -demo) and the GeoIP
// database, and builds the HTTP app; nothing listens until Run.
func New(cfg Config, log *slog.Logger) (*Server, error) {
	if cfg.DemoReset {
		if err := resetDemoDB(cfg.DB); err != nil {
			return nil, err
		}
	}
	var hub *live.Hub
	var notifier store.Notifier // not a nil *live.Hub, which would be a non-nil Notifier
	if !cfg.NoLive {
		hub = live.NewHub(live.Options{MaxPerUser: cfg.LiveStreamsPerUser, MaxTotal: cfg.LiveStreams})
		notifier = hub
	}
	st, err := OpenDB(context.Background(), cfg.DB, DBOptions{
		Policy:      store.Policy{IdleTimeout: cfg.IdleTimeout, MaxLifetime: cfg.MaxLifetime},
		MaxSessions: cfg.MaxSessions, Notifier: notifier,
		PoolSize: cfg.DBPool, ConnectTimeout: cfg.DBConnectTimeout,
	})
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, store: st, hub: hub, fatal: make(chan error, 1), hashGate: handlers.NewPasswordGate()}
	geoPath := cfg.GeoIPDB
	if cfg.Demo && geoPath == "" {
		// The demo resolves its sample addresses through the real lookup
		// path, from a small database of documentation ranges.
		geoPath = cfg.DB + ".demo-geo.mmdb"
		if IsPostgres(cfg.DB) {
			geoPath = filepath.Join(os.TempDir(), "portal-demo-geo.mmdb")
		}
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
		Demo: cfg.Demo, Logger: log, Live: hub, LiveHeartbeat: cfg.LiveHeartbeat, ReauthWindow: cfg.ReauthWindow, DBKind: DBKind(cfg.DB),
		PasswordGate: s.hashGate, PublicURL: publicURL(cfg),
	}
	if cfgH.PublicURL == "" {
		log.Info("passkeys are off: set -public-url to the address users open the portal at (https://…) to turn them on")
	}
	if cfg.Demo {
		var seeded bool
		err := s.guarded(func() (err error) {
			seeded, err = demo.Seed(st, s.geo, time.Now())
			return err
		})
		if err != nil {
			s.Close()
			return nil, err
		}
		if seeded {
			log.Info("seeded demo users and sessions", "password", "see the sign-in page")
		}
		cfgH.DemoPassword = demo.Password
		for _, l := range demo.Logins {
			cfgH.DemoLogins = append(cfgH.DemoLogins, handlers.DemoLogin{Email: l.Email, Role: l.Role.Label()})
		}
	}
	if s.app, err = handlers.New(st, s.geo, cfgH); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// shutdownTimeout bounds how long in-flight requests may take to finish
// once shutdown has begun.
const shutdownTimeout = 10 * time.Second

// Run serves until ctx is cancelled, then stops accepting, lets in-flight
// requests finish (up to shutdownTimeout) and returns once the background
// jobs have stopped too, so Close never races a flush or a sweep.
func (s *Server) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var jobs sync.WaitGroup
	defer jobs.Wait()
	defer cancel()
	defer s.spareProcs()()
	jobs.Go(func() { s.flushLoop(ctx) })
	jobs.Go(func() { s.sweepLoop(ctx) })
	jobs.Go(func() { s.geo.Watch(ctx, time.Minute) })
	jobs.Go(func() { s.reloadOnHUP(ctx) })

	ln := s.cfg.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", s.cfg.Addr); err != nil {
			return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
		}
	}
	if IsPostgres(s.cfg.DB) {
		// Operator commands open PostgreSQL themselves, next to the
		// servers; there is no file to share, so no socket.
	} else if stopAdmin, err := s.serveAdmin(ctx); err != nil {
		// Serving does not need it, so the server runs on; but operator
		// commands and online backups do, and err says how to fix it.
		s.log.Error("no admin socket: operator commands and portal backup will need the server stopped", "err", err)
	} else {
		defer stopAdmin()
	}
	errc := make(chan error, 1)
	go func() { errc <- s.app.Listener(ln) }()
	// The real address, so -addr 127.0.0.1:0 works for tests and scripts.
	s.log.Info("portal listening", "addr", "http://"+ln.Addr().String(), "db", ShowDB(s.cfg.DB), "demo", s.cfg.Demo)
	if url := publicURL(s.cfg); url != "" {
		s.log.Info("open the portal at "+url, "passkeys", "on for "+url)
	}
	var fatal error
	select {
	case err := <-errc:
		return fmt.Errorf("serve on %s: %w", s.cfg.Addr, err)
	case fatal = <-s.fatal:
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "deadline", shutdownTimeout.String())
	// Live-update streams are not requests the server waits for: each is
	// told to reconnect (to the next process) and closed, at once.
	if s.hub != nil {
		if n := s.hub.Close(); n > 0 {
			s.log.Info("closed live-update streams", "streams", n)
		}
	}
	if err := s.app.ShutdownWithTimeout(shutdownTimeout); err != nil {
		return errors.Join(fatal, fmt.Errorf("shutdown: requests still running after %s: %w", shutdownTimeout, err))
	}
	return fatal
}

// Close flushes last-active times and closes the database and geo reader.
func (s *Server) Close() error {
	err := s.guarded(s.store.Close)
	if gerr := s.geo.Close(); gerr != nil {
		err = errors.Join(err, gerr)
	}
	return err
}

// resetDemoDB deletes the database for -demo-reset, but never one another
// process holds open: deleting an open bbolt file would leave that portal
// writing to an unlinked file while this one starts a second database
// under the same name. A damaged or foreign file is deleted all the same,
// since starting afresh is what -demo-reset asks for.
func resetDemoDB(path string) error {
	if err := bolt.Remove(path, 0); err != nil {
		if errors.Is(err, bolt.ErrLocked) {
			return fmt.Errorf("%w; stop it before -demo-reset", err)
		}
		return err
	}
	return nil
}

// guarded runs fn, turning a panic or fault into an error wrapping
// store.ErrDamaged that names the file: bbolt panics on a page it cannot
// make sense of, and faults on a file cut short under it, instead of a crash with a stack trace.
func (s *Server) guarded(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s could not be read (%v); restore it from a backup or move it aside to start a new one", store.ErrDamaged, s.cfg.DB, r)
		}
	}()
	return fn()
}

// stopIfDamaged hands a damaged-database error to Run, which shuts the
// server down, and reports whether it did.
func (s *Server) stopIfDamaged(err error) bool {
	if !errors.Is(err, store.ErrDamaged) {
		return false
	}
	select {
	case s.fatal <- err:
	default:
	}
	return true
}

// flushLoop writes last-active times once per interval. A failed flush
// keeps its queue for the next one and never blocks requests.
func (s *Server) flushLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			err := s.guarded(func() error {
				n, err := s.store.FlushLastActive()
				if n > 0 {
					s.flushes.Add(1)
				}
				return err
			})
			if s.stopIfDamaged(err) {
				return
			}
			if err != nil {
				s.log.Error("last-active flush failed; will retry", "err", err)
			}
		}
	}
}

// sweepLoop deletes long-ended sessions, hourly, in small batches.
func (s *Server) sweepLoop(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		var n int
		err := s.guarded(func() (err error) { n, err = s.store.SweepContext(ctx, s.cfg.Retention, 500); return err })
		if s.stopIfDamaged(err) || ctx.Err() != nil {
			return // damaged, or shutting down mid-sweep: the next start sweeps again
		}
		if err != nil {
			s.log.Error("session sweep failed", "err", err)
		} else if n > 0 {
			s.log.Info("deleted ended sessions", "count", n)
		}
		err = s.guarded(func() (err error) { n, err = s.store.SweepEvents(ctx, s.cfg.ActivityRetention, 500); return err })
		if s.stopIfDamaged(err) || ctx.Err() != nil {
			return
		}
		if err != nil {
			s.log.Error("activity sweep failed", "err", err)
		} else if n > 0 {
			s.log.Info("deleted old security activity", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// reloadOnHUP reopens the GeoIP database on SIGHUP.
func (s *Server) reloadOnHUP(ctx context.Context) {
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

// publicURL is where users open the portal: -public-url, or for the demo
// http://localhost and its port (a passkey cannot be bound to an IP
// address, and browsers allow them over plain http only on localhost).
// "" when neither, or the demo's port is not known yet (-addr with :0).
func publicURL(cfg Config) string {
	if cfg.PublicURL != "" || !cfg.Demo {
		return cfg.PublicURL
	}
	addr := cfg.Addr
	if cfg.Listener != nil {
		addr = cfg.Listener.Addr().String()
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "0" {
		return ""
	}
	return "http://localhost:" + port
}

// spareProcs gives the Go runtime one more P for each password hash that
// can run at once, and returns what takes them back. A hash runs at the
// lowest CPU priority (password.LowPriority), but holds a P while it
// runs: without spare ones, a flood of hashes would hold every P and
// other requests would wait for the scheduler's 10 ms time slices, since
// the Go scheduler has no priorities. With them, other requests always
// find a P and the kernel gives them the CPU before the hashes.
func (s *Server) spareProcs() (restore func()) {
	if !password.LowersPriority {
		return func() {}
	}
	n := s.hashGate.Slots()
	runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + n)
	return func() { runtime.GOMAXPROCS(max(1, runtime.GOMAXPROCS(0)-n)) }
}
