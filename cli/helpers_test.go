package cli

// Tests of the real binary: start-up against good, missing, locked, damaged
// and newer databases, graceful shutdown, the sweeper at start, and write
// failures. Each test builds the binary and runs it as a child process, the
// way an operator would.

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
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
	"sync"
	"syscall"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"portal/demo"
	"portal/internal/testbin"
	"portal/store"
	"portal/store/bolt"
)

// Helpers shared by the package's tests: the built binary and its
// process, a browser over real HTTP, and database files.

// --- the binary -------------------------------------------------------------

// buildPortal builds the binary into a temporary directory.
func buildPortal(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "portal")
	if err := testbin.Build(bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// binOutput collects a child's stdout and stderr.
type binOutput struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *binOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *binOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// binProc is one run of the binary.
type binProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	out    *binOutput
	exited chan struct{}
	base   string // http://host:port once listening
}

// startBin starts the binary; t.Cleanup kills it if it is still running.
// PORTAL_* variables are left out of its environment, so only args configure it.
func startBin(t *testing.T, bin string, args ...string) *binProc {
	t.Helper()
	return startBinCmd(t, exec.Command(bin, args...))
}

func startBinCmd(t *testing.T, cmd *exec.Cmd) *binProc {
	t.Helper()
	p := &binProc{t: t, cmd: cmd, out: &binOutput{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.Env = binEnv()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", cmd.Args, err)
	}
	go func() {
		cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

func binEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PORTAL_") {
			env = append(env, kv)
		}
	}
	return env
}

var binListeningRe = regexp.MustCompile(`msg="portal listening" addr=(http://\S+)`)

