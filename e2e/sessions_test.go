package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestActiveSessionsList: sign in, open Active Sessions from the sidebar,
// find this browser first and labelled, with no console errors and no
// failed requests on the way.
func TestActiveSessionsList(t *testing.T) {
	ctx, srv := setup(t)
	a := newBrowser(t, ctx, srv, "A", chromeLinux)
	a.watch()

	a.signIn(adminEmail)
	a.openActiveSessionsViaSidebar()
	a.assertPath("/settings?section=active-sessions")

	rows := a.rows()
	assertCurrentFirst(t, rows, chromeLinux)
	if want := 1 + seededOthers[adminEmail]; len(rows) != want {
		t.Errorf("the list has %d rows, want %d (this browser and the seeded sessions): %+v", len(rows), want, rows)
	}
	for _, r := range rows[1:] {
		if r.Button != "Sign out" {
			t.Errorf("row %s (%s) has button %q, want \"Sign out\"", r.ID, r.Device, r.Button)
		}
	}
	if got := a.text(`nav.sidebar a[aria-current="page"]`); got != "Active Sessions" {
		t.Errorf("the sidebar marks %q as the current page, want Active Sessions", got)
	}
	a.assertNoProblems()
}

// TestSignOutOtherSession: a second browser appears in the list after a
// reload, and signing it out changes its row in place, without a reload.
func TestSignOutOtherSession(t *testing.T) {
	ctx, srv := setup(t)
	a := newBrowser(t, ctx, srv, "A", chromeLinux)
	b := newBrowser(t, ctx, srv, "B", firefoxWindows)

	a.signIn(adminEmail)
	a.openActiveSessions()
	before := a.rows()
	for _, r := range before {
		if r.Device == firefoxWindows.Label {
			t.Fatalf("B's device is listed before B signed in: %+v", r)
		}
	}

	b.signIn(adminEmail)
	a.watch()
	a.do("reload", chromedp.Reload())
	a.do("wait for the table", chromedp.WaitVisible(chromedp.CSS("table.sessions tbody tr")))
	rows := a.rows()
	if len(rows) != len(before)+1 {
		t.Fatalf("after B signed in the list has %d rows, want %d: %+v", len(rows), len(before)+1, rows)
	}
	assertCurrentFirst(t, rows, chromeLinux)
	rb := rowFor(t, rows, firefoxWindows)
	if rb.Location != privateNetwork {
		t.Errorf("B's row shows location %q, want %q", rb.Location, privateNetwork)
	}
	if want := "Sign out " + firefoxWindows.Label + ", " + privateNetwork; rb.Button != "Sign out" || rb.ButtonName != want {
		t.Errorf("B's row has button %q named %q, want \"Sign out\" named %q", rb.Button, rb.ButtonName, want)
	}
	index := slices.IndexFunc(rows, func(r row) bool { return r.ID == rb.ID })

	eval[chromedp.Void](a, `window.__marker = 1`)
	a.signOutRow(rb)
	if got := eval[int](a, `window.__marker || 0`); got != 1 {
		t.Errorf("window.__marker is %d after the sign-out, want 1: the page was reloaded instead of the row swapped", got)
	}
	a.assertPath("/settings?section=active-sessions")
	after := a.rows()
	if len(after) != len(rows) {
		t.Fatalf("after the sign-out the list has %d rows, want %d (the row stays, marked): %+v", len(after), len(rows), after)
	}
	ended := after[index]
	if ended.ID != rb.ID || !ended.Ended || ended.EndedText != "Signed out" || ended.Button != "" {
		t.Errorf("row %d after the sign-out is %+v; want %s in place, ended, reading \"Signed out\", with no button", index, ended, rb.ID)
	}
	for i, r := range after {
		if i != index && r != rows[i] {
			t.Errorf("row %d changed although only B's was signed out: %+v, was %+v", i, r, rows[i])
		}
	}
	want := "Signed out " + firefoxWindows.Label + ", " + privateNetwork + "."
	a.do("wait for the announcement", chromedp.WaitVisible(chromedp.CSS("#flash .flash-msg")))
	if got := a.text("#flash"); got != want {
		t.Errorf("the live region says %q, want %q", got, want)
	}
	a.assertNoProblems()

	a.do("reload", chromedp.Reload())
	a.do("wait for the table", chromedp.WaitVisible(chromedp.CSS("table.sessions tbody tr")))
	final := a.rows()
	if len(final) != len(before) || slices.ContainsFunc(final, func(r row) bool { return r.ID == rb.ID }) {
		t.Errorf("after a reload the list should have %d rows without B's: %+v", len(before), final)
	}
}

