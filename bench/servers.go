package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/server"
	"portal/store/bolt"
)

// noEnv is an empty environment: the benchmark's portals take the
// server's defaults, never the PORTAL_* variables of whoever runs it.
func noEnv(string) string { return "" }

// storeOptions are the server's default session policy with no session
// cap, so a user can hold the 100 sessions of list-100 and the revoke
// pools: for the stores the benchmark seeds and the tests open directly.
func storeOptions() bolt.Options {
	policy, err := server.PolicyFromEnv(noEnv)
	if err != nil {
		panic(err) // the server's own defaults
	}
	return bolt.Options{Policy: policy}
}

// appServer is one Fiber app listening on a loopback port: a baseline.
type appServer struct {
	app  *fiber.App
	base string
	done chan error
}

// serve starts app on 127.0.0.1 at a free port.
func serve(app *fiber.App) (*appServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &appServer{app: app, base: "http://" + ln.Addr().String(), done: make(chan error, 1)}
	go func() { s.done <- app.Listener(ln) }()
	return s, nil
}

func (s *appServer) close() error {
	err := s.app.ShutdownWithTimeout(5 * time.Second)
	return errors.Join(err, <-s.done)
}

// portal is the portal as its binary runs it (server.New, then Run with
// its flush, sweep and GeoIP jobs) on one database, on a loopback port.
type portal struct {
	srv  *server.Server
	base string
	stop context.CancelFunc
	done chan error // Run's
}

// portalOptions are how a benchmark portal runs, beyond its database.
type portalOptions struct {
	Flush     time.Duration // the portal's -flush-interval
	NoHub     bool          // no live updates (-hub=false), as before issue 17
	Heartbeat time.Duration // the live streams' heartbeat; 0 for the portal's default
	Pool      int           // PostgreSQL: the portal's -db-pool; 0 for its default
	// Passkeys sets the portal's -public-url to http://localhost:PORT, its
	// own port, which turns passkeys on for requests to that origin.
	Passkeys bool
	// TrustedProxies are the portal's -trusted-proxies: the forwarding
	// header of requests from them is believed.
	TrustedProxies []netip.Prefix
}

// serverConfig is the portal's configuration on db, a bbolt file or a
// PostgreSQL URL, resolving addresses with the GeoIP database at geoDB:
// the server's defaults but for the session cap (none, as storeOptions)
// and opts.
func serverConfig(db, geoDB string, opts portalOptions) (server.Config, error) {
	cfg, err := server.ParseConfig(nil, noEnv, io.Discard)
	if err != nil {
		return cfg, err
	}
	cfg.DB, cfg.GeoIPDB = db, geoDB
	cfg.MaxSessions = 0
	cfg.FlushInterval, cfg.NoLive = opts.Flush, opts.NoHub
	if opts.Heartbeat > 0 {
		cfg.LiveHeartbeat = opts.Heartbeat
	}
	if opts.Pool > 0 {
		cfg.DBPool = opts.Pool
	}
	cfg.TrustedProxies = opts.TrustedProxies
	return cfg, nil
}

// startPortal runs the portal of serverConfig. It listens before Run, so
// requests may be sent at once.
func startPortal(db, geoDB string, log *slog.Logger, opts portalOptions) (*portal, error) {
	cfg, err := serverConfig(db, geoDB, opts)
	if err != nil {
		return nil, err
	}
	if cfg.Listener, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	if opts.Passkeys {
		cfg.PublicURL = "http://localhost:" + strconv.Itoa(cfg.Listener.Addr().(*net.TCPAddr).Port)
	}
	srv, err := server.New(cfg, log)
	if err != nil {
		cfg.Listener.Close()
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	p := &portal{srv: srv, base: "http://" + cfg.Listener.Addr().String(), stop: stop, done: make(chan error, 1)}
	go func() { p.done <- srv.Run(ctx) }()
	return p, nil
}

// close shuts the portal down as its binary does on SIGTERM: Run ends
// the live streams, lets requests finish and stops its jobs; Close
// flushes and closes the database.
func (p *portal) close() error {
	p.stop()
	return errors.Join(<-p.done, p.srv.Close())
}

// newLogger is the request log the portals write (see -log).
func newLogger(kind string) (*slog.Logger, error) {
	switch kind {
	case "text":
		return slog.New(slog.NewTextHandler(io.Discard, nil)), nil
	case "discard":
		return slog.New(slog.DiscardHandler), nil
	case "stderr":
		return slog.New(slog.NewTextHandler(os.Stderr, nil)), nil
	}
	return nil, fmt.Errorf("-log %q: want text, discard or stderr", kind)
}
