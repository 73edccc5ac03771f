package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"portal/geo"
	"portal/store"
)

var flushTests = []test{
	{"FlushLastActive", testFlushLastActive},
	{"FlushDoesNotResurrect", testFlushDoesNotResurrect},
	{"FlushAfterSweepDoesNotRecreate", testFlushAfterSweepDoesNotRecreate},
	{"Sweep", testSweep},
	{"SweepRecordsExpiry", testSweepRecordsExpiry},
}

// Requests write nothing; a flush writes every touched session in one
// commit, and keeps the later of the stored and the flushed time.
func testFlushLastActive(t *testing.T, open Opener) {
	s, c := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientAdmin)
	sess, token := mustSession(t, s, u.ID, store.NewSession{})
	_, token2 := mustSession(t, s, u.ID, store.NewSession{})
	writes := s.WriteTxCount()
	c.Advance(10 * time.Minute)
	for range 3 {
		wantLive(t, s, token)
		wantLive(t, s, token2)
	}
	if d := s.WriteTxCount() - writes; d != 0 {
		t.Errorf("requests wrote %d transactions", d)
	}
	if n := s.PendingLastActive(); n != 2 {
		t.Errorf("PendingLastActive = %d, want 2", n)
	}
	if n := mustFlush(t, s); n != 2 {
		t.Fatalf("flush = %d, want 2 sessions", n)
	}
	if d := s.WriteTxCount() - writes; d != 1 {
		t.Errorf("the flush took %d commits, want 1", d)
	}
	if n := s.PendingLastActive(); n != 0 {
		t.Errorf("PendingLastActive after the flush = %d", n)
	}
	if n := mustFlush(t, s); n != 0 {
		t.Errorf("an empty flush = %d", n)
	}
	if d := s.WriteTxCount() - writes; d != 1 {
		t.Errorf("an empty flush wrote: %d commits in all, want 1", d)
	}
	// A request dated earlier than what is stored (a clock stepped back,
	// or another instance's older news) does not move the time back.
	c.Set(T0.Add(5 * time.Minute))
	wantLive(t, s, token)
	mustFlush(t, s)
	if got, err := s.UserSession(u.ID, sess.ID); err != nil || !got.LastActive.Equal(T0.Add(10*time.Minute)) {
		t.Errorf("after an earlier request's flush: %v, %v; want the later %v", got.LastActive, err, T0.Add(10*time.Minute))
	}
}

// A request in flight during a revoke cannot bring the session back.
func testFlushDoesNotResurrect(t *testing.T, open Opener) {
	s, c := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientAdmin)
	sess, token := mustSession(t, s, u.ID, store.NewSession{})
	c.Advance(time.Minute)
	wantLive(t, s, token)
	s.SeenFrom(token, geo.Place{Network: "192.0.2.0/24", Masked: "192.0.2.x"})
	ok(t)(s.RevokeUserSession(u.ID, sess.ID, store.ReasonSignedOut))
	mustFlush(t, s)
	wantEnded(t, s, token, store.ReasonSignedOut)
	if list, _ := s.ListUserSessions(u.ID); len(list) != 0 {
		t.Errorf("live after the flush: %v", ids(list))
	}
}

func testFlushAfterSweepDoesNotRecreate(t *testing.T, open Opener) {
	for _, how := range []string{"revoked", "idle"} {
		t.Run(how, func(t *testing.T) {
			s, c := openAt(t, open, Options{})
			u := mustUser(t, s, store.RoleClientAdmin)
			sess, tok := mustSession(t, s, u.ID, store.NewSession{})
			mustSession(t, s, u.ID, store.NewSession{}) // never used again
			c.Advance(time.Minute)
			wantLive(t, s, tok)
			s.SeenFrom(tok, geo.Place{Network: "192.0.2.0/24"})
			if how == "revoked" {
				ok(t)(s.RevokeUserSession(u.ID, sess.ID, store.ReasonSignedOut))
			}
			c.Advance(31 * 24 * time.Hour)
			_, keepTok := mustSession(t, s, u.ID, store.NewSession{})
			if n, err := s.Sweep(30*24*time.Hour, 0); err != nil || n != 2 {
				t.Fatalf("Sweep = %d, %v; want 2", n, err)
			}
			if n := mustFlush(t, s); n != 0 {
				t.Fatalf("FlushLastActive = %d, want 0 written", n)
			}
			if got, err := s.UserSession(u.ID, sess.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("swept session is back: %+v, %v", got, err)
			}
			if _, _, err := s.Authenticate(tok); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Authenticate of a swept session = %v, want ErrNotFound", err)
			}
			if list, _ := s.ListUserSessions(u.ID); len(list) != 1 {
				t.Errorf("%d live sessions, want 1", len(list))
			}
			wantLive(t, s, keepTok)
			mustCheck(t, s)
		})
	}
}

func testSweep(t *testing.T, open Opener) {
	s, c := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientAdmin)
	revoked, _ := mustSession(t, s, u.ID, store.NewSession{})
	ok(t)(s.RevokeUserSession(u.ID, revoked.ID, store.ReasonSignedOut))
	idle, _ := mustSession(t, s, u.ID, store.NewSession{})
	active, activeTok := mustSession(t, s, u.ID, store.NewSession{})
	for range 4 {
		c.Advance(20 * time.Minute)
		wantLive(t, s, activeTok) // unflushed: the sweep must count it
	}
	// 80 minutes on: the revoked one ended 80 ago, the idle one 50 ago.
	for _, tc := range []struct {
		retention time.Duration
		want      int
	}{{2 * time.Hour, 0}, {time.Hour, 1}, {40 * time.Minute, 1}, {0, 0}} {
		if n, err := s.Sweep(tc.retention, 1); err != nil || n != tc.want {
			t.Errorf("Sweep(%v) = %d, %v; want %d", tc.retention, n, err, tc.want)
		}
	}
	for _, id := range []string{revoked.ID, idle.ID} {
		if _, err := s.UserSession(u.ID, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("swept session %s: %v, want ErrNotFound", id, err)
		}
	}
	if _, err := s.UserSession(u.ID, active.ID); err != nil {
		t.Errorf("the active session: %v", err)
	}
	wantLive(t, s, activeTok)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.SweepContext(ctx, 0, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("SweepContext after cancel: %v, want context.Canceled", err)
	}
	mustCheck(t, s)
}

// The sweeper records expiries no request noticed, dated when they
// happened, with their events.
func testSweepRecordsExpiry(t *testing.T, open Opener) {
	s, c := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientAdmin)
	var made []store.Session
	for range 3 {
		sess, _ := mustSession(t, s, u.ID, store.NewSession{})
		made = append(made, sess)
	}
	c.Advance(time.Hour)
	if n, err := s.Sweep(24*time.Hour, 2); err != nil || n != 0 {
		t.Fatalf("Sweep = %d, %v", n, err)
	}
	for _, sess := range made {
		got, err := s.UserSession(u.ID, sess.ID)
		if err != nil || got.EndReason != store.ReasonIdle || !got.EndedAt.Equal(T0.Add(testPolicy.IdleTimeout)) {
			t.Errorf("after the sweep: %q at %v, %v; want idle at %v", got.EndReason, got.EndedAt, err, T0.Add(testPolicy.IdleTimeout))
		}
	}
	if p, _ := s.UserEvents(u.ID, store.EventQuery{Kinds: []store.EventKind{store.EventEnded}}); p.Total != 3 {
		t.Errorf("%d ended events, want 3", p.Total)
	}
}
