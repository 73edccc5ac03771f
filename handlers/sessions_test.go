package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"portal/store"
)

const (
	uaFirefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
	uaChrome  = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	uaIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1"
)

func TestLoginForm(t *testing.T) {
	e := newEnv(t)
	b := e.browser(uaFirefox)
	r := b.get("/login")
	for _, want := range []string{`<label for="email">Email</label>`, `<label for="password">Password</label>`, `>Sign in</button>`, `name="_csrf"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("sign-in page lacks %s", want)
		}
	}
}

func TestLoginWrongCredentialsAreGeneric(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "staff@example.com")
	tests := []struct{ name, email, pw string }{
		{"wrong password", "staff@example.com", "not the password"},
		{"unknown user", "nobody@example.com", "whatever password"},
		{"case of password", "staff@example.com", strings.ToUpper(testPassword)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := e.browser(uaFirefox)
			b.get("/login")
			r := b.post("/login", url.Values{"email": {tt.email}, "password": {tt.pw}})
			if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.body, errBadCredentials) {
				t.Fatalf("status %d, want 401 with the generic message; body %.200s", r.StatusCode, r.body)
			}
			if b.token() != "" {
				t.Fatal("a failed sign-in set a session cookie")
			}
		})
	}
}

func TestSignInAndOut(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientManager, "m@example.com")
	b := e.browser(uaFirefox)
	b.signIn("m@example.com")
	old := b.token()
	r := b.post("/logout", nil)
	if r.StatusCode != http.StatusSeeOther || r.header("Location") != "/login?reason=signed_out" {
		t.Fatalf("sign out: %d %q", r.StatusCode, r.header("Location"))
	}
	if b.token() != "" {
		t.Fatal("sign-out did not clear the cookie")
	}
	b.cookies[sessionCookie] = old
	if r := b.get("/settings"); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.header("Location"), "/login") {
		t.Fatalf("signed-out cookie still works: %d", r.StatusCode)
	}
	if r := b.get("/login?reason=signed_out"); !strings.Contains(r.body, "You have signed out.") {
		t.Fatal("sign-in page does not say the user signed out")
	}
}

func TestSidebarAndRoutesByRole(t *testing.T) {
	e := newEnv(t)
	roles := []struct {
		role     store.Role
		customer bool
	}{
		{store.RoleClientAdmin, true}, {store.RoleClientManager, true}, {store.RoleClientStaff, true},
		{store.RolePartnerAdmin, false}, {store.RolePartnerStaff, false},
	}
	for _, tt := range roles {
		t.Run(string(tt.role), func(t *testing.T) {
			email := string(tt.role) + "@example.com"
			e.user(tt.role, email)
			b := e.browser(uaChrome)
			b.signIn(email)
			settings := b.get("/settings")
			if settings.StatusCode != http.StatusOK || !strings.Contains(settings.body, `<h1 id="section-title">Profile</h1>`) {
				t.Fatalf("/settings: %d, want the Profile section first", settings.StatusCode)
			}
			hasLink := strings.Contains(settings.body, `href="/settings?section=active-sessions"`)
			if hasLink != tt.customer {
				t.Fatalf("sidebar Active Sessions link present = %v, want %v", hasLink, tt.customer)
			}
			id := strings.Repeat("a", 32)
			routes := []struct{ method, path string }{
				{"GET", "/settings?section=active-sessions"},
				{"GET", "/settings?section=session-management"},
				{"GET", "/settings/active-sessions/sign-out-others"},
				{"POST", "/settings/active-sessions/sign-out-others"},
				{"POST", "/settings/active-sessions/" + id + "/sign-out"},
				{"GET", "/settings/active-sessions/" + id + "/sign-out"},
			}
			for _, rt := range routes {
				r := b.do(rt.method, rt.path, url.Values{csrfField: {b.csrf()}}, nil)
				if !tt.customer && r.StatusCode != http.StatusNotFound {
					t.Errorf("partner %s %s: %d, want 404", rt.method, rt.path, r.StatusCode)
				}
				if tt.customer && r.StatusCode == http.StatusNotFound && rt.path != "/settings/active-sessions/"+id+"/sign-out" {
					t.Errorf("customer %s %s: 404", rt.method, rt.path)
				}
			}
		})
	}
}

func TestLegacySectionRedirects(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	b := e.browser(uaChrome)
	b.signIn("s@example.com")
	r := b.get("/settings?section=session-management")
	if r.StatusCode != http.StatusMovedPermanently || r.header("Location") != activeSessionsURL {
		t.Fatalf("legacy full page: %d %q", r.StatusCode, r.header("Location"))
	}
	r = b.do("GET", "/settings?section=session-management", nil, map[string]string{"HX-Request": "true"})
	if r.StatusCode != http.StatusOK || r.header("HX-Push-Url") != activeSessionsURL || !strings.Contains(r.body, `id="active-sessions"`) || strings.Contains(r.body, "<html") {
		t.Fatalf("legacy htmx: %d push %q", r.StatusCode, r.header("HX-Push-Url"))
	}
}

func TestUnknownAndBadSections(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	b := e.browser(uaChrome)
	b.signIn("s@example.com")
	for _, s := range []string{"nope", "ACTIVE-SESSIONS", "active-sessions%00", strings.Repeat("x", 5000), "%3Cscript%3E", "password%20"} {
		r := b.get("/settings?section=" + s)
		if r.StatusCode != http.StatusNotFound || !strings.Contains(r.body, "Page not found") {
			t.Errorf("section %.30q: %d, want 404 page", s, r.StatusCode)
		}
	}
}

func TestListCurrentFirstAndOrdered(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientAdmin, "a@example.com")
	first, second, third := e.browser(uaFirefox), e.browser(uaChrome), e.browser(uaIPhone)
	first.signIn("a@example.com")
	e.clock.Advance(time.Minute)
	second.signIn("a@example.com")
	e.clock.Advance(time.Minute)
	third.signIn("a@example.com")
	e.clock.Advance(time.Minute)
	first.get("/settings") // first is now the most recently active other session
	ids := second.rowIDs()
	want := []string{second.currentID(), first.currentID(), third.currentID()}
	if strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Fatalf("row order %v, want current then most recently active %v", ids, want)
	}
	page := second.get(activeSessionsURL).body
	if strings.Count(page, "Current session") != 1 {
		t.Fatal("want exactly one row labelled Current session")
	}
	cur := page[strings.Index(page, `<tr id="session-`+want[0]):]
	cur = cur[:strings.Index(cur, "</tr>")]
	if strings.Contains(cur, ">Sign out</button>") || !strings.Contains(cur, "Current session") {
		t.Fatal("current row must be labelled and have no Sign out button")
	}
	for _, want := range []string{"Firefox 133 on Windows", "Chrome 131 on macOS", "Safari on iPhone", `<time datetime="2026-11-27T09:`, "Sign out all other devices"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestSignOutOneSession(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	me, other, third := e.browser(uaFirefox), e.browser(uaChrome), e.browser(uaIPhone)
	other.signIn("s@example.com")
	third.signIn("s@example.com")
	me.signIn("s@example.com")
	me.get(activeSessionsURL)
	otherID := other.currentID()

	// htmx: the same row partial comes back, signed out, without a layout.
	r := me.htmx("POST", "/settings/active-sessions/"+otherID+"/sign-out", nil)
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(r.body), "<tr") || strings.Contains(r.body, "<html") {
		t.Fatalf("htmx revoke: %d %.200s", r.StatusCode, r.body)
	}
	if !strings.Contains(r.body, "is-ended") || !strings.Contains(r.body, "Signed out") || strings.Contains(r.body, ">Sign out</button>") {
		t.Fatalf("row is not in its signed-out state: %s", r.body)
	}
	if !strings.Contains(r.header("HX-Trigger"), "Signed out Chrome 131 on macOS") {
		t.Fatalf("no announcement: %q", r.header("HX-Trigger"))
	}
	// The sign-out-all control is updated out of band: one other is left.
	if !strings.Contains(r.body, `<template><div id="sign-out-others" class="head-actions" hx-swap-oob="true">`) || !strings.Contains(r.body, "This signs out 1 other session.") {
		t.Fatalf("the sign-out-all count is not brought up to date: %s", r.body)
	}
	// Revoked sessions are not listed on the next load.
	for _, id := range me.rowIDs() {
		if id == otherID {
			t.Fatal("revoked session still listed")
		}
	}

	// Plain form: 303 back to the list, with a message.
	thirdID := third.currentID()
	r = me.post("/settings/active-sessions/"+thirdID+"/sign-out", nil)
	if r.StatusCode != http.StatusSeeOther || r.header("Location") != activeSessionsURL {
		t.Fatalf("plain revoke: %d %q", r.StatusCode, r.header("Location"))
	}
	if page := me.get(activeSessionsURL); !strings.Contains(page.body, "The session was signed out.") {
		t.Fatal("no confirmation after a plain revoke")
	}
	if _, _, err := e.st.Authenticate(third.token()); err == nil {
		t.Fatal("plain revoke did not revoke")
	}
}

// TestHXHeaders: a signed-in full page tells htmx to send the session's
// CSRF token with every request (the body's hx-headers); fragments, which
// land inside that page, and the sign-in page carry none.
func TestHXHeaders(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	b := e.browser(uaFirefox)
	if page := b.get("/login").body; strings.Contains(page, "hx-headers") {
		t.Fatal("the sign-in page carries hx-headers")
	}
	b.signIn("s@example.com")
	page := b.get(activeSessionsURL).body
	want := `<body hx-headers="{&#34;` + csrfHeader + `&#34;:&#34;` + b.csrf() + `&#34;}" hx-ext="sse" sse-connect="/events" data-live-since="`
	if b.csrf() == "" || !strings.Contains(page, want) {
		t.Fatalf("page lacks %s", want)
	}
	if frag := b.htmx(http.MethodGet, activeSessionsURL, nil).body; strings.Contains(frag, "hx-headers") {
		t.Fatal("the htmx fragment carries hx-headers")
	}
}
