package postgres

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"portal/internal/pgtest"
	"portal/store"
	"portal/store/storetest"
)

// Two instances on one database: a change made on one is published once
// on each, and the other publishes it only after its cache has dropped
// what the change made stale.
func TestNotifyAcrossInstances(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDB(t)
	recA, recB := &storetest.Recorder{}, &storetest.Recorder{}
	a := mustOpenURL(t, url, Options{Notifier: recA})
	b := mustOpenURL(t, url, Options{Notifier: recB})
	u := mustUser(t, a, store.RoleClientAdmin)

	sess, tok := mustSession(t, a, u.ID, store.NewSession{})
	started := []store.Change{{Kind: store.SessionStarted, UserID: u.ID, SessionID: sess.ID}}
	if got := recA.Take(); !slices.Equal(got, started) {
		t.Fatalf("A published %v, want %v", got, started)
	}
	if got := recB.TakeN(t, 1); !slices.Equal(got, started) {
		t.Fatalf("B published %v, want %v", got, started)
	}

	// B has the session cached; when B hears of A's revoke, Peek on B
	// already refuses it.
	if _, _, err := b.Peek(tok); err != nil {
		t.Fatal(err)
	}
	if !b.Cached(store.HashToken(tok)) {
		t.Fatal("B did not cache the session: the test would prove nothing")
	}
	recB.SetCheck(func(ch store.Change) {
		if _, _, err := b.Peek(tok); ch.Kind == store.SessionEnded && reasonOf(err) != store.ReasonSignedOut {
			t.Errorf("at B's publish, Peek on B: %v; want refused as signed out", err)
		}
	})
	if _, err := a.RevokeUserSession(u.ID, sess.ID, store.ReasonSignedOut); err != nil {
		t.Fatal(err)
	}
	ended := []store.Change{{Kind: store.SessionEnded, UserID: u.ID, SessionID: sess.ID, Reason: store.ReasonSignedOut}}
	if got := recA.Take(); !slices.Equal(got, ended) {
		t.Fatalf("A published %v, want %v", got, ended)
	}
	if got := recB.TakeN(t, 1); !slices.Equal(got, ended) {
		t.Fatalf("B published %v, want %v", got, ended)
	}
	recB.SetCheck(nil)

	// A user's change made on B: A drops the cached user before it hears.
	keep, keepTok := mustSession(t, b, u.ID, store.NewSession{})
	if _, _, err := a.Peek(keepTok); err != nil {
		t.Fatal(err)
	}
	recA.TakeN(t, 1) // B's sign-in
	recA.SetCheck(func(ch store.Change) {
		if _, usr, err := a.Peek(keepTok); ch.Kind == store.UserChanged && (err != nil || usr.PasswordHash != "new") {
			t.Errorf("at A's publish, Peek on A: %q, %v; want the new hash", usr.PasswordHash, err)
		}
	})
	if _, err := b.SetPasswordHash(u.ID, "new", false, keep.ID); err != nil {
		t.Fatal(err)
	}
	changed := []store.Change{{Kind: store.UserChanged, UserID: u.ID}}
	if got := recA.TakeN(t, 1); !slices.Equal(got, changed) {
		t.Fatalf("A published %v, want %v", got, changed)
	}
	recA.SetCheck(nil)
	// Each instance publishes its own changes once. A heard B's password
	// change, committed after A's own changes, so A's listener is past
	// those and did not publish them again; B hears a last change of A's
	// after its own.
	if got := recA.Take(); len(got) != 0 {
		t.Fatalf("A published more: %v", got)
	}
	if _, err := a.RevokeUserSession(u.ID, keep.ID, store.ReasonRevoked); err != nil {
		t.Fatal(err)
	}
	want := []store.Change{
		{Kind: store.SessionStarted, UserID: u.ID, SessionID: keep.ID},
		{Kind: store.UserChanged, UserID: u.ID},
		{Kind: store.SessionEnded, UserID: u.ID, SessionID: keep.ID, Reason: store.ReasonRevoked},
	}
	if got := recB.TakeN(t, len(want)); !slices.Equal(got, want) {
		t.Fatalf("B published %v, want its own two changes once, then A's revoke", got)
	}
}

// While B's listener is cut, B cannot hear A's changes; when it listens
// again it tells its Notifier that it missed some, so live pages re-read
// what they show, and by then a session revoked meanwhile is refused.
//
// B's reconnection is held back until A's revoke has committed: left to
// itself, B may listen again before a slow revoke commits (it once did
// under two CPU hogs), and then it missed nothing and hears the revoke.
func TestNotifyChangesMissed(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t)
	url := pgtest.NewDB(t)
	recB := &storetest.Recorder{}
	gate := newDialGate()
	a := mustOpenURL(t, url, Options{})
	b := mustOpenURL(t, url, Options{Notifier: recB, listenerDial: gate.dial})
	u := mustUser(t, a, store.RoleClientAdmin)
	sess, tok := mustSession(t, a, u.ID, store.NewSession{})
	recB.TakeN(t, 1) // the sign-in
	var peeked atomic.Bool
	recB.SetCheck(func(ch store.Change) {
		if ch.Kind != store.ChangesMissed {
			return
		}
		peeked.Store(true)
		if _, _, err := b.Peek(tok); reasonOf(err) != store.ReasonSignedOut {
			t.Errorf("when B says it missed changes, Peek on B: %v; want refused as signed out", err)
		}
	})
	old := b.listener.pid.Load()
	gate.hold()
	c.Terminate(t, old)
	if _, err := a.RevokeUserSession(u.ID, sess.ID, store.ReasonSignedOut); err != nil {
		t.Fatal(err)
	}
	gate.release()
	waitFor(t, "B to listen again", func() bool { p := b.listener.pid.Load(); return p != 0 && p != old })
	if got := recB.TakeN(t, 1); !slices.ContainsFunc(got, func(ch store.Change) bool { return ch.Kind == store.ChangesMissed }) {
		t.Fatalf("B published %v, want ChangesMissed", got)
	}
	if !peeked.Load() {
		t.Fatal("B's Notifier was not checked at ChangesMissed")
	}
}

