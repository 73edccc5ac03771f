package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"portal/geo"
	"portal/internal/pgtest"
	"portal/store"
	"portal/store/bolt"
)

// bboltSource is a bbolt database with a partner managing a client, a
// disabled user, and sessions in every state: live, revoked by the
// partner, and expired without a record yet; events of each kind,
// grouped failed sign-ins among them; passkeys (two added in the same
// instant, one used) and the user handle they name the user by.
type bboltSource struct {
	st                   *bolt.Store
	partner, client      store.Account
	partnerUser, user    store.User
	live, revoked, idle  string // tokens
	liveID, revokedID    string
	disabledEmail, email string
	handle               []byte
	passkeys             []store.Passkey // as the source keeps them
}

func newBboltSource(t *testing.T, clk *clock) *bboltSource {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "portal.db"), bolt.Options{Now: clk.Now, Policy: testPolicy})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	src := &bboltSource{st: st, email: "c@example.com", disabledEmail: "off@example.com"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	src.partner, err = st.CreateAccount("Partner", store.AccountPartner)
	must(err)
	src.client, err = st.CreateClientAccount("Client", src.partner.ID)
	must(err)
	src.partnerUser, err = st.CreateUser(store.NewUser{AccountID: src.partner.ID, Email: "p@example.com", Name: "P", Role: store.RolePartnerAdmin, PasswordHash: "ph"})
	must(err)
	src.user, err = st.CreateUser(store.NewUser{AccountID: src.client.ID, Email: src.email, Name: "C", Role: store.RoleClientAdmin, PasswordHash: "ch"})
	must(err)
	off, err := st.CreateUser(store.NewUser{AccountID: src.client.ID, Email: src.disabledEmail, Name: "Off", Role: store.RoleClientStaff, PasswordHash: "oh"})
	must(err)
	_, err = st.SetUserDisabled(off.ID, true)
	must(err)
	place := geo.Place{Network: "203.0.113.0/24", Masked: "203.0.113.x", Location: geo.Location{City: "Berlin", Country: "Germany", CountryCode: "DE"}}
	_, src.idle, err = st.CreateSession(src.user.ID, store.NewSession{UserAgent: "idle"})
	must(err)
	clk.Advance(testPolicy.IdleTimeout + time.Minute)
	var x store.Session
	x, src.revoked, err = st.CreateSession(src.user.ID, store.NewSession{UserAgent: "revoked"})
	must(err)
	src.revokedID = x.ID
	x, src.live, err = st.CreateSession(src.user.ID, store.NewSession{UserAgent: "live", Place: place, TimeZone: "Europe/Berlin", Auth: store.AuthPasswordPasskey, Passkey: "Phone"})
	must(err)
	src.liveID = x.ID
	_, err = st.PartnerRevokeSession(src.partner.ID, src.partnerUser.ID, src.user.ID, src.revokedID)
	must(err)
	must(st.EnableTwoStep(src.user.ID, store.Actor{}, []byte("12345678901234567890"), []string{"CODE-ONE", "CODE-TWO"}))
	must(st.AcceptCode(src.user.ID, 1234))
	_, err = st.UseRecoveryCode(src.user.ID, "code-one")
	must(err)
	src.handle, err = st.PasskeyHandle(src.user.ID)
	must(err)
	for _, name := range []string{"Phone", "Key"} { // in one instant: the copy keeps their order
		_, err = st.AddPasskey(store.Passkey{ID: []byte("credential of " + name), UserID: src.user.ID, Name: name,
			Credential: []byte(`{"name":"` + name + `"}`), SignCount: 0, BackupEligible: true, BackupState: name == "Phone"}, store.Actor{})
		must(err)
	}
	clk.Advance(time.Second)
	must(st.UsePasskey(store.Passkey{ID: []byte("credential of Key"), UserID: src.user.ID}, store.PasskeyUse{Credential: []byte(`{"used":1}`), SignCount: 7}))
	src.passkeys, err = st.Passkeys(src.user.ID)
	must(err)
	clk.Advance(1500 * time.Nanosecond) // times below PostgreSQL's microsecond
	st.RecordSignInFailure(src.user.ID, place, false)
	st.RecordSignInFailure(src.user.ID, place, false)
	_, err = st.FlushLastActive()
	must(err)
	return src
}

