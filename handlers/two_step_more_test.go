package handlers

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"portal/store"
	"portal/twostep"
)

// TestTwoStep_PendingState: the state after the password lasts 5 minutes
// and works only in the browser that entered it.
func TestTwoStep_PendingState(t *testing.T) {
	e, u, secret, _ := twoStepUser(t, store.RoleClientStaff)

	late := e.browser(uaFirefox)
	late.password(u.Email)
	e.clock.Advance(pendingLifetime + time.Second)
	kept := late.cookies[pendingCookie]
	get := late.get(secondStepPath)
	late.cookies[pendingCookie] = kept
	for _, r := range []resp{get, late.post(secondStepPath, url.Values{"code": {e.code(secret)}})} {
		if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.body, "More than 5 minutes passed") {
			t.Errorf("expired pending state: %d %.300s", r.StatusCode, r.body)
		}
	}
	if _, ok := late.session(); ok {
		t.Error("an expired pending state gave a session")
	}

	mine := e.browser(uaFirefox)
	mine.password(u.Email)
	thief := e.browser(uaChrome)
	thief.get("/login") // its own pre-session cookie
	thief.cookies[pendingCookie] = mine.cookies[pendingCookie]
	r := thief.get(secondStepPath)
	if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.body, "not started in this browser") {
		t.Errorf("pending state in another browser: %d %.300s", r.StatusCode, r.body)
	}
	thief.cookies[pendingCookie] = mine.cookies[pendingCookie]
	if r := thief.post(secondStepPath, url.Values{"code": {e.code(secret)}}); r.StatusCode == http.StatusSeeOther {
		t.Error("another browser's pending state signed in")
	}
	// Tampered: another user id under the same MAC.
	mine.cookies[pendingCookie] = "x" + mine.cookies[pendingCookie]
	if r := mine.get(secondStepPath); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("tampered pending state: %d", r.StatusCode)
	}
	// No pending state at all.
	if r := e.browser(uaChrome).get(secondStepPath); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("no pending state: %d", r.StatusCode)
	}
}

// TestSecurity_TwoStepParallelGuesses: wrong codes sent together, released
// by one barrier, get no more tries than serial ones: the rest are refused
// unchecked.
func TestSecurity_TwoStepParallelGuesses(t *testing.T) {
	e, u, _, _ := twoStepUser(t, store.RoleClientStaff)
	b := e.browser(uaFirefox)
	b.password(u.Email)
	if b.get(secondStepPath).StatusCode != http.StatusOK {
		t.Fatal("no second step")
	}
	csrf := b.csrf()
	const n = 24
	var start sync.WaitGroup
	start.Add(1)
	statuses := make(chan int, n)
	var done sync.WaitGroup
	for i := range n {
		form := url.Values{"code": {"00000" + string(rune('0'+i%10))}, csrfField: {csrf}}
		req := httptest.NewRequest(http.MethodPost, secondStepPath, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		for k, v := range b.cookies {
			req.AddCookie(&http.Cookie{Name: k, Value: v})
		}
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			res, err := e.app.Test(req, -1)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			statuses <- res.StatusCode
		}()
	}
	start.Done()
	done.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	// One of the 24 guesses may be right by chance (1 in a million each):
	// then it got a session, which is fine; the wrong ones are what count.
	if count[http.StatusUnauthorized] > accountFreeFailures || count[http.StatusTooManyRequests] < n-accountFreeFailures-1 {
		t.Fatalf("parallel wrong codes: %v, want at most %d checked and the rest refused with 429", count, accountFreeFailures)
	}
	// A serial guesser gets the same: refused until the wait is over.
	if r := b.post(secondStepPath, url.Values{"code": {"123456"}}); r.StatusCode != http.StatusTooManyRequests || r.header("Retry-After") == "" {
		t.Errorf("a guess after the parallel ones: %d, want 429 with Retry-After", r.StatusCode)
	}
}

