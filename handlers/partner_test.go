package handlers

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"portal/store"
)

// The partner console's tests: pages and landing here, scope in
// partner_scope_test.go, query limits and pagination in
// partner_query_test.go. The world they run in is partner_helpers_test.go's.

// TestPartnerLanding: partners start in the console, customers in
// Settings, from the sign-in form, from / and from /login; only partners
// get the console link in the header.
func TestPartnerLanding(t *testing.T) {
	e := newEnv(t)
	w := newPartnerWorld(e)
	tests := []struct {
		name    string
		user    store.User
		landing string
	}{
		{"partner admin", w.p1Admin, partnerURL},
		{"partner staff", w.p2Staff, partnerURL},
		{"client admin", w.ann, "/settings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := e.browser(uaChrome)
			b.signIn(tt.user.Email) // checks where the form sends them
			for _, path := range []string{"/", "/login"} {
				if r := b.get(path); r.StatusCode != http.StatusSeeOther || r.header("Location") != tt.landing {
					t.Errorf("GET %s: %d %q, want 303 to %s", path, r.StatusCode, r.header("Location"), tt.landing)
				}
			}
			page := b.mustGet(t, tt.landing)
			hasLink := strings.Contains(page.body, `<nav class="topnav" aria-label="Main">`) && strings.Contains(page.body, `<a href="/partner"`)
			if partner := isPartner(tt.user.Role); hasLink != partner {
				t.Errorf("header links to the console: %v, want %v", hasLink, partner)
			}
		})
	}
	t.Run("anonymous", func(t *testing.T) {
		if r := e.browser(uaChrome).get("/"); r.StatusCode != http.StatusSeeOther || r.header("Location") != "/login" {
			t.Errorf("GET / anonymous: %d %q, want 303 to /login", r.StatusCode, r.header("Location"))
		}
	})
}

// TestPartnerPages: every console page, for both partner roles, shows the
// partner's own clients and users and nothing of anyone else's.
func TestPartnerPages(t *testing.T) {
	for _, role := range []store.Role{store.RolePartnerAdmin, store.RolePartnerStaff} {
		t.Run(string(role), func(t *testing.T) {
			e := newEnv(t)
			w := newPartnerWorld(e)
			me := w.p1Admin
			if role == store.RolePartnerStaff {
				me = w.p1Staff
			}
			p := w.partnerAs(me)
			annLink := `<a href="/partner/users/` + w.ann.ID + `">Ann Archer</a>`
			bobLink := `<a href="/partner/users/` + w.bob.ID + `">Bob Baker</a>`
			strangers := []string{"cat@cobalt.example", "dan@free.example", "Cobalt", "Free Co", "sam@one.example", "pat@one.example", "quinn@two.example"}
			tests := []struct {
				name, target string
				want, not    []string
			}{
				{"clients", partnerURL, []string{
					`<a href="/partner/accounts/` + w.acme.ID + `">Acme</a></td><td class="num" data-label="Users">1</td><td class="num" data-label="Live sessions">3</td>`,
					`<a href="/partner/accounts/` + w.bolt.ID + `">Bolt Dental</a>`,
					`<form method="get" action="/partner/users" class="search" role="search">`,
				}, strangers},
				{"search by email", "/partner/users?q=ann%40acme", []string{annLink, "1 user matches “ann@acme”."}, append(strangers, bobLink)},
				{"search by name in any case", "/partner/users?q=BAKER", []string{bobLink, `value="BAKER"`}, append(strangers, annLink)},
				{"search across clients", "/partner/users?q=example", []string{annLink, bobLink, "2 users match “example”."}, strangers},
				{"a search that finds nobody", "/partner/users?q=cobalt", []string{"No user&#39;s email or name contains “cobalt”."}, []string{annLink, bobLink, "cat@cobalt.example"}},
				{"all users", "/partner/users", []string{annLink, bobLink, "2 users across your clients."}, strangers},
				{"a client's users", "/partner/accounts/" + w.acme.ID, []string{`<h1 id="page-title">Acme</h1>`, annLink, "ann@acme.example"}, append(strangers, bobLink)},
				{"a user's sessions", "/partner/users/" + w.ann.ID, []string{
					`<h1 id="page-title">Ann Archer</h1>`, "ann@acme.example · Client Admin",
					`<button type="submit" class="btn btn-danger">Sign out everywhere</button>`,
					`<p id="confirm-desc">This signs Ann Archer out of 3 sessions. They will need to sign in again on every device.</p>`,
					`hx-post="/partner/users/` + w.ann.ID + `/sign-out-everywhere" hx-target="#partner-user"`,
				}, []string{"Current session", "is-current", "Active now"}},
				{"sign out everywhere, confirmation page", "/partner/users/" + w.ann.ID + "/sign-out-everywhere", []string{
					`<h1 id="page-title">Sign Ann Archer out everywhere?</h1>`,
					`<form method="post" action="/partner/users/` + w.ann.ID + `/sign-out-everywhere" class="actions">`,
					`<a class="btn" href="/partner/users/` + w.ann.ID + `">Cancel</a>`,
				}, nil},
			}
			for _, tt := range tests {
				r := p.mustGet(t, tt.target)
				if cc := r.header("Cache-Control"); cc != "no-store" {
					t.Errorf("%s: Cache-Control %q, want no-store", tt.name, cc)
				}
				for _, s := range tt.want {
					if !strings.Contains(r.body, s) {
						t.Errorf("%s: the page lacks %s", tt.name, s)
					}
				}
				for _, s := range tt.not {
					if strings.Contains(r.body, s) {
						t.Errorf("%s: the page shows %s", tt.name, s)
					}
				}
			}
			rows := found(rowIDRe, p.get("/partner/users/"+w.ann.ID).body)
			if got, want := strings.Join(rows, ","), strings.Join(w.liveIDs(w.ann), ","); got != want {
				t.Errorf("the user's page lists sessions %s, want the live ones, most recently active first: %s", got, want)
			}
		})
	}
}

