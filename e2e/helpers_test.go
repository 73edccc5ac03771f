// Package e2e drives the real portal binary with a real Chromium through
// chromedp: sign-in, Settings and its Active Sessions section, with and
// without JavaScript, by mouse and by keyboard.
//
// The tests need Chromium (/usr/bin/chromium or $PORTAL_CHROMIUM). Without
// it they skip, unless PORTAL_E2E=required, which makes its absence fail.
// PORTAL_SCREENSHOT_DIR, when set, receives copies of the screenshots.
// PORTAL_E2E_BIN, when set, is the portal binary to test instead of one
// built from this module.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"portal/internal/testbin"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// demoPassword is every demo user's password (demo.Password).
const demoPassword = "demo-password-1"

// Demo users (demo.Logins).
const (
	adminEmail   = "admin@client.example"
	managerEmail = "manager@client.example"
	staffEmail   = "staff@client.example"
	partnerEmail = "partner@partner.example"
)

// partnerEmails are the demo's partner users, who land in the partner
// console rather than in Settings.
var partnerEmails = map[string]bool{
	partnerEmail:                    true,
	"partner-staff@partner.example": true,
}

// seededOthers is how many sessions demo.Seed gives each customer user
// before anyone signs in: 3+(i+1)%3 for the i-th demo login.
var seededOthers = map[string]int{
	adminEmail:   4,
	managerEmail: 5,
	staffEmail:   3,
}

// Sentences the product shows; the tests compare them exactly.
const (
	reasonRevoked    = "You were signed out from another session."
	reasonRevokedAll = "You were signed out because all other devices were signed out from another session."
	flashRevoked     = "The session was signed out."
	privateNetwork   = "Private network"
)

// device is a browser as the portal sees it: the User-Agent it sends and
// the label the Active Sessions list should show for it. None of them is
// among the seeded demo devices, so a row with the label is that browser.
type device struct {
	UA, Label string
}

var (
	chromeLinux = device{
		UA:    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36",
		Label: "Chrome 136 on Linux",
	}
	firefoxWindows = device{
		UA:    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:139.0) Gecko/20100101 Firefox/139.0",
		Label: "Firefox 139 on Windows",
	}
	edgeMac = device{
		UA:    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/137.0.0.0 Safari/537.36 Edg/137.0.0.0",
		Label: "Edge 137 on macOS",
	}
)

// testTimeout bounds one test, browsers and server included.
const testTimeout = 90 * time.Second

// portalBin is the portal binary TestMain built, shared by every test.
var portalBin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	if bin := os.Getenv("PORTAL_E2E_BIN"); bin != "" {
		// A binary built elsewhere, e.g. from another checkout.
		portalBin = bin
	} else if _, err := chromiumPath(); err == nil {
		dir, err := os.MkdirTemp("", "portal-e2e-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		portalBin = filepath.Join(dir, "portal")
		if err := testbin.Build(portalBin); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: build the portal binary:", err)
			return 1
		}
	}
	return m.Run()
}

func chromiumPath() (string, error) {
	p := os.Getenv("PORTAL_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := os.Stat(p); err != nil {
		return p, err
	}
	return p, nil
}

// requireChromium skips the test when there is no browser, or fails it when
// PORTAL_E2E=required.
func requireChromium(t *testing.T) string {
	t.Helper()
	p, err := chromiumPath()
	if err != nil {
		if os.Getenv("PORTAL_E2E") == "required" {
			t.Fatalf("PORTAL_E2E=required but Chromium is missing: %v", err)
		}
		t.Skip("browser tests need Chromium: apt-get install -y chromium, or set PORTAL_E2E=required to make its absence fail")
	}
	if portalBin == "" {
		t.Fatal("the portal binary was not built")
	}
	return p
}

// setup is the start of every test: a deadline, a browser check and a
// fresh server with a fresh demo database.
func setup(t *testing.T) (context.Context, *server) {
	t.Helper()
	requireChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx, startServer(t)
}

// server is one running portal process.
type server struct {
	URL string

	cmd  *exec.Cmd
	done chan struct{} // closed when stderr reached EOF
	mu   sync.Mutex
	logs bytes.Buffer
}

var listeningRE = regexp.MustCompile(`msg="portal listening" addr=(http://\S+)`)

