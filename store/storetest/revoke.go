package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"portal/store"
)

var revokeTests = []test{
	{"RevokeUserSession", testRevokeUserSession},
	{"RevokeAlreadyExpired", testRevokeAlreadyExpired},
	{"RevokeOwnership", testRevokeOwnership},
	{"RevokeOthersAndAll", testRevokeOthersAndAll},
	{"SessionCap", testSessionCap},
	{"SessionCapConcurrent", testSessionCapConcurrent},
}

func testRevokeUserSession(t *testing.T, open Opener) {
	s, c := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientAdmin)
	a, aToken := mustSession(t, s, u.ID, store.NewSession{})
	b, bToken := mustSession(t, s, u.ID, store.NewSession{})
	wantLive(t, s, bToken) // cached: the revoke must reach the cache
	c.Advance(time.Minute)
	got, err := s.RevokeUserSessionBy(u.ID, b.ID, store.ReasonRevoked, store.Actor{Session: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != b.ID || got.EndReason != store.ReasonRevoked || !got.EndedAt.Equal(T0.Add(time.Minute)) {
		t.Errorf("revoked session %+v", got)
	}
	wantEnded(t, s, bToken, store.ReasonRevoked)
	if _, _, err := s.Peek(bToken); reasonOf(err) != store.ReasonRevoked {
		t.Errorf("Peek of the revoked session: %v", err)
	}
	wantLive(t, s, aToken)
	// Again: it keeps its first end, and no second event is written.
	again, err := s.RevokeUserSession(u.ID, b.ID, store.ReasonSignedOut)
	if err != nil || again.EndReason != store.ReasonRevoked || !again.EndedAt.Equal(T0.Add(time.Minute)) {
		t.Errorf("second revoke = %+v, %v", again, err)
	}
	if list, _ := s.ListUserSessions(u.ID); len(list) != 1 || list[0].ID != a.ID {
		t.Errorf("ListUserSessions = %v, want only a", ids(list))
	}
	if x, err := s.UserSession(u.ID, b.ID); err != nil || x.EndReason != store.ReasonRevoked {
		t.Errorf("UserSession of the revoked one = %+v, %v", x, err)
	}
	p, _ := s.UserEvents(u.ID, store.EventQuery{Kinds: []store.EventKind{store.EventEnded}})
	if p.Total != 1 || p.Events[0].By.Session != a.ID || p.Events[0].SessionID != b.ID || p.Events[0].Reason != store.ReasonRevoked {
		t.Errorf("ended events %+v", p.Events)
	}
}

func testRevokeAlreadyExpired(t *testing.T, open Opener) {
	s, c := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientAdmin)
	sess, token := mustSession(t, s, u.ID, store.NewSession{})
	c.Advance(time.Hour)
	got, err := s.RevokeUserSession(u.ID, sess.ID, store.ReasonSignedOut)
	if err != nil {
		t.Fatal(err)
	}
	if at := T0.Add(testPolicy.IdleTimeout); got.EndReason != store.ReasonIdle || !got.EndedAt.Equal(at) {
		t.Errorf("revoke of an expired session recorded %s at %v, want idle at %v", got.EndReason, got.EndedAt, at)
	}
	wantEnded(t, s, token, store.ReasonIdle)
}

// Another user's session id is not found, and nothing changes.
func testRevokeOwnership(t *testing.T, open Opener) {
	s, _ := openAt(t, open, Options{})
	u, other := mustUser(t, s, store.RoleClientAdmin), mustUser(t, s, store.RoleClientAdmin)
	theirs, theirToken := mustSession(t, s, other.ID, store.NewSession{})
	mine, _ := mustSession(t, s, u.ID, store.NewSession{})
	versionBefore, err := s.UserEventsVersion(other.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeUserSession(u.ID, theirs.ID, store.ReasonRevoked); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RevokeUserSession of another user's session: %v, want ErrNotFound", err)
	}
	if _, err := s.RevokeUserSessionBy(u.ID, theirs.ID, store.ReasonRevoked, store.Actor{Session: mine.ID}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RevokeUserSessionBy of another user's session: %v, want ErrNotFound", err)
	}
	if n, err := s.RevokeOtherSessions(u.ID, theirs.ID, store.ReasonRevokedAll); err != nil || n != 1 {
		t.Errorf("RevokeOtherSessions keeping another user's session = %d, %v; want mine revoked", n, err)
	}
	wantLive(t, s, theirToken)
	if x, err := s.UserSession(other.ID, theirs.ID); err != nil || !x.EndedAt.IsZero() {
		t.Errorf("their session after the refused revokes: %+v, %v", x, err)
	}
	if v, _ := s.UserEventsVersion(other.ID); v != versionBefore {
		t.Errorf("their security activity moved on: %d, want %d", v, versionBefore)
	}
	if p, _ := s.UserEvents(other.ID, store.EventQuery{Kinds: []store.EventKind{store.EventEnded}}); p.Total != 0 {
		t.Errorf("their ended events %+v", p.Events)
	}
}

