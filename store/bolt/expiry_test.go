package bolt

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"portal/store"
)

// TestExpiry walks sessions through time with the fake clock. testPolicy
// is a 30 minute idle timeout and a 12 hour lifetime.
func TestExpiry(t *testing.T) {
	type step struct {
		advance time.Duration
		do      string       // "validate" (default), "flush", "reopen", "list"
		want    store.Reason // "" means live
	}
	every := func(d time.Duration, n int) []step {
		var out []step
		for range n {
			out = append(out, step{advance: d})
		}
		return out
	}
	cat := func(parts ...[]step) []step {
		var out []step
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	idle, life := testPolicy.IdleTimeout, testPolicy.MaxLifetime
	tests := []struct {
		name  string
		steps []step
	}{
		{"untouched ends exactly at the idle timeout", []step{{advance: idle, want: store.ReasonIdle}}},
		{"untouched is live a second before", []step{{advance: idle - time.Second}}},
		{"each request restarts the idle clock", cat(every(idle-time.Second, 5), []step{{advance: idle, want: store.ReasonIdle}})},
		{"activity survives a flush", []step{
			{advance: 20 * time.Minute}, {do: "flush"},
			{advance: 20 * time.Minute}, {do: "flush"},
			{advance: 20 * time.Minute},
			{advance: 29 * time.Minute},
			{do: "flush"},
			{advance: idle, want: store.ReasonIdle},
		}},
		{"activity survives a flush with nothing after it", []step{
			{advance: 20 * time.Minute}, {do: "flush"},
			{advance: 20 * time.Minute, do: "list"},
			{advance: 20 * time.Minute, do: "list", want: store.ReasonIdle},
		}},
		{"activity survives a restart", []step{
			{advance: 20 * time.Minute}, {do: "reopen"},
			{advance: 20 * time.Minute}, {do: "reopen"},
			{advance: 29 * time.Minute}, {do: "reopen"},
			{advance: idle, want: store.ReasonIdle},
		}},
		{"idle stays idle", []step{
			{advance: idle, want: store.ReasonIdle},
			{want: store.ReasonIdle},
			{do: "reopen"},
			{advance: time.Minute, want: store.ReasonIdle},
		}},
		{"lifetime ends an active session", cat(every(20*time.Minute, int(life/(20*time.Minute))-1), []step{
			{advance: 20 * time.Minute, want: store.ReasonLifetime},
		})},
		{"lifetime ends an active session across flushes and restarts", cat(
			every(25*time.Minute, 10), []step{{do: "flush"}},
			every(25*time.Minute, 10), []step{{do: "reopen"}},
			every(25*time.Minute, 8), // 28 * 25m = 11h40m
			[]step{{advance: 20 * time.Minute, want: store.ReasonLifetime}},
		)},
		{"lifetime wins over idle", []step{{advance: life + time.Hour, want: store.ReasonLifetime}}},
		{"lifetime stays", []step{{advance: life, want: store.ReasonLifetime}, {do: "reopen"}, {want: store.ReasonLifetime}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			opts := Options{Now: c.Now, Policy: testPolicy}
			s := MustOpen(t, opts)
			u := mustUser(t, s, store.RoleClientAdmin)
			sess, tok := mustSession(t, s, u.ID, store.NewSession{})
			for i, st := range tt.steps {
				c.Advance(st.advance)
				label := fmt.Sprintf("step %d (+%v %s) at %v", i, st.advance, st.do, c.Now().Sub(t0))
				switch st.do {
				case "flush":
					if _, err := s.FlushLastActive(); err != nil {
						t.Fatalf("%s: %v", label, err)
					}
				case "reopen":
					s = reopen(t, s, opts)
				case "list":
					live, err := s.ListUserSessions(u.ID)
					if err != nil {
						t.Fatalf("%s: %v", label, err)
					}
					if listed := len(live) == 1 && live[0].ID == sess.ID; listed != (st.want == "") {
						t.Fatalf("%s: listed=%v, want live=%v", label, listed, st.want == "")
					}
				default:
					got, err := s.sessionFor(tok)
					switch {
					case st.want == "" && err != nil:
						t.Fatalf("%s: sessionFor = %v, want live", label, err)
					case st.want == "" && got.LastActive.After(c.Now()):
						t.Fatalf("%s: sessionFor LastActive = %v, after now %v", label, got.LastActive, c.Now())
					case st.want == "":
						// The request's activity is what the session shows now.
						if x, err := s.UserSession(u.ID, sess.ID); err != nil || !x.LastActive.Equal(c.Now()) {
							t.Fatalf("%s: UserSession LastActive = %v, %v; want now %v", label, x.LastActive, err, c.Now())
						}
					case st.want != "":
						var ended *store.EndedError
						if !errors.As(err, &ended) || ended.Reason != st.want {
							t.Fatalf("%s: sessionFor = %v, want ended (%s)", label, err, st.want)
						}
					}
				}
			}
			mustCheck(t, s)
		})
	}
}

// A session pushed out of the cache keeps the activity it had while
// cached: with room for one session, alternating between two must not
// make either look idle.
func TestActivitySurvivesCacheEviction(t *testing.T) {
	c := newClock()
	s := MustOpen(t, Options{Now: c.Now, Policy: testPolicy, CacheSize: 1})
	u := mustUser(t, s, store.RoleClientAdmin)
	_, a := mustSession(t, s, u.ID, store.NewSession{})
	_, b := mustSession(t, s, u.ID, store.NewSession{})
	for i := range 6 {
		c.Advance(20 * time.Minute)
		for _, tok := range []string{a, b} {
			if _, err := s.sessionFor(tok); err != nil {
				t.Fatalf("round %d (t0+%v): sessionFor = %v, want live", i, c.Now().Sub(t0), err)
			}
		}
	}
	if _, err := s.FlushLastActive(); err != nil {
		t.Fatal(err)
	}
	for _, x := range mustList(t, s, u.ID) {
		if !x.LastActive.Equal(c.Now()) {
			t.Errorf("session %s LastActive %v, want %v", x.ID, x.LastActive, c.Now())
		}
	}
	c.Advance(testPolicy.IdleTimeout)
	wantEnded(t, s, a, store.ReasonIdle)
	wantEnded(t, s, b, store.ReasonIdle)
}

func mustList(tb testing.TB, s *Store, userID string) []store.Session {
	tb.Helper()
	live, err := s.ListUserSessions(userID)
	if err != nil {
		tb.Fatal(err)
	}
	return live
}

func TestSessionEnded(t *testing.T) {
	p := testPolicy
	created := t0
	tests := []struct {
		name       string
		s          store.Session
		now        time.Time
		wantEnded  bool
		wantReason store.Reason
		wantAt     time.Time
	}{
		{"fresh", store.Session{CreatedAt: created, LastActive: created}, created, false, "", time.Time{}},
		{"idle boundary", store.Session{CreatedAt: created, LastActive: created}, created.Add(p.IdleTimeout), true, store.ReasonIdle, created.Add(p.IdleTimeout)},
		{"idle minus 1ns", store.Session{CreatedAt: created, LastActive: created}, created.Add(p.IdleTimeout - 1), false, "", time.Time{}},
		{"lifetime boundary", store.Session{CreatedAt: created, LastActive: created.Add(p.MaxLifetime)}, created.Add(p.MaxLifetime), true, store.ReasonLifetime, created.Add(p.MaxLifetime)},
		{"revoked wins", store.Session{CreatedAt: created, LastActive: created, EndedAt: created.Add(time.Minute), EndReason: store.ReasonSignedOut}, created.Add(p.MaxLifetime * 2), true, store.ReasonSignedOut, created.Add(time.Minute)},
	}
	for _, tt := range tests {
		ended, reason := tt.s.Ended(tt.now, p)
		if ended != tt.wantEnded || reason != tt.wantReason {
			t.Errorf("%s: Ended = %v, %q; want %v, %q", tt.name, ended, reason, tt.wantEnded, tt.wantReason)
		}
		if at := tt.s.EndTime(tt.now, p); !at.Equal(tt.wantAt) {
			t.Errorf("%s: endedAt = %v, want %v", tt.name, at, tt.wantAt)
		}
	}
	// A zero policy never expires anything.
	if ended, _ := (store.Session{CreatedAt: created, LastActive: created}).Ended(created.Add(1000*time.Hour), store.Policy{}); ended {
		t.Error("zero policy expired a session")
	}
}
