package bolt

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"portal/device"
	"portal/geo"
	"portal/store"
)

func TestCreateSessionAndValidate(t *testing.T) {
	c := newClock()
	s := MustOpen(t, Options{Now: c.Now, Policy: testPolicy})
	u := mustUser(t, s, store.RoleClientAdmin)
	in := store.NewSession{
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
		Device:    device.Info{Browser: "Firefox", BrowserVersion: "140", OS: "Linux", Type: "desktop"},
		Place:     geo.Place{Network: "203.0.113.0/24", Masked: "203.0.113.x", Location: geo.Location{City: "Lyon", Country: "France", CountryCode: "FR"}},
	}
	sess, token, err := s.CreateSession(u.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(token) != 43 {
		t.Errorf("token %q has %d characters, want 43", token, len(token))
	}
	if raw, err := base64.RawURLEncoding.DecodeString(token); err != nil || len(raw) != 32 {
		t.Errorf("token is not 32 bytes of unpadded base64url: %d bytes, %v", len(raw), err)
	}
	if !store.ValidID(sess.ID) {
		t.Errorf("session id %q does not pass ValidID", sess.ID)
	}
	if th := store.HashToken(token); strings.Contains(token, sess.ID) || sess.ID == hex.EncodeToString(th[:16]) {
		t.Errorf("session id %q is derived from the token", sess.ID)
	}
	if !sess.CreatedAt.Equal(t0) || !sess.LastActive.Equal(t0) {
		t.Errorf("CreatedAt %v LastActive %v, want both %v", sess.CreatedAt, sess.LastActive, t0)
	}
	if sess.FirstPlace != in.Place || sess.LastPlace != in.Place {
		t.Errorf("places %+v / %+v, want %+v", sess.FirstPlace, sess.LastPlace, in.Place)
	}

	c.Advance(time.Minute)
	got := wantLive(t, s, token)
	if got.ID != sess.ID || got.UserID != u.ID || got.UserAgent != in.UserAgent || got.Device != in.Device || got.FirstPlace != in.Place {
		t.Errorf("sessionFor = %+v, want the created session %+v", got, sess)
	}
	// sessionFor returns the session as it was before this request; the
	// request's own activity shows from then on.
	if !got.LastActive.Equal(t0) {
		t.Errorf("sessionFor LastActive %v, want the previous activity %v", got.LastActive, t0)
	}
	if got, _ := s.UserSession(u.ID, sess.ID); !got.LastActive.Equal(t0.Add(time.Minute)) {
		t.Errorf("UserSession LastActive %v, want the request's time %v", got.LastActive, t0.Add(time.Minute))
	}

	// The same from a cold start: the record round-trips through the file.
	s = reopen(t, s, Options{Now: c.Now, Policy: testPolicy})
	got = wantLive(t, s, token)
	if got.ID != sess.ID || got.Device != in.Device || got.LastPlace != in.Place || !got.CreatedAt.Equal(t0) {
		t.Errorf("after reopen sessionFor = %+v, want %+v", got, sess)
	}
}

func TestNewSessionExplicitTimes(t *testing.T) {
	c := newClock()
	s := MustOpen(t, Options{Now: c.Now})
	u := mustUser(t, s, store.RoleClientAdmin)
	created := t0.Add(-time.Hour)
	sess, _ := mustSession(t, s, u.ID, store.NewSession{CreatedAt: created})
	if !sess.CreatedAt.Equal(created) || !sess.LastActive.Equal(created) {
		t.Errorf("CreatedAt %v LastActive %v, want both %v", sess.CreatedAt, sess.LastActive, created)
	}
	active := t0.Add(-time.Minute)
	sess, _ = mustSession(t, s, u.ID, store.NewSession{CreatedAt: created, LastActive: active})
	if !sess.CreatedAt.Equal(created) || !sess.LastActive.Equal(active) {
		t.Errorf("CreatedAt %v LastActive %v, want %v and %v", sess.CreatedAt, sess.LastActive, created, active)
	}
}

// The raw token must never reach the disk; only its SHA-256 may.
func TestRawTokenNeverStored(t *testing.T) {
	s := MustOpen(t, Options{Policy: testPolicy})
	u := mustUser(t, s, store.RoleClientAdmin)
	var tokens []string
	for range 20 {
		_, tok := mustSession(t, s, u.ID, store.NewSession{UserAgent: "test"})
		wantLive(t, s, tok)
		tokens = append(tokens, tok)
	}
	if _, err := s.FlushLastActive(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	for i, tok := range tokens {
		raw, _ := base64.RawURLEncoding.DecodeString(tok)
		h := store.HashToken(tok)
		if bytes.Contains(data, []byte(tok)) {
			t.Errorf("token %d appears in the database file", i)
		}
		if bytes.Contains(data, raw) {
			t.Errorf("token %d's raw bytes appear in the database file", i)
		}
		if bytes.Contains(data, []byte(hex.EncodeToString(raw))) {
			t.Errorf("token %d's bytes appear hex-encoded in the database file", i)
		}
		if !bytes.Contains(data, h[:]) {
			t.Errorf("token %d's sha256 key is not in the database file", i)
		}
	}
}

func TestTokensAndIDsDistinct(t *testing.T) {
	s := MustOpen(t, Options{})
	u := mustUser(t, s, store.RoleClientStaff)
	const n = 1000
	tokens := make(map[string]bool, n)
	ids := make(map[string]bool, n)
	for range n {
		sess, tok := mustSession(t, s, u.ID, store.NewSession{})
		if len(tok) != 43 {
			t.Fatalf("token %q has %d characters", tok, len(tok))
		}
		if tokens[tok] {
			t.Fatalf("token repeated after %d sessions", len(tokens))
		}
		if !store.ValidID(sess.ID) || ids[sess.ID] {
			t.Fatalf("session id %q invalid or repeated", sess.ID)
		}
		tokens[tok], ids[sess.ID] = true, true
	}
	if len(tokens) != n || len(ids) != n {
		t.Fatalf("%d tokens, %d ids; want %d each", len(tokens), len(ids), n)
	}
	live, err := s.ListUserSessions(u.ID)
	if err != nil || len(live) != n {
		t.Fatalf("ListUserSessions = %d, %v; want %d", len(live), err, n)
	}
	mustCheck(t, s)
}

func TestValidateRejectsUnknownTokens(t *testing.T) {
	s := MustOpen(t, Options{Policy: testPolicy})
	u := mustUser(t, s, store.RoleClientAdmin)
	sess, token := mustSession(t, s, u.ID, store.NewSession{})
	h := store.HashToken(token)

	flip := []byte(token)
	if flip[10] == 'A' {
		flip[10] = 'B'
	} else {
		flip[10] = 'A'
	}
	tests := []struct{ name, token string }{
		{"empty", ""},
		{"fresh unknown", store.NewToken()},
		{"one char changed", string(flip)},
		{"short by one", token[:42]},
		{"long by one", token + "A"},
		{"doubled", token + token},
		{"garbage 43", strings.Repeat("!", 43)},
		{"non-ascii 43 bytes", "é" + token[2:]},
		{"spaces 43", strings.Repeat(" ", 43)},
		{"nul bytes 43", strings.Repeat("\x00", 43)},
		{"padded base64", token[:42] + "="},
		{"session id", sess.ID},
		{"token hash hex", hex.EncodeToString(h[:])},
		{"token hash raw", string(h[:])},
		{"token hash base64", base64.RawURLEncoding.EncodeToString(h[:])},
		{"upper-cased", strings.ToUpper(token)},
	}
	before := s.WriteTxCount()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.token == token {
				t.Skip("mutation happened to equal the real token")
			}
			got, err := s.sessionFor(tt.token)
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("sessionFor = %+v, %v; want ErrNotFound", got, err)
			}
			if got.ID != "" {
				t.Errorf("returned session %s alongside ErrNotFound", got.ID)
			}
		})
	}
	if d := s.WriteTxCount() - before; d != 0 {
		t.Errorf("rejected validations made %d write transactions", d)
	}
	wantLive(t, s, token) // and the real one still works
}

