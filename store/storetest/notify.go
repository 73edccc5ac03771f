package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"portal/store"
)

var notifyTests = []test{
	{"NotifyPublishesCommittedChanges", testNotifyPublishesCommittedChanges},
	{"NotifyUserChanges", testNotifyUserChanges},
}

// Recorder is a store.Notifier that keeps what it hears, and runs the
// check set with SetCheck on each change inside Publish, to see what the
// store shows then. Tests of either store use it.
type Recorder struct {
	mu      sync.Mutex
	changes []store.Change
	check   func(store.Change)
}

// Publish keeps changes, after running the check on each.
func (r *Recorder) Publish(changes []store.Change) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ch := range changes {
		if r.check != nil {
			r.check(ch)
		}
		r.changes = append(r.changes, ch)
	}
}

// SetCheck sets what Publish runs on each change (nil: nothing).
func (r *Recorder) SetCheck(check func(store.Change)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.check = check
}

// Take returns what was heard since the last Take.
func (r *Recorder) Take() []store.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.changes
	r.changes = nil
	return out
}

// Len is how many changes wait to be taken.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.changes)
}

// TakeN waits up to 10 seconds until n changes were heard (another
// instance's arrive through the database) and takes them.
func (r *Recorder) TakeN(tb testing.TB, n int) []store.Change {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for r.Len() < n {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %d published changes (have %d)", n, r.Len())
		}
		time.Sleep(2 * time.Millisecond)
	}
	return r.Take()
}

func testNotifyPublishesCommittedChanges(t *testing.T, open Opener) {
	rec := &Recorder{}
	s, clk := openAt(t, open, Options{Notifier: rec, MaxSessionsPerUser: 3})
	u := mustUser(t, s, store.RoleClientStaff)
	// A minute between sign-ins, so that the cap's least recently active
	// session is b's, not a tie.
	signIn := func() (store.Session, string) {
		clk.Advance(time.Minute)
		return mustSession(t, s, u.ID, store.NewSession{})
	}
	a, aTok := signIn()
	b, bTok := signIn()
	c, _ := signIn()
	want := []store.Change{
		{Kind: store.SessionStarted, UserID: u.ID, SessionID: a.ID},
		{Kind: store.SessionStarted, UserID: u.ID, SessionID: b.ID},
		{Kind: store.SessionStarted, UserID: u.ID, SessionID: c.ID},
	}
	if got := rec.Take(); !slices.Equal(got, want) {
		t.Fatalf("sign-ins published %v, want %v", got, want)
	}

	// At publish, the caches have forgotten the revoked session.
	if _, _, err := s.Peek(aTok); err != nil { // cached now
		t.Fatal(err)
	}
	if _, err := s.ListUserSessions(u.ID); err != nil { // and the list too
		t.Fatal(err)
	}
	rec.SetCheck(func(ch store.Change) {
		if ch.Kind != store.SessionEnded || ch.SessionID != a.ID {
			return
		}
		if _, _, err := s.Peek(aTok); reasonOf(err) != store.ReasonRevoked {
			t.Errorf("at publish, Peek of the revoked session: %v", err)
		}
		list, err := s.ListUserSessions(u.ID)
		if err != nil || slices.ContainsFunc(list, func(x store.Session) bool { return x.ID == a.ID }) {
			t.Errorf("at publish, the list still holds the revoked session (%v)", err)
		}
	})
	ok(t)(s.RevokeUserSession(u.ID, a.ID, store.ReasonRevoked))
	if got, want := rec.Take(), []store.Change{{Kind: store.SessionEnded, UserID: u.ID, SessionID: a.ID, Reason: store.ReasonRevoked}}; !slices.Equal(got, want) {
		t.Fatalf("revoke published %v, want %v", got, want)
	}
	rec.SetCheck(nil)

	ok(t)(s.RevokeUserSession(u.ID, a.ID, store.ReasonRevoked))
	if got := rec.Take(); len(got) != 0 {
		t.Fatalf("revoking an ended session published %v", got)
	}
	if _, err := s.RevokeUserSession(u.ID, noSuchID, store.ReasonRevoked); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoking no session: %v", err)
	}
	if got := rec.Take(); len(got) != 0 {
		t.Fatalf("a refused revoke published %v", got)
	}

	d, _ := signIn()
	e, _ := signIn()
	got := rec.Take()
	if !slices.Contains(got, store.Change{Kind: store.SessionEnded, UserID: u.ID, SessionID: b.ID, Reason: store.ReasonSessionLimit}) ||
		!slices.Contains(got, store.Change{Kind: store.SessionStarted, UserID: u.ID, SessionID: e.ID}) || len(got) != 3 {
		t.Fatalf("sign-ins at the cap published %v", got)
	}
	if _, _, err := s.Peek(bTok); reasonOf(err) != store.ReasonSessionLimit {
		t.Fatalf("capped session: %v", err)
	}

	if n, err := s.RevokeOtherSessions(u.ID, e.ID, store.ReasonRevokedAll); err != nil || n != 2 {
		t.Fatalf("RevokeOtherSessions = %d, %v", n, err)
	}
	var ended []string
	for _, ch := range rec.Take() {
		if ch.Kind != store.SessionEnded || ch.Reason != store.ReasonRevokedAll || ch.UserID != u.ID {
			t.Errorf("sign out others published %+v", ch)
		}
		ended = append(ended, ch.SessionID)
	}
	slices.Sort(ended)
	wantIDs := []string{c.ID, d.ID}
	slices.Sort(wantIDs)
	if !slices.Equal(ended, wantIDs) {
		t.Fatalf("sign out others published sessions %v, want %v", ended, wantIDs)
	}

	ok(t)(s.Sweep(0, 10))
	mustFlush(t, s)
	if got := rec.Take(); len(got) != 0 {
		t.Fatalf("a sweep or a flush published %v", got)
	}
}

