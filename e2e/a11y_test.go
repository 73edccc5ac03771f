package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// axeViolation is what the tests keep of an axe-core result.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// runAxe injects the vendored axe-core into the page and fails the test on
// every serious or critical violation. Lesser ones are logged.
func runAxe(t *testing.T, b *browser, page string) {
	t.Helper()
	src, err := os.ReadFile("testdata/axe-core/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	if !eval[bool](b, `typeof window.axe === 'object'`) {
		b.do("inject axe-core", chromedp.Evaluate[chromedp.Void](string(src)))
	}
	violations := run(b, "run axe on "+page, chromedp.Evaluate[[]axeViolation](`axe.run(document, {resultTypes: ['violations']}).then(r =>
		r.violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help, targets: v.nodes.map(n => n.target.join(' '))})))`,
		chromedp.EvalAwaitPromise))
	for _, v := range violations {
		msg := fmt.Sprintf("axe on %s: %s (%s): %s; at %s", page, v.ID, v.Impact, v.Help, strings.Join(v.Targets, ", "))
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Error(msg)
		} else {
			t.Log(msg)
		}
	}
}

// TestAccessibility runs axe-core on sign-in, Active Sessions (list,
// dialog open, after a sign-out, Recently signed out open) and Security
// activity, and checks the Sign out buttons' names
// and the live region.
func TestAccessibility(t *testing.T) {
	ctx, srv := setup(t)
	a := newBrowser(t, ctx, srv, "A", chromeLinux)
	b := newBrowser(t, ctx, srv, "B", firefoxWindows)
	b.signIn(adminEmail)

	a.navigate("/login")
	a.do("wait for the form", chromedp.WaitVisible(chromedp.ID("email")))
	runAxe(t, a, "/login")
	a.signIn(adminEmail)
	a.openActiveSessions()
	runAxe(t, a, "Active Sessions")

	rows := a.rows()
	buttons := eval[int](a, `document.querySelectorAll('table.sessions button').length`)
	if buttons != len(rows)-1 {
		t.Errorf("%d Sign out buttons for %d other sessions", buttons, len(rows)-1)
	}
	assertButtonNames(t, rows[1:])

	a.do("open the dialog",
		chromedp.Click(chromedp.CSS(`form[data-dialog="confirm-sign-out-others"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog#confirm-sign-out-others[open]`)),
	)
	runAxe(t, a, "the sign-out-others dialog")
	a.do("close the dialog", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(chromedp.CSS(`dialog#confirm-sign-out-others[open]`)))

	if got := eval[string](a, `document.getElementById('flash').getAttribute('aria-live')`); got != "polite" {
		t.Errorf("#flash has aria-live=%q, want polite", got)
	}
	a.signOutRow(rowFor(t, rows, firefoxWindows))
	a.do("wait for the announcement", chromedp.WaitVisible(chromedp.CSS("#flash .flash-msg")))
	if got := a.text("#flash"); !strings.Contains(got, "Signed out") {
		t.Errorf("the live region says %q; want it to contain \"Signed out\"", got)
	}
	runAxe(t, a, "Active Sessions after a sign-out")
	a.openRecent()
	runAxe(t, a, "Recently signed out")
	a.openSecurityActivity()
	runAxe(t, a, "Security activity")
	a.navigate("/settings?section=security-activity&kind=ended&kind=signed_in&page=1")
	runAxe(t, a, "Security activity, filtered")

	// Colour contrast again with the dark palette.
	if _, err := chromedp.Call(a.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
	}); err != nil {
		t.Fatal(err)
	}
	a.openActiveSessions()
	a.openRecent()
	runAxe(t, a, "Active Sessions in dark mode")
	a.openSecurityActivity()
	runAxe(t, a, "Security activity in dark mode")
}

// openRecent opens Recently signed out on the page.
func (b *browser) openRecent() {
	b.t.Helper()
	b.do("open Recently signed out",
		chromedp.Click(chromedp.CSS("#recently-signed-out summary")),
		chromedp.WaitReady(chromedp.CSS("#recently-signed-out[open]")),
	)
}

// assertButtonNames checks that each row's Sign out button is named after
// the session it signs out.
func assertButtonNames(t *testing.T, rows []row) {
	t.Helper()
	for _, r := range rows {
		if !strings.HasPrefix(r.ButtonName, "Sign out ") || r.Device == "" || !strings.Contains(r.ButtonName, r.Device) {
			t.Errorf("row %s: Sign out button is named %q; want \"Sign out \" and the device %q", r.ID, r.ButtonName, r.Device)
		}
	}
}

// focused describes document.activeElement.
type focused struct {
	Tag   string `json:"tag"`
	Name  string `json:"name"` // aria-label, else text
	InRow string `json:"inRow"`
	Ended bool   `json:"ended"`
}

const focusedJS = `(() => {
	const e = document.activeElement;
	if (!e) return {tag: '', name: '', inRow: '', ended: false};
	const tr = e.closest('tr');
	return {
		tag: e.tagName.toLowerCase(),
		name: (e.getAttribute('aria-label') || e.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 80),
		inRow: tr ? tr.id : '',
		ended: e.matches('span.ended'),
	};
})()`

