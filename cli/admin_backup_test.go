package cli

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"portal/adminsock"
	"portal/adminsock/adminsocktest"
	"portal/store/bolt"
)

// TestBackupRejectsBadCopy: whatever answers on the admin socket, a copy
// that is not a whole portal database is deleted and reported as an error,
// never saved as a backup. The socket here passes every ownership check, as
// a broken or impostor server of the same user would.
func TestBackupRejectsBadCopy(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "portal.db")
	mustCLI(t, db, "", "account", "create", "-name", "Acme", "-kind", "client")
	st := cliOpenStore(t, db) // holds the lock, as a running server does
	defer st.Close()
	var whole bytes.Buffer
	if _, err := st.Backup(&whole); err != nil {
		t.Fatal(err)
	}
	junk := bytes.Repeat([]byte("junk"), 20)
	q := adminsocktest.StartSquatter(t, adminsock.Path(db), junk)
	dest := filepath.Join(dir, "backup.db")

	// The case, through the CLI: 80 junk bytes.
	r := portalCLI(t, nil, "", "backup", "-db", db, dest)
	want := "portal: what the server on " + adminsock.Path(db) + " sent: the backup failed its check: the 80 bytes are not a whole portal database (invalid database), so they were deleted and " + dest + " was not written\n"
	if r.code != 1 || r.errOut != want || r.out != "" {
		t.Fatalf("junk backup: exit %d\nstdout %q\nstderr %q\nwant exit 1 and %q", r.code, r.out, r.errOut, want)
	}
	wantNoFile(t, dest)
	wantNoFile(t, dest+".tmp")

	// Other bad copies, through the same function the CLI uses, without
	// the CLI's wait for the lock each time.
	fromServer := func(w io.Writer) (int64, error) { return backupFromServer(db, w) }
	for _, c := range []struct {
		name, want string
		body       []byte
	}{
		{"empty", "the file is empty", nil},
		{"cut short", "the file is cut short", whole.Bytes()[:whole.Len()/2]},
		{"bbolt, not portal", "no meta bucket", emptyBolt(t)},
		{"newer schema", fmt.Sprintf("schema %d, and this binary knows 1 to %d", bolt.SchemaVersion+1, bolt.SchemaVersion), withMeta(t, whole.Bytes(), "schema_version", binary.BigEndian.AppendUint64(nil, bolt.SchemaVersion+1))},
		{"no CSRF key", "no CSRF key", withMeta(t, whole.Bytes(), "csrf_key", nil)},
	} {
		q.SetBackup(c.body)
		_, err := writeBackup(fromServer, dest)
		if !errors.Is(err, errBadBackup) || !strings.Contains(err.Error(), "("+c.want) {
			t.Errorf("%s: %v; want the check to fail with %q", c.name, err, c.want)
		}
		wantNoFile(t, dest)
		wantNoFile(t, dest+".tmp")
	}

	q.SetBackup(whole.Bytes())
	if r := portalCLI(t, nil, "", "backup", "-db", db, dest); r.code != 0 || !strings.Contains(r.out, "from the running server") {
		t.Fatalf("whole backup: exit %d, %q", r.code, r.errOut)
	}
}

// withMeta is the database b with key in its meta bucket set to v, or
// deleted when v is nil.
func withMeta(t *testing.T, b []byte, key string, v []byte) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "edited.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		if v == nil {
			return tx.Bucket([]byte("meta")).Delete([]byte(key))
		}
		return tx.Bucket([]byte("meta")).Put([]byte(key), v)
	})
	if err := errors.Join(err, db.Close()); err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// emptyBolt is a valid bbolt file with none of the portal's buckets.
func emptyBolt(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "empty.db")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