// waitListening waits for the "portal listening" line and returns the base URL.
func (p *binProc) waitListening(within time.Duration) string {
	p.t.Helper()
	deadline := time.After(within)
	for {
		if m := binListeningRe.FindStringSubmatch(p.out.String()); m != nil {
			p.base = m[1]
			return p.base
		}
		select {
		case <-p.exited:
			p.t.Fatalf("portal exited (%v) before listening; output:\n%s", p.cmd.ProcessState, p.out)
		case <-deadline:
			p.t.Fatalf("portal not listening within %s; output:\n%s", within, p.out)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// waitLog waits until the output matches re.
func (p *binProc) waitLog(re *regexp.Regexp, within time.Duration) {
	p.t.Helper()
	deadline := time.After(within)
	for !re.MatchString(p.out.String()) {
		select {
		case <-p.exited:
			p.t.Fatalf("portal exited before logging %s; output:\n%s", re, p.out)
		case <-deadline:
			p.t.Fatalf("no %s in the log within %s; output:\n%s", re, within, p.out)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// wait returns the exit code, failing the test if the process has not
// exited within the deadline (it is killed then).
func (p *binProc) wait(within time.Duration) int {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(within):
		p.cmd.Process.Kill()
		<-p.exited
		p.t.Fatalf("portal still running after %s; output:\n%s", within, p.out)
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *binProc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *binProc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// assertNoCrash fails if the output carries a Go panic or stack trace.
func assertNoCrash(t *testing.T, out string) {
	t.Helper()
	for _, bad := range []string{"panic:", "goroutine ", "fatal error:", "SIGSEGV", "SIGBUS", "DATA RACE"} {
		if strings.Contains(out, bad) {
			t.Errorf("output contains %q, a crash instead of a sentence:\n%s", bad, out)
		}
	}
}

// --- a browser --------------------------------------------------------------

// binCustomers are the demo users who have the Active Sessions section.
var binCustomers = []string{"admin@client.example", "manager@client.example", "staff@client.example"}

var (
	binCSRFRe    = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	binCurrentRe = regexp.MustCompile(`id="session-([0-9a-f]{32})" class="session is-current`)
)

// binBrowser keeps its cookies by hand, so a test can replay a session
// cookie after the server has told the browser to drop it.
type binBrowser struct {
	base  string
	hc    *http.Client
	email string
	pre   string // portal_pre
	token string // portal_session
	ended bool   // the server cleared the session cookie; token is kept for replays
	csrf  string // the session's CSRF token, from its last page
	id    string // the session's public id, from the Active Sessions list
}

// binHTTPClient never follows redirects: tests look at each 303 itself.
func binHTTPClient(tr *http.Transport) *http.Client {
	return &http.Client{
		Transport:     tr,
		Timeout:       20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func binTransport() *http.Transport {
	return &http.Transport{MaxIdleConnsPerHost: 32, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}
}

type binResponse struct {
	status   int
	location string
	body     string
}

func (b *binBrowser) do(method, path string, form url.Values) (binResponse, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		return binResponse{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	if b.pre != "" {
		req.AddCookie(&http.Cookie{Name: "portal_pre", Value: b.pre})
	}
	if b.token != "" && !b.ended {
		req.AddCookie(&http.Cookie{Name: "portal_session", Value: b.token})
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return binResponse{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return binResponse{}, err
	}
	for _, c := range resp.Cookies() {
		switch c.Name {
		case "portal_pre":
			b.pre = c.Value
		case "portal_session":
			if c.MaxAge < 0 || c.Value == "" {
				// The server ended this cookie; keep the token, so tests can
				// replay it, but stop sending it.
				b.ended = true
			} else {
				b.token, b.ended = c.Value, false
			}
		}
	}
	if m := binCSRFRe.FindSubmatch(data); m != nil {
		b.csrf = string(m[1])
	}
	return binResponse{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(data)}, nil
}

// signIn fetches the form and posts the demo password. ok is true for a
// 303 to /settings with a session cookie.
func (b *binBrowser) signIn(email string) (binResponse, bool, error) {
	b.email, b.token, b.ended, b.pre, b.csrf = email, "", false, "", ""
	r, err := b.do("GET", "/login", nil)
	if err != nil {
		return r, false, err
	}
	if r.status != http.StatusOK || b.csrf == "" || b.pre == "" {
		return r, false, fmt.Errorf("GET /login: status %d, csrf %q, pre cookie %q", r.status, b.csrf, b.pre)
	}
	r, err = b.do("POST", "/login", url.Values{"email": {email}, "password": {demo.Password}, "_csrf": {b.csrf}})
	if err != nil {
		return r, false, err
	}
	// Customers land on Settings, partner users on the partner console.
	landed := r.location == "/settings" || r.location == "/partner"
	return r, r.status == http.StatusSeeOther && landed && b.token != "" && !b.ended, nil
}

// loadSessions opens Active Sessions and learns this session's id and CSRF
// token, and the ids of the other sessions listed.
func (b *binBrowser) loadSessions() (others []string, r binResponse, err error) {
	r, err = b.do("GET", "/settings?section=active-sessions", nil)
	if err != nil || r.status != http.StatusOK {
		return nil, r, err
	}
	m := binCurrentRe.FindStringSubmatch(r.body)
	if m == nil {
		return nil, r, errors.New("no current session row on Active Sessions")
	}
	b.id = m[1]
	for _, m := range regexp.MustCompile(`/settings/active-sessions/([0-9a-f]{32})/sign-out"`).FindAllStringSubmatch(r.body, -1) {
		others = append(others, m[1])
	}
	return others, r, nil
}

// revoke signs out another session with the plain (no-JavaScript) form.
func (b *binBrowser) revoke(id string) (binResponse, error) {
	return b.do("POST", "/settings/active-sessions/"+id+"/sign-out", url.Values{"_csrf": {b.csrf}})
}

// --- databases --------------------------------------------------------------

// fileSession reads the record of token straight from the file, read-only,
// so checking it changes nothing (bolt.Open would write, and a Validate
// would queue last-active for Close to flush).
func fileSession(t *testing.T, db *bbolt.DB, token string) (store.Session, bool) {
	t.Helper()
	var s store.Session
	found := false
	h := store.HashToken(token)
	err := db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket([]byte("sessions")).Get(h[:])
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &s)
	})
	if err != nil {
		t.Fatalf("read session: %v", err)
	}
	return s, found
}

// fileEvents reads a user's security activity straight from the file:
// for each session id, the kinds of its events.
func fileEvents(t *testing.T, db *bbolt.DB, userID string) map[string][]store.EventKind {
	t.Helper()
	out := map[string][]store.EventKind{}
	err := db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("events")).Bucket([]byte(userID))
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var e store.Event
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			out[e.SessionID] = append(out[e.SessionID], e.Kind)
			return nil
		})
	})
	if err != nil {
		t.Fatalf("read events: %v", err)
	}
	return out
}

func openFileReadOnly(t *testing.T, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("open %s read-only: %v", path, err)
	}
	return db
}

// checkFile opens the database with the store and runs its full check.
func checkFile(t *testing.T, path string) {
	t.Helper()
	st, err := bolt.Open(path, bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("bolt.Open after the run: %v", err)
	}
	defer st.Close()
	if err := st.Check(); err != nil {
		t.Errorf("store.Check: %v", err)
	}
}

// seedFile writes a database with a user and a few sessions through the store.
func seedFile(t *testing.T, path string) {
	t.Helper()
	st, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	acct, err := st.CreateAccount("Acme", store.AccountClient)
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateUser(store.NewUser{AccountID: acct.ID, Email: "a@example.com", Name: "A", Role: store.RoleClientAdmin, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		if _, _, err := st.CreateSession(u.ID, store.NewSession{UserAgent: strings.Repeat("agent ", 20) + fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
}

func writeRandomFile(t *testing.T, path string, n int) {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// wantNoFile fails if path exists.
func wantNoFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s: %v; want no file", path, err)
	}
}
