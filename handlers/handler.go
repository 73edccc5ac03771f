// Package handlers is the HTTP face of the portal: sign-in, the Settings
// page and its Active Sessions section, and the partner console, served
// with Fiber and htmx.
package handlers

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/gofiber/fiber/v2/middleware/recover"

	"portal/geo"
	"portal/live"
	"portal/password"
	"portal/static"
	"portal/store"
)

// Locator resolves an address to a coarse location. *geo.Resolver is one.
type Locator interface {
	Place(addr netip.Addr) geo.Place
	State() string
}

// DemoLogin is a sign-in listed on the demo's sign-in page.
type DemoLogin struct {
	Email string
	Role  string
}

// Config is what the handlers need to know about the deployment.
type Config struct {
	// SecureCookies marks cookies Secure and names the session cookie with
	// the __Host- prefix. Set it when users reach the app over HTTPS.
	SecureCookies bool
	// TrustedProxies are the peers whose ProxyHeader is believed.
	TrustedProxies []netip.Prefix
	// ProxyHeader names the forwarding header, X-Forwarded-For by default.
	ProxyHeader string
	// Demo shows a banner and the demo sign-ins.
	Demo         bool
	DemoLogins   []DemoLogin
	DemoPassword string
	Logger       *slog.Logger
	// PasswordGate bounds concurrent password hashing; nil means one sized
	// to the CPUs (see hashing.go).
	PasswordGate *password.Gate
	// Live serves signed-in pages their changes over server-sent events
	// (/events); the store publishes to the same hub. nil turns live
	// updates off: pages work as they do without JavaScript.
	Live *live.Hub
	// LiveHeartbeat is how often an idle stream sends a comment, so that
	// proxies keep it open and dead peers are found; 25 s if zero.
	LiveHeartbeat time.Duration
	// ReauthWindow is how long a sign-in, or a confirmation that it is
	// them ("Confirm it's you"), lets a user change their two-step
	// sign-in; default 15 minutes.
	ReauthWindow time.Duration
	// LiveWriteStall is how long a write to a stream may block before the
	// peer counts as gone; 10 s if zero.
	LiveWriteStall time.Duration
	// PublicURL is the portal's public address (https://portal.example.com,
	// or http://localhost:PORT), checked by ParsePublicURL: its host is
	// the relying party id of passkeys and its origin the only one they
	// are accepted from. "" turns passkeys off.
	PublicURL string
	// DBKind names the database for /readyz ("bbolt" if empty).
	DBKind string
	// Now replaces time.Now in tests.
	Now func() time.Time
}

// handler holds what every request needs: the store (as the small
// interfaces of stores.go), the locator, the configuration and the
// throttles. New returns the Fiber app built on it.
type handler struct {
	stores
	geo      Locator
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	throttle *throttle
	hashGate *password.Gate
	ended    *endedSessions
	views    *viewEngine
	rp       *relyingParty // nil: passkeys off
}

// Body and header limits: every form here is a few hundred bytes.
const (
	bodyLimit      = 16 << 10
	readBufferSize = 16 << 10
)

