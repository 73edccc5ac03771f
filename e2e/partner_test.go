package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// reasonPartner is what sign-in says to a browser a partner signed out.
const reasonPartner = "Your AiDial partner signed this session out."

// findUser searches the partner console for email, from the Clients page
// as a person would, and opens the user's sessions.
func (b *browser) findUser(email string) {
	b.t.Helper()
	b.navigate("/partner")
	b.assertText("h1", "Clients")
	b.do("search for "+email,
		chromedp.WaitVisible(chromedp.ID("q")),
		chromedp.SendKeys(chromedp.ID("q"), email),
	)
	b.clickAndLoad(`form[role=search] button[type=submit]`)
	href := eval[string](b, `(() => {
		const tr = Array.from(document.querySelectorAll('table.list tbody tr'))
			.find(tr => tr.querySelector('td[data-label="Email"]').textContent.trim() === `+"'"+email+"'"+`);
		return tr ? tr.querySelector('a').getAttribute('href') : '';
	})()`)
	if !strings.HasPrefix(href, "/partner/users/") {
		b.t.Fatalf("%s: the search for %s does not list them:\n%s", b.name, email, b.text("main"))
	}
	b.clickAndLoad(`table.list a[href="` + href + `"]`)
	b.assertPath(href)
	b.do("wait for the sessions table", chromedp.WaitVisible(chromedp.CSS("table.sessions tbody tr")))
}

// TestPartnerSignsOutClientSession: a partner finds a client user in the
// console and signs out one of their sessions; the row changes in place,
// and that user's browser, on its next click, lands on sign-in with the
// partner sentence.
func TestPartnerSignsOutClientSession(t *testing.T) {
	ctx, srv := setup(t)
	user := newBrowser(t, ctx, srv, "client user", firefoxWindows)
	user.blockLive() // its next click learns; live updates are tested on their own
	partner := newBrowser(t, ctx, srv, "partner", chromeLinux)
	user.signIn(staffEmail)
	partner.signIn(partnerEmail)

	partner.watch()
	partner.findUser(staffEmail)
	rows := partner.rows()
	if want := 1 + seededOthers[staffEmail]; len(rows) != want {
		t.Errorf("the console lists %d sessions, want %d (the seeded ones and the user's browser): %+v", len(rows), want, rows)
	}
	for _, r := range rows {
		if r.Current || r.Badge != "" || r.Button != "Sign out" {
			t.Errorf("row %s is %+v; the console labels no row current and offers Sign out on each", r.ID, r)
		}
	}
	target := rowFor(t, rows, firefoxWindows)
	if want := "Sign out " + firefoxWindows.Label + ", " + privateNetwork; target.ButtonName != want {
		t.Errorf("the user's row's button is named %q, want %q", target.ButtonName, want)
	}
	path := partner.location().RequestURI()

	eval[chromedp.Void](partner, `window.__marker = 1`)
	partner.signOutRow(target)
	if got := eval[int](partner, `window.__marker || 0`); got != 1 {
		t.Error("the page was reloaded; the row should have changed in place")
	}
	partner.assertPath(path)
	after := partner.rows()
	if len(after) != len(rows) {
		t.Fatalf("after the sign-out the console lists %d rows, want %d: %+v", len(after), len(rows), after)
	}
	for i, r := range after {
		switch {
		case r.ID == target.ID && (!r.Ended || r.EndedText != "Signed out" || r.Button != ""):
			t.Errorf("the signed-out row is %+v; want it in place, reading \"Signed out\", with no button", r)
		case r.ID != target.ID && r != rows[i]:
			t.Errorf("row %d changed although only the user's browser was signed out: %+v, was %+v", i, r, rows[i])
		}
	}
	partner.do("wait for the announcement", chromedp.WaitVisible(chromedp.CSS("#flash .flash-msg")))
	if got, want := partner.text("#flash"), "Signed out "+firefoxWindows.Label+", "+privateNetwork+"."; got != want {
		t.Errorf("the live region says %q, want %q", got, want)
	}
	partner.assertNoProblems()

	// The user is on their Profile page; their next click is an htmx one.
	user.watch()
	user.clickAndLoad(`nav.sidebar a[href="/settings?section=password"]`)
	user.assertPath("/login?reason=partner_revoked")
	user.assertText(".notice-info", reasonPartner)
	user.assertText("h1", "Sign in")
	user.assertNoProblems()
}
