package postgres

import (
	"context"
	neturl "net/url"

	"encoding/hex"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"portal/internal/pgtest"
	"portal/store"
)

// waitFor polls cond until it holds or 10 seconds pass.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// refusedNext fails unless s refuses token as revoked on the very next
// Authenticate: the instance that revoked it answered only once s had
// confirmed it dropped it (acks.go).
func refusedNext(tb testing.TB, s *Store, token string) {
	tb.Helper()
	_, _, err := s.Authenticate(token)
	var ended *store.EndedError
	if !errors.As(err, &ended) {
		tb.Errorf("the next Authenticate after the revoke answered %v, want the session ended", err)
	}
}

func TestParsePayload(t *testing.T) {
	t.Parallel()
	h1, h2 := store.HashToken("a"), store.HashToken("b")
	both := hex.EncodeToString(h1[:]) + "," + hex.EncodeToString(h2[:])
	for _, tc := range []struct {
		in   string
		want []store.TokenHash
	}{
		{both, []store.TokenHash{h1, h2}},
		{"", nil},
		{"zz", nil},
		{"abcd," + hex.EncodeToString(h1[:]), []store.TokenHash{h1}},
		{"'; DROP TABLE sessions", nil},
	} {
		if got := parsePayload(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("parsePayload(%q) = %x, want %x", tc.in, got, tc.want)
		}
	}
}

// A revoke on one instance is refused on another that had the session
// cached, for one session and for all of a user's.
func TestRevokeSeenByOtherInstance(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDB(t)
	a := mustOpenURL(t, url, Options{})
	b := mustOpenURL(t, url, Options{})
	u := mustUser(t, a, store.RoleClientAdmin)
	one, oneToken := mustSession(t, a, u.ID, store.NewSession{})
	batch := make([]store.SessionFor, 110) // more hashes than one notification carries
	for i := range batch {
		batch[i].UserID = u.ID
	}
	_, many, err := a.CreateSessions(batch)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range append(many, oneToken) {
		wantLive(t, b, tok)
	}
	if !b.Cached(store.HashToken(oneToken)) {
		t.Fatal("b did not cache the session: the test would prove nothing")
	}
	if _, err := a.RevokeUserSession(u.ID, one.ID, store.ReasonSignedOut); err != nil {
		t.Fatal(err)
	}
	refusedNext(t, b, oneToken)
	if _, err := a.RevokeAllUserSessions(u.ID, store.ReasonEverywhere); err != nil {
		t.Fatal(err)
	}
	for _, tok := range many {
		refusedNext(t, b, tok)
	}
	if n := a.acks.missed.Load(); n != 0 {
		t.Errorf("%d revokes were answered without b's confirmation", n)
	}
	// A user's change reaches the other instance's cached copy too.
	_, tok := mustSession(t, a, u.ID, store.NewSession{})
	wantLive(t, b, tok)
	if _, err := a.SetPasswordHash(u.ID, "new", false, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b to see the new password hash", func() bool {
		_, got, err := b.Authenticate(tok)
		return err == nil && got.PasswordHash == "new"
	})
}

// When the listening connection is cut, the instance stops trusting its
// cache, so a revoke it could not hear is still refused, and it listens
// again by itself.
func TestListenerLoss(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t)
	url := pgtest.NewDB(t)
	a := mustOpenURL(t, url, Options{})
	b := mustOpenURL(t, url, Options{})
	u := mustUser(t, a, store.RoleClientAdmin)
	sess, token := mustSession(t, a, u.ID, store.NewSession{})
	wantLive(t, b, token)
	old := b.listener.pid.Load()
	c.Terminate(t, old)
	// Revoke at once: b may not have noticed the cut yet, and cannot hear
	// this notification.
	if _, err := a.RevokeUserSession(u.ID, sess.ID, store.ReasonSignedOut); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b to listen again", func() bool { p := b.listener.pid.Load(); return p != 0 && p != old })
	wantEnded(t, b, token, store.ReasonSignedOut)
	// Listening again, b caches and hears revokes as before.
	sess2, token2 := mustSession(t, a, u.ID, store.NewSession{})
	wantLive(t, b, token2)
	if !b.Cached(store.HashToken(token2)) {
		t.Errorf("b does not cache after listening again")
	}
	if _, err := a.RevokeUserSession(u.ID, sess2.ID, store.ReasonSignedOut); err != nil {
		t.Fatal(err)
	}
	refusedNext(t, b, token2)
}

// An instance that is listed as listening but never confirms (stuck, or
// an older portal) delays a revoke by at most ackWait, and the revoke is
// done all the same; a lone instance waits for nobody.
func TestRevokeNotConfirmed(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDB(t)
	a := mustOpenURL(t, url, Options{})
	u := mustUser(t, a, store.RoleClientAdmin)
	sess, token := mustSession(t, a, u.ID, store.NewSession{})
	if _, err := a.RevokeUserSession(u.ID, sess.ID, store.ReasonSignedOut); err != nil {
		t.Fatal(err)
	}
	wantEnded(t, a, token, store.ReasonSignedOut)
	if n := a.acks.missed.Load(); n != 0 {
		t.Fatalf("a lone instance waited for confirmations (%d missed)", n)
	}

	mute, err := pgconn.Connect(context.Background(), url+"&application_name="+neturl.PathEscape(listenerApp+"mute"))
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close(context.Background())
	sess, token = mustSession(t, a, u.ID, store.NewSession{})
	if _, err := a.RevokeUserSession(u.ID, sess.ID, store.ReasonSignedOut); err != nil {
		t.Fatalf("revoke with an instance that does not confirm: %v", err)
	}
	wantEnded(t, a, token, store.ReasonSignedOut)
	if n := a.acks.missed.Load(); n != 1 {
		t.Errorf("%d waits missed a confirmation, want 1 (the mute instance's)", n)
	}
}

// PostgreSQL going away: no session is admitted from a cache that can no
// longer be invalidated, changes fail, and the store recovers by itself
// when the server is back. Not parallel: it stops the shared cluster.
func TestDatabaseGoesAway(t *testing.T) {
	c := pgtest.Start(t)
	s := mustOpen(t, Options{QueryTimeout: 2 * time.Second})
	u := mustUser(t, s, store.RoleClientAdmin)
	sess, token := mustSession(t, s, u.ID, store.NewSession{})
	wantLive(t, s, token)
	c.Stop(t)
	waitFor(t, "the listener to notice", func() bool { return s.listener.pid.Load() == 0 })
	if got, _, err := s.Authenticate(token); err == nil {
		t.Errorf("Authenticate admitted session %s while PostgreSQL was down", got.ID)
	} else if errors.Is(err, store.ErrNotFound) {
		t.Errorf("Authenticate said the session does not exist: %v", err)
	}
	if _, err := s.RevokeUserSession(u.ID, sess.ID, store.ReasonSignedOut); err == nil {
		t.Errorf("a revoke reported done while PostgreSQL was down")
	}
	if err := s.Ping(); err == nil {
		t.Errorf("Ping answered while PostgreSQL was down")
	}
	c.Start(t)
	waitFor(t, "the store to recover", func() bool { _, _, err := s.Authenticate(token); return err == nil })
	waitFor(t, "the listener to come back", func() bool { return s.listener.pid.Load() != 0 })
	if _, err := s.RevokeUserSession(u.ID, sess.ID, store.ReasonSignedOut); err != nil {
		t.Errorf("revoke after recovery: %v", err)
	}
	wantEnded(t, s, token, store.ReasonSignedOut)
}
