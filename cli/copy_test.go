package cli

import (
	"errors"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"portal/demo"
	"portal/internal/pgtest"
)

// runPortal runs the binary once and returns its exit code and output,
// failing on a crash instead of a sentence.
func runPortal(t *testing.T, bin string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = binEnv()
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run %v: %v", args, err)
	}
	assertNoCrash(t, string(out))
	return cmd.ProcessState.ExitCode(), string(out)
}

var (
	activityEntryRe = regexp.MustCompile(`(?s)<p class="activity-sentence">(.*?)</p>\s*<p class="activity-meta"><time datetime="([^"]+)"`)
	demoClients     = []string{"Northwind Traders", "Fabrikam Dental", "Tailspin Clinics"}
)

// activityOf is the security activity page b sees: each entry's sentence
// and time.
func activityOf(t *testing.T, b *binBrowser) []string {
	t.Helper()
	r, err := b.do("GET", "/settings?section=security-activity", nil)
	if err != nil || r.status != http.StatusOK {
		t.Fatalf("security activity of %s: %v %d", b.email, err, r.status)
	}
	var out []string
	for _, m := range activityEntryRe.FindAllStringSubmatch(r.body, -1) {
		out = append(out, m[2]+" "+strings.TrimSpace(m[1]))
	}
	if len(out) == 0 {
		t.Fatalf("no entries on %s's security activity page:\n%s", b.email, r.body)
	}
	return out
}

// partnerClients are the demo clients the partner console shows b.
func partnerClients(t *testing.T, b *binBrowser) []string {
	t.Helper()
	r, err := b.do("GET", "/partner", nil)
	if err != nil || r.status != http.StatusOK {
		t.Fatalf("partner console: %v %d", err, r.status)
	}
	var out []string
	for _, name := range demoClients {
		if strings.Contains(r.body, name) {
			out = append(out, name)
		}
	}
	return out
}

// wantPage fails unless b's session opens Settings, sending its cookie
// even if an earlier refusal told the browser to drop it.
func wantPage(t *testing.T, b *binBrowser, what string) {
	t.Helper()
	b.ended = false
	if r, err := b.do("GET", "/settings", nil); err != nil || r.status != http.StatusOK {
		t.Fatalf("%s: GET /settings: %v %d %q, want the page", what, err, r.status, r.location)
	}
}

// wantRefused fails unless b's session is refused for reason, sending
// its cookie even if an earlier refusal told the browser to drop it.
func wantRefused(t *testing.T, b *binBrowser, reason, what string) {
	t.Helper()
	b.ended = false
	r, err := b.do("GET", "/settings", nil)
	if err != nil || r.status != http.StatusSeeOther || r.location != "/login?reason="+reason {
		t.Fatalf("%s: GET /settings: %v %d %q, want a redirect to /login?reason=%s", what, err, r.status, r.location, reason)
	}
}