func (src *bboltSource) export(fn func(store.Record) error) (store.Counts, error) {
	return bolt.Export(src.st, fn)
}

// TestImport: a bbolt database copied into PostgreSQL works as it did:
// the same tokens sign in (the hashes moved), the revoked one is refused
// with its reason, the CSRF key, users, partner scope, the security
// activity and its version are the same. A second import into the
// non-empty database is refused and changes nothing; a failing one with
// replace leaves it as it was; replace swaps the data.
func TestImport(t *testing.T) {
	t.Parallel()
	clk := newClock()
	src := newBboltSource(t, clk)
	url := pgtest.NewDB(t)
	opts := Options{Now: clk.Now, Policy: testPolicy}
	pg := mustOpenURL(t, url, opts)
	// Another instance serving meanwhile takes the imported CSRF key too.
	serving := mustOpenURL(t, url, opts)
	keyIs := func(s *Store, want []byte) func() bool {
		return func() bool { return string(s.CSRFKey()) == string(want) }
	}
	ctx := context.Background()

	n, err := Import(ctx, pg, src.export, false)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Counts{Keys: 1, Accounts: 2, Users: 3, Sessions: 3, Ended: 1, Live: 1, Events: 9, Logs: 1, TwoSteps: 1, Passkeys: 2, Handles: 1, At: clk.Now().UTC()}
	if n != want {
		t.Fatalf("Import: %+v, want %+v", n, want)
	}
	if !keyIs(pg, src.st.CSRFKey())() {
		t.Error("the CSRF key did not move")
	}
	waitFor(t, "the serving instance to take the imported CSRF key", keyIs(serving, src.st.CSRFKey()))
	pg = mustOpenURL(t, url, opts) // and a new one reads it at open
	mustCheck(t, pg)
	if !keyIs(pg, src.st.CSRFKey())() {
		t.Error("the CSRF key did not move")
	}
	// Two-step sign-in moves sealed, with the key that opens it: the same
	// secret, the same used step and recovery codes.
	ts, err := pg.TwoStep(src.user.ID)
	if err != nil || string(ts.Secret) != "12345678901234567890" || ts.LastStep != 1234 || ts.CodesLeft != 1 {
		t.Errorf("two-step sign-in after the copy: %+v, %v", ts, err)
	}
	if _, err := pg.UseRecoveryCode(src.user.ID, "CODE-ONE"); !errors.Is(err, store.ErrCodeUsed) {
		t.Errorf("a recovery code used before the copy: %v, want ErrCodeUsed", err)
	}
	// Passkeys move with their handle, every field, in their order.
	got, err := pg.Passkeys(src.user.ID)
	if err != nil || !reflect.DeepEqual(got, src.passkeys) {
		t.Errorf("passkeys after the copy:\n%+v, %v\nwant\n%+v", got, err, src.passkeys)
	}
	if h, err := pg.PasskeyHandle(src.user.ID); err != nil || !bytes.Equal(h, src.handle) {
		t.Errorf("the user handle after the copy: %x, %v; want %x", h, err, src.handle)
	}
	if u, pk, err := pg.PasskeyOwner(src.handle, []byte("credential of Key")); err != nil || u.ID != src.user.ID || pk.SignCount != 7 {
		t.Errorf("PasskeyOwner after the copy: %s, %+v, %v", u.ID, pk, err)
	}
	sess := wantLive(t, pg, src.live)
	if sess.Auth != store.AuthPasswordPasskey || sess.Passkey != "Phone" {
		t.Errorf("the live session signed in with %q, passkey %q after the copy, want %q, Phone", sess.Auth, sess.Passkey, store.AuthPasswordPasskey)
	}
	if sess.ID != src.liveID || sess.TimeZone != "Europe/Berlin" || sess.LastPlace.Location.City != "Berlin" {
		t.Errorf("live session %+v", sess)
	}
	wantEnded(t, pg, src.revoked, store.ReasonPartner)
	wantEnded(t, pg, src.idle, store.ReasonIdle)
	if u, err := pg.UserByEmail(src.disabledEmail); err != nil || !u.Disabled || u.PasswordHash != "oh" {
		t.Errorf("disabled user: %+v, %v", u, err)
	}
	_, _, sessions, err := pg.PartnerUserSessions(src.partner.ID, src.user.ID)
	if err != nil || len(sessions) != 1 || sessions[0].ID != src.liveID {
		t.Errorf("partner's view of the user: %v sessions, %v; want the live one", len(sessions), err)
	}
	for _, u := range []store.User{src.user, src.partnerUser} {
		if a, b := eventsJSON(t, src.st, u.ID), eventsJSON(t, pg, u.ID); a != b {
			t.Errorf("user %s's activity:\n bbolt %s\n    pg %s", u.Email, a, b)
		}
		v1, _ := src.st.UserEventsVersion(u.ID)
		v2, err := pg.UserEventsVersion(u.ID)
		if err != nil || v1 != v2 {
			t.Errorf("user %s's activity version %d, %v; want %d", u.Email, v2, err, v1)
		}
	}

	// Again: refused, nothing changed.
	_, err = Import(ctx, pg, src.export, false)
	var full *NotEmptyError
	if !errors.Is(err, ErrNotEmpty) || !errors.As(err, &full) || full.Has.Users != 3 {
		t.Fatalf("a second import: %v, want ErrNotEmpty naming 3 users", err)
	}
	// Replacing, with the source failing half way: nothing changed either.
	broken := errors.New("the source broke")
	_, err = Import(ctx, pg, func(fn func(store.Record) error) (store.Counts, error) {
		return src.export(func(r store.Record) error {
			if r.Session != nil {
				return broken
			}
			return fn(r)
		})
	}, true)
	if !errors.Is(err, broken) {
		t.Fatalf("import with a failing source: %v", err)
	}
	wantLive(t, pg, src.live)
	if got := sqlInt(t, pg, "SELECT count(*) FROM events"); got != want.Events {
		t.Errorf("after a failed import %d events, want %d", got, want.Events)
	}

	// Replacing with another database: the old sessions are gone.
	other := newBboltSource(t, clk)
	if _, err := Import(ctx, pg, other.export, true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the serving instance to take the replacing CSRF key", keyIs(serving, other.st.CSRFKey()))
	if _, _, err := pg.Authenticate(src.live); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a replaced session: %v, want ErrNotFound", err)
	}
	pg = mustOpenURL(t, url, opts)
	wantLive(t, pg, other.live)
	mustCheck(t, pg)
	// The counter a passkey reached before the copy holds after it.
	if err := pg.UsePasskey(other.passkeys[1], store.PasskeyUse{SignCount: 7}); !errors.Is(err, store.ErrSignCountBack) {
		t.Errorf("a counter seen before the copy: %v, want ErrSignCountBack", err)
	}
	if got := sqlInt(t, pg, "SELECT count(*) FROM users"); got != 3 {
		t.Errorf("after replacing: %d users, want 3", got)
	}
}

