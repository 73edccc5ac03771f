package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"portal/device"
	"portal/geo"
	"portal/store"
)

var eventTests = []test{
	{"EventPerAction", testEventPerAction},
	{"FailedSignInsGrouped", testFailedSignInsGrouped},
	{"EventBounds", testEventBounds},
	{"FailureFloodKeepsTheLog", testFailureFloodKeepsTheLog},
	{"FailuresGroupedPerUser", testFailuresGroupedPerUser},
	{"UserEventsQuery", testUserEventsQuery},
	{"UserEventsVersion", testUserEventsVersion},
	{"EventPageOldest", testEventPageOldest},
}

// Bounds of the log both stores keep (the spec's numbers).
const (
	maxEventsPerUser   = 1000
	maxFailureEvents   = 200 // besides maxEventsPerUser
	maxFailureNetworks = 10  // one event each per window; the rest folded into one
	failureWindow      = 5 * time.Minute
)

// eventsOf is every event of the user's log, newest first.
func eventsOf(tb testing.TB, s store.Backend, userID string) []store.Event {
	tb.Helper()
	var out []store.Event
	for page := 1; ; page++ {
		p, err := s.UserEvents(userID, store.EventQuery{Page: page})
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, p.Events...)
		if page >= p.Pages {
			return out
		}
	}
}

// userEvents is the kinds and reasons of a user's events, oldest first.
func userEvents(tb testing.TB, s store.Backend, userID string) []string {
	tb.Helper()
	all := eventsOf(tb, s, userID)
	var out []string
	for i := len(all) - 1; i >= 0; i-- {
		out = append(out, string(all[i].Kind)+" "+string(all[i].Reason))
	}
	return out
}

func describe(e store.Event) string {
	return fmt.Sprintf("%s %s by{%s %s}", e.Kind, e.Reason, e.By.Session, e.By.User)
}

// Each action writes exactly its events, in one commit.
func testEventPerAction(t *testing.T, open Opener) {
	s, clk := openAt(t, open, Options{MaxSessionsPerUser: 3})
	u := mustUser(t, s, store.RoleClientStaff)
	firefox := device.Info{Browser: "Firefox", BrowserVersion: "133", OS: "Windows", Type: device.Desktop}
	berlin := geo.Place{Network: "203.0.113.0/24", Masked: "203.0.113.x", Location: geo.Location{City: "Berlin", Country: "Germany"}}
	var ids []string
	step := func(name string, act func(), want ...string) {
		t.Helper()
		before, writes := len(eventsOf(t, s, u.ID)), s.WriteTxCount()
		clk.Advance(time.Minute)
		act()
		if got := s.WriteTxCount() - writes; got != 1 {
			t.Errorf("%s: %d commits, want 1", name, got)
		}
		all := eventsOf(t, s, u.ID)
		var got []string
		for _, e := range all[:len(all)-before] {
			got = append(got, describe(e))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: events %v, want %v", name, got, want)
		}
	}
	signIn := func() {
		sess, _ := mustSession(t, s, u.ID, store.NewSession{Device: firefox, Place: berlin})
		ids = append(ids, sess.ID)
	}
	const signedIn = "signed_in  by{ }"
	step("sign-in", signIn, signedIn)
	if e := eventsOf(t, s, u.ID)[0]; e.SessionID != ids[0] || e.Device != firefox || e.Place != berlin || !e.At.Equal(T0.Add(time.Minute)) {
		t.Fatalf("sign-in event %+v, want the session's id, device, place and time", e)
	}
	step("sign-in", signIn, signedIn)
	step("sign out another session", func() {
		ok(t)(s.RevokeUserSessionBy(u.ID, ids[0], store.ReasonRevoked, store.Actor{Session: ids[1]}))
	}, "ended revoked by{"+ids[1]+" }")
	step("sign-in", signIn, signedIn)
	step("sign-in", signIn, signedIn)
	// At the cap: the new session's sign-in and the end of the least
	// recently active one, which names the new session.
	clk.Advance(time.Minute)
	writes := s.WriteTxCount()
	signIn()
	if n := s.WriteTxCount() - writes; n != 1 {
		t.Errorf("sign-in at the cap: %d commits, want 1", n)
	}
	capped := eventsOf(t, s, u.ID)[:2]
	if got, want := describe(capped[0])+", "+describe(capped[1]), signedIn+", ended session_limit by{"+ids[4]+" }"; got != want {
		t.Errorf("sign-in at the cap: events %s, want %s", got, want)
	}
	if capped[1].SessionID != ids[1] {
		t.Errorf("the cap ended %s, want the least recently active %s", capped[1].SessionID, ids[1])
	}
	step("sign out all other devices", func() { ok(t)(s.RevokeOtherSessions(u.ID, ids[4], store.ReasonRevokedAll)) },
		"ended revoked_all by{"+ids[4]+" }", "ended revoked_all by{"+ids[4]+" }")
	step("sign-in", signIn, signedIn)
	step("password change", func() { ok(t)(s.SetPasswordHash(u.ID, "new", true, ids[4])) },
		"ended password_changed by{"+ids[4]+" }", "password_changed  by{"+ids[4]+" }")
	step("operator: everywhere", func() { ok(t)(s.RevokeAllUserSessions(u.ID, store.ReasonEverywhere)) },
		"ended signed_out_everywhere by{ }")
	step("sign-in", signIn, signedIn)
	step("own sign-out", func() { ok(t)(s.RevokeUserSession(u.ID, ids[len(ids)-1], store.ReasonSignedOut)) },
		"ended signed_out by{ }")
	step("disable", func() { ok(t)(s.SetUserDisabled(u.ID, true)) })
	mustCheck(t, s)
}

