package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"portal/device"
	"portal/geo"
	"portal/store"
)

var sessionTests = []test{
	{"CreateSessionAndAuthenticate", testCreateSessionAndAuthenticate},
	{"CreateSessionsAllOrNone", testCreateSessionsAllOrNone},
	{"ListUserSessions", testListUserSessions},
	{"Expiry", testExpiry},
	{"PeekIsNotActivity", testPeekIsNotActivity},
	{"SeenFrom", testSeenFrom},
	{"UserSessionsByID", testUserSessionsByID},
	{"SessionsEndedSince", testSessionsEndedSince},
}

func testCreateSessionAndAuthenticate(t *testing.T, open Opener) {
	s, c := openAt(t, open, Options{})
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
	if len(token) != 43 || !store.ValidID(sess.ID) || sess.UserID != u.ID || !sess.CreatedAt.Equal(T0) || !sess.LastActive.Equal(T0) {
		t.Errorf("CreateSession = %+v, token of %d characters", sess, len(token))
	}
	if token == sess.ID {
		t.Errorf("the token is the session's id")
	}
	c.Advance(time.Minute)
	got, user, err := s.Authenticate(token)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != sess.ID || got.UserID != u.ID || got.Device != in.Device || got.FirstPlace != in.Place || got.LastPlace != in.Place ||
		got.TimeZone != in.TimeZone || got.UserAgent != in.UserAgent || user.ID != u.ID {
		t.Errorf("Authenticate = %+v, %+v; want the created session %+v", got, user, sess)
	}
	if !got.LastActive.Equal(T0) {
		t.Errorf("Authenticate LastActive %v, want the previous activity %v", got.LastActive, T0)
	}
	if got, _ := s.UserSession(u.ID, sess.ID); !got.LastActive.Equal(T0.Add(time.Minute)) {
		t.Errorf("UserSession LastActive %v, want the request's time", got.LastActive)
	}
	if list, err := s.ListUserSessions(u.ID); err != nil || len(list) != 1 || list[0].ID != sess.ID {
		t.Errorf("ListUserSessions = %+v, %v", list, err)
	}
}

func testCreateSessionsAllOrNone(t *testing.T, open Opener) {
	s, _ := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientAdmin)
	if _, _, err := s.CreateSessions([]store.SessionFor{{UserID: u.ID}, {UserID: noSuchID}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateSessions with an unknown user: %v, want ErrNotFound", err)
	}
	if list, _ := s.ListUserSessions(u.ID); len(list) != 0 {
		t.Errorf("%d sessions of a failed batch were kept", len(list))
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

func testListUserSessions(t *testing.T, open Opener) {
	s, c := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientAdmin)
	old, _ := mustSession(t, s, u.ID, store.NewSession{})
	c.Advance(time.Minute)
	mid, _ := mustSession(t, s, u.ID, store.NewSession{})
	c.Advance(time.Minute)
	newest, newestTok := mustSession(t, s, u.ID, store.NewSession{})
	c.Advance(time.Minute)
	wantLive(t, s, newestTok)
	gone, _ := mustSession(t, s, u.ID, store.NewSession{})
	ok(t)(s.RevokeUserSession(u.ID, gone.ID, store.ReasonSignedOut))
	list, err := s.ListUserSessions(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(list), []string{newest.ID, mid.ID, old.ID}; !slices.Equal(got, want) {
		t.Errorf("ListUserSessions = %v, want newest, mid, old without the revoked one %v", got, want)
	}
	c.Advance(testPolicy.IdleTimeout - time.Minute)
	if list, _ := s.ListUserSessions(u.ID); len(list) != 1 || list[0].ID != newest.ID {
		t.Errorf("after the idle timeout of two: %v, want the one used since", ids(list))
	}
}

func ids(list []store.Session) []string {
	var out []string
	for _, x := range list {
		out = append(out, x.ID)
	}
	return out
}

func testExpiry(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name    string
		advance []time.Duration // each step followed by a request
		want    store.Reason    // "" for live
	}{
		{"active", []time.Duration{29 * time.Minute, 29 * time.Minute}, ""},
		{"idle", []time.Duration{30 * time.Minute}, store.ReasonIdle},
		{"lifetime despite activity", slices.Repeat([]time.Duration{29 * time.Minute}, 25), store.ReasonLifetime},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := openAt(t, open, Options{})
			u := mustUser(t, s, store.RoleClientAdmin)
			sess, token := mustSession(t, s, u.ID, store.NewSession{})
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
			if reasonOf(err) != tc.want {
				t.Fatalf("Authenticate: %v, want ended (%s)", err, tc.want)
			}
			if _, _, err := s.Peek(token); reasonOf(err) != tc.want {
				t.Errorf("Peek: %v, want ended (%s)", err, tc.want)
			}
			// The flush records the expiry, dated when it happened.
			mustFlush(t, s)
			got, err := s.UserSession(u.ID, sess.ID)
			at := sess.CreatedAt.Add(testPolicy.MaxLifetime)
			if tc.want == store.ReasonIdle {
				at = sess.LastActive.Add(testPolicy.IdleTimeout)
			}
			if err != nil || got.EndReason != tc.want || !got.EndedAt.Equal(at) {
				t.Errorf("after the flush: ended %q at %v, %v; want %q at %v", got.EndReason, got.EndedAt, err, tc.want, at)
			}
			if got := userEvents(t, s, u.ID); got[len(got)-1] != "ended "+string(tc.want) {
				t.Errorf("events %q", got)
			}
			wantEnded(t, s, token, tc.want)
		})
	}
}

