package handlers

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"portal/live"
	"portal/store"
)

// sseStream is the client end of a live-updates stream over a real
// socket, read the way EventSource reads it.
type sseStream struct {
	t      testing.TB
	conn   net.Conn
	r      *bufio.Reader
	status int
	header http.Header
	all    strings.Builder // every byte read, to check what it never holds
}

// sseEvent is one event; comment-only blocks (heartbeats) have name ":".
type sseEvent struct {
	name, data string
	retry      string
}

// openStream opens GET /events as b's browser would (its cookies, same
// origin) and reads the response head.
func openStream(t testing.TB, base string, b *browser, hdr map[string]string) *sseStream {
	t.Helper()
	return openStreamAt(t, base, eventsURL, b, hdr)
}

func openStreamAt(t testing.TB, base, target string, b *browser, hdr map[string]string) *sseStream {
	t.Helper()
	u, _ := url.Parse(base)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var req strings.Builder
	req.WriteString("GET " + target + " HTTP/1.1\r\nHost: " + u.Host + "\r\nAccept: text/event-stream\r\n")
	if b != nil {
		for k, v := range b.cookies {
			req.WriteString("Cookie: " + k + "=" + v + "\r\n")
		}
		req.WriteString("User-Agent: " + b.ua + "\r\n")
	}
	if _, ok := hdr["Sec-Fetch-Site"]; !ok {
		req.WriteString("Sec-Fetch-Site: same-origin\r\n")
	}
	for k, v := range hdr {
		req.WriteString(k + ": " + v + "\r\n")
	}
	req.WriteString("\r\n")
	if _, err := io.WriteString(conn, req.String()); err != nil {
		t.Fatal(err)
	}
	s := &sseStream{t: t, conn: conn}
	s.r = bufio.NewReader(io.TeeReader(conn, &s.all))
	conn.SetReadDeadline(time.Now().Add(eventWait))
	res, err := http.ReadResponse(s.r, nil)
	if err != nil {
		t.Fatalf("read the stream's response: %v", err)
	}
	s.status, s.header = res.StatusCode, res.Header
	if res.ContentLength >= 0 {
		// A short answer (end of session, come back later): read it all.
		body, _ := io.ReadAll(res.Body)
		s.r = bufio.NewReader(strings.NewReader(string(body)))
	}
	return s
}

// next reads the next event within d; ok is false at the end of the
// stream.
func (s *sseStream) next(d time.Duration) (ev sseEvent, ok bool) {
	s.t.Helper()
	s.conn.SetReadDeadline(time.Now().Add(d))
	var data []string
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				s.t.Fatalf("no event within %s (so far: %q)", d, s.all.String())
			}
			return ev, false
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev.name == "" && data == nil && ev.retry == "" {
				continue
			}
			ev.data = strings.Join(data, "\n")
			return ev, true
		case strings.HasPrefix(line, ":"):
			ev.name = ":"
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = append(data, strings.TrimPrefix(line, "data: "))
		case strings.HasPrefix(line, "retry: "):
			ev.retry = strings.TrimPrefix(line, "retry: ")
		}
	}
}

// expect reads events until one named name, failing on an "end" event
// or the end of the stream unless that is what it waits for.
func (s *sseStream) expect(name string, d time.Duration) sseEvent {
	s.t.Helper()
	deadline := time.Now().Add(d)
	for {
		ev, ok := s.next(time.Until(deadline))
		switch {
		case !ok:
			s.t.Fatalf("stream ended while waiting for %q; read %q", name, s.all.String())
		case ev.name == name:
			return ev
		case ev.name == "end":
			s.t.Fatalf("stream said end (%s) while waiting for %q", ev.data, name)
		}
	}
}

// expectClosed reads until the stream ends, failing if an event named
// other than allowed arrives first.
func (s *sseStream) expectClosed(d time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(d)
	for {
		ev, ok := s.next(time.Until(deadline))
		if !ok {
			return
		}
		if ev.name != ":" && ev.name != "" {
			s.t.Fatalf("want the stream closed, got event %q: %.200s", ev.name, ev.data)
		}
	}
}

