package handlers

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"portal/store"
)

// The tests here are named after the items of the security issue, so each
// promise in the README's Security section can be traced to its test.

func TestSecurity_TokensDistinct(t *testing.T) {
	e := newEnv(t)
	u := e.user(store.RoleClientStaff, "s@example.com")
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		_, tok, err := e.st.CreateSession(u.ID, store.NewSession{})
		if err != nil {
			t.Fatal(err)
		}
		if seen[tok] {
			t.Fatalf("token repeated after %d sign-ins", i)
		}
		seen[tok] = true
	}
	// No structure: every base64 position takes many values across tokens.
	for pos := 0; pos < 42; pos++ {
		vals := map[byte]bool{}
		for tok := range seen {
			vals[tok[pos]] = true
		}
		if len(vals) < 40 {
			t.Fatalf("position %d takes only %d values over 1000 tokens", pos, len(vals))
		}
	}
}

func TestSecurity_CookieFlags(t *testing.T) {
	tests := []struct {
		name       string
		secure     bool
		wantName   string
		wantSecure bool
	}{
		{"plain http", false, sessionCookie, false},
		{"-secure-cookies", true, secureSessionCookie, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.SecureCookies = tt.secure })
			e.user(store.RoleClientStaff, "s@example.com")
			b := e.browser(uaFirefox)
			b.get("/login")
			r := b.post("/login", url.Values{"email": {"s@example.com"}, "password": {testPassword}})
			var got *http.Cookie
			for _, c := range r.Cookies() {
				if c.Name == tt.wantName {
					got = c
				}
			}
			if got == nil {
				t.Fatalf("no %s cookie in %v", tt.wantName, r.Header.Values("Set-Cookie"))
			}
			raw := strings.Join(r.Header.Values("Set-Cookie"), "\n")
			if !got.HttpOnly || got.SameSite != http.SameSiteLaxMode || got.Path != "/" || got.Domain != "" || got.Secure != tt.wantSecure {
				t.Fatalf("cookie flags wrong: %s", raw)
			}
			if r.header("Cache-Control") != "no-store" {
				t.Fatal("a response setting the session cookie may be cached")
			}
			if r := b.get(activeSessionsURL); r.StatusCode != http.StatusOK {
				t.Fatalf("the cookie does not authenticate: %d", r.StatusCode)
			}
		})
	}
}

func TestSecurity_SecureBehindTrustedHTTPSProxy(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/32")} })
	b := e.browser(uaFirefox)
	r := b.do("GET", "/login", nil, map[string]string{"X-Forwarded-Proto": "https"})
	if !strings.Contains(strings.Join(r.Header.Values("Set-Cookie"), ";"), "secure") {
		t.Fatalf("behind a trusted https proxy cookies must be Secure: %v", r.Header.Values("Set-Cookie"))
	}
	// The same header from an untrusted peer changes nothing.
	e2 := newEnv(t)
	r = e2.browser(uaFirefox).do("GET", "/login", nil, map[string]string{"X-Forwarded-Proto": "https"})
	if strings.Contains(strings.ToLower(strings.Join(r.Header.Values("Set-Cookie"), ";")), "secure") {
		t.Fatal("an untrusted X-Forwarded-Proto made cookies Secure")
	}
}

func TestSecurity_OnlyTheCookieAuthenticates(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	b := e.browser(uaFirefox)
	b.signIn("s@example.com")
	token := b.token()
	anon := e.browser(uaFirefox)
	for _, r := range []resp{
		anon.get(activeSessionsURL + "&" + sessionCookie + "=" + token),
		anon.get(activeSessionsURL + "&token=" + token),
		anon.do("GET", activeSessionsURL, nil, map[string]string{"Authorization": "Bearer " + token}),
		anon.do("GET", activeSessionsURL, nil, map[string]string{"X-Session-Token": token}),
	} {
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("a token outside the cookie was accepted: %d", r.StatusCode)
		}
	}
}