func TestValidID(t *testing.T) {
	good := store.NewID()
	tests := []struct {
		id   string
		want bool
	}{
		{good, true},
		{"0123456789abcdef0123456789abcdef", true},
		{"00000000000000000000000000000000", true},
		{"ffffffffffffffffffffffffffffffff", true},
		{"", false},
		{strings.ToUpper("0123456789abcdef0123456789abcdef"), false},
		{"0123456789ABCDEF0123456789abcdef", false},
		{"0123456789abcdef0123456789abcde", false},   // 31
		{"0123456789abcdef0123456789abcdef0", false}, // 33
		{"0123456789abcdef0123456789abcdeg", false},  // g is not hex
		{"0123456789abcdef0123456789abcde ", false},
		{"0123456789abcdef-123456789abcdef", false},
		{"../../../../../../../etc/passwd", false},
		{"0123456789abcdef0123456789abcd\u00e9", false}, // 32 bytes, non-ASCII
		{strings.Repeat("a", 64), false},
		{good[:16], false},
	}
	for _, tt := range tests {
		if got := store.ValidID(tt.id); got != tt.want {
			t.Errorf("ValidID(%q) [%d bytes] = %v, want %v", tt.id, len(tt.id), got, tt.want)
		}
	}
	for range 100 {
		if id := store.NewID(); !store.ValidID(id) {
			t.Fatalf("store.NewID() = %q fails ValidID", id)
		}
	}
}