// startServer runs the portal with a fresh demo database on a free port
// and stops it when the test ends, checking that it shuts down cleanly.
func startServer(t *testing.T) *server {
	t.Helper()
	s, err := startServerArgs(t, "-addr", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startServerArgs is startServer with the flags after -demo and -db: it
// includes -addr. An error says the portal exited before listening.
func startServerArgs(t *testing.T, args ...string) (*server, error) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(portalBin, append([]string{"-demo", "-db", filepath.Join(dir, "portal.db")}, args...)...)
	// Only the flags configure it: no PORTAL_* from the caller's shell.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PORTAL_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, done: make(chan struct{})}
	cmd.Stdout = &lockedWriter{s}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the portal: %v", err)
	}
	urlc := make(chan string, 1)
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.logs.WriteString(line + "\n")
			s.mu.Unlock()
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				select {
				case urlc <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	t.Cleanup(func() { s.stop(t) })
	select {
	case s.URL = <-urlc:
	case <-s.done:
		s.cmd.Wait()
		s.cmd.Process = nil // stop has nothing to stop
		return nil, fmt.Errorf("the portal exited before listening:\n%s", s.log())
	case <-time.After(30 * time.Second):
		t.Fatalf("the portal did not log that it listens within 30s:\n%s", s.log())
	}
	return s, nil
}

type lockedWriter struct{ s *server }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.logs.Write(p)
}

func (s *server) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

// stop sends SIGTERM and expects exit code 0 and no error logged during
// the test. The log is printed when the test failed.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if s.cmd.Process == nil {
		return
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("SIGTERM the portal: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		t.Errorf("the portal did not exit within 20s of SIGTERM; killing it")
		s.cmd.Process.Kill()
		<-s.done
	}
	err := s.cmd.Wait()
	logs := s.log()
	if err != nil {
		t.Errorf("the portal did not exit with code 0 after SIGTERM: %v", err)
	}
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "level=ERROR") {
			t.Errorf("the portal logged an error: %s", line)
		}
	}
	if t.Failed() {
		t.Logf("portal log:\n%s", logs)
	}
}

// browser is one Chromium process with its own profile, so its cookies are
// its own: a separate device as far as the portal can tell.
type browser struct {
	t      *testing.T
	ctx    context.Context
	dev    device
	name   string
	server *server
	base   string // the portal's address as this browser reaches it

	// expected are messages watch does not count as problems (a test
	// that serves plain HTTP under a name that is not localhost expects
	// Chromium's warning that it ignores Cross-Origin-Opener-Policy).
	expected []string

	mu       sync.Mutex
	watching bool
	problems []string
}

// newBrowser starts Chromium with the device's User-Agent and a fresh
// profile. It is closed when the test ends.
func newBrowser(t *testing.T, ctx context.Context, s *server, name string, dev device, extra ...chromedp.ExecAllocatorOption) *browser {
	t.Helper()
	path := requireChromium(t)
	profile, err := os.MkdirTemp("", "portal-e2e-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	// Runs after the browser is closed (cleanups run last-in first-out).
	t.Cleanup(func() { os.RemoveAll(profile) })
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.UserAgent(dev.UA),
		chromedp.WindowSize(1280, 900),
	)
	opts = append(opts, extra...)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		chromedp.Cancel(bctx)
		bcancel()
		acancel()
	})
	b := &browser{t: t, ctx: bctx, dev: dev, name: name, server: s, base: s.URL}
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("%s: start Chromium: %v", name, err)
	}
	return b
}

// stepTimeout bounds one step (a click and what it should cause, a wait),
// so a broken behaviour fails with the step's name instead of using up
// the whole test's time.
const stepTimeout = 15 * time.Second

// do runs actions and fails the test on the first error.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, what, stepError(ctx, err))
	}
}

// run runs one action that returns a value and fails the test on error.
func run[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, what, stepError(ctx, err))
	}
	return v
}

func stepError(ctx context.Context, err error) error {
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		return fmt.Errorf("did not happen within %s (%w)", stepTimeout, err)
	}
	return err
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	return run(b, "evaluate "+expr, chromedp.Evaluate[T](expr))
}

