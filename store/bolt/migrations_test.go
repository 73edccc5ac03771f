package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"portal/store"
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
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]string{}
	var walk func(prefix string, b *bbolt.Bucket) error
	walk = func(prefix string, b *bbolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			if child := b.Bucket(k); child != nil {
				out[prefix+string(k)+"/"] = ""
				return walk(prefix+string(k)+"/", child)
			}
			out[prefix+string(k)] = string(v)
			return nil
		})
	}
	err = db.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
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
	ended := map[store.Reason]int{}
	for _, x := range f.Sessions {
		ended[x.Ended]++
	}
	for _, r := range []store.Reason{"", store.ReasonIdle, store.ReasonLifetime, store.ReasonRevoked, store.ReasonRevokedAll, store.ReasonSignedOut, store.ReasonPasswordChanged, store.ReasonUserDisabled, store.ReasonSessionLimit} {
		if ended[r] == 0 {
			t.Errorf("the fixture has no session ended for %q; it should cover every kind", r)
		}
	}
	path, _ := copyV1Fixture(t)
	before := dumpFile(t, path)
	checkV1Records(t, path, f)
	after := dumpFile(t, path)
	// Schema 2 adds the account_users index and the empty partner_clients
	// set, schema 3 the empty two_step bucket, schema 4 the empty passkey
	// buckets, and none changes anything else: every record of schema 1 is kept byte for byte, and
	// no account becomes managed.
	for k, v := range before {
		if k == "meta/schema_version" {
			continue
		}
		if got, ok := after[k]; !ok || got != v {
			t.Errorf("migrating schema 1 changed or lost %s", k)
		}
	}
	if got := after["meta/schema_version"]; got != string([]byte{0, 0, 0, 0, 0, 0, 0, 4}) {
		t.Errorf("schema version after opening: %x, want 4", got)
	}
	for _, u := range f.Users {
		if _, ok := after["account_users/"+u.AccountID+"/"+u.ID]; !ok {
			t.Errorf("user %s is not indexed under account %s", u.Email, u.AccountID)
		}
	}
	for k := range after {
		if _, old := before[k]; !old && !strings.HasPrefix(k, "account_users/") && k != "partner_clients/" && k != "events/" && k != "two_step/" && !passkeyBuckets[k] {
			t.Errorf("migrating schema 1 added %s", k)
		}
	}
	// A second open finds nothing to do and writes nothing.
	checkV1Records(t, path, f)
	if again := dumpFile(t, path); !reflect.DeepEqual(again, after) {
		t.Error("opening the migrated file again changed it")
	}
}

// checkV1Records opens the copy of the fixture at path and checks that it
// holds what f says, then closes it.
func checkV1Records(t *testing.T, path string, f v1Fixture) {
	t.Helper()
	opts := Options{Now: func() time.Time { return f.Now }, Policy: f.Policy}
	s := mustOpenPath(t, path, opts)
	if !bytes.Equal(s.CSRFKey(), f.CSRFKey) {
		t.Errorf("CSRF key %x, want %x", s.CSRFKey(), f.CSRFKey)
	}
	byID := func(a, b store.Account) int { return strings.Compare(a.ID, b.ID) }
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
		if got.Hash != store.HashToken(x.Token) {
			t.Errorf("session %s is not stored under its token's hash", want.ID)
		}
		got.Hash = store.TokenHash{}
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

	// Each token still signs in, or is refused for the same reason. This
	// records activity, so it comes after the caller's look at the file.
	path2 := filepath.Join(t.TempDir(), "authenticate.db")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path2, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s = mustOpenPath(t, path2, opts)
	for _, x := range f.Sessions {
		sess, u, err := s.Authenticate(x.Token)
		if x.Ended == "" {
			if err != nil || sess.ID != x.Session.ID || u.ID != x.Session.UserID {
				t.Errorf("Authenticate(session %s) = %s, user %s, %v; want it live", x.Session.ID, sess.ID, u.ID, err)
			}
			continue
		}
		var e *store.EndedError
		if !errors.As(err, &e) || e.Reason != x.Ended {
			t.Errorf("Authenticate(session %s) = %v, want ended for %q", x.Session.ID, err, x.Ended)
		}
	}
}

