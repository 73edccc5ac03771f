package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"portal/geo"
	"portal/store"
)

// What the database holds, read after the store is closed: the bbolt file
// as raw bytes, or every row of every table of the PostgreSQL database as
// its driver returns it (bytea as raw bytes). The tests here do not trust
// the store's own functions to say what is at rest.

// atRestLocator counts lookups, so a test can see a location being
// resolved again (the README: at sign-in and on a new /24, never per
// request).
type atRestLocator struct {
	Locator
	lookups atomic.Int64
}

func (l *atRestLocator) Place(a netip.Addr) geo.Place {
	l.lookups.Add(1)
	return l.Locator.Place(a)
}

// addrForms are the ways a full address could be written down: its text
// (dotted, or compressed IPv6, which IPv4-mapped and host:port forms contain
// too), expanded IPv6 text, and its raw 4 or 16 bytes.
func addrForms(a netip.Addr) [][]byte {
	forms := [][]byte{[]byte(a.String()), a.AsSlice()}
	if a.Is6() {
		forms = append(forms, []byte(a.StringExpanded()))
	}
	return forms
}

// TestSecurity_FullAddressNeverStored signs in from one address of a
// network, uses the session from two others of the same /24 (or /48), and
// then reads the closed file: neither address may be in it, and both the
// sign-in place and the last place hold the network only. The requests after
// sign-in come from the same network, so they must not resolve or queue a
// location: the last of them comes from a part of the /24 that the GeoIP
// database places elsewhere (203.0.113.64/26 is London, the first two are
// Berlin), and the place stays the one resolved at sign-in.
func TestSecurity_FullAddressNeverStored(t *testing.T) {
	tests := []struct {
		name              string
		signIn, use, use2 string
		network, masked   string
		city              string
	}{
		{"ipv4", "203.0.113.10", "203.0.113.57", "203.0.113.70", "203.0.113.0/24", "203.0.113.x", "Berlin"},
		{"ipv6", "2001:db8:1::10", "2001:db8:1:ff::20", "2001:db8:1:abcd::30", "2001:db8:1::/48", "2001:db8:1::/48", "Sydney"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) {
				// app.Test's peer is 0.0.0.0: trust it, so X-Forwarded-For says
				// where each request comes from.
				c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/32")}
			})
			loc := &atRestLocator{Locator: e.geo}
			app, err := New(e.st, loc, e.cfg)
			if err != nil {
				t.Fatal(err)
			}
			e.app = app
			u := e.user(store.RoleClientStaff, "s@example.com")
			b := e.browser(uaFirefox)
			from := func(ip string) map[string]string { return map[string]string{"X-Forwarded-For": ip} }

			b.do(http.MethodGet, "/login", nil, from(tt.signIn))
			r := b.do(http.MethodPost, "/login", url.Values{"email": {"s@example.com"}, "password": {testPassword}, csrfField: {b.csrf()}}, from(tt.signIn))
			if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign in from %s: %d %.300s", tt.signIn, r.StatusCode, r.body)
			}
			if n := loc.lookups.Load(); n != 1 {
				t.Fatalf("sign-in resolved the location %d times, want 1", n)
			}
			page := b.do(http.MethodGet, activeSessionsURL, nil, from(tt.use))
			if page.StatusCode != http.StatusOK || !strings.Contains(page.body, tt.masked) {
				t.Errorf("page from %s: %d, masked network %q shown: %v", tt.use, page.StatusCode, tt.masked, strings.Contains(page.body, tt.masked))
			}
			for _, ip := range []string{tt.signIn, tt.use} {
				if strings.Contains(page.body, ip) {
					t.Errorf("the page shows the full address %s", ip)
				}
			}
			if n := loc.lookups.Load(); n != 1 {
				t.Errorf("a request from the sign-in's network resolved the location again (%d lookups, want 1)", n)
			}
			if _, err := e.st.FlushLastActive(); err != nil {
				t.Fatal(err)
			}

			before := loc.lookups.Load()
			// Another request from the same network, the clock unchanged:
			// nothing about the session changed, so it must cost no lookup and
			// the next flush must write no session. A location update queued
			// by it would be written wherever it differs from the stored
			// place: for ipv4 this address resolves to London, not Berlin.
			if r := b.do(http.MethodGet, activeSessionsURL, nil, from(tt.use2)); r.StatusCode != http.StatusOK {
				t.Fatalf("page from %s: %d", tt.use2, r.StatusCode)
			}
			if n := loc.lookups.Load(); n != before {
				t.Errorf("a second request from the same network resolved the location again (%d more lookups, want none)", n-before)
			}
			if n, err := e.st.FlushLastActive(); err != nil || n != 0 {
				t.Errorf("the flush after a second request from the same network wrote %d sessions (%v), want 0: a location update was queued", n, err)
			}

			path := e.st.Path()
			data := atRest(t, e)
			if !bytes.Contains(data, []byte(`"s@example.com"`)) {
				t.Fatal("the user's email is not in the file: the test is not looking at the right file")
			}
			logs := e.logs.String()
			for _, ip := range []string{tt.signIn, tt.use, tt.use2} {
				a := netip.MustParseAddr(ip)
				for _, form := range addrForms(a) {
					if bytes.Contains(data, form) {
						t.Errorf("the database file holds the full address %s as %q", ip, form)
					}
					if strings.Contains(logs, string(form)) {
						t.Errorf("the log holds the full address %s as %q", ip, form)
					}
				}
			}

			st := reopenStore(t, path, e.st.Policy(), e.clock.Now)
			list, err := st.ListUserSessions(u.ID)
			if err != nil || len(list) != 1 {
				t.Fatalf("sessions read back: %+v %v, want one", list, err)
			}
			s := list[0]
			for name, p := range map[string]geo.Place{"sign-in place": s.FirstPlace, "last place": s.LastPlace} {
				if p.Network != tt.network || p.Masked != tt.masked || p.City != tt.city {
					t.Errorf("%s read back: %+v, want network %s, masked %s, city %s", name, p, tt.network, tt.masked, tt.city)
				}
			}
		})
	}
}

