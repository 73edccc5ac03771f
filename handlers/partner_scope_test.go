package handlers

import (
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"portal/store"
)

// partnerRoutes are requests for every console route about the given
// account, user and session ids.
func partnerRoutes(account, user, session string) []struct{ method, path string } {
	return []struct{ method, path string }{
		{http.MethodGet, partnerAccountURL(account)},
		{http.MethodGet, partnerAccountURL(account) + "?page=2"},
		{http.MethodPost, partnerRequireTwoStepURL(account)},
		{http.MethodGet, partnerUserURL(user)},
		{http.MethodGet, partnerEverywhereURL(user)},
		{http.MethodPost, partnerEverywhereURL(user)},
		{http.MethodPost, partnerSessionsBase(user) + session + "/sign-out"},
		{http.MethodGet, partnerTwoStepOffURL(user)},
		{http.MethodPost, partnerTwoStepOffURL(user)},
	}
}

// assertNotFound sends every request as a page and as htmx and expects
// exactly what an unknown path gets.
func assertNotFound(t *testing.T, b *browser, who string, routes []struct{ method, path string }) {
	t.Helper()
	unknown := b.get("/no-such-page")
	unknownHX := b.htmx(http.MethodPost, "/no-such-page", nil)
	if unknown.StatusCode != http.StatusNotFound || !strings.Contains(unknown.body, `action="/logout"`) {
		t.Fatalf("an unknown path: %d, want the signed-in 404 page", unknown.StatusCode)
	}
	for _, rt := range routes {
		r := b.do(rt.method, rt.path, url.Values{csrfField: {b.csrf()}}, nil)
		if r.StatusCode != http.StatusNotFound || r.body != unknown.body {
			t.Errorf("%s %s %s: %d, want 404 with the body of an unknown path (same body: %v)", who, rt.method, rt.path, r.StatusCode, r.body == unknown.body)
		}
		if rt.method != http.MethodPost {
			continue
		}
		r = b.htmx(rt.method, rt.path, nil)
		if r.StatusCode != http.StatusNotFound || r.body != unknownHX.body {
			t.Errorf("%s htmx %s %s: %d, want 404 with the body of an unknown path (same body: %v)", who, rt.method, rt.path, r.StatusCode, r.body == unknownHX.body)
		}
	}
}

// TestPartnerRoutesHiddenFromCustomers: every customer role gets the
// unknown path's 404 on every console route, whatever the method, even
// with ids of its own account, and nothing changes.
func TestPartnerRoutesHiddenFromCustomers(t *testing.T) {
	e := newEnv(t)
	w := newPartnerWorld(e)
	e.member(w.acme, store.RoleClientManager, "manager@acme.example", "Manny Acme")
	e.member(w.acme, store.RoleClientStaff, "staff@acme.example", "Stacy Acme")
	customers := map[string]*browser{}
	for _, email := range []string{"ann@acme.example", "manager@acme.example", "staff@acme.example"} {
		customers[email] = e.browser(uaFirefox)
		customers[email].signIn(email)
	}
	before := w.liveCounts()
	sid := w.liveIDs(w.ann)[0]
	routes := append(partnerRoutes(w.acme.ID, w.ann.ID, sid),
		struct{ method, path string }{http.MethodGet, partnerURL},
		struct{ method, path string }{http.MethodGet, partnerURL + "/"},
		struct{ method, path string }{http.MethodGet, partnerURL + "/users?q=ann"},
		struct{ method, path string }{http.MethodGet, partnerSessionsBase(w.ann.ID) + sid + "/sign-out"},
		struct{ method, path string }{http.MethodPost, partnerURL},
	)
	for email, b := range customers {
		t.Run(email, func(t *testing.T) {
			assertNotFound(t, b, email, routes)
			if page := b.mustGet(t, "/settings"); strings.Contains(page.body, `href="/partner"`) {
				t.Error("a customer's page links to the partner console")
			}
		})
	}
	if after := w.liveCounts(); !maps.Equal(before, after) {
		t.Errorf("customers' requests to the console changed sessions: %v, was %v", after, before)
	}
}