// TestRevokedBrowserIsSentToSignIn: a browser whose session was signed out
// from another one lands on sign-in with the reason, whether its next
// request is a full navigation or an htmx request.
func TestRevokedBrowserIsSentToSignIn(t *testing.T) {
	ctx, srv := setup(t)
	a := newBrowser(t, ctx, srv, "A", chromeLinux)
	b := newBrowser(t, ctx, srv, "B", firefoxWindows)
	b.blockLive() // this test is about its next request
	a.signIn(managerEmail)

	revokeB := func() {
		t.Helper()
		b.signIn(managerEmail)
		a.openActiveSessions()
		a.signOutRow(rowFor(t, a.rows(), firefoxWindows))
	}

	t.Run("full navigation", func(t *testing.T) {
		revokeB()
		b.navigate("/settings")
		b.assertPath("/login?reason=revoked")
		b.assertText(".notice-info", reasonRevoked)
		b.assertText("h1", "Sign in")
	})

	t.Run("htmx request", func(t *testing.T) {
		revokeB() // a fresh B session; B is on its Profile page
		redirects := make(chan string, 4)
		if err := chromedp.Listen(b.ctx, func(ev any) {
			if ev, ok := ev.(*network.EventResponseReceived); ok {
				for k, v := range ev.Response.Headers {
					if strings.EqualFold(k, "HX-Redirect") {
						select {
						case redirects <- fmt.Sprint(v):
						default:
						}
					}
				}
			}
		}); err != nil {
			t.Fatal(err)
		}
		b.clickAndLoad(`nav.sidebar a[href="/settings?section=active-sessions"]`)
		b.assertPath("/login?reason=revoked")
		b.assertText(".notice-info", reasonRevoked)
		select {
		case got := <-redirects:
			if got != "/login?reason=revoked" {
				t.Errorf("HX-Redirect is %q, want /login?reason=revoked", got)
			}
		default:
			t.Error("the sidebar click got no HX-Redirect response: it was not handled as an htmx request")
		}
	})
}

// TestSignOutAllOtherDevices: confirming in the dialog ends every other
// session; the others land on sign-in with the reason; this one stays.
func TestSignOutAllOtherDevices(t *testing.T) {
	ctx, srv := setup(t)
	a := newBrowser(t, ctx, srv, "A", chromeLinux)
	b := newBrowser(t, ctx, srv, "B", firefoxWindows)
	c := newBrowser(t, ctx, srv, "C", edgeMac)
	b.blockLive() // B and C learn on their next request, as without live updates
	c.blockLive()
	a.signIn(managerEmail)
	b.signIn(managerEmail)
	c.signIn(managerEmail)

	a.openActiveSessions()
	rows := a.rows()
	others := seededOthers[managerEmail] + 2
	if len(rows) != 1+others {
		t.Fatalf("the list has %d rows, want %d: %+v", len(rows), 1+others, rows)
	}
	rowFor(t, rows, firefoxWindows)
	rowFor(t, rows, edgeMac)
	a.watch()
	eval[chromedp.Void](a, `window.__marker = 1`)

	a.do("open the confirmation dialog",
		chromedp.Click(chromedp.CSS(`form[data-dialog="confirm-sign-out-others"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog#confirm-sign-out-others[open]`)),
	)
	if got, want := a.text("#confirm-desc"), fmt.Sprintf("This signs out %d other sessions. You stay signed in on this browser.", others); got != want {
		t.Errorf("the dialog says %q, want %q", got, want)
	}
	a.do("confirm",
		chromedp.Click(chromedp.CSS(`#confirm-sign-out-others button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#active-sessions .notice-ok`)),
	)
	want := fmt.Sprintf("Signed out %d other sessions.", others)
	if got := a.text("#active-sessions .notice-ok"); got != want {
		t.Errorf("the section says %q, want %q", got, want)
	}
	if got := a.text("#flash"); got != want {
		t.Errorf("the live region says %q, want %q", got, want)
	}
	if got := eval[int](a, `window.__marker || 0`); got != 1 {
		t.Error("the page was reloaded; the section should have been swapped in place")
	}
	assertOnlyCurrent(t, a, chromeLinux)
	a.assertNoProblems()

	// B's next action is a full navigation, C's an htmx request.
	b.watch()
	b.navigate("/settings")
	b.assertPath("/login?reason=revoked_all")
	b.assertText(".notice-info", reasonRevokedAll)
	b.assertNoProblems()
	c.watch()
	c.clickAndLoad(`nav.sidebar a[href="/settings?section=password"]`)
	c.assertPath("/login?reason=revoked_all")
	c.assertText(".notice-info", reasonRevokedAll)
	c.assertNoProblems()

	a.do("reload", chromedp.Reload())
	a.assertPath("/settings?section=active-sessions")
	assertOnlyCurrent(t, a, chromeLinux)
}

