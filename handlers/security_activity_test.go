package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"portal/store"
)

// at makes every request of b come from ip (the env must trustAll).
func (b *browser) at(ip string) *browser {
	b.headers = map[string]string{"X-Forwarded-For": ip}
	return b
}

var (
	endedEntryRe = regexp.MustCompile(`(?s)<li id="ended-([0-9a-f]{32})" class="ended-entry">.*?<span class="device-name">(.*?)</span>.*?<p class="ended-why">(.*?) · <time`)
	sentenceRe   = regexp.MustCompile(`<p class="activity-sentence">(.*?)</p>`)
)

// recent is b's Recently signed out: each ended session's sentence by id,
// and the ids newest first.
func (b *browser) recent() (map[string]string, []string) {
	b.e.t.Helper()
	page := b.get(activeSessionsURL)
	if page.StatusCode != http.StatusOK {
		b.e.t.Fatalf("active sessions: %d", page.StatusCode)
	}
	if !strings.Contains(page.body, `<details class="recent" id="recently-signed-out">`) {
		b.e.t.Fatalf("Active Sessions has no collapsed Recently signed out:\n%s", page.body)
	}
	m := map[string]string{}
	var order []string
	for _, e := range endedEntryRe.FindAllStringSubmatch(page.body, -1) {
		m[e[1]] = e[3]
		order = append(order, e[1])
	}
	return m, order
}

// activity is the sentences of a page of b's Security activity.
func (b *browser) activity(query string) []string {
	b.e.t.Helper()
	r := b.get("/settings?section=security-activity" + query)
	if r.StatusCode != http.StatusOK {
		b.e.t.Fatalf("security activity%s: %d %.300s", query, r.StatusCode, r.body)
	}
	var out []string
	for _, m := range sentenceRe.FindAllStringSubmatch(r.body, -1) {
		out = append(out, m[1])
	}
	return out
}

// managedUser is a client user whose account partner manages.
func managedUser(e *env, partner store.Account) store.User {
	return e.member(e.account("Acme", store.AccountClient, partner.ID), store.RoleClientStaff, "s@acme.example", "Sam Staff")
}