// dialGate holds a listener's new connections back while held.
type dialGate struct {
	mu   sync.Mutex
	open chan struct{} // closed while connections may go through
}

func newDialGate() *dialGate {
	g := &dialGate{open: make(chan struct{})}
	close(g.open)
	return g
}

func (g *dialGate) hold() {
	g.mu.Lock()
	g.open = make(chan struct{})
	g.mu.Unlock()
}

func (g *dialGate) release() {
	g.mu.Lock()
	close(g.open)
	g.mu.Unlock()
}

func (g *dialGate) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	g.mu.Lock()
	open := g.open
	g.mu.Unlock()
	select {
	case <-open:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// A sign-out of hundreds of sessions takes several notifications; every
// change reaches the other instance.
func TestNotifyManyAcrossInstances(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDB(t)
	recB := &storetest.Recorder{}
	a := mustOpenURL(t, url, Options{})
	mustOpenURL(t, url, Options{Notifier: recB})
	u := mustUser(t, a, store.RoleClientAdmin)
	batch := make([]store.SessionFor, 300)
	for i := range batch {
		batch[i].UserID = u.ID
	}
	created, _, err := a.CreateSessions(batch)
	if err != nil {
		t.Fatal(err)
	}
	recB.TakeN(t, len(batch))
	if n, err := a.RevokeAllUserSessions(u.ID, store.ReasonEverywhere); err != nil || n != len(batch) {
		t.Fatalf("RevokeAllUserSessions = %d, %v", n, err)
	}
	got := recB.TakeN(t, len(batch))
	var ids []string
	for _, ch := range got {
		if ch.Kind != store.SessionEnded || ch.Reason != store.ReasonEverywhere {
			t.Fatalf("B heard %+v", ch)
		}
		ids = append(ids, ch.SessionID)
	}
	var want []string
	for _, x := range created {
		want = append(want, x.ID)
	}
	slices.Sort(ids)
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Fatalf("B heard of %d sessions, want the %d revoked, each once", len(ids), len(want))
	}
}

func TestChangePayloads(t *testing.T) {
	t.Parallel()
	const instance = "0123456789abcdef0123456789abcdef"
	var many []store.Change
	for i := range 500 {
		many = append(many, store.Change{Kind: store.SessionEnded, UserID: fmt.Sprintf("%032x", i), SessionID: fmt.Sprintf("%032x", i+1), Reason: store.ReasonPartnerAll})
	}
	tests := []struct {
		name     string
		changes  []store.Change
		payloads int
	}{
		{"none", nil, 0},
		{"one", many[:1], 1},
		{"a user change", []store.Change{{Kind: store.UserChanged, UserID: instance}}, 1},
		{"more than one payload holds", many, 500 * 110 / maxPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := changePayloads(instance, tt.changes)
			if len(ps) < tt.payloads {
				t.Errorf("%d payloads, want at least %d", len(ps), tt.payloads)
			}
			var back []store.Change
			for _, p := range ps {
				if len(p) >= 8000 {
					t.Errorf("a payload of %d bytes: PostgreSQL takes fewer than 8000", len(p))
				}
				from, changes, ok := parseChanges(p)
				if !ok || from != instance {
					t.Fatalf("parseChanges(%.40q...) = %q, %v", p, from, ok)
				}
				back = append(back, changes...)
			}
			if !slices.Equal(back, tt.changes) {
				t.Errorf("read back %d changes, want the %d sent in order", len(back), len(tt.changes))
			}
		})
	}
	for _, bad := range []string{"", "{}", "not json", `{"c":[{"k":2}]}`, strings.Repeat("[", 100)} {
		if _, _, ok := parseChanges(bad); ok {
			t.Errorf("parseChanges(%q) accepted it", bad)
		}
	}
}

// While B's listener is down, B does not trust its cache: a session B
// validated during the outage and A revoked is refused on B's very next
// request, before B listens again. (Keeping the cache trusted while down
// passed the older tests, which only revoked sessions cached before the
// cut.)
func TestNoCacheWhileListenerDown(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t)
	url := pgtest.NewDB(t)
	gate := newDialGate()
	a := mustOpenURL(t, url, Options{})
	b := mustOpenURL(t, url, Options{listenerDial: gate.dial})
	u := mustUser(t, a, store.RoleClientAdmin)
	sess, tok := mustSession(t, a, u.ID, store.NewSession{})
	old := b.listener.pid.Load()
	gate.hold()
	defer gate.release()
	c.Terminate(t, old)
	waitFor(t, "B to notice its listener is down", func() bool { return b.listener.pid.Load() == 0 })
	wantLive(t, b, tok) // validated during the outage
	if b.Cached(store.HashToken(tok)) {
		t.Error("B cached a session while it could not hear revocations")
	}
	if _, err := a.RevokeUserSession(u.ID, sess.ID, store.ReasonSignedOut); err != nil {
		t.Fatal(err)
	}
	refusedNext(t, b, tok)
	if b.listener.pid.Load() != 0 {
		t.Fatal("B listened again before the check: the test proved nothing")
	}
}