// openClose opens the file at path with the store, closes it, and returns
// its bytes.
func openClose(t *testing.T, path string) []byte {
	t.Helper()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Open writes only what needs writing: a file at SchemaVersion, with all
// its buckets and its CSRF key, is left byte for byte as it was.
func TestOpenLeavesUpToDateFileAlone(t *testing.T) {
	path, orig := copyV1Fixture(t)
	once := openClose(t, path)
	if SchemaVersion == 1 && !bytes.Equal(once, orig) {
		t.Errorf("opening the version-1 fixture changed the file, with nothing to migrate")
	}
	if twice := openClose(t, path); !bytes.Equal(twice, once) {
		t.Errorf("opening a migrated file again changed it")
	}
	fresh := filepath.Join(t.TempDir(), "new.db")
	once = openClose(t, fresh)
	if twice := openClose(t, fresh); !bytes.Equal(twice, once) {
		t.Errorf("opening a new file a second time changed it")
	}
}

// The table runs from version 1 without gaps and ends at SchemaVersion.
func TestMigrationsTable(t *testing.T) {
	for i, m := range migrations {
		if m.version != uint64(i+1) || m.name == "" || m.migrate == nil {
			t.Errorf("migrations[%d] = version %d %q; want version %d, a name and a function", i, m.version, m.name, i+1)
		}
	}
	if SchemaVersion != migrations[len(migrations)-1].version {
		t.Errorf("SchemaVersion %d is not the last migration's", SchemaVersion)
	}
}

// withMigration adds m to the table for one test, as a new schema would.
func withMigration(t *testing.T, m migration) {
	t.Helper()
	old, oldVersion := migrations, SchemaVersion
	migrations, SchemaVersion = append(slices.Clip(old), m), m.version
	t.Cleanup(func() { migrations, SchemaVersion = old, oldVersion })
}

// A new schema version is one entry in the table: Open runs it once, in
// the transaction that records the new version, and every record of the
// older file survives.
func TestMigrationRunsOnce(t *testing.T) {
	f := readV1Fixture(t)
	runs := 0
	next := SchemaVersion + 1
	withMigration(t, migration{version: next, name: "test", migrate: func(tx *bbolt.Tx) error {
		runs++
		return getMetaBucket(tx).Put([]byte("migrated"), []byte("yes"))
	}})
	path, _ := copyV1Fixture(t)
	checkV1Records(t, path, f)
	openClose(t, path)
	if runs != 1 {
		t.Errorf("the migration ran %d times over two opens, want once", runs)
	}
	dump := dumpFile(t, path)
	if got := dump["meta/migrated"]; got != "yes" {
		t.Errorf("the migration's write is missing")
	}
	if got := dump["meta/schema_version"]; got != string(binary.BigEndian.AppendUint64(nil, next)) {
		t.Errorf("schema version %x, want %d", got, next)
	}
}

// A migration that fails leaves the file as it was, and Open says which.
func TestMigrationFailureChangesNothing(t *testing.T) {
	withMigration(t, migration{version: SchemaVersion + 1, name: "partner on accounts", migrate: func(tx *bbolt.Tx) error {
		if err := getMetaBucket(tx).Put([]byte("half"), []byte("done")); err != nil {
			return err
		}
		return errors.New("disk on fire")
	}})
	path, orig := copyV1Fixture(t)
	s, err := Open(path, Options{})
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded with a failing migration")
	}
	for _, want := range []string{path, "partner on accounts", "disk on fire"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, orig) {
		t.Errorf("a failed migration changed the file")
	}
}

