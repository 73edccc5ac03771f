package store

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// recorder is a Notifier that keeps what it hears and, at each Publish,
// runs check: what a listener would read from the store at that moment.
type recorder struct {
	mu      sync.Mutex
	changes []Change
	check   func(Change)
}

func (r *recorder) Publish(changes []Change) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ch := range changes {
		if r.check != nil {
			r.check(ch)
		}
		r.changes = append(r.changes, ch)
	}
}

func (r *recorder) take() []Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.changes
	r.changes = nil
	return out
}

func TestNotifyPublishesCommittedChanges(t *testing.T) {
	rec := &recorder{}
	s := MustOpen(t, Options{Notifier: rec, MaxSessionsPerUser: 3})
	u := mustUser(t, s, RoleClientStaff)
	a, aTok := mustSession(t, s, u.ID, NewSession{})
	b, bTok := mustSession(t, s, u.ID, NewSession{})
	c, _ := mustSession(t, s, u.ID, NewSession{})
	want := []Change{
		{Kind: SessionStarted, UserID: u.ID, SessionID: a.ID},
		{Kind: SessionStarted, UserID: u.ID, SessionID: b.ID},
		{Kind: SessionStarted, UserID: u.ID, SessionID: c.ID},
	}
	if got := rec.take(); !slices.Equal(got, want) {
		t.Fatalf("sign-ins published %v, want %v", got, want)
	}

	// A listener hearing of a change reads the change: the session is gone
	// from the cache (Peek refuses it) and from the list.
	if _, _, err := s.Peek(aTok); err != nil { // cached now
		t.Fatal(err)
	}
	rec.check = func(ch Change) {
		if ch.Kind != SessionEnded || ch.SessionID != a.ID {
			return
		}
		if _, _, err := s.Peek(aTok); endedReason(t, err) != ReasonRevoked {
			t.Errorf("at publish, Peek of the revoked session: %v", err)
		}
		list, err := s.ListUserSessions(u.ID)
		if err != nil || slices.ContainsFunc(list, func(x Session) bool { return x.ID == a.ID }) {
			t.Errorf("at publish, the list still holds the revoked session (%v)", err)
		}
	}
	if _, err := s.RevokeUserSession(u.ID, a.ID, ReasonRevoked); err != nil {
		t.Fatal(err)
	}
	if got, want := rec.take(), []Change{{Kind: SessionEnded, UserID: u.ID, SessionID: a.ID, Reason: ReasonRevoked}}; !slices.Equal(got, want) {
		t.Fatalf("revoke published %v, want %v", got, want)
	}
	rec.check = nil

	// Revoking an ended session again changes nothing and says nothing.
	if _, err := s.RevokeUserSession(u.ID, a.ID, ReasonRevoked); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("revoking an ended session published %v", got)
	}

	// The cap: a fourth sign-in ends the least recently active one first.
	d, _ := mustSession(t, s, u.ID, NewSession{})
	e, _ := mustSession(t, s, u.ID, NewSession{})
	got := rec.take()
	if !slices.Contains(got, Change{Kind: SessionEnded, UserID: u.ID, SessionID: b.ID, Reason: ReasonSessionLimit}) ||
		!slices.Contains(got, Change{Kind: SessionStarted, UserID: u.ID, SessionID: e.ID}) {
		t.Fatalf("sign-in at the cap published %v", got)
	}
	if _, _, err := s.Peek(bTok); endedReason(t, err) != ReasonSessionLimit {
		t.Fatalf("capped session: %v", err)
	}

	// Sign out all others: one change per session, none for the one kept.
	if n, err := s.RevokeOtherSessions(u.ID, e.ID, ReasonRevokedAll); err != nil || n != 2 {
		t.Fatalf("RevokeOtherSessions = %d, %v", n, err)
	}
	got = rec.take()
	ids := []string{}
	for _, ch := range got {
		if ch.Kind != SessionEnded || ch.Reason != ReasonRevokedAll {
			t.Errorf("sign out others published %+v", ch)
		}
		ids = append(ids, ch.SessionID)
	}
	slices.Sort(ids)
	wantIDs := []string{c.ID, d.ID}
	slices.Sort(wantIDs)
	if !slices.Equal(ids, wantIDs) {
		t.Fatalf("sign out others published sessions %v, want %v", ids, wantIDs)
	}
}

