package bolt

import (
	"errors"
	"testing"
	"time"

	"portal/geo"
	"portal/store"
)

// TestExport: every record comes out once, as stored, keyed by its token
// hash, in an order a target with references can insert (partners before
// the clients they manage, users before their sessions and events, a
// user's events oldest first and then the log's version), with counts
// that match.
func TestExport(t *testing.T) {
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now, Policy: store.Policy{IdleTimeout: time.Hour, MaxLifetime: 24 * time.Hour}})
	partner, err := s.CreateAccount("Partner", store.AccountPartner)
	if err != nil {
		t.Fatal(err)
	}
	client, err := s.CreateClientAccount("Client", partner.ID)
	if err != nil {
		t.Fatal(err)
	}
	pu, err := s.CreateUser(store.NewUser{AccountID: partner.ID, Email: "p@example.com", Name: "P", Role: store.RolePartnerAdmin, PasswordHash: "ph"})
	if err != nil {
		t.Fatal(err)
	}
	cu, err := s.CreateUser(store.NewUser{AccountID: client.ID, Email: "c@example.com", Name: "C", Role: store.RoleClientAdmin, PasswordHash: "ch"})
	if err != nil {
		t.Fatal(err)
	}
	idle, idleTok := mustSession(t, s, cu.ID, store.NewSession{UserAgent: "idle", TimeZone: "Europe/Berlin"})
	clk.Advance(2 * time.Hour) // idle has expired, unrecorded
	revoked, revokedTok := mustSession(t, s, cu.ID, store.NewSession{UserAgent: "revoked"})
	live, liveTok := mustSession(t, s, cu.ID, store.NewSession{UserAgent: "live", Place: geo.Place{Network: "203.0.113.0/24"}})
	if _, err := s.PartnerRevokeSession(partner.ID, pu.ID, cu.ID, revoked.ID); err != nil {
		t.Fatal(err)
	}
	version, err := s.UserEventsVersion(cu.ID)
	if err != nil {
		t.Fatal(err)
	}

	var got []store.Record
	n, err := Export(s, func(r store.Record) error { got = append(got, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := store.Counts{Keys: 1, Accounts: 2, Users: 2, Sessions: 3, Ended: 1, Live: 1, Events: 4, Logs: 1, At: clk.Now()}
	if n != want {
		t.Fatalf("counts %+v, want %+v", n, want)
	}
	if len(got) != 1+2+2+3+4+1 {
		t.Fatalf("%d records", len(got))
	}
	if k := got[0].Key; k == nil || k.Name != KeyCSRF || string(k.Value) != string(s.CSRFKey()) {
		t.Errorf("first record %+v, want the CSRF key", got[0])
	}
	if got[1].Account == nil || got[1].Account.ID != partner.ID || got[2].Account == nil || got[2].Account.Partner != partner.ID {
		t.Errorf("accounts %+v, %+v: want the partner, then the client it manages", got[1].Account, got[2].Account)
	}
	sessions := map[store.TokenHash]store.Session{}
	var kinds []store.EventKind
	for i, r := range got[3:] {
		switch {
		case r.User != nil:
			if i > 1 {
				t.Errorf("user %s after other records", r.User.Email)
			}
			if r.User.ID == cu.ID && r.User.PasswordHash != "ch" {
				t.Errorf("user %+v lost its password hash", r.User)
			}
		case r.Session != nil:
			sessions[r.Session.Hash] = r.Session.Session
		case r.Event != nil:
			if r.Event.UserID != cu.ID {
				t.Errorf("event of user %s", r.Event.UserID)
			}
			kinds = append(kinds, r.Event.Kind)
		case r.Log != nil:
			if i != len(got)-4 || r.Log.UserID != cu.ID || r.Log.Version != version {
				t.Errorf("log %+v at %d, want user %s's version %d last", r.Log, i, cu.ID, version)
			}
		}
	}
	for tok, want := range map[string]store.Session{idleTok: idle, revokedTok: revoked, liveTok: live} {
		x, ok := sessions[store.HashToken(tok)]
		if !ok {
			t.Errorf("session %s not exported under its token's hash", want.UserAgent)
			continue
		}
		if x.ID != want.ID || x.UserAgent != want.UserAgent || x.TimeZone != want.TimeZone || x.LastPlace != want.LastPlace {
			t.Errorf("session %+v, want %+v", x, want)
		}
	}
	if x := sessions[store.HashToken(revokedTok)]; x.EndReason != store.ReasonPartner || x.RevokedBy != pu.ID || x.EndedAt.IsZero() {
		t.Errorf("revoked session %+v lost how it ended", x)
	}
	wantKinds := []store.EventKind{store.EventSignedIn, store.EventSignedIn, store.EventSignedIn, store.EventEnded}
	if len(kinds) != len(wantKinds) {
		t.Fatalf("events %v, want %v", kinds, wantKinds)
	}
	for i := range kinds {
		if kinds[i] != wantKinds[i] {
			t.Fatalf("events %v, want %v oldest first", kinds, wantKinds)
		}
	}

	stop := errors.New("stop")
	calls := 0
	if _, err := Export(s, func(store.Record) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Export with fn failing: %v after %d calls, want the error after 1", err, calls)
	}
}