// A bbolt file of another program is refused, not adopted.
func TestOpenForeignFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket([]byte("widgets"))
		if err != nil {
			return err
		}
		return b.Put([]byte("w1"), []byte("blue"))
	})
	if err := errors.Join(err, db.Close()); err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{})
	if err == nil {
		s.Close()
		t.Fatal("Open adopted another program's bbolt file")
	}
	if !errors.Is(err, store.ErrDamaged) || !strings.Contains(err.Error(), "not a portal database") || !strings.Contains(err.Error(), `"widgets"`) {
		t.Errorf("error %q should match ErrDamaged and name the foreign bucket", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, orig) {
		t.Errorf("refusing the file changed it")
	}
}

// testdata/v2.db is a schema-2 file as the schema-2 code left it: the v1
// fixture opened by that code (so migrated once already), a client moved
// under a partner, a session the partner signed out, and a group of failed
// sign-ins; testdata/v2.json names them. Opening it migrates to schema 4,
// which adds the empty two_step bucket and the empty passkey buckets and
// keeps every record byte for byte; what schema 2 held reads back the
// same, every session reads as signed in with the password alone, and no
// user has passkeys or a user handle.
func TestOpenV2Fixture(t *testing.T) {
	var f struct {
		Now         time.Time    `json:"now"`
		Policy      store.Policy `json:"policy"`
		Client      string       `json:"client"`
		Partner     string       `json:"partner"`
		User        string       `json:"user"`
		PartnerUser string       `json:"partner_user"`
		Revoked     string       `json:"revoked"`
		Events      int          `json:"events"`
	}
	data, err := os.ReadFile("testdata/v2.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("testdata/v2.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "portal.db")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	before := dumpFile(t, path)
	if got := before["meta/schema_version"]; got != string([]byte{0, 0, 0, 0, 0, 0, 0, 2}) {
		t.Fatalf("the fixture is schema %x, want 2", got)
	}
	s, err := Open(path, Options{Now: func() time.Time { return f.Now }, Policy: f.Policy})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.AccountByID(f.Client)
	if err != nil || a.Partner != f.Partner || a.RequireTwoStep {
		t.Errorf("the client account: %+v, %v; want managed by %s, two-step not required", a, err, f.Partner)
	}
	p, err := s.UserEvents(f.User, store.EventQuery{})
	if err != nil || p.Total != f.Events {
		t.Errorf("the user's log: %d events, %v; want %d", p.Total, err, f.Events)
	}
	x, err := s.UserSession(f.User, f.Revoked)
	if err != nil || x.EndReason != store.ReasonPartner || x.RevokedBy != f.PartnerUser || x.Auth != store.AuthPassword {
		t.Errorf("the session the partner signed out: %+v, %v", x, err)
	}
	if _, err := s.TwoStepRecord(f.User); !errors.Is(err, store.ErrTwoStepOff) {
		t.Errorf("two-step sign-in of a schema-2 user: %v, want off", err)
	}
	if list, err := s.Passkeys(f.User); err != nil || len(list) != 0 {
		t.Errorf("passkeys of a schema-2 user: %v, %v; want none", list, err)
	}
	if x.Passkey != "" {
		t.Errorf("a schema-2 session signed in with passkey %q", x.Passkey)
	}
	mustCheck(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	after := dumpFile(t, path)
	for k, v := range before {
		if got, ok := after[k]; k != "meta/schema_version" && (!ok || got != v) {
			t.Errorf("migrating schema 2 changed or lost %s", k)
		}
	}
	for k := range after {
		if _, old := before[k]; !old && k != "two_step/" && !passkeyBuckets[k] {
			t.Errorf("migrating schema 2 added %s", k)
		}
	}
	if got := after["meta/schema_version"]; got != string([]byte{0, 0, 0, 0, 0, 0, 0, 4}) {
		t.Errorf("schema version after opening: %x, want 4", got)
	}
}

// passkeyBuckets are the buckets schema 4 adds, as dumpFile names them:
// empty in a migrated file.
var passkeyBuckets = map[string]bool{"passkeys/": true, "user_passkeys/": true, "passkey_handles/": true, "passkey_users/": true}
