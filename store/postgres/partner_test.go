package postgres

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"portal/store"
	"portal/store/storetest"
)

// newPartnerWorld is the conformance suite's partner world on a fresh
// database, and its store.
func newPartnerWorld(t *testing.T) (*storetest.PartnerWorld, *Store) {
	t.Helper()
	clk, rec := newClock(), &storetest.Recorder{}
	s := mustOpen(t, Options{Now: clk.Now, Policy: testPolicy, Notifier: rec})
	return storetest.NewPartnerWorld(t, s, clk, rec), s
}

func TestPartnerRevoke(t *testing.T) {
	t.Parallel()
	w, s := newPartnerWorld(t)
	sess := wantLive(t, s, w.Tokens[w.Mine.ID])
	second, secondTok := mustSession(t, s, w.Mine.ID, store.NewSession{})
	got, err := s.PartnerRevokeSession(w.P1.ID, w.Colleague.ID, w.Mine.ID, sess.ID)
	if err != nil || got.EndReason != store.ReasonPartner || got.RevokedBy != w.Colleague.ID {
		t.Fatalf("PartnerRevokeSession: %+v %v", got, err)
	}
	wantEnded(t, s, w.Tokens[w.Mine.ID], store.ReasonPartner)
	wantLive(t, s, secondTok)
	// Everywhere: the rest of the user's live sessions, counted.
	third, thirdTok := mustSession(t, s, w.Mine.ID, store.NewSession{})
	n, err := s.PartnerRevokeAll(w.P1.ID, w.Colleague.ID, w.Mine.ID)
	if err != nil || n != 2 {
		t.Fatalf("PartnerRevokeAll: %d %v, want 2", n, err)
	}
	wantEnded(t, s, secondTok, store.ReasonPartnerAll)
	wantEnded(t, s, thirdTok, store.ReasonPartnerAll)
	// Each revoke is published, and its event names the partner user.
	ended := func(id string, r store.Reason) store.Change {
		return store.Change{Kind: store.SessionEnded, UserID: w.Mine.ID, SessionID: id, Reason: r}
	}
	published := w.Rec.Take()
	for _, want := range []store.Change{ended(sess.ID, store.ReasonPartner), ended(second.ID, store.ReasonPartnerAll), ended(third.ID, store.ReasonPartnerAll)} {
		if !slices.Contains(published, want) {
			t.Errorf("published %v, want %v among them", published, want)
		}
	}
	for _, e := range eventsOf(t, s, w.Mine.ID) {
		if e.Kind == store.EventEnded && e.By.User != w.Colleague.ID {
			t.Errorf("event %+v does not name the partner user", e)
		}
	}
	// The record says who did it, read by another instance too.
	other := mustOpenURL(t, dbURL(s), Options{Now: w.Clock.Now, Policy: testPolicy})
	if x, err := other.UserSession(w.Mine.ID, sess.ID); err != nil || x.RevokedBy != w.Colleague.ID {
		t.Fatalf("from another instance: %+v %v", x, err)
	}
	if n, err := other.PartnerRevokeAll(w.P1.ID, w.Colleague.ID, w.Mine.ID); err != nil || n != 0 {
		t.Fatalf("again: %d %v, want 0", n, err)
	}
	mustCheck(t, s)
}

// TestPartnerRevokeRacesMove releases a partner's revoke and the client's
// move to another partner together, from two instances: the revoke
// either happened while the partner managed the client, or changed
// nothing.
func TestPartnerRevokeRacesMove(t *testing.T) {
	t.Parallel()
	w, s := newPartnerWorld(t)
	mover := mustOpenURL(t, dbURL(s), Options{Now: w.Clock.Now, Policy: testPolicy})
	outcomes := map[bool]int{}
	for round := range 20 {
		if _, err := mover.SetAccountPartner(w.C1.ID, w.P1.ID); err != nil {
			t.Fatal(err)
		}
		sess, _ := mustSession(t, s, w.Mine.ID, store.NewSession{})
		start := make(chan struct{})
		var wg sync.WaitGroup
		var revokeErr, moveErr error
		wg.Go(func() {
			<-start
			_, revokeErr = s.PartnerRevokeSession(w.P1.ID, w.Colleague.ID, w.Mine.ID, sess.ID)
		})
		wg.Go(func() { <-start; _, moveErr = mover.SetAccountPartner(w.C1.ID, w.P2.ID) })
		close(start)
		wg.Wait()
		if moveErr != nil {
			t.Fatal(moveErr)
		}
		x, _ := s.UserSession(w.Mine.ID, sess.ID)
		switch {
		case revokeErr == nil && x.EndReason != store.ReasonPartner:
			t.Fatalf("round %d: the revoke succeeded but the session is %+v", round, x)
		case errors.Is(revokeErr, store.ErrNotFound) && !x.EndedAt.IsZero():
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
	w, s := newPartnerWorld(t)
	ctx := context.Background()
	move, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer move.Rollback(ctx)
	if _, err := move.Exec(ctx, "UPDATE accounts SET partner_id = $1 WHERE id = $2", w.P2.ID, w.C1.ID); err != nil {
		t.Fatal(err)
	}
	sess := wantLive(t, s, w.Tokens[w.Mine.ID])
	done := make(chan error, 1)
	go func() {
		_, err := s.PartnerRevokeSession(w.P1.ID, w.Colleague.ID, w.Mine.ID, sess.ID)
		done <- err
	}()
	waitFor(t, "the revoke to wait for the move's lock", func() bool {
		return sqlInt(t, s, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") > 0
	})
	if err := move.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoke after the move: %v, want ErrNotFound", err)
	}
	wantLive(t, s, w.Tokens[w.Mine.ID])
}
