package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"portal/device"
	"portal/geo"
	"portal/internal/pgtest"
	"portal/store"
)

func TestCreateSessionAndAuthenticate(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := mustOpen(t, Options{Now: c.Now, Policy: testPolicy})
	u := mustUser(t, s, store.RoleClientAdmin)
	in := store.NewSession{
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
		Device:    device.Info{Browser: "Firefox", BrowserVersion: "140", OS: "Linux", Type: "desktop"},
		Place:     geo.Place{Network: "203.0.113.0/24", Masked: "203.0.113.x", Location: geo.Location{City: "Lyon", Country: "France", CountryCode: "FR"}},
		TimeZone:  "Europe/Paris",
	}
	sess, token, err := s.CreateSession(u.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(token) != 43 || !store.ValidID(sess.ID) || !sess.CreatedAt.Equal(t0) || !sess.LastActive.Equal(t0) {
		t.Errorf("CreateSession = %+v, token of %d characters", sess, len(token))
	}
	c.Advance(time.Minute)
	got, user, err := s.Authenticate(token)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != sess.ID || got.UserID != u.ID || got.Device != in.Device || got.FirstPlace != in.Place || got.TimeZone != in.TimeZone || user.ID != u.ID {
		t.Errorf("Authenticate = %+v, %+v; want the created session %+v", got, user, sess)
	}
	if !got.LastActive.Equal(t0) {
		t.Errorf("Authenticate LastActive %v, want the previous activity %v", got.LastActive, t0)
	}
	if got, _ := s.UserSession(u.ID, sess.ID); !got.LastActive.Equal(t0.Add(time.Minute)) {
		t.Errorf("UserSession LastActive %v, want the request's time", got.LastActive)
	}
	// From a cold start (another instance): the row round-trips.
	b := mustOpenURL(t, dbURL(s), Options{Now: c.Now, Policy: testPolicy})
	got = wantLive(t, b, token)
	if got.ID != sess.ID || got.Device != in.Device || got.LastPlace != in.Place || !got.CreatedAt.Equal(t0) || got.TimeZone != in.TimeZone || got.UserAgent != in.UserAgent {
		t.Errorf("another instance's Authenticate = %+v, want %+v", got, sess)
	}
}

// dbURL is the URL s was opened with (unmasked: the test cluster has no
// passwords).
func dbURL(s *Store) string { return s.url }

func TestRawTokenNeverStored(t *testing.T) {
	t.Parallel()
	s := mustOpen(t, Options{})
	u := mustUser(t, s, store.RoleClientAdmin)
	_, token := mustSession(t, s, u.ID, store.NewSession{})
	n := sqlInt(t, s, `SELECT count(*) FROM (
		SELECT to_jsonb(x)::text AS t FROM sessions x UNION ALL SELECT to_jsonb(e)::text FROM events e) all_rows
		WHERE strpos(t, $1) > 0`, token)
	if n != 0 {
		t.Errorf("the raw token is in %d rows", n)
	}
}

func TestRevokeUserSession(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := mustOpen(t, Options{Now: c.Now, Policy: testPolicy})
	u := mustUser(t, s, store.RoleClientAdmin)
	a, aToken := mustSession(t, s, u.ID, store.NewSession{})
	b, bToken := mustSession(t, s, u.ID, store.NewSession{})
	wantLive(t, s, bToken)
	c.Advance(time.Minute)
	got, err := s.RevokeUserSessionBy(u.ID, b.ID, store.ReasonRevoked, store.Actor{Session: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	if got.RevokeReason != store.ReasonRevoked || !got.RevokedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("revoked session %+v", got)
	}
	wantEnded(t, s, bToken, store.ReasonRevoked)
	wantLive(t, s, aToken)
	// Again: it keeps its first end, and no second event is written.
	again, err := s.RevokeUserSession(u.ID, b.ID, store.ReasonSignedOut)
	if err != nil || again.RevokeReason != store.ReasonRevoked {
		t.Errorf("second revoke = %+v, %v", again, err)
	}
	if list, _ := s.ListUserSessions(u.ID); len(list) != 1 || list[0].ID != a.ID {
		t.Errorf("ListUserSessions = %+v, want only a", list)
	}
	p, _ := s.UserEvents(u.ID, store.EventQuery{Kinds: []store.EventKind{store.EventEnded}})
	if p.Total != 1 || p.Events[0].By.Session != a.ID || p.Events[0].SessionID != b.ID {
		t.Errorf("ended events %+v", p.Events)
	}
}

func TestRevokeUserSessionAlreadyExpired(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := mustOpen(t, Options{Now: c.Now, Policy: testPolicy})
	u := mustUser(t, s, store.RoleClientAdmin)
	sess, _ := mustSession(t, s, u.ID, store.NewSession{})
	c.Advance(time.Hour)
	got, err := s.RevokeUserSession(u.ID, sess.ID, store.ReasonSignedOut)
	if err != nil {
		t.Fatal(err)
	}
	if got.RevokeReason != store.ReasonIdle || !got.RevokedAt.Equal(t0.Add(testPolicy.IdleTimeout)) {
		t.Errorf("revoke of an expired session recorded %s at %v, want idle at %v", got.RevokeReason, got.RevokedAt, t0.Add(testPolicy.IdleTimeout))
	}
}

func TestRevokeOtherAndAll(t *testing.T) {
	t.Parallel()
	s := mustOpen(t, Options{})
	u := mustUser(t, s, store.RoleClientAdmin)
	other := mustUser(t, s, store.RoleClientAdmin)
	_, otherToken := mustSession(t, s, other.ID, store.NewSession{})
	keep, keepToken := mustSession(t, s, u.ID, store.NewSession{})
	var tokens []string
	for range 3 {
		_, tok := mustSession(t, s, u.ID, store.NewSession{})
		wantLive(t, s, tok)
		tokens = append(tokens, tok)
	}
	if n, err := s.RevokeOtherSessions(u.ID, keep.ID, store.ReasonRevokedAll); err != nil || n != 3 {
		t.Fatalf("RevokeOtherSessions = %d, %v; want 3", n, err)
	}
	for _, tok := range tokens {
		wantEnded(t, s, tok, store.ReasonRevokedAll)
	}
	wantLive(t, s, keepToken)
	if n, err := s.RevokeAllUserSessions(u.ID, store.ReasonEverywhere); err != nil || n != 1 {
		t.Fatalf("RevokeAllUserSessions = %d, %v; want 1", n, err)
	}
	wantEnded(t, s, keepToken, store.ReasonEverywhere)
	wantLive(t, s, otherToken)
	if n, err := s.RevokeAllUserSessions(u.ID, store.ReasonEverywhere); err != nil || n != 0 {
		t.Errorf("again = %d, %v; want 0", n, err)
	}
	if n := sqlInt(t, s, "SELECT count(*) FROM events WHERE user_id = $1 AND kind = 'ended'", u.ID); n != 4 {
		t.Errorf("%d ended events, want 4", n)
	}
}

func TestListUserSessions(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := mustOpen(t, Options{Now: c.Now, Policy: testPolicy})
	u := mustUser(t, s, store.RoleClientAdmin)
	old, _ := mustSession(t, s, u.ID, store.NewSession{})
	c.Advance(time.Minute)
	mid, _ := mustSession(t, s, u.ID, store.NewSession{})
	c.Advance(time.Minute)
	_, newest := mustSession(t, s, u.ID, store.NewSession{})
	c.Advance(time.Minute)
	wantLive(t, s, newest)
	gone, _ := mustSession(t, s, u.ID, store.NewSession{})
	if _, err := s.RevokeUserSession(u.ID, gone.ID, store.ReasonSignedOut); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListUserSessions(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, x := range list {
		ids = append(ids, x.ID)
	}
	if len(list) != 3 || list[1].ID != mid.ID || list[2].ID != old.ID {
		t.Errorf("ListUserSessions = %v, want newest, mid, old without the revoked one", ids)
	}
	c.Advance(testPolicy.IdleTimeout - time.Minute)
	if list, _ := s.ListUserSessions(u.ID); len(list) != 1 {
		t.Errorf("after the idle timeout of two, %d listed, want 1", len(list))
	}
}

func TestSessionCap(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := mustOpen(t, Options{Now: c.Now, Policy: testPolicy, MaxSessionsPerUser: 2})
	u := mustUser(t, s, store.RoleClientAdmin)
	_, first := mustSession(t, s, u.ID, store.NewSession{})
	c.Advance(time.Minute)
	_, second := mustSession(t, s, u.ID, store.NewSession{})
	c.Advance(time.Minute)
	wantLive(t, s, first) // now the first is the more recently active
	c.Advance(time.Minute)
	third, _ := mustSession(t, s, u.ID, store.NewSession{})
	wantEnded(t, s, second, store.ReasonSessionLimit)
	wantLive(t, s, first)
	p, _ := s.UserEvents(u.ID, store.EventQuery{Kinds: []store.EventKind{store.EventEnded}})
	if p.Total != 1 || p.Events[0].By.Session != third.ID {
		t.Errorf("cap events %+v, want one naming the new session", p.Events)
	}
}

// Two instances signing one user in at the cap at once never leave more
// live sessions than the cap: the user's row lock makes them take turns.
func TestSessionCapRace(t *testing.T) {
	t.Parallel()
	const limit, each = 3, 10
	url := pgtest.NewDB(t)
	a := mustOpenURL(t, url, Options{MaxSessionsPerUser: limit})
	b := mustOpenURL(t, url, Options{MaxSessionsPerUser: limit})
	u := mustUser(t, a, store.RoleClientAdmin)
	var wg sync.WaitGroup
	for _, s := range []*Store{a, b, a, b} {
		wg.Go(func() {
			for range each {
				if _, _, err := s.CreateSession(u.ID, store.NewSession{}); err != nil {
					t.Errorf("CreateSession: %v", err)
				}
			}
		})
	}
	wg.Wait()
	if n := sqlInt(t, a, "SELECT count(*) FROM sessions WHERE user_id = $1 AND revoked_at IS NULL", u.ID); n != limit {
		t.Errorf("%d live sessions after racing sign-ins, want the cap %d", n, limit)
	}
	if n := sqlInt(t, a, "SELECT count(*) FROM sessions WHERE user_id = $1 AND revoke_reason = 'session_limit'", u.ID); n != 4*each-limit {
		t.Errorf("%d sessions ended by the cap, want %d", n, 4*each-limit)
	}
}

func TestCreateSessionsAllOrNone(t *testing.T) {
	t.Parallel()
	s := mustOpen(t, Options{})
	u := mustUser(t, s, store.RoleClientAdmin)
	_, _, err := s.CreateSessions([]store.SessionFor{{UserID: u.ID}, {UserID: newID()}})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateSessions with an unknown user: %v, want ErrNotFound", err)
	}
	if n := sqlInt(t, s, "SELECT count(*) FROM sessions"); n != 0 {
		t.Errorf("%d sessions of a failed batch were kept", n)
	}
	out, tokens, err := s.CreateSessions([]store.SessionFor{{UserID: u.ID}, {UserID: u.ID}})
	if err != nil || len(out) != 2 || len(tokens) != 2 {
		t.Fatalf("CreateSessions = %d, %d, %v", len(out), len(tokens), err)
	}
	for i, tok := range tokens {
		if got := wantLive(t, s, tok); got.ID != out[i].ID {
			t.Errorf("token %d opens session %s, want %s", i, got.ID, out[i].ID)
		}
	}
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		advance []time.Duration // each step followed by a request
		want    store.Reason    // "" for live
	}{
		{"active", []time.Duration{29 * time.Minute, 29 * time.Minute}, ""},
		{"idle", []time.Duration{30 * time.Minute}, store.ReasonIdle},
		{"lifetime despite activity", repeat(25, 29*time.Minute), store.ReasonLifetime},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			s := mustOpen(t, Options{Now: c.Now, Policy: testPolicy})
			u := mustUser(t, s, store.RoleClientAdmin)
			_, token := mustSession(t, s, u.ID, store.NewSession{})
			var err error
			for _, d := range tc.advance {
				c.Advance(d)
				if _, _, err = s.Authenticate(token); err != nil {
					break
				}
			}
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Authenticate: %v, want live", err)
				}
				return
			}
			var ended *store.EndedError
			if !errors.As(err, &ended) || ended.Reason != tc.want {
				t.Fatalf("Authenticate: %v, want ended (%s)", err, tc.want)
			}
			// The flush records the expiry, dated when it happened.
			if _, err := s.FlushActivity(); err != nil {
				t.Fatal(err)
			}
			if n := sqlInt(t, s, "SELECT count(*) FROM sessions WHERE revoke_reason = $1", string(tc.want)); n != 1 {
				t.Errorf("expiry not recorded")
			}
			if got := userEvents(t, s, u.ID); got[len(got)-1] != "ended "+string(tc.want) {
				t.Errorf("events %q", got)
			}
		})
	}
}

