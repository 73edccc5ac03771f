package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"portal/store"
)

// TestOnlineBackup takes a backup with `portal backup` while the server
// runs on the database, through the server's admin socket.
func TestOnlineBackup(t *testing.T) {
	bin := buildPortal(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "portal.db")
	p := startBin(t, bin, "-demo", "-db", db, "-addr", "127.0.0.1:0")
	p.waitListening(30 * time.Second)

	fi, err := os.Stat(adminSocketPath(db))
	if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin socket: %v, mode %v; want a socket with mode 0600", err, fi.Mode())
	}
	dest := filepath.Join(dir, "backup.db")
	var out, errOut bytes.Buffer
	env := func(string) string { return "" }
	if code := run([]string{"backup", "-db", db, dest}, env, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("backup while running: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "from the running server") {
		t.Fatalf("backup output: %q", out.String())
	}

	p.signal(syscall.SIGTERM)
	if code := p.wait(15 * time.Second); code != 0 {
		t.Fatalf("server exit %d", code)
	}
	if _, err := os.Stat(adminSocketPath(db)); !os.IsNotExist(err) {
		t.Fatalf("admin socket left behind after shutdown: %v", err)
	}
	st, err := store.Open(dest, store.Options{})
	if err != nil {
		t.Fatalf("the backup does not open: %v", err)
	}
	defer st.Close()
	if err := st.Check(); err != nil {
		t.Fatal(err)
	}
	if users, _ := st.Users(); len(users) != 4 {
		t.Fatalf("backup has %d users, want the 4 demo users", len(users))
	}
}
