package handlers

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"portal/geo"
	"portal/store"
)

// TestActivityViewsFollowChanges: Recently signed out and Security
// activity are kept as rendered between requests, and every change that
// would show differently shows on the very next request: an event written
// for the user, a failed sign-in merged into its group, a live session
// seen on another network (which writes no event), and time passing.
// Each step reads the page twice first, so that the second read is served
// from what was kept.
func TestActivityViewsFollowChanges(t *testing.T) {
	e := newEnv(t, trustAll)
	u := e.user(store.RoleClientStaff, "s@example.com")
	me := e.browser(uaFirefox).at("203.0.113.10")
	me.signIn(u.Email)
	other := e.browser(uaChrome).at("203.0.113.70")
	e.clock.Advance(time.Minute)
	other.signIn(u.Email)
	id := other.currentID()
	if r := me.htmx(http.MethodPost, "/settings/active-sessions/"+id+"/sign-out", nil); r.StatusCode != http.StatusOK {
		t.Fatalf("sign out: %d", r.StatusCode)
	}
	twice := func(step string, read func() string) string {
		t.Helper()
		first, second := read(), read()
		if first != second {
			t.Fatalf("%s: two reads in a row differ:\n%s\n---\n%s", step, first, second)
		}
		return second
	}
	sentence := func() string {
		got, _ := me.recent()
		return got[id]
	}
	if got := twice("signed out", sentence); got != "Signed out from Firefox 133 on Windows (Berlin, Germany)" {
		t.Fatalf("Recently signed out reads %q", got)
	}

	// The session that acted is seen on another network: no event, but
	// the sentence names where it is now.
	me.at("192.0.2.10")
	if got := sentence(); got != "Signed out from Firefox 133 on Windows (Ontario, Canada)" {
		t.Errorf("after the acting session moved, Recently signed out reads %q", got)
	}
	twice("moved", sentence)
	page := func() string { return me.get(activeSessionsURL).body }
	if got := page(); !strings.Contains(got, `title="Approximate location based on the network address">Ontario, Canada</span>`) &&
		!strings.Contains(got, "Ontario, Canada") {
		t.Fatal("the page does not show the session's new place")
	}

	// Time passes: "just now" becomes "2 minutes ago".
	relative := regexp.MustCompile(`id="ended-` + id + `"(?s:.*?)<time [^>]*>([^<]*)</time>`)
	when := func() string {
		m := relative.FindStringSubmatch(page())
		if m == nil {
			t.Fatal("no time on the ended session")
		}
		return m[1]
	}
	if got := twice("time", when); got != "just now" {
		t.Fatalf("ended %q, want just now", got)
	}
	e.clock.Advance(2 * time.Minute)
	if got := when(); got != "2 minutes ago" {
		t.Errorf("two minutes later the entry reads %q", got)
	}

	// A new sign-in is an event: it heads the activity at once.
	activity := func() string { return strings.Join(me.activity(""), "\n") }
	before := twice("activity", activity)
	again := e.browser(uaIPhone).at("198.51.100.140")
	again.signIn(u.Email)
	after := me.activity("")
	if len(after) != strings.Count(before, "\n")+2 || !strings.HasPrefix(after[0], "Signed in with Safari") {
		t.Errorf("after a sign-in the activity reads %q, before %q", after, before)
	}

	// Failed sign-ins are one event whose count grows: a merge moves the
	// log's version on like a new event.
	failed := func() []string {
		return slices.DeleteFunc(me.activity(""), func(s string) bool { return !strings.Contains(s, "failed sign-in") })
	}
	here := geo.Place{Network: "198.51.100.0/24", Masked: "198.51.100.x"}
	for n, want := range []string{"1 failed sign-in attempt from 198.51.100.x", "2 failed sign-in attempts from 198.51.100.x"} {
		e.st.RecordSignInFailure(u.ID, here, false)
		if _, err := e.st.FlushLastActive(); err != nil {
			t.Fatal(err)
		}
		twice("failed", activity)
		if got := failed(); len(got) != 1 || !strings.HasPrefix(got[0], want) {
			t.Errorf("after %d failures the activity reads %q, want %q", n+1, got, want)
		}
	}
}

// TestActivityViewsPerViewer: what is kept for one viewer is not shown to
// another who would read it differently: another zone, or the partner
// console's wording and links.
func TestActivityViewsPerViewer(t *testing.T) {
	e := newEnv(t, trustAll)
	partner := e.account("Partner One", store.AccountPartner, "")
	pat := e.member(partner, store.RolePartnerAdmin, "pat@one.example", "Pat One")
	u := managedUser(e, partner)
	me := e.browser(uaFirefox).at("203.0.113.10")
	me.signIn(u.Email)
	victim := e.sessionAs(u, uaChrome, "203.0.113.70")
	id := victim.currentID()
	p := e.browser(uaChrome)
	p.signIn(pat.Email)
	if r := p.htmx(http.MethodPost, partnerSessionsBase(u.ID)+id+"/sign-out", nil); r.StatusCode != http.StatusOK {
		t.Fatalf("partner sign-out: %d", r.StatusCode)
	}
	for range 2 {
		if got, _ := me.recent(); got[id] != "Signed out by your AiDial partner (Pat One)" {
			t.Errorf("the user reads %q", got[id])
		}
		console := p.get(partnerUserURL(u.ID)).body
		if !strings.Contains(console, "Signed out by the AiDial partner (Pat One)") || strings.Contains(console, "your AiDial partner") {
			t.Errorf("the partner's page does not name the partner its own way:\n%s", console)
		}
		if strings.Contains(console, `href="/settings?section=active-sessions#`) {
			t.Error("the partner's page links to the user's own settings")
		}
	}
}

// TestActivityLinksOnlyToWhatIsShown: with more sessions ended than
// Recently signed out lists, the activity links only to the ones it lists;
// every link to an ended session finds its entry.
func TestActivityLinksOnlyToWhatIsShown(t *testing.T) {
	e := newEnv(t)
	u := e.user(store.RoleClientStaff, "s@example.com")
	me := e.sessionAs(u, uaFirefox, "203.0.113.10")
	batch := make([]store.SessionFor, 60)
	for i := range batch {
		batch[i] = store.SessionFor{UserID: u.ID, NewSession: store.SignIn(uaChrome, geo.Place{})}
	}
	if _, _, err := e.st.CreateSessions(batch); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.RevokeOtherSessions(u.ID, me.currentID(), store.ReasonRevokedAll); err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile(`<li id="ended-([0-9a-f]{32})"`).FindAllStringSubmatch(me.get(activeSessionsURL).body, -1) {
		listed[m[1]] = true
	}
	if len(listed) != recentShown {
		t.Fatalf("Recently signed out lists %d sessions, want %d", len(listed), recentShown)
	}
	linked := map[string]bool{}
	link := regexp.MustCompile(`href="` + regexp.QuoteMeta(activeSessionsURL) + `#ended-([0-9a-f]{32})"`)
	for page := 1; page <= 3; page++ {
		for _, m := range link.FindAllStringSubmatch(me.get(fmt.Sprintf("/settings?section=security-activity&page=%d", page)).body, -1) {
			if !listed[m[1]] {
				t.Errorf("page %d links to ended session %s, which Recently signed out does not list", page, m[1][:8])
			}
			linked[m[1]] = true
		}
	}
	if len(linked) != recentShown {
		t.Errorf("the activity links to %d ended sessions, want the %d listed", len(linked), recentShown)
	}
}