func TestRevokeUserSession(t *testing.T) {
	c := newClock()
	s := MustOpen(t, Options{Now: c.Now, Policy: testPolicy})
	alice := mustUser(t, s, store.RoleClientAdmin)
	mallory := mustUser(t, s, store.RoleClientAdmin)
	aSess, aTok := mustSession(t, s, alice.ID, store.NewSession{})
	_, mTok := mustSession(t, s, mallory.ID, store.NewSession{})
	wantLive(t, s, aTok) // now in the cache
	wantLive(t, s, mTok)

	t.Run("not the owner", func(t *testing.T) {
		_, err := s.RevokeUserSession(mallory.ID, aSess.ID, store.ReasonRevoked)
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoke by another user = %v, want ErrNotFound", err)
		}
		wantLive(t, s, aTok)
		got, err := s.UserSession(alice.ID, aSess.ID)
		if err != nil || !got.EndedAt.IsZero() {
			t.Errorf("session after a foreign revoke = %+v, %v; want untouched", got, err)
		}
		if _, err := s.UserSession(mallory.ID, aSess.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UserSession by another user = %v, want ErrNotFound", err)
		}
	})

	for _, tt := range []struct{ name, user, id string }{
		{"unknown id", alice.ID, store.NewID()},
		{"malformed id", alice.ID, "not-an-id"},
		{"empty id", alice.ID, ""},
		{"upper-cased id", alice.ID, strings.ToUpper(aSess.ID)},
		{"unknown user", store.NewID(), aSess.ID},
		{"empty user", "", aSess.ID},
		{"user id as session id", alice.ID, alice.ID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.RevokeUserSession(tt.user, tt.id, store.ReasonRevoked); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("RevokeUserSession(%q, %q) = %v, want ErrNotFound", tt.user, tt.id, err)
			}
			if _, err := s.UserSession(tt.user, tt.id); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("UserSession(%q, %q) = %v, want ErrNotFound", tt.user, tt.id, err)
			}
			wantLive(t, s, aTok)
		})
	}

	c.Advance(time.Minute)
	revokedAt := c.Now()
	got, err := s.RevokeUserSession(alice.ID, aSess.ID, store.ReasonRevoked)
	if err != nil {
		t.Fatal(err)
	}
	if !got.EndedAt.Equal(revokedAt) || got.EndReason != store.ReasonRevoked || got.ID != aSess.ID {
		t.Errorf("revoke returned %+v, want revoked at %v for %s", got, revokedAt, store.ReasonRevoked)
	}
	// The very next sessionFor sees it, although the session was cached.
	wantEnded(t, s, aTok, store.ReasonRevoked)
	wantLive(t, s, mTok)

	// A second revoke, later and with another reason, changes nothing.
	c.Advance(10 * time.Minute)
	again, err := s.RevokeUserSession(alice.ID, aSess.ID, store.ReasonSignedOut)
	if err != nil {
		t.Fatalf("second revoke: %v", err)
	}
	if !again.EndedAt.Equal(revokedAt) || again.EndReason != store.ReasonRevoked {
		t.Errorf("second revoke returned %v/%s, want the first %v/%s", again.EndedAt, again.EndReason, revokedAt, store.ReasonRevoked)
	}
	stored, err := s.UserSession(alice.ID, aSess.ID)
	if err != nil || !stored.EndedAt.Equal(revokedAt) || stored.EndReason != store.ReasonRevoked {
		t.Errorf("stored after second revoke = %v/%s, %v", stored.EndedAt, stored.EndReason, err)
	}
	wantEnded(t, s, aTok, store.ReasonRevoked)

	s = reopen(t, s, Options{Now: c.Now, Policy: testPolicy})
	wantEnded(t, s, aTok, store.ReasonRevoked)
	wantLive(t, s, mTok)
	mustCheck(t, s)
}