func TestSecurity_NoFixation(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	b := e.browser(uaFirefox)
	planted := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" // 43 chars, like a real token
	b.cookies[sessionCookie] = planted
	before := e.st.WriteTxCount()
	if r := b.get(activeSessionsURL); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("a made-up cookie was accepted: %d", r.StatusCode)
	}
	if e.st.WriteTxCount() != before {
		t.Fatal("a made-up cookie caused a write")
	}
	b.cookies[sessionCookie] = planted
	b.signIn("s@example.com")
	first := b.token()
	if first == planted || first == "" {
		t.Fatal("sign-in kept the cookie the browser brought")
	}
	if _, _, err := e.st.Authenticate(planted); err == nil {
		t.Fatal("the planted cookie became a session")
	}
	delete(b.cookies, sessionCookie) // sign in again, as after closing the browser
	b.signIn("s@example.com")
	if b.token() == first {
		t.Fatal("a second sign-in reused the token")
	}
}

func TestSecurity_NoStoreOnSessionPages(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	b := e.browser(uaFirefox)
	b.signIn("s@example.com")
	for _, path := range []string{activeSessionsURL, "/settings", "/settings?section=password", "/login"} {
		if r := b.get(path); r.header("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", path, r.header("Cache-Control"))
		}
	}
	if r := b.htmx("GET", activeSessionsURL, nil); r.header("Cache-Control") != "no-store" {
		t.Error("htmx fragment may be cached")
	}
}

func TestSecurity_ReplayAfterSignOut(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	b := e.browser(uaFirefox)
	b.signIn("s@example.com")
	token, page := b.token(), b.last
	b.post("/logout", nil)
	// A plain HTTP client ignores the cookie's expiry: send it every time.
	replay := func() *browser {
		r := e.browser(uaFirefox)
		r.cookies[sessionCookie], r.last = token, page
		return r
	}
	checks := []resp{
		replay().get(activeSessionsURL),
		replay().do("GET", activeSessionsURL, nil, map[string]string{"HX-Request": "true"}),
		replay().post("/settings/active-sessions/sign-out-others", nil),
		replay().post("/logout", nil),
	}
	for i, r := range checks {
		if r.header("Location") != "/login?reason=signed_out" && r.header("HX-Redirect") != "/login?reason=signed_out" {
			t.Errorf("replay %d after sign-out: %d %q %q", i, r.StatusCode, r.header("Location"), r.header("HX-Redirect"))
		}
	}
}

// TestSecurity_NoResurrection races requests of a session against its
// revocation and the last-active flush: the session must stay revoked.
func TestSecurity_NoResurrection(t *testing.T) {
	e := newEnv(t)
	u := e.user(store.RoleClientStaff, "s@example.com")
	for round := 0; round < 20; round++ {
		victim := e.browser(uaChrome)
		victim.signIn("s@example.com")
		id := victim.currentID()
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 10; i++ {
					victim.e.app.Test(requestWithCookie(activeSessionsURL, victim.token()), -1)
					e.st.FlushLastActive()
				}
			}()
		}
		if _, err := e.st.RevokeUserSession(u.ID, id, store.ReasonRevoked); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		e.st.FlushLastActive()
		if _, _, err := e.st.Authenticate(victim.token()); err == nil {
			t.Fatalf("round %d: a revoked session validates again", round)
		}
		s, err := e.st.UserSession(u.ID, id)
		if err != nil || s.EndedAt.IsZero() || s.EndReason != store.ReasonRevoked {
			t.Fatalf("round %d: revoked session resurrected: %+v %v", round, s, err)
		}
	}
}

func requestWithCookie(target, token string) *http.Request {
	r, _ := http.NewRequest("GET", target, nil)
	r.AddCookie(&http.Cookie{Name: sessionCookie, Value: token})
	return r
}

func TestSecurity_GetOnStateChangingRoutes(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	me, other := e.browser(uaFirefox), e.browser(uaChrome)
	other.signIn("s@example.com")
	me.signIn("s@example.com")
	before := e.st.WriteTxCount()
	for _, path := range []string{"/logout", "/settings/active-sessions/" + other.currentID() + "/sign-out", "/settings/password"} {
		if r := me.get(path); r.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET %s: %d, want 405", path, r.StatusCode)
		}
	}
	if e.st.WriteTxCount() != before {
		t.Fatal("a GET changed the database")
	}
	for _, b := range []*browser{me, other} {
		if _, _, err := e.st.Authenticate(b.token()); err != nil {
			t.Fatal("a GET ended a session")
		}
	}
}

