package cli

// Tests of the real binary: start-up against good, missing, locked, damaged
// and newer databases, graceful shutdown, the sweeper at start, and write
// failures. Each test builds the binary and runs it as a child process, the
// way an operator would.

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"portal/demo"
	"portal/store"
	"portal/store/bolt"
)

// --- start-up ---------------------------------------------------------------

// TestServeNewDatabase: a missing file or an empty one becomes a new
// database; a directory that does not exist is a sentence, not a crash.
func TestServeNewDatabase(t *testing.T) {
	bin := buildPortal(t)
	for _, tc := range []struct{ name, setup string }{{"missing", ""}, {"empty", "empty"}} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "portal.db")
			if tc.setup == "empty" {
				if err := os.WriteFile(path, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			p := startBin(t, bin, "-db", path, "-addr", "127.0.0.1:0")
			base := p.waitListening(20 * time.Second)
			b := &binBrowser{base: base, hc: binHTTPClient(binTransport())}
			r, err := b.do("GET", "/readyz", nil)
			if err != nil || r.status != http.StatusOK || !strings.Contains(r.body, "db: ok") {
				t.Fatalf("GET /readyz: %v %d %q", err, r.status, r.body)
			}
			p.signal(syscall.SIGTERM)
			if code := p.wait(20 * time.Second); code != 0 {
				t.Fatalf("exit code %d after SIGTERM; output:\n%s", code, p.out)
			}
			checkFile(t, path)
		})
	}
	t.Run("no such directory", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "missing-dir", "portal.db")
		p := startBin(t, bin, "-db", path, "-addr", "127.0.0.1:0")
		if code := p.wait(20 * time.Second); code != 1 {
			t.Fatalf("exit code %d, want 1; output:\n%s", code, p.out)
		}
		out := p.out.String()
		if !strings.Contains(out, path) {
			t.Errorf("output does not name %s:\n%s", path, out)
		}
		assertNoCrash(t, out)
	})
}

