package handlers

import (
	"net/http"
	"net/netip"
	"regexp"
	"testing"

	"portal/store"
)

// partnerWorld is two partner accounts with an admin and a staff user
// each. Partner one manages Acme and Bolt, partner two manages Cobalt, and
// nobody manages Free Co. Every client user is signed in on three devices
// (Berlin, London, Tokyo), each a browser holding that session's cookie.
type partnerWorld struct {
	e                                  *env
	p1, p2, acme, bolt, cobalt, free   store.Account
	p1Admin, p1Staff, p2Admin, p2Staff store.User
	ann, bob, cat, dan                 store.User // of Acme, Bolt, Cobalt, Free Co
	devices                            map[string][]*browser
}

// worldDevices are the three places every client user is signed in from.
var worldDevices = []struct{ ua, addr string }{
	{uaFirefox, "203.0.113.10"}, {uaChrome, "203.0.113.70"}, {uaIPhone, "198.51.100.140"},
}

func newPartnerWorld(e *env) *partnerWorld {
	e.t.Helper()
	w := &partnerWorld{e: e, devices: map[string][]*browser{}}
	w.p1, w.p2 = e.account("Partner One", store.AccountPartner, ""), e.account("Partner Two", store.AccountPartner, "")
	w.acme, w.bolt = e.account("Acme", store.AccountClient, w.p1.ID), e.account("Bolt Dental", store.AccountClient, w.p1.ID)
	w.cobalt, w.free = e.account("Cobalt", store.AccountClient, w.p2.ID), e.account("Free Co", store.AccountClient, "")
	w.p1Admin = e.member(w.p1, store.RolePartnerAdmin, "pat@one.example", "Pat One")
	w.p1Staff = e.member(w.p1, store.RolePartnerStaff, "sam@one.example", "Sam One")
	w.p2Admin = e.member(w.p2, store.RolePartnerAdmin, "quinn@two.example", "Quinn Two")
	w.p2Staff = e.member(w.p2, store.RolePartnerStaff, "rae@two.example", "Rae Two")
	w.ann = e.member(w.acme, store.RoleClientAdmin, "ann@acme.example", "Ann Archer")
	w.bob = e.member(w.bolt, store.RoleClientStaff, "bob@bolt.example", "Bob Baker")
	w.cat = e.member(w.cobalt, store.RoleClientManager, "cat@cobalt.example", "Cat Cooper")
	w.dan = e.member(w.free, store.RoleClientStaff, "dan@free.example", "Dan Dole")
	for _, u := range []store.User{w.ann, w.bob, w.cat, w.dan} {
		for _, d := range worldDevices {
			w.devices[u.ID] = append(w.devices[u.ID], e.sessionAs(u, d.ua, d.addr))
		}
	}
	return w
}

// account creates an account; a client one managed by partner ("" for
// none).
func (e *env) account(name string, kind store.AccountKind, partner string) store.Account {
	e.t.Helper()
	var a store.Account
	var err error
	if kind == store.AccountClient {
		a, err = e.st.CreateClientAccount(name, partner)
	} else {
		a, err = e.st.CreateAccount(name, kind)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// member creates a user of a with testPassword.
func (e *env) member(a store.Account, role store.Role, email, name string) store.User {
	e.t.Helper()
	u, err := e.st.CreateUser(store.NewUser{AccountID: a.ID, Email: email, Name: name, Role: role, PasswordHash: passwordHash()})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// sessionAs starts a session for u straight in the store, as a sign-in
// with ua from addr, and returns a browser holding its cookie.
func (e *env) sessionAs(u store.User, ua, addr string) *browser {
	e.t.Helper()
	_, token, err := e.st.CreateSession(u.ID, store.SignIn(ua, e.geo.Place(netip.MustParseAddr(addr))))
	if err != nil {
		e.t.Fatal(err)
	}
	b := e.browser(ua)
	b.cookies[sessionCookie] = token
	return b
}

// partnerAs signs a browser in as u through the form.
func (w *partnerWorld) partnerAs(u store.User) *browser {
	w.e.t.Helper()
	b := w.e.browser(uaChrome)
	b.signIn(u.Email)
	return b
}

// liveIDs lists u's live session ids, as the store has them.
func (w *partnerWorld) liveIDs(u store.User) []string {
	w.e.t.Helper()
	list, err := w.e.st.ListUserSessions(u.ID)
	if err != nil {
		w.e.t.Fatal(err)
	}
	var ids []string
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	return ids
}

// liveCounts is every client user's number of live sessions, to show that
// a refused request changed nothing.
func (w *partnerWorld) liveCounts() map[string]int {
	m := map[string]int{}
	for _, u := range []store.User{w.ann, w.bob, w.cat, w.dan} {
		m[u.Email] = len(w.liveIDs(u))
	}
	return m
}

var (
	accountLinkRe = regexp.MustCompile(`href="/partner/accounts/([0-9a-f]{32})"`)
	userLinkRe    = regexp.MustCompile(`href="/partner/users/([0-9a-f]{32})"`)
)

// found lists the first group of re's matches in body, each once.
func found(re *regexp.Regexp, body string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out
}

// mustGet fetches target and fails the test unless it answers 200.
func (b *browser) mustGet(t *testing.T, target string) resp {
	t.Helper()
	r := b.get(target)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d, want 200; %.300s", target, r.StatusCode, r.body)
	}
	return r
}