// TestKeyboardOnly: every Sign out control is reachable with Tab, Enter
// and Space activate them, and focus lands on the swapped row's status.
func TestKeyboardOnly(t *testing.T) {
	ctx, srv := setup(t)
	a := newBrowser(t, ctx, srv, "A", chromeLinux)
	b := newBrowser(t, ctx, srv, "B", firefoxWindows)
	a.signIn(staffEmail)
	b.signIn(staffEmail)
	a.openActiveSessions()
	rows := a.rows()

	want := map[string]bool{"Sign out all other devices": false}
	for _, r := range rows[1:] {
		want[r.ButtonName] = false
	}
	// Start from the top of the page, as after a fresh load.
	eval[chromedp.Void](a, `document.activeElement && document.activeElement.blur(), window.scrollTo(0, 0)`)
	var order []string
	for i := 0; i < 40; i++ {
		a.do("press Tab", chromedp.KeyEvent(kb.Tab))
		f := eval[focused](a, focusedJS)
		if f.Tag == "body" || f.Tag == "" {
			break
		}
		order = append(order, f.Tag+" "+f.Name)
		if f.Tag == "button" {
			if _, ok := want[f.Name]; ok {
				want[f.Name] = true
			}
		}
	}
	t.Logf("Tab order: %s", strings.Join(order, " | "))
	for name, seen := range want {
		if !seen {
			t.Errorf("%q is not reachable with Tab", name)
		}
	}

	// Activate two rows' Sign out: one with Enter, one with Space.
	for i, key := range []string{kb.Enter, " "} {
		r := rows[1+i]
		for range 40 {
			if f := eval[focused](a, focusedJS); f.Tag == "button" && f.Name == r.ButtonName {
				break
			}
			a.do("press Tab", chromedp.KeyEvent(kb.Tab))
		}
		if f := eval[focused](a, focusedJS); f.Name != r.ButtonName {
			t.Fatalf("could not Tab to %q; focus is on %+v", r.ButtonName, f)
		}
		a.do(fmt.Sprintf("press %q on %s", key, r.ButtonName),
			chromedp.KeyEvent(key),
			chromedp.WaitVisible(chromedp.CSS("#"+r.ID+".is-ended span.ended")),
		)
		_, err := chromedp.Run(a.ctx, chromedp.Poll[bool](
			`document.activeElement === document.querySelector('#`+r.ID+` span.ended')`,
			chromedp.WithPollingTimeout(3*time.Second)))
		if err != nil {
			f := eval[focused](a, focusedJS)
			t.Errorf("after %q on %s focus is on %+v, want the row's \"Signed out\" status (%v)", key, r.ID, f, err)
		}
	}
}

// TestPartnerAccessibility runs axe-core on the partner console: Clients,
// a search, a client's users, a user's sessions (with the Sign out
// everywhere dialogue open, and after a row's sign-out), the confirmation
// page, and the user's page in dark mode.
func TestPartnerAccessibility(t *testing.T) {
	ctx, srv := setup(t)
	p := newBrowser(t, ctx, srv, "partner", chromeLinux)
	p.signIn(partnerEmail)
	runAxe(t, p, "the partner's Clients")

	p.navigate("/partner/users?q=client")
	p.do("wait for the results", chromedp.WaitVisible(chromedp.CSS("table.list tbody tr")))
	runAxe(t, p, "a search's results")
	account := eval[string](p, `document.querySelector('table.list a[href^="/partner/accounts/"]').getAttribute('href')`)
	p.navigate(account)
	p.do("wait for the client's users", chromedp.WaitVisible(chromedp.CSS("table.list tbody tr")))
	runAxe(t, p, "a client's users")

	p.findUser(adminEmail)
	user := p.location().RequestURI()
	runAxe(t, p, "a user's sessions")
	rows := p.rows()
	assertButtonNames(t, rows)
	p.do("open the dialogue",
		chromedp.Click(chromedp.CSS(`form[data-dialog="confirm-sign-out-everywhere"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog#confirm-sign-out-everywhere[open]`)),
	)
	runAxe(t, p, "the sign-out-everywhere dialogue")
	p.do("close the dialogue", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(chromedp.CSS(`dialog#confirm-sign-out-everywhere[open]`)))
	p.signOutRow(rows[0])
	runAxe(t, p, "a user's sessions after a sign-out")
	p.openRecent()
	runAxe(t, p, "a user's Recently signed out and security activity")

	p.navigate(user + "/sign-out-everywhere")
	p.assertText("h1", "Sign Alex Admin out everywhere?")
	runAxe(t, p, "the sign-out-everywhere confirmation page")

	if _, err := chromedp.Call(p.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
	}); err != nil {
		t.Fatal(err)
	}
	p.navigate(user)
	p.do("wait for the sessions table", chromedp.WaitVisible(chromedp.CSS("table.sessions tbody tr")))
	p.openRecent()
	runAxe(t, p, "a user's sessions in dark mode")
	p.navigate("/settings?section=security-activity")
	runAxe(t, p, "the partner's own Security activity in dark mode")
	p.navigate("/partner")
	runAxe(t, p, "the partner's Clients in dark mode")
}
