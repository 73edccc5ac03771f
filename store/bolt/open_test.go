package bolt

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"portal/store"
)

func TestOpenLockedFile(t *testing.T) {
	s := MustOpen(t, Options{})
	done := make(chan error, 1)
	go func() {
		s2, err := Open(s.Path(), Options{Timeout: 200 * time.Millisecond})
		if err == nil {
			s2.Close()
		}
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second): // a hang guard, not a timing assertion
		t.Fatal("second Open of a locked file did not give up")
	}
	if err == nil {
		t.Fatal("second Open of the same file succeeded; want a lock error")
	}
	msg := err.Error()
	if !strings.Contains(msg, s.Path()) || !strings.Contains(msg, "locked") || !errors.Is(err, ErrLocked) || errors.Is(err, store.ErrDamaged) {
		t.Errorf("error %q should name the path %s, say it is locked and match ErrLocked only", msg, s.Path())
	}
	// The first store is unharmed and, once closed, the file opens again.
	u := mustUser(t, s, store.RoleClientAdmin)
	s = reopen(t, s, Options{Timeout: 200 * time.Millisecond})
	if _, err := s.UserByID(u.ID); err != nil {
		t.Errorf("after the failed second open: %v", err)
	}
}

// realDB returns the bytes of a closed database with some content.
func realDB(t *testing.T) []byte {
	t.Helper()
	s := MustOpen(t, Options{})
	u := mustUser(t, s, store.RoleClientAdmin)
	for range 20 {
		mustSession(t, s, u.ID, store.NewSession{UserAgent: strings.Repeat("x", 200)})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestOpenDamagedFiles(t *testing.T) {
	real := realDB(t)
	random := make([]byte, 64<<10)
	rand.Read(random)
	zeroMeta := bytes.Clone(real)
	clear(zeroMeta[:8192]) // both meta pages gone (4 KiB pages)

	tests := []struct {
		name string
		data []byte
	}{
		{"truncated to 1000 bytes", real[:1000]},
		{"truncated to three pages", real[:12288]},
		{"truncated to four pages", real[:16384]},
		{"truncated to one byte", real[:1]},
		{"random 64 KiB", random},
		{"random 100 bytes", random[:100]},
		{"text file", []byte("# portal configuration\nlisten = \":8080\"\ndatabase = \"portal.db\"\n")},
		{"long text file", bytes.Repeat([]byte("this is not a database, it is a text file\n"), 2000)},
		{"meta pages zeroed", zeroMeta},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "portal.db")
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(path, Options{Timeout: time.Second})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded on a damaged file")
			}
			if !strings.Contains(err.Error(), "not a portal database or is damaged") || !strings.Contains(err.Error(), path) || !errors.Is(err, store.ErrDamaged) {
				t.Errorf("error %q should name %s, say it is damaged and match ErrDamaged", err, path)
			}
			// The file is left as it was, for the operator to inspect.
			if after, _ := os.ReadFile(path); !bytes.Equal(after, tt.data) {
				t.Errorf("Open changed the damaged file")
			}
		})
	}
}

