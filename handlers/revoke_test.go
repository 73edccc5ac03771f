package handlers

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"portal/store"
)

func TestCannotRevokeCurrentSession(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	b := e.browser(uaFirefox)
	b.signIn("s@example.com")
	for _, htmx := range []bool{false, true} {
		var r resp
		if htmx {
			r = b.htmx("POST", "/settings/active-sessions/"+b.currentID()+"/sign-out", nil)
		} else {
			r = b.post("/settings/active-sessions/"+b.currentID()+"/sign-out", nil)
		}
		if r.StatusCode != http.StatusBadRequest {
			t.Fatalf("htmx=%v: revoking the current session gave %d, want 400", htmx, r.StatusCode)
		}
		if _, _, err := e.st.Authenticate(b.token()); err != nil {
			t.Fatalf("current session ended: %v", err)
		}
	}
}

func TestRevokeIsScopedToOwner(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientAdmin, "admin@example.com")
	victim := e.user(store.RoleClientStaff, "victim@example.com")
	// Same account as the admin: even a Client Admin cannot revoke a
	// colleague's session.
	if _, err := e.st.CreateUser(store.NewUser{AccountID: victim.AccountID, Email: "colleague@example.com", Name: "C", Role: store.RoleClientAdmin, PasswordHash: passwordHash()}); err != nil {
		t.Fatal(err)
	}
	v := e.browser(uaChrome)
	v.signIn("victim@example.com")
	for _, attacker := range []string{"admin@example.com", "colleague@example.com"} {
		a := e.browser(uaFirefox)
		a.signIn(attacker)
		for _, htmx := range []bool{false, true} {
			target := "/settings/active-sessions/" + v.currentID() + "/sign-out"
			var r resp
			if htmx {
				r = a.htmx("POST", target, nil)
			} else {
				r = a.post(target, nil)
			}
			if r.StatusCode != http.StatusNotFound {
				t.Fatalf("%s revoking another user's session: %d, want 404", attacker, r.StatusCode)
			}
		}
		if _, _, err := e.st.Authenticate(v.token()); err != nil {
			t.Fatalf("victim's session ended: %v", err)
		}
	}
}

func TestSignOutAllOthers(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientManager, "m@example.com")
	me := e.browser(uaFirefox)
	others := []*browser{e.browser(uaChrome), e.browser(uaIPhone), e.browser(uaChrome)}
	for _, o := range others {
		o.signIn("m@example.com")
	}
	me.signIn("m@example.com")

	// Without JavaScript: a confirmation page first.
	conf := me.get("/settings/active-sessions/sign-out-others")
	if conf.StatusCode != http.StatusOK || !strings.Contains(conf.body, "This signs out 3 other sessions.") || !strings.Contains(conf.body, `method="post" action="/settings/active-sessions/sign-out-others"`) {
		t.Fatalf("confirmation page: %d %.300s", conf.StatusCode, conf.body)
	}
	if n := len(me.rowIDs()); n != 4 {
		t.Fatalf("showing the confirmation changed something: %d rows", n)
	}

	r := me.htmx("POST", "/settings/active-sessions/sign-out-others", nil)
	if r.StatusCode != http.StatusOK || strings.Contains(r.body, "<html") || !strings.Contains(r.body, "Signed out 3 other sessions.") {
		t.Fatalf("htmx sign-out-all: %d %.300s", r.StatusCode, r.body)
	}
	if strings.Contains(r.body, "Sign out all other devices</button>") {
		t.Fatal("the button is still offered with no other sessions")
	}
	for _, o := range others {
		if _, _, err := e.st.Authenticate(o.token()); err == nil {
			t.Fatal("another session survived sign-out-all")
		}
	}
	if ids := me.rowIDs(); len(ids) != 1 || ids[0] != me.currentID() {
		t.Fatalf("rows after sign-out-all: %v", ids)
	}
	// With nothing left to sign out, the confirmation page sends you back.
	if r := me.get("/settings/active-sessions/sign-out-others"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirmation with no others: %d, want 303", r.StatusCode)
	}
}

func TestSignOutAllOthersPlainForm(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	me, other := e.browser(uaFirefox), e.browser(uaChrome)
	other.signIn("s@example.com")
	me.signIn("s@example.com")
	me.get("/settings/active-sessions/sign-out-others")
	r := me.post("/settings/active-sessions/sign-out-others", nil)
	if r.StatusCode != http.StatusSeeOther || r.header("Location") != activeSessionsURL {
		t.Fatalf("plain sign-out-all: %d %q", r.StatusCode, r.header("Location"))
	}
	if page := me.get(activeSessionsURL); !strings.Contains(page.body, "Signed out 1 other session.") {
		t.Fatal("no confirmation message after plain sign-out-all")
	}
}

