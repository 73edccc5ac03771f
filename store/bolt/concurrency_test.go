package bolt

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portal/geo"
	"portal/store"
)

// TestConcurrentUse runs validations, SeenFrom, flushes, sweeps, listings,
// sign-ins and revokes of one user's sessions at once (run it with -race),
// then checks that no revoke was lost or undone and the indexes agree.
func TestConcurrentUse(t *testing.T) {
	c := newClock()
	opts := Options{Now: c.Now, Policy: testPolicy}
	s := MustOpen(t, opts)
	u := mustUser(t, s, store.RoleClientAdmin)
	bystander := mustUser(t, s, store.RoleClientAdmin)

	const n = 50
	const keep = 7 // RevokeOtherSessions keeps this one; no single revoke touches it
	ids := make([]string, n)
	tokens := make([]string, n)
	for i := range n {
		sess, tok := mustSession(t, s, u.ID, store.NewSession{Place: geo.Place{Network: "198.51.100.0/24"}})
		ids[i], tokens[i] = sess.ID, tok
	}
	var bystanderTokens []string
	for range 5 {
		_, tok := mustSession(t, s, bystander.ID, store.NewSession{})
		bystanderTokens = append(bystanderTokens, tok)
	}

	type result struct {
		at     time.Time
		reason store.Reason
	}
	var (
		mu       sync.Mutex
		returned = map[int]result{} // what revoke calls returned, per session
		// revokedBefore[i] is set once a revoke of session i has returned:
		// from then on no sessionFor may accept it.
		revokedBefore [n]atomic.Bool
		othersEnded   atomic.Int64 // what RevokeOtherSessions reported
		othersDone    atomic.Bool
		created       []string // tokens of sessions signed in during the run
		createdIDs    []string
	)
	record := func(i int, sess store.Session) {
		mu.Lock()
		defer mu.Unlock()
		r := result{sess.EndedAt, sess.EndReason}
		if r.at.IsZero() || (r.reason != store.ReasonRevoked && r.reason != store.ReasonRevokedAll) {
			t.Errorf("revoke of %d returned %v/%q", i, r.at, r.reason)
		}
		if prev, ok := returned[i]; ok && (!prev.at.Equal(r.at) || prev.reason != r.reason) {
			t.Errorf("two revokes of %d returned different endings: %v/%s and %v/%s", i, prev.at, prev.reason, r.at, r.reason)
		}
		returned[i] = r
	}

	var wg sync.WaitGroup
	start := make(chan struct{})
	spawn := func(name string, fn func(r *rand.Rand)) {
		wg.Add(1)
		seed := uint64(len(name)) * 7919
		go func() {
			defer wg.Done()
			<-start
			fn(rand.New(rand.NewPCG(seed, uint64(time.Now().UnixNano()))))
		}()
	}

	// 8 validators, some also reporting a new network.
	for g := range 8 {
		spawn(fmt.Sprintf("validator%d", g), func(r *rand.Rand) {
			for range 1500 {
				i := r.IntN(n)
				wasRevoked := revokedBefore[i].Load()
				sess, err := s.sessionFor(tokens[i])
				switch {
				case err == nil && wasRevoked:
					t.Errorf("session %d validated after its revoke returned", i)
				case err == nil && sess.ID != ids[i]:
					t.Errorf("token %d validated as session %s", i, sess.ID)
				case err != nil:
					var ended *store.EndedError
					if !errors.As(err, &ended) || (ended.Reason != store.ReasonRevoked && ended.Reason != store.ReasonRevokedAll) {
						t.Errorf("sessionFor(%d) = %v", i, err)
					}
				}
				if r.IntN(4) == 0 {
					s.SeenFrom(tokens[i], geo.Place{Network: fmt.Sprintf("203.0.%d.0/24", r.IntN(256))})
				}
			}
		})
	}
	// 2 flushers; one also sweeps (nothing is old enough to go).
	for g := range 2 {
		spawn(fmt.Sprintf("flusher%d", g), func(r *rand.Rand) {
			for k := range 150 {
				if _, err := s.FlushLastActive(); err != nil {
					t.Errorf("FlushLastActive: %v", err)
				}
				if g == 0 && k%10 == 0 {
					if d, err := s.Sweep(30*24*time.Hour, 7); err != nil || d != 0 {
						t.Errorf("Sweep = %d, %v", d, err)
					}
				}
			}
		})
	}
	// 3 single revokers over overlapping halves of the sessions.
	for g := range 3 {
		spawn(fmt.Sprintf("revoker%d", g), func(r *rand.Rand) {
			for _, i := range r.Perm(n)[:n/2] {
				if i == keep {
					continue
				}
				sess, err := s.RevokeUserSession(u.ID, ids[i], store.ReasonRevoked)
				if err != nil {
					t.Errorf("RevokeUserSession(%d): %v", i, err)
					continue
				}
				revokedBefore[i].Store(true)
				record(i, sess)
				// A revoke by the wrong user must change nothing.
				if _, err := s.RevokeUserSession(bystander.ID, ids[keep], store.ReasonRevoked); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("foreign revoke = %v", err)
				}
			}
		})
	}
	// 1 "sign out all other devices", part-way through.
	spawn("others", func(r *rand.Rand) {
		for range 300 {
			s.sessionFor(tokens[r.IntN(n)])
		}
		ended, err := s.RevokeOtherSessions(u.ID, ids[keep], store.ReasonRevokedAll)
		if err != nil {
			t.Errorf("RevokeOtherSessions: %v", err)
			return
		}
		othersEnded.Store(int64(ended))
		for i := range n {
			if i != keep {
				revokedBefore[i].Store(true)
			}
		}
		othersDone.Store(true)
	})
	// 1 clock, moving in small steps (far less than the idle timeout).
	spawn("clock", func(r *rand.Rand) {
		for range 2000 {
			c.Advance(time.Millisecond)
		}
	})
	// 1 lister: a listing never shows a session revoked before it began.
	spawn("lister", func(r *rand.Rand) {
		index := make(map[string]int, n)
		for i, id := range ids {
			index[id] = i
		}
		for range 200 {
			var gone [n]bool
			for i := range n {
				gone[i] = revokedBefore[i].Load()
			}
			live, err := s.ListUserSessions(u.ID)
			if err != nil {
				t.Errorf("ListUserSessions: %v", err)
				return
			}
			for _, x := range live {
				if i, ok := index[x.ID]; ok && gone[i] {
					t.Errorf("session %d listed live after its revoke returned", i)
				}
			}
		}
	})
	// 1 signing in more sessions for the same user meanwhile.
	spawn("creator", func(r *rand.Rand) {
		for range 20 {
			sess, tok, err := s.CreateSession(u.ID, store.NewSession{})
			if err != nil {
				t.Errorf("CreateSession: %v", err)
				return
			}
			mu.Lock()
			created, createdIDs = append(created, tok), append(createdIDs, sess.ID)
			mu.Unlock()
			s.sessionFor(tok)
		}
	})

	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	if !othersDone.Load() {
		t.Fatal("RevokeOtherSessions did not run")
	}
	if _, err := s.FlushLastActive(); err != nil {
		t.Fatal(err)
	}
	mustCheck(t, s)

	check := func(s *Store) {
		t.Helper()
		revokedAll := 0
		for i := range n {
			got, err := s.UserSession(u.ID, ids[i])
			if err != nil {
				t.Errorf("session %d: %v", i, err)
				continue
			}
			if i == keep {
				if !got.EndedAt.IsZero() {
					t.Errorf("the kept session was revoked (%s)", got.EndReason)
				}
				wantLive(t, s, tokens[i])
				continue
			}
			if got.EndedAt.IsZero() {
				t.Errorf("session %d is not revoked after RevokeOtherSessions returned", i)
				continue
			}
			if r, ok := returned[i]; ok && (!got.EndedAt.Equal(r.at) || got.EndReason != r.reason) {
				t.Errorf("session %d: stored %v/%s, but its revoke returned %v/%s", i, got.EndedAt, got.EndReason, r.at, r.reason)
			}
			if got.EndReason == store.ReasonRevokedAll {
				revokedAll++
			}
			wantEnded(t, s, tokens[i], got.EndReason)
		}
		for j, id := range createdIDs {
			got, err := s.UserSession(u.ID, id)
			if err != nil {
				t.Errorf("created session %d: %v", j, err)
				continue
			}
			switch got.EndReason {
			case store.ReasonRevokedAll:
				revokedAll++
				wantEnded(t, s, created[j], store.ReasonRevokedAll)
			case "":
				wantLive(t, s, created[j]) // signed in after the revoke
			default:
				t.Errorf("created session %d ended for %s", j, got.EndReason)
			}
		}
		if int64(revokedAll) != othersEnded.Load() {
			t.Errorf("RevokeOtherSessions reported %d ended, but %d sessions carry its reason", othersEnded.Load(), revokedAll)
		}
		for _, tok := range bystanderTokens {
			wantLive(t, s, tok)
		}
	}
	check(s)
	s = reopen(t, s, opts)
	mustCheck(t, s)
	check(s)
}