// eventWait bounds every wait for an event: generous, since the suite
// may share the machine with others; a passing test never waits it out.
const eventWait = 15 * time.Second

// waitFor polls cond for up to eventWait.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(eventWait); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLiveRevokeEndsTheRevokedStream(t *testing.T) {
	e := newEnv(t)
	base := e.listen()
	u := e.user(store.RoleClientStaff, "live@client.example")
	a := e.sessionAs(u, uaFirefox, "203.0.113.10")
	b := e.sessionAs(u, uaIPhone, "198.51.100.140")
	bID := b.currentID()

	sb := openStream(t, base, b, nil)
	if sb.status != http.StatusOK || sb.header.Get("Content-Type") != "text/event-stream; charset=utf-8" ||
		sb.header.Get("Cache-Control") != "no-store" || sb.header.Get("X-Accel-Buffering") != "no" ||
		sb.header.Get("Content-Security-Policy") == "" {
		t.Fatalf("stream response: %d %v", sb.status, sb.header)
	}
	waitFor(t, "the stream in the hub", func() bool { return e.hub.Len() == 1 })

	a.get(activeSessionsURL)
	if r := a.htmx(http.MethodPost, "/settings/active-sessions/"+bID+"/sign-out", nil); r.StatusCode != http.StatusOK {
		t.Fatalf("sign out B: %d %s", r.StatusCode, r.body)
	}
	end := sb.expect("end", eventWait)
	if end.data != "/login?reason=revoked" {
		t.Fatalf("end event data %q", end.data)
	}
	sb.expectClosed(eventWait)
	waitFor(t, "the hub to forget the stream", func() bool { return e.hub.Len() == 0 })

	// Nothing secret went down the stream: no token, no full address.
	for _, secret := range []string{b.token(), a.token(), "203.0.113.10", "198.51.100.140"} {
		if strings.Contains(sb.all.String(), secret) {
			t.Fatalf("the stream carried %q", secret)
		}
	}
	// The revoked browser, opening a stream again, is sent to sign-in.
	again := openStream(t, base, b, nil)
	if ev := again.expect("end", eventWait); ev.data != "/login?reason=revoked" {
		t.Fatalf("stream of a revoked session: end %q", ev.data)
	}
}

func TestLivePanelFollowsSignInsAndSignOuts(t *testing.T) {
	e := newEnv(t)
	base := e.listen()
	u := e.user(store.RoleClientAdmin, "panel@client.example")
	a := e.sessionAs(u, uaFirefox, "203.0.113.10")
	aID := a.currentID()
	sa := openStream(t, base, a, nil)
	waitFor(t, "the stream in the hub", func() bool { return e.hub.Len() == 1 })

	// A new sign-in: a notice, and its row after A's own.
	c := e.browser(uaChrome)
	c.headers = map[string]string{"X-Forwarded-For": "198.51.100.140"}
	c.signIn(u.Email)
	cID := c.currentID()
	notice := sa.expect("notice", eventWait)
	for _, want := range []string{"New sign-in:", "Chrome", "Not you? Sign it out", `value="notice"`,
		`hx-post="/settings/active-sessions/` + cID + `/sign-out"`, `href="/settings?section=password"`, "data-dismiss"} {
		if !strings.Contains(notice.data, want) {
			t.Errorf("notice lacks %q: %s", want, notice.data)
		}
	}
	added := sa.expect("sessions", eventWait)
	for _, want := range []string{`hx-swap-oob="afterend:#session-` + aID + `"`, `id="session-` + cID + `"`,
		"This signs out 1 other session.", "New sign-in: Chrome"} {
		if !strings.Contains(added.data, want) {
			t.Errorf("sessions event lacks %q: %s", want, added.data)
		}
	}

	// "Not you? Sign it out" from the notice: 204 with an announcement;
	// the stream then marks the row signed out in place.
	a.get(activeSessionsURL)
	r := a.do(http.MethodPost, "/settings/active-sessions/"+cID+"/sign-out", url.Values{"from": {"notice"}, csrfField: {a.csrf()}},
		map[string]string{"HX-Request": "true"})
	if r.StatusCode != http.StatusNoContent || !strings.Contains(r.header(hxTrigger), "Signed out Chrome") {
		t.Fatalf("sign out from the notice: %d %q %s", r.StatusCode, r.header(hxTrigger), r.body)
	}
	ended := sa.expect("sessions", eventWait)
	for _, want := range []string{`id="session-` + cID + `" hx-swap-oob="true"`, "is-ended", "Signed out",
		"No other sessions.", "Signed out Chrome"} {
		if !strings.Contains(ended.data, want) {
			t.Errorf("sessions event lacks %q: %s", want, ended.data)
		}
	}
	if strings.Contains(ended.data, "notice") {
		t.Errorf("a sign-out raised a notice: %s", ended.data)
	}
}

