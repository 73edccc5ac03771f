package handlers

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"portal/store"
	"portal/twostep"
)

// turnOnTwoStep gives u two-step sign-in straight in the store.
func (e *env) turnOnTwoStep(u store.User) {
	e.t.Helper()
	k, err := twostep.NewKey(u.Email)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.EnableTwoStep(u.ID, store.Actor{}, k.Secret, twostep.RecoveryCodes(store.RecoveryCodes)); err != nil {
		e.t.Fatal(err)
	}
}

// hasTwoStep reports whether u has two-step sign-in on, as the store has it.
func (e *env) hasTwoStep(u store.User) bool {
	e.t.Helper()
	_, err := e.st.TwoStep(u.ID)
	if err != nil && !errors.Is(err, store.ErrTwoStepOff) {
		e.t.Fatal(err)
	}
	return err == nil
}

// requires reports whether account a requires two-step sign-in.
func (e *env) requires(a store.Account) bool {
	e.t.Helper()
	got, err := e.st.AccountByID(a.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return got.RequireTwoStep
}

// lastEvent is u's newest event of kind, or fails the test.
func (e *env) lastEvent(u store.User, kind store.EventKind) store.Event {
	e.t.Helper()
	page, err := e.st.UserEvents(u.ID, store.EventQuery{Kinds: []store.EventKind{kind}, Page: 1})
	if err != nil || len(page.Events) == 0 {
		e.t.Fatalf("%s has no %s event (%v)", u.Email, kind, err)
	}
	return page.Events[0]
}

// followFlash follows a 303 and returns the page it leads to.
func (b *browser) followFlash(t *testing.T, r resp, want string) resp {
	t.Helper()
	if r.StatusCode != http.StatusSeeOther || r.header("Location") != want {
		t.Fatalf("status %d location %q, want 303 to %s; %.300s", r.StatusCode, r.header("Location"), want, r.body)
	}
	return b.mustGet(t, want)
}

// TestPartnerRequireTwoStep: the switch on a client's page turns the
// requirement on and off, each recorded in every user's activity with the
// partner user as actor; bad input changes nothing.
func TestPartnerRequireTwoStep(t *testing.T) {
	e := newEnv(t)
	w := newPartnerWorld(e)
	colleague := e.member(w.acme, store.RoleClientStaff, "al@acme.example", "Al Acme")
	p := w.partnerAs(w.p1Staff)
	page := p.mustGet(t, partnerAccountURL(w.acme.ID)).body
	if !strings.Contains(page, `role="switch" aria-checked="false"`) || !strings.Contains(page, `name="require" value="on"`) {
		t.Fatalf("the client's page lacks the switch, off:\n%s", page)
	}
	action := partnerRequireTwoStepURL(w.acme.ID)

	// Bad input: nothing changes.
	bad := []struct {
		name   string
		form   url.Values
		status int
		says   string
	}{
		{"no value", url.Values{}, http.StatusBadRequest, "the switch sends on or off"},
		{"empty value", url.Values{"require": {""}}, http.StatusBadRequest, "the switch sends on or off"},
		{"another word", url.Values{"require": {"yes"}}, http.StatusBadRequest, "the switch sends on or off"},
		{"wrong CSRF", url.Values{"require": {"on"}, csrfField: {"forged"}}, http.StatusForbidden, ""},
		{"no CSRF", url.Values{"require": {"on"}, csrfField: {""}}, http.StatusForbidden, ""},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			p.mustGet(t, partnerAccountURL(w.acme.ID))
			r := p.post(action, tt.form)
			if r.StatusCode != tt.status || !strings.Contains(r.body, tt.says) {
				t.Errorf("status %d, want %d saying %q; %.300s", r.StatusCode, tt.status, tt.says, r.body)
			}
			if e.requires(w.acme) {
				t.Error("refused input changed the requirement")
			}
		})
	}

	// On, then off; each user's activity names the partner user.
	for _, on := range []bool{true, false} {
		value, says, kind := "on", "is now required", store.EventTwoStepRequired
		if !on {
			value, says, kind = "off", "no longer required", store.EventTwoStepNotRequired
		}
		p.mustGet(t, partnerAccountURL(w.acme.ID))
		page := p.followFlash(t, p.post(action, url.Values{"require": {value}}), partnerAccountURL(w.acme.ID)).body
		if !strings.Contains(page, says) {
			t.Errorf("require=%s: the page does not say it %s", value, says)
		}
		if got := e.requires(w.acme); got != on {
			t.Errorf("require=%s: the account requires it: %v", value, got)
		}
		if want := `role="switch" aria-checked="` + map[bool]string{true: "true", false: "false"}[on] + `"`; !strings.Contains(page, want) {
			t.Errorf("require=%s: the switch does not read %s", value, want)
		}
		for _, u := range []store.User{w.ann, colleague} {
			if ev := e.lastEvent(u, kind); ev.By.User != w.p1Staff.ID {
				t.Errorf("require=%s: %s's event names %+v, want the partner user", value, u.Email, ev.By)
			}
		}
	}
	if e.requires(w.bolt) || e.requires(w.cobalt) {
		t.Error("the switch changed another client")
	}

	// With htmx the answer is a redirect htmx follows.
	p.mustGet(t, partnerAccountURL(w.acme.ID))
	r := p.do(http.MethodPost, action, url.Values{"require": {"on"}}, map[string]string{"HX-Request": "true", csrfHeader: p.csrf()})
	if r.StatusCode != http.StatusOK || r.header("HX-Redirect") != partnerAccountURL(w.acme.ID) || !e.requires(w.acme) {
		t.Errorf("htmx: status %d, HX-Redirect %q, required %v", r.StatusCode, r.header("HX-Redirect"), e.requires(w.acme))
	}
}