func testNotifyUserChanges(t *testing.T, open Opener) {
	rec := &Recorder{}
	s, _ := openAt(t, open, Options{Notifier: rec})
	u := mustUser(t, s, store.RoleClientAdmin)
	keep, keepTok := mustSession(t, s, u.ID, store.NewSession{})
	other, _ := mustSession(t, s, u.ID, store.NewSession{})
	if _, _, err := s.Peek(keepTok); err != nil {
		t.Fatal(err)
	}
	rec.Take()
	rec.SetCheck(func(ch store.Change) {
		if ch.Kind != store.UserChanged {
			return
		}
		if _, usr, err := s.Peek(keepTok); err != nil || usr.PasswordHash != "new" {
			t.Errorf("at publish, Peek of the kept session: %q, %v; want the new hash", usr.PasswordHash, err)
		}
	})
	ok(t)(s.SetPasswordHash(u.ID, "new", true, keep.ID))
	want := []store.Change{
		{Kind: store.UserChanged, UserID: u.ID},
		{Kind: store.SessionEnded, UserID: u.ID, SessionID: other.ID, Reason: store.ReasonPasswordChanged},
	}
	if got := rec.Take(); !slices.Equal(got, want) {
		t.Fatalf("password change published %v, want %v", got, want)
	}
	rec.SetCheck(func(ch store.Change) {
		if ch.Kind != store.SessionEnded {
			return
		}
		if _, _, err := s.Peek(keepTok); reasonOf(err) != store.ReasonUserDisabled {
			t.Errorf("at publish, Peek of a session the disable ended: %v", err)
		}
	})
	ok(t)(s.SetUserDisabled(u.ID, true))
	want = []store.Change{
		{Kind: store.UserChanged, UserID: u.ID},
		{Kind: store.SessionEnded, UserID: u.ID, SessionID: keep.ID, Reason: store.ReasonUserDisabled},
	}
	if got := rec.Take(); !slices.Equal(got, want) {
		t.Fatalf("disable published %v, want %v", got, want)
	}
	rec.SetCheck(nil)
	if _, _, err := s.CreateSession(u.ID, store.NewSession{}); !errors.Is(err, store.ErrUserDisabled) {
		t.Fatalf("sign-in of a disabled user: %v", err)
	}
	if got := rec.Take(); len(got) != 0 {
		t.Fatalf("a failed sign-in published %v", got)
	}
}
