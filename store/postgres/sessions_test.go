package postgres

import (
	"context"
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
	if n, err := a.FlushLastActive(); err != nil || n != 2 {
		t.Fatalf("a's flush = %d, %v; want 2 sessions", n, err)
	}
	if n, err := b.FlushLastActive(); err != nil || n != 0 {
		t.Fatalf("b's flush of an earlier time = %d, %v; want 0 written", n, err)
	}
	got, err := b.UserSession(u.ID, sess.ID)
	if err != nil || !got.LastActive.Equal(t0.Add(10*time.Minute)) || got.LastPlace != place {
		t.Errorf("after both flushes: %v at %v, %v; want the later time %v and the new place", got.LastActive, got.LastPlace, err, t0.Add(10*time.Minute))
	}
	if n, err := a.FlushLastActive(); err != nil || n != 0 {
		t.Errorf("an empty flush = %d, %v", n, err)
	}
}

func TestSweepEventsAndBound(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := mustOpen(t, Options{Now: c.Now})
	u := mustUser(t, s, store.RoleClientAdmin)
	batch := make([]store.SessionFor, store.MaxEventsPerUser+5)
	for i := range batch {
		batch[i] = store.SessionFor{UserID: u.ID}
	}
	if _, _, err := s.CreateSessions(batch); err != nil {
		t.Fatal(err)
	}
	if n := sqlInt(t, s, "SELECT count(*) FROM events WHERE user_id = $1", u.ID); n != store.MaxEventsPerUser {
		t.Errorf("%d events kept, want the bound %d", n, store.MaxEventsPerUser)
	}
	c.Advance(time.Hour)
	mustSession(t, s, u.ID, store.NewSession{})
	n, err := s.SweepEvents(context.Background(), 30*time.Minute, 300)
	if err != nil || n != store.MaxEventsPerUser-1 {
		t.Errorf("SweepEvents = %d, %v; want %d", n, err, store.MaxEventsPerUser-1)
	}
	p, _ := s.UserEvents(u.ID, store.EventQuery{})
	if p.Total != 1 || p.Pages != 1 {
		t.Errorf("after the sweep: %d events, %d pages", p.Total, p.Pages)
	}
}
