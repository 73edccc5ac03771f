package handlers

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/geo"
	"portal/live"
	"portal/password"
	"portal/store"
)

const testPassword = "correct horse battery"

// clock is a settable time source shared by the store and the handlers.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a real app on a real store: a bbolt file in a temp dir, or a
// throwaway PostgreSQL database when TestMain runs the tests again on it.
type env struct {
	t     testing.TB
	st    store.Backend
	app   *fiber.App
	clock *clock
	logs  *strings.Builder
	geo   *geo.Resolver
	cfg   Config
	hub   *live.Hub
}

var passwordHash = sync.OnceValue(func() string {
	h, err := password.Hash(testPassword)
	if err != nil {
		panic(err)
	}
	return h
})

func newEnv(t testing.TB, mod ...func(*Config)) *env {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	return newEnvAt(t, clk.Now, store.Policy{IdleTimeout: 12 * time.Hour, MaxLifetime: 14 * 24 * time.Hour}, clk, mod...)
}

// newEnvAt is newEnv with the time source and session policy given; clk
// may be nil when now is the real clock.
func newEnvAt(t testing.TB, now func() time.Time, policy store.Policy, clk *clock, mod ...func(*Config)) *env {
	t.Helper()
	dir := t.TempDir()
	hub := live.NewHub(live.Options{})
	st := openStore(t, dir, policy, now, hub)
	geoPath := filepath.Join(dir, "geo.mmdb")
	if err := geo.WriteDemoDB(geoPath); err != nil {
		t.Fatal(err)
	}
	res, err := geo.Open(geoPath, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Close() })
	logs := &strings.Builder{}
	var mu sync.Mutex
	cfg := Config{Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, logs}, nil)), Now: now, Live: hub}
	for _, m := range mod {
		m(&cfg)
	}
	app, err := New(st, res, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, st: st, app: app, clock: clk, logs: logs, geo: res, cfg: cfg, hub: hub}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// user creates a user with testPassword in a fresh account of the right
// kind.
func (e *env) user(role store.Role, email string) store.User {
	e.t.Helper()
	acct, err := e.st.CreateAccount("Org of "+email, role.AccountKind())
	if err != nil {
		e.t.Fatal(err)
	}
	u, err := e.st.CreateUser(store.NewUser{AccountID: acct.ID, Email: email, Name: "Name " + email, Role: role, PasswordHash: passwordHash()})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// browser keeps cookies like a browser would, except that it ignores
// expiry, which is what an attacker replaying a cookie does.
type browser struct {
	e       *env
	ua      string
	cookies map[string]string
	last    string            // body of the last page, for CSRF tokens
	headers map[string]string // sent with every request, before do's own
	host    string            // the Host requests name, if not example.com
}

func (e *env) browser(ua string) *browser {
	return &browser{e: e, ua: ua, cookies: map[string]string{}}
}

type resp struct {
	*http.Response
	body string
}

func (r resp) header(k string) string { return r.Header.Get(k) }

// do sends one request. Form values go urlencoded; hdr adds headers.
func (b *browser) do(method, target string, form url.Values, hdr map[string]string) resp {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if b.host != "" {
		req.Host = b.host
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b.ua != "" {
		req.Header.Set("User-Agent", b.ua)
	}
	if method == http.MethodPost {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	for k, v := range b.headers {
		req.Header.Set(k, v)
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := b.e.app.Test(req, -1)
	if err != nil {
		b.e.t.Fatalf("%s %s: %v", method, target, err)
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	r := resp{Response: res, body: string(data)}
	if strings.Contains(r.body, `name="_csrf"`) {
		b.last = r.body
	}
	return r
}

func (b *browser) get(target string) resp { return b.do(http.MethodGet, target, nil, nil) }

func (b *browser) htmx(method, target string, form url.Values) resp {
	return b.do(method, target, form, map[string]string{"HX-Request": "true", csrfHeader: b.csrf()})
}

var csrfRe = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// csrf is the token from the last page that carried one.
func (b *browser) csrf() string {
	m := csrfRe.FindStringSubmatch(b.last)
	if m == nil {
		return ""
	}
	return m[1]
}

// post submits a form with the page's CSRF token, like a plain browser.
func (b *browser) post(target string, form url.Values) resp {
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form[csrfField]; !ok {
		form.Set(csrfField, b.csrf())
	}
	return b.do(http.MethodPost, target, form, nil)
}

// signIn signs in through the real form, expecting to land where the
// user's role starts, and fails the test otherwise.
func (b *browser) signIn(email string) {
	b.e.t.Helper()
	u, err := b.e.st.UserByEmail(email)
	if err != nil {
		b.e.t.Fatalf("sign in %s: %v", email, err)
	}
	b.get("/login")
	r := b.post("/login", url.Values{"email": {email}, "password": {testPassword}})
	if want := landing(u.Role); r.StatusCode != http.StatusSeeOther || r.header("Location") != want {
		b.e.t.Fatalf("sign in %s: status %d location %q, want 303 to %s; body %.300s", email, r.StatusCode, r.header("Location"), want, r.body)
	}
	if isPartner(u.Role) {
		b.get(partnerURL) // load a page with a session CSRF token
		return
	}
	b.get(activeSessionsURL)
}

func (b *browser) token() string {
	if t := b.cookies[secureSessionCookie]; t != "" {
		return t
	}
	return b.cookies[sessionCookie]
}

var rowIDRe = regexp.MustCompile(`<tr id="session-([0-9a-f]{32})"`)

// rowIDs lists the session ids on the Active Sessions page, in order.
func (b *browser) rowIDs() []string {
	b.e.t.Helper()
	r := b.get(activeSessionsURL)
	if r.StatusCode != http.StatusOK {
		b.e.t.Fatalf("active sessions: status %d", r.StatusCode)
	}
	var ids []string
	for _, m := range rowIDRe.FindAllStringSubmatch(r.body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// currentID is the id of b's own session.
func (b *browser) currentID() string {
	b.e.t.Helper()
	s, _, err := b.e.st.Authenticate(b.token())
	if err != nil {
		b.e.t.Fatalf("current session: %v", err)
	}
	return s.ID
}

// listen serves the app on a real loopback socket and returns its base URL.
func (e *env) listen() string {
	e.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	go e.app.Listener(ln)
	e.t.Cleanup(func() { e.app.Shutdown() })
	return "http://" + ln.Addr().String()
}