// Revoking a session that already ended on its own (idle) leaves its
// reason alone, as the RevokeUserSession doc promises.
func TestRevokeUserSessionAlreadyExpired(t *testing.T) {
	c := newClock()
	s := MustOpen(t, Options{Now: c.Now, Policy: testPolicy})
	u := mustUser(t, s, store.RoleClientAdmin)
	sess, tok := mustSession(t, s, u.ID, store.NewSession{})
	c.Advance(testPolicy.IdleTimeout + time.Minute)
	got, err := s.RevokeUserSession(u.ID, sess.ID, store.ReasonRevoked)
	if err != nil {
		t.Fatal(err)
	}
	// It may be closed for good, but with its own reason and end time.
	if wantAt := t0.Add(testPolicy.IdleTimeout); (!got.EndedAt.IsZero() && !got.EndedAt.Equal(wantAt)) || (got.EndReason != "" && got.EndReason != store.ReasonIdle) {
		t.Errorf("revoke of an idle-expired session stamped it %v/%s; want its own end %v/%s", got.EndedAt, got.EndReason, wantAt, store.ReasonIdle)
	}
	wantEnded(t, s, tok, store.ReasonIdle)
	if stored, _ := s.UserSession(u.ID, sess.ID); stored.EndReason != "" && stored.EndReason != store.ReasonIdle {
		t.Errorf("stored reason %q, want idle", stored.EndReason)
	}
}