func testPeekIsNotActivity(t *testing.T, open Opener) {
	s, clk := openAt(t, open, Options{Policy: store.Policy{IdleTimeout: 10 * time.Minute, MaxLifetime: time.Hour}})
	u := mustUser(t, s, store.RoleClientStaff)
	_, tok := mustSession(t, s, u.ID, store.NewSession{})
	for range 9 {
		clk.Advance(time.Minute)
		if got, usr, err := s.Peek(tok); err != nil || !got.LastActive.Equal(T0) || usr.ID != u.ID {
			t.Fatalf("Peek: last active %v, user %q, %v; want %v", got.LastActive, usr.ID, err, T0)
		}
	}
	if n := s.PendingLastActive(); n != 0 {
		t.Fatalf("Peek queued %d activities to flush", n)
	}
	clk.Advance(time.Minute)
	if _, _, err := s.Peek(tok); reasonOf(err) != store.ReasonIdle {
		t.Fatalf("Peek at the idle timeout: %v, want ended (idle)", err)
	}
	// Authenticate counts: six requests nine minutes apart keep it live
	// until the lifetime.
	_, tok2 := mustSession(t, s, u.ID, store.NewSession{})
	for range 6 {
		clk.Advance(9 * time.Minute)
		wantLive(t, s, tok2)
	}
	if s.PendingLastActive() == 0 {
		t.Errorf("Authenticate queued no activity")
	}
	got, _, err := s.Peek(tok2)
	if err != nil {
		t.Fatal(err)
	}
	if want := got.CreatedAt.Add(time.Hour); !got.ExpiresAt(s.Policy()).Equal(want) {
		t.Fatalf("ExpiresAt near the lifetime = %v, want %v", got.ExpiresAt(s.Policy()), want)
	}
}