func TestSecurity_PasswordChange(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	me, other := e.browser(uaFirefox), e.browser(uaChrome)
	other.signIn("s@example.com")
	me.signIn("s@example.com")
	page := me.get("/settings?section=password")
	if !strings.Contains(page.body, `name="sign_out_others" value="1" checked`) {
		t.Fatal("Sign out all other devices is not offered, checked, on the password form")
	}
	r := me.post("/settings/password", url.Values{"current_password": {"wrong"}, "new_password": {"a brand new password"}, "sign_out_others": {"1"}})
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.body, "current password is incorrect") {
		t.Fatalf("wrong current password: %d", r.StatusCode)
	}
	r = me.post("/settings/password", url.Values{"current_password": {testPassword}, "new_password": {"short"}, "sign_out_others": {"1"}})
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.body, "at least 12 characters") {
		t.Fatalf("weak new password: %d", r.StatusCode)
	}
	if _, _, err := e.st.Authenticate(other.token()); err != nil {
		t.Fatal("a refused password change ended sessions")
	}
	r = me.post("/settings/password", url.Values{"current_password": {testPassword}, "new_password": {"a brand new password"}, "sign_out_others": {"1"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("password change: %d %.200s", r.StatusCode, r.body)
	}
	if p := me.get("/settings?section=password"); !strings.Contains(p.body, "Your password was changed. Signed out 1 other session.") {
		t.Fatal("no confirmation of the change")
	}
	if _, _, err := e.st.Authenticate(me.token()); err != nil {
		t.Fatal("changing the password ended the current session")
	}
	var ended *store.EndedError
	if _, _, err := e.st.Authenticate(other.token()); !errorsAs(err, &ended) || ended.Reason != store.ReasonPasswordChanged {
		t.Fatalf("other session after password change: %v", err)
	}
	fresh := e.browser(uaIPhone)
	fresh.get("/login")
	if r := fresh.post("/login", url.Values{"email": {"s@example.com"}, "password": {"a brand new password"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatal("the new password does not work")
	}
}

func TestSecurity_DisableUserEndsSessions(t *testing.T) {
	e := newEnv(t)
	u := e.user(store.RoleClientStaff, "s@example.com")
	b := e.browser(uaFirefox)
	b.signIn("s@example.com")
	if _, err := e.st.SetUserDisabled(u.ID, true); err != nil {
		t.Fatal(err)
	}
	if r := b.get(activeSessionsURL); r.header("Location") != "/login?reason=user_disabled" {
		t.Fatalf("disabled user's session: %d %q", r.StatusCode, r.header("Location"))
	}
	again := e.browser(uaFirefox)
	again.get("/login")
	if r := again.post("/login", url.Values{"email": {"s@example.com"}, "password": {testPassword}}); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a disabled user signed in: %d", r.StatusCode)
	}
}

func TestSecurity_CSRF(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	e.user(store.RoleClientStaff, "other@example.com")
	me, mine, stranger := e.browser(uaFirefox), e.browser(uaChrome), e.browser(uaIPhone)
	mine.signIn("s@example.com")
	stranger.signIn("other@example.com")
	anon := e.browser(uaFirefox)
	anon.get("/login")
	loginToken := anon.csrf()
	me.signIn("s@example.com")
	target := "/settings/active-sessions/" + mine.currentID() + "/sign-out"
	tests := []struct {
		name  string
		token string
		hdr   map[string]string
	}{
		{"missing", "", nil},
		{"wrong", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", nil},
		{"another user's", stranger.csrf(), nil},
		{"from before sign-in", loginToken, nil},
		{"huge", strings.Repeat("A", 5000), nil},
		{"right token, cross-site", me.csrf(), map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"right token, same-site sibling", me.csrf(), map[string]string{"Sec-Fetch-Site": "same-site"}},
		{"right token, foreign Origin", me.csrf(), map[string]string{"Sec-Fetch-Site": "", "Origin": "https://evil.example"}},
		{"right token, foreign Referer", me.csrf(), map[string]string{"Sec-Fetch-Site": "", "Referer": "https://evil.example/x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.st.WriteTxCount()
			for _, htmx := range []bool{false, true} {
				hdr := map[string]string{}
				for k, v := range tt.hdr {
					hdr[k] = v
				}
				form := url.Values{csrfField: {tt.token}}
				if htmx {
					hdr["HX-Request"], hdr[csrfHeader] = "true", tt.token
					form = url.Values{}
				}
				r := me.do("POST", target, form, hdr)
				if r.StatusCode != http.StatusForbidden {
					t.Fatalf("htmx=%v: %d, want 403", htmx, r.StatusCode)
				}
				if !strings.Contains(r.body, "Reload the page") {
					t.Fatalf("htmx=%v: the refusal does not say how to recover: %.200s", htmx, r.body)
				}
				if htmx && r.header("HX-Retarget") != "#flash" {
					t.Fatal("an htmx refusal is not shown in the flash region")
				}
			}
			if e.st.WriteTxCount() != before {
				t.Fatal("a refused request wrote to the database")
			}
			if _, _, err := e.st.Authenticate(mine.token()); err != nil {
				t.Fatal("a refused request ended the session")
			}
		})
	}
	// Same-origin requests from older browsers (no Sec-Fetch-Site) pass.
	r := me.do("POST", target, url.Values{csrfField: {me.csrf()}}, map[string]string{"Sec-Fetch-Site": "", "Origin": "http://example.com"})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("same-origin request without Sec-Fetch-Site: %d", r.StatusCode)
	}
}

func TestSecurity_LoginCSRF(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	b := e.browser(uaFirefox)
	b.get("/login")
	other := e.browser(uaFirefox)
	other.get("/login")
	for name, token := range map[string]string{"missing": "", "another browser's": other.csrf(), "garbage": "x"} {
		r := b.post("/login", url.Values{"email": {"s@example.com"}, "password": {testPassword}, csrfField: {token}})
		if r.StatusCode != http.StatusForbidden || b.token() != "" {
			t.Errorf("%s login token: %d, want 403 and no session", name, r.StatusCode)
		}
	}
	r := b.do("POST", "/login", url.Values{"email": {"s@example.com"}, "password": {testPassword}, csrfField: {b.csrf()}}, map[string]string{"Sec-Fetch-Site": "cross-site"})
	if r.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site sign-in: %d, want 403", r.StatusCode)
	}
}

func TestSecurity_Throttling(t *testing.T) {
	e := newEnv(t, trustAll)
	e.user(store.RoleClientStaff, "s@example.com")
	b := e.browser(uaFirefox)
	// Each attempt comes from another network, as a guesser spreading over
	// many addresses would, so only the account's throttle applies.
	n := 0
	try := func(pw string) resp {
		n++
		b.do("GET", "/login", nil, nil)
		return b.do("POST", "/login", url.Values{"email": {"s@example.com"}, "password": {pw}, csrfField: {b.csrf()}},
			map[string]string{"X-Forwarded-For": fmt.Sprintf("198.%d.%d.1", 51+n/250, n%250)})
	}
	for i := 0; i < accountFreeFailures; i++ {
		if r := try("wrong"); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, r.StatusCode)
		}
	}
	r := try(testPassword)
	if r.StatusCode != http.StatusTooManyRequests || !strings.Contains(r.body, "Try again in 1 second") || r.header("Retry-After") != "1" {
		t.Fatalf("after %d failures: %d %q %.200s", accountFreeFailures, r.StatusCode, r.header("Retry-After"), r.body)
	}
	e.clock.Advance(2 * time.Second)
	if r := try(testPassword); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("after waiting, the right password: %d", r.StatusCode)
	}
	// The back-off doubles but is capped at 5 minutes, so a real user is
	// never locked out for longer, and a guesser who always waits out the
	// back-off gets about two dozen tries an hour.
	delete(b.cookies, sessionCookie)
	// The loop advances the clock only on a 429: if the throttle stopped
	// counting these attempts it would spin forever, so it is bounded by
	// far more attempts than an hour of honest throttling allows.
	start, tries := e.clock.Now(), 0
	const maxAttempts = 500
	for attempts := 0; e.clock.Now().Sub(start) < time.Hour; attempts++ {
		if attempts == maxAttempts {
			t.Fatalf("%d attempts (%d checked) and the clock moved only %s: the throttle no longer holds this browser's wrong passwords back",
				attempts, tries, e.clock.Now().Sub(start))
		}
		r := try("wrong")
		switch r.StatusCode {
		case http.StatusUnauthorized:
			tries++
		case http.StatusTooManyRequests:
			wait, err := strconv.Atoi(r.header("Retry-After"))
			if err != nil || wait < 1 || wait > int(accountMaxWait/time.Second) {
				t.Fatalf("Retry-After %q, want 1 to 300 seconds", r.header("Retry-After"))
			}
			e.clock.Advance(time.Duration(wait) * time.Second)
		default:
			t.Fatalf("status %d", r.StatusCode)
		}
	}
	t.Logf("%d guesses in the hour", tries)
	if tries < 15 || tries > 25 {
		t.Fatalf("%d guesses in an hour, want about two dozen (15 to 25)", tries)
	}
	try("wrong") // allowed or not, the next one is right after a failure
	if r := try("wrong"); r.StatusCode != http.StatusTooManyRequests || !strings.Contains(r.body, "5 minutes") {
		t.Fatalf("right after a failure at the cap: %d, want 429 saying 5 minutes: %.300s", r.StatusCode, r.body)
	}
}

