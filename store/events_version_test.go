package store

import (
	"context"
	"testing"
	"time"

	"portal/geo"
)

// TestUserEventsVersion: every change to a user's log moves the user's
// version on, in the same commit (a page read at the same time reports
// it); nothing else does, and another user's changes do not.
func TestUserEventsVersion(t *testing.T) {
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now, Policy: testPolicy})
	u, other := mustUser(t, s, RoleClientStaff), mustUser(t, s, RoleClientStaff)
	here := geo.Place{Network: "203.0.113.0/24", Masked: "203.0.113.x"}
	version := func() uint64 {
		t.Helper()
		v, err := s.UserEventsVersion(u.ID)
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.UserEvents(u.ID, EventQuery{})
		if err != nil || p.Version != v {
			t.Fatalf("page version %d, %v; UserEventsVersion %d", p.Version, err, v)
		}
		return v
	}
	if v := version(); v != 0 {
		t.Fatalf("a user without events has version %d", v)
	}
	var sess Session
	var token string
	flush := func() {
		t.Helper()
		if _, err := s.FlushActivity(); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		act   func()
		moves bool
	}{
		{"sign-in", func() { sess, token = mustSession(t, s, u.ID, NewSession{Place: here}) }, true},
		{"another user's sign-in", func() { mustSession(t, s, other.ID, NewSession{}) }, false},
		{"a flush of last-active times", func() {
			clk.Advance(time.Minute)
			if _, err := s.sessionFor(token); err != nil {
				t.Fatal(err)
			}
			flush()
		}, false},
		{"failed sign-ins, a new group", func() { s.RecordSignInFailure(u.ID, here, false); flush() }, true},
		{"failed sign-ins merged into the group", func() { s.RecordSignInFailure(u.ID, here, false); flush() }, true},
		{"password change", func() {
			if _, err := s.SetPasswordHash(u.ID, "other hash", false, ""); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"sign-out", func() {
			if _, err := s.RevokeUserSession(u.ID, sess.ID, ReasonSignedOut); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"a sweep that deletes nothing", func() {
			if _, err := s.SweepEvents(context.Background(), 90*24*time.Hour, 10); err != nil {
				t.Fatal(err)
			}
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
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now, Policy: testPolicy})
	u := mustUser(t, s, RoleClientStaff)
	first := clk.Now().UTC()
	for range 3 {
		mustSession(t, s, u.ID, NewSession{})
		clk.Advance(time.Hour)
	}
	p, err := s.UserEvents(u.ID, EventQuery{})
	if err != nil || !p.Oldest.Equal(first) {
		t.Fatalf("oldest %v, %v; want %v", p.Oldest, err, first)
	}
	p, err = s.UserEvents(u.ID, EventQuery{Since: first.Add(time.Minute)})
	if err != nil || p.Total != 2 || !p.Oldest.Equal(first.Add(time.Hour)) {
		t.Fatalf("since: %d events, oldest %v, %v; want 2, %v", p.Total, p.Oldest, err, first.Add(time.Hour))
	}
}

// TestUserSessionsByID: one read for many ids, and only the user's own
// sessions come back, live or ended.
func TestUserSessionsByID(t *testing.T) {
	s := MustOpen(t, Options{Policy: testPolicy})
	u, other := mustUser(t, s, RoleClientStaff), mustUser(t, s, RoleClientStaff)
	live, _ := mustSession(t, s, u.ID, NewSession{})
	ended, _ := mustSession(t, s, u.ID, NewSession{})
	if _, err := s.RevokeUserSession(u.ID, ended.ID, ReasonSignedOut); err != nil {
		t.Fatal(err)
	}
	theirs, _ := mustSession(t, s, other.ID, NewSession{})
	got, err := s.UserSessionsByID(u.ID, []string{live.ID, ended.ID, theirs.ID, "0123456789abcdef0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[live.ID].ID != live.ID || got[ended.ID].RevokedAt.IsZero() {
		t.Fatalf("got %d sessions %+v; want the live and the ended one, not the other user's", len(got), got)
	}
}
