package handlers

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"portal/store"
)

// Tests for the red-team findings of December 2026, one per finding. Each
// failed on the code before its fix.

// TestSecurity_PaddedForwardingHeader: behind a trusted proxy, a client
// that pads X-Forwarded-For (the proxy appends the real address after
// it) must not be taken for the proxy: it would escape the per-network
// throttle and show as "Private network" on the victim's page.
func TestSecurity_PaddedForwardingHeader(t *testing.T) {
	e := newEnv(t, trustLoopback)
	u := e.user(store.RoleClientStaff, "s@example.com")
	base := e.listen()
	c := newNetClient(t, base, netTransport(t))
	c.openLogin()
	from := func(xff string) map[string]string { return map[string]string{"X-Forwarded-For": xff} }
	// Lock the intruder's network.
	for i := range ipFreeFailures {
		if r := c.login(fmt.Sprintf("u%d@example.com", i), "guess", from("203.0.113.7")); r.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, r.status)
		}
	}
	if r := c.login("s@example.com", testPassword, from("203.0.113.7")); r.status != http.StatusTooManyRequests {
		t.Fatalf("the locked network: %d, want 429", r.status)
	}
	padded := strings.Repeat("1", 2100) + ", 203.0.113.7"
	tests := []struct {
		name, xff string
		status    int
		says      string
	}{
		{"padded to escape the lock", padded, http.StatusRequestHeaderFieldsTooLarge, "X-Forwarded-For header is too long"},
		{"garbage where the client should be", "203.0.113.7, junk", http.StatusBadRequest, "X-Forwarded-For header is not a list of addresses"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.login("s@example.com", testPassword, from(tt.xff))
			if r.status != tt.status || !strings.Contains(r.body, tt.says) {
				t.Fatalf("%d %.300s, want %d saying %q", r.status, r.body, tt.status, tt.says)
			}
		})
	}
	if list, _ := e.st.ListUserSessions(u.ID); len(list) != 0 {
		t.Fatalf("a refused header still signed in: %+v", list)
	}
	// A signed-in browser that pads the header is refused too, and its
	// session keeps the network it really came from.
	if r := c.login("s@example.com", testPassword, from("198.51.100.7")); r.status != http.StatusSeeOther {
		t.Fatalf("sign in: %d", r.status)
	}
	if r := c.do(http.MethodGet, activeSessionsURL, nil, from(strings.Repeat("1", 2100)+", 198.51.100.7")); r.status != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("a signed-in request with a padded header: %d", r.status)
	}
	e.st.FlushLastActive()
	list, _ := e.st.ListUserSessions(u.ID)
	if len(list) != 1 || list[0].LastPlace.Masked != "198.51.100.x" {
		t.Fatalf("sessions %+v, want one, last seen from 198.51.100.x", list)
	}
}

// TestSecurity_PlantedHelperCookies: the flash cookie is bound to the
// session that set it, and over HTTPS every cookie has the __Host- prefix.
func TestSecurity_PlantedHelperCookies(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	a, b := e.browser(uaFirefox), e.browser(uaChrome)
	a.signIn("s@example.com")
	b.signIn("s@example.com")
	b.cookies[flashCookie] = "password.999999"
	if p := b.get("/settings?section=password"); strings.Contains(p.body, "999999") || strings.Contains(p.body, "password was changed") {
		t.Fatal("a planted flash cookie made the page claim a password change")
	}
	// A genuine flash of one session does not speak in another.
	a.get(activeSessionsURL)
	if r := a.post("/settings/active-sessions/sign-out-others", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out others: %d", r.StatusCode)
	}
	other := e.browser(uaIPhone)
	other.signIn("s@example.com")
	other.cookies[flashCookie] = a.cookies[flashCookie]
	if p := other.get(activeSessionsURL); strings.Contains(p.body, "Signed out 1 other session.") {
		t.Fatal("a flash cookie copied from another session was shown")
	}
	if p := a.get(activeSessionsURL); !strings.Contains(p.body, "Signed out 1 other session.") {
		t.Fatal("the genuine flash is not shown to the session that set it")
	}

	s := newEnv(t, func(c *Config) { c.SecureCookies = true })
	s.user(store.RoleClientStaff, "s@example.com")
	sb := s.browser(uaFirefox)
	sb.signIn("s@example.com")
	sb.cookies[sessionCookie] = sb.token() // a made-up unprefixed cookie must not matter
	sb.get(activeSessionsURL)
	sb.post("/settings/active-sessions/sign-out-others", nil)
	for _, name := range []string{preSessionCookie, deviceCookie, flashCookie} {
		if sb.cookies[name] != "" {
			t.Errorf("with -secure-cookies the portal set %s without the __Host- prefix", name)
		}
	}
	for _, name := range []string{hostPrefix + deviceCookie, hostPrefix + flashCookie, secureSessionCookie} {
		if sb.cookies[name] == "" {
			t.Errorf("with -secure-cookies the portal did not set %s", name)
		}
	}
}