// Failed sign-ins are one event per network, kind and window, counted.
func testFailedSignInsGrouped(t *testing.T, open Opener) {
	s, clk := openAt(t, open, Options{})
	clk.Set(time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC))
	u := mustUser(t, s, store.RoleClientStaff)
	here := geo.Place{Network: "203.0.113.0/24", Masked: "203.0.113.x"}
	there := geo.Place{Network: "198.51.100.0/24", Masked: "198.51.100.x"}
	fail := func(p geo.Place, throttled bool, n int) {
		for range n {
			s.RecordSignInFailure(u.ID, p, throttled)
			clk.Advance(10 * time.Second)
		}
	}
	flush := func() {
		t.Helper()
		before := s.WriteTxCount()
		mustFlush(t, s)
		if s.WriteTxCount()-before != 1 {
			t.Fatal("a flush of failures took more than one commit")
		}
	}
	writes := s.WriteTxCount()
	fail(here, false, 3)
	if s.WriteTxCount() != writes {
		t.Fatal("a failed sign-in wrote at once")
	}
	flush()
	fail(here, false, 2) // same window, after a flush: merged
	fail(there, false, 1)
	fail(here, true, 4)
	flush()
	clk.Set(time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC).Add(failureWindow))
	fail(here, false, 1) // the next window
	flush()
	var got []string
	for _, e := range eventsOf(t, s, u.ID) {
		if e.Kind == store.EventSignInFailed || e.Kind == store.EventSignInThrottled {
			got = append(got, fmt.Sprintf("%s %s %d", e.Kind, e.Place.Masked, e.Count))
		}
	}
	want := []string{"sign_in_failed 203.0.113.x 1", "sign_in_throttled 203.0.113.x 4", "sign_in_failed 198.51.100.x 1", "sign_in_failed 203.0.113.x 5"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("failure events %v, want %v", got, want)
	}
	// An unknown user id is never recorded against anyone.
	s.RecordSignInFailure(noSuchID, here, false)
	mustFlush(t, s)
	if n := len(eventsOf(t, s, u.ID)); n != len(want) {
		t.Errorf("%d events after an unknown user's failure, want %d", n, len(want))
	}
	mustCheck(t, s)
}