// TestTwoStep_ConfirmBeforeChanges: turning off and new recovery codes need
// a recent sign-in or "Confirm it's you", which takes the password and an
// app code (not a recovery code) and comes back to the action's page.
func TestTwoStep_ConfirmBeforeChanges(t *testing.T) {
	e, u, secret, codes := twoStepUser(t, store.RoleClientStaff)
	b := e.browser(uaFirefox)
	b.password(u.Email)
	b.post(secondStepPath, url.Values{"method": {"recovery"}, "recovery_code": {codes[1]}})
	b.get(twoStepURL)
	// A recovery-code sign-in is not recent confirmation.
	for _, path := range []string{twoStepOffPath, twoStepCodesPath} {
		if r := b.get(path); r.StatusCode != http.StatusSeeOther || r.header("Location") != confirmURL(path) {
			t.Errorf("GET %s after a recovery sign-in: %d %q, want to confirm", path, r.StatusCode, r.header("Location"))
		}
		if r := b.post(path, nil); r.StatusCode != http.StatusSeeOther || r.header("Location") != confirmURL(path) {
			t.Errorf("POST %s after a recovery sign-in: %d %q, want to confirm", path, r.StatusCode, r.header("Location"))
		}
	}
	r := b.get(confirmURL(twoStepCodesPath))
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `name="code"`) || !strings.Contains(r.body, `value="`+twoStepCodesPath+`"`) {
		t.Fatalf("confirm page: %d %.500s", r.StatusCode, r.body)
	}
	tests := []struct {
		name string
		form url.Values
		want int
	}{
		{"no password", url.Values{"code": {e.code(secret)}}, 400},
		{"no code", url.Values{"password": {testPassword}}, 400},
		{"recovery code", url.Values{"password": {testPassword}, "code": {codes[2]}}, 400},
		{"wrong password", url.Values{"password": {"wrong"}, "code": {e.code(secret)}}, 400},
		{"old code", url.Values{"password": {testPassword}, "code": {twostep.Code(secret, e.clock.Now().Add(-90*time.Second))}}, 400},
	}
	for _, tt := range tests {
		tt.form.Set("next", twoStepCodesPath)
		if r := b.post(confirmPath, tt.form); r.StatusCode != tt.want {
			t.Errorf("confirm with %s: %d, want %d", tt.name, r.StatusCode, tt.want)
		}
	}
	if s, _ := b.session(); !s.ConfirmedAt.IsZero() {
		t.Fatal("a refused confirmation was noted")
	}
	r = b.post(confirmPath, url.Values{"password": {testPassword}, "code": {e.code(secret)}, "next": {twoStepCodesPath}})
	if r.StatusCode != http.StatusSeeOther || r.header("Location") != twoStepCodesPath {
		t.Fatalf("confirm: %d %q %.300s", r.StatusCode, r.header("Location"), r.body)
	}
	// Back on the action's page, which asks once more.
	if r := b.get(twoStepCodesPath); r.StatusCode != http.StatusOK || !strings.Contains(r.body, "Make new recovery codes?") {
		t.Fatalf("new codes page after confirming: %d", r.StatusCode)
	}
	r = b.post(twoStepCodesPath, nil)
	fresh := codesOnPage(r.body)
	if len(fresh) != store.RecoveryCodes {
		t.Fatalf("new codes: %d shown", len(fresh))
	}
	if _, err := e.st.UseRecoveryCode(u.ID, codes[3]); !errors.Is(err, store.ErrCodeUsed) {
		t.Errorf("an old recovery code after new ones: %v, want refused", err)
	}
	if left, err := e.st.UseRecoveryCode(u.ID, fresh[0]); err != nil || left != 9 {
		t.Errorf("a new recovery code: %d left, %v", left, err)
	}
	if r := b.get(twoStepURL); !strings.Contains(r.body, "9 recovery codes left") {
		t.Error("the section does not count the codes left")
	}
	for i := 1; i < 7; i++ {
		e.st.UseRecoveryCode(u.ID, fresh[i])
	}
	if r := b.get(twoStepURL); !strings.Contains(r.body, "You have 3 recovery codes left") || !strings.Contains(r.body, "notice-warning") {
		t.Error("no warning at 3 codes left")
	}
	// Turning off, then the window passes: confirming again is needed.
	if r := b.get(twoStepOffPath); r.StatusCode != http.StatusOK || !strings.Contains(r.body, "Turn off two-step sign-in?") {
		t.Fatalf("turn-off page: %d", r.StatusCode)
	}
	e.clock.Advance(16 * time.Minute)
	if r := b.post(twoStepOffPath, nil); r.StatusCode != http.StatusSeeOther || r.header("Location") != confirmURL(twoStepOffPath) {
		t.Fatalf("turn off after the window: %d %q", r.StatusCode, r.header("Location"))
	}
	b.get(confirmURL(twoStepOffPath))
	if r := b.post(confirmPath, url.Values{"password": {testPassword}, "code": {e.code(secret)}, "next": {twoStepOffPath}}); r.header("Location") != twoStepOffPath {
		t.Fatalf("confirm for turning off: %d %q", r.StatusCode, r.header("Location"))
	}
	b.get(twoStepOffPath)
	if r := b.post(twoStepOffPath, nil); r.StatusCode != http.StatusOK || !strings.Contains(r.body, "Two-step sign-in is off") {
		t.Fatalf("turn off: %d %.300s", r.StatusCode, r.body)
	}
	if _, err := e.st.TwoStep(u.ID); !errors.Is(err, store.ErrTwoStepOff) {
		t.Fatalf("after turning off: %v", err)
	}
	if r := e.browser(uaChrome).password(u.Email); r.header("Location") != landing(u.Role) {
		t.Errorf("password after turning off: %q, want a session", r.header("Location"))
	}
}

