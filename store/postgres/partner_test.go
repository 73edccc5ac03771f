package postgres

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"portal/store"
)

// partnerWorld is two partners, the clients they manage, an unmanaged
// client and a session for every user, as in the bbolt store's tests.
type partnerWorld struct {
	s                        *Store
	clk                      *clock
	rec                      *recorder
	p1, p2, c1, c2, c3, free store.Account
	// users by what they are to partner 1
	mine, mine2, theirs, unmanaged, colleague, other store.User
	tokens                                           map[string]string // user id -> token of one live session
}

func newPartnerWorld(t *testing.T) *partnerWorld {
	t.Helper()
	clk, rec := newClock(), &recorder{}
	s := mustOpen(t, Options{Now: clk.Now, Policy: testPolicy, Notifier: rec})
	w := &partnerWorld{s: s, clk: clk, rec: rec, tokens: map[string]string{}}
	acct := func(name string, kind store.AccountKind, partner string) store.Account {
		var a store.Account
		var err error
		if kind == store.AccountClient {
			a, err = s.CreateClientAccount(name, partner)
		} else {
			a, err = s.CreateAccount(name, kind)
		}
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	user := func(a store.Account, email string, role store.Role) store.User {
		u, err := s.CreateUser(store.NewUser{AccountID: a.ID, Email: email, Name: "Name of " + email, Role: role, PasswordHash: "h"})
		if err != nil {
			t.Fatal(err)
		}
		_, tok := mustSession(t, s, u.ID, store.NewSession{})
		w.tokens[u.ID] = tok
		return u
	}
	w.p1, w.p2 = acct("Partner One", store.AccountPartner, ""), acct("Partner Two", store.AccountPartner, "")
	w.c1, w.c2 = acct("Acme", store.AccountClient, w.p1.ID), acct("Bolt Dental", store.AccountClient, w.p1.ID)
	w.c3, w.free = acct("Cobalt", store.AccountClient, w.p2.ID), acct("Free Co", store.AccountClient, "")
	w.mine, w.mine2 = user(w.c1, "ann@acme.example", store.RoleClientAdmin), user(w.c2, "bob@bolt.example", store.RoleClientStaff)
	w.theirs, w.unmanaged = user(w.c3, "cat@cobalt.example", store.RoleClientStaff), user(w.free, "dan@free.example", store.RoleClientStaff)
	w.colleague, w.other = user(w.p1, "pat@p1.example", store.RolePartnerStaff), user(w.p2, "quinn@p2.example", store.RolePartnerAdmin)
	rec.take()
	return w
}

func TestPartnerRevoke(t *testing.T) {
	t.Parallel()
	w := newPartnerWorld(t)
	sess := wantLive(t, w.s, w.tokens[w.mine.ID])
	second, secondTok := mustSession(t, w.s, w.mine.ID, store.NewSession{})
	got, err := w.s.PartnerRevokeSession(w.p1.ID, w.colleague.ID, w.mine.ID, sess.ID)
	if err != nil || got.RevokeReason != store.ReasonPartner || got.RevokedBy != w.colleague.ID {
		t.Fatalf("PartnerRevokeSession: %+v %v", got, err)
	}
	wantEnded(t, w.s, w.tokens[w.mine.ID], store.ReasonPartner)
	wantLive(t, w.s, secondTok)
	// Everywhere: the rest of the user's live sessions, counted.
	third, thirdTok := mustSession(t, w.s, w.mine.ID, store.NewSession{})
	n, err := w.s.PartnerRevokeAll(w.p1.ID, w.colleague.ID, w.mine.ID)
	if err != nil || n != 2 {
		t.Fatalf("PartnerRevokeAll: %d %v, want 2", n, err)
	}
	wantEnded(t, w.s, secondTok, store.ReasonPartnerAll)
	wantEnded(t, w.s, thirdTok, store.ReasonPartnerAll)
	// Each revoke is published, and its event names the partner user.
	ended := func(id string, r store.Reason) store.Change {
		return store.Change{Kind: store.SessionEnded, UserID: w.mine.ID, SessionID: id, Reason: r}
	}
	published := w.rec.take()
	for _, want := range []store.Change{ended(sess.ID, store.ReasonPartner), ended(second.ID, store.ReasonPartnerAll), ended(third.ID, store.ReasonPartnerAll)} {
		if !slices.Contains(published, want) {
			t.Errorf("published %v, want %v among them", published, want)
		}
	}
	for _, e := range eventsOf(t, w.s, w.mine.ID) {
		if e.Kind == store.EventEnded && e.By.User != w.colleague.ID {
			t.Errorf("event %+v does not name the partner user", e)
		}
	}
	// The record says who did it, read by another instance too.
	other := mustOpenURL(t, dbURL(w.s), Options{Now: w.clk.Now, Policy: testPolicy})
	if x, err := other.UserSession(w.mine.ID, sess.ID); err != nil || x.RevokedBy != w.colleague.ID {
		t.Fatalf("from another instance: %+v %v", x, err)
	}
	if n, err := other.PartnerRevokeAll(w.p1.ID, w.colleague.ID, w.mine.ID); err != nil || n != 0 {
		t.Fatalf("again: %d %v, want 0", n, err)
	}
	mustCheck(t, w.s)
}

// TestPartnerRevokeRacesMove releases a partner's revoke and the client's
// move to another partner together, from two instances: the revoke
// either happened while the partner managed the client, or changed
// nothing.
func TestPartnerRevokeRacesMove(t *testing.T) {
	t.Parallel()
	w := newPartnerWorld(t)
	mover := mustOpenURL(t, dbURL(w.s), Options{Now: w.clk.Now, Policy: testPolicy})
	outcomes := map[bool]int{}
	for round := range 20 {
		if _, err := mover.SetAccountPartner(w.c1.ID, w.p1.ID); err != nil {
			t.Fatal(err)
		}
		sess, _ := mustSession(t, w.s, w.mine.ID, store.NewSession{})
		start := make(chan struct{})
		var wg sync.WaitGroup
		var revokeErr, moveErr error
		wg.Go(func() {
			<-start
			_, revokeErr = w.s.PartnerRevokeSession(w.p1.ID, w.colleague.ID, w.mine.ID, sess.ID)
		})
		wg.Go(func() { <-start; _, moveErr = mover.SetAccountPartner(w.c1.ID, w.p2.ID) })
		close(start)
		wg.Wait()
		if moveErr != nil {
			t.Fatal(moveErr)
		}
		x, _ := w.s.UserSession(w.mine.ID, sess.ID)
		switch {
		case revokeErr == nil && x.RevokeReason != store.ReasonPartner:
			t.Fatalf("round %d: the revoke succeeded but the session is %+v", round, x)
		case errors.Is(revokeErr, store.ErrNotFound) && !x.RevokedAt.IsZero():
			t.Fatalf("round %d: the revoke was refused but the session ended", round)
		case revokeErr != nil && !errors.Is(revokeErr, store.ErrNotFound):
			t.Fatal(revokeErr)
		}
		outcomes[revokeErr == nil]++
	}
	t.Logf("revokes done before the move: %d, refused after it: %d", outcomes[true], outcomes[false])
}

// A partner's revoke that meets a move of the client in progress waits
// for it, and then finds the user out of reach: the scope is checked on
// the row as the move left it, not as it was before.
func TestPartnerRevokeWaitsForMove(t *testing.T) {
	t.Parallel()
	w := newPartnerWorld(t)
	ctx := context.Background()
	move, err := w.s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer move.Rollback(ctx)
	if _, err := move.Exec(ctx, "UPDATE accounts SET partner_id = $1 WHERE id = $2", w.p2.ID, w.c1.ID); err != nil {
		t.Fatal(err)
	}
	sess := wantLive(t, w.s, w.tokens[w.mine.ID])
	done := make(chan error, 1)
	go func() {
		_, err := w.s.PartnerRevokeSession(w.p1.ID, w.colleague.ID, w.mine.ID, sess.ID)
		done <- err
	}()
	waitFor(t, "the revoke to wait for the move's lock", func() bool {
		return sqlInt(t, w.s, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") > 0
	})
	if err := move.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoke after the move: %v, want ErrNotFound", err)
	}
	wantLive(t, w.s, w.tokens[w.mine.ID])
}