// A user keeps the newest 1,000 events, and the sweeper deletes those
// past the retention.
func testEventBounds(t *testing.T, open Opener) {
	s, clk := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientStaff)
	batch := make([]store.SessionFor, maxEventsPerUser+5)
	for i := range batch {
		clk.Advance(time.Second)
		batch[i] = store.SessionFor{UserID: u.ID, NewSession: store.NewSession{CreatedAt: clk.Now(), LastActive: clk.Now(),
			Place: geo.Place{Network: fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)}}}
	}
	if _, _, err := s.CreateSessions(batch); err != nil {
		t.Fatal(err)
	}
	all := eventsOf(t, s, u.ID)
	if len(all) != maxEventsPerUser || all[len(all)-1].Place.Network != "10.0.5.0/24" {
		t.Fatalf("%d events, oldest %s; want %d, the 5 oldest dropped", len(all), all[len(all)-1].Place.Network, maxEventsPerUser)
	}
	if n, err := s.SweepEvents(context.Background(), 90*24*time.Hour, 300); err != nil || n != 0 {
		t.Fatalf("SweepEvents of recent events = %d, %v; want 0", n, err)
	}
	clk.Advance(90*24*time.Hour + time.Second)
	s.RecordSignInFailure(u.ID, geo.Place{Network: "203.0.113.0/24"}, false) // a recent one stays
	mustFlush(t, s)
	n, err := s.SweepEvents(context.Background(), 90*24*time.Hour, 300)
	if err != nil || n != maxEventsPerUser {
		t.Fatalf("SweepEvents = %d, %v; want %d", n, err, maxEventsPerUser)
	}
	if all := eventsOf(t, s, u.ID); len(all) != 1 || all[0].Kind != store.EventSignInFailed {
		t.Fatalf("after the sweep: %+v, want the recent failure only", all)
	}
	p, _ := s.UserEvents(u.ID, store.EventQuery{})
	if p.Total != 1 || p.Pages != 1 {
		t.Errorf("after the sweep: %d events, %d pages", p.Total, p.Pages)
	}
}

// A flood of wrong passwords from many networks cannot empty a user's log:
// failures are kept within a bound of their own, and past a few networks
// in one window they are one event that counts the rest. (Issue 23: 1,040
// posts from 1,040 /24s used to leave 1,000 failure groups and push the
// intruder's own sign-in out.)
func testFailureFloodKeepsTheLog(t *testing.T, open Opener) {
	s, clk := openAt(t, open, Options{})
	start := time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)
	clk.Set(start)
	u := mustUser(t, s, store.RoleClientStaff)
	signedIn, _ := mustSession(t, s, u.ID, store.NewSession{Place: geo.Place{Network: "192.0.2.0/24"}})
	failureEvents := func() (events, attempts, networks int, perWindow map[time.Time]int) {
		perWindow = map[time.Time]int{}
		for _, e := range eventsOf(t, s, u.ID) {
			if e.Kind.Failure() {
				events++
				attempts += e.Count
				networks += max(e.Networks, 1)
				perWindow[e.At.Truncate(failureWindow)]++
			}
		}
		return events, attempts, networks, perWindow
	}
	const flood, windows = 1040, 3
	for w := range windows {
		clk.Set(start.Add(time.Duration(w) * failureWindow))
		for i := range flood {
			if i%100 == 99 {
				mustFlush(t, s) // the log folds as well as the queue
			}
			clk.Advance(time.Millisecond)
			s.RecordSignInFailure(u.ID, geo.Place{Network: fmt.Sprintf("10.%d.%d.0/24", w*5+i/256, i%256)}, false)
		}
		mustFlush(t, s)
	}
	events, attempts, networks, perWindow := failureEvents()
	if want := windows * (maxFailureNetworks + 1); events != want || len(perWindow) != windows {
		t.Errorf("the flood left %d failure events in %d windows, want %d in %d: %d of one network each, and one for the rest", events, len(perWindow), want, windows, maxFailureNetworks)
	}
	if attempts != windows*flood || networks != windows*flood {
		t.Errorf("the flood's events count %d attempts from %d networks, want %d from %d", attempts, networks, windows*flood, windows*flood)
	}
	// Past the failures' own bound, only failures are pushed out.
	clk.Set(start.Add(time.Hour))
	for i := range 2 * maxFailureEvents {
		if i%maxFailureNetworks == 0 {
			clk.Advance(failureWindow)
		}
		s.RecordSignInFailure(u.ID, geo.Place{Network: fmt.Sprintf("172.%d.%d.0/24", 16+i/256, i%256)}, false)
	}
	mustFlush(t, s)
	if events, _, _, _ := failureEvents(); events != maxFailureEvents {
		t.Errorf("%d failure events kept, want %d", events, maxFailureEvents)
	}
	found := false
	for _, e := range eventsOf(t, s, u.ID) {
		found = found || e.Kind == store.EventSignedIn && e.SessionID == signedIn.ID
	}
	if !found {
		t.Fatal("the sign-in before the flood is gone from the log")
	}
	mustCheck(t, s)
}

