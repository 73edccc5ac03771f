package handlers

import (
	"encoding/base32"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"portal/store"
	"portal/twostep"
)

var (
	keyTextRe = regexp.MustCompile(`<code class="secret-key">([A-Z2-7 ]+)</code>`)
	sealedRe  = regexp.MustCompile(`name="sealed" value="([^"]+)"`)
	codeRe    = regexp.MustCompile(`<li><code>([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})</code></li>`)
)

// keyOnPage reads the key the setup page shows, as a person would type it
// into an app, and the sealed field of its form.
func keyOnPage(t testing.TB, body string) (secret []byte, sealed string) {
	t.Helper()
	m, s := keyTextRe.FindStringSubmatch(body), sealedRe.FindStringSubmatch(body)
	if m == nil || s == nil {
		t.Fatalf("no key or sealed field on the setup page: %.600s", body)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(m[1], " ", ""))
	if err != nil {
		t.Fatalf("key %q: %v", m[1], err)
	}
	return secret, s[1]
}

func codesOnPage(body string) []string {
	var out []string
	for _, m := range codeRe.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// code is secret's code now.
func (e *env) code(secret []byte) string { return twostep.Code(secret, e.clock.Now()) }

// turnOnTwoStep turns two-step sign-in on for b's signed-in user through
// the settings pages; it returns the key and the recovery codes, and moves
// the clock to the next time step (the setup code is used).
func turnOnTwoStep(t testing.TB, b *browser) ([]byte, []string) {
	t.Helper()
	r := b.get(twoStepSetupPath)
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `<img src="data:image/png;base64,`) {
		t.Fatalf("setup page: %d %.400s", r.StatusCode, r.body)
	}
	secret, sealed := keyOnPage(t, r.body)
	r = b.post(twoStepSetupPath, url.Values{"sealed": {sealed}, "code": {b.e.code(secret)}})
	codes := codesOnPage(r.body)
	if r.StatusCode != http.StatusOK || len(codes) != store.RecoveryCodes {
		t.Fatalf("setup with the right code: %d, %d codes: %.600s", r.StatusCode, len(codes), r.body)
	}
	if !strings.Contains(r.body, `download="portal-recovery-codes.txt" href="data:text/plain;charset=utf-8,`) || !strings.Contains(r.body, codes[9]) {
		t.Errorf("the codes page has no download link holding the codes: %.800s", r.body)
	}
	b.e.clock.Advance(30 * time.Second)
	return secret, codes
}

// password signs in with the password only: for a two-step user the
// browser is then on the second step.
func (b *browser) password(email string) resp {
	b.get("/login")
	return b.post("/login", url.Values{"email": {email}, "password": {testPassword}})
}

// sessionOf is the browser's session, if it has one.
func (b *browser) session() (store.Session, bool) {
	if b.token() == "" {
		return store.Session{}, false
	}
	s, _, err := b.e.st.Authenticate(b.token())
	return s, err == nil
}

func twoStepUser(t *testing.T, role store.Role) (*env, store.User, []byte, []string) {
	e := newEnv(t)
	u := e.user(role, "two@example.com")
	b := e.browser(uaFirefox)
	b.signIn(u.Email)
	secret, codes := turnOnTwoStep(t, b)
	return e, u, secret, codes
}

func TestTwoStep_TurnOnAndSignIn(t *testing.T) {
	for _, role := range []store.Role{store.RoleClientStaff, store.RolePartnerAdmin} {
		t.Run(string(role), func(t *testing.T) {
			e := newEnv(t)
			u := e.user(role, "two@example.com")
			b := e.browser(uaFirefox)
			b.signIn(u.Email)
			r := b.get(twoStepURL)
			if r.StatusCode != http.StatusOK || !strings.Contains(r.body, "Two-step sign-in is off") || !strings.Contains(r.body, `href="`+twoStepSetupPath+`"`) {
				t.Fatalf("section while off: %d %.500s", r.StatusCode, r.body)
			}
			if !strings.Contains(b.get("/settings").body, `href="`+twoStepURL+`"`) {
				t.Error("the sidebar does not link the section")
			}
			// A wrong code, then an expired form: nothing is saved.
			r = b.get(twoStepSetupPath)
			secret, sealed := keyOnPage(t, r.body)
			for _, form := range []url.Values{
				{"sealed": {sealed}, "code": {"000000"}},
				{"sealed": {sealed}, "code": {"12345"}},
				{"sealed": {sealed + "x"}, "code": {e.code(secret)}},
				{"code": {e.code(secret)}},
			} {
				if r := b.post(twoStepSetupPath, form); r.StatusCode != http.StatusBadRequest {
					t.Errorf("setup with %v: %d, want 400", form, r.StatusCode)
				}
			}
			if _, err := e.st.TwoStep(u.ID); !errors.Is(err, store.ErrTwoStepOff) {
				t.Fatalf("after refused setups: %v, want off", err)
			}
			// Another session's sealed key does not open here.
			other := e.browser(uaChrome)
			other.signIn(u.Email)
			if r := other.post(twoStepSetupPath, url.Values{"sealed": {sealed}, "code": {e.code(secret)}}); r.StatusCode != http.StatusBadRequest {
				t.Errorf("setup with another session's key: %d, want 400", r.StatusCode)
			}
			secret, _ = turnOnTwoStep(t, b)
			r = b.get(twoStepURL)
			if !strings.Contains(r.body, "On since 27 Nov 2026") || !strings.Contains(r.body, "10 recovery codes left") {
				t.Errorf("section while on: %.600s", r.body)
			}
			if !strings.Contains(b.post(twoStepSetupPath, url.Values{}).header("Location"), twoStepURL) {
				t.Error("setting up again while on is not sent back to the section")
			}

			n := e.browser(uaChrome)
			r = n.password(u.Email)
			if r.StatusCode != http.StatusSeeOther || r.header("Location") != secondStepPath {
				t.Fatalf("password of a two-step user: %d %q", r.StatusCode, r.header("Location"))
			}
			if _, ok := n.session(); ok {
				t.Fatal("the password alone gave a session")
			}
			r = n.get(secondStepPath)
			for _, want := range []string{"Enter the 6-digit code from your authenticator app", `autocomplete="one-time-code"`, `inputmode="numeric"`, "Use a recovery code instead"} {
				if !strings.Contains(r.body, want) {
					t.Errorf("second-step page lacks %q", want)
				}
			}
			if strings.Contains(r.body, e.code(secret)) {
				t.Error("the second-step page shows the code outside -demo")
			}
			r = n.post(secondStepPath, url.Values{"code": {e.code(secret)[:3] + " " + e.code(secret)[3:]}})
			if r.StatusCode != http.StatusSeeOther || r.header("Location") != landing(role) {
				t.Fatalf("right code: %d %q %.300s", r.StatusCode, r.header("Location"), r.body)
			}
			s, ok := n.session()
			if !ok || s.Auth != store.AuthPasswordApp {
				t.Fatalf("session after the code: %v %q, want %q", ok, s.Auth, store.AuthPasswordApp)
			}
			if n.cookies[pendingCookie] != "" || n.cookies[preSessionCookie] != "" {
				t.Error("the sign-in cookies were not cleared")
			}
			if n.cookies[deviceCookie] == "" {
				t.Error("no device cookie after a two-step sign-in")
			}
		})
	}
}