func repeat(n int, d time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// Requests write nothing; a flush writes every touched session with one
// UPDATE, and two instances flushing one session keep the later time.
func TestFlushActivity(t *testing.T) {
	t.Parallel()
	ca, cb := newClock(), newClock()
	url := pgtest.NewDB(t)
	a := mustOpenURL(t, url, Options{Now: ca.Now, Policy: testPolicy})
	b := mustOpenURL(t, url, Options{Now: cb.Now, Policy: testPolicy})
	u := mustUser(t, a, store.RoleClientAdmin)
	sess, token := mustSession(t, a, u.ID, store.NewSession{})
	_, token2 := mustSession(t, a, u.ID, store.NewSession{})
	writes := a.WriteTxCount()
	ca.Advance(10 * time.Minute)
	cb.Advance(5 * time.Minute)
	for range 3 {
		wantLive(t, a, token)
		wantLive(t, a, token2)
		wantLive(t, b, token)
	}
	place := geo.Place{Network: "198.51.100.0/24", Masked: "198.51.100.x"}
	a.SeenFrom(token, place)
	if a.WriteTxCount() != writes {
		t.Errorf("requests wrote %d transactions", a.WriteTxCount()-writes)
	}
	if n, err := a.FlushActivity(); err != nil || n != 2 {
		t.Fatalf("a's flush = %d, %v; want 2 sessions", n, err)
	}
	if n, err := b.FlushActivity(); err != nil || n != 0 {
		t.Fatalf("b's flush of an earlier time = %d, %v; want 0 written", n, err)
	}
	got, err := b.UserSession(u.ID, sess.ID)
	if err != nil || !got.LastActive.Equal(t0.Add(10*time.Minute)) || got.LastPlace != place {
		t.Errorf("after both flushes: %v at %v, %v; want the later time %v and the new place", got.LastActive, got.LastPlace, err, t0.Add(10*time.Minute))
	}
	if n, err := a.FlushActivity(); err != nil || n != 0 {
		t.Errorf("an empty flush = %d, %v", n, err)
	}
}

// A request in flight during a revoke cannot bring the session back.
func TestFlushDoesNotResurrect(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := mustOpen(t, Options{Now: c.Now, Policy: testPolicy})
	u := mustUser(t, s, store.RoleClientAdmin)
	sess, token := mustSession(t, s, u.ID, store.NewSession{})
	c.Advance(time.Minute)
	wantLive(t, s, token)
	if _, err := s.RevokeUserSession(u.ID, sess.ID, store.ReasonSignedOut); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FlushActivity(); err != nil {
		t.Fatal(err)
	}
	wantEnded(t, s, token, store.ReasonSignedOut)
}

func TestSweep(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := mustOpen(t, Options{Now: c.Now, Policy: testPolicy})
	u := mustUser(t, s, store.RoleClientAdmin)
	revoked, _ := mustSession(t, s, u.ID, store.NewSession{})
	if _, err := s.RevokeUserSession(u.ID, revoked.ID, store.ReasonSignedOut); err != nil {
		t.Fatal(err)
	}
	mustSession(t, s, u.ID, store.NewSession{}) // will go idle
	_, active := mustSession(t, s, u.ID, store.NewSession{})
	for range 4 {
		c.Advance(20 * time.Minute)
		wantLive(t, s, active) // unflushed: the sweep must count it
	}
	// 80 minutes on: the revoked one ended 80 ago, the idle one 50 ago.
	for _, tc := range []struct {
		retention time.Duration
		want      int
	}{{2 * time.Hour, 0}, {time.Hour, 1}, {40 * time.Minute, 1}} {
		n, err := s.Sweep(tc.retention, 1)
		if err != nil || n != tc.want {
			t.Errorf("Sweep(%v) = %d, %v; want %d", tc.retention, n, err, tc.want)
		}
	}
	if n := sqlInt(t, s, "SELECT count(*) FROM sessions"); n != 1 {
		t.Errorf("%d sessions left, want the active one", n)
	}
	wantLive(t, s, active)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.SweepContext(ctx, 0, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("SweepContext after cancel: %v", err)
	}
}

// The sweeper records expiries no request noticed.
func TestSweepRecordsExpiry(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := mustOpen(t, Options{Now: c.Now, Policy: testPolicy})
	u := mustUser(t, s, store.RoleClientAdmin)
	for range 3 {
		mustSession(t, s, u.ID, store.NewSession{})
	}
	c.Advance(time.Hour)
	if n, err := s.Sweep(24*time.Hour, 2); err != nil || n != 0 {
		t.Fatalf("Sweep = %d, %v", n, err)
	}
	if n := sqlInt(t, s, "SELECT count(*) FROM sessions WHERE revoke_reason = 'idle' AND revoked_at = $1", t0.Add(testPolicy.IdleTimeout)); n != 3 {
		t.Errorf("%d expiries recorded, want 3 dated when they expired", n)
	}
	if n := sqlInt(t, s, "SELECT count(*) FROM events WHERE kind = 'ended'"); n != 3 {
		t.Errorf("%d ended events, want 3", n)
	}
}

func TestSweepEventsAndBound(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := mustOpen(t, Options{Now: c.Now})
	u := mustUser(t, s, store.RoleClientAdmin)
	batch := make([]store.SessionFor, maxEventsPerUser+5)
	for i := range batch {
		batch[i] = store.SessionFor{UserID: u.ID}
	}
	if _, _, err := s.CreateSessions(batch); err != nil {
		t.Fatal(err)
	}
	if n := sqlInt(t, s, "SELECT count(*) FROM events WHERE user_id = $1", u.ID); n != maxEventsPerUser {
		t.Errorf("%d events kept, want the bound %d", n, maxEventsPerUser)
	}
	c.Advance(time.Hour)
	mustSession(t, s, u.ID, store.NewSession{})
	n, err := s.SweepEvents(context.Background(), 30*time.Minute, 300)
	if err != nil || n != maxEventsPerUser-1 {
		t.Errorf("SweepEvents = %d, %v; want %d", n, err, maxEventsPerUser-1)
	}
	p, _ := s.UserEvents(u.ID, store.EventQuery{})
	if p.Total != 1 || p.Pages != 1 {
		t.Errorf("after the sweep: %d events, %d pages", p.Total, p.Pages)
	}
}

func TestUserEventsQuery(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := mustOpen(t, Options{Now: c.Now})
	u := mustUser(t, s, store.RoleClientAdmin)
	for i := range 60 {
		c.Advance(time.Minute)
		sess, _ := mustSession(t, s, u.ID, store.NewSession{})
		if i%2 == 0 {
			if _, err := s.RevokeUserSession(u.ID, sess.ID, store.ReasonSignedOut); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		q                   store.EventQuery
		total, pages, onPge int
	}{
		{store.EventQuery{}, 90, 2, 50},
		{store.EventQuery{Page: 2}, 90, 2, 40},
		{store.EventQuery{Page: 9}, 90, 2, 0},
		{store.EventQuery{Kinds: []store.EventKind{store.EventEnded}}, 30, 1, 30},
		{store.EventQuery{Since: t0.Add(51 * time.Minute)}, 15, 1, 15},
	} {
		p, err := s.UserEvents(u.ID, tc.q)
		if err != nil || p.Total != tc.total || p.Pages != tc.pages || len(p.Events) != tc.onPge {
			t.Errorf("UserEvents(%+v) = %d total, %d pages, %d on the page, %v; want %d, %d, %d", tc.q, p.Total, p.Pages, len(p.Events), err, tc.total, tc.pages, tc.onPge)
		}
		for i := 1; i < len(p.Events); i++ {
			if p.Events[i].At.After(p.Events[i-1].At) {
				t.Errorf("events not newest first")
			}
		}
	}
	if p, _ := s.UserEvents(u.ID, store.EventQuery{}); !strings.HasPrefix(fmt.Sprint(p.Events[0].Kind), "signed_in") {
		t.Errorf("the newest event is %s, want the last sign-in", p.Events[0].Kind)
	}
}