func testSeenFrom(t *testing.T, open Opener) {
	s, c := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientAdmin)
	first := geo.Place{Network: "203.0.113.0/24", Masked: "203.0.113.x", Location: geo.Location{City: "Lyon", Country: "France", CountryCode: "FR"}}
	moved := geo.Place{Network: "198.51.100.0/24", Masked: "198.51.100.x", Location: geo.Location{City: "Berlin", Country: "Germany", CountryCode: "DE"}}
	sess, token := mustSession(t, s, u.ID, store.NewSession{Place: first})
	c.Advance(time.Minute)
	wantLive(t, s, token)
	s.SeenFrom(token, moved)
	s.SeenFrom("not a token", moved) // ignored
	mustFlush(t, s)
	got, err := s.UserSession(u.ID, sess.ID)
	if err != nil || got.FirstPlace != first || got.LastPlace != moved || !got.LastActive.Equal(T0.Add(time.Minute)) {
		t.Fatalf("after SeenFrom and a flush: first %v last %v at %v, %v; want %v, %v at %v", got.FirstPlace, got.LastPlace, got.LastActive, err, first, moved, T0.Add(time.Minute))
	}
	if got, _, err := s.Peek(token); err != nil || got.LastPlace != moved {
		t.Errorf("Peek after SeenFrom: %v, %v", got.LastPlace, err)
	}
}

func testUserSessionsByID(t *testing.T, open Opener) {
	s, clk := openAt(t, open, Options{})
	u, other := mustUser(t, s, store.RoleClientStaff), mustUser(t, s, store.RoleClientStaff)
	live, liveTok := mustSession(t, s, u.ID, store.NewSession{})
	ended, _ := mustSession(t, s, u.ID, store.NewSession{})
	ok(t)(s.RevokeUserSession(u.ID, ended.ID, store.ReasonSignedOut))
	theirs, _ := mustSession(t, s, other.ID, store.NewSession{})
	clk.Advance(time.Minute)
	wantLive(t, s, liveTok) // not flushed
	got, err := s.UserSessionsByID(u.ID, []string{live.ID, ended.ID, theirs.ID, noSuchID, "not an id"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[live.ID].ID != live.ID || got[ended.ID].EndReason != store.ReasonSignedOut {
		t.Fatalf("got %d sessions %+v; want the live and the ended one, not the other user's", len(got), got)
	}
	if la := got[live.ID].LastActive; !la.Equal(T0.Add(time.Minute)) {
		t.Errorf("live session last active %v, want the unflushed %v", la, T0.Add(time.Minute))
	}
	if got, err := s.UserSessionsByID(u.ID, nil); err != nil || len(got) != 0 {
		t.Errorf("no ids: %v, %v", got, err)
	}
}

func testSessionsEndedSince(t *testing.T, open Opener) {
	s, clk := openAt(t, open, Options{Policy: store.Policy{IdleTimeout: time.Hour, MaxLifetime: 24 * time.Hour}})
	u := mustUser(t, s, store.RoleClientStaff)
	other := mustUser(t, s, store.RoleClientStaff)
	early, _ := mustSession(t, s, u.ID, store.NewSession{})
	idle, _ := mustSession(t, s, u.ID, store.NewSession{})
	_, liveTok := mustSession(t, s, u.ID, store.NewSession{})
	mustSession(t, s, other.ID, store.NewSession{})
	ok(t)(s.RevokeUserSession(u.ID, early.ID, store.ReasonRevoked))
	since := clk.Advance(time.Minute)
	clk.Advance(30 * time.Minute)
	wantLive(t, s, liveTok) // keeps it live, unflushed
	late, _ := mustSession(t, s, u.ID, store.NewSession{})
	ok(t)(s.RevokeUserSession(u.ID, late.ID, store.ReasonRevoked))
	clk.Advance(40 * time.Minute) // idle expired at T0+1h, after since

	got, err := s.SessionsEndedSince(u.ID, since)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(got), []string{late.ID, idle.ID}; !slices.Equal(got, want) {
		t.Fatalf("ended since: %v, want %v (revoked at +31m, then idle at +60m; not the one revoked before)", got, want)
	}
	if got, err := s.SessionsEndedSince(other.ID, since); err != nil || len(got) != 1 || got[0].UserID != other.ID {
		t.Fatalf("another user's: %v, %v", got, err)
	}
}
