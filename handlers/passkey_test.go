package handlers

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"portal/internal/softkey"
	"portal/store"
)

// TestPasskey_AddAndSignIn: a passkey added in Settings signs the user in
// with no email and no password; the session, its row and the activity
// say it was that passkey.
func TestPasskey_AddAndSignIn(t *testing.T) {
	e := passkeyEnv(t)
	u := e.user(store.RoleClientStaff, "pk@example.com")
	b := e.localBrowser(uaChrome)
	b.signIn(u.Email)
	key := softkey.New()

	page := b.get(twoStepURL).body
	if !strings.Contains(page, `<script src="/static/passkeys.js" defer></script>`) {
		t.Error("the page does not load passkeys.js")
	}
	if r := b.get("/static/passkeys.js"); r.StatusCode != http.StatusOK || !strings.Contains(r.body, "navigator.credentials.get") {
		t.Errorf("GET /static/passkeys.js: %d", r.StatusCode)
	}
	if !strings.Contains(page, `value="Chrome 131 on macOS"`) || !strings.Contains(page, `data-passkey="add"`) {
		t.Fatalf("the Passkeys part does not offer to add one named after this browser:\n%s", page)
	}
	addPasskey(t, b, key, "  Work   laptop ")
	page = b.get(twoStepURL).body
	if !strings.Contains(page, "Passkey added.") || !strings.Contains(page, `<span class="device-name">Work laptop</span>`) || !strings.Contains(page, "Last used: Never") {
		t.Fatalf("the list does not show the new passkey, its name cleaned, never used:\n%s", page)
	}
	pks := e.passkeysOf(u)
	if len(pks) != 1 || pks[0].Name != "Work laptop" || len(pks[0].Credential) == 0 || !strings.Contains(string(pks[0].Credential), `"publicKey"`) {
		t.Fatalf("stored passkeys: %+v", pks)
	}

	b.post("/logout", nil)
	other := e.localBrowser(uaFirefox) // a browser that never saw the account
	r, reply := passkeySignIn(t, other, key)
	if r.StatusCode != http.StatusOK || reply.Redirect != landing(u.Role) {
		t.Fatalf("passkey sign-in: %d %s", r.StatusCode, r.body)
	}
	s, ok := other.session()
	if !ok || s.UserID != u.ID || s.Auth != store.AuthPasskey || s.Passkey != "Work laptop" || s.TimeZone != "Europe/Berlin" {
		t.Fatalf("the session: %+v (live %v)", s, ok)
	}
	if other.cookies[preSessionCookie] != "" || other.cookies[passkeyCookie] != "" {
		t.Error("the sign-in left its pre-session or ceremony cookie behind")
	}
	rows := other.get(activeSessionsURL).body
	if !strings.Contains(rows, `<div class="muted auth-method">Passkey <span class="badge badge-two-step">Two-step</span>`) {
		t.Errorf("the row does not say it signed in with a passkey:\n%s", rows)
	}
	activity := other.get("/settings?section=" + securityActivitySlug).body
	if !strings.Contains(activity, "using the passkey “Work laptop”") || !strings.Contains(activity, "Passkey “Work laptop” added") {
		t.Errorf("security activity does not name the passkey:\n%s", activity)
	}
	if pks := e.passkeysOf(u); pks[0].LastUsedAt.IsZero() || pks[0].SignCount != 1 {
		t.Errorf("the use was not recorded: %+v", pks[0])
	}
	if logs := e.logs.String(); strings.Contains(logs, string(pks[0].ID)) || strings.Contains(logs, base64.RawURLEncoding.EncodeToString(pks[0].ID)) {
		t.Error("a credential id is in the logs")
	}
}

// refusal is one way a passkey's answer can be wrong.
type refusal struct {
	name string
	// answer makes the answer to opts that browser b sends; it may change
	// b (its cookies) too.
	answer func(t *testing.T, b *browser, opts []byte) []byte
	known  bool // the answer reaches the real user's passkey, so the failure is theirs
}

