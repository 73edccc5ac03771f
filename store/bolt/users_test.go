package bolt

import (
	"errors"
	"strings"
	"testing"
	"time"

	"portal/store"
)

func TestCreateAndGetUser(t *testing.T) {
	c := newClock()
	s := MustOpen(t, Options{Now: c.Now})
	a, err := s.CreateAccount("Acme", store.AccountClient)
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(store.NewUser{AccountID: a.ID, Email: "  Alice@Example.COM ", Name: "Alice", Role: store.RoleClientAdmin, PasswordHash: "h1"})
	if err != nil {
		t.Fatal(err)
	}
	if !store.ValidID(u.ID) {
		t.Errorf("user id %q is not a valid id", u.ID)
	}
	if u.Email != "alice@example.com" {
		t.Errorf("stored email %q, want normalised alice@example.com", u.Email)
	}
	if !u.CreatedAt.Equal(t0) {
		t.Errorf("CreatedAt %v, want the clock's %v", u.CreatedAt, t0)
	}

	byID, err := s.UserByID(u.ID)
	if err != nil {
		t.Fatalf("UserByID: %v", err)
	}
	if byID.ID != u.ID || byID.AccountID != a.ID || byID.Role != store.RoleClientAdmin || byID.PasswordHash != "h1" || byID.Name != "Alice" {
		t.Errorf("UserByID = %+v, want %+v", byID, u)
	}

	for _, email := range []string{"alice@example.com", "ALICE@EXAMPLE.COM", "Alice@example.com", " alice@example.com\t"} {
		got, err := s.UserByEmail(email)
		if err != nil {
			t.Errorf("UserByEmail(%q): %v", email, err)
			continue
		}
		if got.ID != u.ID {
			t.Errorf("UserByEmail(%q) = user %s, want %s", email, got.ID, u.ID)
		}
	}

	// A reopened store still finds the user both ways.
	s = reopen(t, s, Options{Now: c.Now})
	if _, err := s.UserByEmail("ALICE@example.com"); err != nil {
		t.Errorf("UserByEmail after reopen: %v", err)
	}
	users, err := s.Users()
	if err != nil || len(users) != 1 || users[0].ID != u.ID {
		t.Errorf("Users() = %v, %v; want just %s", users, err, u.ID)
	}
	accounts, err := s.Accounts()
	if err != nil || len(accounts) != 1 || accounts[0].ID != a.ID || accounts[0].Kind != store.AccountClient {
		t.Errorf("Accounts() = %v, %v; want just %s", accounts, err, a.ID)
	}
	mustCheck(t, s)
}

func TestCreateUserRejects(t *testing.T) {
	s := MustOpen(t, Options{})
	client, err := s.CreateAccount("Client", store.AccountClient)
	if err != nil {
		t.Fatal(err)
	}
	partner, err := s.CreateAccount("Partner", store.AccountPartner)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(store.NewUser{AccountID: client.ID, Email: "taken@example.com", Role: store.RoleClientStaff}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		in        store.NewUser
		wantIs    error  // errors.Is target, if any
		wantInMsg string // substring of the message, if any
	}{
		{"duplicate email", store.NewUser{AccountID: client.ID, Email: "taken@example.com", Role: store.RoleClientStaff}, store.ErrEmailTaken, ""},
		{"duplicate email other case", store.NewUser{AccountID: client.ID, Email: "TAKEN@Example.Com", Role: store.RoleClientAdmin}, store.ErrEmailTaken, ""},
		{"duplicate email with spaces", store.NewUser{AccountID: client.ID, Email: " taken@example.com ", Role: store.RoleClientAdmin}, store.ErrEmailTaken, ""},
		{"duplicate email in another account", store.NewUser{AccountID: partner.ID, Email: "taken@example.com", Role: store.RolePartnerAdmin}, store.ErrEmailTaken, ""},
		{"partner role in client account", store.NewUser{AccountID: client.ID, Email: "p1@example.com", Role: store.RolePartnerAdmin}, nil, "does not belong"},
		{"partner staff in client account", store.NewUser{AccountID: client.ID, Email: "p2@example.com", Role: store.RolePartnerStaff}, nil, "does not belong"},
		{"client role in partner account", store.NewUser{AccountID: partner.ID, Email: "c1@example.com", Role: store.RoleClientAdmin}, nil, "does not belong"},
		{"client manager in partner account", store.NewUser{AccountID: partner.ID, Email: "c2@example.com", Role: store.RoleClientManager}, nil, "does not belong"},
		{"empty role", store.NewUser{AccountID: client.ID, Email: "e1@example.com", Role: ""}, nil, "does not belong"},
		{"unknown role", store.NewUser{AccountID: partner.ID, Email: "e2@example.com", Role: "superuser"}, nil, "does not belong"},
		{"unknown account", store.NewUser{AccountID: store.NewID(), Email: "u1@example.com", Role: store.RoleClientAdmin}, store.ErrNotFound, ""},
		{"empty account", store.NewUser{AccountID: "", Email: "u2@example.com", Role: store.RoleClientAdmin}, store.ErrNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := s.CreateUser(tt.in)
			if err == nil {
				t.Fatalf("CreateUser succeeded with %+v", u)
			}
			if u != (store.User{}) {
				t.Errorf("failed CreateUser returned a non-zero user %+v", u)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("err = %v, want errors.Is %v", err, tt.wantIs)
			}
			if tt.wantIs == nil && (errors.Is(err, store.ErrEmailTaken) || errors.Is(err, store.ErrNotFound)) {
				t.Errorf("err = %v, should be neither ErrEmailTaken nor ErrNotFound", err)
			}
			if tt.wantInMsg != "" && !strings.Contains(err.Error(), tt.wantInMsg) {
				t.Errorf("err = %q, want it to mention %q", err, tt.wantInMsg)
			}
			// Nothing of the rejected user may have been written, not even
			// its email index entry (unless the email was already taken).
			if tt.wantIs != store.ErrEmailTaken {
				if got, err := s.UserByEmail(tt.in.Email); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("UserByEmail(%q) after rejection = %+v, %v; want ErrNotFound", tt.in.Email, got, err)
				}
			}
		})
	}
	users, err := s.Users()
	if err != nil || len(users) != 1 {
		t.Errorf("Users() = %d users, %v; want only the first one", len(users), err)
	}
	mustCheck(t, s)
}