// Failed attempts are grouped within each user's own log: two users
// guessed from one network in one window each get their own count.
func testFailuresGroupedPerUser(t *testing.T, open Opener) {
	s, clk := openAt(t, open, Options{})
	clk.Set(time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC))
	a, b := mustUser(t, s, store.RoleClientStaff), mustUser(t, s, store.RoleClientStaff)
	here := geo.Place{Network: "203.0.113.0/24", Masked: "203.0.113.x"}
	for i := range 5 {
		who := a
		if i%2 == 1 {
			who = b
		}
		s.RecordSignInFailure(who.ID, here, false)
		clk.Advance(time.Second)
		if i == 2 {
			mustFlush(t, s) // and across flushes
		}
	}
	mustFlush(t, s)
	for _, tc := range []struct {
		user store.User
		want int
	}{{a, 3}, {b, 2}} {
		var got []int
		for _, e := range eventsOf(t, s, tc.user.ID) {
			if e.Kind.Failure() {
				got = append(got, e.Count)
			}
		}
		if len(got) != 1 || got[0] != tc.want {
			t.Errorf("user %s's failure events count %v, want one of %d", tc.user.Email, got, tc.want)
		}
	}
}

func testUserEventsQuery(t *testing.T, open Opener) {
	s, c := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientAdmin)
	for i := range 60 {
		c.Advance(time.Minute)
		sess, _ := mustSession(t, s, u.ID, store.NewSession{})
		if i%2 == 0 {
			ok(t)(s.RevokeUserSession(u.ID, sess.ID, store.ReasonSignedOut))
		}
	}
	for _, tc := range []struct {
		q                    store.EventQuery
		total, pages, onPage int
	}{
		{store.EventQuery{}, 90, 2, store.EventPageSize},
		{store.EventQuery{Page: 2}, 90, 2, 90 - store.EventPageSize},
		{store.EventQuery{Page: 9}, 90, 2, 0},
		{store.EventQuery{Kinds: []store.EventKind{store.EventEnded}}, 30, 1, 30},
		{store.EventQuery{Since: T0.Add(51 * time.Minute)}, 15, 1, 15},
	} {
		p, err := s.UserEvents(u.ID, tc.q)
		if err != nil || p.Total != tc.total || p.Pages != tc.pages || len(p.Events) != tc.onPage {
			t.Errorf("UserEvents(%+v) = %d total, %d pages, %d on the page, %v; want %d, %d, %d", tc.q, p.Total, p.Pages, len(p.Events), err, tc.total, tc.pages, tc.onPage)
		}
		for i := 1; i < len(p.Events); i++ {
			if p.Events[i].At.After(p.Events[i-1].At) {
				t.Errorf("events not newest first")
			}
		}
	}
	if p, _ := s.UserEvents(u.ID, store.EventQuery{}); p.Events[0].Kind != store.EventSignedIn {
		t.Errorf("the newest event is %s, want the last sign-in", p.Events[0].Kind)
	}
}

