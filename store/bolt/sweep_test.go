package bolt

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"portal/store"
)

func TestSweep(t *testing.T) {
	const (
		day       = 24 * time.Hour
		retention = 30 * day
		batch     = 7
	)
	policy := store.Policy{IdleTimeout: 2 * time.Hour, MaxLifetime: 60 * day}
	now := t0.Add(365 * day) // the sweep runs at now; setups happen before it
	c := newClock()
	opts := Options{Now: c.Now, Policy: policy}
	s := MustOpen(t, opts)
	var users []store.User
	for range 5 {
		users = append(users, mustUser(t, s, store.RoleClientStaff))
	}

	type kind struct {
		name    string
		n       int
		deleted bool
		reason  store.Reason // what sessionFor says of a kept one; "" for live
		make    func(u store.User) (store.Session, string)
	}
	// create records a session signed in at created and last active at
	// active, and leaves the clock at now.
	create := func(u store.User, created, active time.Time) (store.Session, string) {
		c.Set(active)
		sess, tok := mustSession(t, s, u.ID, store.NewSession{CreatedAt: created, LastActive: active})
		c.Set(now)
		return sess, tok
	}
	revokedAt := func(at time.Time) func(store.User) (store.Session, string) {
		return func(u store.User) (store.Session, string) {
			sess, tok := create(u, at.Add(-time.Hour), at.Add(-time.Minute))
			c.Set(at)
			if _, err := s.RevokeUserSession(u.ID, sess.ID, store.ReasonSignedOut); err != nil {
				t.Fatal(err)
			}
			c.Set(now)
			return sess, tok
		}
	}
	kinds := []kind{
		{"live", 8, false, "", func(u store.User) (store.Session, string) {
			sess, tok := create(u, now.Add(-time.Hour), now.Add(-time.Hour))
			c.Set(now.Add(-10 * time.Minute))
			wantLive(t, s, tok) // activity in memory, flushed below
			c.Set(now)
			return sess, tok
		}},
		{"revoked 31 days ago", 7, true, "", revokedAt(now.Add(-31 * day))},
		{"revoked exactly 30 days ago", 3, true, "", revokedAt(now.Add(-retention))},
		{"revoked a minute short of 30 days ago", 3, false, store.ReasonSignedOut, revokedAt(now.Add(-retention + time.Minute))},
		{"revoked 1 day ago", 7, false, store.ReasonSignedOut, revokedAt(now.Add(-day))},
		{"idle 40 days ago", 7, true, "", func(u store.User) (store.Session, string) {
			return create(u, now.Add(-40*day-time.Hour), now.Add(-40*day))
		}},
		{"idle 5 days ago", 5, false, store.ReasonIdle, func(u store.User) (store.Session, string) {
			return create(u, now.Add(-5*day-time.Hour), now.Add(-5*day))
		}},
		{"lifetime ended 31 days ago, though active", 5, true, "", func(u store.User) (store.Session, string) {
			return create(u, now.Add(-policy.MaxLifetime-31*day), now.Add(-31*day-time.Hour))
		}},
		{"lifetime ended 1 day ago, though active", 5, false, store.ReasonLifetime, func(u store.User) (store.Session, string) {
			return create(u, now.Add(-policy.MaxLifetime-day), now.Add(-day-time.Hour))
		}},
	}
	type made struct {
		kind  kind
		user  store.User
		sess  store.Session
		token string
	}
	var all []made
	wantDeleted := 0
	for _, k := range kinds {
		for range k.n {
			u := users[len(all)%len(users)]
			sess, tok := k.make(u)
			all = append(all, made{k, u, sess, tok})
			if k.deleted {
				wantDeleted++
			}
		}
	}
	if len(all) != 50 || wantDeleted != 22 {
		t.Fatalf("setup made %d sessions, %d to delete; want 50 and 22", len(all), wantDeleted)
	}
	if _, err := s.FlushLastActive(); err != nil {
		t.Fatal(err)
	}
	mustCheck(t, s)

	c.Set(now)
	before := s.WriteTxCount()
	deleted, err := s.Sweep(retention, batch)
	if err != nil {
		t.Fatal(err)
	}
	if deleted != wantDeleted {
		t.Errorf("Sweep deleted %d, want %d", deleted, wantDeleted)
	}
	if txs := s.WriteTxCount() - before; txs < 2 {
		t.Errorf("Sweep used %d write transactions, want one per batch with something to delete (batches of %d)", txs, batch)
	}
	mustCheck(t, s)
	// A sweep that finds nothing to delete writes nothing.
	before = s.WriteTxCount()
	if n, err := s.Sweep(retention, batch); err != nil || n != 0 || s.WriteTxCount() != before {
		t.Errorf("second Sweep deleted %d (%v) with %d write transactions, want 0 and none", n, err, s.WriteTxCount()-before)
	}

	check := func(s *Store) {
		t.Helper()
		for i, m := range all {
			label := fmt.Sprintf("session %d (%s)", i, m.kind.name)
			got, err := s.UserSession(m.user.ID, m.sess.ID)
			if m.kind.deleted {
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("%s: still there after the sweep: %v", label, err)
				}
				if _, err := s.sessionFor(m.token); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("%s: sessionFor = %v, want ErrNotFound", label, err)
				}
				continue
			}
			if err != nil || got.ID != m.sess.ID {
				t.Errorf("%s: swept by mistake: %v", label, err)
				continue
			}
			_, err = s.sessionFor(m.token)
			switch {
			case m.kind.reason == "" && err != nil:
				t.Errorf("%s: sessionFor = %v, want live", label, err)
			case m.kind.reason != "":
				var ended *store.EndedError
				if !errors.As(err, &ended) || ended.Reason != m.kind.reason {
					t.Errorf("%s: sessionFor = %v, want ended (%s)", label, err, m.kind.reason)
				}
			}
		}
		for _, u := range users {
			for _, x := range mustList(t, s, u.ID) {
				if x.UserID != u.ID {
					t.Errorf("user %s lists session %s of %s", u.ID, x.ID, x.UserID)
				}
			}
		}
	}
	check(s)

	// Nothing more to do: a second sweep deletes nothing.
	if n, err := s.Sweep(retention, batch); err != nil || n != 0 {
		t.Errorf("second Sweep = %d, %v; want 0", n, err)
	}
	s = reopen(t, s, opts)
	mustCheck(t, s)
	check(s)
}

