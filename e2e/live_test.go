package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// blockLive stops the browser's tab from opening the live-updates stream,
// as a proxy that buffers responses would: the browser then learns that
// its session ended on its next request, as it did before live updates.
func (b *browser) blockLive() {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, network.Enable, network.EnableParams{}); err != nil {
		b.t.Fatalf("%s: enable network: %v", b.name, err)
	}
	_, err := chromedp.Call(b.ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{
		URLPatterns: []*network.BlockPattern{{URLPattern: "*://*:*/events*", Block: true}},
	})
	if err != nil {
		b.t.Fatalf("%s: block /events: %v", b.name, err)
	}
}

// newTab opens another tab of the same browser (same profile, cookies
// and connections), closed when the test ends.
func (b *browser) newTab(name string) *browser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("%s: open a tab: %v", name, err)
	}
	return &browser{t: b.t, ctx: ctx, dev: b.dev, name: name, server: b.server, base: b.base, expected: b.expected}
}

// waitPath waits, without doing anything, until the address bar shows
// want (path and query), and returns how long that took.
func (b *browser) waitPath(want string, within time.Duration) time.Duration {
	b.t.Helper()
	start := time.Now()
	for {
		ctx, cancel := context.WithTimeout(b.ctx, time.Second)
		loc, err := chromedp.Run(ctx, chromedp.Location())
		cancel()
		if err == nil && strings.HasSuffix(loc, want) && strings.HasPrefix(loc, b.base) {
			return time.Since(start)
		}
		if time.Since(start) > within {
			b.t.Fatalf("%s: the address bar shows %s, not %s, %s later", b.name, loc, want, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitLive waits until the page's tab has its live updates: the tab that
// leads holds the stream, the others hear it.
func (b *browser) waitLive() {
	b.t.Helper()
	b.do("wait for live updates", chromedp.Poll[chromedp.Void](`document.body.hasAttribute("sse-connect") && window.htmx !== undefined`))
	time.Sleep(600 * time.Millisecond) // the election and the connection
}

// TestLiveSignOutReachesEveryTab: browser B has Active Sessions open and
// a second tab on Profile; A signs B out. Both of B's tabs show the
// sign-in page with the reason within a second, with no input, and A's
// other tab shows B's row signed out without a reload.
func TestLiveSignOutReachesEveryTab(t *testing.T) {
	ctx, srv := setup(t)
	a := newBrowser(t, ctx, srv, "A", chromeLinux)
	b := newBrowser(t, ctx, srv, "B", firefoxWindows)
	a.signIn(managerEmail)
	b.signIn(managerEmail)
	b.openActiveSessions()
	b2 := b.newTab("B's second tab")
	b2.navigate("/settings?section=profile")
	a2 := a.newTab("A's second tab")
	a2.openActiveSessions()
	a2.watch()
	eval[bool](a2, `(window.__marker = 1, true)`)
	for _, x := range []*browser{b, b2, a2} {
		x.waitLive()
	}
	a.openActiveSessions()
	a.watch()
	rb := rowFor(t, a.rows(), firefoxWindows)

	var wg sync.WaitGroup
	took := make([]time.Duration, 2)
	for i, x := range []*browser{b, b2} {
		wg.Go(func() { took[i] = x.waitPath("/login?reason=revoked", 5*time.Second) })
	}
	a.signOutRow(rb)
	wg.Wait()
	for i, d := range took {
		t.Logf("B's tab %d left for sign-in %s after A's click was sent", i+1, d.Round(time.Millisecond))
		if d > time.Second+500*time.Millisecond {
			// The click itself, its response and the swap come first;
			// what is left must be under a second.
			t.Errorf("B's tab %d took %s to leave", i+1, d)
		}
	}
	b.assertText(".notice-info", reasonRevoked)
	b2.assertText(".notice-info", reasonRevoked)

	a2.do("wait for B's row to show it ended", chromedp.WaitVisible(chromedp.CSS("#"+rb.ID+".is-ended span.ended")))
	if got := eval[int](a2, `window.__marker || 0`); got != 1 {
		t.Error("A's other tab was reloaded; the row should have changed in place")
	}
	a2.do("wait for the announcement", chromedp.WaitVisible(chromedp.CSS("#flash .flash-msg")))
	if got, want := a2.text("#flash"), "Signed out "+firefoxWindows.Label+", "+privateNetwork+"."; got != want {
		t.Errorf("A's other tab announces %q, want %q", got, want)
	}
	a.assertNoProblems()
	a2.assertNoProblems()
}

// TestLiveSevenTabs: browsers allow six HTTP/1.1 connections per host.
// Seven tabs of the portal still load pages and submit forms, because
// they share one stream; and every one of them hears the live updates.
// Over 127.0.0.1 the tabs elect the stream's holder with a Web Lock;
// under a name that is not localhost, over plain HTTP, pages are not a
// secure context and have no Web Locks, and the tabs elect it with
// heartbeats on their BroadcastChannel instead.
func TestLiveSevenTabs(t *testing.T) {
	t.Run("Web Locks", func(t *testing.T) { sevenTabs(t, false) })
	t.Run("no Web Locks", func(t *testing.T) { sevenTabs(t, true) })
}

func sevenTabs(t *testing.T, insecure bool) {
	ctx, srv := setup(t)
	a := newBrowser(t, ctx, srv, "A", chromeLinux)
	var b *browser
	if insecure {
		b = newBrowser(t, ctx, srv, "B", firefoxWindows, chromedp.Flag("host-resolver-rules", "MAP portal.test 127.0.0.1"))
		b.base = strings.Replace(srv.URL, "127.0.0.1", "portal.test", 1)
		b.expected = []string{"The Cross-Origin-Opener-Policy header has been ignored, because the URL's origin was untrustworthy"}
	} else {
		b = newBrowser(t, ctx, srv, "B", firefoxWindows)
	}
	a.signIn(managerEmail)
	b.signIn(managerEmail)
	tabs := []*browser{b}
	for i := 2; i <= 7; i++ {
		tab := b.newTab(fmt.Sprintf("B's tab %d", i))
		tab.navigate("/settings?section=profile")
		tab.assertText("h1", "Profile")
		tabs = append(tabs, tab)
	}
	for _, tab := range tabs {
		tab.watch()
		tab.waitLive()
	}
	if locks := eval[bool](b, `!!(navigator.locks && navigator.locks.request)`); locks == insecure {
		t.Fatalf("navigator.locks present: %v; this case needs it %v", locks, !insecure)
	}
	if insecure {
		time.Sleep(3 * time.Second) // the heartbeat election settles
	}
	// The seventh tab still loads pages and submits forms.
	last := tabs[6]
	last.openActiveSessions()
	for _, r := range last.rows() {
		if !r.Current && !r.Ended && r.Device != chromeLinux.Label {
			last.signOutRow(r) // a seeded session: the form submits and swaps
			break
		}
	}
	last.navigate("/settings?section=password")
	last.assertText("h1", "Password")

	// A signs B out of everything: all seven tabs leave, none clicked.
	a.openActiveSessions()
	a.do("sign out all other devices",
		chromedp.Click(chromedp.CSS(`form[data-dialog="confirm-sign-out-others"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog#confirm-sign-out-others[open]`)),
		chromedp.Click(chromedp.CSS(`#confirm-sign-out-others button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#active-sessions .notice-ok`)),
	)
	var wg sync.WaitGroup
	for _, tab := range tabs {
		wg.Go(func() { tab.waitPath("/login?reason=revoked_all", 5*time.Second) })
	}
	wg.Wait()
	for _, tab := range tabs {
		tab.assertNoProblems()
	}
}

// TestLiveNewSignInNotice: a sign-in elsewhere shows a notice on the
// user's open pages, leaves an open confirmation open (its count follows),
// and "Not you? Sign it out" signs the newcomer out in one click.
func TestLiveNewSignInNotice(t *testing.T) {
	ctx, srv := setup(t)
	a := newBrowser(t, ctx, srv, "A", chromeLinux)
	b := newBrowser(t, ctx, srv, "B", firefoxWindows)
	c := newBrowser(t, ctx, srv, "C", edgeMac)
	a.signIn(staffEmail)
	a.openActiveSessions()
	a.watch()
	a.waitLive()
	others := len(a.rows()) - 1
	a.do("open the confirmation dialog",
		chromedp.Click(chromedp.CSS(`form[data-dialog="confirm-sign-out-others"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog#confirm-sign-out-others[open]`)),
	)
	b.signIn(staffEmail)
	a.do("wait for the notice", chromedp.WaitVisible(chromedp.CSS(".live-notice")))
	if got := a.text(".live-notice p"); !strings.HasPrefix(got, "New sign-in: "+firefoxWindows.Label+", "+privateNetwork+", just now") {
		t.Errorf("the notice says %q", got)
	}
	if got, want := a.text("#confirm-desc"), fmt.Sprintf("This signs out %d other sessions. You stay signed in on this browser.", others+1); got != want {
		t.Errorf("the open dialogue says %q, want %q", got, want)
	}
	if !eval[bool](a, `document.querySelector("dialog#confirm-sign-out-others").open`) {
		t.Error("the live update closed the open dialogue")
	}
	a.do("cancel the dialogue", chromedp.Click(chromedp.CSS(`#confirm-sign-out-others [data-close-dialog]`)))

	// Not you? Sign it out: B is signed out and its row says so.
	a.do("sign the newcomer out from the notice",
		chromedp.Click(chromedp.CSS(".live-notice button.btn-danger")),
		chromedp.WaitNotPresent(chromedp.CSS(".live-notice")),
	)
	b.waitPath("/login?reason=revoked", 5*time.Second)
	a.do("wait for the announcement", chromedp.WaitVisible(chromedp.CSS("#flash .flash-msg")))
	if got, want := a.text("#flash"), "Signed out "+firefoxWindows.Label+", "+privateNetwork+"."; got != want {
		t.Errorf("the live region says %q, want %q", got, want)
	}

	// A second newcomer's notice can be dismissed; the session stays. The
	// update does not take keyboard focus from "Sign out all other
	// devices", and the dialogue it opens has the new count.
	others = -1 // the current session
	for _, r := range a.rows() {
		if !r.Ended {
			others++
		}
	}
	const opener = `form[data-dialog="confirm-sign-out-others"] button`
	eval[chromedp.Void](a, `document.querySelector('`+opener+`').focus()`)
	c.signIn(staffEmail)
	want := fmt.Sprintf("This signs out %d other sessions. You stay signed in on this browser.", others+1)
	a.do("wait for the notice and the new count",
		chromedp.WaitVisible(chromedp.CSS(".live-notice")),
		chromedp.Poll[chromedp.Void](`document.querySelector("#confirm-desc").textContent.trim() === `+strconv.Quote(want)),
	)
	if !eval[bool](a, `document.activeElement === document.querySelector('`+opener+`')`) {
		t.Errorf("after the live update focus is on %+v, not on Sign out all other devices", eval[focused](a, focusedJS))
	}
	a.do("dismiss the notice",
		chromedp.Click(chromedp.CSS(".live-notice [data-dismiss]")),
		chromedp.WaitNotPresent(chromedp.CSS(".live-notice")),
	)
	c.navigate("/settings?section=profile")
	c.assertText("h1", "Profile")
	a.assertNoProblems()
}

// TestLivePartnerUserPage: the partner console's page of a client user
// follows that user's sessions: a new sign-in adds its row, a sign-out
// marks it, without a reload.
func TestLivePartnerUserPage(t *testing.T) {
	ctx, srv := setup(t)
	partner := newBrowser(t, ctx, srv, "partner", chromeLinux)
	user := newBrowser(t, ctx, srv, "client user", firefoxWindows)
	partner.signIn(partnerEmail)
	partner.findUser(staffEmail)
	partner.watch()
	partner.waitLive()
	eval[bool](partner, `(window.__marker = 1, true)`)
	before := len(partner.rows())

	user.signIn(staffEmail)
	partner.do("wait for the new row", chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelectorAll("table.sessions tbody tr").length === %d`, before+1)))
	r := rowFor(t, partner.rows(), firefoxWindows)

	// The user signs that session out themselves (Sign out at the top).
	user.clickAndLoad(`form[action="/logout"] button`)
	partner.do("wait for the row to show it ended", chromedp.WaitVisible(chromedp.CSS("#"+r.ID+".is-ended span.ended")))
	if got := eval[int](partner, `window.__marker || 0`); got != 1 {
		t.Error("the partner's page was reloaded; rows should change in place")
	}
	partner.assertNoProblems()
}
