package bolt

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"portal/store"
	"portal/store/storetest"
)

// The partner console's store behaviour both stores share is checked by
// the conformance suite (storetest, TestConformance). Here: what only a
// bbolt file shows.

var partnerPolicy = store.Policy{IdleTimeout: 30 * time.Minute, MaxLifetime: 12 * time.Hour}

// openPartnerWorld is the conformance suite's partner world in a bbolt
// file, and how to open that file again.
func openPartnerWorld(t *testing.T) (*storetest.PartnerWorld, func() *Store) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "portal.db")
	clk, rec := storetest.NewClock(), &storetest.Recorder{}
	open := func() *Store {
		t.Helper()
		s, err := Open(path, Options{Now: clk.Now, Policy: partnerPolicy, Notifier: rec})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	return storetest.NewPartnerWorld(t, open(), clk, rec), open
}

// Who signed a session out is kept in the file: the record says so after
// a reopen, and a second sign-out everywhere finds nothing to do.
func TestPartnerRevokeSurvivesReopen(t *testing.T) {
	w, open := openPartnerWorld(t)
	sess, _, err := w.Store.Authenticate(w.Tokens[w.Mine.ID])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Store.PartnerRevokeSession(w.P1.ID, w.Colleague.ID, w.Mine.ID, sess.ID); err != nil {
		t.Fatal(err)
	}
	if err := w.Store.Close(); err != nil {
		t.Fatal(err)
	}
	s := open()
	if x, err := s.UserSession(w.Mine.ID, sess.ID); err != nil || x.RevokedBy != w.Colleague.ID || x.EndReason != store.ReasonPartner {
		t.Fatalf("after reopening: %+v %v", x, err)
	}
	if n, err := s.PartnerRevokeAll(w.P1.ID, w.Colleague.ID, w.Mine.ID); err != nil || n != 0 {
		t.Fatalf("again: %d %v, want 0", n, err)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

// A partner's revoke and the client's move to another partner, released
// together: the revoke either happened while the partner managed the
// client, or changed nothing.
func TestPartnerRevokeRacesMove(t *testing.T) {
	for round := range 20 {
		w, _ := openPartnerWorld(t)
		sess, _, err := w.Store.Authenticate(w.Tokens[w.Mine.ID])
		if err != nil {
			t.Fatal(err)
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		var revokeErr, moveErr error
		wg.Go(func() {
			<-start
			_, revokeErr = w.Store.PartnerRevokeSession(w.P1.ID, w.Colleague.ID, w.Mine.ID, sess.ID)
		})
		wg.Go(func() { <-start; _, moveErr = w.Store.SetAccountPartner(w.C1.ID, w.P2.ID) })
		close(start)
		wg.Wait()
		if moveErr != nil {
			t.Fatal(moveErr)
		}
		x, _ := w.Store.UserSession(w.Mine.ID, sess.ID)
		switch {
		case revokeErr == nil && x.EndReason != store.ReasonPartner:
			t.Fatalf("round %d: the revoke succeeded but the session is %+v", round, x)
		case errors.Is(revokeErr, store.ErrNotFound) && !x.EndedAt.IsZero():
			t.Fatalf("round %d: the revoke was refused but the session ended", round)
		case revokeErr != nil && !errors.Is(revokeErr, store.ErrNotFound):
			t.Fatal(revokeErr)
		}
	}
}
