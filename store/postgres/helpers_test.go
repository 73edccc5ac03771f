package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"portal/internal/pgtest"
	"portal/store"
	"portal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// The fake clock and its start are the conformance suite's.
var t0 = storetest.T0

// testPolicy has round numbers the expiry tests step over.
var testPolicy = store.Policy{IdleTimeout: 30 * time.Minute, MaxLifetime: 12 * time.Hour}

type clock = storetest.Clock

func newClock() *clock { return storetest.NewClock() }

func mustOpen(tb testing.TB, opts Options) *Store {
	tb.Helper()
	return mustOpenURL(tb, pgtest.NewDB(tb), opts)
}

// mustOpenURL opens a store on url (another instance, when two tests
// share one), closed when the test ends.
func mustOpenURL(tb testing.TB, url string, opts Options) *Store {
	tb.Helper()
	s, err := Open(context.Background(), url, opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// mustCheck fails unless Check finds the database consistent.
func mustCheck(tb testing.TB, s *Store) {
	tb.Helper()
	if err := s.Check(); err != nil {
		tb.Fatalf("Check: %v", err)
	}
}

// reasonOf is why err says a session ended, or "" if it does not say so.
// Safe off the test's goroutine, unlike a helper that fails the test.
func reasonOf(err error) store.Reason {
	var ended *store.EndedError
	if errors.As(err, &ended) {
		return ended.Reason
	}
	return ""
}

var userSeq atomic.Int64

// mustUser creates an account of the kind role needs and a user in it.
func mustUser(tb testing.TB, s *Store, role store.Role) store.User {
	tb.Helper()
	n := userSeq.Add(1)
	a, err := s.CreateAccount(fmt.Sprintf("Account %d", n), role.AccountKind())
	if err != nil {
		tb.Fatalf("CreateAccount: %v", err)
	}
	u, err := s.CreateUser(store.NewUser{AccountID: a.ID, Email: fmt.Sprintf("User%d@Example.com", n), Name: fmt.Sprintf("User %d", n), Role: role, PasswordHash: "hash"})
	if err != nil {
		tb.Fatalf("CreateUser(%s): %v", role, err)
	}
	return u
}

func mustSession(tb testing.TB, s *Store, userID string, in store.NewSession) (store.Session, string) {
	tb.Helper()
	sess, token, err := s.CreateSession(userID, in)
	if err != nil {
		tb.Fatalf("CreateSession(%s): %v", userID, err)
	}
	return sess, token
}

// wantEnded fails unless Authenticate(token) reports the session ended
// for want.
func wantEnded(tb testing.TB, s *Store, token string, want store.Reason) {
	tb.Helper()
	sess, _, err := s.Authenticate(token)
	var ended *store.EndedError
	if !errors.As(err, &ended) {
		tb.Fatalf("Authenticate: session %q, %v; want ended (%s)", sess.ID, err, want)
	}
	if ended.Reason != want {
		tb.Fatalf("Authenticate: ended for %q, want %q", ended.Reason, want)
	}
}

// wantLive fails unless Authenticate(token) accepts the session.
func wantLive(tb testing.TB, s *Store, token string) store.Session {
	tb.Helper()
	sess, _, err := s.Authenticate(token)
	if err != nil {
		tb.Fatalf("Authenticate: %v, want live", err)
	}
	return sess
}

// sqlInt runs a query returning one integer, for checks on the tables.
func sqlInt(tb testing.TB, s *Store, sql string, args ...any) int {
	tb.Helper()
	var n int
	if err := s.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
	return n
}