// TestShutdownGraceful: SIGTERM lets a sign-in in flight finish, flushes a
// last-active time that only lives in memory (the flush interval is a
// minute), closes the database and exits 0.
func TestShutdownGraceful(t *testing.T) {
	bin := buildPortal(t)
	path := filepath.Join(t.TempDir(), "portal.db")
	p := startBin(t, bin, "-demo", "-db", path, "-addr", "127.0.0.1:0", "-flush-interval", "1m")
	base := p.waitListening(30 * time.Second)
	tr := binTransport()
	defer tr.CloseIdleConnections()

	b := &binBrowser{base: base, hc: binHTTPClient(tr)}
	if r, ok, err := b.signIn(binCustomers[0]); err != nil || !ok {
		t.Fatalf("sign in: %v %+v", err, r)
	}
	if _, r, err := b.loadSessions(); err != nil || r.status != http.StatusOK {
		t.Fatalf("load sessions: %v %d", err, r.status)
	}
	touched := time.Now() // the next request moves last-active past this
	if r, err := b.do("GET", "/settings", nil); err != nil || r.status != http.StatusOK {
		t.Fatalf("GET /settings: %v %d", err, r.status)
	}

	// A sign-in whose request is half received when SIGTERM arrives: the
	// rest of its body is sent only once the portal logs that it is
	// shutting down, and it must still be answered and saved.
	late := &binBrowser{base: base, hc: binHTTPClient(tr)}
	if r, err := late.do("GET", "/login", nil); err != nil || r.status != http.StatusOK {
		t.Fatalf("GET /login: %v %d", err, r.status)
	}
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	body := url.Values{"email": {binCustomers[1]}, "password": {demo.Password}, "_csrf": {late.csrf}}.Encode()
	head := fmt.Sprintf("POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Sec-Fetch-Site: same-origin\r\nCookie: portal_pre=%s\r\nContent-Length: %d\r\n\r\n", strings.TrimPrefix(base, "http://"), late.pre, len(body))
	if _, err := io.WriteString(conn, head+body[:10]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // accepted and reading the body
	p.signal(syscall.SIGTERM)
	p.waitLog(regexp.MustCompile(`msg="shutting down"`), 10*time.Second)
	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatalf("the portal dropped a request it had begun to read: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a request in flight at SIGTERM: %v", err)
	}
	resp.Body.Close()
	var lateToken string
	for _, c := range resp.Cookies() {
		if c.Name == "portal_session" {
			lateToken = c.Value
		}
	}
	if resp.StatusCode != http.StatusSeeOther || lateToken == "" {
		t.Errorf("sign-in in flight at SIGTERM: status %d, session cookie %v; want 303 with a session", resp.StatusCode, lateToken != "")
	}

	if code := p.wait(20 * time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM; output:\n%s", code, p.out)
	}
	out := p.out.String()
	for _, want := range []string{`msg="shutting down"`, `msg="stopped cleanly"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	assertNoCrash(t, out)

	db := openFileReadOnly(t, path)
	s, ok := fileSession(t, db, b.token)
	if !ok {
		t.Fatal("the signed-in session is not in the database")
	}
	if s.LastActive.Before(touched) {
		t.Errorf("stored last-active %s is before the request at %s: the shutdown did not flush it", s.LastActive, touched.UTC())
	}
	if lateToken != "" {
		if _, ok := fileSession(t, db, lateToken); !ok {
			t.Error("the sign-in that finished during shutdown is not in the database")
		}
	}
	db.Close()
	checkFile(t, path)
}

// TestLockSecondInstance: a second portal on the same file says the file is
// locked, names it, and exits non-zero within a few seconds, including with
// -demo-reset, which must not delete the database under the first one.
func TestLockSecondInstance(t *testing.T) {
	bin := buildPortal(t)
	path := filepath.Join(t.TempDir(), "portal.db")
	first := startBin(t, bin, "-demo", "-db", path, "-addr", "127.0.0.1:0")
	base := first.waitListening(30 * time.Second)
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"plain", []string{"-db", path, "-addr", "127.0.0.1:0"}},
		{"demo-reset", []string{"-demo", "-demo-reset", "-db", path, "-addr", "127.0.0.1:0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			second := startBin(t, bin, tc.args...)
			code := second.wait(5 * time.Second)
			out := second.out.String()
			if code == 0 {
				t.Errorf("second instance exited 0")
			}
			if !strings.Contains(out, path) || !strings.Contains(out, "locked") {
				t.Errorf("output does not name %s and say it is locked:\n%s", path, out)
			}
			if strings.Contains(out, "portal listening") {
				t.Errorf("second instance started serving:\n%s", out)
			}
			assertNoCrash(t, out)
		})
	}

	after, err := os.Stat(path)
	if err != nil || !os.SameFile(before, after) {
		t.Fatalf("the first instance's database file was replaced or removed (%v)", err)
	}
	b := &binBrowser{base: base, hc: binHTTPClient(binTransport())}
	if r, ok, err := b.signIn(binCustomers[0]); err != nil || !ok {
		t.Fatalf("first instance no longer signs in: %v %+v", err, r)
	}
	first.signal(syscall.SIGTERM)
	if code := first.wait(20 * time.Second); code != 0 {
		t.Fatalf("first instance exit code %d; output:\n%s", code, first.out)
	}
	db := openFileReadOnly(t, path)
	if _, ok := fileSession(t, db, b.token); !ok {
		t.Error("the first instance's sign-in is not in the file at its path")
	}
	db.Close()
}

// TestCorruptDatabase: files that are not a portal database, or are cut
// short, stop the binary with a sentence naming the file, exit code 1, and
// no panic or stack trace.
func TestCorruptDatabase(t *testing.T) {
	bin := buildPortal(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	seedFile(t, good)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	db := openFileReadOnly(t, good)
	var used int64         // bytes the pages in use need
	var sessionsRoot int64 // page holding the root of the sessions bucket
	db.View(func(tx *bbolt.Tx) error {
		used = tx.Size()
		sessionsRoot = int64(tx.Bucket([]byte("sessions")).Root())
		return nil
	})
	db.Close()
	if used < 8*4096 {
		t.Fatalf("seeded database uses only %d bytes; seed more so truncation means something", used)
	}

	cases := map[string][]byte{
		"text":             []byte("This is not a database.\nIt is a note someone saved as portal.db.\n"),
		"truncated header": data[:4096+100],
		"truncated meta":   data[:2*4096],
		"truncated half":   data[:used/2],
		"truncated page":   data[:used-4096+10],
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "portal.db")
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			expectDamagedFile(t, bin, path)
		})
	}
	// A page in the middle overwritten: Open cannot see it, but the sweep
	// at start reads it. The binary must stop with a sentence, not a trace.
	t.Run("damaged sessions page", func(t *testing.T) {
		if sessionsRoot == 0 {
			t.Fatal("sessions bucket is inline; seed more")
		}
		path := filepath.Join(t.TempDir(), "portal.db")
		damaged := bytes.Clone(data)
		rand.Read(damaged[sessionsRoot*4096 : (sessionsRoot+1)*4096])
		if err := os.WriteFile(path, damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		expectRefused(t, bin, path, "damaged")
	})
	for _, n := range []int{100, 4096, 100_000} {
		t.Run(fmt.Sprintf("random %d bytes", n), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "portal.db")
			writeRandomFile(t, path, n)
			expectDamagedFile(t, bin, path)
		})
	}
}

func expectDamagedFile(t *testing.T, bin, path string) {
	t.Helper()
	if out := expectRefused(t, bin, path, "is not a portal database or is damaged"); strings.Contains(out, "portal listening") {
		t.Errorf("portal started serving a damaged file:\n%s", out)
	}
}

// expectRefused starts the binary on path and checks that it exits 1 with
// a sentence naming the file and containing want, without a stack trace.
// It returns the output.
func expectRefused(t *testing.T, bin, path, want string) string {
	t.Helper()
	p := startBin(t, bin, "-db", path, "-addr", "127.0.0.1:0")
	code := p.wait(30 * time.Second)
	out := p.out.String()
	if code != 1 {
		t.Errorf("exit code %d, want 1; output:\n%s", code, out)
	}
	if !strings.Contains(out, path) || !strings.Contains(out, want) {
		t.Errorf("output lacks a sentence naming %s with %q:\n%s", path, want, out)
	}
	assertNoCrash(t, out)
	return out
}

// TestSchemaNewer: a database written by a newer portal is refused rather
// than misread.
func TestSchemaNewer(t *testing.T) {
	bin := buildPortal(t)
	path := filepath.Join(t.TempDir(), "portal.db")
	seedFile(t, path)
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), binary.BigEndian.AppendUint64(nil, bolt.SchemaVersion+1))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	expectRefused(t, bin, path, "newer")

	// Refusing must not have rewritten the version.
	db = openFileReadOnly(t, path)
	defer db.Close()
	db.View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket([]byte("meta")).Get([]byte("schema_version")); binary.BigEndian.Uint64(v) != bolt.SchemaVersion+1 {
			t.Errorf("schema version is now %d", binary.BigEndian.Uint64(v))
		}
		return nil
	})
}

// TestSweepAtStart: sessions that ended longer ago than -retention are
// deleted when the binary starts; recent ones stay; the indexes still agree.
func TestSweepAtStart(t *testing.T) {
	bin := buildPortal(t)
	path := filepath.Join(t.TempDir(), "portal.db")
	now := time.Now()
	clock := now.Add(-48 * time.Hour)
	st, err := bolt.Open(path, bolt.Options{Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := st.CreateAccount("Acme", store.AccountClient)
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateUser(store.NewUser{AccountID: acct.ID, Email: "a@example.com", Name: "A", Role: store.RoleClientAdmin, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	newSession := func() string {
		s, _, err := st.CreateSession(u.ID, store.NewSession{})
		if err != nil {
			t.Fatal(err)
		}
		return s.ID
	}
	var old []string
	for range 5 { // revoked two days ago
		id := newSession()
		if _, err := st.RevokeUserSession(u.ID, id, store.ReasonRevoked); err != nil {
			t.Fatal(err)
		}
		old = append(old, id)
	}
	clock = now.Add(-10 * time.Minute)
	recent := newSession() // revoked ten minutes ago: within retention
	if _, err := st.RevokeUserSession(u.ID, recent, store.ReasonRevoked); err != nil {
		t.Fatal(err)
	}
	clock = now
	live := newSession()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	p := startBin(t, bin, "-db", path, "-addr", "127.0.0.1:0", "-retention", "1h")
	p.waitListening(20 * time.Second)
	p.waitLog(regexp.MustCompile(`msg="deleted ended sessions" count=5\b`), 20*time.Second)
	p.signal(syscall.SIGTERM)
	if code := p.wait(20 * time.Second); code != 0 {
		t.Fatalf("exit code %d; output:\n%s", code, p.out)
	}

	st, err = bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, id := range old {
		if _, err := st.UserSession(u.ID, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("session ended two days ago is still there (err %v)", err)
		}
	}
	for _, id := range []string{recent, live} {
		if _, err := st.UserSession(u.ID, id); err != nil {
			t.Errorf("session %s within retention was deleted: %v", id[:8], err)
		}
	}
	if err := st.Check(); err != nil {
		t.Errorf("store.Check after the sweep: %v", err)
	}
}

// --- write failures -----------------------------------------------------------

// TestServeWriteFailure makes every commit fail as on a full disk: once the
// portal is up, RLIMIT_FSIZE is lowered on the running process to two pages,
// so writing any data page fails with EFBIG (Go ignores SIGXFSZ, so the write
// fails instead of the process dying). Every revoke, sign-out and sign-in
// must then get a 503 with a sentence and change nothing, never a success
// that was not saved. With the limit lifted the same requests succeed
// without a restart, and the file agrees with what each browser was told.
func TestServeWriteFailure(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit (util-linux) not installed; it sets RLIMIT_FSIZE on the running portal")
	}
	bin := buildPortal(t)
	path := filepath.Join(t.TempDir(), "portal.db")
	args := []string{"-demo", "-db", path, "-addr", "127.0.0.1:0", "-flush-interval", "1s"}
	tr := binTransport()
	defer tr.CloseIdleConnections()

	p := startBin(t, bin, args...)
	base := p.waitListening(30 * time.Second)
	setLimit := func(limit string) {
		t.Helper()
		// The soft limit only: lowering the hard one could not be undone
		// without CAP_SYS_RESOURCE.
		if out, err := exec.Command(prlimit, "--pid", fmt.Sprint(p.cmd.Process.Pid), "--fsize="+limit+":").CombinedOutput(); err != nil {
			t.Fatalf("prlimit --fsize=%s: %v %s", limit, err, out)
		}
	}
	signIn := func(email string) *binBrowser {
		t.Helper()
		b := &binBrowser{base: base, hc: binHTTPClient(tr)}
		if r, ok, err := b.signIn(email); err != nil || !ok {
			t.Fatalf("sign in %s: %v %d %s", email, err, r.status, r.location)
		}
		if _, r, err := b.loadSessions(); err != nil || r.status != http.StatusOK {
			t.Fatalf("load sessions: %v %d", err, r.status)
		}
		return b
	}
	admin := signIn(binCustomers[0])
	victims := []*binBrowser{signIn(binCustomers[0]), signIn(binCustomers[0])}
	leaver := signIn(binCustomers[0]) // signs itself out
	manager := signIn(binCustomers[1])
	managerOther := signIn(binCustomers[1])

	const (
		revokeSentence = "Couldn&#39;t sign that session out because the change could not be saved."
		logoutSentence = "Couldn&#39;t sign you out because the change could not be saved."
		othersSentence = "Couldn&#39;t sign out the other sessions because the change could not be saved."
		signInSentence = "Couldn&#39;t sign you in because the change could not be saved."
	)
	// expect checks one response against what this phase must give.
	expect := func(what string, r binResponse, err error, saved bool, success, sentence string) {
		t.Helper()
		switch {
		case err != nil:
			t.Fatalf("%s: %v", what, err)
		case saved && (r.status != http.StatusSeeOther || r.location != success):
			t.Errorf("%s: status %d, location %q; want 303 to %s\n%.1500s", what, r.status, r.location, success, r.body)
		case !saved && (r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, sentence)):
			t.Errorf("%s while writes fail: status %d, location %q; want 503 saying %q\n%.1500s", what, r.status, r.location, sentence, r.body)
		}
	}
	attempt := func(saved bool) {
		t.Helper()
		for i, v := range victims {
			r, err := admin.revoke(v.id)
			expect(fmt.Sprintf("revoke %d", i), r, err, saved, "/settings?section=active-sessions", revokeSentence)
		}
		r, err := leaver.do("POST", "/logout", url.Values{"_csrf": {leaver.csrf}})
		expect("sign out", r, err, saved, "/login?reason=signed_out", logoutSentence)
		r, err = manager.do("POST", "/settings/active-sessions/sign-out-others", url.Values{"_csrf": {manager.csrf}})
		expect("sign out others", r, err, saved, "/settings?section=active-sessions", othersSentence)
		b := &binBrowser{base: base, hc: binHTTPClient(tr)}
		r, _, err = b.signIn(binCustomers[2])
		expect("sign in", r, err, saved, "/settings", signInSentence)
		if !saved && b.token != "" {
			t.Error("a sign-in that could not be saved set a session cookie")
		}
	}

	// Writes fail: data pages all lie past the first two (meta) pages.
	setLimit("8192")
	attempt(false)
	if r, err := leaver.do("GET", "/settings", nil); err != nil || r.status != http.StatusOK {
		t.Errorf("a session whose sign-out failed no longer works: %v %d %q", err, r.status, r.location)
	}
	p.waitLog(regexp.MustCompile(`msg="last-active flush failed; will retry"`), 20*time.Second)

	// Space again: the same requests now succeed, without a restart.
	setLimit("unlimited")
	attempt(true)

	p.signal(syscall.SIGTERM)
	if code := p.wait(20 * time.Second); code != 0 {
		t.Fatalf("exit code %d; output:\n%s", code, p.out)
	}
	assertNoCrash(t, p.out.String())

	db := openFileReadOnly(t, path)
	for _, v := range append(append([]*binBrowser{leaver, managerOther}, victims...), admin, manager) {
		s, found := fileSession(t, db, v.token)
		if !found {
			t.Errorf("session %s is gone from the database", v.id[:8])
			continue
		}
		want := v != admin && v != manager
		if ended := !s.EndedAt.IsZero(); ended != want {
			t.Errorf("session %s: revoked on disk %v, want %v", v.id[:8], ended, want)
		}
	}
	db.Close()
	checkFile(t, path)
}