// TestTwoStep_ConfirmNext: only the portal's own paths.
func TestTwoStep_ConfirmNext(t *testing.T) {
	for next, want := range map[string]string{
		"/settings/two-step/turn-off": "/settings/two-step/turn-off",
		"":                            twoStepURL,
		"//evil.example/":             twoStepURL,
		"/\\evil.example":             twoStepURL,
		"https://evil.example/":       twoStepURL,
		"settings":                    twoStepURL,
		"/x\r\nSet-Cookie: a=b":       twoStepURL,
	} {
		if got := localNext(next); got != want {
			t.Errorf("localNext(%q) = %q, want %q", next, got, want)
		}
	}
	e := newEnv(t)
	e.user(store.RoleClientStaff, "p@example.com")
	b := e.browser(uaFirefox)
	b.signIn("p@example.com")
	b.get(confirmURL("//evil.example/"))
	r := b.post(confirmPath, url.Values{"password": {testPassword}, "next": {"//evil.example/"}})
	if r.StatusCode != http.StatusSeeOther || r.header("Location") != twoStepURL {
		t.Errorf("confirm to another host: %d %q", r.StatusCode, r.header("Location"))
	}
	if s, _ := b.session(); s.ConfirmedAt.IsZero() {
		t.Error("a password user's confirmation was not noted")
	}
	if r := e.browser(uaChrome).get(confirmPath); r.StatusCode != http.StatusSeeOther {
		t.Errorf("confirm page signed out: %d", r.StatusCode)
	}
}