// A page left open does not keep its session alive: with the stream open
// and nothing else, the session expires at its idle timeout and the
// stream sends the browser to sign-in at that moment.
func TestLiveStreamIsNotActivity(t *testing.T) {
	e := newEnvAt(t, time.Now, store.Policy{IdleTimeout: 3 * time.Second, MaxLifetime: time.Hour}, nil)
	base := e.listen()
	u := e.user(store.RoleClientStaff, "idle@client.example")
	b := e.sessionAs(u, uaFirefox, "203.0.113.10")
	start := time.Now()
	s := openStream(t, base, b, nil)
	end := s.expect("end", eventWait)
	if end.data != "/login?reason=idle" {
		t.Fatalf("end %q, want the idle reason", end.data)
	}
	if waited := time.Since(start); waited < 2900*time.Millisecond {
		t.Fatalf("ended after %s, before the idle timeout", waited)
	}
	if r := b.get(activeSessionsURL); r.StatusCode != http.StatusSeeOther || r.header("Location") != "/login?reason=idle" {
		t.Fatalf("the idle session still works: %d %q", r.StatusCode, r.header("Location"))
	}

	// A session in use keeps its stream: the stream's timer finds it live
	// and looks again later.
	c := e.sessionAs(u, uaChrome, "203.0.113.10")
	openStream(t, base, c, nil)
	for range 9 {
		time.Sleep(500 * time.Millisecond)
		if r := c.get(activeSessionsURL); r.StatusCode != http.StatusOK {
			t.Fatalf("the session in use ended: %d", r.StatusCode)
		}
	}
	if e.hub.Len() != 1 {
		t.Fatalf("hub holds %d streams, want the one in use", e.hub.Len())
	}
}

// Re-checking a stream is not activity either: a stream re-checked again
// and again (each new sign-in of its user wakes it) while the idle clock
// runs still ends at the idle timeout, with the idle reason. A re-check
// that moved last-active (Authenticate, not Peek) would keep the session
// alive for as long as its user's sessions kept changing.
func TestLiveRecheckIsNotActivity(t *testing.T) {
	e := newEnv(t) // idle timeout 12 h, on the settable clock
	base := e.listen()
	u := e.user(store.RoleClientStaff, "recheck@client.example")
	b := e.sessionAs(u, uaFirefox, "203.0.113.10")
	s := openStream(t, base, b, nil)
	waitFor(t, "the stream in the hub", func() bool { return e.hub.Len() == 1 })

	// Re-checks at 5 h and 10 h find the session live; at 15 h, past the
	// idle timeout from its last use (the sign-in), it has ended.
	for i, live := range []bool{true, true, false} {
		e.clock.Advance(5 * time.Hour)
		other := e.sessionAs(u, uaChrome, "198.51.100.140") // wakes the stream: a re-check
		var ev sseEvent
		for ev.name != "notice" && ev.name != "end" {
			var ok bool
			if ev, ok = s.next(eventWait); !ok {
				t.Fatalf("re-check %d: the stream closed without an event; read %q", i+1, s.all.String())
			}
		}
		switch {
		case live && ev.name != "notice":
			t.Fatalf("re-check %d, %d h after the sign-in: %q (%s), want the new sign-in's notice", i+1, 5*(i+1), ev.name, ev.data)
		case live && !strings.Contains(ev.data, other.currentID()):
			t.Fatalf("re-check %d: a notice for another session: %s", i+1, ev.data)
		case !live && ev.name != "end":
			t.Fatalf("re-check %d, %d h after the sign-in and past the %s idle timeout: the stream is still live (%q): "+
				"its re-checks counted as activity", i+1, 5*(i+1), e.st.Policy().IdleTimeout, ev.name)
		case !live && ev.data != "/login?reason=idle":
			t.Fatalf("end %q, want the idle reason", ev.data)
		}
	}
	s.expectClosed(eventWait)
	if r := b.get(activeSessionsURL); r.StatusCode != http.StatusSeeOther || r.header("Location") != "/login?reason=idle" {
		t.Fatalf("the session outlived its idle timeout: %d %q", r.StatusCode, r.header("Location"))
	}
}

