package postgres

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"portal/geo"
	"portal/internal/pgtest"
	"portal/store"
	"portal/store/storetest"
)

// listed is how ListUserSessions on s shows userID's sessions: ids and
// last-active times, in order.
func listed(tb testing.TB, s *Store, userID string) string {
	tb.Helper()
	list, err := s.ListUserSessions(userID)
	if err != nil {
		tb.Fatalf("ListUserSessions: %v", err)
	}
	out := ""
	for _, x := range list {
		out += fmt.Sprintf("%s@%s ", x.ID, x.LastActive.Format(time.RFC3339Nano))
	}
	return out
}

// keeps reports whether s keeps userID's list and activity version.
func keeps(s *Store, userID string) (list, version bool) { return s.KeepsUser(userID) }

// Instance b keeps a user's sessions list and activity version between
// requests, as the bbolt store does; every change to them made on
// instance a reaches b, which then shows what a would.
func TestUserStateSeenByOtherInstance(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDB(t)
	clk := newClock()
	a := mustOpenURL(t, url, Options{Now: clk.Now, Policy: testPolicy})
	b := mustOpenURL(t, url, Options{Now: clk.Now, Policy: testPolicy})
	u := mustUser(t, a, store.RoleClientAdmin)
	first, firstToken := mustSession(t, a, u.ID, store.NewSession{})
	second, _ := mustSession(t, a, u.ID, store.NewSession{})
	version := func(s *Store) uint64 {
		v, err := s.UserEventsVersion(u.ID)
		if err != nil {
			t.Fatalf("UserEventsVersion: %v", err)
		}
		return v
	}
	for _, step := range []struct {
		name   string
		change func()
	}{
		{"a sign-in", func() { mustSession(t, a, u.ID, store.NewSession{}) }},
		{"a sign-out", func() {
			if _, err := a.RevokeUserSession(u.ID, second.ID, store.ReasonSignedOut); err != nil {
				t.Fatal(err)
			}
		}},
		{"last-active flushed", func() {
			clk.Advance(time.Minute)
			wantLive(t, a, firstToken)
			a.SeenFrom(firstToken, geo.Place{Masked: "203.0.113.x"})
			if n, err := a.FlushLastActive(); err != nil || n != 1 {
				t.Fatalf("FlushLastActive = %d, %v; want 1 session", n, err)
			}
		}},
		{"a failed sign-in recorded", func() {
			a.RecordSignInFailure(u.ID, geo.Place{Masked: "198.51.100.x"}, false)
			if _, err := a.FlushLastActive(); err != nil {
				t.Fatal(err)
			}
		}},
		{"a password change that signs the others out", func() {
			if _, err := a.SetPasswordHash(u.ID, "new", true, first.ID); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		// What b reads is kept unless a notification arrived meanwhile
		// (a's last change, still on its way): read until it is kept.
		var before string
		var beforeVersion uint64
		waitFor(t, "b to keep the list and version before "+step.name, func() bool {
			before, beforeVersion = listed(t, b, u.ID), version(b)
			list, v := keeps(b, u.ID)
			return list && v
		})
		step.change()
		want, wantVersion := listed(t, a, u.ID), version(a)
		if want == before && wantVersion == beforeVersion {
			t.Fatalf("%s changed neither the list nor the version on a", step.name)
		}
		waitFor(t, "b to show what a shows after "+step.name, func() bool {
			return listed(t, b, u.ID) == want && version(b) == wantVersion
		})
	}
	if got := listed(t, b, u.ID); !slices.Contains([]string{first.ID + "@" + clk.Now().Format(time.RFC3339Nano) + " "}, got) {
		t.Errorf("b lists %q at the end, want only %s active at %s", got, first.ID, clk.Now())
	}
}

// While the listener is down nothing is kept of users either: a change
// b could not hear is shown once it listens again.
func TestUserStateAfterListenerLoss(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t)
	url := pgtest.NewDB(t)
	a := mustOpenURL(t, url, Options{})
	b := mustOpenURL(t, url, Options{})
	u := mustUser(t, a, store.RoleClientAdmin)
	sess, _ := mustSession(t, a, u.ID, store.NewSession{})
	if got := listed(t, b, u.ID); got == "" {
		t.Fatal("b lists no session")
	}
	old := b.listener.pid.Load()
	c.Terminate(t, old)
	if _, err := a.RevokeUserSession(u.ID, sess.ID, store.ReasonSignedOut); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b to listen again", func() bool { p := b.listener.pid.Load(); return p != 0 && p != old })
	if got := listed(t, b, u.ID); got != "" {
		t.Errorf("after listening again b lists %q, want no session", got)
	}
}

// The account a user's pages keep follows a move made on another
// instance, from that instance's next read on.
func TestAccountOfSeenByOtherInstance(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDB(t)
	a := mustOpenURL(t, url, Options{})
	b := mustOpenURL(t, url, Options{})
	w := storetest.NewPartnerWorld(t, a, storetest.NewClock(), &storetest.Recorder{})
	if acct, err := b.AccountOf(w.Mine); err != nil || acct.Partner != w.P1.ID {
		t.Fatalf("B's AccountOf = %+v, %v", acct, err)
	}
	if _, err := a.SetAccountPartner(w.C1.ID, w.P2.ID); err != nil {
		t.Fatal(err)
	}
	if acct, err := b.AccountOf(w.Mine); err != nil || acct.Partner != w.P2.ID {
		t.Errorf("B's AccountOf after A moved the client = %+v, %v; want under %s", acct, err, w.P2.ID)
	}
}