// TestCopyToPostgres moves a demo deployment from its bbolt file to
// PostgreSQL with 'portal copy' and starts the portal on PostgreSQL:
// browsers signed in before stay signed in, a form rendered before is
// accepted (the CSRF key moved), a session revoked before is still
// refused for its reason, the security activity and the partner's scope
// are as they were. A second copy into the database is refused and
// changes nothing; -force replaces it.
func TestCopyToPostgres(t *testing.T) {
	bin := buildPortal(t)
	file := filepath.Join(t.TempDir(), "portal.db")
	dbURL := strings.Replace(pgtest.NewDB(t), "postgres://postgres@", "postgres://postgres:s3cr3t-pw@", 1)
	tr := binTransport()
	defer tr.CloseIdleConnections()

	old := startBin(t, bin, "-demo", "-db", file, "-addr", "127.0.0.1:0")
	base := old.waitListening(60 * time.Second)
	browser := func(email string) *binBrowser {
		b := &binBrowser{base: base, hc: binHTTPClient(tr)}
		if r, ok, err := b.signIn(email); err != nil || !ok {
			t.Fatalf("sign in %s: %v %+v", email, err, r)
		}
		return b
	}
	x, y, z := browser(binCustomers[0]), browser(binCustomers[0]), browser(binCustomers[0])
	for _, b := range []*binBrowser{y, z, x} {
		if _, r, err := b.loadSessions(); err != nil || r.status != http.StatusOK {
			t.Fatalf("Active Sessions: %v %d", err, r.status)
		}
	}
	if r, err := x.revoke(y.id); err != nil || r.status != http.StatusSeeOther {
		t.Fatalf("revoke y: %v %d", err, r.status)
	}
	wantRefused(t, y, "revoked", "before the copy")
	activity := activityOf(t, x)
	partner := browser("partner@partner.example")
	clients := partnerClients(t, partner)
	if !slices.Equal(clients, demoClients[:2]) {
		t.Fatalf("Contoso's console shows %v, want %v", clients, demoClients[:2])
	}
	login := &binBrowser{base: base, hc: binHTTPClient(tr)}
	if r, err := login.do("GET", "/login", nil); err != nil || login.csrf == "" {
		t.Fatalf("GET /login: %v %d", err, r.status)
	}

	// Every page x loads after the copy would give it a fresh token.
	formToken := x.csrf

	// While the server holds the file the copy says to stop it.
	code, out := runPortal(t, bin, "copy", "-from", file, "-to", dbURL)
	if code != 1 || !strings.Contains(out, "stop it first") {
		t.Fatalf("copy with the server running: exit %d\n%s", code, out)
	}
	old.signal(syscall.SIGTERM)
	if code := old.wait(30 * time.Second); code != 0 {
		t.Fatalf("server exit %d:\n%s", code, old.out)
	}

	code, out = runPortal(t, bin, "copy", "-from", file, "-to", dbURL)
	t.Logf("portal copy: %s", out)
	if code != 0 || !regexp.MustCompile(`^Copied 5 accounts, 13 users, \d+ sessions \(\d+ live\), \d+ events, two-step sign-in of 2 users and the CSRF key from .*portal\.db to postgres://postgres:xxxxx@`).MatchString(out) {
		t.Fatalf("copy: exit %d\n%s", code, out)
	}
	if strings.Contains(out, "s3cr3t-pw") {
		t.Fatalf("the copy printed the password:\n%s", out)
	}

	serve := func() *binProc {
		p := startBin(t, bin, "-db", dbURL, "-addr", "127.0.0.1:0")
		base := p.waitListening(60 * time.Second)
		for _, b := range []*binBrowser{x, y, z, partner, login} {
			b.base = base
		}
		return p
	}
	pg := serve()
	wantPage(t, x, "a browser signed in before the copy")
	if got := activityOf(t, x); !slices.Equal(got, activity) {
		t.Errorf("security activity after the copy:\n%q\nbefore:\n%q", got, activity)
	}
	if got := partnerClients(t, partner); !slices.Equal(got, clients) {
		t.Errorf("Contoso's console after the copy shows %v, before %v", got, clients)
	}
	wantRefused(t, y, "revoked", "a session revoked before the copy")
	// A form x's page rendered before the copy.
	r, err := x.do("POST", "/settings/active-sessions/"+z.id+"/sign-out", url.Values{"_csrf": {formToken}})
	if err != nil || r.status != http.StatusSeeOther {
		t.Fatalf("revoke with a form from before the copy: %v %d", err, r.status)
	}
	wantRefused(t, z, "revoked", "revoked after the copy")
	r, err = login.do("POST", "/login", url.Values{"email": {binCustomers[1]}, "password": {demo.Password}, "_csrf": {login.csrf}})
	if err != nil || r.status != http.StatusSeeOther || r.location != "/settings" {
		t.Fatalf("sign in with the form from before the copy: %v %d %q", err, r.status, r.location)
	}

	// Again, into the database the server now uses: refused, and z,
	// live in the file, stays signed out.
	code, out = runPortal(t, bin, "copy", "-from", file, "-to", dbURL)
	if code != 1 || !strings.Contains(out, "already holds 5 accounts, 13 users") || !strings.Contains(out, "pass -force") {
		t.Fatalf("copy into a database that is not empty: exit %d\n%s", code, out)
	}
	wantRefused(t, z, "revoked", "after a refused copy")
	wantPage(t, x, "after a refused copy")

	pg.signal(syscall.SIGTERM)
	if code := pg.wait(30 * time.Second); code != 0 {
		t.Fatalf("server exit %d:\n%s", code, pg.out)
	}
	code, out = runPortal(t, bin, "copy", "-force", "-from", file, "-to", dbURL)
	if code != 0 || !strings.HasPrefix(out, "Copied 5 accounts") {
		t.Fatalf("copy -force: exit %d\n%s", code, out)
	}
	serve()
	wantPage(t, z, "replaced by the file, where z is live")
	wantRefused(t, y, "revoked", "replaced by the file")
}

// TestCopyRefusals: a copy that cannot work says why in a sentence, with
// exit code 2 for a wrong command line and 1 otherwise, never a panic, and
// never prints a password.
func TestCopyRefusals(t *testing.T) {
	bin := buildPortal(t)
	file := filepath.Join(t.TempDir(), "portal.db")
	seedFile(t, file)
	good := pgtest.NewDB(t)
	u, err := url.Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/no_such_db"
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no -from", []string{"-to", good}, 2, "-from must name the bbolt database file"},
		{"no -to", []string{"-from", file}, 2, "-to must name the PostgreSQL database"},
		{"-to a file", []string{"-from", file, "-to", file + "2"}, 2, "-to must be a postgres:// or postgresql:// URL"},
		{"-from a URL", []string{"-from", good, "-to", good}, 2, "-from must be a bbolt database file"},
		{"missing source", []string{"-from", file + ".missing", "-to", good}, 1, "there is no database at " + file + ".missing"},
		{"bad URL", []string{"-from", file, "-to", "postgres://u:s3cr3t-pw@host:port/db"}, 1, "is not a PostgreSQL URL"},
		{"no such database", []string{"-from", file, "-to", u.String()}, 1, "has no such database"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runPortal(t, bin, append([]string{"copy"}, tc.args...)...)
			if code != tc.code || !strings.Contains(out, tc.want) || strings.Contains(out, "s3cr3t-pw") {
				t.Errorf("exit %d, want %d with %q:\n%s", code, tc.code, tc.want, out)
			}
		})
	}
}