func TestSweepBatchSizes(t *testing.T) {
	for _, batch := range []int{-1, 0, 1, 2, 49, 50, 51, 1000} {
		t.Run(fmt.Sprint(batch), func(t *testing.T) {
			c := newClock()
			s := MustOpen(t, Options{Now: c.Now, Policy: testPolicy})
			u := mustUser(t, s, store.RoleClientAdmin)
			var keep []string
			for i := range 50 {
				sess, tok := mustSession(t, s, u.ID, store.NewSession{})
				if i%2 == 0 {
					if _, err := s.RevokeUserSession(u.ID, sess.ID, store.ReasonSignedOut); err != nil {
						t.Fatal(err)
					}
				} else {
					keep = append(keep, tok)
				}
			}
			c.Advance(10 * time.Minute)
			for _, tok := range keep {
				wantLive(t, s, tok)
			}
			n, err := s.Sweep(time.Minute, batch)
			if err != nil || n != 25 {
				t.Fatalf("Sweep(batch %d) = %d, %v; want 25", batch, n, err)
			}
			for _, tok := range keep {
				wantLive(t, s, tok)
			}
			mustCheck(t, s)
		})
	}
}

// The sweeper must judge idleness with activity still in memory: a session
// in use whose last-active was not flushed is not idle.
func TestSweepKeepsUnflushedActivity(t *testing.T) {
	c := newClock()
	s := MustOpen(t, Options{Now: c.Now, Policy: store.Policy{IdleTimeout: 30 * time.Minute}})
	u := mustUser(t, s, store.RoleClientAdmin)
	_, tok := mustSession(t, s, u.ID, store.NewSession{})
	// Used every 20 minutes for two days, with no flush in between (as if
	// every flush had failed).
	for range 2 * 24 * 3 {
		c.Advance(20 * time.Minute)
		wantLive(t, s, tok)
	}
	if n, err := s.Sweep(24*time.Hour, 0); err != nil || n != 0 {
		t.Fatalf("Sweep = %d, %v; want 0: the session is in use", n, err)
	}
	wantLive(t, s, tok)
}

func TestSweepStopsWhenCancelled(t *testing.T) {
	c := newClock()
	s := MustOpen(t, Options{Now: c.Now, Policy: store.Policy{IdleTimeout: time.Hour, MaxLifetime: 24 * time.Hour}})
	u := mustUser(t, s, store.RoleClientStaff)
	if _, _, err := s.CreateSession(u.ID, store.NewSession{}); err != nil {
		t.Fatal(err)
	}
	c.Advance(48 * time.Hour) // long expired
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n, err := s.SweepContext(ctx, time.Hour, 10); !errors.Is(err, context.Canceled) || n != 0 {
		t.Fatalf("cancelled sweep = %d, %v", n, err)
	}
	if n, err := s.SweepContext(context.Background(), time.Hour, 10); err != nil || n != 1 {
		t.Fatalf("sweep = %d, %v; want the expired session deleted", n, err)
	}
}