// TestTwoStep_RequiredAccount: a user of an account that requires it sets
// it up straight after the password, with no session until done.
func TestTwoStep_RequiredAccount(t *testing.T) {
	e := newEnv(t)
	u := e.user(store.RoleClientAdmin, "req@example.com")
	if err := e.st.SetRequireTwoStep("", u.AccountID, store.Actor{}, true); err != nil {
		t.Fatal(err)
	}
	b := e.browser(uaFirefox)
	r := b.password(u.Email)
	if r.StatusCode != http.StatusSeeOther || r.header("Location") != requiredSetupPath {
		t.Fatalf("password: %d %q", r.StatusCode, r.header("Location"))
	}
	if _, ok := b.session(); ok {
		t.Fatal("a session before setup")
	}
	for _, path := range []string{"/settings", activeSessionsURL, twoStepSetupPath} {
		if r := b.get(path); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.header("Location"), "/login") {
			t.Errorf("%s during setup: %d %q", path, r.StatusCode, r.header("Location"))
		}
	}
	if r := b.get(secondStepPath); r.header("Location") != requiredSetupPath {
		t.Errorf("the code page before setup: %d %q", r.StatusCode, r.header("Location"))
	}
	r = b.get(requiredSetupPath)
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, "requires two-step sign-in") {
		t.Fatalf("setup page: %d %.300s", r.StatusCode, r.body)
	}
	secret, sealed := keyOnPage(t, r.body)
	if r := b.post(requiredSetupPath, url.Values{"sealed": {sealed}, "code": {"000000"}}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("wrong setup code: %d", r.StatusCode)
	}
	// Another browser's sealed key does not open here.
	other := e.browser(uaChrome)
	other.password(u.Email)
	if r := other.post(requiredSetupPath, url.Values{"sealed": {sealed}, "code": {e.code(secret)}}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("another browser's key: %d", r.StatusCode)
	}
	r = b.post(requiredSetupPath, url.Values{"sealed": {sealed}, "code": {e.code(secret)}})
	if codes := codesOnPage(r.body); r.StatusCode != http.StatusOK || len(codes) != store.RecoveryCodes || !strings.Contains(r.body, `href="`+landing(u.Role)+`"`) {
		t.Fatalf("setup: %d, %d codes %.300s", r.StatusCode, len(codes), r.body)
	}
	s, ok := b.session()
	if !ok || s.Auth != store.AuthPasswordApp {
		t.Fatalf("session after setup: %v %q", ok, s.Auth)
	}
	// Next time: the code page.
	e.clock.Advance(30 * time.Second)
	n := e.browser(uaChrome)
	if r := n.password(u.Email); r.header("Location") != secondStepPath {
		t.Errorf("the next sign-in: %q", r.header("Location"))
	}
}

// TestTwoStep_PasswordChangeNeedsCode: a two-step user changing the
// password gives a code unless they confirmed recently.
func TestTwoStep_PasswordChangeNeedsCode(t *testing.T) {
	e, u, secret, _ := twoStepUser(t, store.RoleClientStaff)
	b := e.browser(uaFirefox)
	b.password(u.Email)
	b.post(secondStepPath, url.Values{"code": {e.code(secret)}})
	if r := b.get("/settings?section=password"); strings.Contains(r.body, `name="code"`) {
		t.Error("the password form asks for a code right after sign-in")
	}
	e.clock.Advance(16 * time.Minute)
	if r := b.get("/settings?section=password"); !strings.Contains(r.body, `name="code"`) || !strings.Contains(r.body, `autocomplete="one-time-code"`) {
		t.Fatalf("the password form lacks the code field: %.500s", r.body)
	}
	change := func(code string) resp {
		return b.post("/settings/password", url.Values{"current_password": {testPassword}, "new_password": {"a brand new password"}, "code": {code}})
	}
	for _, code := range []string{"", "12345", "abcdef", twostep.Code(secret, e.clock.Now().Add(-90*time.Second))} {
		if r := change(code); r.StatusCode != http.StatusBadRequest {
			t.Errorf("password change with code %q: %d, want 400", code, r.StatusCode)
		}
	}
	if r := change(e.code(secret)); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("password change with the code: %d %.300s", r.StatusCode, r.body)
	}
}

