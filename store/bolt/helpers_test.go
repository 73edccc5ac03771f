package bolt

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"portal/store"
	"portal/store/storetest"
)

// The conformance suite's fake clock, so both kinds of test step the
// same time: t0 is its start.
type clock = storetest.Clock

var t0 = storetest.T0

func newClock() *clock { return storetest.NewClock() }

// MustOpen opens a new store in a fresh temporary directory and closes it
// when the test ends. Closing twice is harmless, so tests may Close early.
func MustOpen(tb testing.TB, opts Options) *Store {
	tb.Helper()
	return mustOpenPath(tb, filepath.Join(tb.TempDir(), "portal.db"), opts)
}

// mustOpenPath opens (or reopens) the store at path, closing it at the end
// of the test.
func mustOpenPath(tb testing.TB, path string, opts Options) *Store {
	tb.Helper()
	s, err := Open(path, opts)
	if err != nil {
		tb.Fatalf("Open(%s): %v", path, err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close(%s): %v", path, err)
		}
	})
	return s
}

// reopen closes s and opens its file again with opts.
func reopen(tb testing.TB, s *Store, opts Options) *Store {
	tb.Helper()
	if err := s.Close(); err != nil {
		tb.Fatalf("Close: %v", err)
	}
	return mustOpenPath(tb, s.Path(), opts)
}

var userSeq atomic.Int64

// mustUser creates an account of the kind role needs and a user with role
// in it, with a unique email.
func mustUser(tb testing.TB, s *Store, role store.Role) store.User {
	tb.Helper()
	n := userSeq.Add(1)
	a, err := s.CreateAccount(fmt.Sprintf("Account %d", n), role.AccountKind())
	if err != nil {
		tb.Fatalf("CreateAccount: %v", err)
	}
	u, err := s.CreateUser(store.NewUser{
		AccountID:    a.ID,
		Email:        fmt.Sprintf("User%d@Example.com", n),
		Name:         fmt.Sprintf("User %d", n),
		Role:         role,
		PasswordHash: "hash",
	})
	if err != nil {
		tb.Fatalf("CreateUser(%s): %v", role, err)
	}
	return u
}

// mustSession signs userID in and returns the session and its token.
func mustSession(tb testing.TB, s *Store, userID string, in store.NewSession) (store.Session, string) {
	tb.Helper()
	sess, token, err := s.CreateSession(userID, in)
	if err != nil {
		tb.Fatalf("CreateSession(%s): %v", userID, err)
	}
	return sess, token
}

// mustCheck fails the test if the database or its indexes are inconsistent.
func mustCheck(tb testing.TB, s *Store) {
	tb.Helper()
	if err := s.Check(); err != nil {
		tb.Fatalf("Check: %v", err)
	}
}

// sessionFor is the session half of Authenticate, which the tests check on
// its own: the live session for token, ErrNotFound or *EndedError. Like
// Authenticate, it records the use in memory.
func (s *Store) sessionFor(token string) (store.Session, error) {
	sess, _, err := s.Authenticate(token)
	return sess, err
}

// endedReason returns the reason of err if it is an *EndedError, and fails
// the test otherwise.
func endedReason(tb testing.TB, err error) store.Reason {
	tb.Helper()
	var ended *store.EndedError
	if !errors.As(err, &ended) {
		tb.Fatalf("want *EndedError, got %v", err)
	}
	return ended.Reason
}

// wantEnded fails unless sessionFor(token) reports the session ended for want.
func wantEnded(tb testing.TB, s *Store, token string, want store.Reason) {
	tb.Helper()
	sess, err := s.sessionFor(token)
	if err == nil {
		tb.Fatalf("sessionFor: session %s still live, want ended (%s)", sess.ID, want)
	}
	if got := endedReason(tb, err); got != want {
		tb.Fatalf("sessionFor: ended for %q, want %q", got, want)
	}
}

// wantLive fails unless sessionFor(token) accepts the session.
func wantLive(tb testing.TB, s *Store, token string) store.Session {
	tb.Helper()
	sess, err := s.sessionFor(token)
	if err != nil {
		tb.Fatalf("sessionFor: %v, want live", err)
	}
	return sess
}

// testPolicy is a policy with round numbers that the expiry tests step over.
var testPolicy = store.Policy{IdleTimeout: 30 * time.Minute, MaxLifetime: 12 * time.Hour}