// TestSecurity_ThrottlingPerNetwork: one network spraying many accounts is
// slowed down too, even though no single account fails often.
func TestSecurity_ThrottlingPerNetwork(t *testing.T) {
	e := newEnv(t)
	b := e.browser(uaFirefox)
	b.get("/login")
	for i := 0; i < ipFreeFailures; i++ {
		r := b.post("/login", url.Values{"email": {fmt.Sprintf("user%d@example.com", i)}, "password": {"guess"}})
		if r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, r.StatusCode)
		}
	}
	r := b.post("/login", url.Values{"email": {"another@example.com"}, "password": {"guess"}})
	if r.StatusCode != http.StatusTooManyRequests || r.header("Retry-After") != "1" {
		t.Fatalf("after %d failures from one network: %d %q", ipFreeFailures, r.StatusCode, r.header("Retry-After"))
	}
}

func TestSecurity_EventsLoggedWithoutSecrets(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	b := e.browser(uaFirefox)
	b.get("/login")
	b.post("/login", url.Values{"email": {"s@example.com"}, "password": {"wrong password here"}})
	b.signIn("s@example.com")
	token := b.token()
	b.post("/logout", nil)
	logs := e.logs.String()
	for _, want := range []string{`msg="sign-in failed"`, `msg="signed in"`, `msg="signed out"`, "user_id=", "session=", "ip=0.0.0.x"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s", want)
		}
	}
	for _, secret := range []string{"wrong password here", testPassword, token, "0.0.0.0"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q", secret)
		}
	}
}

