package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"portal/device"
	"portal/geo"
)

// events returns userID's whole log, newest first.
func events(t *testing.T, s *Store, userID string) []Event {
	t.Helper()
	var out []Event
	for page := 1; ; page++ {
		p, err := s.UserEvents(userID, EventQuery{Page: page})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Events...)
		if page >= p.Pages {
			return out
		}
	}
}

// describe is an event in one line, for comparing logs.
func describe(e Event) string {
	return fmt.Sprintf("%s %s by{%s %s}", e.Kind, e.Reason, e.By.Session, e.By.User)
}

// TestEventPerAction: each change writes exactly its events, in the same
// transaction (one commit per action, counted).
func TestEventPerAction(t *testing.T) {
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now, Policy: testPolicy, MaxSessionsPerUser: 3})
	u := mustUser(t, s, RoleClientStaff)
	firefox := device.Info{Browser: "Firefox", BrowserVersion: "133", OS: "Windows", Type: device.Desktop}
	berlin := geo.Place{Network: "203.0.113.0/24", Masked: "203.0.113.x", Location: geo.Location{City: "Berlin", Country: "Germany"}}
	var ids []string
	// step runs act, which must commit exactly once, and checks the events
	// it added, newest first.
	step := func(name string, act func(), want func() []string) {
		t.Helper()
		before, writes := len(events(t, s, u.ID)), s.WriteTxCount()
		clk.Advance(time.Minute)
		act()
		if got := s.WriteTxCount() - writes; got != 1 {
			t.Errorf("%s: %d commits, want 1", name, got)
		}
		all := events(t, s, u.ID)
		var got []string
		for _, e := range all[:len(all)-before] {
			got = append(got, describe(e))
		}
		if fmt.Sprint(got) != fmt.Sprint(want()) {
			t.Errorf("%s: events %v, want %v", name, got, want())
		}
	}
	signIn := func() {
		sess, _ := mustSession(t, s, u.ID, NewSession{Device: firefox, Place: berlin})
		ids = append(ids, sess.ID)
	}
	is := func(want ...string) func() []string { return func() []string { return want } }
	signedIn := "signed_in  by{ }"
	step("sign-in", signIn, is(signedIn))
	if e := events(t, s, u.ID)[0]; e.SessionID != ids[0] || e.Device != firefox || e.Place != berlin {
		t.Fatalf("sign-in event %+v, want the session's id, device and place", e)
	}
	step("sign-in", signIn, is(signedIn))
	step("sign out another session", func() {
		if _, err := s.RevokeUserSessionBy(u.ID, ids[0], ReasonRevoked, Actor{Session: ids[1]}); err != nil {
			t.Fatal(err)
		}
	}, is("ended revoked by{"+ids[1]+" }"))
	step("sign-in", signIn, is(signedIn))
	step("sign-in", signIn, is(signedIn))
	// ids[1..3] are live: at the cap of 3 a sign-in ends the least recently
	// active, and the new session is named as what ended it.
	step("sign-in at the cap", signIn, func() []string { return []string{signedIn, "ended session_limit by{" + ids[4] + " }"} })
	step("sign out all other devices", func() {
		if _, err := s.RevokeOtherSessions(u.ID, ids[4], ReasonRevokedAll); err != nil {
			t.Fatal(err)
		}
	}, is("ended revoked_all by{"+ids[4]+" }", "ended revoked_all by{"+ids[4]+" }"))
	step("sign-in", signIn, is(signedIn))
	step("password change", func() {
		if _, err := s.SetPasswordHash(u.ID, "new", true, ids[4]); err != nil {
			t.Fatal(err)
		}
	}, is("ended password_changed by{"+ids[4]+" }", "password_changed  by{"+ids[4]+" }"))
	step("operator: everywhere", func() {
		if _, err := s.RevokeAllUserSessions(u.ID, ReasonEverywhere); err != nil {
			t.Fatal(err)
		}
	}, is("ended signed_out_everywhere by{ }"))
	step("sign-in", signIn, is(signedIn))
	step("own sign-out", func() {
		if _, err := s.RevokeUserSession(u.ID, ids[len(ids)-1], ReasonSignedOut); err != nil {
			t.Fatal(err)
		}
	}, is("ended signed_out by{ }"))
	step("disable", func() {
		signInNoStep := ids // keep the slice as is
		_ = signInNoStep
		if _, err := s.SetUserDisabled(u.ID, true); err != nil {
			t.Fatal(err)
		}
	}, is())
	mustCheck(t, s)
}

// TestExpiryRecorded: an expiry is recorded once, dated when it happened,
// whether a validation or the sweeper notices it first.
func TestExpiryRecorded(t *testing.T) {
	for _, noticer := range []string{"validation", "sweeper"} {
		t.Run(noticer, func(t *testing.T) {
			clk := newClock()
			s := MustOpen(t, Options{Now: clk.Now, Policy: testPolicy})
			u := mustUser(t, s, RoleClientStaff)
			sess, tok := mustSession(t, s, u.ID, NewSession{})
			expiredAt := sess.LastActive.Add(testPolicy.IdleTimeout)
			clk.Advance(testPolicy.IdleTimeout + 17*time.Minute) // noticed well after
			for range 2 {                                        // twice: recorded once
				switch noticer {
				case "validation":
					wantEnded(t, s, tok, ReasonIdle)
					if _, err := s.FlushActivity(); err != nil {
						t.Fatal(err)
					}
				case "sweeper":
					if _, err := s.Sweep(30*24*time.Hour, 10); err != nil {
						t.Fatal(err)
					}
				}
			}
			all := events(t, s, u.ID)
			if len(all) != 2 || all[0].Kind != EventEnded || all[0].Reason != ReasonIdle || !all[0].At.Equal(expiredAt) || all[0].SessionID != sess.ID {
				t.Fatalf("events %+v, want one idle expiry at %v", all, expiredAt)
			}
			// The record now says it ended, and when.
			x, _ := s.UserSession(u.ID, sess.ID)
			if !x.RevokedAt.Equal(expiredAt) || x.RevokeReason != ReasonIdle {
				t.Fatalf("session %+v, want closed at its expiry", x)
			}
			mustCheck(t, s)
		})
	}
}

