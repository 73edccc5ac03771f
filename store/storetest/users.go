package storetest

import (
	"errors"
	"strings"
	"testing"

	"portal/store"
)

var userTests = []test{
	{"CreateAndGetUser", testCreateAndGetUser},
	{"CreateUserRejects", testCreateUserRejects},
	{"UnknownIsErrNotFound", testUnknownIsErrNotFound},
	{"SetPasswordHash", testSetPasswordHash},
	{"SetUserDisabled", testSetUserDisabled},
}

func testCreateAndGetUser(t *testing.T, open Opener) {
	s, _ := openAt(t, open, Options{})
	a, err := s.CreateAccount("Acme", store.AccountClient)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.AccountByID(a.ID); err != nil || got != a {
		t.Errorf("AccountByID = %+v, %v; want %+v", got, err, a)
	}
	u, err := s.CreateUser(store.NewUser{AccountID: a.ID, Email: "  Alice@Example.COM ", Name: "Alice", Role: store.RoleClientAdmin, PasswordHash: "h1"})
	if err != nil {
		t.Fatal(err)
	}
	if !store.ValidID(u.ID) || u.Email != "alice@example.com" || !u.CreatedAt.Equal(T0) || u.AccountID != a.ID {
		t.Errorf("CreateUser = %+v, want a valid id, the normalised email and the clock's time", u)
	}
	if got, err := s.UserByID(u.ID); err != nil || got != u {
		t.Errorf("UserByID = %+v, %v; want %+v", got, err, u)
	}
	for _, email := range []string{"alice@example.com", "ALICE@EXAMPLE.COM", " alice@example.com\t"} {
		if got, err := s.UserByEmail(email); err != nil || got.ID != u.ID {
			t.Errorf("UserByEmail(%q) = %+v, %v", email, got, err)
		}
	}
	if users, err := s.Users(); err != nil || len(users) != 1 || users[0] != u {
		t.Errorf("Users = %+v, %v", users, err)
	}
	if accounts, err := s.Accounts(); err != nil || len(accounts) != 1 || accounts[0] != a {
		t.Errorf("Accounts = %+v, %v", accounts, err)
	}
}

func testCreateUserRejects(t *testing.T, open Opener) {
	s, _ := openAt(t, open, Options{})
	client, _ := s.CreateAccount("Client", store.AccountClient)
	partner, _ := s.CreateAccount("Partner", store.AccountPartner)
	if _, err := s.CreateUser(store.NewUser{AccountID: client.ID, Email: "taken@example.com", Role: store.RoleClientStaff}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		in        store.NewUser
		wantIs    error
		wantInMsg string
	}{
		{"duplicate email", store.NewUser{AccountID: client.ID, Email: "taken@example.com", Role: store.RoleClientStaff}, store.ErrEmailTaken, ""},
		{"duplicate email other case", store.NewUser{AccountID: client.ID, Email: "TAKEN@Example.Com", Role: store.RoleClientAdmin}, store.ErrEmailTaken, ""},
		{"duplicate email in another account", store.NewUser{AccountID: partner.ID, Email: " taken@example.com ", Role: store.RolePartnerAdmin}, store.ErrEmailTaken, ""},
		{"partner role in client account", store.NewUser{AccountID: client.ID, Email: "p1@example.com", Role: store.RolePartnerAdmin}, nil, "does not belong"},
		{"client role in partner account", store.NewUser{AccountID: partner.ID, Email: "c1@example.com", Role: store.RoleClientAdmin}, nil, "does not belong"},
		{"empty role", store.NewUser{AccountID: client.ID, Email: "e1@example.com"}, nil, "does not belong"},
		{"unknown role", store.NewUser{AccountID: partner.ID, Email: "e2@example.com", Role: "superuser"}, nil, "does not belong"},
		{"unknown account", store.NewUser{AccountID: noSuchID, Email: "u1@example.com", Role: store.RoleClientAdmin}, store.ErrNotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateUser(tc.in)
			if err == nil {
				t.Fatal("CreateUser succeeded")
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("CreateUser: %v, want %v", err, tc.wantIs)
			}
			if !strings.Contains(err.Error(), tc.wantInMsg) {
				t.Errorf("CreateUser: %v, want it to say %q", err, tc.wantInMsg)
			}
		})
	}
	// All or none: one bad user in a batch adds none of them.
	if _, err := s.CreateUsers([]store.NewUser{
		{AccountID: client.ID, Email: "fine@example.com", Role: store.RoleClientStaff},
		{AccountID: client.ID, Email: "TAKEN@example.com", Role: store.RoleClientStaff},
	}); !errors.Is(err, store.ErrEmailTaken) {
		t.Errorf("CreateUsers: %v, want ErrEmailTaken", err)
	}
	if _, err := s.UserByEmail("fine@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the good half of a failed batch was added: %v", err)
	}
	if users, err := s.Users(); err != nil || len(users) != 1 {
		t.Errorf("Users after the refusals = %d, %v; want the first only", len(users), err)
	}
}

