package postgres

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"portal/device"
	"portal/geo"
	"portal/store"
)

// eventsOf returns userID's whole log, newest first.
func eventsOf(tb testing.TB, s *Store, userID string) []store.Event {
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

// describe is an event in one line, for comparing logs.
func describe(e store.Event) string {
	return fmt.Sprintf("%s %s by{%s %s}", e.Kind, e.Reason, e.By.Session, e.By.User)
}

// TestEventPerAction: each change writes exactly its events, in the same
// transaction (one commit per action, counted).
func TestEventPerAction(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := mustOpen(t, Options{Now: clk.Now, Policy: testPolicy, MaxSessionsPerUser: 3})
	u := mustUser(t, s, store.RoleClientStaff)
	firefox := device.Info{Browser: "Firefox", BrowserVersion: "133", OS: "Windows", Type: device.Desktop}
	berlin := geo.Place{Network: "203.0.113.0/24", Masked: "203.0.113.x", Location: geo.Location{City: "Berlin", Country: "Germany"}}
	var ids []string
	// step runs act, which must commit exactly once, and checks the events
	// it added, newest first.
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
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	const signedIn = "signed_in  by{ }"
	step("sign-in", signIn, signedIn)
	if e := eventsOf(t, s, u.ID)[0]; e.SessionID != ids[0] || e.Device != firefox || e.Place != berlin {
		t.Fatalf("sign-in event %+v, want the session's id, device and place", e)
	}
	step("sign-in", signIn, signedIn)
	step("sign out another session", func() {
		must(s.RevokeUserSessionBy(u.ID, ids[0], store.ReasonRevoked, store.Actor{Session: ids[1]}))
	}, "ended revoked by{"+ids[1]+" }")
	step("sign-in", signIn, signedIn)
	step("sign-in", signIn, signedIn)
	// ids[1..3] are live: at the cap of 3 a sign-in ends the least
	// recently active, and the new session is named as what ended it.
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
	step("sign out all other devices", func() { must(s.RevokeOtherSessions(u.ID, ids[4], store.ReasonRevokedAll)) },
		"ended revoked_all by{"+ids[4]+" }", "ended revoked_all by{"+ids[4]+" }")
	step("sign-in", signIn, signedIn)
	step("password change", func() { must(s.SetPasswordHash(u.ID, "new", true, ids[4])) },
		"ended password_changed by{"+ids[4]+" }", "password_changed  by{"+ids[4]+" }")
	step("operator: everywhere", func() { must(s.RevokeAllUserSessions(u.ID, store.ReasonEverywhere)) },
		"ended signed_out_everywhere by{ }")
	step("sign-in", signIn, signedIn)
	step("own sign-out", func() { must(s.RevokeUserSession(u.ID, ids[len(ids)-1], store.ReasonSignedOut)) },
		"ended signed_out by{ }")
	step("disable", func() { must(s.SetUserDisabled(u.ID, true)) })
	mustCheck(t, s)
}

// TestFailedSignInsGrouped: failures from one network in one 5-minute
// window are one event with a count, across flushes and instances;
// another network, another window or a throttled attempt is another
// event.
func TestFailedSignInsGrouped(t *testing.T) {
	t.Parallel()
	clk := newClock()
	clk.Set(time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC))
	s := mustOpen(t, Options{Now: clk.Now, Policy: testPolicy})
	b := mustOpenURL(t, dbURL(s), Options{Now: clk.Now, Policy: testPolicy})
	u := mustUser(t, s, store.RoleClientStaff)
	here := geo.Place{Network: "203.0.113.0/24", Masked: "203.0.113.x"}
	there := geo.Place{Network: "198.51.100.0/24", Masked: "198.51.100.x"}
	fail := func(on *Store, p geo.Place, throttled bool, n int) {
		for range n {
			on.RecordSignInFailure(u.ID, p, throttled)
			clk.Advance(10 * time.Second)
		}
	}
	flush := func(on *Store) {
		t.Helper()
		before := on.WriteTxCount()
		if _, err := on.FlushActivity(); err != nil {
			t.Fatal(err)
		}
		if on.WriteTxCount()-before != 1 {
			t.Fatal("a flush of failures took more than one commit")
		}
	}
	fail(s, here, false, 3)
	flush(s)
	fail(s, here, false, 1) // same window, after a flush: merged
	fail(b, here, false, 1) // and from another instance
	fail(s, there, false, 1)
	fail(s, here, true, 4)
	flush(s)
	flush(b)
	clk.Set(time.Date(2025, 3, 14, 10, 5, 0, 0, time.UTC))
	fail(s, here, false, 1) // the next window
	flush(s)
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
	// An unknown user id is never recorded against anyone, and does not
	// hold up the flush.
	s.RecordSignInFailure("0123456789abcdef0123456789abcdef", here, false)
	flush(s)
	if n := sqlInt(t, s, "SELECT count(*) FROM events WHERE kind = 'sign_in_failed'"); n != 3 {
		t.Fatalf("%d failure events, want 3", n)
	}
	mustCheck(t, s)
}