// UserEventsVersion moves on with every change to the user's log, and
// only then.
func testUserEventsVersion(t *testing.T, open Opener) {
	s, clk := openAt(t, open, Options{})
	u, other := mustUser(t, s, store.RoleClientStaff), mustUser(t, s, store.RoleClientStaff)
	here := geo.Place{Network: "203.0.113.0/24", Masked: "203.0.113.x"}
	version := func() uint64 {
		t.Helper()
		v, err := s.UserEventsVersion(u.ID)
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.UserEvents(u.ID, store.EventQuery{})
		if err != nil || p.Version != v {
			t.Fatalf("page version %d, %v; UserEventsVersion %d", p.Version, err, v)
		}
		return v
	}
	if v := version(); v != 0 {
		t.Fatalf("a user without events has version %d, want 0", v)
	}
	var sess store.Session
	var token string
	check := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		act   func()
		moves bool
	}{
		{"sign-in", func() { sess, token = mustSession(t, s, u.ID, store.NewSession{Place: here}) }, true},
		{"another user's sign-in", func() { mustSession(t, s, other.ID, store.NewSession{}) }, false},
		{"a flush of last-active times", func() { clk.Advance(time.Minute); wantLive(t, s, token); mustFlush(t, s) }, false},
		{"failed sign-ins, a new group", func() { s.RecordSignInFailure(u.ID, here, false); mustFlush(t, s) }, true},
		{"failed sign-ins merged into the group", func() { s.RecordSignInFailure(u.ID, here, false); mustFlush(t, s) }, true},
		{"password change", func() { check(s.SetPasswordHash(u.ID, "other hash", false, "")) }, true},
		{"sign-out", func() { check(s.RevokeUserSession(u.ID, sess.ID, store.ReasonSignedOut)) }, true},
		{"a refused revoke", func() { _, _ = s.RevokeUserSession(other.ID, sess.ID, store.ReasonSignedOut) }, false},
		{"a sweep that deletes nothing", func() { check(s.SweepEvents(context.Background(), 90*24*time.Hour, 10)) }, false},
		{"a sweep of old events", func() {
			clk.Advance(91 * 24 * time.Hour)
			if n, err := s.SweepEvents(context.Background(), 90*24*time.Hour, 10); err != nil || n == 0 {
				t.Fatalf("SweepEvents = %d, %v", n, err)
			}
		}, true},
	}
	for _, tt := range tests {
		before := version()
		tt.act()
		if moved := version() != before; moved != tt.moves {
			t.Errorf("%s: version moved %v, want %v", tt.name, moved, tt.moves)
		}
	}
}

func testEventPageOldest(t *testing.T, open Opener) {
	s, clk := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientStaff)
	if p, err := s.UserEvents(u.ID, store.EventQuery{}); err != nil || !p.Oldest.IsZero() || p.Total != 0 {
		t.Fatalf("no events: oldest %v, %d, %v; want zero", p.Oldest, p.Total, err)
	}
	for range 3 {
		mustSession(t, s, u.ID, store.NewSession{})
		clk.Advance(time.Hour)
	}
	p, err := s.UserEvents(u.ID, store.EventQuery{})
	if err != nil || !p.Oldest.Equal(T0) {
		t.Fatalf("oldest %v, %v; want %v", p.Oldest, err, T0)
	}
	p, err = s.UserEvents(u.ID, store.EventQuery{Since: T0.Add(time.Minute)})
	if err != nil || p.Total != 2 || !p.Oldest.Equal(T0.Add(time.Hour)) {
		t.Fatalf("since: %d events, oldest %v, %v; want 2, %v", p.Total, p.Oldest, err, T0.Add(time.Hour))
	}
}