var rowRe = regexp.MustCompile(`(?s)<tr id="session-([0-9a-f]{32})".*?</tr>`)

// rowsByID is every session row of a page by its session id.
func rowsByID(body string) map[string]string {
	m := map[string]string{}
	for _, r := range rowRe.FindAllStringSubmatch(body, -1) {
		m[r[1]] = r[0]
	}
	return m
}

// TestPartnerRowsAreTheCustomersRows: a session's row in the console is
// the row its owner sees (device, location, masked network, times),
// except that it posts to the console and carries the partner's token.
func TestPartnerRowsAreTheCustomersRows(t *testing.T) {
	e := newEnv(t)
	w := newPartnerWorld(e)
	owner := w.devices[w.ann.ID][0]
	mine := rowsByID(owner.mustGet(t, activeSessionsURL).body)
	p := w.partnerAs(w.p1Staff)
	theirs := rowsByID(p.mustGet(t, "/partner/users/"+w.ann.ID).body)
	current := owner.currentID()
	if len(theirs) != 3 || len(mine) != 3 {
		t.Fatalf("%d rows in the console, %d on Active Sessions; want 3 each", len(theirs), len(mine))
	}
	for id, row := range theirs {
		if strings.Contains(row, "is-current") || strings.Contains(row, "Current session") {
			t.Errorf("row %s is labelled current in the console", id)
		}
		if id == current {
			continue // the owner's page shows it as theirs; compared above
		}
		want := strings.ReplaceAll(mine[id], activeSessionsBase, partnerSessionsBase(w.ann.ID))
		want = strings.ReplaceAll(want, owner.csrf(), p.csrf())
		if row != want {
			t.Errorf("row %s differs from the owner's:\nconsole %s\n  owner %s", id, row, want)
		}
	}
}