func TestRevokeOtherSessions(t *testing.T) {
	c := newClock()
	s := MustOpen(t, Options{Now: c.Now, Policy: testPolicy})
	u := mustUser(t, s, store.RoleClientManager)
	other := mustUser(t, s, store.RoleClientManager)

	type entry struct {
		sess  store.Session
		token string
	}
	var es []entry
	for range 6 {
		sess, tok := mustSession(t, s, u.ID, store.NewSession{})
		wantLive(t, s, tok)
		es = append(es, entry{sess, tok})
		c.Advance(time.Second)
	}
	_, otherTok := mustSession(t, s, other.ID, store.NewSession{})
	wantLive(t, s, otherTok)

	// es[4] was signed out earlier and idle went idle: both already ended.
	earlier := c.Now()
	if _, err := s.RevokeUserSession(u.ID, es[4].sess.ID, store.ReasonSignedOut); err != nil {
		t.Fatal(err)
	}
	idle, idleTok := mustSession(t, s, u.ID, store.NewSession{CreatedAt: earlier.Add(-2 * testPolicy.IdleTimeout)})

	c.Advance(time.Minute)
	keep := es[2]
	n, err := s.RevokeOtherSessions(u.ID, keep.sess.ID, store.ReasonRevokedAll)
	if err != nil {
		t.Fatal(err)
	}
	// Live ones other than keep: es[0], es[1], es[3], es[5].
	if n != 4 {
		t.Errorf("RevokeOtherSessions ended %d, want 4", n)
	}
	for i, e := range es {
		switch i {
		case 2:
			wantLive(t, s, e.token)
		case 4:
			wantEnded(t, s, e.token, store.ReasonSignedOut)
			got, _ := s.UserSession(u.ID, e.sess.ID)
			if !got.EndedAt.Equal(earlier) {
				t.Errorf("already-ended session's EndedAt moved to %v, want %v", got.EndedAt, earlier)
			}
		default:
			wantEnded(t, s, e.token, store.ReasonRevokedAll)
		}
	}
	wantEnded(t, s, idleTok, store.ReasonIdle)
	if got, _ := s.UserSession(u.ID, idle.ID); got.EndReason != "" && (got.EndReason != store.ReasonIdle || !got.EndedAt.Equal(idle.LastActive.Add(testPolicy.IdleTimeout))) {
		t.Errorf("idle-expired session was stamped revoked at %v (%s)", got.EndedAt, got.EndReason)
	}
	wantLive(t, s, otherTok)

	live, err := s.ListUserSessions(u.ID)
	if err != nil || len(live) != 1 || live[0].ID != keep.sess.ID {
		t.Errorf("live after RevokeOtherSessions = %v, %v; want only %s", live, err, keep.sess.ID)
	}

	// Again: nothing left to end.
	if n, err := s.RevokeOtherSessions(u.ID, keep.sess.ID, store.ReasonRevokedAll); err != nil || n != 0 {
		t.Errorf("second RevokeOtherSessions = %d, %v; want 0", n, err)
	}
	// A keepID of someone else's session keeps nothing of ours.
	if n, err := s.RevokeOtherSessions(u.ID, store.NewID(), store.ReasonRevokedAll); err != nil || n != 1 {
		t.Errorf("RevokeOtherSessions(foreign keep) = %d, %v; want 1", n, err)
	}
	wantEnded(t, s, keep.token, store.ReasonRevokedAll)
	// A user with no sessions at all.
	fresh := mustUser(t, s, store.RoleClientStaff)
	if n, err := s.RevokeOtherSessions(fresh.ID, "", store.ReasonRevokedAll); err != nil || n != 0 {
		t.Errorf("RevokeOtherSessions(no sessions) = %d, %v", n, err)
	}
	mustCheck(t, s)
}

