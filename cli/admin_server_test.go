package cli

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"portal/adminsock"
	"portal/store/bolt"
)

// TestOnlineBackup takes a backup with `portal backup` while the server
// runs on the database, through the server's admin socket.
func TestOnlineBackup(t *testing.T) {
	bin := buildPortal(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "portal.db")
	p := startBin(t, bin, "-demo", "-db", db, "-addr", "127.0.0.1:0")
	p.waitListening(30 * time.Second)

	fi, err := os.Stat(adminsock.Path(db))
	if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin socket: %v, mode %v; want a socket with mode 0600", err, fi.Mode())
	}
	dest := filepath.Join(dir, "backup.db")
	var out, errOut bytes.Buffer
	env := func(string) string { return "" }
	if code := Run("dev", []string{"backup", "-db", db, dest}, env, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("backup while running: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "from the running server") {
		t.Fatalf("backup output: %q", out.String())
	}

	p.signal(syscall.SIGTERM)
	if code := p.wait(15 * time.Second); code != 0 {
		t.Fatalf("server exit %d", code)
	}
	if _, err := os.Stat(adminsock.Path(db)); !os.IsNotExist(err) {
		t.Fatalf("admin socket left behind after shutdown: %v", err)
	}
	st, err := bolt.Open(dest, bolt.Options{})
	if err != nil {
		t.Fatalf("the backup does not open: %v", err)
	}
	defer st.Close()
	if err := st.Check(); err != nil {
		t.Fatal(err)
	}
	// Every demo user the server's own file holds is in the copy.
	orig, err := bolt.Open(db, bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := orig.Users()
	orig.Close()
	if users, _ := st.Users(); len(users) != len(want) || len(want) == 0 {
		t.Fatalf("backup has %d users, want the %d demo users", len(users), len(want))
	}
}

// TestCommandsWhileServing runs the operator commands against a database
// a server holds: the CLI finds the file locked, the server carries the
// command out over its admin socket, and the effect is there on the very
// next request, with no restart.
func TestCommandsWhileServing(t *testing.T) {
	bin := buildPortal(t)
	db := filepath.Join(t.TempDir(), "portal.db")
	p := startBin(t, bin, "-demo", "-db", db, "-addr", "127.0.0.1:0")
	base := p.waitListening(30 * time.Second)
	hc := binHTTPClient(binTransport())
	env := func(string) string { return "" }
	cli := func(stdin string, args ...string) (int, string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		code := Run("dev", append(args, "-db", db), env, strings.NewReader(stdin), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	signedIn := func(email string) *binBrowser {
		t.Helper()
		b := &binBrowser{base: base, hc: hc}
		if r, ok, err := b.signIn(email); err != nil || !ok {
			t.Fatalf("sign in %s: %v, status %d", email, err, r.status)
		}
		return b
	}
	stillIn := func(b *binBrowser) bool {
		t.Helper()
		r, err := b.do("GET", "/settings?section=active-sessions", nil)
		if err != nil {
			t.Fatal(err)
		}
		return r.status == 200
	}

	staff := signedIn("staff@client.example")
	if code, out, errOut := cli("", "sessions", "list", "-email", "staff@client.example"); code != 0 || !strings.Contains(out, "SIGNED IN") {
		t.Fatalf("sessions list while serving: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := cli("", "sessions", "revoke-all", "-email", "staff@client.example"); code != 0 || !strings.Contains(out, "Signed staff@client.example out everywhere: ended") {
		t.Fatalf("revoke-all while serving: exit %d\n%s%s", code, out, errOut)
	}
	if stillIn(staff) {
		t.Fatal("the session signed out by 'sessions revoke-all' still opens pages")
	}

	// A password read from stdin before the file was found locked is sent
	// along: the new one works at once, the old one and old sessions not.
	manager := signedIn("manager@client.example")
	if code, out, errOut := cli("a brand new passphrase\n", "user", "passwd", "-email", "manager@client.example"); code != 0 {
		t.Fatalf("passwd while serving: exit %d\n%s%s", code, out, errOut)
	}
	if stillIn(manager) {
		t.Fatal("the manager's session survived the password change")
	}
	b := &binBrowser{base: base, hc: hc}
	if _, ok, _ := b.signIn("manager@client.example"); ok {
		t.Fatal("the old password still signs in")
	}
	if _, err := b.do("GET", "/login", nil); err != nil {
		t.Fatal(err)
	}
	r, err := b.do("POST", "/login", url.Values{"email": {"manager@client.example"}, "password": {"a brand new passphrase"}, "_csrf": {b.csrf}})
	if err != nil || r.status != 303 || r.location != "/settings" {
		t.Fatalf("sign in with the new password: %v, status %d, location %q", err, r.status, r.location)
	}

	admin := signedIn("admin@client.example")
	if code, out, errOut := cli("", "user", "disable", "-email", "admin@client.example"); code != 0 {
		t.Fatalf("disable while serving: exit %d\n%s%s", code, out, errOut)
	}
	if stillIn(admin) {
		t.Fatal("a disabled user's session still opens pages")
	}
	if _, ok, _ := (&binBrowser{base: base, hc: hc}).signIn("admin@client.example"); ok {
		t.Fatal("a disabled user signed in")
	}
	if code, out, _ := cli("", "user", "list"); code != 0 || !regexp.MustCompile(`admin@client\.example .*Client Admin .* yes `).MatchString(out) {
		t.Fatalf("user list while serving: exit %d\n%s", code, out)
	}

	// Two-step sign-in: the server runs the operator's reset and switch.
	if code, out, errOut := cli("", "user", "reset-two-step", "-email", "twostep@client.example"); code != 0 ||
		!regexp.MustCompile(`^Turned off two-step sign-in for twostep@client\.example, removed 0 passkeys and signed them out of [3-5] sessions\.\n$`).MatchString(out) {
		t.Fatalf("reset-two-step while serving: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := cli("", "user", "reset-two-step", "-email", "twostep@client.example"); code != 1 || !strings.Contains(errOut, "does not use two-step sign-in or passkeys; nothing changed") {
		t.Fatalf("a second reset-two-step while serving: exit %d, %q", code, errOut)
	}
	_, list, _ := cli("", "account", "list")
	northwind := regexp.MustCompile(`(?m)^([0-9a-f]{32}) +client +Northwind Traders `).FindStringSubmatch(list)
	if northwind == nil {
		t.Fatalf("account list while serving shows no Northwind:\n%s", list)
	}
	if code, out, errOut := cli("", "account", "set", "-account", northwind[1], "-require-two-step", "true"); code != 0 || !strings.Contains(out, "Northwind Traders now requires two-step sign-in") {
		t.Fatalf("account set while serving: exit %d\n%s%s", code, out, errOut)
	}

	// Failures come back as they would offline: the sentence and the code.
	if code, _, errOut := cli("", "user", "disable", "-email", "nobody@client.example"); code != 1 || !strings.Contains(errOut, "there is no user with email nobody@client.example") {
		t.Fatalf("unknown user while serving: exit %d, %q", code, errOut)
	}
	if code, _, errOut := cli("", "user", "disable"); code != 2 || !strings.Contains(errOut, "-email is required") {
		t.Fatalf("missing flag while serving: exit %d, %q", code, errOut)
	}

	// The socket runs only the commands that need it.
	for _, args := range [][]string{{"backup", "/tmp/x.db"}, {"version"}, {"nonsense"}, {}} {
		body, _ := json.Marshal(adminsock.Command{Args: args})
		res, err := adminsock.Client(db).Post("http://portal/command", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 400 {
			t.Fatalf("the admin socket ran %q: status %d", args, res.StatusCode)
		}
	}

	p.signal(syscall.SIGTERM)
	if code := p.wait(15 * time.Second); code != 0 {
		t.Fatalf("server exit %d", code)
	}
	// And with the server gone, the same command opens the file itself.
	if code, out, errOut := cli("", "user", "enable", "-email", "admin@client.example"); code != 0 {
		t.Fatalf("enable after the server stopped: exit %d\n%s%s", code, out, errOut)
	}
}