// TestPartnerSignOutSession: a partner signs out one session, with htmx
// (the row comes back signed out, with the user's Sign out everywhere
// recounted) and as a plain form (303 back, with a flash); the signed-out
// browser is sent to sign-in with the partner sentence on its next
// request, page or htmx.
func TestPartnerSignOutSession(t *testing.T) {
	e := newEnv(t)
	w := newPartnerWorld(e)
	p := w.partnerAs(w.p1Staff)
	userPage := "/partner/users/" + w.ann.ID
	p.mustGet(t, userPage)
	devs := w.devices[w.ann.ID]
	first, second := devs[0].currentID(), devs[1].currentID()

	r := p.htmx(http.MethodPost, partnerSessionsBase(w.ann.ID)+first+"/sign-out", nil)
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.body, `<tr id="session-`+first+`" class="session is-ended">`) || strings.Contains(r.body, "<html") {
		t.Fatalf("htmx sign-out: %d, want the row alone, signed out:\n%.400s", r.StatusCode, r.body)
	}
	for _, want := range []string{
		`<span class="ended" tabindex="-1" data-autofocus>Signed out</span>`,
		`<template><div id="sign-out-everywhere" class="head-actions" hx-swap-oob="true">`,
		"This signs Ann Archer out of 2 sessions.",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the htmx answer lacks %s", want)
		}
	}
	if !strings.Contains(r.header("HX-Trigger"), `"announce":"Signed out Firefox 133 on Windows, Berlin, Germany."`) {
		t.Errorf("HX-Trigger %q does not announce the sign-out", r.header("HX-Trigger"))
	}
	s, err := e.st.UserSession(w.ann.ID, first)
	if err != nil || s.EndReason != store.ReasonPartner || s.RevokedBy != w.p1Staff.ID {
		t.Errorf("the session is %+v (%v), want revoked as partner_revoked by %s", s, err, w.p1Staff.ID)
	}

	r = p.post(partnerSessionsBase(w.ann.ID)+second+"/sign-out", nil)
	if r.StatusCode != http.StatusSeeOther || r.header("Location") != userPage {
		t.Fatalf("plain sign-out: %d %q, want 303 to %s", r.StatusCode, r.header("Location"), userPage)
	}
	after := p.mustGet(t, userPage)
	if !strings.Contains(after.body, `<p class="flash-msg">`+signedOutOne+`</p>`) {
		t.Error("after the plain sign-out the page does not say the session was signed out")
	}
	if ids := found(rowIDRe, after.body); len(ids) != 1 || ids[0] != devs[2].currentID() {
		t.Errorf("after two sign-outs the page lists %v, want only the third session", ids)
	}

	// The first browser's next request is a page, the second's an htmx one.
	if r := devs[0].get("/settings"); r.StatusCode != http.StatusSeeOther || r.header("Location") != "/login?reason=partner_revoked" {
		t.Errorf("the signed-out browser's next page: %d %q, want 303 to /login?reason=partner_revoked", r.StatusCode, r.header("Location"))
	}
	if r := devs[1].do(http.MethodGet, activeSessionsURL, nil, map[string]string{"HX-Request": "true"}); r.header("HX-Redirect") != "/login?reason=partner_revoked" {
		t.Errorf("the signed-out browser's next htmx request: %d HX-Redirect %q", r.StatusCode, r.header("HX-Redirect"))
	}
	if page := devs[0].get("/login?reason=partner_revoked"); !strings.Contains(page.body, `<p class="notice notice-info" role="status">Your AiDial partner signed this session out.</p>`) {
		t.Error("the sign-in page does not give the partner sentence")
	}
	if _, _, err := e.st.Authenticate(devs[2].token()); err != nil {
		t.Errorf("the session the partner left alone ended: %v", err)
	}
}

