package cli

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// squatter is another program listening on the admin socket's path: a fake
// server that answers "success" to everything and records every byte it is
// sent.
type squatter struct {
	ln     net.Listener
	mu     sync.Mutex
	conns  int
	got    bytes.Buffer
	backup []byte
}

// startSquatter listens on path and serves backup as the database copy.
func startSquatter(t *testing.T, path string, backup []byte) *squatter {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	q := &squatter{ln: ln, backup: backup}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /command", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"code":0,"stdout":"Changed the password.\n"}`)
	})
	mux.HandleFunc("GET /backup", func(w http.ResponseWriter, r *http.Request) {
		q.mu.Lock()
		body := q.backup
		q.mu.Unlock()
		w.Write(body)
	})
	go http.Serve(q, mux)
	t.Cleanup(func() { ln.Close() })
	return q
}

// Accept records each connection and what is read from it.
func (q *squatter) Accept() (net.Conn, error) {
	c, err := q.ln.Accept()
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	q.conns++
	q.mu.Unlock()
	return recordingConn{c, q}, nil
}

func (q *squatter) Close() error   { return q.ln.Close() }
func (q *squatter) Addr() net.Addr { return q.ln.Addr() }

// received is how many connections were made and what was sent on them.
func (q *squatter) received() (int, string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.conns, q.got.String()
}

type recordingConn struct {
	net.Conn
	q *squatter
}

func (c recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.q.mu.Lock()
	c.q.got.Write(p[:n])
	c.q.mu.Unlock()
	return n, err
}

// wantNothingSent fails if anything reached the squatter: a connection
// refused after SO_PEERCRED is allowed, a single byte is not.
func wantNothingSent(t *testing.T, q *squatter, allowConn bool) {
	t.Helper()
	// The server side of a refused connection sees EOF a moment later.
	time.Sleep(50 * time.Millisecond)
	conns, got := q.received()
	if got != "" || conns > 0 && !allowConn {
		t.Fatalf("the squatter got %d connections and %q", conns, got)
	}
}

// wantNoFile fails if path exists.
func wantNoFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s: %v; want no file", path, err)
	}
}

// TestAdminSquatterSharedDir is the attack: in a directory other users can
// write (mode 1777, like /tmp), another program binds portal.db.admin.sock
// first. The CLI must send it neither the new password nor ask it for a
// backup; the server must not use or remove it and must say why at Error
// level. In a 0755 directory the socket works as before.
func TestAdminSquatterSharedDir(t *testing.T) {
	bin := buildPortal(t)
	dir := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "portal.db")
	sock := adminSocketPath(db)
	q := startSquatter(t, sock, bytes.Repeat([]byte("junk"), 20))
	refusal := "portal: refusing to use the admin socket " + sock + " (nothing was sent to it): its directory " + dir + " is writable by other users (mode 1777), so anyone could have put it there; run 'chmod go-w " + dir + "'"

	// The database is locked, as by a server, so the CLI looks for one.
	st := cliOpenStore(t, db)
	r := portalCLI(t, nil, "a brand new passphrase\n", "user", "passwd", "-db", db, "-email", "ann@example.com")
	if r.code != 1 || !strings.HasPrefix(r.errOut, refusal) || r.out != "" {
		t.Fatalf("passwd with a squatter: exit %d\nstdout %q\nstderr %q\nwant exit 1 and %q", r.code, r.out, r.errOut, refusal)
	}
	wantNothingSent(t, q, false)
	st.Close()

	p := startBin(t, bin, "-db", db, "-addr", "127.0.0.1:0")
	p.waitListening(30 * time.Second)
	p.waitLog(regexp.MustCompile(`level=ERROR msg="no admin socket: .*" err=".*the directory `+regexp.QuoteMeta(dir)+` is writable by other users \(mode 1777\).*chmod go-w `+regexp.QuoteMeta(dir)), 5*time.Second)
	if fi, err := os.Lstat(sock); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("the server removed or replaced the squatter's socket: %v", err)
	}
	dest := filepath.Join(t.TempDir(), "backup.db")
	r = portalCLI(t, nil, "", "backup", "-db", db, dest)
	if r.code != 1 || !strings.HasPrefix(r.errOut, refusal) {
		t.Fatalf("backup with a squatter: exit %d\nstderr %q\nwant exit 1 and %q", r.code, r.errOut, refusal)
	}
	wantNothingSent(t, q, false)
	wantNoFile(t, dest)
	wantNoFile(t, dest+".tmp")

	p.signal(os.Interrupt)
	if code := p.wait(15 * time.Second); code != 0 {
		t.Fatalf("server exit %d", code)
	}
	if _, err := os.Lstat(sock); err != nil {
		t.Fatalf("the server removed the squatter's socket at shutdown: %v", err)
	}

	// Once the directory is the owner's alone, the same database works
	// online again (and the squatter is gone: closing unlinks its socket).
	q.Close()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p = startBin(t, bin, "-db", db, "-addr", "127.0.0.1:0")
	p.waitListening(30 * time.Second)
	if fi, err := os.Lstat(sock); err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin socket in a 0755 directory: %v", err)
	}
	if r := portalCLI(t, nil, "", "backup", "-db", db, dest); r.code != 0 || !strings.Contains(r.out, "from the running server") {
		t.Fatalf("online backup in a 0755 directory: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	if strings.Contains(p.out.String(), "level=ERROR") {
		t.Fatalf("errors in a 0755 directory:\n%s", p.out)
	}
}