// watch records, from now on, every console error, uncaught exception,
// error log entry (CSP violations land there), failed request and HTTP
// error response of the tab.
func (b *browser) watch() {
	b.t.Helper()
	b.mu.Lock()
	b.watching = true
	b.mu.Unlock()
	err := chromedp.Listen(b.ctx, func(ev any) {
		var p string
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				var args []string
				for _, a := range ev.Args {
					if a.Value != nil {
						args = append(args, string(a.Value))
					} else {
						args = append(args, a.Description)
					}
				}
				p = "console.error: " + strings.Join(args, " ")
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			p = "uncaught exception: " + d.Text
			if d.Exception != nil {
				p += " " + d.Exception.Description
			}
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				p = fmt.Sprintf("log error (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			}
		case *network.EventLoadingFailed:
			// A live-updates stream is cut when its page goes away (and
			// blocked where a test models a browser without one).
			if ev.Type != network.ResourceTypeEventSource {
				p = fmt.Sprintf("request failed: %s %s canceled=%v blocked=%s", ev.Type, ev.ErrorText, ev.Canceled, ev.BlockedReason)
			}
		case *network.EventResponseReceived:
			if ev.Response.Status >= 400 {
				p = fmt.Sprintf("HTTP %d for %s", ev.Response.Status, ev.Response.URL)
			}
		}
		if p != "" {
			b.mu.Lock()
			if !slices.ContainsFunc(b.expected, func(e string) bool { return strings.Contains(p, e) }) {
				b.problems = append(b.problems, p)
			}
			b.mu.Unlock()
		}
	})
	if err != nil {
		b.t.Fatalf("%s: listen to events: %v", b.name, err)
	}
}

// assertNoProblems fails the test if watch saw anything wrong.
func (b *browser) assertNoProblems() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.watching {
		b.t.Fatalf("%s: assertNoProblems without watch", b.name)
	}
	for _, p := range b.problems {
		b.t.Errorf("%s: %s", b.name, p)
	}
}

func (b *browser) navigate(path string) {
	b.t.Helper()
	b.do("navigate to "+path, chromedp.Navigate(b.base+path))
}

// clickAndLoad clicks and waits for the page load the click causes (a form
// post, a link, or an htmx HX-Redirect).
func (b *browser) clickAndLoad(sel string) {
	b.t.Helper()
	run(b, "click "+sel+" and wait for the next page", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel))))
}

func (b *browser) location() *url.URL {
	b.t.Helper()
	loc := run(b, "read the location", chromedp.Location())
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatalf("%s: location %q: %v", b.name, loc, err)
	}
	return u
}

// assertPath checks the address bar: path and query, e.g. "/login?reason=revoked".
func (b *browser) assertPath(want string) {
	b.t.Helper()
	u := b.location()
	if got := u.RequestURI(); got != want {
		b.t.Fatalf("%s: address bar shows %s, want %s", b.name, got, want)
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(run(b, "read the text of "+sel, chromedp.TextContent(chromedp.CSS(sel))))
}

// assertText waits for sel and compares its trimmed text content exactly.
func (b *browser) assertText(sel, want string) {
	b.t.Helper()
	b.do("wait for "+sel, chromedp.WaitReady(chromedp.CSS(sel)))
	if got := b.text(sel); got != want {
		b.t.Fatalf("%s: %s reads %q, want %q", b.name, sel, got, want)
	}
}

// signIn signs in through the form and expects to land where the role
// starts: Settings for customers, the partner console for partners.
func (b *browser) signIn(email string) {
	b.t.Helper()
	b.enterPassword(email)
	want, heading := "/settings", "Profile"
	if partnerEmails[email] {
		want, heading = "/partner", "Clients"
	}
	if u := b.location(); u.Path != want {
		b.t.Fatalf("%s: after signing in as %s the address bar shows %s, want %s:\n%s", b.name, email, u, want, b.text("main"))
	}
	b.assertText("h1", heading)
}

// enterPassword fills in the sign-in form with email and the demo
// password and sends it.
func (b *browser) enterPassword(email string) {
	b.t.Helper()
	b.navigate("/login")
	b.do("fill in the sign-in form",
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), demoPassword),
	)
	b.clickAndLoad(`form[action="/login"] button[type=submit]`)
}