// New builds the Fiber app with every route. It parses all templates first,
// so a broken template stops the binary at start-up rather than on a page.
func New(st store.Backend, loc Locator, cfg Config) (*fiber.App, error) {
	if loc == nil {
		loc = (*geo.Resolver)(nil) // no database: masked networks only
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ProxyHeader == "" {
		cfg.ProxyHeader = fiber.HeaderXForwardedFor
	}
	if cfg.ReauthWindow <= 0 {
		cfg.ReauthWindow = 15 * time.Minute
	}
	engine, _, err := loadTemplates()
	if err != nil {
		return nil, err
	}
	if cfg.PasswordGate == nil {
		cfg.PasswordGate = newHashGate()
	}
	origin, err := ParsePublicURL(cfg.PublicURL)
	if err != nil {
		return nil, fmt.Errorf("handlers: the public address %w", err)
	}
	rp, err := newRelyingParty(origin)
	if err != nil {
		return nil, err
	}
	h := &handler{stores: storesOf(st), geo: loc, cfg: cfg, log: cfg.Logger, now: cfg.Now, throttle: newThrottle(), hashGate: cfg.PasswordGate,
		ended: newEndedSessions(maxEndedSessions), views: engine, rp: rp}

	fcfg := fiber.Config{
		Views:                 engine,
		ViewsLayout:           defaultLayout,
		ErrorHandler:          h.handleError,
		BodyLimit:             bodyLimit,
		ReadBufferSize:        readBufferSize,
		DisableStartupMessage: true,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           120 * time.Second,
		// Give a connection's read buffer back to the pool once a request
		// is read, rather than holding it while idle: keep-alive
		// connections, and live-update streams (which take the connection
		// over), then cost a few KiB each instead of readBufferSize more.
		ReduceMemoryUsage: true,
	}
	if len(cfg.TrustedProxies) > 0 {
		// Only so c.Protocol() believes X-Forwarded-Proto from our proxies;
		// the client address is decided by ClientIP, not c.IP().
		fcfg.EnableTrustedProxyCheck = true
		fcfg.ProxyHeader = cfg.ProxyHeader
		fcfg.EnableIPValidation = true
		for _, p := range cfg.TrustedProxies {
			fcfg.TrustedProxies = append(fcfg.TrustedProxies, p.String())
		}
	}
	app := fiber.New(fcfg)
	// Fiber v2.52 fills its list of mounted apps lazily, on the first
	// Render and without a lock, so the first pages rendered at the same
	// time race. Render once, alone, before any route exists: the 404
	// error page, which logs nothing.
	res, err := app.Test(httptest.NewRequest(fiber.MethodGet, "/", nil), -1)
	if err != nil {
		return nil, fmt.Errorf("handlers: first render: %w", err)
	}
	res.Body.Close()
	h.routes(app)
	return app, nil
}

func (h *handler) routes(app *fiber.App) {
	app.Use(h.logRequests, h.securityHeaders, recover.New(), h.limitUserAgent)
	app.Use("/static", filesystem.New(filesystem.Config{Root: http.FS(static.FS), MaxAge: 3600}))
	app.Get("/healthz", h.healthz)
	if h.cfg.Live != nil {
		app.Get(eventsURL, h.liveEvents)
	}
	app.Get("/readyz", h.readyz)

	app.Get("/", h.home)
	app.Get("/login", h.loginPage)
	app.Post("/login", h.sameOrigin, h.loginSubmit)
	app.Get(secondStepPath, h.secondStepPage)
	app.Post(secondStepPath, h.sameOrigin, h.secondStepSubmit)
	app.Get(requiredSetupPath, h.requiredSetupPage)
	app.Post(requiredSetupPath, h.sameOrigin, h.requiredSetupSubmit)
	app.Get(confirmPath, h.requireSession, h.confirmPage)
	app.Post(confirmPath, h.requireSession, h.sameOrigin, h.requireCSRF, h.confirmSubmit)
	app.Post("/logout", h.requireSession, h.sameOrigin, h.requireCSRF, h.signOut)
	app.Post(passkeySignInPath+optionsSuffix, h.requirePasskeys, h.sameOrigin, h.passkeySignInOptions)
	app.Post(passkeySignInPath, h.requirePasskeys, h.sameOrigin, h.passkeySignIn)
	app.Post(passkeySecondPath+optionsSuffix, h.requirePasskeys, h.sameOrigin, h.passkeySecondOptions)
	app.Post(passkeySecondPath, h.requirePasskeys, h.sameOrigin, h.passkeySecond)
	app.Post(passkeyConfirmPath+optionsSuffix, h.requireSession, h.requirePasskeys, h.sameOrigin, h.requireCSRF, h.passkeyConfirmOptions)
	app.Post(passkeyConfirmPath, h.requireSession, h.requirePasskeys, h.sameOrigin, h.requireCSRF, h.passkeyConfirm)

	app.Get("/settings", h.requireSession, h.settingsPage)
	app.Post("/settings/password", h.requireSession, h.sameOrigin, h.requireCSRF, h.passwordChange)
	ts := app.Group("/settings/two-step", h.requireSession)
	ts.Get("/setup", h.twoStepSetupPage)
	ts.Post("/setup", h.sameOrigin, h.requireCSRF, h.twoStepSetup)
	ts.Get("/turn-off", h.twoStepOffPage)
	ts.Post("/turn-off", h.sameOrigin, h.requireCSRF, h.twoStepOff)
	ts.Get("/new-codes", h.twoStepNewCodesPage)
	ts.Post("/new-codes", h.sameOrigin, h.requireCSRF, h.twoStepNewCodes)
	pk := app.Group(passkeysPath, h.requireSession)
	pk.Post(optionsSuffix, h.requirePasskeys, h.sameOrigin, h.requireCSRF, h.passkeyAddOptions)
	pk.Post("/", h.requirePasskeys, h.sameOrigin, h.requireCSRF, h.passkeyAdd)
	pk.Post("/:id/rename", h.sameOrigin, h.requireCSRF, h.passkeyRename)
	pk.Get("/:id/remove", h.passkeyRemovePage)
	pk.Post("/:id/remove", h.sameOrigin, h.requireCSRF, h.passkeyRemove)

	// Every Active Sessions route: partners get 404 before anything else,
	// whatever the method, so they cannot even learn the routes exist.
	as := app.Group("/settings/active-sessions", h.requireSession, h.customerOnly)
	as.Get("/sign-out-others", h.signOutOthersConfirm)
	as.Post("/sign-out-others", h.sameOrigin, h.requireCSRF, h.signOutOthers)
	as.Post("/:id/sign-out", h.sameOrigin, h.requireCSRF, h.signOutSession)

	// The partner console: customers get 404 before anything else,
	// whatever the method, as partners do on Active Sessions.
	pc := app.Group(partnerURL, h.requireSession, h.partnerOnly)
	pc.Get("/", h.partnerClients)
	pc.Get("/users", h.partnerUsers)
	pc.Get("/accounts/:id", h.partnerAccount)
	pc.Get("/users/:id", h.partnerUser)
	pc.Get("/users/:id/sign-out-everywhere", h.partnerSignOutEverywhereConfirm)
	pc.Post("/users/:id/sign-out-everywhere", h.sameOrigin, h.requireCSRF, h.partnerSignOutEverywhere)
	pc.Post("/users/:id/sessions/:sid/sign-out", h.sameOrigin, h.requireCSRF, h.partnerSignOutSession)
	pc.Post("/accounts/:id/require-two-step", h.sameOrigin, h.requireCSRF, h.partnerRequireTwoStep)
	pc.Get("/users/:id/two-step/turn-off", h.partnerTwoStepOffConfirm)
	pc.Post("/users/:id/two-step/turn-off", h.sameOrigin, h.requireCSRF, h.partnerTwoStepOff)
	// No catch-all: Fiber answers 404 for unknown paths and 405 for a known
	// path with the wrong method (GET on a sign-out endpoint).
}

// home sends a signed-in user to where their role starts, anyone else to
// sign-in (with the reason, if their session just ended).
func (h *handler) home(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	a, reason, err := h.authenticate(c)
	switch {
	case err != nil:
		return err
	case a == nil:
		return h.toSignIn(c, reason)
	}
	return h.redirect(c, landing(a.User.Role))
}

func (h *handler) healthz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.SendString("ok\n")
}

// readyz reports whether the database answers and how the GeoIP database
// stands; a missing GeoIP database degrades rows but is not "unready".
// It names no file path: anyone who can reach the portal can read it.
func (h *handler) readyz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	geoState := "disabled"
	if h.geo != nil {
		geoState = h.geo.State()
	}
	kind := h.cfg.DBKind
	if kind == "" {
		kind = "bbolt"
	}
	if err := h.db.Ping(); err != nil {
		h.log.Error("readiness check failed", "err", err)
		return c.Status(fiber.StatusServiceUnavailable).SendString("db: unavailable (" + kind + ")\ngeo: " + geoState + "\n")
	}
	return c.SendString("db: ok (" + kind + ")\ngeo: " + geoState + "\n")
}