// TestTwoStep_DemoShowsCode: in -demo mode the code page shows the code.
func TestTwoStep_DemoShowsCode(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Demo = true })
	u := e.user(store.RoleClientStaff, "demo@example.com")
	secret := []byte("12345678901234567890")
	if err := e.st.EnableTwoStep(u.ID, store.Actor{}, secret, twostep.RecoveryCodes(10)); err != nil {
		t.Fatal(err)
	}
	b := e.browser(uaFirefox)
	b.password(u.Email)
	if r := b.get(secondStepPath); !strings.Contains(r.body, "<code>"+e.code(secret)+"</code>") {
		t.Fatalf("demo code page lacks the code: %.500s", r.body)
	}
	if r := b.post(secondStepPath, url.Values{"code": {e.code(secret)}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("demo code: %d", r.StatusCode)
	}
}

// TestSecurity_TwoStepSecretsAtRest: after setup the key and the recovery
// codes are in no page, log or database file in clear; only the one-time
// codes page showed the codes.
func TestSecurity_TwoStepSecretsAtRest(t *testing.T) {
	e := newEnv(t)
	u := e.user(store.RoleClientStaff, "rest@example.com")
	b := e.browser(uaFirefox)
	b.signIn(u.Email)
	secret, codes := turnOnTwoStep(t, b)
	n := e.browser(uaChrome)
	n.password(u.Email)
	var html bytes.Buffer
	html.WriteString(n.get(secondStepPath).body)
	n.post(secondStepPath, url.Values{"code": {e.code(secret)}})
	for _, path := range []string{twoStepURL, "/settings?section=password", activeSessionsURL, "/settings?section=" + securityActivitySlug, confirmURL(twoStepOffPath), twoStepSetupPath} {
		r := n.get(path)
		if r.StatusCode != http.StatusOK && r.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d", path, r.StatusCode)
		}
		html.WriteString(r.body)
	}
	if _, err := e.st.FlushLastActive(); err != nil {
		t.Fatal(err)
	}
	text := twostep.Text(secret)
	forms := [][]byte{secret, []byte(text), []byte(strings.ReplaceAll(text, " ", ""))}
	for _, c := range codes {
		forms = append(forms, []byte(c), []byte(store.NormalizeRecoveryCode(c)))
	}
	data := atRest(t, e)
	if !bytes.Contains(data, []byte(`"rest@example.com"`)) {
		t.Fatal("the user's email is not in the file: the test is not looking at the right file")
	}
	for where, hay := range map[string][]byte{"the pages": html.Bytes(), "the log": []byte(e.logs.String()), "the database": data} {
		for _, f := range forms {
			if bytes.Contains(hay, f) {
				t.Errorf("%s hold %q in clear", where, f)
			}
		}
	}
}

// TestTwoStep_SetupNeedsRecentSignIn: a session older than the window
// confirms the password before it can add an app.
func TestTwoStep_SetupNeedsRecentSignIn(t *testing.T) {
	e := newEnv(t)
	u := e.user(store.RoleClientStaff, "late@example.com")
	b := e.browser(uaFirefox)
	b.signIn(u.Email)
	r := b.get(twoStepSetupPath)
	_, sealed := keyOnPage(t, r.body)
	e.clock.Advance(16 * time.Minute)
	for _, r := range []resp{b.get(twoStepSetupPath), b.post(twoStepSetupPath, url.Values{"sealed": {sealed}, "code": {"123456"}})} {
		if r.StatusCode != http.StatusSeeOther || r.header("Location") != confirmURL(twoStepSetupPath) {
			t.Errorf("setup after the window: %d %q, want to confirm", r.StatusCode, r.header("Location"))
		}
	}
	b.get(confirmURL(twoStepSetupPath))
	if r := b.post(confirmPath, url.Values{"password": {testPassword}, "next": {twoStepSetupPath}}); r.header("Location") != twoStepSetupPath {
		t.Fatalf("confirm: %d %q", r.StatusCode, r.header("Location"))
	}
	turnOnTwoStep(t, b)
}