// TestPartnerTwoStepOff: a partner user turns off a client user's
// two-step sign-in after confirming it is them and a confirmation step;
// the user is signed out everywhere and their activity names the partner
// user.
func TestPartnerTwoStepOff(t *testing.T) {
	e := newEnv(t)
	w := newPartnerWorld(e)
	e.turnOnTwoStep(w.ann)
	p := w.partnerAs(w.p1Staff)
	user, confirm := partnerUserURL(w.ann.ID), partnerTwoStepOffURL(w.ann.ID)

	page := p.mustGet(t, user).body
	if !strings.Contains(page, `action="`+confirm+`"`) || !strings.Contains(page, "Turn off two-step sign-in") {
		t.Fatalf("the user's page does not offer Turn off two-step sign-in:\n%s", page)
	}
	if page := p.mustGet(t, partnerUserURL(w.bob.ID)).body; strings.Contains(page, "Turn off two-step sign-in") || !strings.Contains(page, "signs in with their password alone") {
		t.Error("a user without two-step sign-in is offered to turn it off, or not said to be without it")
	}

	// The confirmation step says it signs the user out everywhere.
	page = p.mustGet(t, confirm).body
	for _, want := range []string{"Turn off two-step sign-in for Ann Archer?", "This also signs Ann Archer out everywhere.", "out of 3 sessions", `method="post" action="` + confirm + `"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the confirmation step lacks %q", want)
		}
	}

	// Wrong or missing CSRF: refused, nothing changes.
	for _, token := range []string{"forged", ""} {
		if r := p.post(confirm, url.Values{csrfField: {token}}); r.StatusCode != http.StatusForbidden {
			t.Errorf("CSRF %q: status %d, want 403", token, r.StatusCode)
		}
	}
	if !e.hasTwoStep(w.ann) || len(w.liveIDs(w.ann)) != 3 {
		t.Fatal("a refused request changed the user")
	}

	p.mustGet(t, confirm)
	page = p.followFlash(t, p.post(confirm, nil), user).body
	if !strings.Contains(page, "Turned off two-step sign-in for this user and signed them out of 3 sessions.") {
		t.Errorf("the page does not say what was done:\n%s", page)
	}
	if e.hasTwoStep(w.ann) {
		t.Error("two-step sign-in is still on")
	}
	if ids := w.liveIDs(w.ann); len(ids) != 0 {
		t.Errorf("%d sessions still live", len(ids))
	}
	for _, b := range w.devices[w.ann.ID] {
		var ended *store.EndedError
		if _, _, err := e.st.Authenticate(b.token()); !errors.As(err, &ended) || ended.Reason != store.ReasonTwoStepReset {
			t.Errorf("a session: %v, want ended for the two-step reset", err)
		}
	}
	if ev := e.lastEvent(w.ann, store.EventTwoStepOff); ev.By.User != w.p1Staff.ID {
		t.Errorf("the event names %+v, want the partner user", ev.By)
	}
	if strings.Contains(page, "Turn off two-step sign-in</button>") {
		t.Error("the page still offers to turn it off")
	}

	// Again: it is off already, which the page says; nothing happens.
	for _, do := range []func() resp{func() resp { return p.get(confirm) }, func() resp { return p.post(confirm, nil) }} {
		if page := p.followFlash(t, do(), user).body; !strings.Contains(page, "already off") {
			t.Errorf("a second turn-off does not say it is off already")
		}
	}
}

// TestPartnerTwoStepOffNeedsConfirmation: without a sign-in or
// confirmation in the last 15 minutes, both the step and the change send
// the partner user to Confirm it's you, and nothing changes; once they
// confirm, it works.
func TestPartnerTwoStepOffNeedsConfirmation(t *testing.T) {
	e := newEnv(t)
	w := newPartnerWorld(e)
	e.turnOnTwoStep(w.ann)
	p := w.partnerAs(w.p1Admin)
	confirm := partnerTwoStepOffURL(w.ann.ID)
	want := "/confirm?next=" + url.QueryEscape(confirm)
	e.clock.Advance(16 * time.Minute)
	p.mustGet(t, partnerUserURL(w.ann.ID))
	for _, tt := range []struct {
		name string
		do   func() resp
		hx   bool
	}{
		{"the step", func() resp { return p.get(confirm) }, false},
		{"the change", func() resp { return p.post(confirm, nil) }, false},
		{"the change with htmx", func() resp { return p.htmx(http.MethodPost, confirm, nil) }, true},
	} {
		r := tt.do()
		got := r.header("Location")
		if tt.hx {
			got = r.header("HX-Redirect")
		}
		if got != want {
			t.Errorf("%s: status %d to %q, want %q", tt.name, r.StatusCode, got, want)
		}
	}
	if !e.hasTwoStep(w.ann) || len(w.liveIDs(w.ann)) != 3 {
		t.Fatal("without a recent confirmation the user changed")
	}
	// Confirming (the /confirm page's work) lets it through.
	s, _, err := e.st.Authenticate(p.token())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.ConfirmSession(w.p1Admin.ID, s.ID); err != nil {
		t.Fatal(err)
	}
	p.mustGet(t, confirm)
	if page := p.followFlash(t, p.post(confirm, nil), partnerUserURL(w.ann.ID)).body; !strings.Contains(page, "signed them out of 3 sessions") || e.hasTwoStep(w.ann) {
		t.Error("after confirming, turning it off did not work")
	}
}

// TestPartnerTwoStepScope: each partner, on the other partner's clients
// and users, an unmanaged client, its colleagues and made-up ids, gets the
// unknown path's 404 for the switch and for Turn off two-step sign-in, and
// nothing changes.
func TestPartnerTwoStepScope(t *testing.T) {
	e := newEnv(t)
	w := newPartnerWorld(e)
	// The partners sign in first: with two-step sign-in on, the password
	// alone would stop at the code page.
	one, two := w.partnerAs(w.p1Admin), w.partnerAs(w.p2Staff)
	everyone := []store.User{w.ann, w.bob, w.cat, w.dan, w.p1Admin, w.p1Staff, w.p2Admin, w.p2Staff}
	for _, u := range everyone {
		e.turnOnTwoStep(u)
	}
	before := w.liveCounts()
	none := strings.Repeat("0", 32)
	tests := []struct {
		name     string
		b        *browser
		accounts []string
		users    []string
	}{
		{"partner one", one, []string{w.cobalt.ID, w.free.ID, w.p1.ID, w.p2.ID, none}, []string{w.cat.ID, w.dan.ID, w.p1Staff.ID, w.p2Admin.ID, none}},
		{"partner two", two, []string{w.acme.ID, w.bolt.ID, w.free.ID, w.p2.ID, none}, []string{w.ann.ID, w.bob.ID, w.dan.ID, w.p2Admin.ID, w.p1Admin.ID, none}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var routes []struct{ method, path string }
			for _, a := range tt.accounts {
				routes = append(routes, struct{ method, path string }{http.MethodPost, partnerRequireTwoStepURL(a)})
			}
			for _, u := range tt.users {
				routes = append(routes, struct{ method, path string }{http.MethodGet, partnerTwoStepOffURL(u)},
					struct{ method, path string }{http.MethodPost, partnerTwoStepOffURL(u)})
			}
			assertNotFound(t, tt.b, tt.name, routes)
			// With a valid value too.
			for _, a := range tt.accounts {
				r := tt.b.post(partnerRequireTwoStepURL(a), url.Values{"require": {"on"}})
				if r.StatusCode != http.StatusNotFound {
					t.Errorf("require=on for %s: %d, want 404", a, r.StatusCode)
				}
			}
		})
	}
	for _, u := range everyone {
		if !e.hasTwoStep(u) {
			t.Errorf("out-of-scope requests turned off %s's two-step sign-in", u.Email)
		}
	}
	for _, a := range []store.Account{w.acme, w.bolt, w.cobalt, w.free, w.p1, w.p2} {
		if e.requires(a) {
			t.Errorf("out-of-scope requests made %s require two-step sign-in", a.Name)
		}
	}
	if after := w.liveCounts(); !maps.Equal(before, after) {
		t.Errorf("out-of-scope requests changed sessions: %v, was %v", after, before)
	}
}
