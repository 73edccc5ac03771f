package handlers

import (
	"net/http"
	"strings"
	"testing"

	"portal/store"
)

// A partner's console page of a client user follows that user's sessions
// live, only while the partner manages the user; and asking to follow a
// user outside its scope gets nothing.
func TestLivePartnerFollowsItsClientsUsers(t *testing.T) {
	e := newEnv(t)
	base := e.listen()
	w := newPartnerWorld(e)
	pat := e.sessionAs(w.p1Admin, uaChrome, "203.0.113.70")
	// Ann is Partner One's; Cat is Partner Two's: Pat asks for both.
	s := openStreamAt(t, base, eventsURL+"?watch="+w.ann.ID+","+w.cat.ID+",not-an-id", pat, nil)
	waitFor(t, "the stream in the hub", func() bool { return e.hub.Len() == 1 })

	// Cat's sessions change: nothing reaches Pat's page.
	if _, err := e.st.RevokeAllUserSessions(w.cat.ID, store.ReasonRevokedAll); err != nil {
		t.Fatal(err)
	}
	// Ann signs in somewhere new, then one of her sessions is signed out.
	fresh := e.sessionAs(w.ann, uaIPhone, "198.51.100.140")
	freshID := fresh.currentID()
	added := s.expect("watch", eventWait)
	for _, want := range []string{`hx-swap-oob="afterbegin:#session-rows"`, `id="session-` + freshID + `"`,
		`/partner/users/` + w.ann.ID + `/sessions/` + freshID + `/sign-out`, `id="sign-out-everywhere"`, "4 sessions"} {
		if !strings.Contains(added.data, want) {
			t.Errorf("watch event lacks %q: %s", want, added.data)
		}
	}
	if strings.Contains(added.data, w.cat.ID) || strings.Contains(s.all.String(), "Cat") {
		t.Fatalf("Pat's stream mentions Cat: %s", s.all.String())
	}
	gone := w.devices[w.ann.ID][0].currentID()
	if _, err := e.st.RevokeUserSession(w.ann.ID, gone, store.ReasonRevoked); err != nil {
		t.Fatal(err)
	}
	ended := s.expect("watch", eventWait)
	if !strings.Contains(ended.data, `id="session-`+gone+`" hx-swap-oob="true"`) || !strings.Contains(ended.data, "is-ended") {
		t.Fatalf("watch event does not end the row: %s", ended.data)
	}

	// Acme moves to Partner Two: Ann's next change is no longer Pat's to see.
	if _, err := e.st.SetAccountPartner(w.acme.ID, w.p2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.RevokeUserSession(w.ann.ID, freshID, store.ReasonRevoked); err != nil {
		t.Fatal(err)
	}
	// Pat's own sign-in elsewhere still reaches Pat (a notice), and is
	// the next event: nothing about Ann came first.
	e.sessionAs(w.p1Admin, uaFirefox, "203.0.113.10")
	if ev := s.expect("notice", eventWait); ev.name != "notice" {
		t.Fatalf("want Pat's notice, got %q", ev.name)
	}
	if strings.Count(s.all.String(), "event: watch") != 2 {
		t.Fatalf("Pat's stream carried Ann's sessions after Acme moved: %s", s.all.String())
	}

	// Customers follow no one, whatever they ask.
	ann := w.devices[w.ann.ID][1]
	sa := openStreamAt(t, base, eventsURL+"?watch="+w.bob.ID, ann, nil)
	waitFor(t, "Ann's stream", func() bool { return e.hub.Len() == 2 })
	if _, err := e.st.RevokeUserSession(w.bob.ID, w.devices[w.bob.ID][0].currentID(), store.ReasonRevoked); err != nil {
		t.Fatal(err)
	}
	e.sessionAs(w.ann, uaFirefox, "198.51.100.140")
	sa.expect("notice", eventWait)
	if strings.Contains(sa.all.String(), "event: watch") {
		t.Fatalf("a customer's stream followed another user: %s", sa.all.String())
	}
	// The partner's own page shows the watch hook with the user's id.
	page := pat.get(partnerUserURL(w.bob.ID))
	if page.StatusCode != http.StatusOK || !strings.Contains(page.body, `data-live-watch="`+w.bob.ID+`" sse-swap="watch"`) {
		t.Fatalf("partner user page: %d, no watch hook", page.StatusCode)
	}
}
