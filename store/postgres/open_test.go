package postgres

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"portal/internal/pgtest"
)

func TestMaskURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"postgres://portal:s3cret@db.example.com:5432/portal?sslmode=require", "postgres://portal:xxxxx@db.example.com:5432/portal?sslmode=require"},
		{"postgresql://portal@db/portal", "postgresql://portal@db/portal"},
		{"postgres://db/portal?password=s3cret&sslmode=disable", "postgres://db/portal?password=xxxxx&sslmode=disable"},
		{"host=db user=portal password=s3cret dbname=portal", "host=db user=portal password=xxxxx dbname=portal"},
		{"host=db password='s3 cret' dbname=portal", "host=db password=xxxxx dbname=portal"},
		{"postgres://u:p%40ss@h/d", "postgres://u:xxxxx@h/d"},
		{"postgres://u:s3cret@[bad/", "postgres://u:xxxxx@[bad/"},
	} {
		got := MaskURL(tc.in)
		if got != tc.want {
			t.Errorf("MaskURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.Contains(got, "s3cret") || strings.Contains(got, "p%40ss") {
			t.Errorf("MaskURL(%q) shows the password", tc.in)
		}
	}
}

// Every way Open can fail says why in a sentence, and never shows the
// password.
func TestOpenRefuses(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDB(t)
	newer := mustOpenURL(t, url, Options{})
	if _, err := newer.pool.Exec(context.Background(), "INSERT INTO schema_version (version, name) VALUES (999, '0999_future.sql')"); err != nil {
		t.Fatal(err)
	}
	c := pgtest.Start(t)
	migs, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, url, want string
	}{
		{"not a URL", "postgres://u:s3cret@[bad/", "is not a PostgreSQL URL"},
		{"nothing listening", "postgres://u:s3cret@/portal?host=" + t.TempDir(), "did not answer in time"},
		{"no such database", strings.Replace(c.URL("nosuchdb"), "postgres@", "postgres:s3cret@", 1), "has no such database"},
		{"newer schema", url, fmt.Sprintf("written by a newer portal (schema 999, this binary knows %d)", len(migs))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(context.Background(), tc.url, Options{ConnectTimeout: 500 * time.Millisecond})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open: %v; want it to say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("Open's error shows the password: %v", err)
			}
		})
	}
}

func TestLoadMigrations(t *testing.T) {
	t.Parallel()
	migs, err := loadMigrations(migrationFiles)
	if err != nil || len(migs) == 0 {
		t.Fatalf("embedded migrations: %d, %v", len(migs), err)
	}
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		ok    bool
	}{
		{"in order", fstest.MapFS{"migrations/0001_a.sql": file("x"), "migrations/0002_b.sql": file("y")}, true},
		{"a gap", fstest.MapFS{"migrations/0001_a.sql": file("x"), "migrations/0003_c.sql": file("y")}, false},
		{"not from 1", fstest.MapFS{"migrations/0002_b.sql": file("x")}, false},
		{"twice the same number", fstest.MapFS{"migrations/0001_a.sql": file("x"), "migrations/0001_b.sql": file("y")}, false},
		{"no number", fstest.MapFS{"migrations/init.sql": file("x")}, false},
	} {
		_, err := loadMigrations(tc.files)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// A migration that fails leaves the database as it was, earlier steps of
// the same run included.
func TestMigrationFailureChangesNothing(t *testing.T) {
	t.Parallel()
	s := mustOpen(t, Options{})
	bad := []migration{
		{1, "0001_a.sql", "CREATE TABLE first_step (x int)"},
		{2, "0002_b.sql", "CREATE TABLE second_step (x int); SELECT no_such_function()"},
	}
	if _, err := s.pool.Exec(context.Background(), "DROP TABLE schema_version"); err != nil {
		t.Fatal(err)
	}
	if _, err := migrate(context.Background(), s.pool, bad); err == nil || !strings.Contains(err.Error(), "0002_b.sql") {
		t.Fatalf("migrate: %v, want the failing file named", err)
	}
	if n := sqlInt(t, s, "SELECT count(*) FROM pg_tables WHERE tablename IN ('first_step', 'second_step', 'schema_version')"); n != 0 {
		t.Errorf("%d tables of the failed run are left", n)
	}
}

// Instances starting together on an empty database migrate it once.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDB(t)
	var wg sync.WaitGroup
	stores := make([]*Store, 4)
	for i := range stores {
		wg.Go(func() {
			s, err := Open(context.Background(), url, Options{})
			if err != nil {
				t.Errorf("Open %d: %v", i, err)
				return
			}
			stores[i] = s
		})
	}
	wg.Wait()
	for _, s := range stores {
		if s != nil {
			defer s.Close()
		}
	}
	if t.Failed() {
		return
	}
	migs, _ := loadMigrations(migrationFiles)
	if n := sqlInt(t, stores[0], "SELECT count(*) FROM schema_version"); n != len(migs) {
		t.Errorf("schema_version has %d rows, want %d", n, len(migs))
	}
	for _, s := range stores[1:] {
		if !bytes.Equal(s.CSRFKey(), stores[0].CSRFKey()) {
			t.Errorf("instances got different CSRF keys")
		}
	}
}

func TestCSRFKey(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDB(t)
	a := mustOpenURL(t, url, Options{})
	if len(a.CSRFKey()) != 32 {
		t.Fatalf("CSRF key of %d bytes", len(a.CSRFKey()))
	}
	b := mustOpenURL(t, url, Options{})
	if !bytes.Equal(a.CSRFKey(), b.CSRFKey()) {
		t.Errorf("a second instance has another CSRF key")
	}
	if _, err := a.pool.Exec(context.Background(), "UPDATE keys SET value = '\\x0102' WHERE name = 'csrf_key'"); err != nil {
		t.Fatal(err)
	}
	c := mustOpenURL(t, url, Options{})
	if len(c.CSRFKey()) != 32 || bytes.Equal(c.CSRFKey(), a.CSRFKey()) {
		t.Errorf("a key of the wrong length was not replaced: %x", c.CSRFKey())
	}
}

func TestPingAndClose(t *testing.T) {
	t.Parallel()
	s := mustOpen(t, Options{})
	if err := s.Ping(); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Ping(); err == nil {
		t.Errorf("Ping after Close succeeded")
	}
}