// TestAdminServerLeavesForeignPaths: a file that is not a socket, or a
// socket of another user, at the socket's path is left alone; the server
// runs without a socket and says why, and the CLI refuses it with a sentence.
func TestAdminServerLeavesForeignPaths(t *testing.T) {
	bin := buildPortal(t)
	serve := func(t *testing.T, db string, wantLog string) {
		t.Helper()
		p := startBin(t, bin, "-db", db, "-addr", "127.0.0.1:0")
		p.waitListening(30 * time.Second)
		p.waitLog(regexp.MustCompile(`level=ERROR msg="no admin socket: .*`+regexp.QuoteMeta(wantLog)), 5*time.Second)
		t.Cleanup(func() { p.signal(os.Interrupt); p.wait(15 * time.Second) })
	}
	t.Run("not a socket", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "portal.db")
		sock := adminSocketPath(db)
		if err := os.WriteFile(sock, []byte("keep me"), 0o600); err != nil {
			t.Fatal(err)
		}
		serve(t, db, sock+" already exists and is not a socket")
		r := portalCLI(t, nil, "", "user", "list", "-db", db)
		if r.code != 1 || !strings.HasPrefix(r.errOut, "portal: refusing to use the admin socket "+sock+" (nothing was sent to it): it is not a socket") {
			t.Fatalf("user list: exit %d, %q", r.code, r.errOut)
		}
		if b, err := os.ReadFile(sock); err != nil || string(b) != "keep me" {
			t.Fatalf("the file at the socket's path was changed: %q, %v", b, err)
		}
	})
	t.Run("another user's socket", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("only root can give a socket to another user")
		}
		db := filepath.Join(t.TempDir(), "portal.db")
		sock := adminSocketPath(db)
		q := startSquatter(t, sock, nil)
		if err := os.Lchown(sock, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		serve(t, db, sock+" already exists and belongs to uid 65534")
		r := portalCLI(t, nil, "a brand new passphrase\n", "user", "passwd", "-db", db, "-email", "a@example.com")
		if r.code != 1 || !strings.HasPrefix(r.errOut, "portal: refusing to use the admin socket "+sock+" (nothing was sent to it): it belongs to uid 65534") {
			t.Fatalf("passwd: exit %d, %q", r.code, r.errOut)
		}
		wantNothingSent(t, q, false)
		if fi, err := os.Lstat(sock); err != nil || fileOwner(fi) != 65534 {
			t.Fatalf("the other user's socket was removed or replaced: %v", err)
		}
	})
}

// TestAdminOtherUserListener is the attack with a real other user: a
// portal server running as uid 65534 has its socket moved to where the
// CLI looks, owned by root, in a directory only root can write, so every
// file check passes. SO_PEERCRED still tells the CLI who is listening, and
// the other user's server runs nothing.
func TestAdminOtherUserListener(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root can run a process as another user")
	}
	const nobody = 65534
	// The other user must reach the binary and its own directory.
	shared, err := os.MkdirTemp("", "portal-peer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(shared) })
	bin := filepath.Join(shared, "portal")
	src, err := os.ReadFile(buildPortal(t))
	if err != nil {
		t.Fatal(err)
	}
	theirs := filepath.Join(shared, "theirs")
	if err := errors.Join(os.Chmod(shared, 0o755), os.WriteFile(bin, src, 0o755), os.Mkdir(theirs, 0o700), os.Chown(theirs, nobody, nobody)); err != nil {
		t.Fatal(err)
	}
	theirDB := filepath.Join(theirs, "portal.db")
	cmd := exec.Command(bin, "-db", theirDB, "-addr", "127.0.0.1:0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	p := startBinCmd(t, cmd)
	p.waitListening(30 * time.Second)

	db := filepath.Join(t.TempDir(), "portal.db")
	mustCLI(t, db, "", "account", "create", "-name", "Acme", "-kind", "client")
	st := cliOpenStore(t, db)
	defer st.Close()
	sock := adminSocketPath(db)
	if err := errors.Join(os.Rename(adminSocketPath(theirDB), sock), os.Lchown(sock, 0, 0)); err != nil {
		t.Fatal(err)
	}

	want := "portal: refusing to use the admin socket " + sock + " (nothing was sent to it): the process listening on it runs as uid 65534"
	r := portalCLI(t, nil, "a brand new passphrase\n", "user", "passwd", "-db", db, "-email", "a@example.com")
	if r.code != 1 || !strings.HasPrefix(r.errOut, want) {
		t.Fatalf("passwd: exit %d, %q; want exit 1 and %q", r.code, r.errOut, want)
	}
	dest := filepath.Join(t.TempDir(), "backup.db")
	if r := portalCLI(t, nil, "", "backup", "-db", db, dest); r.code != 1 || !strings.HasPrefix(r.errOut, want) {
		t.Fatalf("backup: exit %d, %q; want exit 1 and %q", r.code, r.errOut, want)
	}
	wantNoFile(t, dest)
	time.Sleep(100 * time.Millisecond)
	if out := p.out.String(); strings.Contains(out, "operator command run") || strings.Contains(out, "online backup taken") {
		t.Fatalf("the other user's server was used:\n%s", out)
	}
}
