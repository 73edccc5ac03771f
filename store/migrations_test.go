package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// copyV1Fixture copies testdata/v1.db to a temporary file, so that tests
// never write the fixture, and returns its path and the original bytes.
func copyV1Fixture(t *testing.T) (string, []byte) {
	t.Helper()
	data, err := os.ReadFile(v1DB)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "portal.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, data
}

// dumpFile reads every key and value in the file without store.Open: a
// nested bucket is listed as "parent/name/" and its keys below it.
func dumpFile(t *testing.T, path string) map[string]string {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]string{}
	var walk func(prefix string, b *bolt.Bucket) error
	walk = func(prefix string, b *bolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			if child := b.Bucket(k); child != nil {
				out[prefix+string(k)+"/"] = ""
				return walk(prefix+string(k)+"/", child)
			}
			out[prefix+string(k)] = string(v)
			return nil
		})
	}
	err = db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			out[string(name)+"/"] = ""
			return walk(string(name)+"/", b)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOpenV1Fixture opens a database written by the schema-1 code and
// checks that every account, user and session reads back as that code
// read it, and that each session is still live or ended as it was.
func TestOpenV1Fixture(t *testing.T) {
	f := readV1Fixture(t)
	ended := map[Reason]int{}
	for _, x := range f.Sessions {
		ended[x.Ended]++
	}
	for _, r := range []Reason{"", ReasonIdle, ReasonLifetime, ReasonRevoked, ReasonRevokedAll, ReasonSignedOut, ReasonPasswordChanged, ReasonUserDisabled, ReasonSessionLimit} {
		if ended[r] == 0 {
			t.Errorf("the fixture has no session ended for %q; it should cover every kind", r)
		}
	}
	path, _ := copyV1Fixture(t)
	before := dumpFile(t, path)
	opts := Options{Now: func() time.Time { return f.Now }, Policy: f.Policy}
	s := mustOpenPath(t, path, opts)

	if !bytes.Equal(s.CSRFKey(), f.CSRFKey) {
		t.Errorf("CSRF key %x, want %x", s.CSRFKey(), f.CSRFKey)
	}
	byID := func(a, b Account) int { return strings.Compare(a.ID, b.ID) }
	accounts, err := s.Accounts()
	if err != nil {
		t.Fatal(err)
	}
	if want := slices.SortedFunc(slices.Values(f.Accounts), byID); !reflect.DeepEqual(slices.SortedFunc(slices.Values(accounts), byID), want) {
		t.Errorf("Accounts =\n%+v\nwant\n%+v", accounts, want)
	}
	for _, a := range f.Accounts {
		if got, err := s.AccountByID(a.ID); err != nil || got != a {
			t.Errorf("AccountByID(%s) = %+v, %v; want %+v", a.ID, got, err, a)
		}
	}
	users, err := s.Users()
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != len(f.Users) {
		t.Errorf("%d users, want %d", len(users), len(f.Users))
	}
	for _, u := range f.Users {
		if got, err := s.UserByID(u.ID); err != nil || got != u {
			t.Errorf("UserByID(%s) = %+v, %v; want %+v", u.ID, got, err, u)
		}
		if got, err := s.UserByEmail(strings.ToUpper(u.Email)); err != nil || got.ID != u.ID {
			t.Errorf("UserByEmail(%s) = %+v, %v; want user %s", u.Email, got, err, u.ID)
		}
	}
	live := map[string]int{}
	for _, x := range f.Sessions {
		want := x.Session
		got, err := s.UserSession(want.UserID, want.ID)
		if err != nil {
			t.Errorf("session %s: %v", want.ID, err)
			continue
		}
		if got.hash != HashToken(x.Token) {
			t.Errorf("session %s is not stored under its token's hash", want.ID)
		}
		got.hash = TokenHash{}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("session %s =\n%+v\nwant\n%+v", want.ID, got, want)
		}
		if _, reason := got.Ended(f.Now, f.Policy); reason != x.Ended {
			t.Errorf("session %s: ended for %q, want %q", want.ID, reason, x.Ended)
		}
		if x.Ended == "" {
			live[want.UserID]++
		}
	}
	for _, u := range f.Users {
		if list, err := s.ListUserSessions(u.ID); err != nil || len(list) != live[u.ID] {
			t.Errorf("ListUserSessions(%s) = %d sessions, %v; want %d", u.Email, len(list), err, live[u.ID])
		}
	}
	mustCheck(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if after := dumpFile(t, path); !reflect.DeepEqual(after, before) {
		t.Errorf("opening and reading the file changed its records")
	}

	// Each token still signs in, or is refused for the same reason.
	s = mustOpenPath(t, path, opts)
	for _, x := range f.Sessions {
		sess, u, err := s.Authenticate(x.Token)
		if x.Ended == "" {
			if err != nil || sess.ID != x.Session.ID || u.ID != x.Session.UserID {
				t.Errorf("Authenticate(session %s) = %s, user %s, %v; want it live", x.Session.ID, sess.ID, u.ID, err)
			}
			continue
		}
		var e *EndedError
		if !errors.As(err, &e) || e.Reason != x.Ended {
			t.Errorf("Authenticate(session %s) = %v, want ended for %q", x.Session.ID, err, x.Ended)
		}
	}
}