func testRevokeOthersAndAll(t *testing.T, open Opener) {
	s, _ := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientAdmin)
	other := mustUser(t, s, store.RoleClientAdmin)
	_, otherToken := mustSession(t, s, other.ID, store.NewSession{})
	keep, keepToken := mustSession(t, s, u.ID, store.NewSession{})
	var tokens []string
	for range 3 {
		_, tok := mustSession(t, s, u.ID, store.NewSession{})
		wantLive(t, s, tok)
		tokens = append(tokens, tok)
	}
	if n, err := s.RevokeOtherSessions(u.ID, keep.ID, store.ReasonRevokedAll); err != nil || n != 3 {
		t.Fatalf("RevokeOtherSessions = %d, %v; want 3", n, err)
	}
	for _, tok := range tokens {
		wantEnded(t, s, tok, store.ReasonRevokedAll)
	}
	wantLive(t, s, keepToken)
	if n, err := s.RevokeOtherSessions(u.ID, keep.ID, store.ReasonRevokedAll); err != nil || n != 0 {
		t.Errorf("RevokeOtherSessions again = %d, %v; want 0", n, err)
	}
	if n, err := s.RevokeAllUserSessions(u.ID, store.ReasonEverywhere); err != nil || n != 1 {
		t.Fatalf("RevokeAllUserSessions = %d, %v; want 1", n, err)
	}
	wantEnded(t, s, keepToken, store.ReasonEverywhere)
	wantLive(t, s, otherToken)
	if n, err := s.RevokeAllUserSessions(u.ID, store.ReasonEverywhere); err != nil || n != 0 {
		t.Errorf("again = %d, %v; want 0", n, err)
	}
	if p, _ := s.UserEvents(u.ID, store.EventQuery{Kinds: []store.EventKind{store.EventEnded}}); p.Total != 4 {
		t.Errorf("%d ended events, want 4", p.Total)
	}
}

func testSessionCap(t *testing.T, open Opener) {
	s, c := openAt(t, open, Options{MaxSessionsPerUser: 2})
	if s.SessionLimit() != 2 {
		t.Errorf("SessionLimit = %d, want 2", s.SessionLimit())
	}
	u := mustUser(t, s, store.RoleClientAdmin)
	_, first := mustSession(t, s, u.ID, store.NewSession{})
	c.Advance(time.Minute)
	_, second := mustSession(t, s, u.ID, store.NewSession{})
	c.Advance(time.Minute)
	wantLive(t, s, first) // now the first is the more recently active, unflushed
	c.Advance(time.Minute)
	third, thirdToken := mustSession(t, s, u.ID, store.NewSession{})
	wantEnded(t, s, second, store.ReasonSessionLimit)
	wantLive(t, s, first)
	wantLive(t, s, thirdToken)
	p, _ := s.UserEvents(u.ID, store.EventQuery{Kinds: []store.EventKind{store.EventEnded}})
	if p.Total != 1 || p.Events[0].By.Session != third.ID || p.Events[0].Reason != store.ReasonSessionLimit {
		t.Errorf("cap events %+v, want one naming the new session", p.Events)
	}
	if list, _ := s.ListUserSessions(u.ID); len(list) != 2 {
		t.Errorf("%d live sessions, want the cap", len(list))
	}
}

// Sign-ins of one user at the cap, released together, never leave more
// live sessions than the cap nor lose a revoke.
func testSessionCapConcurrent(t *testing.T, open Opener) {
	const limit, workers, each = 3, 4, 5
	s, _ := openAt(t, open, Options{MaxSessionsPerUser: limit})
	u := mustUser(t, s, store.RoleClientAdmin)
	for range limit {
		mustSession(t, s, u.ID, store.NewSession{})
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			<-start
			for range each {
				if _, _, err := s.CreateSession(u.ID, store.NewSession{}); err != nil {
					t.Errorf("CreateSession: %v", err)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if list, err := s.ListUserSessions(u.ID); err != nil || len(list) != limit {
		t.Errorf("%d live sessions after racing sign-ins, %v; want the cap %d", len(list), err, limit)
	}
	p, err := s.UserEvents(u.ID, store.EventQuery{Kinds: []store.EventKind{store.EventEnded}})
	if want := workers * each; err != nil || p.Total != want {
		t.Errorf("%d sessions ended, %v; want %d", p.Total, err, want)
	}
	for page := 1; page <= p.Pages; page++ {
		p, _ := s.UserEvents(u.ID, store.EventQuery{Kinds: []store.EventKind{store.EventEnded}, Page: page})
		for _, e := range p.Events {
			if e.Reason != store.ReasonSessionLimit {
				t.Errorf("ended event %+v, want the cap's", e)
			}
		}
	}
	mustCheck(t, s)
}
