package pgtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// binGlob is where Debian's postgresql packages put the server binaries.
const binGlob = "/usr/lib/postgresql/*/bin"

// howToEnable is the sentence a skipped test ends with.
const howToEnable = "install the PostgreSQL server (apt-get install postgresql) to run the PostgreSQL tests; PORTAL_PG=required makes this a failure instead of a skip"

// shared is the test binary's one cluster. A package variable because a
// test binary is one process whose tests all share the server; it is
// created by the first Start and stopped by Main.
var shared struct {
	once sync.Once
	c    *Cluster
	err  error
	skip string
}

// FindBin returns the bin directory of the newest PostgreSQL installed
// under /usr/lib/postgresql, or "" if there is none.
func FindBin() string {
	dirs, _ := filepath.Glob(binGlob)
	type found struct {
		dir     string
		version int
	}
	var ok []found
	for _, d := range dirs {
		v, err := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "postgres")); err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "initdb")); err != nil {
			continue
		}
		ok = append(ok, found{d, v})
	}
	if len(ok) == 0 {
		return ""
	}
	return slices.MaxFunc(ok, func(a, b found) int { return a.version - b.version }).dir
}

// Required reports whether PORTAL_PG=required: missing binaries then fail
// the tests instead of skipping them.
func Required() bool { return os.Getenv("PORTAL_PG") == "required" }

// Start returns the test binary's cluster, starting it on first use. It
// skips tb when the server binaries are missing (fails it under
// PORTAL_PG=required) and fails tb when they are there but the cluster
// cannot start.
func Start(tb testing.TB) *Cluster {
	tb.Helper()
	shared.once.Do(func() {
		bin := FindBin()
		if bin == "" {
			shared.skip = "no PostgreSQL server binaries in " + binGlob + ": " + howToEnable
			return
		}
		shared.c, shared.err = newCluster(context.Background(), bin, "", testSettings)
	})
	switch {
	case shared.skip != "" && Required():
		tb.Fatal(shared.skip)
	case shared.skip != "":
		tb.Skip(shared.skip)
	case shared.err != nil:
		tb.Fatal(shared.err)
	}
	return shared.c
}

// Main runs the tests of a package that uses the cluster, then stops the
// cluster and removes its files. Use it as os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if c := shared.c; c != nil {
		if err := c.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = max(code, 1)
		}
	}
	return code
}

// NewDB creates an empty database for tb in the shared cluster and
// returns its URL; it is dropped, with any connections left to it, when
// tb ends.
func NewDB(tb testing.TB) string {
	tb.Helper()
	c := Start(tb)
	name, err := c.takeDB()
	if err != nil {
		tb.Fatalf("pgtest: create a database: %v", err)
	}
	tb.Cleanup(func() {
		if err := c.admin(fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", pgx.Identifier{name}.Sanitize())); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return c.URL(name)
}

// spareDB is a database being created ahead of the test that will take it.
type spareDB struct {
	name string
	done chan struct{}
	err  error // read after done is closed
}

// takeDB returns a new database's name. CREATE DATABASE copies a template
// and takes a third of a second here, so one is always being created in
// the background for the next test, while this one runs.
// A spare that failed (the cluster was stopped meanwhile) is replaced.
func (c *Cluster) takeDB() (string, error) {
	c.mu.Lock()
	d := c.spare
	if d == nil {
		d = c.createDB()
	}
	c.spare = c.createDB()
	c.mu.Unlock()
	<-d.done
	if d.err != nil {
		c.mu.Lock()
		d = c.createDB()
		c.mu.Unlock()
		<-d.done
	}
	return d.name, d.err
}

// createDB starts creating a database. Called with c.mu held.
func (c *Cluster) createDB() *spareDB {
	c.dbSeq++
	d := &spareDB{name: fmt.Sprintf("test_%d", c.dbSeq), done: make(chan struct{})}
	go func() {
		d.err = c.admin(fmt.Sprintf("CREATE DATABASE %s", pgx.Identifier{d.name}.Sanitize()))
		close(d.done)
	}()
	return d
}

// admin runs one statement as the superuser in the postgres database.
func (c *Cluster) admin(sql string, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql, args...)
	return err
}

// Stop shuts the server down (a fast shutdown: connections are cut) and
// waits for it to exit, so a test can see PostgreSQL go away. If the test
// ends without calling Start, the server is started again then, for the
// tests after it.
func (c *Cluster) Stop(tb testing.TB) {
	tb.Helper()
	if err := c.shutdown(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := c.start(context.Background()); err != nil {
			tb.Errorf("pgtest: start the cluster again after the test: %v", err)
		}
	})
}

// Start starts a stopped server again on the same data and socket, and
// waits until it accepts connections. Starting a running one does nothing.
func (c *Cluster) Start(tb testing.TB) {
	tb.Helper()
	if err := c.start(context.Background()); err != nil {
		tb.Fatal(err)
	}
}

// Terminate ends the server process serving one connection (its backend
// pid, as pgconn.PgConn.PID reports it) as pg_terminate_backend does, and
// waits until it is gone.
func (c *Cluster) Terminate(tb testing.TB, pid uint32) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := connect(ctx, c.URL("postgres"))
	if err != nil {
		tb.Fatalf("pgtest: terminate backend %d: %v", pid, err)
	}
	defer conn.Close(ctx)
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_terminate_backend($1)", int32(pid)).Scan(&ok); err != nil {
		tb.Fatalf("pgtest: terminate backend %d: %v", pid, err)
	}
	if !ok {
		tb.Fatalf("pgtest: terminate backend %d: no such backend", pid)
	}
	for {
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", int32(pid)).Scan(&n); err != nil {
			tb.Fatalf("pgtest: wait for backend %d to end: %v", pid, err)
		}
		if n == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