// TestSecurity_OneNotFoundPage: a partner gets byte-for-byte the same 404
// for an Active Sessions route as for a path that does not exist.
func TestSecurity_OneNotFoundPage(t *testing.T) {
	e := newEnv(t)
	e.user(store.RolePartnerAdmin, "p@partner.example")
	p := e.browser(uaFirefox)
	p.signIn("p@partner.example")
	p.get("/settings?section=profile")
	unknown := p.get("/no-such-page")
	if unknown.StatusCode != http.StatusNotFound || !strings.Contains(unknown.body, "p@partner.example") && !strings.Contains(unknown.body, "Sign out") {
		t.Fatalf("unknown path: %d, want the signed-in 404 page", unknown.StatusCode)
	}
	for _, r := range []resp{
		p.get(activeSessionsURL),
		p.get("/settings?section=session-management"),
		p.get("/settings/active-sessions/sign-out-others"),
		p.post("/settings/active-sessions/sign-out-others", nil),
		p.post("/settings/active-sessions/"+strings.Repeat("a", 32)+"/sign-out", nil),
		p.post("/no-such-page", nil),
	} {
		if r.StatusCode != http.StatusNotFound || r.body != unknown.body {
			t.Errorf("%s %s: %d, and the body differs from an unknown path's: %v", r.Request.Method, r.Request.URL, r.StatusCode, r.body != unknown.body)
		}
	}
}

// TestSecurity_HXRedirectIsOurs: an absolute-form request target must not
// come back as the htmx redirect.
func TestSecurity_HXRedirectIsOurs(t *testing.T) {
	e := newEnv(t)
	addr := strings.TrimPrefix(e.listen(), "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET http://evil.example/login?reason=idle&x=1 HTTP/1.1\r\nHost: %s\r\nHX-Request: true\r\nConnection: close\r\n\r\n", addr)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get(hxRedirect); got != "/login?reason=idle" {
		t.Fatalf("HX-Redirect %q, want /login?reason=idle", got)
	}
}

// TestSecurity_OriginCheckIgnoresForwardedHost: X-Forwarded-Host from a
// client cannot make a foreign Origin look like the portal's own.
func TestSecurity_OriginCheckIgnoresForwardedHost(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	b := e.browser(uaFirefox)
	b.get("/login")
	r := b.do(http.MethodPost, "/login", url.Values{"email": {"s@example.com"}, "password": {testPassword}, csrfField: {b.csrf()}},
		map[string]string{"Sec-Fetch-Site": "", "Origin": "http://evil.example", "X-Forwarded-Host": "evil.example"})
	if r.StatusCode != http.StatusForbidden {
		t.Fatalf("a foreign Origin with a matching X-Forwarded-Host: %d, want 403", r.StatusCode)
	}
	r = b.do(http.MethodPost, "/login", url.Values{"email": {"s@example.com"}, "password": {testPassword}, csrfField: {b.csrf()}},
		map[string]string{"Sec-Fetch-Site": "", "Origin": "http://example.com"})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("our own Origin: %d, want 303", r.StatusCode)
	}
}

