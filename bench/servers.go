package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/handlers"
	"portal/live"
	"portal/store"
)

// storeOptions are the production defaults (portal's -idle-timeout and
// -max-lifetime) except the session cap: 0, no cap, so a user can hold
// the 100 sessions of list-100 and the revoke pools.
func storeOptions() store.Options {
	return store.Options{
		Policy:             store.Policy{IdleTimeout: 12 * time.Hour, MaxLifetime: 14 * 24 * time.Hour},
		MaxSessionsPerUser: 0,
	}
}

// server is one Fiber app listening on a loopback port.
type server struct {
	app  *fiber.App
	base string
	done chan error
}

// serve starts app on 127.0.0.1 at a free port.
func serve(app *fiber.App) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &server{app: app, base: "http://" + ln.Addr().String(), done: make(chan error, 1)}
	go func() { s.done <- app.Listener(ln) }()
	return s, nil
}

func (s *server) close() error {
	err := s.app.ShutdownWithTimeout(5 * time.Second)
	return errors.Join(err, <-s.done)
}

// portal is the real app (handlers.New on store.Open) over one database
// file, with the last-active flush loop and, unless -hub=false, the
// live-updates hub the portal binary runs.
type portal struct {
	*server
	st      store.Backend // bbolt, or PostgreSQL with -db postgres
	hub     *live.Hub     // nil with -hub=false
	flushes atomic.Int64  // flushes that had something to write
	stop    context.CancelFunc
	wg      sync.WaitGroup
}

// portalOptions are how a benchmark portal runs, beyond its database.
type portalOptions struct {
	Flush     time.Duration // the portal's -flush-interval
	NoHub     bool          // no live updates (-hub=false), as before issue 17
	Heartbeat time.Duration // the live streams' heartbeat; 0 for the portal's default
}

// startPortal opens the database at path and serves the app on it, wired
// like server.New: the store publishes to the hub the handlers serve
// /events from.
func startPortal(path string, loc handlers.Locator, log *slog.Logger, opts portalOptions) (*portal, error) {
	hub := opts.newHub()
	st, err := store.Open(path, portalStoreOptions(hub))
	if err != nil {
		return nil, err
	}
	return servePortal(st, hub, loc, log, opts)
}

// newHub is the portal's live-updates hub, nil with -hub=false.
func (o portalOptions) newHub() *live.Hub {
	if o.NoHub {
		return nil
	}
	return live.NewHub(live.Options{})
}

// servePortal serves the app on st, which publishes to hub (if any), and
// runs its flush loop; st is closed if that fails.
func servePortal(st store.Backend, hub *live.Hub, loc handlers.Locator, log *slog.Logger, opts portalOptions) (*portal, error) {
	app, err := handlers.New(st, loc, portalConfig(log, hub, opts.Heartbeat))
	if err != nil {
		st.Close()
		return nil, err
	}
	srv, err := serve(app)
	if err != nil {
		st.Close()
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	p := &portal{server: srv, st: st, hub: hub, stop: stop}
	p.wg.Add(1)
	go p.flushLoop(ctx, opts.Flush, log)
	return p, nil
}

// portalStoreOptions are storeOptions publishing to hub, if any. (A nil
// *live.Hub must not become a non-nil store.Notifier.)
func portalStoreOptions(hub *live.Hub) store.Options {
	o := storeOptions()
	if hub != nil {
		o.Notifier = hub
	}
	return o
}

// portalConfig is the handlers' configuration: the request log and, with a
// hub, live updates.
func portalConfig(log *slog.Logger, hub *live.Hub, heartbeat time.Duration) handlers.Config {
	c := handlers.Config{Logger: log, LiveHeartbeat: heartbeat}
	if hub != nil {
		c.Live = hub
	}
	return c
}

func (p *portal) flushLoop(ctx context.Context, every time.Duration, log *slog.Logger) {
	defer p.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if p.st.PendingActivity() == 0 {
				continue // FlushActivity would not open a transaction
			}
			p.flushes.Add(1)
			if _, err := p.st.FlushActivity(); err != nil {
				log.Error("flush", "err", err)
			}
		}
	}
}

// close stops the app, the flush loop and the store (which flushes). Live
// streams are closed first, as the portal binary does: fasthttp's graceful
// shutdown does not wait for hijacked connections.
func (p *portal) close() error {
	if p.hub != nil {
		p.hub.Close()
	}
	err := p.server.close()
	p.stop()
	p.wg.Wait()
	return errors.Join(err, p.st.Close())
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
