package pgtest

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func mustConnect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := connect(context.Background(), url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestFindBinNewest(t *testing.T) {
	bin := FindBin()
	if bin == "" {
		t.Skip("no PostgreSQL binaries: " + howToEnable)
	}
	dirs, _ := filepath.Glob(binGlob)
	best, _ := strconv.Atoi(filepath.Base(filepath.Dir(bin)))
	for _, d := range dirs {
		if v, err := strconv.Atoi(filepath.Base(filepath.Dir(d))); err == nil && v > best {
			t.Errorf("FindBin = %s, but %s is newer", bin, d)
		}
	}
}

// The server listens on its private socket only and does not run as root.
func TestClusterIsPrivate(t *testing.T) {
	c := Start(t)
	conn := mustConnect(t, c.URL("postgres"))
	var listen string
	if err := conn.QueryRow(context.Background(), "SHOW listen_addresses").Scan(&listen); err != nil {
		t.Fatal(err)
	}
	if listen != "" {
		t.Errorf("listen_addresses = %q, want none", listen)
	}
	pidFile, err := os.ReadFile(filepath.Join(c.dataDir(), "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _, _ := strings.Cut(string(pidFile), "\n")
	status, err := os.ReadFile(filepath.Join("/proc", pid, "status"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" && f[1] == "0" {
			t.Errorf("the server runs as root")
		}
	}
}

// Each test's database is its own, and is gone when the test ends.
func TestNewDBIsolatedAndDropped(t *testing.T) {
	c := Start(t)
	var first string
	t.Run("a", func(t *testing.T) {
		first = NewDB(t)
		conn := mustConnect(t, first)
		if _, err := conn.Exec(context.Background(), "CREATE TABLE mine (x int)"); err != nil {
			t.Fatal(err)
		}
		other := mustConnect(t, NewDB(t))
		var n int
		if err := other.QueryRow(context.Background(), "SELECT count(*) FROM pg_tables WHERE tablename = 'mine'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("a table of one test's database is in another's")
		}
	})
	if first == c.URL("postgres") || first == "" {
		t.Fatalf("NewDB returned %q", first)
	}
	if _, err := connect(context.Background(), first); err == nil {
		t.Errorf("the database of a finished test still accepts connections")
	}
}

// Stop and Start: connections fail while the server is down, and the data
// is still there afterwards.
func TestStopAndStart(t *testing.T) {
	c := Start(t)
	url := NewDB(t)
	ctx := context.Background()
	conn := mustConnect(t, url)
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)"); err != nil {
		t.Fatal(err)
	}
	c.Stop(t)
	if _, err := conn.Exec(ctx, "SELECT 1"); err == nil {
		t.Errorf("a connection still answers after Stop")
	}
	if _, err := connect(ctx, url); err == nil {
		t.Errorf("a new connection succeeds after Stop")
	}
	c.Start(t)
	var x int
	if err := mustConnect(t, url).QueryRow(ctx, "SELECT x FROM kept").Scan(&x); err != nil || x != 7 {
		t.Errorf("after Start: x = %d, %v; want 7", x, err)
	}
}

func TestTerminate(t *testing.T) {
	c := Start(t)
	url := NewDB(t)
	victim, bystander := mustConnect(t, url), mustConnect(t, url)
	c.Terminate(t, victim.PgConn().PID())
	ctx := context.Background()
	if _, err := victim.Exec(ctx, "SELECT 1"); err == nil {
		t.Errorf("the terminated connection still answers")
	}
	if _, err := bystander.Exec(ctx, "SELECT 1"); err != nil {
		t.Errorf("another connection was cut too: %v", err)
	}
}

// TestServerOutlivesTheThreadThatStartedIt: the thread that asks for a
// cluster ends (a goroutine that exits locked to its thread ends it, as a
// password hash at low priority may), and the server, started with a
// parent-death signal, keeps running: the kernel sends that signal when
// the thread that started the child ends, not the process.
func TestServerOutlivesTheThreadThatStartedIt(t *testing.T) {
	type started struct {
		c   *Cluster
		err error
	}
	var got started
	for {
		done := make(chan *started, 1)
		go func() {
			runtime.LockOSThread()
			if syscall.Gettid() == os.Getpid() {
				// The main thread never ends; try again on another.
				runtime.UnlockOSThread()
				done <- nil
				return
			}
			// Never unlocked: the thread ends with this goroutine.
			c, err := New(context.Background(), Options{})
			done <- &started{c, err}
		}()
		if s := <-done; s != nil {
			got = *s
			break
		}
	}
	if got.err != nil {
		t.Fatal(got.err)
	}
	defer got.c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// A signal would stop the server within milliseconds of the thread's
	// end; it is still running seconds later.
	got.c.mu.Lock()
	exited := got.c.srv.exited
	got.c.mu.Unlock()
	select {
	case <-exited:
		t.Fatal("the server stopped when the thread that started it ended")
	case <-time.After(2 * time.Second):
	}
	conn := mustConnect(t, got.c.URL("postgres"))
	defer conn.Close(ctx)
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("the server after its starter's thread ended: %v", err)
	}
}
