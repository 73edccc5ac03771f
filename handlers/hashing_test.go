package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
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
	// An unknown email takes no slot, but is refused just as a known one
	// is, so that a full gate does not tell which emails exist.
	for _, email := range []string{"s@example.com", "nobody@example.com"} {
		for range accountFreeFailures + 1 {
			b.get("/login")
			r := b.post("/login", url.Values{"email": {email}, "password": {testPassword}})
			if r.StatusCode != http.StatusServiceUnavailable || r.header("Retry-After") != "2" || !strings.Contains(r.body, "busy checking other sign-ins") {
				t.Fatalf("sign-in as %s with the gate full: %d Retry-After %q %.300s", email, r.StatusCode, r.header("Retry-After"), r.body)
			}
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
	for i := range n {
		e.user(store.RoleClientStaff, fmt.Sprintf("user%d@example.com", i))
	}
	base, tr := e.listen(), netTransport(t)
	clients := make([]*netClient, n)
	for i := range clients {
		clients[i] = newNetClient(t, base, tr)
		clients[i].openLogin()
	}
	rs := together(n, func(i int) netResp {
		return clients[i].login(fmt.Sprintf("user%d@example.com", i), "guess", map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.%d.1", i)})
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

// TestUnknownEmailTakesNoSlot: a sign-in for an email with no account
// does not wait for the gate (the only slot is taken here, and it still
// answers), but waits as long as a check takes (password.NoUserDelay), and
// says what a wrong password says. Each took a slot before, so a flood of
// them kept everyone else out.
func TestUnknownEmailTakesNoSlot(t *testing.T) {
	gate := password.NewGate(1, 1, time.Hour)
	e := newEnv(t, func(c *Config) { c.PasswordGate = gate })
	release, err := gate.Enter()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	b := e.browser(uaChrome)
	b.get("/login")
	start := time.Now()
	r := b.post("/login", url.Values{"email": {"nobody@example.com"}, "password": {"guess"}})
	took := time.Since(start)
	if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.body, errBadCredentials) {
		t.Fatalf("unknown email with the gate's slot taken: %d, want 401 with %q", r.StatusCode, errBadCredentials)
	}
	// The mechanism, not a clock: no answer comes before the shortest
	// check this process has measured.
	if floor := minNoUserDelay(); took < floor {
		t.Fatalf("an unknown email was answered in %s, before any check could finish (the shortest took %s)", took, floor)
	}
}

// minNoUserDelay is the shortest delay NoUserDelay gives now.
func minNoUserDelay() time.Duration {
	m := password.NoUserDelay()
	for range 200 {
		m = min(m, password.NoUserDelay())
	}
	return m
}

// TestSecurity_UnknownEmailTiming: sign-ins for unknown emails take as
// long as wrong passwords for real accounts. Many of each, interleaved so
// that the machine's load falls on both alike, and compared by their
// medians; only a gross difference fails (one three times the other),
// which a loaded machine does not produce but skipping the wait (a
// millisecond against tens) does.
func TestSecurity_UnknownEmailTiming(t *testing.T) {
	const n = 25
	e := newEnv(t, trustAll)
	e.user(store.RoleClientStaff, "s@example.com")
	// Checks made earlier (by other tests, under other load) are not the
	// measure of now: a few checks first, as a running server makes them.
	for range 16 {
		password.Verify(passwordHash(), "guess")
	}
	var known, unknown []time.Duration
	for i := range 2 * n {
		email := "s@example.com"
		if i%2 == 1 {
			email = fmt.Sprintf("nobody%d@example.com", i)
		}
		b := e.browser(uaChrome)
		b.get("/login")
		start := time.Now()
		r := b.do(http.MethodPost, "/login", url.Values{"email": {email}, "password": {"guess"}, csrfField: {b.csrf()}},
			map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.%d.1", i)})
		took := time.Since(start)
		if r.StatusCode == http.StatusTooManyRequests {
			e.clock.Advance(throttleWindow + time.Second) // the account's free failures are spent
			continue
		}
		if r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s: %d", email, r.StatusCode)
		}
		if i%2 == 1 {
			unknown = append(unknown, took)
		} else {
			known = append(known, took)
		}
	}
	mk, mu := median(known), median(unknown)
	t.Logf("median of %d wrong passwords %s, of %d unknown emails %s", len(known), mk, len(unknown), mu)
	if mu*3 < mk || mk*3 < mu {
		t.Fatalf("unknown emails take %s (median), wrong passwords %s: the difference tells which emails exist", mu, mk)
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestSecurity_DeviceCookieReservedShare: with every ordinary slot and
// place to wait taken, a browser with a device cookie for the account
// still gets its password checked; a new browser is refused.
func TestSecurity_DeviceCookieReservedShare(t *testing.T) {
	gate := password.NewGate(1, 0, time.Minute).WithReserved(1, 1)
	e := newEnv(t, func(c *Config) { c.PasswordGate = gate })
	e.user(store.RoleClientStaff, "s@example.com")
	home := e.browser(uaFirefox)
	home.signIn("s@example.com")
	delete(home.cookies, sessionCookie)
	release, err := gate.Enter() // a flood holds every ordinary slot
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	home.get("/login")
	if r := home.post("/login", url.Values{"email": {"s@example.com"}, "password": {testPassword}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the known browser with the ordinary slots full: %d, want signed in", r.StatusCode)
	}
	fresh := e.browser(uaChrome)
	fresh.get("/login")
	if r := fresh.post("/login", url.Values{"email": {"s@example.com"}, "password": {testPassword}}); r.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a new browser with the ordinary slots full: %d, want 503", r.StatusCode)
	}
}