// Two instances flushing failures of one network and window at the same
// moment write one event between them, with every attempt counted.
func TestFailedSignInsRace(t *testing.T) {
	t.Parallel()
	clk := newClock()
	a := mustOpen(t, Options{Now: clk.Now, Policy: testPolicy})
	b := mustOpenURL(t, dbURL(a), Options{Now: clk.Now, Policy: testPolicy})
	u := mustUser(t, a, store.RoleClientStaff)
	here := geo.Place{Network: "203.0.113.0/24", Masked: "203.0.113.x"}
	const rounds = 20
	for range rounds {
		clk.Advance(failureWindow)
		a.RecordSignInFailure(u.ID, here, false)
		b.RecordSignInFailure(u.ID, here, false)
		b.RecordSignInFailure(u.ID, here, false)
		var wg sync.WaitGroup
		for _, s := range []*Store{a, b} {
			wg.Go(func() {
				if _, err := s.FlushActivity(); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	all := eventsOf(t, a, u.ID)
	if len(all) != rounds {
		t.Fatalf("%d events, want one per window (%d)", len(all), rounds)
	}
	for _, e := range all {
		if e.Count != 3 {
			t.Errorf("event at %v counts %d attempts, want 3", e.At, e.Count)
		}
	}
}

// TestUserEventsVersion: every change to a user's log moves the user's
// version on, in the same commit (a page read at the same time reports
// it); nothing else does, and another user's changes do not.
func TestUserEventsVersion(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := mustOpen(t, Options{Now: clk.Now, Policy: testPolicy})
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
		t.Fatalf("a user without events has version %d", v)
	}
	var sess store.Session
	var token string
	flush := func() {
		t.Helper()
		if _, err := s.FlushActivity(); err != nil {
			t.Fatal(err)
		}
	}
	check := func(err error) {
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
		{"a flush of last-active times", func() { clk.Advance(time.Minute); wantLive(t, s, token); flush() }, false},
		{"failed sign-ins, a new group", func() { s.RecordSignInFailure(u.ID, here, false); flush() }, true},
		{"failed sign-ins merged into the group", func() { s.RecordSignInFailure(u.ID, here, false); flush() }, true},
		{"password change", func() { _, err := s.SetPasswordHash(u.ID, "other hash", false, ""); check(err) }, true},
		{"sign-out", func() { _, err := s.RevokeUserSession(u.ID, sess.ID, store.ReasonSignedOut); check(err) }, true},
		{"a sweep that deletes nothing", func() {
			_, err := s.SweepEvents(context.Background(), 90*24*time.Hour, 10)
			check(err)
		}, false},
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

// TestEventPageOldest: a page says when its oldest matching event
// happened, which is when a window's count next changes by itself.
func TestEventPageOldest(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := mustOpen(t, Options{Now: clk.Now, Policy: testPolicy})
	u := mustUser(t, s, store.RoleClientStaff)
	if p, err := s.UserEvents(u.ID, store.EventQuery{}); err != nil || !p.Oldest.IsZero() {
		t.Fatalf("no events: oldest %v, %v; want zero", p.Oldest, err)
	}
	first := clk.Now().UTC()
	for range 3 {
		mustSession(t, s, u.ID, store.NewSession{})
		clk.Advance(time.Hour)
	}
	p, err := s.UserEvents(u.ID, store.EventQuery{})
	if err != nil || !p.Oldest.Equal(first) {
		t.Fatalf("oldest %v, %v; want %v", p.Oldest, err, first)
	}
	p, err = s.UserEvents(u.ID, store.EventQuery{Since: first.Add(time.Minute)})
	if err != nil || p.Total != 2 || !p.Oldest.Equal(first.Add(time.Hour)) {
		t.Fatalf("since: %d events, oldest %v, %v; want 2, %v", p.Total, p.Oldest, err, first.Add(time.Hour))
	}
}

// TestUserSessionsByID: one read for many ids, and only the user's own
// sessions come back, live or ended, with this instance's activity.
func TestUserSessionsByID(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := mustOpen(t, Options{Now: clk.Now, Policy: testPolicy})
	u, other := mustUser(t, s, store.RoleClientStaff), mustUser(t, s, store.RoleClientStaff)
	live, liveTok := mustSession(t, s, u.ID, store.NewSession{})
	ended, _ := mustSession(t, s, u.ID, store.NewSession{})
	if _, err := s.RevokeUserSession(u.ID, ended.ID, store.ReasonSignedOut); err != nil {
		t.Fatal(err)
	}
	theirs, _ := mustSession(t, s, other.ID, store.NewSession{})
	clk.Advance(time.Minute)
	wantLive(t, s, liveTok) // not flushed
	got, err := s.UserSessionsByID(u.ID, []string{live.ID, ended.ID, theirs.ID, "0123456789abcdef0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[live.ID].ID != live.ID || got[ended.ID].RevokedAt.IsZero() {
		t.Fatalf("got %d sessions %+v; want the live and the ended one, not the other user's", len(got), got)
	}
	if la := got[live.ID].LastActive; !la.Equal(t0.Add(time.Minute)) {
		t.Errorf("live session last active %v, want this instance's unflushed %v", la, t0.Add(time.Minute))
	}
	if got, err := s.UserSessionsByID(u.ID, nil); err != nil || len(got) != 0 {
		t.Errorf("no ids: %v, %v", got, err)
	}
}

func TestSessionsEndedSince(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := mustOpen(t, Options{Now: clk.Now, Policy: store.Policy{IdleTimeout: time.Hour, MaxLifetime: 24 * time.Hour}})
	u := mustUser(t, s, store.RoleClientStaff)
	other := mustUser(t, s, store.RoleClientStaff)
	early, _ := mustSession(t, s, u.ID, store.NewSession{})
	idle, _ := mustSession(t, s, u.ID, store.NewSession{})
	_, liveTok := mustSession(t, s, u.ID, store.NewSession{})
	mustSession(t, s, other.ID, store.NewSession{})
	if _, err := s.RevokeUserSession(u.ID, early.ID, store.ReasonRevoked); err != nil {
		t.Fatal(err)
	}
	since := clk.Advance(time.Minute)
	clk.Advance(30 * time.Minute)
	wantLive(t, s, liveTok) // keeps it live, unflushed
	late, _ := mustSession(t, s, u.ID, store.NewSession{})
	if _, err := s.RevokeUserSession(u.ID, late.ID, store.ReasonRevoked); err != nil {
		t.Fatal(err)
	}
	clk.Advance(40 * time.Minute) // idle expired at t0+1h, after since

	got, err := s.SessionsEndedSince(u.ID, since)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, x := range got {
		ids = append(ids, x.ID)
	}
	if want := []string{late.ID, idle.ID}; !slices.Equal(ids, want) {
		t.Fatalf("ended since: %v, want %v (revoked at +31m, then idle at +60m; not the one revoked before)", ids, want)
	}
	// The other user's idle session is theirs alone.
	if got, err := s.SessionsEndedSince(other.ID, since); err != nil || len(got) != 1 || got[0].UserID != other.ID {
		t.Fatalf("another user's: %v, %v", got, err)
	}
}

// Peek answers like Authenticate but is not activity: a session checked
// only by Peek expires at its idle timeout, and Peek says so.
func TestPeekIsNotActivity(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := mustOpen(t, Options{Now: clk.Now, Policy: store.Policy{IdleTimeout: 10 * time.Minute, MaxLifetime: time.Hour}})
	u := mustUser(t, s, store.RoleClientStaff)
	_, tok := mustSession(t, s, u.ID, store.NewSession{})
	for range 9 {
		clk.Advance(time.Minute)
		if got, usr, err := s.Peek(tok); err != nil || !got.LastActive.Equal(t0) || usr.ID != u.ID {
			t.Fatalf("Peek: last active %v, user %q, %v; want %v", got.LastActive, usr.ID, err, t0)
		}
	}
	if s.PendingActivity() != 0 {
		t.Fatalf("Peek queued activity to flush")
	}
	clk.Advance(time.Minute)
	if _, _, err := s.Peek(tok); reasonOf(err) != store.ReasonIdle {
		t.Fatalf("Peek at the idle timeout: %v", err)
	}

	// Authenticate is activity: it moves the expiry; the lifetime caps it.
	_, tok2 := mustSession(t, s, u.ID, store.NewSession{})
	for range 6 {
		clk.Advance(9 * time.Minute)
		wantLive(t, s, tok2)
	}
	got, _, err := s.Peek(tok2)
	if err != nil {
		t.Fatal(err)
	}
	if want := got.CreatedAt.Add(time.Hour); !got.ExpiresAt(s.Policy()).Equal(want) {
		t.Fatalf("ExpiresAt near the lifetime = %v, want %v", got.ExpiresAt(s.Policy()), want)
	}
}