// TestActivitySentences ends a session in every way there is and reads,
// on the user's own Active Sessions, why and by whom each ended; then the
// Security activity's sign-ins, password change and failed and refused
// sign-ins.
func TestActivitySentences(t *testing.T) {
	e := newEnv(t, trustAll)
	partner := e.account("Partner One", store.AccountPartner, "")
	pat := e.member(partner, store.RolePartnerAdmin, "pat@one.example", "Pat One")
	u := managedUser(e, partner)
	const firefoxBerlin = "Firefox 133 on Windows (Berlin, Germany)"
	var viewer *browser
	// view is a live session of the user's own, Firefox in Berlin, to read
	// the pages with; a new one if the last was ended.
	view := func() *browser {
		if viewer == nil || viewer.get("/settings").StatusCode != http.StatusOK {
			viewer = e.browser(uaFirefox).at("203.0.113.10")
			viewer.signIn(u.Email)
		}
		return viewer
	}
	signIn := func(ua, ip string) (*browser, string) {
		e.clock.Advance(time.Minute)
		b := e.browser(ua).at(ip)
		b.signIn(u.Email)
		return b, b.currentID()
	}
	want := map[string]string{} // session id -> sentence, since the last check
	check := func(step string) {
		t.Helper()
		got, _ := view().recent()
		for id, sentence := range want {
			if got[id] != sentence {
				t.Errorf("%s: session %s reads %q, want %q", step, id[:8], got[id], sentence)
			}
		}
		clear(want)
	}

	view()
	_, id := signIn(uaChrome, "203.0.113.70")
	if r := view().htmx(http.MethodPost, "/settings/active-sessions/"+id+"/sign-out", nil); r.StatusCode != http.StatusOK {
		t.Fatalf("sign out one: %d", r.StatusCode)
	}
	want[id] = "Signed out from " + firefoxBerlin
	check("signed out from another session")

	_, id = signIn(uaIPhone, "198.51.100.140")
	view().get(activeSessionsURL)
	if r := view().post("/settings/active-sessions/sign-out-others", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out others: %d", r.StatusCode)
	}
	want[id] = "Signed out with “Sign out all other devices” from " + firefoxBerlin
	check("sign out all other devices")

	b, id := signIn(uaChrome, "203.0.113.130")
	b.post("/logout", nil)
	want[id] = "Signed out in that browser"
	check("own sign-out")

	b, id = signIn(uaIPhone, "198.51.100.140")
	b.get("/settings?section=password")
	for range passwordGuessesSignOut {
		b.post("/settings/password", url.Values{"current_password": {"not it at all"}, "new_password": {"a brand new password"}})
	}
	want[id] = "Signed out after the current password was entered wrongly too many times"
	check("password guesses")

	p := e.browser(uaChrome)
	p.signIn(pat.Email)
	_, id = signIn(uaChrome, "203.0.113.70")
	p.get(partnerUserURL(u.ID))
	if r := p.post(partnerSessionsBase(u.ID)+id+"/sign-out", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("partner sign-out: %d", r.StatusCode)
	}
	want[id] = "Signed out by your AiDial partner (Pat One)"
	check("partner")

	// Signed out everywhere by the partner and by an operator: the
	// signed-out browser's sign-in page, Recently signed out and Security
	// activity each say who, and only the partner's name the partner.
	everywhere := []struct {
		step, signIn, logged string
		end                  func()
	}{
		{"partner: everywhere", "Your AiDial partner signed you out of every device.", "Signed out of every device by your AiDial partner (Pat One)",
			func() {
				if r := p.post(partnerEverywhereURL(u.ID), nil); r.StatusCode != http.StatusSeeOther {
					t.Fatalf("partner everywhere: %d", r.StatusCode)
				}
			}},
		// What portal sessions revoke-all does.
		{"operator: everywhere", "You were signed out of every device by an administrator.", "Signed out of every device by an administrator",
			func() {
				if _, err := e.st.RevokeAllUserSessions(u.ID, store.ReasonEverywhere); err != nil {
					t.Fatal(err)
				}
			}},
	}
	for _, ev := range everywhere {
		b, id = signIn(uaChrome, "203.0.113.70")
		viewerID := view().currentID()
		ev.end()
		r := b.get("/settings")
		if page := b.get(r.header("Location")).body; !strings.Contains(page, `role="status">`+ev.signIn+`</p>`) {
			t.Errorf("%s: the sign-in page (%s) does not say %q", ev.step, r.header("Location"), ev.signIn)
		}
		want[id], want[viewerID] = ev.logged, ev.logged
		check(ev.step)
		if got := view().activity("&kind=ended"); len(got) < 2 || got[0] != ev.logged || got[1] != ev.logged {
			t.Errorf("%s: Security activity reads %q, want %q twice", ev.step, got[:min(2, len(got))], ev.logged)
		}
	}

	_, id = signIn(uaChrome, "203.0.113.70")
	if _, err := e.st.SetUserDisabled(u.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.SetUserDisabled(u.ID, false); err != nil {
		t.Fatal(err)
	}
	want[id] = "Signed out when the account was disabled"
	check("disabled")

	b, id = signIn(uaChrome, "203.0.113.70")
	e.clock.Advance(6 * time.Hour)
	view()
	e.clock.Advance(6*time.Hour + time.Minute)
	view()
	if r := b.get("/settings"); r.header("Location") != "/login?reason=idle" {
		t.Fatalf("idle session: %d %q", r.StatusCode, r.header("Location"))
	}
	if _, err := e.st.FlushLastActive(); err != nil {
		t.Fatal(err)
	}
	want[id] = "Expired after 12 hours without activity"
	check("idle")

	old, _, err := e.st.CreateSession(u.ID, store.NewSession{CreatedAt: e.clock.Now().Add(-14*24*time.Hour - time.Minute), LastActive: e.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Sweep(30*24*time.Hour, 100); err != nil {
		t.Fatal(err)
	}
	want[old.ID] = "Reached the 14-day limit"
	check("lifetime")

	// The session cap: 100 live sessions, and one more signs in.
	batch := make([]store.SessionFor, 100)
	for i := range batch {
		batch[i] = store.SessionFor{UserID: u.ID}
	}
	e.clock.Advance(time.Minute)
	if _, _, err := e.st.CreateSessions(batch); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	if _, _, err := e.st.CreateSession(u.ID, store.NewSession{}); err != nil {
		t.Fatal(err)
	}
	got, order := view().recent()
	if len(order) == 0 || got[order[0]] != "Ended because more than 100 sessions were signed in" {
		t.Errorf("the session cap: the newest ended reads %q", got[order[0]])
	}

	// A clean slate, so that the password change ends one session only.
	if _, err := e.st.RevokeAllUserSessions(u.ID, store.ReasonEverywhere); err != nil {
		t.Fatal(err)
	}
	_, id = signIn(uaChrome, "203.0.113.70")
	view().get("/settings?section=password")
	r := view().post("/settings/password", url.Values{"current_password": {testPassword}, "new_password": {"a brand new password"}, "sign_out_others": {"1"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("password change: %d %.300s", r.StatusCode, r.body)
	}
	want[id] = "Signed out when the password was changed from " + firefoxBerlin
	check("password change")
	if got := view().activity("&kind=password_changed"); len(got) != 1 || got[0] != "Password changed from "+firefoxBerlin {
		t.Errorf("password changes: %q", got)
	}
	if got := view().activity("&kind=signed_in"); len(got) < 2 || got[0] != "Signed in with Firefox 133 on Windows from Berlin, Germany (203.0.113.x) using the password" ||
		got[1] != "Signed in with Chrome 131 on macOS from London, United Kingdom (203.0.113.x) using the password" {
		t.Errorf("sign-ins: %q", got[:min(2, len(got))])
	}

	// Failed and refused sign-ins, from a browser that never signed in.
	guesser := e.browser(uaChrome).at("198.51.100.20")
	guesser.get("/login")
	for i := range accountFreeFailures + 1 {
		r := guesser.post("/login", url.Values{"email": {u.Email}, "password": {"wrong password"}})
		if want := map[bool]int{true: http.StatusTooManyRequests, false: http.StatusUnauthorized}[i == accountFreeFailures]; r.StatusCode != want {
			t.Fatalf("attempt %d: %d, want %d", i+1, r.StatusCode, want)
		}
	}
	if _, err := e.st.FlushLastActive(); err != nil {
		t.Fatal(err)
	}
	at := e.clock.Now().Format("15:04")
	sentences := view().activity("&kind=sign_in_failed&kind=sign_in_throttled")
	wantFailures := []string{
		"1 sign-in attempt from San Francisco, United States (198.51.100.x) refused after too many failures",
		fmt.Sprintf("5 failed sign-in attempts from San Francisco, United States (198.51.100.x) at %s", at),
	}
	if strings.Join(sentences, "\n") != strings.Join(wantFailures, "\n") {
		t.Errorf("failed sign-ins:\n%s\nwant\n%s", strings.Join(sentences, "\n"), strings.Join(wantFailures, "\n"))
	}
}

// TestActivityFailedAttemptsSpan: a group of failed attempts over some
// minutes gives its first and last.
func TestActivityFailedAttemptsSpan(t *testing.T) {
	e := newEnv(t, trustAll)
	u := e.user(store.RoleClientStaff, "s@example.com")
	viewer := e.browser(uaFirefox)
	viewer.signIn(u.Email)
	guesser := e.browser(uaChrome).at("203.0.113.10")
	guesser.get("/login")
	for range 3 {
		guesser.post("/login", url.Values{"email": {u.Email}, "password": {"wrong password"}})
		e.clock.Advance(80 * time.Second)
	}
	e.st.FlushLastActive()
	got := viewer.activity("&kind=sign_in_failed")
	if want := "3 failed sign-in attempts from Berlin, Germany (203.0.113.x), 09:00–09:02"; len(got) != 1 || got[0] != want {
		t.Errorf("failed attempts: %q, want %q", got, want)
	}
	// Attempts for an email no one has are recorded against no one.
	guesser.post("/login", url.Values{"email": {"nobody@example.com"}, "password": {"wrong password"}})
	e.st.FlushLastActive()
	if got := viewer.activity("&kind=sign_in_failed"); len(got) != 1 {
		t.Errorf("after an unknown email's attempt: %q", got)
	}
}

// TestSecurityActivitySection: every role that signs in has the section;
// it filters by kind and pages by 50, keeping the filter; each entry links
// to the session it concerns where a page shows it.
func TestSecurityActivitySection(t *testing.T) {
	e := newEnv(t)
	u := e.user(store.RoleClientStaff, "s@example.com")
	var ended, live string
	for i := range 60 {
		e.clock.Advance(time.Minute)
		sess, _, err := e.st.CreateSession(u.ID, store.NewSession{})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			live = sess.ID
			continue
		}
		if _, err := e.st.RevokeUserSession(u.ID, sess.ID, store.ReasonSignedOut); err != nil {
			t.Fatal(err)
		}
		ended = sess.ID
	}
	b := e.browser(uaFirefox)
	b.signIn(u.Email) // 60 sign-ins + 59 sign-outs + this sign-in = 120 events

	page := b.get("/settings?section=security-activity").body
	for _, w := range []string{
		`<a href="/settings?section=security-activity" hx-get="/settings?section=security-activity"`, // in the sidebar
		`<h1 id="section-title">Security activity</h1>`,
		"120 entries, newest first.",
		`<input type="checkbox" name="kind" value="signed_in" checked> Sign-ins`,
		`<input type="checkbox" name="kind" value="sign_in_throttled" checked> Refused sign-ins`,
		`<a class="btn" href="/settings?page=2&amp;section=security-activity" rel="next">Next</a>`,
		"Page 1 of 3",
		`Session: <a href="/settings?section=active-sessions#session-` + b.currentID() + `">Firefox 133 on Windows (0.0.0.x)</a>`,
		`Session: <a href="/settings?section=active-sessions#ended-` + ended + `">Unknown browser</a>`,
		"Times are in UTC",
		`<time datetime="2026-11-27T10:00:00Z">27 Nov 2026, 10:00 UTC</time> · just now`,
	} {
		if !strings.Contains(page, w) {
			t.Errorf("page 1 lacks %s", w)
		}
	}
	if n := strings.Count(page, `<li class="activity-entry">`); n != store.EventPageSize {
		t.Errorf("page 1 lists %d entries, want %d", n, store.EventPageSize)
	}
	if got := b.activity("&page=3"); len(got) != 20 || got[19] != "Signed in with Unknown browser using the password" {
		t.Errorf("page 3: %d entries, last %q", len(got), got[len(got)-1:])
	}
	if r := b.get("/settings?section=security-activity&page=4"); !strings.Contains(r.body, "There is no page 4. The last page is 3.") {
		t.Error("page 4 does not say the last page is 3")
	}
	// The live session of the first sign-in is linked to its row; the
	// page it links to has the row and the ended one's entry.
	if !strings.Contains(b.get("/settings?section=security-activity&page=3").body, `#session-`+live+`"`) {
		t.Error("the live session's sign-in does not link to its row")
	}
	sessions := b.get(activeSessionsURL).body
	if !strings.Contains(sessions, `<tr id="session-`+live+`"`) || !strings.Contains(sessions, `<li id="ended-`+ended+`"`) {
		t.Error("Active Sessions lacks an anchor the activity links to")
	}

	// The filter, kept across pages.
	page = b.get("/settings?section=security-activity&kind=ended").body
	for _, w := range []string{
		"59 entries of the kinds ticked, newest first.",
		`value="ended" checked> Sign-outs and expiries`,
		`<input type="checkbox" name="kind" value="signed_in"> Sign-ins`,
		`href="/settings?kind=ended&amp;page=2&amp;section=security-activity" rel="next"`,
	} {
		if !strings.Contains(page, w) {
			t.Errorf("filtered page lacks %s", w)
		}
	}
	if got := b.activity("&kind=ended&page=2"); len(got) != 9 {
		t.Errorf("filtered page 2: %d entries, want 9", len(got))
	}
	if got := b.activity("&kind=password_changed"); len(got) != 0 || !strings.Contains(b.get("/settings?section=security-activity&kind=password_changed").body, "No activity of the kinds ticked.") {
		t.Errorf("no password changes: %q", got)
	}
	for _, bad := range []string{"&kind=everything", strings.Repeat("&kind=ended", len(store.EventKinds)+1), "&page=0", "&page=x"} {
		if r := b.get("/settings?section=security-activity" + bad); r.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, r.StatusCode)
		}
	}
	if r := b.get("/settings?section=security-activity&kind=everything"); !strings.Contains(r.body, "does not know") {
		t.Error("a bad kind is not explained")
	}

	// Recently signed out lists the latest and says where the rest are.
	sessions = b.get(activeSessionsURL).body
	for _, w := range []string{"59 sessions ended in the last 30 days, newest first.", "The 10 most recent are listed.",
		`<a href="/settings?kind=ended&amp;section=security-activity">See every sign-out in Security activity</a>`} {
		if !strings.Contains(sessions, w) {
			t.Errorf("Active Sessions lacks %s", w)
		}
	}
	if n := strings.Count(sessions, `class="ended-entry"`); n != recentShown {
		t.Errorf("Recently signed out lists %d, want %d", n, recentShown)
	}
}

// TestSecurityActivityForPartners: a partner's own activity has the
// section, without links (no page lists a partner's sessions).
func TestSecurityActivityForPartners(t *testing.T) {
	e := newEnv(t)
	e.user(store.RolePartnerStaff, "p@partner.example")
	p := e.browser(uaFirefox)
	p.signIn("p@partner.example")
	r := p.get("/settings?section=security-activity")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, "Signed in with Firefox 133 on Windows") || strings.Contains(r.body, "Session: <a") {
		t.Fatalf("partner's own activity: %d %.500s", r.StatusCode, r.body)
	}
	if !strings.Contains(p.get("/settings").body, `href="/settings?section=security-activity"`) {
		t.Error("the partner's sidebar lacks Security activity")
	}
}

// TestPartnerSeesUserActivity: on a client user's page a partner sees the
// user's Recently signed out and activity, in the partner's words, linked
// to the page's own rows; another partner's user, an unmanaged one and a
// made-up id are the not-found page, and customers never reach it.
func TestPartnerSeesUserActivity(t *testing.T) {
	e := newEnv(t)
	w := newPartnerWorld(e)
	pat := w.partnerAs(w.p1Admin)
	target := w.devices[w.ann.ID][0]
	targetID := target.currentID()
	pat.get(partnerUserURL(w.ann.ID))
	if r := pat.post(partnerSessionsBase(w.ann.ID)+targetID+"/sign-out", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("partner sign-out: %d", r.StatusCode)
	}
	live := w.liveIDs(w.ann)[0]
	page := pat.mustGet(t, partnerUserURL(w.ann.ID)).body
	for _, want := range []string{
		`<details class="recent" id="recently-signed-out">`,
		`<li id="ended-` + targetID + `"`,
		"Signed out by the AiDial partner (Pat One)",
		`<section id="security-activity"`,
		`<h2 id="activity-title">Security activity</h2>`,
		`<form method="get" action="/partner/users/` + w.ann.ID + `#security-activity" class="activity-filter">`,
		`Session: <a href="#ended-` + targetID + `">Firefox 133 on Windows (Berlin, Germany)</a>`,
		`Session: <a href="#session-` + live + `">`,
		"Signed in with Firefox 133 on Windows from Berlin, Germany (203.0.113.x) using the password",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the user's page lacks %s", want)
		}
	}
	if r := pat.get(partnerUserURL(w.ann.ID) + "?kind=signed_in"); !strings.Contains(r.body, "3 entries of the kinds ticked") {
		t.Errorf("filtered: %.300s", r.body)
	}
	// The user reads the same event in their own words.
	own, _ := w.devices[w.ann.ID][1].recent()
	if own[targetID] != "Signed out by your AiDial partner (Pat One)" {
		t.Errorf("the user reads %q", own[targetID])
	}

	notFound := pat.get("/no-such-page").body
	for _, u := range []store.User{w.cat, w.dan, w.p2Admin} {
		for _, q := range []string{"", "?kind=ended", "?page=2"} {
			if r := pat.get(partnerUserURL(u.ID) + q); r.StatusCode != http.StatusNotFound || r.body != notFound {
				t.Errorf("%s%s: %d, want the not-found page", u.Email, q, r.StatusCode)
			}
		}
	}
	if r := pat.get(partnerUserURL(strings.Repeat("0", 32))); r.StatusCode != http.StatusNotFound {
		t.Errorf("a made-up user: %d", r.StatusCode)
	}
	if r := w.devices[w.ann.ID][1].get(partnerUserURL(w.ann.ID)); r.StatusCode != http.StatusNotFound {
		t.Errorf("a customer on the console: %d", r.StatusCode)
	}
}

