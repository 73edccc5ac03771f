package cli

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"portal/adminsock"
	"portal/adminsock/adminsocktest"
)

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
	sock := adminsock.Path(db)
	q := adminsocktest.StartSquatter(t, sock, bytes.Repeat([]byte("junk"), 20))
	refusal := "portal: refusing to use the admin socket " + sock + " (nothing was sent to it): its directory " + dir + " is writable by other users (mode 1777), so anyone could have put it there; run 'chmod go-w " + dir + "'"

	// The database is locked, as by a server, so the CLI looks for one.
	st := cliOpenStore(t, db)
	r := portalCLI(t, nil, "a brand new passphrase\n", "user", "passwd", "-db", db, "-email", "ann@example.com")
	if r.code != 1 || !strings.HasPrefix(r.errOut, refusal) || r.out != "" {
		t.Fatalf("passwd with a squatter: exit %d\nstdout %q\nstderr %q\nwant exit 1 and %q", r.code, r.out, r.errOut, refusal)
	}
	q.WantNothingSent(t, false)
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
	q.WantNothingSent(t, false)
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
		sock := adminsock.Path(db)
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
		sock := adminsock.Path(db)
		q := adminsocktest.StartSquatter(t, sock, nil)
		if err := os.Lchown(sock, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		serve(t, db, sock+" already exists and belongs to uid 65534")
		r := portalCLI(t, nil, "a brand new passphrase\n", "user", "passwd", "-db", db, "-email", "a@example.com")
		if r.code != 1 || !strings.HasPrefix(r.errOut, "portal: refusing to use the admin socket "+sock+" (nothing was sent to it): it belongs to uid 65534") {
			t.Fatalf("passwd: exit %d, %q", r.code, r.errOut)
		}
		q.WantNothingSent(t, false)
		if fi, err := os.Lstat(sock); err != nil || fi.Sys().(*syscall.Stat_t).Uid != 65534 {
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
	sock := adminsock.Path(db)
	if err := errors.Join(os.Rename(adminsock.Path(theirDB), sock), os.Lchown(sock, 0, 0)); err != nil {
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
