package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"portal/internal/softkey"
	"portal/store"
)

// The portal as passkeys see it in these tests: its public address is
// http://localhost, and the browsers ask for that host.
const (
	testPublicURL = "http://localhost"
	testOrigin    = "http://localhost"
)

// passkeyEnv is an env with passkeys on for testPublicURL.
func passkeyEnv(t testing.TB, mod ...func(*Config)) *env {
	t.Helper()
	return newEnv(t, append([]func(*Config){func(c *Config) { c.PublicURL = testPublicURL }}, mod...)...)
}

// localBrowser is a browser that opened the portal at its public address.
func (e *env) localBrowser(ua string) *browser {
	b := e.browser(ua)
	b.host = "localhost"
	return b
}

// jsonPost is one of static/passkeys.js's calls: a form with the page's
// CSRF token, asking for JSON.
func (b *browser) jsonPost(target string, form url.Values) (resp, passkeyReply, []byte) {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form[csrfField]; !ok {
		form.Set(csrfField, b.csrf())
	}
	r := b.do(http.MethodPost, target, form, map[string]string{"Accept": "application/json"})
	var reply passkeyReply
	if strings.HasPrefix(r.header("Content-Type"), "application/json") {
		json.Unmarshal([]byte(r.body), &reply)
	}
	return r, reply, []byte(r.body)
}

// options asks for a ceremony's options, failing the test unless they
// come.
func (b *browser) options(t testing.TB, target string, form url.Values) []byte {
	t.Helper()
	r, reply, body := b.jsonPost(target, form)
	if r.StatusCode != http.StatusOK || reply.Error != "" || reply.Redirect != "" || !strings.Contains(r.body, `"challenge"`) {
		t.Fatalf("options from %s: %d %s", target, r.StatusCode, r.body)
	}
	return body
}

// addPasskey adds a passkey named name from key in b's session through
// the Settings part, as static/passkeys.js does.
func addPasskey(t testing.TB, b *browser, key *softkey.Authenticator, name string) {
	t.Helper()
	b.get(twoStepURL)
	opts := b.options(t, passkeysPath+optionsSuffix, url.Values{"name": {name}})
	answer, err := key.Create(opts, testOrigin)
	if err != nil {
		t.Fatalf("the authenticator refused the options: %v", err)
	}
	r, reply, _ := b.jsonPost(passkeysPath, url.Values{"credential": {string(answer)}})
	if r.StatusCode != http.StatusOK || reply.Redirect != twoStepURL {
		t.Fatalf("add a passkey: %d %s", r.StatusCode, r.body)
	}
}

// userWithPasskey is a new client user, signed in from Chrome, who has
// added a passkey named name from key in that browser.
func (e *env) userWithPasskey(t testing.TB, email, name string) (store.User, *browser, *softkey.Authenticator) {
	t.Helper()
	u := e.user(store.RoleClientStaff, email)
	b := e.localBrowser(uaChrome)
	b.signIn(u.Email)
	key := softkey.New()
	addPasskey(t, b, key, name)
	return u, b, key
}

// passkeySignIn signs in with key from the sign-in page's button and
// returns the answer's response and reply.
func passkeySignIn(t testing.TB, b *browser, key *softkey.Authenticator) (resp, passkeyReply) {
	t.Helper()
	b.get("/login")
	opts := b.options(t, passkeySignInPath+optionsSuffix, nil)
	answer, err := key.Get(opts, testOrigin)
	if err != nil {
		t.Fatalf("the authenticator refused the options: %v", err)
	}
	r, reply, _ := b.jsonPost(passkeySignInPath, url.Values{"credential": {string(answer)}, "tz": {"Europe/Berlin"}})
	return r, reply
}

// passkeysOf is u's passkeys as stored.
func (e *env) passkeysOf(u store.User) []store.Passkey {
	e.t.Helper()
	pks, err := e.st.Passkeys(u.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return pks
}

// events is u's activity as the store has it after a flush.
func (e *env) events(u store.User) []store.Event {
	e.t.Helper()
	if _, err := e.st.FlushLastActive(); err != nil {
		e.t.Fatal(err)
	}
	page, err := e.st.UserEvents(u.ID, store.EventQuery{})
	if err != nil {
		e.t.Fatal(err)
	}
	return page.Events
}

func countKind(evs []store.Event, kind store.EventKind) int {
	n := 0
	for _, ev := range evs {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}
