// Package pgtest starts throwaway PostgreSQL clusters for tests, from the
// server binaries Debian's postgresql package installs
// (/usr/lib/postgresql/<version>/bin, the newest version found).
//
// A test binary shares one cluster (Start) and each test gets a database
// of its own (NewDB), dropped when the test ends. The cluster listens on a
// Unix socket in its own temporary directory only, never on TCP, with
// fsync off: nothing in it needs to survive a crash.
//
// Call Main from TestMain, so the cluster is stopped and its files removed
// when the tests end:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// Should the test binary die without running Main's cleanup (a panic, a
// kill), the server still shuts down: it is started with a parent-death
// signal. Its directory may then be left behind; the next Start removes
// such directories once no server uses them.
//
// Without the binaries, Start and NewDB skip the test with a sentence
// saying how to install them; with PORTAL_PG=required they fail it
// instead, so CI never skips silently.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is one running (or stopped) PostgreSQL server and its data.
// Its methods are safe for concurrent use, but Stop affects every test
// using the cluster: tests that stop it must not run in parallel with
// others of the same binary.
type Cluster struct {
	bin      string // directory of initdb and postgres
	dir      string // owns everything: data/, the socket, server.log
	cred     *syscall.Credential
	settings []string // postgres -c settings besides the socket's

	mu    sync.Mutex
	srv   *server  // nil while stopped
	spare *spareDB // the next test's database, being created
	dbSeq int
}

// server is one run of the postgres process.
type server struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd has been waited for
	err    error         // cmd.Wait's; read only after exited is closed
}

// port only names the socket file (.s.PGSQL.5432): there is no TCP.
const port = "5432"

// superuser is the role initdb creates; trust authentication over a socket
// that only the server's owner (and root) can reach.
const superuser = "postgres"

// dirPrefix names the clusters' directories, so that stale ones can be
// found and removed.
const dirPrefix = "portal-pgtest-"

// testSettings are the tests' clusters' settings: nothing in them needs
// to survive a crash, so no commit waits for the disk.
var testSettings = []string{
	"fsync=off",
	"synchronous_commit=off",
	"full_page_writes=off",
	"max_connections=300",
	"shared_buffers=32MB",
}

// newCluster creates a data directory with initdb in a new directory
// under parent ("" for the temporary directory) and starts the server
// with settings.
func newCluster(ctx context.Context, bin, parent string, settings []string) (*Cluster, error) {
	removeStale()
	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(parent, dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("pgtest: make the cluster directory: %w", err)
	}
	c := &Cluster{bin: bin, dir: dir, cred: cred, settings: settings}
	if cred != nil {
		// The server refuses to run as root, so it runs as postgres, which
		// must own the directory it writes its data and socket in.
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: give %s to the postgres user: %w", dir, err)
		}
	}
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"-D", c.dataDir(), "-U", superuser, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	var out []byte
	err = onOwnThread(func() error { out, err = initdb.CombinedOutput(); return err })
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: initdb in %s: %w\n%s", dir, err, out)
	}
	if err := c.start(ctx); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

func (c *Cluster) dataDir() string { return filepath.Join(c.dir, "data") }
func (c *Cluster) logPath() string { return filepath.Join(c.dir, "server.log") }

// serverCredential is who a PostgreSQL server should run as: the postgres
// user when this process runs as root (the server refuses root), the
// current user (nil: no change) otherwise.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root, the server needs an unprivileged user to run as, and the postgres user is missing (%v); install the postgresql package, which creates it", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("pgtest: the postgres user's ids: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// start runs the server as a direct child (not through pg_ctl, which
// detaches it) so that the parent-death signal reaches it, and waits until
// it accepts connections.
func (c *Cluster) start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.srv != nil {
		return nil
	}
	logf, err := os.OpenFile(c.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("pgtest: open the server log: %w", err)
	}
	defer logf.Close() // the child has its own copy
	args := []string{"-D", c.dataDir(), "-p", port}
	for _, set := range append([]string{"listen_addresses=", "unix_socket_directories=" + c.dir}, c.settings...) {
		args = append(args, "-c", set)
	}
	cmd := exec.Command(filepath.Join(c.bin, "postgres"), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: c.cred,
		// Its own process group, so a Ctrl-C meant for the tests does not
		// hit it before Main shuts it down in order; SIGINT on the parent's
		// death is PostgreSQL's fast shutdown: clients are cut, data is
		// written, the server exits.
		Setpgid:   true,
		Pdeathsig: syscall.SIGINT,
	}
	srv := &server{cmd: cmd, exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// The parent-death signal is sent when the thread that started the
		// child ends, not the process (prctl(2)); the runtime ends threads
		// (one whose goroutine exits locked to it, as password hashes at
		// low priority do), so this one is kept for the server's life.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		srv.err = cmd.Wait()
		close(srv.exited)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	if err := c.waitReady(ctx, srv); err != nil {
		cmd.Process.Kill()
		<-srv.exited
		return err
	}
	c.srv = srv
	return nil
}

// waitReady polls the socket until the server answers, it exits, or 30
// seconds pass. Called with c.mu held.
func (c *Cluster) waitReady(ctx context.Context, srv *server) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		conn, err := connect(ctx, c.URL("postgres"))
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-srv.exited:
			return fmt.Errorf("pgtest: postgres exited while starting (%v); its log:\n%s", srv.err, c.logTail())
		case <-ctx.Done():
			return fmt.Errorf("pgtest: postgres did not accept connections within 30s (%v); its log:\n%s", err, c.logTail())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func connect(ctx context.Context, url string) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return pgx.Connect(ctx, url)
}

// logTail is the end of the server's log, for failures.
func (c *Cluster) logTail() string {
	b, _ := os.ReadFile(c.logPath())
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// URL is the connection URL of database name in the cluster.
func (c *Cluster) URL(name string) string {
	return fmt.Sprintf("postgres://%s@/%s?host=%s&port=%s&sslmode=disable", superuser, name, c.dir, port)
}

// SocketDir is the directory holding the server's socket.
func (c *Cluster) SocketDir() string { return c.dir }

// shutdown stops the server with a fast shutdown (SIGINT: connections are
// cut, the data is written) and waits for it to exit.
func (c *Cluster) shutdown() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	srv := c.srv
	if srv == nil {
		return nil
	}
	c.srv = nil
	if err := srv.cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("pgtest: stop postgres: %w", err)
	}
	select {
	case <-srv.exited:
		return nil
	case <-time.After(30 * time.Second):
		srv.cmd.Process.Kill()
		<-srv.exited
		return fmt.Errorf("pgtest: postgres did not stop within 30s and was killed; its log:\n%s", c.logTail())
	}
}

// removeStale deletes cluster directories left by test binaries that died
// without cleaning up: those whose server is no longer running and that
// are old enough not to be a cluster another binary is creating right now.
func removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, d := range dirs {
		fi, err := os.Stat(d)
		if err != nil || time.Since(fi.ModTime()) < time.Hour {
			continue
		}
		if pidFile, err := os.ReadFile(filepath.Join(d, "data", "postmaster.pid")); err == nil {
			line, _, _ := strings.Cut(string(pidFile), "\n")
			if pid, err := strconv.Atoi(strings.TrimSpace(line)); err == nil && syscall.Kill(pid, 0) == nil {
				continue // still running
			}
		}
		os.RemoveAll(d)
	}
}

// onOwnThread runs fn, which runs a child with a parent-death signal to
// its end, on a thread that cannot end meanwhile (see start).
func onOwnThread(fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		done <- fn()
	}()
	return <-done
}