// tokenPiece returns the first piece of a session token found in hay: any
// 16 characters of the token as the cookie carries it, or any 16 bytes of
// the random bytes it encodes, raw or in hex. "" if there is none.
func tokenPiece(hay []byte, token string, raw []byte) string {
	for i := 0; i+16 <= len(token); i++ {
		if bytes.Contains(hay, []byte(token[i:i+16])) {
			return "characters " + token[i:i+16]
		}
	}
	hexRaw := hex.EncodeToString(raw)
	for i := 0; i+16 <= len(raw); i++ {
		if bytes.Contains(hay, raw[i:i+16]) {
			return "decoded bytes " + hex.EncodeToString(raw[i:i+16])
		}
		if bytes.Contains(hay, []byte(hexRaw[2*i:2*i+32])) {
			return "decoded bytes in hex " + hexRaw[2*i:2*i+32]
		}
	}
	return ""
}

// TestSecurity_TokensRandomAndHashedAtRest: the file holds the token's
// SHA-256, computed here rather than with the store's own HashToken, and no
// piece of the token; pages and logs hold neither the token nor its hash.
func TestSecurity_TokensRandomAndHashedAtRest(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	b := e.browser(uaFirefox)
	b.signIn("s@example.com")
	token := b.token()
	if len(token) != 43 {
		t.Fatalf("token %d chars, want 43 (32 random bytes, base64url)", len(token))
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 32 {
		t.Fatalf("token %q is not 32 bytes in unpadded base64url: %d bytes, %v", token, len(raw), err)
	}
	sum := sha256.Sum256([]byte(token))
	hashForms := [][]byte{sum[:], []byte(hex.EncodeToString(sum[:])),
		[]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(base64.RawStdEncoding.EncodeToString(sum[:]))}

	var html bytes.Buffer
	for _, r := range []resp{b.get(activeSessionsURL), b.get("/settings"), b.get("/settings?section=password"), b.htmx(http.MethodGet, activeSessionsURL, nil)} {
		if r.StatusCode != http.StatusOK {
			t.Fatalf("signed-in page: %d", r.StatusCode)
		}
		html.WriteString(r.body)
	}
	logs := []byte(e.logs.String())
	for where, text := range map[string][]byte{"the HTML": html.Bytes(), "the log": logs} {
		if p := tokenPiece(text, token, raw); p != "" {
			t.Errorf("%s holds a piece of the session token (%s)", where, p)
		}
		for _, f := range hashForms {
			if bytes.Contains(text, f) {
				t.Errorf("%s holds the token's hash as %q", where, f)
			}
		}
	}

	data := atRest(t, e)
	if !bytes.Contains(data, sum[:]) {
		t.Error("the token's SHA-256 is not in the database: sessions must be kept under it")
	}
	if p := tokenPiece(data, token, raw); p != "" {
		t.Errorf("the database file holds a piece of the session token (%s)", p)
	}
}