// TestPartnerScope: each partner, given every id the other partner's
// pages show, and the ids of its colleagues, of the other partner's
// users, of an unmanaged client and of nothing, gets the unknown path's
// 404 on every route, and nothing changes. Moving a client to the other
// partner takes effect on both partners' next requests.
func TestPartnerScope(t *testing.T) {
	e := newEnv(t)
	w := newPartnerWorld(e)
	p1, p2 := w.partnerAs(w.p1Admin), w.partnerAs(w.p2Staff)
	// ids as each partner's own pages show them
	type shown struct{ accounts, users, sessions []string }
	pagesOf := func(b *browser) shown {
		var s shown
		s.accounts = found(accountLinkRe, b.mustGet(t, partnerURL).body)
		s.users = found(userLinkRe, b.mustGet(t, partnerURL+"/users").body)
		for _, u := range s.users {
			s.sessions = append(s.sessions, found(rowIDRe, b.mustGet(t, partnerUserURL(u)).body)...)
		}
		if len(s.accounts) == 0 || len(s.users) == 0 || len(s.sessions) == 0 {
			t.Fatalf("a partner's pages show no ids: %+v", s)
		}
		return s
	}
	shown1, shown2 := pagesOf(p1), pagesOf(p2)
	before := w.liveCounts()
	none := strings.Repeat("0", 32)
	tests := []struct {
		name  string
		b     *browser
		other shown // the other partner's ids
		mine  shown
		extra []string // user ids out of reach that no page shows
	}{
		{"partner one", p1, shown2, shown1, []string{w.p1Admin.ID, w.p1Staff.ID, w.p2Admin.ID, w.dan.ID, none}},
		{"partner two", p2, shown1, shown2, []string{w.p2Staff.ID, w.p2Admin.ID, w.p1Admin.ID, w.dan.ID, none}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var routes []struct{ method, path string }
			for _, a := range append(tt.other.accounts, w.free.ID, w.p1.ID, w.p2.ID, none) {
				routes = append(routes, struct{ method, path string }{http.MethodGet, partnerAccountURL(a)},
					struct{ method, path string }{http.MethodPost, partnerRequireTwoStepURL(a)})
			}
			for _, u := range append(tt.other.users, tt.extra...) {
				for _, s := range append(tt.other.sessions, tt.mine.sessions[0]) {
					routes = append(routes, partnerRoutes(none, u, s)[3:]...)
				}
			}
			// The partner's own user with another user's session id.
			for _, s := range append(tt.other.sessions, w.liveIDs(w.dan)[0], none) {
				routes = append(routes, struct{ method, path string }{http.MethodPost, partnerSessionsBase(tt.mine.users[0]) + s + "/sign-out"})
			}
			assertNotFound(t, tt.b, tt.name, routes)
			results := tt.b.mustGet(t, partnerURL+"/users?q=example")
			for _, u := range tt.other.users {
				if strings.Contains(results.body, u) {
					t.Errorf("a search shows the other partner's user %s", u)
				}
			}
		})
	}
	if after := w.liveCounts(); !maps.Equal(before, after) {
		t.Fatalf("out-of-scope requests changed sessions: %v, was %v", after, before)
	}

	// Cobalt moves from partner two to partner one.
	if _, err := e.st.SetAccountPartner(w.cobalt.ID, w.p1.ID); err != nil {
		t.Fatal(err)
	}
	if r := p1.get(partnerUserURL(w.cat.ID)); r.StatusCode != http.StatusOK || !strings.Contains(r.body, "Cat Cooper") {
		t.Errorf("partner one on the moved client's user: %d, want the user's page", r.StatusCode)
	}
	if r := p1.get(partnerURL); !strings.Contains(r.body, ">Cobalt</a>") {
		t.Error("partner one's clients do not list the moved client")
	}
	assertNotFound(t, p2, "partner two after the move", partnerRoutes(w.cobalt.ID, w.cat.ID, w.liveIDs(w.cat)[0]))
	if r := p2.get(partnerURL); strings.Contains(r.body, "Cobalt") {
		t.Error("partner two's clients still list the moved client")
	}
	if after := w.liveCounts(); !maps.Equal(before, after) {
		t.Errorf("partner two changed the moved client's sessions: %v, was %v", after, before)
	}
}
