package handlers

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"portal/store"
)

// trustAll makes app.Test's fake peer (0.0.0.0) a trusted proxy, so tests
// can say where a request comes from with X-Forwarded-For.
func trustAll(c *Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/32")} }

func (b *browser) signInFrom(email, ip string) {
	b.e.t.Helper()
	b.do("GET", "/login", nil, map[string]string{"X-Forwarded-For": ip})
	r := b.do("POST", "/login", map[string][]string{"email": {email}, "password": {testPassword}, csrfField: {b.csrf()}}, map[string]string{"X-Forwarded-For": ip})
	if r.StatusCode != 303 {
		b.e.t.Fatalf("sign in from %s: %d", ip, r.StatusCode)
	}
}

func (b *browser) pageFrom(ip string) string {
	return b.do("GET", activeSessionsURL, nil, map[string]string{"X-Forwarded-For": ip}).body
}

func TestRowLocation(t *testing.T) {
	tests := []struct {
		name, ip string
		want     []string
		notWant  []string
	}{
		{"city and country", "203.0.113.10", []string{"Berlin, Germany", "approx.", "203.0.113.x"}, []string{"203.0.113.10"}},
		{"region only", "192.0.2.10", []string{"Ontario, Canada", "192.0.2.x"}, []string{"192.0.2.10"}},
		{"country only", "192.0.2.200", []string{"Brazil", "192.0.2.x"}, []string{"192.0.2.200"}},
		{"ipv6", "2001:db8:1::abcd", []string{"Sydney, Australia", "2001:db8:1::/48"}, []string{"abcd"}},
		{"not in the database", "203.0.113.200", []string{"Unknown location", "203.0.113.x"}, []string{"203.0.113.200", "approx."}},
		{"private network", "10.1.2.3", []string{"Private network", "10.1.2.x"}, []string{"10.1.2.3", "approx."}},
		{"cgnat", "100.64.9.9", []string{"Private network"}, []string{"100.64.9.9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, trustAll)
			e.user(store.RoleClientStaff, "s@example.com")
			b := e.browser(uaFirefox)
			b.signInFrom("s@example.com", tt.ip)
			page := b.pageFrom(tt.ip)
			for _, w := range tt.want {
				if !strings.Contains(page, w) {
					t.Errorf("row lacks %q", w)
				}
			}
			for _, nw := range tt.notWant {
				if strings.Contains(page, nw) {
					t.Errorf("page contains %q", nw)
				}
			}
		})
	}
}

func TestRowLocationMoves(t *testing.T) {
	e := newEnv(t, trustAll)
	e.user(store.RoleClientStaff, "s@example.com")
	b := e.browser(uaFirefox)
	b.signInFrom("s@example.com", "203.0.113.10") // Berlin
	if page := b.pageFrom("203.0.113.11"); strings.Contains(page, "now ") {
		t.Fatal("same network reported as a move")
	}
	b.pageFrom("198.51.100.10") // San Francisco: a new /24 is noticed on this request
	page := b.pageFrom("198.51.100.10")
	if !strings.Contains(page, "Signed in from Berlin, Germany · now San Francisco, United States") || !strings.Contains(page, "198.51.100.x") {
		t.Fatalf("move not shown:\n%s", page[strings.Index(page, "<tbody>"):])
	}
	// It survives a flush and a reload of the session from disk.
	if _, err := e.st.FlushLastActive(); err != nil {
		t.Fatal(err)
	}
	u, _ := e.st.UserByEmail("s@example.com")
	s, err := e.st.UserSession(u.ID, b.currentID())
	if err != nil || s.FirstPlace.City != "Berlin" || s.LastPlace.City != "San Francisco" {
		t.Fatalf("stored places: first %+v last %+v (%v)", s.FirstPlace, s.LastPlace, err)
	}
}

func TestRowEscapesUserAgent(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	evil := e.browser(`<script>alert(1)</script> "onmouseover=alert(2) Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0 <img src=x>`)
	evil.signIn("s@example.com")
	me := e.browser(uaFirefox)
	me.signIn("s@example.com")
	page := me.get(activeSessionsURL).body
	for _, bad := range []string{"<script>alert", "<img src=x>", `"onmouseover`} {
		if strings.Contains(page, bad) {
			t.Fatalf("page contains unescaped %q", bad)
		}
	}
	if !strings.Contains(page, ">Firefox 120<") {
		t.Fatal("the evil UA's row does not read as a browser")
	}
}

func TestRowsDistinguishIdenticalSessions(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	a, b := e.browser(uaChrome), e.browser(uaChrome)
	a.signIn("s@example.com")
	b.signIn("s@example.com")
	me := e.browser(uaFirefox)
	me.signIn("s@example.com")
	page := me.get(activeSessionsURL).body
	for _, x := range []*browser{a, b} {
		// app.Test's peer is 0.0.0.0, so both rows read "0.0.0.x".
		want := `aria-label="Sign out Chrome 131 on macOS, 0.0.0.x (session ` + x.currentID()[:4] + `)"`
		if !strings.Contains(page, want) {
			t.Fatalf("identical rows are not told apart; want %s", want)
		}
	}
}

func TestRelativeTimes(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		ago  time.Duration
		want string
	}{
		{0, "just now"},
		{59 * time.Second, "just now"},
		{time.Minute, "1 minute ago"},
		{59 * time.Minute, "59 minutes ago"},
		{time.Hour, "1 hour ago"},
		{23 * time.Hour, "23 hours ago"},
		{30 * time.Hour, "yesterday"},
		{3 * 24 * time.Hour, "3 days ago"},
		{40 * 24 * time.Hour, "18 Oct 2026"},
		{-time.Hour, "just now"}, // a clock slightly ahead elsewhere
	}
	for _, tt := range tests {
		if got := relative(now.Add(-tt.ago), now); got != tt.want {
			t.Errorf("relative(-%v) = %q, want %q", tt.ago, got, tt.want)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{12 * time.Hour, "12 hours"},
		{14 * 24 * time.Hour, "14 days"},
		{24 * time.Hour, "24 hours"},
		{time.Hour, "1 hour"},
		{90 * time.Second, "2 minutes"},
		{time.Second, "1 second"},
		{1500 * time.Millisecond, "2 seconds"},
	}
	for _, tt := range tests {
		if got := humanDuration(tt.d); got != tt.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestRowFollowsBrowserUpdate(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	b := e.browser(strings.Replace(uaFirefox, "133.0", "132.0", 2))
	b.signIn("s@example.com")
	if page := b.get(activeSessionsURL).body; !strings.Contains(page, "Firefox 132 on Windows") {
		t.Fatal("before the update the row should read Firefox 132")
	}
	b.ua = uaFirefox // the browser updated itself
	b.get(activeSessionsURL)
	if page := b.get(activeSessionsURL).body; !strings.Contains(page, "Firefox 133 on Windows") {
		t.Fatal("after the update the row still reads the old version")
	}
	if _, err := e.st.FlushLastActive(); err != nil {
		t.Fatal(err)
	}
	u, _ := e.st.UserByEmail("s@example.com")
	if s, _ := e.st.UserSession(u.ID, b.currentID()); s.Device.BrowserVersion != "133" || s.UserAgent != uaFirefox {
		t.Fatalf("stored after flush: %+v", s.Device)
	}
}

// rowOf is the HTML of the row of session id in page, or "".
func rowOf(page, id string) string {
	start := strings.Index(page, `<tr id="session-`+id+`"`)
	if start < 0 {
		return ""
	}
	end := strings.Index(page[start:], "</tr>")
	if end < 0 {
		return page[start:]
	}
	return page[start : start+end]
}

// TestRowAuthLabel: every row, on Active Sessions and in the partner
// console (the one row partial), says how its session signed in, with a
// badge for a second step; a session from before two-step sign-in reads
// "Password".
func TestRowAuthLabel(t *testing.T) {
	e := newEnv(t)
	w := newPartnerWorld(e)
	tests := []struct {
		auth  store.AuthMethod
		label string
		badge bool
	}{
		{store.AuthPassword, "Password", false},
		{store.AuthPasswordApp, "Password and authenticator app", true},
		{store.AuthPasswordRecovery, "Password and recovery code", true},
		{store.AuthPasskey, "Passkey", true},
		{store.AuthPasswordPasskey, "Password and passkey", true},
	}
	ids := make([]string, len(tests))
	for i, tt := range tests {
		in := store.SignIn(uaFirefox, e.geo.Place(netip.MustParseAddr("203.0.113.10")))
		in.Auth = tt.auth
		s, _, err := e.st.CreateSession(w.ann.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = s.ID
	}
	me := e.browser(uaChrome)
	me.signIn(w.ann.Email)
	pages := map[string]string{
		"Active Sessions":                   me.get(activeSessionsURL).body,
		"the partner console":               w.partnerAs(w.p1Staff).mustGet(t, partnerUserURL(w.ann.ID)).body,
		"the partner console's htmx reload": w.partnerAs(w.p1Admin).htmx(http.MethodGet, partnerUserURL(w.ann.ID), nil).body,
	}
	for where, page := range pages {
		for i, tt := range tests {
			row := rowOf(page, ids[i])
			if row == "" {
				t.Fatalf("%s: no row for the %q session", where, tt.label)
			}
			if !strings.Contains(row, `<div class="muted auth-method">`+tt.label+`<`) && !strings.Contains(row, `<div class="muted auth-method">`+tt.label+` <span`) {
				t.Errorf("%s: the %q session's row lacks its label:\n%s", where, tt.label, row)
			}
			if got := strings.Contains(row, "badge-two-step"); got != tt.badge {
				t.Errorf("%s: the %q session's row has a two-step badge: %v, want %v", where, tt.label, got, tt.badge)
			}
		}
		// The browser signed in through the form signed in with the password.
		if row := rowOf(page, me.currentID()); where == "Active Sessions" && !strings.Contains(row, `auth-method">Password<`) {
			t.Errorf("%s: the current session's row does not read Password:\n%s", where, row)
		}
	}
}