func TestLiveRefusesWhatIsNotALiveSession(t *testing.T) {
	e := newEnv(t)
	base := e.listen()
	u := e.user(store.RoleClientStaff, "refused@client.example")
	b := e.sessionAs(u, uaFirefox, "203.0.113.10")
	other := e.sessionAs(u, uaChrome, "203.0.113.10")
	if _, err := e.st.RevokeUserSession(u.ID, other.currentID(), store.ReasonRevoked); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		b       *browser
		hdr     map[string]string
		status  int
		wantEnd string
	}{
		{name: "no cookie", status: http.StatusOK, wantEnd: "/login"},
		{name: "unknown token", b: &browser{cookies: map[string]string{sessionCookie: strings.Repeat("x", 43)}}, status: http.StatusOK, wantEnd: "/login"},
		{name: "revoked session", b: other, status: http.StatusOK, wantEnd: "/login?reason=revoked"},
		{name: "from another site", b: b, hdr: map[string]string{"Sec-Fetch-Site": "cross-site"}, status: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStream(t, base, tt.b, tt.hdr)
			if s.status != tt.status {
				t.Fatalf("status %d, want %d", s.status, tt.status)
			}
			if tt.wantEnd == "" {
				return
			}
			if ev := s.expect("end", eventWait); ev.data != tt.wantEnd {
				t.Fatalf("end %q, want %q", ev.data, tt.wantEnd)
			}
		})
	}
	if e.hub.Len() != 0 {
		t.Fatalf("refused streams left %d in the hub", e.hub.Len())
	}
}

func TestLivePasswordChangeEndsStreams(t *testing.T) {
	e := newEnv(t)
	base := e.listen()
	u := e.user(store.RoleClientAdmin, "pw@client.example")
	keep := e.sessionAs(u, uaFirefox, "203.0.113.10")
	other := e.sessionAs(u, uaChrome, "203.0.113.10")
	sk := openStream(t, base, keep, nil)
	so := openStream(t, base, other, nil)
	waitFor(t, "both streams", func() bool { return e.hub.Len() == 2 })
	keep.get("/settings?section=password")
	r := keep.post("/settings/password", url.Values{"current_password": {testPassword}, "new_password": {"a new long passphrase"}, "sign_out_others": {"on"}})
	if r.StatusCode != http.StatusSeeOther && r.StatusCode != http.StatusOK {
		t.Fatalf("password change: %d %s", r.StatusCode, r.body)
	}
	if ev := so.expect("end", eventWait); ev.data != "/login?reason=password_changed" {
		t.Fatalf("other session's stream: end %q", ev.data)
	}
	// The session that changed the password stays signed in, but its
	// stream, opened before, ends and is opened afresh.
	sk.expectClosed(eventWait)
	openStream(t, base, keep, nil)
	waitFor(t, "the new stream", func() bool { return e.hub.Len() == 1 })
}