// TestRecentlySignedOutInPlace: signing a row out with htmx brings
// Recently signed out up to date out of band, without closing it.
func TestRecentlySignedOutInPlace(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	me, other := e.browser(uaFirefox), e.browser(uaChrome)
	other.signIn("s@example.com")
	me.signIn("s@example.com")
	id := other.currentID()
	r := me.htmx(http.MethodPost, "/settings/active-sessions/"+id+"/sign-out", nil)
	if !strings.Contains(r.body, `<template><div id="recent-body" class="recent-body" hx-swap-oob="true">`) ||
		!strings.Contains(r.body, `<li id="ended-`+id+`"`) || !strings.Contains(r.body, "Signed out from Firefox 133 on Windows") {
		t.Fatalf("the row's response does not bring Recently signed out up to date:\n%s", r.body)
	}
	if strings.Contains(r.body, "<details") {
		t.Error("the response replaces the <details>, which would close it")
	}
}

// TestTimeZones: the browser's zone, sent at sign-in, is kept with the
// session and every exact time is shown in it with its abbreviation; a
// zone Go does not know, or none, gives UTC, named.
func TestTimeZones(t *testing.T) {
	tests := []struct {
		tz, stored, exact, sentence string
	}{
		{"Europe/Berlin", "Europe/Berlin", "27 Nov 2026, 10:00 CET", "Times are in your time zone, Europe/Berlin."},
		{"America/New_York", "America/New_York", "27 Nov 2026, 04:00 EST", "Times are in your time zone, America/New_York."},
		{"UTC", "UTC", "27 Nov 2026, 09:00 UTC", "Times are in your time zone, UTC."},
		{"", "", "27 Nov 2026, 09:00 UTC", "Times are in UTC"},
		{"Mars/Olympus_Mons", "", "27 Nov 2026, 09:00 UTC", "Times are in UTC"},
		{"../../../etc/passwd", "", "27 Nov 2026, 09:00 UTC", "Times are in UTC"},
		{"Local", "", "27 Nov 2026, 09:00 UTC", "Times are in UTC"},
		{"Europe/Berlin" + strings.Repeat("x", 100), "", "27 Nov 2026, 09:00 UTC", "Times are in UTC"},
		{"<script>", "", "27 Nov 2026, 09:00 UTC", "Times are in UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.tz, func(t *testing.T) {
			e := newEnv(t)
			u := e.user(store.RoleClientStaff, "s@example.com")
			other := e.browser(uaChrome)
			other.signIn(u.Email)
			b := e.browser(uaFirefox)
			b.get("/login")
			if r := b.post("/login", url.Values{"email": {u.Email}, "password": {testPassword}, "tz": {tt.tz}}); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign in: %d", r.StatusCode)
			}
			sess, _, err := e.st.Authenticate(b.token())
			if err != nil || sess.TimeZone != tt.stored {
				t.Fatalf("stored zone %q (%v), want %q", sess.TimeZone, err, tt.stored)
			}
			// The other session's row: its times in this viewer's zone.
			if page := b.get(activeSessionsURL).body; !strings.Contains(page, `title="`+tt.exact+`"`) {
				t.Errorf("Active Sessions has no time %q", tt.exact)
			}
			page := b.get("/settings?section=security-activity").body
			if !strings.Contains(page, `<time datetime="2026-11-27T09:00:00Z">`+tt.exact+`</time>`) || !strings.Contains(page, tt.sentence) {
				t.Errorf("Security activity lacks %q or %q", tt.exact, tt.sentence)
			}
			if strings.Contains(page, "passwd") || strings.Contains(page, "<script>") {
				t.Error("the page repeats the bad zone")
			}
		})
	}
}