func TestEveryRoleFitsItsAccountKind(t *testing.T) {
	s := MustOpen(t, Options{})
	for _, r := range store.Roles {
		u := mustUser(t, s, r)
		a, err := s.AccountByID(u.AccountID)
		if err != nil {
			t.Fatalf("AccountByID: %v", err)
		}
		want := store.AccountPartner
		if r == store.RoleClientAdmin || r == store.RoleClientManager || r == store.RoleClientStaff {
			want = store.AccountClient
		}
		if a.Kind != want || r.AccountKind() != want {
			t.Errorf("role %s: account kind %s / %s, want %s", r, a.Kind, r.AccountKind(), want)
		}
	}
}

func TestLookupsOfUnknownReturnErrNotFound(t *testing.T) {
	s := MustOpen(t, Options{})
	u := mustUser(t, s, store.RoleClientAdmin)
	tests := []struct {
		name string
		get  func() (any, error)
	}{
		{"UserByID unknown", func() (any, error) { return s.UserByID(store.NewID()) }},
		{"UserByID empty", func() (any, error) { return s.UserByID("") }},
		{"UserByID account id", func() (any, error) { return s.UserByID(u.AccountID) }},
		{"UserByEmail unknown", func() (any, error) { return s.UserByEmail("nobody@example.com") }},
		{"UserByEmail empty", func() (any, error) { return s.UserByEmail("") }},
		{"AccountByID unknown", func() (any, error) { return s.AccountByID(store.NewID()) }},
		{"AccountByID user id", func() (any, error) { return s.AccountByID(u.ID) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tt.get()
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
			switch v := v.(type) {
			case store.User:
				if v != (store.User{}) {
					t.Errorf("returned %+v alongside ErrNotFound", v)
				}
			case store.Account:
				if v != (store.Account{}) {
					t.Errorf("returned %+v alongside ErrNotFound", v)
				}
			}
		})
	}
}

func TestSetPasswordHash(t *testing.T) {
	c := newClock()
	s := MustOpen(t, Options{Now: c.Now, Policy: testPolicy})
	u := mustUser(t, s, store.RoleClientManager)
	other := mustUser(t, s, store.RoleClientManager)

	var ids []string
	var tokens []string
	for range 4 {
		sess, tok := mustSession(t, s, u.ID, store.NewSession{})
		ids, tokens = append(ids, sess.ID), append(tokens, tok)
		wantLive(t, s, tok) // cached, so the revoke must also clear the cache
	}
	_, otherTok := mustSession(t, s, other.ID, store.NewSession{})

	// Without endSessions nothing ends.
	n, err := s.SetPasswordHash(u.ID, "h2", false, "")
	if err != nil || n != 0 {
		t.Fatalf("SetPasswordHash(no end) = %d, %v; want 0, nil", n, err)
	}
	if got, _ := s.UserByID(u.ID); got.PasswordHash != "h2" {
		t.Errorf("PasswordHash = %q, want h2", got.PasswordHash)
	}
	for _, tok := range tokens {
		wantLive(t, s, tok)
	}

	c.Advance(time.Minute)
	n, err = s.SetPasswordHash(u.ID, "h3", true, ids[1])
	if err != nil || n != 3 {
		t.Fatalf("SetPasswordHash(end, keep) = %d, %v; want 3, nil", n, err)
	}
	if got, _ := s.UserByID(u.ID); got.PasswordHash != "h3" {
		t.Errorf("PasswordHash = %q, want h3", got.PasswordHash)
	}
	for i, tok := range tokens {
		if i == 1 {
			wantLive(t, s, tok)
			continue
		}
		wantEnded(t, s, tok, store.ReasonPasswordChanged)
		got, err := s.UserSession(u.ID, ids[i])
		if err != nil {
			t.Fatal(err)
		}
		if !got.EndedAt.Equal(c.Now()) {
			t.Errorf("session %d EndedAt %v, want %v", i, got.EndedAt, c.Now())
		}
	}
	wantLive(t, s, otherTok) // another user's sessions are untouched

	// keepID "" ends all of them, and only the one still live counts.
	n, err = s.SetPasswordHash(u.ID, "h4", true, "")
	if err != nil || n != 1 {
		t.Fatalf("SetPasswordHash(end all) = %d, %v; want 1, nil", n, err)
	}
	wantEnded(t, s, tokens[1], store.ReasonPasswordChanged)
	wantEnded(t, s, tokens[0], store.ReasonPasswordChanged)

	if _, err := s.SetPasswordHash(store.NewID(), "x", true, ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetPasswordHash(unknown user) = %v, want ErrNotFound", err)
	}
	mustCheck(t, s)
}

