package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"portal/password"
	"portal/store"
)

// TestSecurity_PasswordGateFull: when every hashing slot is taken and no
// one may wait, sign-in and password change answer at once with 503, a
// Retry-After and a sentence, and the refused attempt counts as no one's
// failure.
func TestSecurity_PasswordGateFull(t *testing.T) {
	gate := password.NewGate(1, 0, time.Second)
	e := newEnv(t, func(c *Config) { c.PasswordGate = gate })
	e.user(store.RoleClientStaff, "s@example.com")
	me := e.browser(uaFirefox)
	me.signIn("s@example.com")
	me.get("/settings?section=password")

	release, err := gate.Enter() // someone else is hashing
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser(uaChrome)
	for range accountFreeFailures + 1 {
		b.get("/login")
		r := b.post("/login", url.Values{"email": {"s@example.com"}, "password": {testPassword}})
		if r.StatusCode != http.StatusServiceUnavailable || r.header("Retry-After") != "2" || !strings.Contains(r.body, "busy checking other sign-ins") {
			t.Fatalf("sign-in with the gate full: %d Retry-After %q %.300s", r.StatusCode, r.header("Retry-After"), r.body)
		}
	}
	r := me.post("/settings/password", url.Values{"current_password": {testPassword}, "new_password": {"a brand new password"}})
	if r.StatusCode != http.StatusServiceUnavailable || r.header("Retry-After") != "2" || !strings.Contains(r.body, "busy checking other passwords") {
		t.Fatalf("password change with the gate full: %d Retry-After %q", r.StatusCode, r.header("Retry-After"))
	}
	release()

	// None of the refused attempts counted: all the free failures remain.
	for i := range accountFreeFailures {
		b.get("/login")
		if r := b.post("/login", url.Values{"email": {"s@example.com"}, "password": {"wrong"}}); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d after the gate emptied: %d, want 401", i, r.StatusCode)
		}
	}
}

// TestSecurity_PasswordGateParallel: many sign-ins at once, each for
// another account from another network so no throttle applies, are either
// checked or refused at once with 503; none fails otherwise.
func TestSecurity_PasswordGateParallel(t *testing.T) {
	const n = 60
	e := newEnv(t, trustLoopback)
	base, tr := e.listen(), netTransport(t)
	clients := make([]*netClient, n)
	for i := range clients {
		clients[i] = newNetClient(t, base, tr)
		clients[i].openLogin()
	}
	rs := together(n, func(i int) netResp {
		return clients[i].login(fmt.Sprintf("nobody%d@example.com", i), "guess", map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.%d.1", i)})
	})
	got := statuses(rs)
	t.Logf("%d at once: %v", n, got)
	if got[http.StatusUnauthorized]+got[http.StatusServiceUnavailable] != n || got[http.StatusUnauthorized] == 0 {
		t.Fatalf("want only 401 and 503, some 401: %v", got)
	}
	if got[http.StatusServiceUnavailable] == 0 {
		t.Fatalf("%d simultaneous password checks were all let in; the gate holds %d running and %d waiting", n, hashSlots(), hashSlots()*hashWaitersPerSlot)
	}
	for _, r := range rs {
		if r.status == http.StatusServiceUnavailable && (r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "busy")) {
			t.Fatalf("a 503 without Retry-After or a sentence")
		}
	}
}