// TestPasskey_Refusals: each wrong answer gets the one sentence, no
// session, and counts as a failed sign-in (of the user, when it names
// one); an answer for an unknown account reads exactly the same.
func TestPasskey_Refusals(t *testing.T) {
	e := passkeyEnv(t)
	u, _, key := e.userWithPasskey(t, "pk@example.com", "Phone")

	stranger := softkey.New() // a passkey this portal never saw
	if _, err := stranger.Create(creationFor(t, "localhost"), testOrigin); err != nil {
		t.Fatal(err)
	}
	get := func(t *testing.T, k *softkey.Authenticator, opts []byte, origin string) []byte {
		t.Helper()
		a, err := k.Get(opts, origin)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	cases := []refusal{
		{"unknown credential", func(t *testing.T, _ *browser, opts []byte) []byte { return get(t, stranger, opts, testOrigin) }, false},
		{"wrong origin", func(t *testing.T, _ *browser, opts []byte) []byte {
			return get(t, key, opts, "http://localhost.evil.example")
		}, true},
		{"bad signature", func(t *testing.T, _ *browser, opts []byte) []byte {
			return tamper(t, get(t, key, opts, testOrigin), "signature")
		}, true},
		{"no user verification", func(t *testing.T, _ *browser, opts []byte) []byte {
			k := softkey.New()
			key.CopyTo(k, key.Credentials()[0])
			k.SetOptions(softkey.Options{NoUserVerification: true})
			ans := get(t, k, opts, testOrigin)
			// Keep the real key's counter ahead, so only the flag is wrong.
			key.SetCounter(key.Credentials()[0], counterOf(t, ans))
			return ans
		}, true},
		{"answer to another challenge", func(t *testing.T, b *browser, opts []byte) []byte {
			// The browser asks again; the first options' answer comes back.
			b.options(t, passkeySignInPath+optionsSuffix, nil)
			return get(t, key, opts, testOrigin)
		}, true},
		{"ceremony begun in another browser", func(t *testing.T, b *browser, _ []byte) []byte {
			// A right answer to another browser's ceremony, with that
			// ceremony's cookie planted here: bound to the other browser.
			other := e.localBrowser(uaFirefox)
			other.get("/login")
			theirs := other.options(t, passkeySignInPath+optionsSuffix, nil)
			b.cookies[passkeyCookie] = other.cookies[passkeyCookie]
			return get(t, key, theirs, testOrigin)
		}, false},
		{"no ceremony", func(t *testing.T, b *browser, opts []byte) []byte {
			delete(b.cookies, passkeyCookie)
			return get(t, key, opts, testOrigin)
		}, false},
		{"not an answer", func(*testing.T, *browser, []byte) []byte { return []byte(`{"id":"x","type":"public-key"}`) }, false},
		{"empty", func(*testing.T, *browser, []byte) []byte { return nil }, false},
		{"too long", func(*testing.T, *browser, []byte) []byte { return []byte(strings.Repeat("a", maxPasskeyAnswer+1)) }, false},
	}
	failedBefore, known := failedCount(e.events(u)), 0
	for _, tc := range cases {
		if tc.known {
			known++
		}
		t.Run(tc.name, func(t *testing.T) {
			b := e.localBrowser(uaFirefox)
			b.headers = map[string]string{"X-Test-Case": tc.name}
			b.get("/login")
			opts := b.options(t, passkeySignInPath+optionsSuffix, nil)
			answer := tc.answer(t, b, opts)
			r, reply, _ := b.jsonPost(passkeySignInPath, url.Values{"credential": {string(answer)}})
			if r.StatusCode != http.StatusUnauthorized || reply.Error != passkeyRefusedText || reply.Redirect != "" {
				t.Fatalf("status %d, reply %+v, want 401 and %q", r.StatusCode, reply, passkeyRefusedText)
			}
			if _, ok := b.session(); ok || b.cookies[sessionCookie] != "" {
				t.Fatal("a refused passkey gave a session")
			}
		})
	}
	// Each failure that reached the user's passkey is recorded for them,
	// grouped as failed passwords are; the others name nobody.
	if got := failedCount(e.events(u)) - failedBefore; got != known {
		t.Errorf("%d failed sign-ins recorded for the user, want %d", got, known)
	}
	// The real passkey still works: nothing above used it up.
	if r, reply := passkeySignIn(t, e.localBrowser(uaChrome), key); r.StatusCode != http.StatusOK || reply.Redirect == "" {
		t.Fatalf("the real passkey after the refusals: %d %s", r.StatusCode, r.body)
	}
}

// failedCount is how many failed sign-ins evs count.
func failedCount(evs []store.Event) int {
	n := 0
	for _, ev := range evs {
		if ev.Kind == store.EventSignInFailed {
			n += ev.Count
		}
	}
	return n
}

// creationFor is a ceremony's creation options for an authenticator to
// make a credential for rpID, as another portal would send them.
func creationFor(t *testing.T, rpID string) []byte {
	t.Helper()
	rp, err := newRelyingParty("http://" + rpID)
	if err != nil {
		t.Fatal(err)
	}
	opts, _, err := rp.wa.BeginRegistration(&passkeyUser{handle: []byte("another-portal-user-handle-00001"), user: store.User{Email: "x@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(opts)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// tamper flips a bit of the answer's response field.
func tamper(t *testing.T, answer []byte, field string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(answer, &m); err != nil {
		t.Fatal(err)
	}
	resp := m["response"].(map[string]any)
	raw, err := base64.RawURLEncoding.DecodeString(resp[field].(string))
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 1
	resp[field] = base64.RawURLEncoding.EncodeToString(raw)
	out, _ := json.Marshal(m)
	return out
}

// counterOf is the signature counter in an answer's authenticator data.
func counterOf(t *testing.T, answer []byte) uint32 {
	t.Helper()
	var m struct {
		Response struct {
			AuthenticatorData string `json:"authenticatorData"`
		} `json:"response"`
	}
	if err := json.Unmarshal(answer, &m); err != nil {
		t.Fatal(err)
	}
	ad, err := base64.RawURLEncoding.DecodeString(m.Response.AuthenticatorData)
	if err != nil || len(ad) < 37 {
		t.Fatalf("authenticator data: %v", err)
	}
	return uint32(ad[33])<<24 | uint32(ad[34])<<16 | uint32(ad[35])<<8 | uint32(ad[36])
}

// TestPasskey_CopiedKeyRefused: a copy of a passkey whose counter is
// behind is refused and recorded; the real one goes on working.
func TestPasskey_CopiedKeyRefused(t *testing.T) {
	e := passkeyEnv(t)
	u, b, key := e.userWithPasskey(t, "pk@example.com", "YubiKey")
	id := key.Credentials()[0]
	copied := softkey.New()
	if err := key.CopyTo(copied, id); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if r, _ := passkeySignIn(t, e.localBrowser(uaChrome), key); r.StatusCode != http.StatusOK {
			t.Fatalf("the real key: %d %s", r.StatusCode, r.body)
		}
	}
	r, reply := passkeySignIn(t, e.localBrowser(uaFirefox), copied) // signs 1, the portal saw 2
	if r.StatusCode != http.StatusUnauthorized || reply.Error != passkeyRefusedText {
		t.Fatalf("the copy: %d %s, want 401", r.StatusCode, r.body)
	}
	if pks := e.passkeysOf(u); pks[0].SignCount != 2 {
		t.Errorf("the refused answer moved the counter to %d", pks[0].SignCount)
	}
	evs := e.events(u)
	if countKind(evs, store.EventPasskeyRefused) != 1 {
		t.Fatalf("the refusal is not in the activity: %+v", evs)
	}
	page := b.get("/settings?section=" + securityActivitySlug).body
	if !strings.Contains(page, "A sign-in with the passkey “YubiKey” was refused: its signature counter went backwards") {
		t.Errorf("the activity page does not say the passkey was refused:\n%s", page)
	}
	if r, _ := passkeySignIn(t, e.localBrowser(uaChrome), key); r.StatusCode != http.StatusOK {
		t.Fatalf("the real key after the copy was refused: %d %s", r.StatusCode, r.body)
	}
}

// TestPasskey_CeremonyOnce: one ceremony's answer sent 12 times at once
// signs in once. The passkey is a synced one, whose counter stays 0, so
// only the ceremony being taken once can stop the copies.
func TestPasskey_CeremonyOnce(t *testing.T) {
	e := passkeyEnv(t)
	u := e.user(store.RoleClientStaff, "pk@example.com")
	owner := e.localBrowser(uaChrome)
	owner.signIn(u.Email)
	key := softkey.New()
	key.SetOptions(softkey.Options{BackupEligible: true, BackupState: true, ZeroCounter: true})
	addPasskey(t, owner, key, "Phone")
	if page := owner.get(twoStepURL).body; !strings.Contains(page, `<span class="badge">Synced</span>`) {
		t.Errorf("a synced passkey is not shown as synced:\n%s", page)
	}

	b := e.localBrowser(uaFirefox)
	b.get("/login")
	opts := b.options(t, passkeySignInPath+optionsSuffix, nil)
	answer, err := key.Get(opts, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	const n = 12
	form := url.Values{"credential": {string(answer)}, csrfField: {b.csrf()}}
	start := make(chan struct{})
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		copyB := &browser{e: e, ua: b.ua, host: b.host, cookies: map[string]string{}}
		for k, v := range b.cookies {
			copyB.cookies[k] = v
		}
		wg.Go(func() {
			<-start
			r := copyB.do(http.MethodPost, passkeySignInPath, form, map[string]string{"Accept": "application/json"})
			statuses[i] = r.StatusCode
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		if s == http.StatusOK {
			ok++
		} else if s != http.StatusUnauthorized {
			t.Errorf("status %d", s)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d sign-ins with one ceremony's answer succeeded, want 1 (statuses %v)", ok, n, statuses)
	}
	if live, _ := e.st.ListUserSessions(u.ID); len(live) != 2 {
		t.Errorf("%d live sessions, want the owner's and one more", len(live))
	}
	if n := countKind(e.events(u), store.EventPasskeyRefused); n != 0 {
		t.Errorf("%d refusals for a copied key recorded: a synced passkey's counter stays 0", n)
	}
	// A synced passkey signs in again and again: its backup flags were
	// kept (the library refuses one whose backup eligibility "changed").
	for range 2 {
		if r, _ := passkeySignIn(t, e.localBrowser(uaChrome), key); r.StatusCode != http.StatusOK {
			t.Fatalf("a synced passkey signing in again: %d %s", r.StatusCode, r.body)
		}
	}
	if pk := e.passkeysOf(u)[0]; !pk.BackupEligible || !pk.BackupState || !pk.Synced() {
		t.Errorf("the synced passkey's flags: %+v", pk)
	}
}

// TestPasskey_Throttled: passkey failures count against the network like
// wrong passwords; once it is throttled, even a right passkey waits.
func TestPasskey_Throttled(t *testing.T) {
	e := passkeyEnv(t)
	_, _, key := e.userWithPasskey(t, "pk@example.com", "Phone")

	b := e.localBrowser(uaFirefox)
	var r resp
	for i := 0; i < 100; i++ {
		b.get("/login")
		b.options(t, passkeySignInPath+optionsSuffix, nil)
		r, _, _ = b.jsonPost(passkeySignInPath, url.Values{"credential": {`{"id":"AAAA","rawId":"AAAA","type":"public-key"}`}})
		if r.StatusCode == http.StatusTooManyRequests {
			break
		}
	}
	if r.StatusCode != http.StatusTooManyRequests || r.header("Retry-After") == "" || !strings.Contains(r.body, "Too many failed sign-in attempts") {
		t.Fatalf("after 100 failures: %d %s", r.StatusCode, r.body)
	}
	b.get("/login")
	opts := b.options(t, passkeySignInPath+optionsSuffix, nil)
	answer, _ := key.Get(opts, testOrigin)
	if r, _, _ := b.jsonPost(passkeySignInPath, url.Values{"credential": {string(answer)}}); r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a right passkey from the throttled network: %d, want 429", r.StatusCode)
	}
	if _, ok := b.session(); ok {
		t.Error("the throttled network got a session")
	}
}

// TestPasskey_SecondStep: a two-step user may use a passkey instead of
// the app's code after their password.
func TestPasskey_SecondStep(t *testing.T) {
	e := passkeyEnv(t)
	u := e.user(store.RoleClientStaff, "two@example.com")
	b := e.localBrowser(uaChrome)
	b.signIn(u.Email)
	turnOnTwoStep(t, b)
	key := softkey.New()
	addPasskey(t, b, key, "Laptop")

	c := e.localBrowser(uaFirefox)
	if r := c.password(u.Email); r.StatusCode != http.StatusSeeOther || r.header("Location") != secondStepPath {
		t.Fatalf("password: %d %s", r.StatusCode, r.header("Location"))
	}
	page := c.get(secondStepPath).body
	if !strings.Contains(page, `data-passkey="second"`) || !strings.Contains(page, "Use a passkey instead") {
		t.Fatalf("the code page does not offer the passkey:\n%s", page)
	}
	// Without the password first, the second step's ceremony is refused.
	stranger := e.localBrowser(uaFirefox)
	stranger.get("/login")
	if r, reply, _ := stranger.jsonPost(passkeySecondPath+optionsSuffix, nil); r.StatusCode != http.StatusBadRequest || reply.Error == "" {
		t.Errorf("second-step options without a password: %d %s", r.StatusCode, r.body)
	}

	opts := c.options(t, passkeySecondPath+optionsSuffix, nil)
	if !strings.Contains(string(opts), `"allowCredentials"`) {
		t.Errorf("the second step does not name the user's passkeys: %s", opts)
	}
	answer, err := key.Get(opts, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	r, reply, _ := c.jsonPost(passkeySecondPath, url.Values{"credential": {string(answer)}})
	if r.StatusCode != http.StatusOK || reply.Redirect != landing(u.Role) {
		t.Fatalf("second step with a passkey: %d %s", r.StatusCode, r.body)
	}
	if s, ok := c.session(); !ok || s.Auth != store.AuthPasswordPasskey || s.Passkey != "Laptop" {
		t.Fatalf("the session: %+v", s)
	}
	if rows := c.get(activeSessionsURL).body; !strings.Contains(rows, "Password and passkey") {
		t.Error("the row does not say password and passkey")
	}
}

// TestPasskey_SatisfiesRequiredTwoStep: on an account that requires
// two-step sign-in, a passkey signs in without the app: it is both steps.
func TestPasskey_SatisfiesRequiredTwoStep(t *testing.T) {
	e := passkeyEnv(t)
	u, _, key := e.userWithPasskey(t, "req@example.com", "Laptop")
	if err := e.st.SetRequireTwoStep("", u.AccountID, store.Actor{}, true); err != nil {
		t.Fatal(err)
	}
	// The password alone now leads to the setup, which offers the passkey.
	c := e.localBrowser(uaFirefox)
	if r := c.password(u.Email); r.header("Location") != requiredSetupPath {
		t.Fatalf("password on a required account: %d %s", r.StatusCode, r.header("Location"))
	}
	if page := c.get(requiredSetupPath).body; !strings.Contains(page, `data-passkey="second"`) {
		t.Errorf("the required setup does not offer the passkey:\n%s", page)
	}
	opts := c.options(t, passkeySecondPath+optionsSuffix, nil)
	answer, _ := key.Get(opts, testOrigin)
	if r, reply, _ := c.jsonPost(passkeySecondPath, url.Values{"credential": {string(answer)}}); r.StatusCode != http.StatusOK || reply.Redirect == "" {
		t.Fatalf("password then passkey on a required account: %d %s", r.StatusCode, r.body)
	}
	// And the passkey alone signs in straight away.
	d := e.localBrowser(uaFirefox)
	if r, reply := passkeySignIn(t, d, key); r.StatusCode != http.StatusOK || reply.Redirect != landing(u.Role) {
		t.Fatalf("passkey on a required account: %d %s", r.StatusCode, r.body)
	}
	if s, ok := d.session(); !ok || !s.Auth.TwoStep() {
		t.Errorf("the session: %+v", s)
	}
}

// TestPasskey_ManageNeedsConfirmation: adding and removing a passkey need
// a recent sign-in or "Confirm it's you", where a passkey counts; renaming
// does not, and nobody can touch another user's passkey.
func TestPasskey_ManageNeedsConfirmation(t *testing.T) {
	e := passkeyEnv(t)
	u, b, key := e.userWithPasskey(t, "pk@example.com", "Laptop")
	id := passkeyID(key.Credentials()[0])

	e.clock.Advance(16 * time.Minute) // past the 15-minute window
	b.get(twoStepURL)
	if r, reply, _ := b.jsonPost(passkeysPath+optionsSuffix, url.Values{"name": {"Second"}}); r.StatusCode != http.StatusOK || reply.Redirect != confirmURL(twoStepURL) {
		t.Fatalf("adding without a recent confirmation: %d %s, want a redirect to confirm", r.StatusCode, r.body)
	}
	remove := passkeysPath + "/" + id + "/remove"
	if r := b.get(remove); r.StatusCode != http.StatusSeeOther || r.header("Location") != confirmURL(remove) {
		t.Fatalf("removing without a recent confirmation: %d %s", r.StatusCode, r.header("Location"))
	}
	if r := b.post(remove, nil); r.StatusCode != http.StatusSeeOther || r.header("Location") != confirmURL(remove) || len(e.passkeysOf(u)) != 1 {
		t.Fatalf("a POST without a recent confirmation: %d %s", r.StatusCode, r.header("Location"))
	}

	// Renaming needs no confirmation; a bad name is refused in the row.
	b.get(twoStepURL)
	if r := b.htmx(http.MethodPost, passkeysPath+"/"+id+"/rename", url.Values{"name": {"Old laptop"}}); r.StatusCode != http.StatusOK || !strings.Contains(r.body, `<span class="device-name">Old laptop</span>`) {
		t.Fatalf("rename: %d %s", r.StatusCode, r.body)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("x", 65), "a\x00b"} {
		if r := b.htmx(http.MethodPost, passkeysPath+"/"+id+"/rename", url.Values{"name": {bad}}); r.StatusCode != http.StatusBadRequest || !strings.Contains(r.body, "1 to 64 characters") {
			t.Errorf("rename to %q: %d %s", bad, r.StatusCode, r.body)
		}
	}
	if pks := e.passkeysOf(u); pks[0].Name != "Old laptop" {
		t.Errorf("name after bad renames: %q", pks[0].Name)
	}

	// Confirm it's you, with the passkey.
	page := b.get(confirmURL(remove)).body
	if !strings.Contains(page, `data-passkey="confirm"`) {
		t.Fatalf("the confirmation page does not offer the passkey:\n%s", page)
	}
	opts := b.options(t, passkeyConfirmPath+optionsSuffix, nil)
	answer, _ := key.Get(opts, testOrigin)
	if r, reply, _ := b.jsonPost(passkeyConfirmPath, url.Values{"credential": {string(answer)}, "next": {remove}}); r.StatusCode != http.StatusOK || reply.Redirect != remove {
		t.Fatalf("confirm with a passkey: %d %s", r.StatusCode, r.body)
	}

	// Another user cannot see, rename or remove it.
	v := e.user(store.RoleClientStaff, "other@example.com")
	o := e.localBrowser(uaFirefox)
	o.signIn(v.Email)
	o.get(twoStepURL)
	if r := o.get(remove); r.StatusCode != http.StatusNotFound {
		t.Errorf("another user's remove page: %d", r.StatusCode)
	}
	if r := o.post(remove, nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("another user's remove: %d", r.StatusCode)
	}
	if r := o.htmx(http.MethodPost, passkeysPath+"/"+id+"/rename", url.Values{"name": {"Mine"}}); r.StatusCode != http.StatusNotFound {
		t.Errorf("another user's rename: %d", r.StatusCode)
	}
	if r := o.get(passkeysPath + "/!!/remove"); r.StatusCode != http.StatusNotFound {
		t.Errorf("a malformed id: %d", r.StatusCode)
	}

	// Now the owner removes it, and it no longer signs in.
	if page := b.get(remove).body; !strings.Contains(page, "Remove the passkey “Old laptop”?") {
		t.Fatalf("the remove page:\n%s", page)
	}
	if r := b.post(remove, nil); r.StatusCode != http.StatusSeeOther || r.header("Location") != twoStepURL {
		t.Fatalf("remove: %d %s", r.StatusCode, r.header("Location"))
	}
	if page := b.get(twoStepURL).body; !strings.Contains(page, "Passkey removed.") || !strings.Contains(page, "You have no passkeys.") {
		t.Errorf("the section after removing:\n%s", page)
	}
	if r, _ := passkeySignIn(t, e.localBrowser(uaFirefox), key); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("a removed passkey signed in: %d", r.StatusCode)
	}
	if evs := e.events(u); countKind(evs, store.EventPasskeyRemoved) != 1 {
		t.Errorf("no removal in the activity")
	}
}

// TestPasskey_PartnerResetRemovesThem: a partner's Turn off two-step
// sign-in also removes the user's passkeys, and says so first.
func TestPasskey_PartnerResetRemovesThem(t *testing.T) {
	e := passkeyEnv(t)
	w := newPartnerWorld(e)
	b := e.localBrowser(uaChrome)
	b.signIn(w.ann.Email)
	key := softkey.New()
	addPasskey(t, b, key, "Ann's phone")

	p := w.partnerAs(w.p1Staff)
	page := p.mustGet(t, partnerUserURL(w.ann.ID)).body
	if !strings.Contains(page, "can sign in with one of their 1 passkey") || !strings.Contains(page, "Turn off two-step sign-in") {
		t.Fatalf("the partner's page does not show the passkey, or offer to turn it off:\n%s", page)
	}
	confirm := partnerTwoStepOffURL(w.ann.ID)
	if page := p.mustGet(t, confirm).body; !strings.Contains(page, "This also removes Ann Archer's 1 passkey") {
		t.Fatalf("the confirmation does not say the passkey goes:\n%s", page)
	}
	p.post(confirm, nil)
	if pks := e.passkeysOf(w.ann); len(pks) != 0 {
		t.Fatalf("%d passkeys left after the reset", len(pks))
	}
	if r, _ := passkeySignIn(t, e.localBrowser(uaFirefox), key); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("a reset passkey signed in: %d", r.StatusCode)
	}
	if _, ok := b.session(); ok {
		t.Error("the user is still signed in after the reset")
	}
}

// TestPasskey_OffOrElsewhere: without a public address passkeys are not
// offered and their routes answer 404; at another address than the
// public one the page says where they work.
func TestPasskey_OffOrElsewhere(t *testing.T) {
	off := newEnv(t)
	b := off.browser(uaChrome)
	if page := b.get("/login").body; strings.Contains(page, "passkey") || !strings.Contains(page, `autocomplete="username webauthn"`) {
		t.Errorf("with passkeys off the sign-in page mentions them, or lost its autofill hint:\n%s", page)
	}
	if r, _, _ := b.jsonPost(passkeySignInPath+optionsSuffix, nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("options with passkeys off: %d", r.StatusCode)
	}

	e := passkeyEnv(t)
	ip := e.browser(uaChrome)
	ip.host = "127.0.0.1:8080"
	page := ip.get("/login").body
	if !strings.Contains(page, "Passkeys work only at http://localhost, the portal&#39;s public address; this page was opened at http://127.0.0.1:8080.") || strings.Contains(page, `data-passkey="sign-in"`) {
		t.Errorf("at an IP address the page does not say where passkeys work:\n%s", page)
	}
	if r, reply, _ := ip.jsonPost(passkeySignInPath+optionsSuffix, nil); r.StatusCode != http.StatusNotFound || reply.Error == "" {
		t.Errorf("options at the wrong address: %d %s", r.StatusCode, r.body)
	}
	u := e.user(store.RoleClientStaff, "pk@example.com")
	ip.signIn(u.Email)
	if page := ip.get(twoStepURL).body; !strings.Contains(page, "Passkeys work only at http://localhost") || strings.Contains(page, `data-passkey="add"`) {
		t.Errorf("Settings at the wrong address offers to add a passkey:\n%s", page)
	}
}

// TestPasskey_BehindHTTPS: a portal that serves its public https address
// through a proxy that ends TLS (-secure-cookies says so) offers passkeys.
func TestPasskey_BehindHTTPS(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.PublicURL, c.SecureCookies = "https://portal.example.com", true })
	b := e.browser(uaChrome)
	b.host = "portal.example.com"
	if page := b.get("/login").body; !strings.Contains(page, `data-passkey="sign-in"`) || strings.Contains(page, "Passkeys work only at") {
		t.Errorf("behind an HTTPS proxy the sign-in page does not offer passkeys:\n%s", page)
	}
	b.host = "portal.example.com:8443"
	if page := b.get("/login").body; !strings.Contains(page, "this page was opened at https://portal.example.com:8443") {
		t.Errorf("at another port the page does not say where passkeys work:\n%s", page)
	}
}

func TestParsePublicURL(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"", "", ""},
		{"https://portal.example.com", "https://portal.example.com", ""},
		{"https://Portal.Example.com:443/", "https://portal.example.com", ""},
		{"https://portal.example.com:8443", "https://portal.example.com:8443", ""},
		{"http://localhost:8080", "http://localhost:8080", ""},
		{"http://portal.example.com", "", "https://"},
		{"https://10.0.0.1", "", "not an IP address"},
		{"https://[::1]:8443", "", "not an IP address"},
		{"https://portal.example.com/portal", "", "without a path"},
		{"https://user@portal.example.com", "", "without a path, query or user"},
		{"https://portal.example.com/?x=1", "", "without a path"},
		{"ftp://portal.example.com", "", "must start with https://"},
		{"portal.example.com", "", "must be an address like"},
	} {
		got, err := ParsePublicURL(tc.in)
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("ParsePublicURL(%q) = %q, %v; want %q, error containing %q", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// TestPasskey_AddRefusals: a new passkey whose answer does not check out
// is not kept, and the page says so; past 20 none is added.
func TestPasskey_AddRefusals(t *testing.T) {
	e := passkeyEnv(t)
	u := e.user(store.RoleClientStaff, "pk@example.com")
	b := e.localBrowser(uaChrome)
	b.signIn(u.Email)
	create := func(t *testing.T, k *softkey.Authenticator, origin string) ([]byte, []byte) {
		t.Helper()
		b.get(twoStepURL)
		opts := b.options(t, passkeysPath+optionsSuffix, url.Values{"name": {"New"}})
		answer, err := k.Create(opts, origin)
		if err != nil {
			t.Fatal(err)
		}
		return opts, answer
	}
	noUV := softkey.New()
	noUV.SetOptions(softkey.Options{NoUserVerification: true})
	for _, tc := range []struct {
		name, want string
		answer     func(t *testing.T) []byte
	}{
		{"wrong origin", "did not check out", func(t *testing.T) []byte {
			_, a := create(t, softkey.New(), "http://localhost.evil.example")
			return a
		}},
		{"no user verification", "did not check out", func(t *testing.T) []byte {
			_, a := create(t, noUV, testOrigin)
			return a
		}},
		{"answer to another ceremony", "did not check out", func(t *testing.T) []byte {
			_, a := create(t, softkey.New(), testOrigin)
			b.options(t, passkeysPath+optionsSuffix, url.Values{"name": {"New"}}) // begins another
			return a
		}},
		{"not an answer", "could not be read", func(t *testing.T) []byte {
			create(t, softkey.New(), testOrigin)
			return []byte(`{"id":"x"}`)
		}},
		{"no ceremony", "took too long", func(t *testing.T) []byte {
			_, a := create(t, softkey.New(), testOrigin)
			delete(b.cookies, passkeyCookie)
			return a
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			answer := tc.answer(t)
			r, reply, _ := b.jsonPost(passkeysPath, url.Values{"credential": {string(answer)}})
			if r.StatusCode != http.StatusBadRequest || !strings.Contains(reply.Error, tc.want) {
				t.Fatalf("status %d, reply %+v; want 400 saying %q", r.StatusCode, reply, tc.want)
			}
			if pks := e.passkeysOf(u); len(pks) != 0 {
				t.Fatalf("a refused passkey was kept: %+v", pks)
			}
		})
	}

	// The same answer twice: the second finds its ceremony used.
	_, answer := create(t, softkey.New(), testOrigin)
	if r, _, _ := b.jsonPost(passkeysPath, url.Values{"credential": {string(answer)}}); r.StatusCode != http.StatusOK {
		t.Fatalf("a good passkey: %d %s", r.StatusCode, r.body)
	}
	if r, _, _ := b.jsonPost(passkeysPath, url.Values{"credential": {string(answer)}}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("the same answer again: %d, want 400", r.StatusCode)
	}
	for len(e.passkeysOf(u)) < store.MaxPasskeysPerUser {
		addPasskey(t, b, softkey.New(), "Another")
	}
	if page := b.get(twoStepURL).body; !strings.Contains(page, "You have 20 passkeys, the most an account can have.") || strings.Contains(page, `data-passkey="add"`) {
		t.Error("at 20 passkeys the section still offers to add one")
	}
	if r, reply, _ := b.jsonPost(passkeysPath+optionsSuffix, url.Values{"name": {"One more"}}); r.StatusCode != http.StatusBadRequest || !strings.Contains(reply.Error, "the most an account can have") {
		t.Errorf("a 21st: %d %+v", r.StatusCode, reply)
	}
	if n := len(e.passkeysOf(u)); n != store.MaxPasskeysPerUser {
		t.Errorf("%d passkeys, want %d", n, store.MaxPasskeysPerUser)
	}
}
