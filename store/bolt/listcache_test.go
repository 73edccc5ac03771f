package bolt

import (
	"errors"
	"testing"
	"time"

	"portal/geo"
	"portal/store"
)

// TestListCacheNeverServesAfterAWrite: a list read before a write is never
// what a later ListUserSessions returns.
func TestListCacheNeverServesAfterAWrite(t *testing.T) {
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now, Policy: store.Policy{IdleTimeout: time.Hour, MaxLifetime: 24 * time.Hour}})
	u := mustUser(t, s, store.RoleClientStaff)
	ids := func() map[string]store.Session {
		list, err := s.ListUserSessions(u.ID)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]store.Session{}
		for _, x := range list {
			m[x.ID] = x
		}
		return m
	}
	a, tokA, _ := s.CreateSession(u.ID, store.NewSession{})
	if len(ids()) != 1 {
		t.Fatal("first list")
	}
	b, _, _ := s.CreateSession(u.ID, store.NewSession{})
	if got := ids(); len(got) != 2 {
		t.Fatalf("a new session is missing from a list cached before it: %d", len(got))
	}
	if _, err := s.RevokeUserSession(u.ID, b.ID, store.ReasonRevoked); err != nil {
		t.Fatal(err)
	}
	if _, ok := ids()[b.ID]; ok {
		t.Fatal("a revoked session is still listed")
	}
	// Activity not yet flushed shows at once; no write is involved.
	clk.Advance(time.Minute)
	if _, err := s.sessionFor(tokA); err != nil {
		t.Fatal(err)
	}
	s.SeenFrom(tokA, geo.Place{Network: "203.0.113.0/24", Location: geo.Location{City: "Berlin"}})
	got := ids()[a.ID]
	if !got.LastActive.Equal(clk.Now()) || got.LastPlace.City != "Berlin" {
		t.Fatalf("unflushed use not merged: %+v", got)
	}
	// Expiry is judged at read time, not when the list was cached.
	clk.Advance(2 * time.Hour)
	if len(ids()) != 0 {
		t.Fatal("an idle-expired session is listed from the cache")
	}
}

func TestCreateSessionsAllOrNone(t *testing.T) {
	s := MustOpen(t, Options{})
	u := mustUser(t, s, store.RoleClientStaff)
	v := mustUser(t, s, store.RoleClientManager)
	if _, err := s.SetUserDisabled(v.ID, true); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.CreateSessions([]store.SessionFor{{UserID: u.ID}, {UserID: v.ID}})
	if !errors.Is(err, store.ErrUserDisabled) {
		t.Fatalf("batch with a disabled user: %v", err)
	}
	if list, _ := s.ListUserSessions(u.ID); len(list) != 0 {
		t.Fatal("a failed batch left sessions behind")
	}
	out, tokens, err := s.CreateSessions([]store.SessionFor{{UserID: u.ID}, {UserID: u.ID}, {UserID: u.ID}})
	if err != nil || len(out) != 3 || len(tokens) != 3 {
		t.Fatal(err)
	}
	for i, tok := range tokens {
		if got, err := s.sessionFor(tok); err != nil || got.ID != out[i].ID {
			t.Fatalf("token %d: %v", i, err)
		}
	}
	mustCheck(t, s)
}

func TestCreateUsersAllOrNone(t *testing.T) {
	s := MustOpen(t, Options{})
	a, _ := s.CreateAccount("A", store.AccountClient)
	_, err := s.CreateUsers([]store.NewUser{
		{AccountID: a.ID, Email: "one@example.com", Role: store.RoleClientStaff},
		{AccountID: a.ID, Email: "ONE@example.com", Role: store.RoleClientStaff},
	})
	if !errors.Is(err, store.ErrEmailTaken) {
		t.Fatalf("duplicate inside a batch: %v", err)
	}
	if _, err := s.UserByEmail("one@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("a failed batch left a user behind")
	}
	mustCheck(t, s)
}
