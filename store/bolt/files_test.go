package bolt

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"portal/store"
)

// editFile applies fn to the bbolt file at path in one write transaction,
// as a damaged disk or another program might have.
func editFile(t *testing.T, path string, fn func(*bbolt.Tx) error) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(db.Update(fn), db.Close()); err != nil {
		t.Fatal(err)
	}
}

// writeFile writes data to a new file and returns its path.
func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckFile(t *testing.T) {
	whole := realDB(t)
	for _, c := range []struct {
		name string
		path string
		want string // the whole error; "" for none
	}{
		{"whole", writeFile(t, whole), ""},
		{"version-1 fixture", writeFile(t, mustRead(t, v1DB)), ""},
		{"empty", writeFile(t, nil), "the file is empty"},
		{"junk", writeFile(t, []byte("junkjunkjunkjunkjunkjunk")), "invalid database"},
		{"bbolt, not portal", func() string {
			p := writeFile(t, nil)
			os.Remove(p)
			editFile(t, p, func(*bbolt.Tx) error { return nil })
			return p
		}(), "no meta bucket"},
		{"newer schema", func() string {
			p := writeFile(t, whole)
			editFile(t, p, func(tx *bbolt.Tx) error {
				return getMetaBucket(tx).Put(keySchemaVersion, []byte{0, 0, 0, 0, 0, 0, 0, byte(SchemaVersion + 1)})
			})
			return p
		}(), fmt.Sprintf("schema %d, and this binary knows 1 to %d", SchemaVersion+1, SchemaVersion)},
		{"no CSRF key", func() string {
			p := writeFile(t, whole)
			editFile(t, p, func(tx *bbolt.Tx) error { return getMetaBucket(tx).Delete(keyCSRFKey) })
			return p
		}(), "no CSRF key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := mustRead(t, c.path)
			err := CheckFile(c.path)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("CheckFile = %v, want nil", err)
			case c.want != "" && (err == nil || err.Error() != c.want || !errors.Is(err, store.ErrDamaged)):
				t.Errorf("CheckFile = %v, want %q matching ErrDamaged", err, c.want)
			}
			if after := mustRead(t, c.path); !bytes.Equal(after, before) {
				t.Errorf("CheckFile changed the file")
			}
		})
	}
	t.Run("cut short", func(t *testing.T) {
		var backup bytes.Buffer // exactly the pages in use, unlike the file
		if _, err := mustOpenPath(t, writeFile(t, whole), Options{}).Backup(&backup); err != nil {
			t.Fatal(err)
		}
		err := CheckFile(writeFile(t, backup.Bytes()[:backup.Len()/2]))
		if !errors.Is(err, store.ErrDamaged) || !strings.HasPrefix(err.Error(), "the file is cut short") {
			t.Errorf("CheckFile = %v, want ErrDamaged, cut short", err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		err := CheckFile(filepath.Join(t.TempDir(), "none.db"))
		if !errors.Is(err, os.ErrNotExist) || errors.Is(err, store.ErrDamaged) {
			t.Errorf("CheckFile = %v, want a not-exist error", err)
		}
	})
	t.Run("held by a store", func(t *testing.T) {
		s := MustOpen(t, Options{})
		if err := CheckFile(s.Path()); !errors.Is(err, ErrLocked) {
			t.Errorf("CheckFile = %v, want ErrLocked", err)
		}
	})
}

func TestRemove(t *testing.T) {
	s := MustOpen(t, Options{})
	if err := Remove(s.Path(), 200*time.Millisecond); !errors.Is(err, ErrLocked) {
		t.Errorf("Remove of a file a store holds = %v, want ErrLocked", err)
	}
	if _, err := os.Stat(s.Path()); err != nil {
		t.Errorf("Remove deleted a file a store holds: %v", err)
	}
	for name, data := range map[string][]byte{"portal": realDB(t), "junk": []byte("not a database"), "empty": nil} {
		path := writeFile(t, data)
		if err := Remove(path, 0); err != nil {
			t.Errorf("%s: Remove = %v", name, err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: file still there after Remove (%v)", name, err)
		}
	}
	if err := Remove(filepath.Join(t.TempDir(), "none.db"), 0); err != nil {
		t.Errorf("Remove of a missing file = %v, want nil", err)
	}
}

// Check reports a broken index as damage.
func TestCheckDamagedIndex(t *testing.T) {
	s := MustOpen(t, Options{})
	u := mustUser(t, s, store.RoleClientAdmin)
	sess, _ := mustSession(t, s, u.ID, store.NewSession{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	editFile(t, s.Path(), func(tx *bbolt.Tx) error { return getSessionsByIDBucket(tx).Delete([]byte(sess.ID)) })
	s = mustOpenPath(t, s.Path(), Options{})
	if err := s.Check(); !errors.Is(err, store.ErrDamaged) {
		t.Errorf("Check = %v, want ErrDamaged", err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