// A file cut short anywhere must be refused with the damaged message, not
// crash the process: bbolt reads through mmap, where a missing page is a
// SIGBUS, not an error. The database has seen churn, so its freelist and
// data pages are spread over the file and some cuts leave every page Open
// reads intact.
func TestOpenTruncatedAnywhere(t *testing.T) {
	c := newClock()
	s := MustOpen(t, Options{Now: c.Now, Policy: testPolicy})
	u := mustUser(t, s, store.RoleClientAdmin)
	for range 300 {
		mustSession(t, s, u.ID, store.NewSession{UserAgent: strings.Repeat("x", 300)})
	}
	if _, err := s.RevokeAllUserSessions(u.ID, store.ReasonEverywhere); err != nil {
		t.Fatal(err)
	}
	c.Advance(40 * 24 * time.Hour)
	if n, err := s.Sweep(time.Hour, 50); err != nil || n != 300 {
		t.Fatalf("Sweep = %d, %v", n, err)
	}
	for range 3 {
		mustUser(t, s, store.RoleClientAdmin)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(s.Path(), 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var need int
	var pageSize int
	db.View(func(tx *bbolt.Tx) error { need = int(tx.Size()); return nil })
	pageSize = db.Info().PageSize
	db.Close()

	var cuts []int
	for n := pageSize; n < need; n += pageSize {
		cuts = append(cuts, n, n+pageSize/2)
	}
	sizeChecked := 0
	for _, n := range cuts {
		path := filepath.Join(t.TempDir(), "portal.db")
		if err := os.WriteFile(path, data[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(path, Options{Timeout: time.Second})
		if err == nil {
			err = s.Check()
			s.Close()
			t.Errorf("cut at %d of %d: Open succeeded (Check: %v)", n, need, err)
			continue
		}
		if !strings.Contains(err.Error(), "not a portal database or is damaged") || !errors.Is(err, store.ErrDamaged) {
			t.Errorf("cut at %d: error %q does not say damaged", n, err)
		}
		if strings.Contains(err.Error(), "pages need") {
			sizeChecked++
		}
	}
	if sizeChecked == 0 {
		t.Errorf("no cut reached the size check; the test no longer covers it")
	}
	// The whole file still opens.
	path := filepath.Join(t.TempDir(), "portal.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	mustCheck(t, mustOpenPath(t, path, Options{}))
}

func TestOpenZeroByteFileIsNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portal.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s := mustOpenPath(t, path, Options{})
	u := mustUser(t, s, store.RoleClientAdmin)
	s = reopen(t, s, Options{})
	if _, err := s.UserByID(u.ID); err != nil {
		t.Fatal(err)
	}
	mustCheck(t, s)
}

func TestOpenCreatesMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	s := mustOpenPath(t, path, Options{})
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("new file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	mustCheck(t, s)
}

func TestOpenEmptyPath(t *testing.T) {
	s, err := Open("", Options{})
	if err == nil {
		s.Close()
		t.Fatal("Open(\"\") succeeded")
	}
}

func TestOpenMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "portal.db")
	s, err := Open(path, Options{})
	if err == nil {
		s.Close()
		t.Fatal("Open in a missing directory succeeded")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q should name the path", err)
	}
	if strings.Contains(err.Error(), "damaged") || errors.Is(err, store.ErrDamaged) || errors.Is(err, ErrLocked) {
		t.Errorf("a missing directory is reported as a damaged or locked database: %q", err)
	}
}

// writeMeta writes raw meta entries into a fresh bbolt file, as another
// version of portal (or another program) might have.
func writeMeta(t *testing.T, entries map[string][]byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "portal.db")
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		for k, v := range entries {
			if err := b.Put([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOpenSchemaVersion(t *testing.T) {
	tests := []struct {
		name    string
		version []byte
		wantErr string // "" means it opens
	}{
		{"newer", binary.BigEndian.AppendUint64(nil, SchemaVersion+1), "newer"},
		{"much newer", binary.BigEndian.AppendUint64(nil, 1<<40), "newer"},
		{"current", binary.BigEndian.AppendUint64(nil, SchemaVersion), ""},
		{"absent", nil, ""},
		{"wrong length", []byte{0, 0, 0, 1}, "not a portal database or is damaged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries := map[string][]byte{}
			if tt.version != nil {
				entries[string(keySchemaVersion)] = tt.version
			}
			path := writeMeta(t, entries)
			s, err := Open(path, Options{Timeout: time.Second})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				defer s.Close()
				mustCheck(t, s)
				return
			}
			if err == nil {
				s.Close()
				t.Fatalf("Open succeeded, want an error mentioning %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q should name %s and mention %q", err, path, tt.wantErr)
			}
			if damaged := strings.Contains(tt.wantErr, "damaged"); errors.Is(err, store.ErrDamaged) != damaged {
				t.Errorf("errors.Is(%q, ErrDamaged) = %v, want %v", err, !damaged, damaged)
			}
			// Refusing must not have rewritten the version, or anything
			// else a newer portal would then misread.
			db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second, ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			db.View(func(tx *bbolt.Tx) error {
				if v := tx.Bucket(bucketMeta).Get(keySchemaVersion); !bytes.Equal(v, tt.version) {
					t.Errorf("schema version now %x, want it left at %x", v, tt.version)
				}
				if tx.Bucket(bucketSessions) != nil {
					t.Errorf("a refused open created buckets")
				}
				return nil
			})
		})
	}
}

func TestCSRFKey(t *testing.T) {
	s := MustOpen(t, Options{})
	key := bytes.Clone(s.CSRFKey())
	if len(key) != 32 {
		t.Fatalf("CSRFKey is %d bytes, want 32", len(key))
	}
	if bytes.Equal(key, make([]byte, 32)) {
		t.Fatal("CSRFKey is all zeros")
	}
	s = reopen(t, s, Options{})
	if !bytes.Equal(s.CSRFKey(), key) {
		t.Errorf("CSRFKey changed across a restart")
	}
	s = reopen(t, s, Options{})
	if !bytes.Equal(s.CSRFKey(), key) {
		t.Errorf("CSRFKey changed across a second restart")
	}
	other := MustOpen(t, Options{})
	if bytes.Equal(other.CSRFKey(), key) {
		t.Errorf("two databases share a CSRF key")
	}
}

// A stored key of the wrong length is replaced rather than used.
func TestCSRFKeyWrongLengthReplaced(t *testing.T) {
	path := writeMeta(t, map[string][]byte{string(keyCSRFKey): []byte("short")})
	s := mustOpenPath(t, path, Options{})
	if k := s.CSRFKey(); len(k) != 32 || bytes.HasPrefix(k, []byte("short")) {
		t.Errorf("CSRFKey = %x, want 32 fresh bytes", k)
	}
	key := bytes.Clone(s.CSRFKey())
	s = reopen(t, s, Options{})
	if !bytes.Equal(s.CSRFKey(), key) {
		t.Errorf("replacement CSRFKey was not kept")
	}
}

func TestClosedStoreErrors(t *testing.T) {
	s := MustOpen(t, Options{})
	u := mustUser(t, s, store.RoleClientAdmin)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserByID(u.ID); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserByID on a closed store = %v, want a database error", err)
	}
}
