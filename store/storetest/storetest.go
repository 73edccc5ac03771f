// Package storetest is the conformance suite of store.Backend: every
// behaviour the handlers, the operator commands and the server rely on,
// checked through the interface alone, so that the bbolt store and the
// PostgreSQL one are held to the same expectations (issue 18). Each store
// runs it from a test of its own package:
//
//	storetest.Run(t, func(t *testing.T, o storetest.Options) store.Backend { ... })
//
// The expectations are those of each store's own tests. Where the stores
// may legitimately differ they are compared in a way both satisfy: times
// with Equal at the clock's whole seconds (PostgreSQL keeps microseconds),
// and nothing about what is cached or how it is laid out on disk.
package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portal/store"
)

// Options is what a conformance test asks of the store it opens; the
// opener passes them to its store's own options.
type Options struct {
	Policy             store.Policy
	MaxSessionsPerUser int
	// Now is the fake clock; never nil.
	Now func() time.Time
	// Notifier hears of committed changes; nil for none.
	Notifier store.Notifier
}

// Opener opens an empty store with opts for t and closes it when t ends.
type Opener func(t *testing.T, opts Options) store.Backend

// test is one conformance test.
type test struct {
	name string
	run  func(t *testing.T, open Opener)
}

// Run runs every conformance test against the stores open opens, each as
// a parallel subtest on a store of its own.
func Run(t *testing.T, open Opener) {
	var all []test
	for _, group := range [][]test{userTests, sessionTests, revokeTests, flushTests, partnerTests, eventTests, notifyTests, twoStepTests, passkeyTests} {
		all = append(all, group...)
	}
	for _, tt := range all {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, open)
		})
	}
}

// T0 is the fake clock's start: a fixed time, whole seconds, so that both
// stores keep it exactly. The PostgreSQL store's own tests use it too.
var T0 = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

// testPolicy has round numbers the expiry tests step over.
var testPolicy = store.Policy{IdleTimeout: 30 * time.Minute, MaxLifetime: 12 * time.Hour}

// Clock is a fake time source for Options.Now; it moves when told to.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock is a Clock at T0.
func NewClock() *Clock { return &Clock{t: T0} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// openAt opens a store with the test policy on a new fake clock.
func openAt(t *testing.T, open Opener, opts Options) (store.Backend, *Clock) {
	t.Helper()
	c := NewClock()
	if opts.Policy == (store.Policy{}) {
		opts.Policy = testPolicy
	}
	opts.Now = c.Now
	return open(t, opts), c
}

var userSeq atomic.Int64

// mustUser creates an account of the kind role needs and a user with role
// in it, with a unique email.
func mustUser(tb testing.TB, s store.Backend, role store.Role) store.User {
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

func mustSession(tb testing.TB, s store.Backend, userID string, in store.NewSession) (store.Session, string) {
	tb.Helper()
	sess, token, err := s.CreateSession(userID, in)
	if err != nil {
		tb.Fatalf("CreateSession(%s): %v", userID, err)
	}
	return sess, token
}

// ok returns a function that fails tb on err, for calls whose results
// the test does not need: ok(t)(s.RevokeUserSession(...)).
func ok(tb testing.TB) func(any, error) {
	return func(_ any, err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// reasonOf is why err says a session ended, or "" if it does not say so.
// Safe off the test's goroutine.
func reasonOf(err error) store.Reason {
	var ended *store.EndedError
	if errors.As(err, &ended) {
		return ended.Reason
	}
	return ""
}

// wantEnded fails unless Authenticate(token) says the session ended for want.
func wantEnded(tb testing.TB, s store.Backend, token string, want store.Reason) {
	tb.Helper()
	sess, _, err := s.Authenticate(token)
	if got := reasonOf(err); got != want {
		tb.Fatalf("Authenticate: session %q, %v; want ended (%s)", sess.ID, err, want)
	}
}

// wantLive fails unless Authenticate(token) accepts the session.
func wantLive(tb testing.TB, s store.Backend, token string) store.Session {
	tb.Helper()
	sess, _, err := s.Authenticate(token)
	if err != nil {
		tb.Fatalf("Authenticate: %v, want live", err)
	}
	return sess
}

func mustCheck(tb testing.TB, s store.Backend) {
	tb.Helper()
	if err := s.Check(); err != nil {
		tb.Fatalf("Check: %v", err)
	}
}

func mustFlush(tb testing.TB, s store.Backend) int {
	tb.Helper()
	n, err := s.FlushLastActive()
	if err != nil {
		tb.Fatalf("FlushLastActive: %v", err)
	}
	return n
}

// noSuchID is a well-formed id no record has.
const noSuchID = "0123456789abcdef0123456789abcdef"