// TestFailedSignInsGrouped: failures from one network in one 5-minute
// window are one event with a count, across flushes; another network,
// another window or a throttled attempt is another event.
func TestFailedSignInsGrouped(t *testing.T) {
	clk := newClock()
	clk.Set(time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC))
	s := MustOpen(t, Options{Now: clk.Now, Policy: testPolicy})
	u := mustUser(t, s, RoleClientStaff)
	here := geo.Place{Network: "203.0.113.0/24", Masked: "203.0.113.x"}
	there := geo.Place{Network: "198.51.100.0/24", Masked: "198.51.100.x"}
	fail := func(p geo.Place, throttled bool, n int) {
		for range n {
			s.RecordSignInFailure(u.ID, p, throttled)
			clk.Advance(10 * time.Second)
		}
	}
	fail(here, false, 3)
	flush := func() {
		t.Helper()
		before := s.WriteTxCount()
		if _, err := s.FlushActivity(); err != nil {
			t.Fatal(err)
		}
		if s.WriteTxCount()-before != 1 {
			t.Fatal("a flush of failures took more than one commit")
		}
	}
	flush()
	fail(here, false, 2) // same window, after a flush: merged
	fail(there, false, 1)
	fail(here, true, 4)
	flush()
	clk.Set(time.Date(2025, 3, 14, 10, 5, 0, 0, time.UTC))
	fail(here, false, 1) // the next window
	flush()
	var got []string
	for _, e := range events(t, s, u.ID) {
		if e.Kind == EventSignInFailed || e.Kind == EventSignInThrottled {
			got = append(got, fmt.Sprintf("%s %s %d", e.Kind, e.Place.Masked, e.Count))
		}
	}
	want := []string{"sign_in_failed 203.0.113.x 1", "sign_in_throttled 203.0.113.x 4", "sign_in_failed 198.51.100.x 1", "sign_in_failed 203.0.113.x 5"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("failure events %v, want %v", got, want)
	}
	// An unknown user id is never recorded against anyone.
	s.RecordSignInFailure("0123456789abcdef0123456789abcdef", here, false)
	flush()
	mustCheck(t, s)
}

// TestEventBounds: a user keeps the newest 1,000 events, and the sweeper
// deletes those past the activity retention.
func TestEventBounds(t *testing.T) {
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now, Policy: testPolicy})
	u := mustUser(t, s, RoleClientStaff)
	for i := range maxEventsPerUser + 5 {
		clk.Advance(time.Second)
		s.RecordSignInFailure(u.ID, geo.Place{Network: fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)}, false)
		if i%100 == 99 {
			s.FlushActivity()
		}
	}
	s.FlushActivity()
	all := events(t, s, u.ID)
	if len(all) != maxEventsPerUser || all[len(all)-1].Place.Network != "10.0.5.0/24" {
		t.Fatalf("%d events, oldest %s; want %d, the 5 oldest dropped", len(all), all[len(all)-1].Place.Network, maxEventsPerUser)
	}
	clk.Advance(90*24*time.Hour + time.Second)
	mustSession(t, s, u.ID, NewSession{}) // a recent one stays
	n, err := s.SweepEvents(context.Background(), 90*24*time.Hour, 300)
	if err != nil || n != maxEventsPerUser-1 {
		t.Fatalf("SweepEvents = %d, %v; want %d", n, err, maxEventsPerUser-1)
	}
	if all := events(t, s, u.ID); len(all) != 1 || all[0].Kind != EventSignedIn {
		t.Fatalf("after the sweep: %+v, want the recent sign-in only", all)
	}
}

func TestUserEventsQuery(t *testing.T) {
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now, Policy: testPolicy})
	u := mustUser(t, s, RoleClientStaff)
	for range 60 {
		clk.Advance(time.Minute)
		sess, _ := mustSession(t, s, u.ID, NewSession{})
		if _, err := s.RevokeUserSession(u.ID, sess.ID, ReasonSignedOut); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name        string
		q           EventQuery
		total, page int
	}{
		{"all, page 1", EventQuery{}, 120, EventPageSize},
		{"all, page 3", EventQuery{Page: 3}, 120, 20},
		{"sign-ins only", EventQuery{Kinds: []EventKind{EventSignedIn}}, 60, EventPageSize},
		{"since 10 minutes ago", EventQuery{Since: clk.Now().Add(-9 * time.Minute)}, 20, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := s.UserEvents(u.ID, tt.q)
			if err != nil || p.Total != tt.total || len(p.Events) != tt.page {
				t.Fatalf("total %d, %d on the page, %v; want %d, %d", p.Total, len(p.Events), err, tt.total, tt.page)
			}
			for i := 1; i < len(p.Events); i++ {
				if p.Events[i].At.After(p.Events[i-1].At) {
					t.Fatal("not newest first")
				}
			}
		})
	}
}
