package bolt

import (
	"errors"
	"testing"
	"time"

	"portal/device"
	"portal/geo"
	"portal/store"
)

func TestValidateDoesNotWriteAndFlushWritesOnce(t *testing.T) {
	c := newClock()
	opts := Options{Now: c.Now, Policy: testPolicy}
	s := MustOpen(t, opts)
	u := mustUser(t, s, store.RoleClientAdmin)
	const n = 10
	var ids, tokens []string
	for range n {
		sess, tok := mustSession(t, s, u.ID, store.NewSession{})
		ids, tokens = append(ids, sess.ID), append(tokens, tok)
	}

	before := s.WriteTxCount()
	for round := range 10 { // the first round misses the cache, the rest hit it
		c.Advance(time.Second)
		for _, tok := range tokens {
			if _, err := s.sessionFor(tok); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
	if d := s.WriteTxCount() - before; d != 0 {
		t.Fatalf("100 validations made %d write transactions, want 0", d)
	}
	if p := s.PendingLastActive(); p != n {
		t.Errorf("PendingLastActive = %d, want %d", p, n)
	}
	lastSeen := c.Now()

	flushed, err := s.FlushLastActive()
	if err != nil {
		t.Fatal(err)
	}
	if flushed != n {
		t.Errorf("FlushLastActive updated %d sessions, want %d", flushed, n)
	}
	if d := s.WriteTxCount() - before; d != 1 {
		t.Errorf("FlushLastActive of %d sessions took %d write transactions, want 1", n, d)
	}
	if p := s.PendingLastActive(); p != 0 {
		t.Errorf("PendingLastActive after flush = %d, want 0", p)
	}

	// Nothing pending: no transaction at all.
	if flushed, err := s.FlushLastActive(); err != nil || flushed != 0 {
		t.Errorf("empty FlushLastActive = %d, %v; want 0", flushed, err)
	}
	if d := s.WriteTxCount() - before; d != 1 {
		t.Errorf("an empty flush wrote: %d write transactions in all, want 1", d)
	}

	// Validating again without time passing queues nothing new worth
	// writing; the flush updates nothing.
	for _, tok := range tokens[:3] {
		wantLive(t, s, tok)
	}
	if flushed, err := s.FlushLastActive(); err != nil || flushed != 0 {
		t.Errorf("flush without newer activity = %d, %v; want 0", flushed, err)
	}

	// What the flush wrote is what a cold start reads.
	s = reopen(t, s, opts)
	for i, id := range ids {
		got, err := s.UserSession(u.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		if !got.LastActive.Equal(lastSeen) {
			t.Errorf("session %d LastActive after reopen = %v, want %v", i, got.LastActive, lastSeen)
		}
	}
}

func TestCloseFlushes(t *testing.T) {
	c := newClock()
	opts := Options{Now: c.Now, Policy: testPolicy}
	s := MustOpen(t, opts)
	u := mustUser(t, s, store.RoleClientAdmin)
	sess, tok := mustSession(t, s, u.ID, store.NewSession{})
	c.Advance(10 * time.Minute)
	wantLive(t, s, tok)
	s = reopen(t, s, opts)
	got, err := s.UserSession(u.ID, sess.ID)
	if err != nil || !got.LastActive.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("LastActive after Close = %v, %v; want %v", got.LastActive, err, t0.Add(10*time.Minute))
	}
}

// FlushLastActive must never write a session that was revoked after its
// activity was queued: the revoke's reason and time stand.
func TestFlushDoesNotResurrect(t *testing.T) {
	revokes := []struct {
		name   string
		reason store.Reason
		revoke func(s *Store, u store.User, sess store.Session) error
	}{
		{"RevokeUserSession", store.ReasonRevoked, func(s *Store, u store.User, sess store.Session) error {
			_, err := s.RevokeUserSession(u.ID, sess.ID, store.ReasonRevoked)
			return err
		}},
		{"RevokeOtherSessions", store.ReasonRevokedAll, func(s *Store, u store.User, sess store.Session) error {
			_, err := s.RevokeOtherSessions(u.ID, store.NewID(), store.ReasonRevokedAll)
			return err
		}},
		{"RevokeAllUserSessions", store.ReasonEverywhere, func(s *Store, u store.User, sess store.Session) error {
			_, err := s.RevokeAllUserSessions(u.ID, store.ReasonEverywhere)
			return err
		}},
		{"SetUserDisabled", store.ReasonUserDisabled, func(s *Store, u store.User, sess store.Session) error {
			_, err := s.SetUserDisabled(u.ID, true)
			return err
		}},
		{"SetPasswordHash", store.ReasonPasswordChanged, func(s *Store, u store.User, sess store.Session) error {
			_, err := s.SetPasswordHash(u.ID, "new", true, "")
			return err
		}},
	}
	for _, rv := range revokes {
		t.Run(rv.name, func(t *testing.T) {
			c := newClock()
			opts := Options{Now: c.Now, Policy: testPolicy}
			s := MustOpen(t, opts)
			u := mustUser(t, s, store.RoleClientAdmin)
			sess, tok := mustSession(t, s, u.ID, store.NewSession{Place: geo.Place{Network: "198.51.100.0/24"}})
			c.Advance(time.Minute)
			wantLive(t, s, tok) // queues activity
			s.SeenFrom(tok, geo.Place{Network: "192.0.2.0/24"})
			if s.PendingLastActive() != 1 {
				t.Fatalf("PendingLastActive = %d, want 1", s.PendingLastActive())
			}
			h := store.HashToken(tok)
			inFlight := s.InFlight(h)
			if inFlight == nil {
				t.Fatal("the validated session is not cached")
			}
			c.Advance(time.Minute)
			if err := rv.revoke(s, u, sess); err != nil {
				t.Fatal(err)
			}
			revokedAt := c.Now()
			atRevoke, err := s.UserSession(u.ID, sess.ID)
			if err != nil {
				t.Fatal(err)
			}
			// Requests that were in flight during the revoke: one had
			// already loaded the cached entry and touches it now, another
			// reports a new network after the revoke dropped the entry.
			c.Advance(time.Minute)
			inFlight.Touch(c.Now())
			inFlight.SeenFrom(geo.Place{Network: "203.0.113.0/24"})
			s.Queue(h, inFlight)
			s.SeenFrom(tok, geo.Place{Network: "203.0.113.0/24"})
			c.Advance(time.Minute)
			if n, err := s.FlushLastActive(); err != nil || n != 0 {
				t.Fatalf("FlushLastActive = %d, %v; want nothing written", n, err)
			}
			check := func() {
				t.Helper()
				wantEnded(t, s, tok, rv.reason)
				got, err := s.UserSession(u.ID, sess.ID)
				if err != nil {
					t.Fatal(err)
				}
				if !got.EndedAt.Equal(revokedAt) || got.EndReason != rv.reason {
					t.Errorf("after flush: revoked %v/%s, want %v/%s", got.EndedAt, got.EndReason, revokedAt, rv.reason)
				}
				if got.LastPlace.Network == "203.0.113.0/24" {
					t.Errorf("activity after the revoke was written: %+v", got.LastPlace)
				}
				if !got.LastActive.Equal(atRevoke.LastActive) {
					t.Errorf("LastActive moved from %v to %v after the revoke", atRevoke.LastActive, got.LastActive)
				}
			}
			check()
			s = reopen(t, s, opts)
			check()
			mustCheck(t, s)
		})
	}
}

// A flush must not recreate a session the sweeper deleted after its
// activity was queued.
func TestFlushAfterSweepDoesNotRecreate(t *testing.T) {
	for _, how := range []string{"revoked", "idle"} {
		t.Run(how, func(t *testing.T) {
			c := newClock()
			opts := Options{Now: c.Now, Policy: testPolicy}
			s := MustOpen(t, opts)
			u := mustUser(t, s, store.RoleClientAdmin)
			sess, tok := mustSession(t, s, u.ID, store.NewSession{})
			mustSession(t, s, u.ID, store.NewSession{}) // never used again: idle long before the sweep
			c.Advance(time.Minute)
			wantLive(t, s, tok)
			s.SeenFrom(tok, geo.Place{Network: "192.0.2.0/24"})
			if how == "revoked" {
				if _, err := s.RevokeUserSession(u.ID, sess.ID, store.ReasonSignedOut); err != nil {
					t.Fatal(err)
				}
			}
			c.Advance(31 * 24 * time.Hour)
			_, keepTok := mustSession(t, s, u.ID, store.NewSession{}) // the user keeps one live session
			deleted, err := s.Sweep(30*24*time.Hour, 0)
			if err != nil {
				t.Fatal(err)
			}
			if deleted != 2 { // sess and the other session, long idle
				t.Fatalf("Sweep deleted %d, want 2", deleted)
			}
			if s.PendingLastActive() == 0 {
				t.Fatal("the test needs activity still pending at the flush")
			}
			if n, err := s.FlushLastActive(); err != nil || n != 0 {
				t.Fatalf("FlushLastActive = %d, %v; want 0 written", n, err)
			}
			for pass := range 2 {
				if pass == 1 {
					s = reopen(t, s, opts)
				}
				mustCheck(t, s)
				if got, err := s.UserSession(u.ID, sess.ID); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("swept session is back: %+v, %v", got, err)
				}
				if _, err := s.sessionFor(tok); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("sessionFor of a swept session = %v, want ErrNotFound", err)
				}
				if live := mustList(t, s, u.ID); len(live) != 1 {
					t.Errorf("%d live sessions, want 1", len(live))
				}
				wantLive(t, s, keepTok)
			}
		})
	}
}