func TestNotifyUserChanges(t *testing.T) {
	rec := &recorder{}
	s := MustOpen(t, Options{Notifier: rec})
	u := mustUser(t, s, RoleClientAdmin)
	keep, keepTok := mustSession(t, s, u.ID, NewSession{})
	other, _ := mustSession(t, s, u.ID, NewSession{})
	if _, _, err := s.Peek(keepTok); err != nil {
		t.Fatal(err)
	}
	rec.take()
	rec.check = func(ch Change) {
		if ch.Kind != UserChanged {
			return
		}
		// The cached user is gone: a listener re-checking sees the new hash.
		if _, usr, err := s.Peek(keepTok); err != nil || usr.PasswordHash != "new" {
			t.Errorf("at publish, Peek of the kept session: %q, %v", usr.PasswordHash, err)
		}
	}
	if _, err := s.SetPasswordHash(u.ID, "new", true, keep.ID); err != nil {
		t.Fatal(err)
	}
	got := rec.take()
	want := []Change{
		{Kind: UserChanged, UserID: u.ID},
		{Kind: SessionEnded, UserID: u.ID, SessionID: other.ID, Reason: ReasonPasswordChanged},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("password change published %v, want %v", got, want)
	}
	rec.check = nil

	if _, err := s.SetUserDisabled(u.ID, true); err != nil {
		t.Fatal(err)
	}
	want = []Change{
		{Kind: UserChanged, UserID: u.ID},
		{Kind: SessionEnded, UserID: u.ID, SessionID: keep.ID, Reason: ReasonUserDisabled},
	}
	if got := rec.take(); !slices.Equal(got, want) {
		t.Fatalf("disable published %v, want %v", got, want)
	}

	// A write that fails publishes nothing.
	if _, _, err := s.CreateSession(u.ID, NewSession{}); !errors.Is(err, ErrUserDisabled) {
		t.Fatalf("sign-in of a disabled user: %v", err)
	}
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("a failed sign-in published %v", got)
	}
}

// Peek answers like Authenticate but is not activity: a session checked
// only by Peek expires at its idle timeout, and Peek says so.
func TestPeekIsNotActivity(t *testing.T) {
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now, Policy: Policy{IdleTimeout: 10 * time.Minute, MaxLifetime: time.Hour}})
	u := mustUser(t, s, RoleClientStaff)
	sess, tok := mustSession(t, s, u.ID, NewSession{})
	if got, want := sess.ExpiresAt(s.Policy()), t0.Add(10*time.Minute); !got.Equal(want) {
		t.Fatalf("ExpiresAt = %v, want %v", got, want)
	}
	for range 9 {
		clk.Advance(time.Minute)
		if got, _, err := s.Peek(tok); err != nil || !got.LastActive.Equal(t0) {
			t.Fatalf("Peek: last active %v, %v; want %v", got.LastActive, err, t0)
		}
	}
	if s.PendingActivity() != 0 {
		t.Fatalf("Peek queued activity to flush")
	}
	clk.Advance(time.Minute)
	if _, _, err := s.Peek(tok); endedReason(t, err) != ReasonIdle {
		t.Fatalf("Peek at the idle timeout: %v", err)
	}

	// Authenticate is activity: it moves the expiry; the lifetime caps it.
	_, tok2 := mustSession(t, s, u.ID, NewSession{})
	for range 6 {
		clk.Advance(9 * time.Minute)
		if _, _, err := s.Authenticate(tok2); err != nil {
			t.Fatal(err)
		}
	}
	got, _, err := s.Peek(tok2)
	if err != nil {
		t.Fatal(err)
	}
	if want := got.CreatedAt.Add(time.Hour); !got.ExpiresAt(s.Policy()).Equal(want) {
		t.Fatalf("ExpiresAt near the lifetime = %v, want %v", got.ExpiresAt(s.Policy()), want)
	}
}

func TestSessionsEndedSince(t *testing.T) {
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now, Policy: Policy{IdleTimeout: time.Hour, MaxLifetime: 24 * time.Hour}})
	u := mustUser(t, s, RoleClientStaff)
	other := mustUser(t, s, RoleClientStaff)
	early, _ := mustSession(t, s, u.ID, NewSession{})
	idle, _ := mustSession(t, s, u.ID, NewSession{})
	_, liveTok := mustSession(t, s, u.ID, NewSession{})
	mustSession(t, s, other.ID, NewSession{})
	if _, err := s.RevokeUserSession(u.ID, early.ID, ReasonRevoked); err != nil {
		t.Fatal(err)
	}
	since := clk.Advance(time.Minute)
	clk.Advance(30 * time.Minute)
	if _, _, err := s.Authenticate(liveTok); err != nil { // keeps it live
		t.Fatal(err)
	}
	late, _ := mustSession(t, s, u.ID, NewSession{})
	if _, err := s.RevokeUserSession(u.ID, late.ID, ReasonRevoked); err != nil {
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