func TestSecurity_Headers(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	b := e.browser(uaFirefox)
	b.signIn("s@example.com")
	for _, path := range []string{"/login", activeSessionsURL, "/static/app.css", "/nope", "/healthz"} {
		r := b.get(path)
		csp := r.header("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if r.header("X-Content-Type-Options") != "nosniff" || r.header("Referrer-Policy") != "same-origin" {
			t.Errorf("%s: missing nosniff or Referrer-Policy", path)
		}
	}
	// No inline script or style or event handler anywhere in our pages.
	for _, path := range []string{"/login", activeSessionsURL, "/settings?section=password", "/settings/active-sessions/sign-out-others"} {
		body := b.get(path).body
		for _, bad := range []string{"<script>", "<style", " style=", " onclick=", " onsubmit=", "javascript:"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s contains %q, which the CSP would block", path, bad)
			}
		}
	}
}

// TestSecurity_ClientIPAndProxies runs over a real socket so the peer is
// 127.0.0.1, as it is behind a local reverse proxy.
func TestSecurity_ClientIPAndProxies(t *testing.T) {
	tests := []struct {
		name    string
		trusted []netip.Prefix
		xff     string
		want    string
	}{
		{"no trusted proxies: spoofed header ignored", nil, "203.0.113.7", "127.0.0.x"},
		{"trusted proxy: right-most untrusted hop", []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, "198.51.100.9, 203.0.113.7", "203.0.113.x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.TrustedProxies = tt.trusted })
			u := e.user(store.RoleClientStaff, "s@example.com")
			base := e.listen()
			jar, _ := cookiejar.New(nil)
			client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			res, err := client.Get(base + "/login")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			token := csrfRe.FindStringSubmatch(string(body))[1]
			form := url.Values{"email": {"s@example.com"}, "password": {testPassword}, csrfField: {token}}
			req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", tt.xff)
			if res, err = client.Do(req); err != nil || res.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign in: %v %v", err, res)
			}
			res.Body.Close()
			list, _ := e.st.ListUserSessions(u.ID)
			if len(list) != 1 || list[0].FirstPlace.Masked != tt.want {
				t.Fatalf("recorded %+v, want masked %q", list, tt.want)
			}
		})
	}
}

func errorsAs(err error, target **store.EndedError) bool {
	e, ok := err.(*store.EndedError)
	if ok {
		*target = e
	}
	return ok
}
