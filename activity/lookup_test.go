package activity

import (
	"path/filepath"
	"testing"

	"portal/store"
	"portal/store/bolt"
)

// twoUsers is a store with two users of one account, named "Name EMAIL".
func twoUsers(t *testing.T) (*bolt.Store, []store.User) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "portal.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	acct, err := st.CreateAccount("Acme", store.AccountClient)
	if err != nil {
		t.Fatal(err)
	}
	var users []store.User
	for _, email := range []string{"ann@example.com", "bob@example.com"} {
		u, err := st.CreateUser(store.NewUser{AccountID: acct.ID, Email: email, Name: "Name " + email, Role: store.RoleClientStaff, PasswordHash: "x"})
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	return st, users
}

// TestStoreLookup: the lookup finds the user's own sessions, live or
// ended, and no one else's; and any user's name.
func TestStoreLookup(t *testing.T) {
	st, users := twoUsers(t)
	mine, _, err := st.CreateSession(users[0].ID, store.NewSession{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RevokeUserSession(users[0].ID, mine.ID, store.ReasonSignedOut); err != nil {
		t.Fatal(err)
	}
	theirs, _, err := st.CreateSession(users[1].ID, store.NewSession{})
	if err != nil {
		t.Fatal(err)
	}
	l := StoreLookup(st, users[0].ID)
	for range 2 { // the second time from memory
		if s, ok := l.Session(mine.ID); !ok || s.ID != mine.ID || s.EndReason != store.ReasonSignedOut {
			t.Errorf("own ended session: %+v %v", s, ok)
		}
		if _, ok := l.Session(theirs.ID); ok {
			t.Error("another user's session was found")
		}
		if name, account, ok := l.User(users[1].ID); !ok || name != "Name bob@example.com" || account != users[1].AccountID {
			t.Errorf("user: %q of %q %v", name, account, ok)
		}
		if _, _, ok := l.User("0123456789abcdef0123456789abcdef"); ok {
			t.Error("a made-up user has a name")
		}
	}
}

// TestStoreLookupPrefetch: sessions read at once answer like those read
// one by one: the user's own, and no one else's.
func TestStoreLookupPrefetch(t *testing.T) {
	st, users := twoUsers(t)
	mine, _, err := st.CreateSession(users[0].ID, store.NewSession{})
	if err != nil {
		t.Fatal(err)
	}
	theirs, _, err := st.CreateSession(users[1].ID, store.NewSession{})
	if err != nil {
		t.Fatal(err)
	}
	l := StoreLookup(st, users[0].ID)
	d := Describer{Lookup: l}
	d.Prefetch([]store.Event{{Kind: store.EventSignedIn, SessionID: mine.ID}, {Kind: store.EventEnded, SessionID: theirs.ID, By: store.Actor{Session: mine.ID}}})
	if s, ok := l.Session(mine.ID); !ok || s.ID != mine.ID {
		t.Errorf("own session after a prefetch: %+v %v", s, ok)
	}
	if _, ok := l.Session(theirs.ID); ok {
		t.Error("another user's session was found after a prefetch")
	}
}
