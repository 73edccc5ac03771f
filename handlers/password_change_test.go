package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"portal/store"
)

// TestSecurity_PasswordChangeGuessing: a stolen cookie cannot guess the
// password through the change form. After passwordGuessesSignOut wrong
// current passwords the session that sent them is ended, the right
// password no longer helps it, and the user's other sessions are
// throttled like sign-ins until the window passes.
func TestSecurity_PasswordChangeGuessing(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	thief, owner := e.browser(uaChrome), e.browser(uaFirefox)
	owner.signIn("s@example.com")
	thief.signIn("s@example.com")
	thief.get("/settings?section=password")
	stolen := thief.token()
	change := func(b *browser, current string) resp {
		return b.post("/settings/password", url.Values{"current_password": {current}, "new_password": {"the thief's new password"}})
	}
	for i := 1; i < passwordGuessesSignOut; i++ {
		if r := change(thief, "guess"); r.StatusCode != http.StatusBadRequest || !strings.Contains(r.body, "current password is incorrect") {
			t.Fatalf("wrong guess %d: %d", i, r.StatusCode)
		}
	}
	r := change(thief, "guess")
	if r.StatusCode != http.StatusSeeOther || r.header("Location") != "/login?reason="+string(store.ReasonPasswordGuesses) {
		t.Fatalf("guess %d: %d %q, want the session ended and a redirect to sign-in", passwordGuessesSignOut, r.StatusCode, r.header("Location"))
	}
	var ended *store.EndedError
	if _, _, err := e.st.Authenticate(stolen); !errorsAs(err, &ended) || ended.Reason != store.ReasonPasswordGuesses {
		t.Fatalf("the guessing session: %v, want ended with reason %s", err, store.ReasonPasswordGuesses)
	}
	if p := e.browser(uaChrome).get("/login?reason=" + string(store.ReasonPasswordGuesses)); !strings.Contains(p.body, "entered wrongly too many times") {
		t.Fatal("the sign-in page does not say why the session ended")
	}
	// The thief's cookie is dead, right password or not.
	thief.cookies[sessionCookie] = stolen
	if r := change(thief, testPassword); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.header("Location"), "/login") {
		t.Fatalf("the ended session changing the password: %d %q", r.StatusCode, r.header("Location"))
	}
	// The owner's session is untouched but throttled for now.
	owner.get("/settings?section=password")
	if r := change(owner, testPassword); r.StatusCode != http.StatusTooManyRequests || r.header("Retry-After") == "" {
		t.Fatalf("another session right after the guesses: %d, want 429 with Retry-After", r.StatusCode)
	}
	e.clock.Advance(accountMaxWait)
	if r := change(owner, testPassword); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the owner after the wait: %d %.300s", r.StatusCode, r.body)
	}
}