// TestEndedSessionIsSentToSignIn covers every way a session ends: the next
// request from that browser, full page or htmx, goes to sign-in with the
// reason, and the sign-in page says it in a sentence.
func TestEndedSessionIsSentToSignIn(t *testing.T) {
	tests := []struct {
		name   string
		end    func(e *env, me, victim *browser)
		reason store.Reason
		text   string
	}{
		{"signed out from another session", func(e *env, me, v *browser) {
			me.htmx("POST", "/settings/active-sessions/"+v.currentID()+"/sign-out", nil)
		}, store.ReasonRevoked, "You were signed out from another session."},
		{"sign out all other devices", func(e *env, me, v *browser) {
			me.htmx("POST", "/settings/active-sessions/sign-out-others", nil)
		}, store.ReasonRevokedAll, "all other devices were signed out"},
		{"idle timeout", func(e *env, me, v *browser) {
			e.clock.Advance(12*time.Hour + time.Second)
		}, store.ReasonIdle, "expired after 12 hours of inactivity"},
		{"maximum lifetime", func(e *env, me, v *browser) {
			for i := 0; i < 31; i++ { // stay active every 11 hours, past 14 days
				e.clock.Advance(11 * time.Hour)
				if _, _, err := e.st.Authenticate(v.token()); err != nil {
					break
				}
			}
		}, store.ReasonLifetime, "maximum lifetime of 14 days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.user(store.RoleClientStaff, "s@example.com")
			me, v := e.browser(uaFirefox), e.browser(uaChrome)
			v.signIn("s@example.com")
			me.signIn("s@example.com")
			token := v.token()
			tt.end(e, me, v)
			want := "/login?reason=" + string(tt.reason)
			replay := func() *browser {
				b := e.browser(uaChrome)
				b.cookies[sessionCookie] = token
				b.last = v.last
				return b
			}
			if r := replay().get(activeSessionsURL); r.StatusCode != http.StatusSeeOther || r.header("Location") != want {
				t.Fatalf("full page: %d %q, want 303 %q", r.StatusCode, r.header("Location"), want)
			}
			r := replay().do("GET", activeSessionsURL, nil, map[string]string{"HX-Request": "true"})
			if r.header("HX-Redirect") != want || strings.Contains(r.body, "<form") {
				t.Fatalf("htmx: HX-Redirect %q body %.100q, want %q and no login page in the fragment", r.header("HX-Redirect"), r.body, want)
			}
			b := replay()
			if r := b.post("/settings/active-sessions/sign-out-others", nil); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.header("Location"), "/login") {
				t.Fatalf("POST with ended session: %d", r.StatusCode)
			}
			if page := e.browser("").get(want); !strings.Contains(page.body, tt.text) {
				t.Fatalf("sign-in page does not say %q", tt.text)
			}
		})
	}
}

func TestMalformedInput(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	b := e.browser(uaFirefox)
	b.signIn("s@example.com")
	for _, id := range []string{"x", strings.Repeat("A", 32), strings.Repeat("g", 32), strings.Repeat("a", 33), "..%2f..%2fetc", "%00"} {
		r := b.post("/settings/active-sessions/"+id+"/sign-out", nil)
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("id %q: %d, want 404", id, r.StatusCode)
		}
	}
	// Missing form fields.
	b.get("/login")
	anon := e.browser(uaFirefox)
	anon.get("/login")
	for _, form := range []url.Values{{}, {"email": {"s@example.com"}}, {"password": {"x"}}, {"email": {strings.Repeat("a", 300)}, "password": {"x"}}, {"email": {"a"}, "password": {strings.Repeat("p", 2000)}}} {
		r := anon.post("/login", form)
		if r.StatusCode != http.StatusBadRequest {
			t.Errorf("login form %v: %d, want 400", form, r.StatusCode)
		}
	}
	// A huge body is refused before it is read, over a real socket. Only
	// the headers are sent: the answer must come without the body. (A
	// client that sent the body too could see the connection reset under
	// it, closed with the body unread, before it read the 413.)
	base := e.listen()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // a server waiting for the body fails, not hangs
	fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: portal\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\nemail=", 64<<10)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("huge body: %d, want 413", res.StatusCode)
	}
	if strings.Contains(e.logs.String(), "level=ERROR") {
		t.Fatalf("bad input logged an error:\n%s", e.logs.String())
	}
}

func TestNoWritePerRequest(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	b := e.browser(uaFirefox)
	b.signIn("s@example.com")
	before := e.st.WriteTxCount()
	for i := 0; i < 50; i++ {
		e.clock.Advance(time.Second)
		if r := b.get(activeSessionsURL); r.StatusCode != http.StatusOK {
			t.Fatal(r.StatusCode)
		}
	}
	if got := e.st.WriteTxCount() - before; got != 0 {
		t.Fatalf("%d write transactions for 50 page views, want 0", got)
	}
	if _, err := e.st.FlushLastActive(); err != nil {
		t.Fatal(err)
	}
	s, err := e.st.UserSession(mustUserID(t, e, "s@example.com"), b.currentID())
	if err != nil || !s.LastActive.Equal(e.clock.Now()) {
		t.Fatalf("last active after flush = %v, want %v (%v)", s.LastActive, e.clock.Now(), err)
	}
}

func mustUserID(t *testing.T, e *env, email string) string {
	u, err := e.st.UserByEmail(email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}