// TestPartnerSignOutEverywhere: the confirmation page, the plain POST and
// its flash, the htmx POST and its message, the signed-out browsers'
// sentence, and nothing to sign out.
func TestPartnerSignOutEverywhere(t *testing.T) {
	e := newEnv(t)
	w := newPartnerWorld(e)
	p := w.partnerAs(w.p1Admin)
	annPage, annAll := partnerUserURL(w.ann.ID), partnerEverywhereURL(w.ann.ID)

	conf := p.mustGet(t, annAll)
	if !strings.Contains(conf.body, "<p>This signs Ann Archer out of 3 sessions. They will need to sign in again on every device.</p>") {
		t.Errorf("the confirmation page does not say what it will do:\n%.2000s", conf.body)
	}
	r := p.post(annAll, nil)
	if r.StatusCode != http.StatusSeeOther || r.header("Location") != annPage {
		t.Fatalf("plain sign out everywhere: %d %q, want 303 to %s", r.StatusCode, r.header("Location"), annPage)
	}
	page := p.mustGet(t, annPage)
	for _, want := range []string{`<p class="flash-msg">Signed out 3 sessions.</p>`, "No live sessions. Ann Archer is not signed in anywhere."} {
		if !strings.Contains(page.body, want) {
			t.Errorf("after signing Ann out everywhere the page lacks %s", want)
		}
	}
	if strings.Contains(page.body, `<table class="sessions">`) {
		t.Error("after signing Ann out everywhere the page still has a sessions table")
	}
	for i, d := range w.devices[w.ann.ID] {
		_, _, err := e.st.Authenticate(d.token())
		var ended *store.EndedError
		if !errors.As(err, &ended) || ended.Reason != store.ReasonPartnerAll {
			t.Errorf("device %d: %v, want ended as partner_revoked_all", i, err)
		}
	}
	d := w.devices[w.ann.ID][0]
	if r := d.get(activeSessionsURL); r.header("Location") != "/login?reason=partner_revoked_all" {
		t.Errorf("a signed-out browser's next page: %d %q", r.StatusCode, r.header("Location"))
	}
	if page := d.get("/login?reason=partner_revoked_all"); !strings.Contains(page.body, "Your AiDial partner signed you out of every device.") {
		t.Error("the sign-in page does not give the partner sentence")
	}
	if n := len(w.liveIDs(w.bob)); n != 3 {
		t.Errorf("Bob has %d live sessions after Ann was signed out, want 3", n)
	}

	// Nothing left to sign out: the confirmation page goes back and says so.
	if r := p.get(annAll); r.StatusCode != http.StatusSeeOther || r.header("Location") != annPage {
		t.Errorf("the confirmation page with nothing to sign out: %d %q", r.StatusCode, r.header("Location"))
	}
	if page := p.mustGet(t, annPage); !strings.Contains(page.body, "There were no sessions to sign out.") {
		t.Error("the page does not say there was nothing to sign out")
	}

	// htmx: the user's page comes back alone, saying how many.
	p.mustGet(t, partnerUserURL(w.bob.ID))
	r = p.htmx(http.MethodPost, partnerEverywhereURL(w.bob.ID), nil)
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.body, `<div id="partner-user">`) || strings.Contains(r.body, "<html") {
		t.Fatalf("htmx sign out everywhere: %d, want the user's page alone:\n%.400s", r.StatusCode, r.body)
	}
	if !strings.Contains(r.body, `<p class="notice notice-ok" role="status" tabindex="-1" data-autofocus>Signed out 3 sessions.</p>`) {
		t.Errorf("the htmx answer does not say how many:\n%s", r.body)
	}
	if !strings.Contains(r.header("HX-Trigger"), "Signed out 3 sessions.") {
		t.Errorf("HX-Trigger %q does not announce it", r.header("HX-Trigger"))
	}
	if n := len(w.liveIDs(w.bob)); n != 0 {
		t.Errorf("Bob has %d live sessions, want 0", n)
	}
}

// TestPartnerWritesRefused: a write without the CSRF token, or from
// another site, is 403 and changes nothing; GET on a write route is 405.
func TestPartnerWritesRefused(t *testing.T) {
	e := newEnv(t)
	w := newPartnerWorld(e)
	p := w.partnerAs(w.p1Admin)
	p.mustGet(t, partnerURL)
	sid := w.liveIDs(w.ann)[0]
	writes := []string{partnerSessionsBase(w.ann.ID) + sid + "/sign-out", partnerEverywhereURL(w.ann.ID)}
	before := w.liveCounts()
	tests := []struct {
		name string
		form url.Values
		hdr  map[string]string
	}{
		{"no token", url.Values{}, nil},
		{"a forged token", url.Values{csrfField: {strings.Repeat("A", 43)}}, nil},
		{"from another site", url.Values{csrfField: {p.csrf()}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"from a foreign origin", url.Values{csrfField: {p.csrf()}}, map[string]string{"Sec-Fetch-Site": "", "Origin": "http://evil.example"}},
		{"htmx without the header", url.Values{}, map[string]string{"HX-Request": "true"}},
	}
	for _, target := range writes {
		for _, tt := range tests {
			if r := p.do(http.MethodPost, target, tt.form, tt.hdr); r.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s, %s: %d, want 403", target, tt.name, r.StatusCode)
			}
		}
	}
	if r := p.get(writes[0]); r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET on the session sign-out: %d, want 405", r.StatusCode)
	}
	if r := p.do(http.MethodPut, writes[1], url.Values{csrfField: {p.csrf()}}, nil); r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT on sign out everywhere: %d, want 405", r.StatusCode)
	}
	if after := w.liveCounts(); !maps.Equal(before, after) {
		t.Errorf("refused writes changed the sessions: %v, was %v", after, before)
	}
}