func TestRevokeAllUserSessions(t *testing.T) {
	c := newClock()
	s := MustOpen(t, Options{Now: c.Now, Policy: testPolicy})
	u := mustUser(t, s, store.RolePartnerAdmin)
	other := mustUser(t, s, store.RolePartnerAdmin)
	var tokens []string
	for range 5 {
		_, tok := mustSession(t, s, u.ID, store.NewSession{})
		wantLive(t, s, tok)
		tokens = append(tokens, tok)
	}
	_, otherTok := mustSession(t, s, other.ID, store.NewSession{})
	n, err := s.RevokeAllUserSessions(u.ID, store.ReasonEverywhere)
	if err != nil || n != 5 {
		t.Fatalf("RevokeAllUserSessions = %d, %v; want 5", n, err)
	}
	for _, tok := range tokens {
		wantEnded(t, s, tok, store.ReasonEverywhere)
	}
	wantLive(t, s, otherTok)
	if n, err := s.RevokeAllUserSessions(u.ID, store.ReasonEverywhere); err != nil || n != 0 {
		t.Errorf("second RevokeAllUserSessions = %d, %v; want 0", n, err)
	}
	if n, err := s.RevokeAllUserSessions(store.NewID(), store.ReasonEverywhere); err != nil || n != 0 {
		t.Errorf("RevokeAllUserSessions(unknown user) = %d, %v; want 0, nil", n, err)
	}
	s = reopen(t, s, Options{Now: c.Now, Policy: testPolicy})
	for _, tok := range tokens {
		wantEnded(t, s, tok, store.ReasonEverywhere)
	}
	mustCheck(t, s)
}

