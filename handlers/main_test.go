package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"portal/internal/pgtest"
	"portal/store"
	"portal/store/bolt"
	"portal/store/postgres"
)

// backendVar names the store this test process runs the handlers on:
// unset for bbolt, "postgres" for PostgreSQL.
const backendVar = "PORTAL_HANDLERS_BACKEND"

// TestMain runs the package's tests twice, so that a plain go test ./...
// holds the handlers to the same behaviour on both stores: first on
// bbolt in this process, then, when PostgreSQL's binaries are installed
// (or PORTAL_PG=required, as in CI), on PostgreSQL in a copy of this
// process started with backendVar set. A second process rather than a
// second m.Run: the testing package runs m.Run once per process (flags,
// the -count loop, profiles and the exit summary are all per process).
func TestMain(m *testing.M) {
	if onPostgres() {
		os.Exit(pgtest.Main(m))
	}
	code := m.Run()
	if alsoPostgres() {
		if c := runOnPostgres(); code == 0 {
			code = c
		}
	}
	os.Exit(code)
}

// onPostgres reports whether this process runs the tests on PostgreSQL.
func onPostgres() bool { return os.Getenv(backendVar) == "postgres" }

// alsoPostgres reports whether the tests should run again on PostgreSQL:
// its binaries are there or CI requires them, and the run is not one that
// lists the tests, benchmarks or fuzzes.
func alsoPostgres() bool {
	if pgtest.FindBin() == "" && !pgtest.Required() {
		fmt.Println("handlers: PostgreSQL is not installed; the handler tests ran on bbolt only")
		return false
	}
	// Listing, benchmarks (whose names would repeat with other figures in
	// one output, confusing benchstat) and fuzzing: once.
	args := os.Args[1:]
	for i, a := range args {
		name, value, set := strings.Cut(strings.TrimPrefix(a, "-"), "=")
		if !set && i+1 < len(args) {
			value = args[i+1]
		}
		switch name {
		case "-test.list", "test.list", "-test.bench", "test.bench", "-test.fuzz", "test.fuzz":
			if value != "" {
				return false
			}
		}
	}
	return true
}

// runOnPostgres runs this test binary again, with the same flags but the
// profiles (which would overwrite this run's), on PostgreSQL, and returns
// its exit code.
func runOnPostgres() int {
	var args []string
	for _, a := range os.Args[1:] {
		if !writesProfile(a) {
			args = append(args, a)
		}
	}
	fmt.Println("handlers: the same tests on PostgreSQL (" + backendVar + "=postgres)")
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), backendVar+"=postgres")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		fmt.Println("handlers: FAIL on PostgreSQL")
		return exit.ExitCode()
	default:
		fmt.Println("handlers: running the tests on PostgreSQL:", err)
		return 1
	}
}

// writesProfile reports whether the test flag a names a file this run
// writes when it ends.
func writesProfile(a string) bool {
	for _, f := range []string{"coverprofile", "cpuprofile", "memprofile", "blockprofile", "mutexprofile", "trace"} {
		if strings.HasPrefix(a, "-test."+f+"=") || a == "-test."+f {
			return true
		}
	}
	return false
}

// openStore opens the store this process tests the handlers on, in dir
// for bbolt or on a fresh database of the test cluster for PostgreSQL,
// closed when t ends.
func openStore(t testing.TB, dir string, policy store.Policy, now func() time.Time, notifier store.Notifier) store.Backend {
	t.Helper()
	const maxSessions = 100
	var st store.Backend
	var err error
	if onPostgres() {
		st, err = postgres.Open(context.Background(), pgtest.NewDB(t), postgres.Options{
			Policy: policy, Now: now, MaxSessionsPerUser: maxSessions, Notifier: notifier,
		})
	} else {
		st, err = bolt.Open(filepath.Join(dir, "portal.db"), bolt.Options{
			Policy: policy, Now: now, MaxSessionsPerUser: maxSessions, Notifier: notifier,
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// reopenStore opens the store at path (a file, or the database URL Path
// gave) again, closed when t ends, to read back what e's store wrote.
func reopenStore(t testing.TB, path string, policy store.Policy, now func() time.Time) store.Backend {
	t.Helper()
	var st store.Backend
	var err error
	if onPostgres() {
		st, err = postgres.Open(context.Background(), path, postgres.Options{Policy: policy, Now: now})
	} else {
		st, err = bolt.Open(path, bolt.Options{Policy: policy, Now: now})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// atRest closes e's store and returns what its database holds: the bbolt
// file's bytes, or every value of every row of every table of the
// PostgreSQL database, read with a connection of its own (bytea as its
// bytes, the rest in JSON, as the bbolt file keeps its records).
func atRest(t testing.TB, e *env) []byte {
	t.Helper()
	path := e.st.Path()
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	if !onPostgres() {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT quote_ident(table_name) FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) == 0 {
		t.Fatalf("tables: %v, %v", tables, err)
	}
	var out bytes.Buffer
	for _, table := range tables {
		rows, err := conn.Query(ctx, "SELECT * FROM "+table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			values, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range values {
				if b, ok := v.([]byte); ok {
					out.Write(b)
				} else if err := json.NewEncoder(&out).Encode(v); err != nil {
					t.Fatal(err)
				}
				out.WriteByte('\n')
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes()
}