// TestTwoStep_SecondStepRefusals: every wrong input gets no session, and
// the right code still works afterwards.
func TestTwoStep_SecondStepRefusals(t *testing.T) {
	e, u, secret, codes := twoStepUser(t, store.RoleClientStaff)
	// One recovery code used, one app code used.
	used := e.browser(uaFirefox)
	used.password(u.Email)
	if r := used.post(secondStepPath, url.Values{"method": {"recovery"}, "recovery_code": {codes[0]}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("recovery code: %d %.300s", r.StatusCode, r.body)
	}
	if s, _ := used.session(); s.Auth != store.AuthPasswordRecovery {
		t.Errorf("recovery sign-in recorded as %q", s.Auth)
	}
	e.clock.Advance(30 * time.Second)
	reused := e.code(secret)
	used = e.browser(uaFirefox)
	used.password(u.Email)
	if r := used.post(secondStepPath, url.Values{"code": {reused}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("app code: %d", r.StatusCode)
	}
	// Within the same step, so the wrong inputs below meet "used".
	tests := []struct {
		name   string
		form   url.Values
		status int
		says   string
	}{
		{"empty", url.Values{"code": {""}}, 400, "Enter the 6 digits"},
		{"five digits", url.Values{"code": {"12345"}}, 400, "Enter the 6 digits"},
		{"seven digits", url.Values{"code": {"1234567"}}, 400, "Enter the 6 digits"},
		{"letters", url.Values{"code": {"abcdef"}}, 400, "Enter the 6 digits"},
		{"three steps ago", url.Values{"code": {twostep.Code(secret, e.clock.Now().Add(-90*time.Second))}}, 401, "not right"},
		{"reused", url.Values{"code": {reused}}, 401, "used already"},
		{"used recovery code", url.Values{"method": {"recovery"}, "recovery_code": {codes[0]}}, 401, "used already"},
		{"malformed recovery code", url.Values{"method": {"recovery"}, "recovery_code": {"not a code"}}, 400, "recovery codes"},
		{"empty recovery code", url.Values{"method": {"recovery"}, "recovery_code": {""}}, 400, "recovery codes"},
	}
	b := e.browser(uaChrome)
	b.password(u.Email)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.post(secondStepPath, tt.form)
			if r.StatusCode != tt.status || !strings.Contains(r.body, tt.says) {
				t.Errorf("%d %.300s, want %d saying %q", r.StatusCode, r.body, tt.status, tt.says)
			}
			if _, ok := b.session(); ok {
				t.Error("a session was made")
			}
		})
	}
	e.clock.Advance(30 * time.Second)
	if r := b.post(secondStepPath, url.Values{"code": {e.code(secret)}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the right code after the refusals: %d %.300s", r.StatusCode, r.body)
	}
	if _, err := e.st.FlushLastActive(); err != nil {
		t.Fatal(err)
	}
	if !hasEvent(t, e, u.ID, store.EventCodeFailed) || !hasEvent(t, e, u.ID, store.EventRecoveryCodeUsed) {
		t.Error("Security activity lacks the wrong codes or the recovery code's use")
	}
}

func hasEvent(t *testing.T, e *env, userID string, kind store.EventKind) bool {
	t.Helper()
	page, err := e.st.UserEvents(userID, store.EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range page.Events {
		if ev.Kind == kind {
			return true
		}
	}
	return false
}