// assertOnlyCurrent checks a list with nothing but this browser in it.
func assertOnlyCurrent(t *testing.T, b *browser, dev device) {
	t.Helper()
	rows := b.rows()
	assertCurrentFirst(t, rows, dev)
	if len(rows) != 1 {
		t.Errorf("the list has %d rows, want only the current session: %+v", len(rows), rows)
	}
	if got := b.text("#active-sessions .empty"); got != "No other sessions. Only this browser is signed in to your account." {
		t.Errorf("the empty-list sentence is %q", got)
	}
	if n := eval[int](b, `document.querySelectorAll('form[data-dialog="confirm-sign-out-others"]').length`); n != 0 {
		t.Error(`"Sign out all other devices" is offered with no other sessions`)
	}
}

// TestSignOutAllOtherDevicesCancel: cancelling the dialog changes nothing.
func TestSignOutAllOtherDevicesCancel(t *testing.T) {
	ctx, srv := setup(t)
	a := newBrowser(t, ctx, srv, "A", chromeLinux)
	b := newBrowser(t, ctx, srv, "B", firefoxWindows)
	a.signIn(staffEmail)
	b.signIn(staffEmail)
	a.openActiveSessions()
	before := a.rows()
	if len(before) != 2+seededOthers[staffEmail] {
		t.Fatalf("the list has %d rows, want %d: %+v", len(before), 2+seededOthers[staffEmail], before)
	}
	a.watch()
	a.do("open the dialog and cancel it",
		chromedp.Click(chromedp.CSS(`form[data-dialog="confirm-sign-out-others"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog#confirm-sign-out-others[open]`)),
		chromedp.Click(chromedp.CSS(`#confirm-sign-out-others button[data-close-dialog]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`dialog#confirm-sign-out-others[open]`)),
	)
	a.assertPath("/settings?section=active-sessions")
	a.do("reload", chromedp.Reload())
	a.do("wait for the table", chromedp.WaitVisible(chromedp.CSS("table.sessions tbody tr")))
	if after := a.rows(); !slices.Equal(after, before) {
		t.Errorf("after Cancel and a reload the list changed:\n got %+v\nwant %+v", after, before)
	}
	a.assertNoProblems()
	b.openActiveSessions() // B is still signed in
	assertCurrentFirst(t, b.rows(), firefoxWindows)
}

// TestLegacyURL: the old slug ends at the canonical address.
func TestLegacyURL(t *testing.T) {
	ctx, srv := setup(t)
	a := newBrowser(t, ctx, srv, "A", chromeLinux)
	a.signIn(staffEmail)
	a.navigate("/settings?section=session-management")
	if href := eval[string](a, `location.href`); !strings.HasSuffix(href, "section=active-sessions") {
		t.Errorf("location.href is %q, want it to end with section=active-sessions", href)
	}
	a.assertPath("/settings?section=active-sessions")
	a.assertText("#active-sessions h1", "Active Sessions")
	assertCurrentFirst(t, a.rows(), chromeLinux)
}

// TestPartnerHasNoActiveSessions: partners get no link and a not-found page.
func TestPartnerHasNoActiveSessions(t *testing.T) {
	ctx, srv := setup(t)
	p := newBrowser(t, ctx, srv, "partner", chromeLinux)
	p.signIn(partnerEmail)
	p.navigate("/settings")
	links := eval[[]string](p, `Array.from(document.querySelectorAll('nav.sidebar a')).map(a => a.textContent.trim() + ' ' + a.getAttribute('href'))`)
	if len(links) == 0 {
		t.Fatal("the partner's Settings has no sidebar links at all")
	}
	for _, l := range links {
		if strings.Contains(l, "Active Sessions") || strings.Contains(l, "active-sessions") || strings.Contains(l, "session-management") {
			t.Errorf("the partner's sidebar offers %q", l)
		}
	}
	for _, path := range []string{
		"/settings?section=active-sessions",
		"/settings?section=session-management",
		"/settings/active-sessions/sign-out-others",
	} {
		resp := run(p, "open "+path, chromedp.NavigateResponse(srv.URL+path))
		if resp.Status != 404 {
			t.Errorf("%s gives the partner HTTP %d, want 404", path, resp.Status)
		}
		p.assertPath(path)
		p.assertText("h1", "Page not found")
		if n := eval[int](p, `document.querySelectorAll('table.sessions').length`); n != 0 {
			t.Errorf("%s shows the partner a sessions table", path)
		}
	}
}

// disableJavaScript turns off page scripts in the browser's tab, for every
// page it loads from now on. DevTools evaluation keeps working.
func (b *browser) disableJavaScript() {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		b.t.Fatalf("%s: disable JavaScript: %v", b.name, err)
	}
}

// TestWithoutJavaScript: both sign-outs work as plain forms, the second
// through the confirmation page.
func TestWithoutJavaScript(t *testing.T) {
	ctx, srv := setup(t)
	a := newBrowser(t, ctx, srv, "A", chromeLinux)
	a.disableJavaScript()
	b := newBrowser(t, ctx, srv, "B", firefoxWindows)
	b.blockLive() // this test is about its next request
	a.signIn(adminEmail)
	if got := eval[string](a, `typeof window.htmx`); got != "undefined" {
		t.Fatalf("JavaScript is not off in A: typeof htmx is %q", got)
	}

	t.Run("sign out one session", func(t *testing.T) {
		b.signIn(adminEmail)
		a.openActiveSessions()
		before := a.rows()
		rb := rowFor(t, before, firefoxWindows)
		a.clickAndLoad("#" + rb.ID + " button")
		a.assertPath("/settings?section=active-sessions")
		a.assertText("#flash", flashRevoked)
		after := a.rows()
		if len(after) != len(before)-1 || slices.ContainsFunc(after, func(r row) bool { return r.ID == rb.ID }) {
			t.Errorf("after the sign-out the list should have %d rows without B's:\n%+v", len(before)-1, after)
		}
		assertCurrentFirst(t, after, chromeLinux)
		b.navigate("/settings")
		b.assertPath("/login?reason=revoked")
	})

	t.Run("sign out all other devices", func(t *testing.T) {
		b.signIn(adminEmail)
		a.openActiveSessions()
		others := len(a.rows()) - 1
		if others != seededOthers[adminEmail]+1 {
			t.Errorf("%d other sessions listed, want %d (seeded and B)", others, seededOthers[adminEmail]+1)
		}
		a.clickAndLoad(`form[data-dialog="confirm-sign-out-others"] button`)
		a.assertPath("/settings/active-sessions/sign-out-others?")
		a.assertText("#active-sessions h1", "Sign out all other devices?")
		a.assertText("#active-sessions p", fmt.Sprintf("This signs out %d other sessions. You stay signed in on this browser.", others))
		a.clickAndLoad(`#active-sessions form button[type=submit]`)
		a.assertPath("/settings?section=active-sessions")
		a.assertText("#flash", fmt.Sprintf("Signed out %d other sessions.", others))
		assertOnlyCurrent(t, a, chromeLinux)
		b.navigate("/settings")
		b.assertPath("/login?reason=revoked_all")
		b.assertText(".notice-info", reasonRevokedAll)
	})
}

// TestSignOutAllCountAfterRowSignOut: after signing out a row in place, the
// "Sign out all other devices" dialog counts only the sessions still live.
func TestSignOutAllCountAfterRowSignOut(t *testing.T) {
	ctx, srv := setup(t)
	a := newBrowser(t, ctx, srv, "A", chromeLinux)
	a.signIn(staffEmail)
	a.openActiveSessions()
	a.waitLive() // the stream's update of the count must not take the button away mid-click
	rows := a.rows()
	others := len(rows) - 1
	if others < 2 {
		t.Fatalf("need at least 2 other sessions, have %d", others)
	}
	a.signOutRow(rows[1])
	a.do("open the confirmation dialog",
		chromedp.Click(chromedp.CSS(`form[data-dialog="confirm-sign-out-others"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog#confirm-sign-out-others[open]`)),
	)
	got := a.text("#confirm-desc")
	want := fmt.Sprintf("This signs out %d other sessions. You stay signed in on this browser.", others-1)
	if got != want {
		t.Errorf("the dialog says %q, want %q", got, want)
	}
	a.do("confirm",
		chromedp.Click(chromedp.CSS(`#confirm-sign-out-others button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#active-sessions .notice-ok`)),
	)
	if got, want := a.text("#active-sessions .notice-ok"), fmt.Sprintf("Signed out %d other sessions.", others-1); got != want {
		t.Errorf("the section says %q, want %q", got, want)
	}
}
