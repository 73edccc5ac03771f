package e2e

import (
	"strings"
	"testing"

	"portal/store"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// openSecurityActivity goes to the Security activity section by its URL.
func (b *browser) openSecurityActivity() {
	b.t.Helper()
	b.navigate("/settings?section=security-activity")
	b.assertText("#security-activity h1", "Security activity")
}

// TestRecentlySignedOut: A signs B out; A's Recently signed out, closed
// until opened, lists B's browser with A's own browser as the one that
// did it, and the Security activity links to that entry; B's sign-in page
// says the same thing in B's words. A's browser reports its time zone at
// sign-in, and A's exact times are in it.
func TestRecentlySignedOut(t *testing.T) {
	ctx, srv := setup(t)
	a := newBrowser(t, ctx, srv, "A", chromeLinux)
	b := newBrowser(t, ctx, srv, "B", firefoxWindows)
	b.blockLive() // its next request learns; live updates are tested on their own
	if _, err := chromedp.Call(a.ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Europe/Berlin"}); err != nil {
		t.Fatal(err)
	}
	a.signIn(staffEmail)
	b.signIn(staffEmail)
	a.openActiveSessions()
	a.watch()
	target := rowFor(t, a.rows(), firefoxWindows)
	id := strings.TrimPrefix(target.ID, "session-")
	a.signOutRow(target)

	// Brought up to date in place, and still closed.
	entry := "#ended-" + id
	a.do("wait for B under Recently signed out", chromedp.WaitReady(chromedp.CSS(entry)))
	if eval[bool](a, `document.getElementById('recently-signed-out').open`) {
		t.Error("Recently signed out is open; it should be closed until asked for")
	}
	a.do("open Recently signed out",
		chromedp.Click(chromedp.CSS("#recently-signed-out summary")),
		chromedp.WaitVisible(chromedp.CSS(entry)),
	)
	want := "Signed out from " + chromeLinux.Label + " (" + privateNetwork + ") · just now"
	a.assertText(entry+" .ended-why", want)
	a.assertText(entry+" .device-name", firefoxWindows.Label)
	a.assertNoProblems()

	// B's next request lands on sign-in, with the reason.
	b.navigate("/settings?section=password")
	b.assertPath("/login?reason=revoked")
	b.assertText(".notice-info", reasonRevoked)

	// The Security activity says it too, in A's time zone, and links to
	// the entry, which opens Recently signed out.
	a.openSecurityActivity()
	first := eval[string](a, `document.querySelector('.activity-entry .activity-sentence').textContent`)
	if first != "Signed out from "+chromeLinux.Label+" ("+privateNetwork+")" {
		t.Errorf("the newest activity reads %q", first)
	}
	if got := a.text("#security-activity .lede"); !strings.Contains(got, "Times are in your time zone, Europe/Berlin.") {
		t.Errorf("the section says %q; want the times in Europe/Berlin", got)
	}
	exact := a.text(".activity-entry time")
	if !strings.HasSuffix(exact, " CET") && !strings.HasSuffix(exact, " CEST") {
		t.Errorf("an exact time reads %q; want it in Berlin time", exact)
	}
	a.clickAndLoad(`.activity-entry a[href$="#ended-` + id + `"]`)
	a.assertPath("/settings?section=active-sessions")
	a.do("wait for the entry", chromedp.WaitVisible(chromedp.CSS(entry)))
	if !eval[bool](a, `document.getElementById('recently-signed-out').open`) {
		t.Error("following the link did not open Recently signed out")
	}
	a.assertNoProblems()
}

// TestRecentlySignedOutWithoutJavaScript: the list opens and the filter
// works as plain HTML; without JavaScript times are in UTC, and say so.
func TestRecentlySignedOutWithoutJavaScript(t *testing.T) {
	ctx, srv := setup(t)
	a := newBrowser(t, ctx, srv, "A", chromeLinux)
	b := newBrowser(t, ctx, srv, "B", firefoxWindows)
	b.signIn(staffEmail)
	a.disableJavaScript()
	a.signIn(staffEmail)
	a.openActiveSessions()
	target := rowFor(t, a.rows(), firefoxWindows)
	a.clickAndLoad("#" + target.ID + " button")
	a.do("open Recently signed out",
		chromedp.Click(chromedp.CSS("#recently-signed-out summary")),
		chromedp.WaitVisible(chromedp.CSS("#ended-"+strings.TrimPrefix(target.ID, "session-"))),
	)
	a.openSecurityActivity()
	if got := a.text("#security-activity .lede"); !strings.Contains(got, "Times are in UTC") {
		t.Errorf("without JavaScript the section says %q; want UTC, named", got)
	}
	var untick []chromedp.Action[chromedp.Void]
	for _, k := range store.EventKinds {
		if k != store.EventEnded {
			untick = append(untick, chromedp.Click(chromedp.CSS(`input[name=kind][value=`+string(k)+`]`)))
		}
	}
	a.do("show sign-outs only", untick...)
	a.clickAndLoad(`form.activity-filter button[type=submit]`)
	a.assertPath("/settings?section=security-activity&kind=ended")
	for _, s := range eval[[]string](a, `Array.from(document.querySelectorAll('.activity-sentence')).map(p => p.textContent)`) {
		if strings.HasPrefix(s, "Signed in") {
			t.Errorf("the sign-outs filter shows %q", s)
		}
	}
}