func TestLiveCapsAndShutdown(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LiveHeartbeat = 50 * time.Millisecond })
	base := e.listen()
	u := e.user(store.RoleClientStaff, "cap@client.example")
	b := e.sessionAs(u, uaFirefox, "203.0.113.10")

	// Heartbeats while nothing happens.
	s1 := openStream(t, base, b, nil)
	if ev, _ := s1.next(eventWait); ev.retry == "" {
		t.Fatalf("want the retry interval first, got %+v", ev)
	}
	if ev, _ := s1.next(eventWait); ev.name != ":" {
		t.Fatalf("want a heartbeat, got %+v", ev)
	}
	// Beyond the per-user cap (10) the oldest stream closes.
	var more []*sseStream
	for range 10 {
		more = append(more, openStream(t, base, b, nil))
	}
	s1.expectClosed(eventWait)
	waitFor(t, "ten streams", func() bool { return e.hub.Len() == 10 })

	// A peer that goes away is dropped at the next heartbeat.
	more[0].conn.Close()
	waitFor(t, "the dead peer's stream to go", func() bool { return e.hub.Len() == 9 })

	// Shutdown closes every stream at once and does not wait for them.
	e.hub.Close()
	for _, s := range more[1:] {
		s.expectClosed(eventWait)
	}
	start := time.Now()
	if err := e.app.ShutdownWithTimeout(5 * time.Second); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("shutdown took %s", d)
	}
}

// Without a hub, pages do not open a stream and /events does not exist.
func TestLiveOff(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Live = nil })
	u := e.user(store.RoleClientStaff, "off@client.example")
	b := e.sessionAs(u, uaFirefox, "203.0.113.10")
	page := b.get(activeSessionsURL).body
	for _, s := range []string{"sse-connect", "live.js", "sse.min.js", "live-notices"} {
		if strings.Contains(page, s) {
			t.Errorf("page without live updates mentions %q", s)
		}
	}
	if r := b.get(eventsURL); r.StatusCode != http.StatusNotFound {
		t.Fatalf("/events without live updates: %d", r.StatusCode)
	}
}

// A stream catches up from what its page has seen (the page's render
// time, or the last event id after a reconnect): rows that ended and
// sign-ins that happened meanwhile, and nothing from before.
func TestLiveCatchesUp(t *testing.T) {
	e := newEnv(t)
	base := e.listen()
	u := e.user(store.RoleClientAdmin, "catchup@client.example")
	a := e.sessionAs(u, uaFirefox, "203.0.113.10")
	old := e.sessionAs(u, uaChrome, "203.0.113.10")
	oldID := old.currentID()
	if _, err := e.st.RevokeUserSession(u.ID, oldID, store.ReasonRevoked); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	since := e.clock.Now().UnixMilli()
	page := a.get(activeSessionsURL).body
	if want := `data-live-since="` + strconv.FormatInt(since, 10) + `"`; !strings.Contains(page, want) {
		t.Fatalf("page lacks %s", want)
	}
	e.clock.Advance(time.Second)
	gone := e.sessionAs(u, uaIPhone, "198.51.100.140")
	goneID := gone.currentID()
	if _, err := e.st.RevokeUserSession(u.ID, goneID, store.ReasonRevoked); err != nil {
		t.Fatal(err)
	}
	fresh := e.sessionAs(u, uaChrome, "198.51.100.140")
	freshID := fresh.currentID()

	for _, tc := range []struct {
		name string
		hdr  map[string]string
		path string
	}{
		{name: "first connect, since the render", path: "?since=" + strconv.FormatInt(since, 10)},
		{name: "reconnect, from Last-Event-ID", hdr: map[string]string{"Last-Event-ID": strconv.FormatInt(since, 10)}, path: "?since=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStreamAt(t, base, eventsURL+tc.path, a, tc.hdr)
			notice := s.expect("notice", eventWait)
			if !strings.Contains(notice.data, freshID) {
				t.Fatalf("notice is not for the fresh sign-in: %s", notice.data)
			}
			ev := s.expect("sessions", eventWait)
			for _, want := range []string{`id="session-` + goneID + `" hx-swap-oob="true"`, `id="session-` + freshID + `"`} {
				if !strings.Contains(ev.data, want) {
					t.Errorf("catch-up lacks %q", want)
				}
			}
			if strings.Contains(ev.data, oldID) {
				t.Errorf("catch-up repeats a session that ended before the page: %s", ev.data)
			}
		})
	}
}