// TestTimeZoneSummer: a zone's abbreviation follows the date.
func TestTimeZoneSummer(t *testing.T) {
	e := newEnv(t)
	e.clock.t = time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)
	u := e.user(store.RoleClientStaff, "s@example.com")
	b := e.browser(uaFirefox)
	b.get("/login")
	b.post("/login", url.Values{"email": {u.Email}, "password": {testPassword}, "tz": {"Europe/Berlin"}})
	if page := b.get("/settings?section=security-activity").body; !strings.Contains(page, "1 Jul 2026, 11:00 CEST") {
		t.Error("a summer time is not in CEST")
	}
}

// TestPreviousPartnerUnnamed: after a client moves to another partner, the
// old partner's sign-outs read "by a previous partner" to the new partner
// and to the user, and the old partner's staff are never named; the new
// partner's own sign-outs name its people.
func TestPreviousPartnerUnnamed(t *testing.T) {
	e := newEnv(t)
	w := newPartnerWorld(e)
	pat := w.partnerAs(w.p1Admin)
	one := w.devices[w.ann.ID][0].currentID()
	pat.get(partnerUserURL(w.ann.ID))
	if r := pat.post(partnerSessionsBase(w.ann.ID)+one+"/sign-out", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("Pat's sign-out: %d", r.StatusCode)
	}
	if r := pat.post(partnerEverywhereURL(w.ann.ID), nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("Pat's sign out everywhere: %d", r.StatusCode)
	}
	// Partner One's page and Ann's own, read (and kept) before the move,
	// name Pat.
	ann := e.sessionAs(w.ann, uaFirefox, "203.0.113.10")
	if page := pat.get(partnerUserURL(w.ann.ID)).body; !strings.Contains(page, "Signed out by the AiDial partner (Pat One)") {
		t.Fatal("Partner One's own page does not name Pat")
	}
	if page := ann.get(activeSessionsURL).body; !strings.Contains(page, "Signed out by your AiDial partner (Pat One)") {
		t.Fatal("Ann's page does not name her partner's Pat")
	}
	if _, err := e.st.SetAccountPartner(w.acme.ID, w.p2.ID); err != nil {
		t.Fatal(err)
	}
	// Right after the move, with no event since: the kept views are not
	// served again.
	quinn := w.partnerAs(w.p2Admin)
	for viewer, page := range map[string]string{
		"Partner Two's page": quinn.get(partnerUserURL(w.ann.ID)).body, "Ann's page": ann.get(activeSessionsURL).body} {
		if strings.Contains(page, "Pat One") || !strings.Contains(page, "Signed out by a previous partner") {
			t.Errorf("%s, right after the move, does not say only %q", viewer, "Signed out by a previous partner")
		}
	}
	two := e.sessionAs(w.ann, uaChrome, "203.0.113.70").currentID()
	quinn.get(partnerUserURL(w.ann.ID))
	if r := quinn.post(partnerSessionsBase(w.ann.ID)+two+"/sign-out", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("Quinn's sign-out: %d", r.StatusCode)
	}

	pages := []struct {
		viewer string
		body   string
		want   []string
	}{
		{"Partner Two's page of Ann", quinn.get(partnerUserURL(w.ann.ID)).body, []string{
			"Signed out by a previous partner", "Signed out of every device by a previous partner", "Signed out by the AiDial partner (Quinn Two)"}},
		{"Ann's Active Sessions", ann.get(activeSessionsURL).body, []string{
			"Signed out by a previous partner", "Signed out of every device by a previous partner", "Signed out by your AiDial partner (Quinn Two)"}},
		{"Ann's Security activity", ann.get("/settings?section=security-activity&kind=ended").body, []string{
			"Signed out by a previous partner", "Signed out of every device by a previous partner", "Signed out by your AiDial partner (Quinn Two)"}},
	}
	for _, p := range pages {
		for _, want := range p.want {
			if !strings.Contains(p.body, want) {
				t.Errorf("%s does not say %q", p.viewer, want)
			}
		}
		if strings.Contains(p.body, "Pat One") || strings.Contains(p.body, w.p1Admin.Email) {
			t.Errorf("%s names Partner One's Pat", p.viewer)
		}
	}
}

// Every kind of event has its filter label: a checkbox without one is
// unlabelled for screen readers (axe flagged it).
func TestEveryKindHasAFilterLabel(t *testing.T) {
	for _, k := range store.EventKinds {
		if kindLabels[k] == "" {
			t.Errorf("kind %s has no label in the activity filter", k)
		}
	}
}