func testUnknownIsErrNotFound(t *testing.T, open Opener) {
	s, _ := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientAdmin)
	sess, token := mustSession(t, s, u.ID, store.NewSession{})
	other := mustUser(t, s, store.RoleClientAdmin)
	// A token one character off, and the session's id as a token: the
	// store finds sessions by the hash of the token alone.
	wrong := []byte(token)
	wrong[0] ^= 1
	for name, call := range map[string]func() error{
		"AccountByID":            func() error { _, err := s.AccountByID(noSuchID); return err },
		"UserByID":               func() error { _, err := s.UserByID(noSuchID); return err },
		"UserByEmail":            func() error { _, err := s.UserByEmail("nobody@example.com"); return err },
		"UserSession unknown":    func() error { _, err := s.UserSession(u.ID, noSuchID); return err },
		"UserSession not theirs": func() error { _, err := s.UserSession(other.ID, sess.ID); return err },
		"Revoke not theirs":      func() error { _, err := s.RevokeUserSession(other.ID, sess.ID, store.ReasonRevoked); return err },
		"Revoke malformed id": func() error {
			_, err := s.RevokeUserSession(u.ID, "'; DROP TABLE sessions; --", store.ReasonRevoked)
			return err
		},
		"Authenticate wrong token": func() error { _, _, err := s.Authenticate(string(wrong)); return err },
		"Authenticate the id":      func() error { _, _, err := s.Authenticate(sess.ID); return err },
		"Authenticate short":       func() error { _, _, err := s.Authenticate("abc"); return err },
		"Peek wrong token":         func() error { _, _, err := s.Peek(string(wrong)); return err },
		"SetPasswordHash unknown":  func() error { _, err := s.SetPasswordHash(noSuchID, "h", true, ""); return err },
		"SetUserDisabled unknown":  func() error { _, err := s.SetUserDisabled(noSuchID, true); return err },
		"CreateSession unknown":    func() error { _, _, err := s.CreateSession(noSuchID, store.NewSession{}); return err },
	} {
		if err := call(); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
	if got := wantLive(t, s, token); got.ID != sess.ID {
		t.Errorf("the session itself: %s, want %s", got.ID, sess.ID)
	}
}

func testSetPasswordHash(t *testing.T, open Opener) {
	s, _ := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientAdmin)
	keep, keepToken := mustSession(t, s, u.ID, store.NewSession{})
	_, otherToken := mustSession(t, s, u.ID, store.NewSession{})
	wantLive(t, s, otherToken) // cached: the change must reach the cache
	wantLive(t, s, keepToken)
	n, err := s.SetPasswordHash(u.ID, "h2", true, keep.ID)
	if err != nil || n != 1 {
		t.Fatalf("SetPasswordHash = %d, %v; want 1 revoked", n, err)
	}
	if got, _ := s.UserByID(u.ID); got.PasswordHash != "h2" {
		t.Errorf("hash %q after the change", got.PasswordHash)
	}
	wantEnded(t, s, otherToken, store.ReasonPasswordChanged)
	if _, got, err := s.Authenticate(keepToken); err != nil || got.PasswordHash != "h2" {
		t.Errorf("the kept session: user %+v, %v; want the new hash", got, err)
	}
	_, thirdToken := mustSession(t, s, u.ID, store.NewSession{})
	if n, err := s.SetPasswordHash(u.ID, "h3", false, ""); err != nil || n != 0 {
		t.Errorf("SetPasswordHash without revoking = %d, %v", n, err)
	}
	wantLive(t, s, keepToken)
	if _, got, err := s.Authenticate(thirdToken); err != nil || got.PasswordHash != "h3" {
		t.Errorf("a session kept without revoking: user %+v, %v; want the newest hash", got, err)
	}
	want := []string{"signed_in ", "signed_in ", "password_changed ", "ended password_changed", "signed_in ", "password_changed "}
	if got := userEvents(t, s, u.ID); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("events %q, want %q", got, want)
	}
	mustCheck(t, s)
}

func testSetUserDisabled(t *testing.T, open Opener) {
	s, _ := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientAdmin)
	other := mustUser(t, s, store.RoleClientAdmin)
	_, token := mustSession(t, s, u.ID, store.NewSession{})
	_, token2 := mustSession(t, s, u.ID, store.NewSession{})
	_, otherToken := mustSession(t, s, other.ID, store.NewSession{})
	wantLive(t, s, token)
	if n, err := s.SetUserDisabled(u.ID, true); err != nil || n != 2 {
		t.Fatalf("SetUserDisabled = %d, %v; want 2 revoked", n, err)
	}
	wantEnded(t, s, token, store.ReasonUserDisabled)
	wantEnded(t, s, token2, store.ReasonUserDisabled)
	wantLive(t, s, otherToken)
	if got, _ := s.UserByID(u.ID); !got.Disabled {
		t.Errorf("not disabled")
	}
	if _, _, err := s.CreateSession(u.ID, store.NewSession{}); !errors.Is(err, store.ErrUserDisabled) {
		t.Errorf("CreateSession for a disabled user: %v, want ErrUserDisabled", err)
	}
	if n, err := s.SetUserDisabled(u.ID, false); err != nil || n != 0 {
		t.Fatalf("re-enable = %d, %v", n, err)
	}
	if got, _ := s.UserByID(u.ID); got.Disabled {
		t.Errorf("still disabled")
	}
	wantEnded(t, s, token, store.ReasonUserDisabled) // enabling brings nothing back
	mustSession(t, s, u.ID, store.NewSession{})
	mustCheck(t, s)
}