func TestSeenFrom(t *testing.T) {
	c := newClock()
	opts := Options{Now: c.Now, Policy: testPolicy}
	s := MustOpen(t, opts)
	u := mustUser(t, s, store.RoleClientAdmin)
	first := geo.Place{Network: "198.51.100.0/24", Masked: "198.51.100.x", Location: geo.Location{City: "Oslo", CountryCode: "NO"}}
	second := geo.Place{Network: "2001:db8:1::/48", Masked: "2001:db8:1::x", Location: geo.Location{City: "Bergen", CountryCode: "NO"}}
	sess, tok := mustSession(t, s, u.ID, store.NewSession{Place: first})

	// Not in the cache yet: SeenFrom is documented to need a validated
	// session, and must not queue or panic for one it has not seen.
	s.SeenFrom(tok, second)
	s.SeenFrom(store.NewToken(), second)
	s.SeenFrom("", second)
	if p := s.PendingLastActive(); p != 0 {
		t.Fatalf("SeenFrom of uncached tokens queued %d", p)
	}

	c.Advance(time.Minute)
	wantLive(t, s, tok)
	s.SeenFrom(tok, second)
	got := wantLive(t, s, tok)
	if got.LastPlace != second || got.FirstPlace != first {
		t.Errorf("sessionFor after SeenFrom: first %+v last %+v; want %+v, %+v", got.FirstPlace, got.LastPlace, first, second)
	}
	if live := mustList(t, s, u.ID); len(live) != 1 || live[0].LastPlace != second {
		t.Errorf("ListUserSessions before flush shows %+v, want LastPlace %+v", live, second)
	}
	before := s.WriteTxCount()
	if n, err := s.FlushLastActive(); err != nil || n != 1 {
		t.Fatalf("FlushLastActive = %d, %v; want 1", n, err)
	}
	if d := s.WriteTxCount() - before; d != 1 {
		t.Errorf("flush took %d write transactions", d)
	}

	s = reopen(t, s, opts)
	stored, err := s.UserSession(u.ID, sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.FirstPlace != first || stored.LastPlace != second {
		t.Errorf("after reopen: first %+v last %+v; want %+v, %+v", stored.FirstPlace, stored.LastPlace, first, second)
	}
	if !stored.LastActive.Equal(t0.Add(time.Minute)) {
		t.Errorf("after reopen LastActive %v, want %v", stored.LastActive, t0.Add(time.Minute))
	}

	// A SeenFrom alone (no newer last-active) is still written.
	wantLive(t, s, tok)
	if _, err := s.FlushLastActive(); err != nil {
		t.Fatal(err)
	}
	s.SeenFrom(tok, first)
	if n, err := s.FlushLastActive(); err != nil || n != 1 {
		t.Fatalf("FlushLastActive of a place change alone = %d, %v; want 1", n, err)
	}
	s = reopen(t, s, opts)
	if stored, _ := s.UserSession(u.ID, sess.ID); stored.LastPlace != first || stored.FirstPlace != first {
		t.Errorf("after second move: first %+v last %+v; want both %+v", stored.FirstPlace, stored.LastPlace, first)
	}
}

// TestActivitySurvivesEviction: a session's new network and browser, seen
// but not yet flushed, must reach the disk even when the cache evicts the
// session and a later request loads it again before the flush.
func TestActivitySurvivesEviction(t *testing.T) {
	c := newClock()
	opts := Options{Now: c.Now, Policy: testPolicy, CacheSize: 1}
	s := MustOpen(t, opts)
	u := mustUser(t, s, store.RoleClientAdmin)
	first := geo.Place{Network: "198.51.100.0/24", Masked: "198.51.100.x", Location: geo.Location{City: "Oslo", CountryCode: "NO"}}
	moved := geo.Place{Network: "203.0.113.0/24", Masked: "203.0.113.x", Location: geo.Location{City: "Berlin", CountryCode: "DE"}}
	updated := store.Agent{UserAgent: "Firefox/200", Device: device.Info{Browser: "Firefox", BrowserVersion: "200"}}
	sess, tok := mustSession(t, s, u.ID, store.NewSession{Place: first})
	_, other := mustSession(t, s, u.ID, store.NewSession{Place: first})

	c.Advance(time.Minute)
	wantLive(t, s, tok)
	s.SeenFrom(tok, moved)
	s.SeenWith(tok, updated)
	wantLive(t, s, other) // the cache holds one session: tok's entry is evicted
	c.Advance(time.Minute)
	if got := wantLive(t, s, tok); got.LastPlace != moved || got.UserAgent != updated.UserAgent {
		t.Fatalf("reloaded after eviction: place %+v agent %q; want %+v, %q", got.LastPlace, got.UserAgent, moved, updated.UserAgent)
	}
	if _, err := s.FlushLastActive(); err != nil {
		t.Fatal(err)
	}

	s = reopen(t, s, opts)
	stored, err := s.UserSession(u.ID, sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.LastPlace != moved || stored.UserAgent != updated.UserAgent || stored.Device != updated.Device {
		t.Errorf("after flush and reopen: place %+v, agent %q %+v; want %+v, %q", stored.LastPlace, stored.UserAgent, stored.Device, moved, updated.UserAgent)
	}
	if !stored.LastActive.Equal(t0.Add(2 * time.Minute)) {
		t.Errorf("after flush and reopen: last active %v, want %v", stored.LastActive, t0.Add(2*time.Minute))
	}
}