// A peer that stops reading is dropped once a write has waited the stall
// time, so its goroutine and buffers do not stay behind.
func TestLiveDropsAStalledPeer(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LiveWriteStall = 200 * time.Millisecond })
	base := e.listen()
	u := e.user(store.RoleClientStaff, "stall@client.example")
	b := e.sessionAs(u, uaFirefox, "203.0.113.10")
	conn := openSilentStream(t, e, base, b, 2048)
	defer conn.Close()
	floodUntilDropped(t, e, u, b.currentID(), nil)
}

// openSilentStream opens b's stream on a raw socket that never reads,
// with receive buffer rcvbuf (0 for the system's), and waits for the
// stream to be in the hub.
func openSilentStream(t *testing.T, e *env, base string, b *browser, rcvbuf int) net.Conn {
	t.Helper()
	uu, _ := url.Parse(base)
	var d net.Dialer
	if rcvbuf > 0 {
		d.Control = func(_, _ string, c syscall.RawConn) error {
			return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf) })
		}
	}
	conn, err := d.Dial("tcp", uu.Host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /events HTTP/1.1\r\nHost: %s\r\nCookie: %s=%s\r\nSec-Fetch-Site: same-origin\r\n\r\n", uu.Host, sessionCookie, b.token())
	waitFor(t, "the stream in the hub", func() bool { return e.hub.Len() == 1 })
	return conn
}

// floodUntilDropped sends the hub's only stream, user u's, rounds of 90
// sign-ins and "sign out all other devices" (keeping session keep):
// notices and rows, megabytes, until the stream is dropped. each, if not
// nil, runs after every round. It fails after 40 rounds or eventWait.
func floodUntilDropped(t *testing.T, e *env, u store.User, keep string, each func()) {
	t.Helper()
	deadline := time.Now().Add(eventWait)
	for round := 0; e.hub.Len() > 0; round++ {
		if round == 40 || time.Now().After(deadline) {
			t.Fatalf("the stream was not dropped after %d rounds of updates its peer never read", round)
		}
		batch := make([]store.SessionFor, 90)
		for i := range batch {
			batch[i] = store.SessionFor{UserID: u.ID, NewSession: store.SignIn(uaChrome, e.geo.Place(netip.MustParseAddr("198.51.100.140")))}
		}
		if _, _, err := e.st.CreateSessions(batch); err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.RevokeOtherSessions(u.ID, keep, store.ReasonRevokedAll); err != nil {
			t.Fatal(err)
		}
		if each != nil {
			each()
		}
		time.Sleep(50 * time.Millisecond) // a pace, not a wait: the loop checks the hub
	}
}

// Beyond the global cap a new stream is asked to come back later (a retry
// interval, then the end of the response), never a 5xx.
func TestLiveGlobalCapAsksToComeBack(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Live = live.NewHub(live.Options{MaxTotal: 1}) })
	base := e.listen()
	first := e.sessionAs(e.user(store.RoleClientStaff, "first@client.example"), uaFirefox, "203.0.113.10")
	second := e.sessionAs(e.user(store.RoleClientStaff, "second@client.example"), uaChrome, "203.0.113.10")
	openStream(t, base, first, nil)
	waitFor(t, "the first stream", func() bool { return e.cfg.Live.Len() == 1 })
	s := openStream(t, base, second, nil)
	if s.status != http.StatusOK {
		t.Fatalf("a stream beyond the cap: status %d, want 200 with a retry interval", s.status)
	}
	ev, ok := s.next(eventWait)
	if !ok || ev.retry == "" {
		t.Fatalf("a stream beyond the cap: %+v, want a retry interval", ev)
	}
	if ms, err := strconv.Atoi(ev.retry); err != nil || ms < retryFull {
		t.Fatalf("retry %q, want at least %d ms", ev.retry, retryFull)
	}
	s.expectClosed(eventWait)
}