func TestSetUserDisabled(t *testing.T) {
	c := newClock()
	s := MustOpen(t, Options{Now: c.Now, Policy: testPolicy})
	u := mustUser(t, s, store.RoleClientStaff)
	other := mustUser(t, s, store.RoleClientStaff)

	var tokens []string
	for range 3 {
		_, tok := mustSession(t, s, u.ID, store.NewSession{})
		wantLive(t, s, tok)
		tokens = append(tokens, tok)
	}
	_, otherTok := mustSession(t, s, other.ID, store.NewSession{})

	n, err := s.SetUserDisabled(u.ID, true)
	if err != nil || n != 3 {
		t.Fatalf("SetUserDisabled(true) = %d, %v; want 3, nil", n, err)
	}
	for _, tok := range tokens {
		wantEnded(t, s, tok, store.ReasonUserDisabled)
	}
	wantLive(t, s, otherTok)
	if got, _ := s.UserByID(u.ID); !got.Disabled {
		t.Errorf("user not marked disabled")
	}
	if live, err := s.ListUserSessions(u.ID); err != nil || len(live) != 0 {
		t.Errorf("ListUserSessions of disabled user = %d, %v; want none", len(live), err)
	}

	sess, tok, err := s.CreateSession(u.ID, store.NewSession{})
	if !errors.Is(err, store.ErrUserDisabled) {
		t.Fatalf("CreateSession for disabled user = %v, want ErrUserDisabled", err)
	}
	if tok != "" || sess.ID != "" {
		t.Errorf("failed CreateSession returned token %q, session %q", tok, sess.ID)
	}

	// Re-enabling lets the user sign in again but revives nothing.
	if n, err := s.SetUserDisabled(u.ID, false); err != nil || n != 0 {
		t.Fatalf("SetUserDisabled(false) = %d, %v", n, err)
	}
	_, fresh := mustSession(t, s, u.ID, store.NewSession{})
	wantLive(t, s, fresh)
	for _, tok := range tokens {
		wantEnded(t, s, tok, store.ReasonUserDisabled)
	}

	if _, err := s.SetUserDisabled(store.NewID(), true); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetUserDisabled(unknown) = %v, want ErrNotFound", err)
	}
	if _, _, err := s.CreateSession(store.NewID(), store.NewSession{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateSession(unknown user) = %v, want ErrNotFound", err)
	}
	mustCheck(t, s)
}

// TestAuthenticateSeesUserChanges: the user cached with a session is
// dropped by every change to that user, so the next request sees it.
func TestAuthenticateSeesUserChanges(t *testing.T) {
	s := MustOpen(t, Options{Policy: store.Policy{IdleTimeout: time.Hour, MaxLifetime: 24 * time.Hour}})
	u := mustUser(t, s, store.RoleClientStaff)
	_, token, err := s.CreateSession(u.ID, store.NewSession{})
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := s.Authenticate(token); err != nil || got.PasswordHash != u.PasswordHash {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	if _, err := s.SetPasswordHash(u.ID, "new-hash", false, ""); err != nil {
		t.Fatal(err)
	}
	if _, got, err := s.Authenticate(token); err != nil || got.PasswordHash != "new-hash" {
		t.Fatalf("after a password change Authenticate returns hash %q (%v), want the new one", got.PasswordHash, err)
	}
	if _, err := s.SetUserDisabled(u.ID, true); err != nil {
		t.Fatal(err)
	}
	var ended *store.EndedError
	if _, _, err := s.Authenticate(token); !errors.As(err, &ended) || ended.Reason != store.ReasonUserDisabled {
		t.Fatalf("after disabling, Authenticate = %v", err)
	}
}