// openActiveSessions goes straight to the section by its URL.
func (b *browser) openActiveSessions() {
	b.t.Helper()
	b.navigate("/settings?section=active-sessions")
	b.assertPath("/settings?section=active-sessions")
	b.assertText("#active-sessions h1", "Active Sessions")
	b.do("wait for the sessions table", chromedp.WaitVisible(chromedp.CSS("table.sessions tbody tr")))
}

// openActiveSessionsViaSidebar clicks the sidebar link (an htmx swap) and
// waits for the table.
func (b *browser) openActiveSessionsViaSidebar() {
	b.t.Helper()
	b.do("click Active Sessions in the sidebar",
		chromedp.Click(chromedp.CSS(`nav.sidebar a[href="/settings?section=active-sessions"]`)),
		chromedp.WaitVisible(chromedp.CSS("#active-sessions table.sessions tbody tr")),
	)
	b.assertText("#active-sessions h1", "Active Sessions")
}

// row is one row of the Active Sessions table as the page shows it.
type row struct {
	ID         string `json:"id"`
	Current    bool   `json:"current"`
	Ended      bool   `json:"ended"`
	Device     string `json:"device"`
	Location   string `json:"location"`
	Badge      string `json:"badge"`
	Auth       string `json:"auth"`       // how it signed in, with the Two-step badge
	Button     string `json:"button"`     // text of the Sign out button, "" if none
	ButtonName string `json:"buttonName"` // its aria-label
	EndedText  string `json:"endedText"`
}

const rowsJS = `Array.from(document.querySelectorAll('table.sessions tbody tr')).map(tr => {
	const q = s => tr.querySelector(s);
	const txt = s => (q(s) ? q(s).textContent.trim() : '');
	const btn = q('button');
	return {
		id: tr.id,
		current: tr.classList.contains('is-current'),
		ended: tr.classList.contains('is-ended'),
		device: txt('.device-name'),
		location: txt('.col-location > span'),
		badge: txt('.badge:not(.badge-two-step)'),
		auth: txt('.auth-method'),
		button: btn ? btn.textContent.trim() : '',
		buttonName: btn ? (btn.getAttribute('aria-label') || '') : '',
		endedText: txt('span.ended'),
	};
})`

func (b *browser) rows() []row {
	b.t.Helper()
	return eval[[]row](b, rowsJS)
}

// rowFor finds the one live row showing dev's label.
func rowFor(t *testing.T, rows []row, dev device) row {
	t.Helper()
	var found []row
	for _, r := range rows {
		if r.Device == dev.Label && !r.Ended {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one live row for %q, found %d in %+v", dev.Label, len(found), rows)
	}
	return found[0]
}

// assertCurrentFirst checks the current row: first, labelled, this device,
// no Sign out button; and that it is the only current row.
func assertCurrentFirst(t *testing.T, rows []row, dev device) {
	t.Helper()
	if len(rows) == 0 {
		t.Fatal("the sessions table has no rows")
	}
	cur := rows[0]
	if !cur.Current || cur.Badge != "Current session" {
		t.Errorf("first row is not the current session labelled \"Current session\": %+v", cur)
	}
	if cur.Device != dev.Label || cur.Location != privateNetwork {
		t.Errorf("current row shows %q, %q; want %q, %q", cur.Device, cur.Location, dev.Label, privateNetwork)
	}
	if cur.Button != "" {
		t.Errorf("current row has a %q button; it must have none", cur.Button)
	}
	ids := map[string]bool{}
	for i, r := range rows {
		if !strings.HasPrefix(r.ID, "session-") || ids[r.ID] {
			t.Errorf("row %d has a missing or repeated id %q", i, r.ID)
		}
		ids[r.ID] = true
		if i > 0 && (r.Current || r.Badge != "") {
			t.Errorf("row %d is also marked current: %+v", i, r)
		}
	}
}

// signOutRow clicks the row's Sign out button (htmx) and waits for the row
// to show that it ended.
func (b *browser) signOutRow(r row) {
	b.t.Helper()
	b.do("sign out "+r.Device,
		chromedp.Click(chromedp.CSS("#"+r.ID+" button")),
		chromedp.WaitVisible(chromedp.CSS("#"+r.ID+".is-ended span.ended")),
	)
}