// TestSecurity_LongUserAgent: the user agent is shown to the user, so one
// longer than the limit is refused with a sentence, not cut in silence.
func TestSecurity_LongUserAgent(t *testing.T) {
	e := newEnv(t)
	u := e.user(store.RoleClientStaff, "s@example.com")
	tests := []struct {
		name   string
		ua     string
		status int
	}{
		{"at the limit", "Mozilla/5.0 " + strings.Repeat("x", maxUserAgent-12), http.StatusOK},
		{"one byte over", "Mozilla/5.0 " + strings.Repeat("x", maxUserAgent-11), http.StatusRequestHeaderFieldsTooLarge},
		{"15 KB", strings.Repeat("y", 15_000), http.StatusRequestHeaderFieldsTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.browser(tt.ua).get("/login")
			if r.StatusCode != tt.status {
				t.Fatalf("%d, want %d", r.StatusCode, tt.status)
			}
			if tt.status != http.StatusOK && !strings.Contains(r.body, "User-Agent header longer than 1024 bytes") {
				t.Fatalf("no sentence: %.300s", r.body)
			}
		})
	}
	b := e.browser(uaFirefox)
	b.get("/login")
	b.ua = strings.Repeat("y", 15_000)
	b.post("/login", url.Values{"email": {"s@example.com"}, "password": {testPassword}})
	if list, _ := e.st.ListUserSessions(u.ID); len(list) != 0 {
		t.Fatal("a sign-in with an over-long User-Agent was accepted")
	}
}

// TestSecurity_NoSecretsInURLsOrReadiness: the sign-in form takes its
// fields from the body only, and /readyz names no file path.
func TestSecurity_NoSecretsInURLsOrReadiness(t *testing.T) {
	e := newEnv(t)
	u := e.user(store.RoleClientStaff, "s@example.com")
	b := e.browser(uaFirefox)
	b.get("/login")
	creds := url.Values{"email": {"s@example.com"}, "password": {testPassword}, csrfField: {b.csrf()}}
	if r := b.do(http.MethodPost, "/login?"+creds.Encode(), url.Values{}, nil); r.StatusCode != http.StatusForbidden {
		t.Fatalf("token and credentials in the query string: %d, want 403", r.StatusCode)
	}
	query := url.Values{"email": {"s@example.com"}, "password": {testPassword}}
	if r := b.do(http.MethodPost, "/login?"+query.Encode(), url.Values{csrfField: {b.csrf()}}, nil); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("credentials in the query string: %d, want 400", r.StatusCode)
	}
	if list, _ := e.st.ListUserSessions(u.ID); len(list) != 0 {
		t.Fatal("credentials in the query string signed in")
	}
	r := b.get("/readyz")
	dir := filepath.Dir(e.st.Path())
	if r.StatusCode != http.StatusOK || strings.Contains(r.body, dir) || strings.Contains(r.body, ".mmdb") || !strings.Contains(r.body, "geo: ok (") {
		t.Fatalf("/readyz: %q", r.body)
	}
}

// TestSecurity_HSTS: Strict-Transport-Security is sent exactly when the
// portal knows it is served over HTTPS.
func TestSecurity_HSTS(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		hdr  map[string]string
		want string
	}{
		{"plain http", nil, nil, ""},
		{"-secure-cookies", func(c *Config) { c.SecureCookies = true }, nil, "max-age=31536000"},
		{"trusted proxy says https", trustAll, map[string]string{"X-Forwarded-Proto": "https"}, "max-age=31536000"},
		{"untrusted peer says https", nil, map[string]string{"X-Forwarded-Proto": "https"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mods []func(*Config)
			if tt.mod != nil {
				mods = append(mods, tt.mod)
			}
			e := newEnv(t, mods...)
			for _, path := range []string{"/login", "/static/app.css", "/no-such-page"} {
				if got := e.browser(uaFirefox).do(http.MethodGet, path, nil, tt.hdr).header("Strict-Transport-Security"); got != tt.want {
					t.Errorf("%s: Strict-Transport-Security %q, want %q", path, got, tt.want)
				}
			}
		})
	}
}