func TestListUserSessions(t *testing.T) {
	c := newClock()
	s := MustOpen(t, Options{Now: c.Now, Policy: testPolicy})
	u := mustUser(t, s, store.RoleClientAdmin)
	other := mustUser(t, s, store.RoleClientAdmin)

	if live, err := s.ListUserSessions(u.ID); err != nil || len(live) != 0 {
		t.Fatalf("ListUserSessions of a user without sessions = %v, %v", live, err)
	}

	// Five live sessions created in order, then touched in a shuffled order.
	var ids, tokens []string
	for range 5 {
		sess, tok := mustSession(t, s, u.ID, store.NewSession{})
		ids, tokens = append(ids, sess.ID), append(tokens, tok)
		c.Advance(time.Second)
	}
	revoked, _ := mustSession(t, s, u.ID, store.NewSession{})
	if _, err := s.RevokeUserSession(u.ID, revoked.ID, store.ReasonSignedOut); err != nil {
		t.Fatal(err)
	}
	idle, _ := mustSession(t, s, u.ID, store.NewSession{CreatedAt: c.Now().Add(-time.Hour)})
	old, _ := mustSession(t, s, u.ID, store.NewSession{CreatedAt: c.Now().Add(-testPolicy.MaxLifetime), LastActive: c.Now()})
	mustSession(t, s, other.ID, store.NewSession{})

	order := []int{3, 0, 4, 1, 2} // validated oldest to newest
	for _, i := range order {
		c.Advance(time.Second)
		wantLive(t, s, tokens[i])
	}
	// One more touch after a flush, to mix stored and in-memory activity.
	if _, err := s.FlushLastActive(); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Second)
	wantLive(t, s, tokens[3])
	want := []string{ids[3], ids[2], ids[1], ids[4], ids[0]}

	check := func(s *Store) {
		t.Helper()
		live, err := s.ListUserSessions(u.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range live {
			got = append(got, x.ID)
			if x.UserID != u.ID {
				t.Errorf("listed session %s of user %s", x.ID, x.UserID)
			}
			if x.ID == revoked.ID || x.ID == idle.ID || x.ID == old.ID {
				t.Errorf("listed ended session %s", x.ID)
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("ListUserSessions order\n got %v\nwant %v", got, want)
		}
		for i := 1; i < len(live); i++ {
			if live[i].LastActive.After(live[i-1].LastActive) {
				t.Errorf("entry %d more recent than entry %d", i, i-1)
			}
		}
	}
	check(s)
	s = reopen(t, s, Options{Now: c.Now, Policy: testPolicy}) // Close flushes
	check(s)
}

func TestSessionCap(t *testing.T) {
	c := newClock()
	opts := Options{Now: c.Now, Policy: testPolicy, MaxSessionsPerUser: 3}
	s := MustOpen(t, opts)
	u := mustUser(t, s, store.RoleClientStaff)
	other := mustUser(t, s, store.RoleClientStaff)

	var ids, tokens []string
	for range 3 {
		sess, tok := mustSession(t, s, u.ID, store.NewSession{})
		ids, tokens = append(ids, sess.ID), append(tokens, tok)
		c.Advance(time.Minute)
	}
	// A revoked session does not count towards the cap.
	gone, _ := mustSession(t, s, other.ID, store.NewSession{})
	if _, err := s.RevokeUserSession(other.ID, gone.ID, store.ReasonSignedOut); err != nil {
		t.Fatal(err)
	}
	// Session 0 is used again, so session 1 becomes the least recently
	// active; this activity is only in memory.
	wantLive(t, s, tokens[0])
	wantLive(t, s, tokens[2])
	c.Advance(time.Minute)

	_, fourthTok := mustSession(t, s, u.ID, store.NewSession{})
	wantEnded(t, s, tokens[1], store.ReasonSessionLimit)
	for _, tok := range []string{tokens[0], tokens[2], fourthTok} {
		wantLive(t, s, tok)
	}
	live, err := s.ListUserSessions(u.ID)
	if err != nil || len(live) != 3 {
		t.Fatalf("live sessions = %d, %v; want 3", len(live), err)
	}
	got, _ := s.UserSession(u.ID, ids[1])
	if got.EndReason != store.ReasonSessionLimit || !got.EndedAt.Equal(c.Now()) {
		t.Errorf("capped session = %v/%s, want %v/%s", got.EndedAt, got.EndReason, c.Now(), store.ReasonSessionLimit)
	}

	// Keep signing in: each sign-in ends exactly one, the least recently
	// active, which is not always the oldest.
	prev := []string{tokens[2], fourthTok, tokens[0]}
	for i := range 5 {
		for _, p := range prev { // prev[0] becomes the least recently active
			c.Advance(time.Second)
			wantLive(t, s, p)
		}
		c.Advance(time.Minute)
		_, tok := mustSession(t, s, u.ID, store.NewSession{})
		wantEnded(t, s, prev[0], store.ReasonSessionLimit)
		prev = append(prev[2:], prev[1], tok) // rotate so creation order differs from activity order
		if live, _ := s.ListUserSessions(u.ID); len(live) != 3 {
			t.Fatalf("round %d: %d live sessions, want 3", i, len(live))
		}
	}
	for _, p := range prev {
		wantLive(t, s, p)
	}
	// The other user's cap is separate.
	for range 3 {
		mustSession(t, s, other.ID, store.NewSession{})
	}
	if live, _ := s.ListUserSessions(other.ID); len(live) != 3 {
		t.Errorf("other user has %d live sessions, want 3", len(live))
	}
	mustCheck(t, s)
}

// The cap must judge liveness with the activity that is still in memory:
// a session whose stored last-active looks idle but which was used a
// moment ago is live and counts.
func TestSessionCapCountsUnflushedActivity(t *testing.T) {
	c := newClock()
	s := MustOpen(t, Options{Now: c.Now, Policy: testPolicy, MaxSessionsPerUser: 3})
	u := mustUser(t, s, store.RoleClientStaff)
	_, first := mustSession(t, s, u.ID, store.NewSession{})
	c.Advance(20 * time.Minute)
	wantLive(t, s, first) // in memory only: stored last-active stays t0
	c.Advance(5 * time.Minute)
	_, second := mustSession(t, s, u.ID, store.NewSession{})
	_, third := mustSession(t, s, u.ID, store.NewSession{})
	c.Advance(10 * time.Minute) // t0+35m: stored says idle, memory says 15m ago
	wantLive(t, s, second)
	wantLive(t, s, third)

	_, fourth := mustSession(t, s, u.ID, store.NewSession{})
	live, err := s.ListUserSessions(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 3 {
		t.Errorf("%d live sessions after the 4th sign-in, want 3", len(live))
	}
	wantEnded(t, s, first, store.ReasonSessionLimit)
	wantLive(t, s, fourth)
}