// eventsJSON is userID's first page of security activity as JSON, for
// comparing two stores.
func eventsJSON(t *testing.T, st store.Backend, userID string) string {
	t.Helper()
	p, err := st.UserEvents(userID, store.EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range p.Events {
		p.Events[i].At = p.Events[i].At.Truncate(time.Microsecond)
		p.Events[i].Until = p.Events[i].Until.Truncate(time.Microsecond)
	}
	p.Version = 0 // compared on its own
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A copy commits only when what the target holds matches what the source
// said it held: any difference, in any count, and nothing is written.
func TestImportRefusesCountsThatDiffer(t *testing.T) {
	t.Parallel()
	clk := newClock()
	src := newBboltSource(t, clk)
	url := pgtest.NewDB(t)
	pg := mustOpenURL(t, url, Options{Now: clk.Now, Policy: testPolicy})
	for _, tc := range []struct {
		name string
		skew func(*store.Counts)
	}{
		{"a session more", func(n *store.Counts) { n.Sessions++ }},
		{"an event fewer", func(n *store.Counts) { n.Events-- }},
		{"one more live", func(n *store.Counts) { n.Live++ }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			skewed := func(fn func(store.Record) error) (store.Counts, error) {
				n, err := src.export(fn)
				tc.skew(&n)
				return n, err
			}
			if _, err := Import(context.Background(), pg, skewed, false); err == nil {
				t.Fatal("Import committed a copy whose counts differ from the source's")
			}
			if accounts, err := pg.Accounts(); err != nil || len(accounts) != 0 {
				t.Fatalf("after the refused copy the target holds %d accounts (%v); want none", len(accounts), err)
			}
		})
	}
}
