package e2e

import (
	"context"
	"net"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// Sentences of the passkey pages and of static/passkeys.js.
const (
	flashPasskeyAdded   = "Passkey added. You can now sign in with it, without your password."
	flashPasskeyRemoved = "Passkey removed. It no longer signs you in."
	passkeyNotUsed      = "No passkey was used. Try again, or use another way."
	passkeyRefused      = "That passkey did not sign you in. Try again, or sign in with your email and password."
)

// passkeyTestTimeout bounds a passkey test: two browsers and a dozen
// ceremonies on a loaded machine.
const passkeyTestTimeout = 3 * time.Minute

// setupPasskeys is setup for passkeys: the portal must know its public
// address before it listens, since a passkey is bound to it, so the test
// picks the port (-addr 127.0.0.1:0 would leave passkeys off). The demo's
// public address is then http://localhost:PORT, and the browsers open the
// portal there (a relying party cannot be an IP address).
func setupPasskeys(t *testing.T) (context.Context, *server) {
	t.Helper()
	requireChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), passkeyTestTimeout)
	t.Cleanup(cancel)
	for try := 1; ; try++ {
		port := freePort(t)
		s, err := startServerArgs(t, "-addr", "127.0.0.1:"+port)
		if err != nil {
			// Another process may have taken the port meanwhile.
			if try < 3 && strings.Contains(err.Error(), "address already in use") {
				continue
			}
			t.Fatal(err)
		}
		s.URL = "http://localhost:" + port
		return ctx, s
	}
}

// freePort is a TCP port nothing listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// authenticator is a virtual authenticator in a browser's tab: a platform
// authenticator (like a laptop's fingerprint reader) that keeps passkeys,
// verifies its user and agrees at once, without a prompt.
type authenticator struct {
	b  *browser
	id webauthn.AuthenticatorID
}

func (b *browser) addAuthenticator() *authenticator {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		b.t.Fatalf("%s: enable WebAuthn: %v", b.name, err)
	}
	res, err := chromedp.Call(b.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:            webauthn.AuthenticatorProtocolCtap2,
			Ctap2version:        webauthn.Ctap2versionCtap21,
			Transport:           webauthn.AuthenticatorTransportInternal,
			HasResidentKey:      true,
			HasUserVerification: true,
			IsUserVerified:      true,
			// Said explicitly: without it no ceremony ever ends.
			AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		b.t.Fatalf("%s: add a virtual authenticator: %v", b.name, err)
	}
	return &authenticator{b: b, id: res.AuthenticatorID}
}

// credentials are the passkeys the authenticator holds.
func (a *authenticator) credentials() []*webauthn.Credential {
	a.b.t.Helper()
	res, err := chromedp.Call(a.b.ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: a.id})
	if err != nil {
		a.b.t.Fatalf("%s: read the authenticator's passkeys: %v", a.b.name, err)
	}
	return res.Credentials
}

// presence turns the authenticator's automatic consent on or off: off,
// a request waits as for a person who has not touched anything yet.
func (a *authenticator) presence(on bool) {
	a.b.t.Helper()
	_, err := chromedp.Call(a.b.ctx, webauthn.SetAutomaticPresenceSimulation, webauthn.SetAutomaticPresenceSimulationParams{AuthenticatorID: a.id, Enabled: on})
	if err != nil {
		a.b.t.Fatalf("%s: set the authenticator's presence to %v: %v", a.b.name, on, err)
	}
}

// copyCredential is a passkey as WebAuthn.addCredential takes it, with
// only the fields a copy needs: webauthn.Credential always sends
// generateCmtgKeyOnNextOperation, which Chromium refuses for an
// authenticator without that extension.
type copyCredential struct {
	CredentialID         []byte  `json:"credentialId"`
	IsResidentCredential bool    `json:"isResidentCredential"`
	RpID                 string  `json:"rpId"`
	PrivateKey           []byte  `json:"privateKey"`
	UserHandle           []byte  `json:"userHandle"`
	SignCount            float64 `json:"signCount"`
}

type addCredentialParams struct {
	AuthenticatorID webauthn.AuthenticatorID `json:"authenticatorId"`
	Credential      copyCredential           `json:"credential"`
}

var addCredential = cdp.Command[addCredentialParams, cdp.Empty]{Method: webauthn.CommandAddCredential}

// addCopy puts a copy of c, its signature counter at signCount, in the
// authenticator.
func (a *authenticator) addCopy(c *webauthn.Credential, signCount float64) {
	a.b.t.Helper()
	_, err := chromedp.Call(a.b.ctx, addCredential, addCredentialParams{AuthenticatorID: a.id, Credential: copyCredential{
		CredentialID: c.CredentialID, IsResidentCredential: c.IsResidentCredential, RpID: c.RpID,
		PrivateKey: c.PrivateKey, UserHandle: c.UserHandle, SignCount: signCount,
	}})
	if err != nil {
		a.b.t.Fatalf("%s: put a copy of a passkey in the authenticator: %v", a.b.name, err)
	}
}

// Chromium answers the sign-in page's autofill request (conditional
// mediation) at once from a virtual authenticator that holds a passkey
// for the page, as if the person had picked it from the email field's
// suggestions. To test the button, the authenticator's consent is off
// while the page loads, so that the autofill request waits as it does
// for someone who goes for the button; passkeySignInReady turns it on.

// signOut clicks Sign out in the top bar and expects the sign-in page.
func (b *browser) signOut() {
	b.t.Helper()
	b.clickAndLoad(`form[action="/logout"] button[type=submit]`)
	if u := b.location(); u.Path != "/login" {
		b.t.Fatalf("%s: signing out led to %s, want /login", b.name, u)
	}
}

// passkeySignInReady waits until the sign-in page's script is ready:
// static/passkeys.js set up the passkey button and, where the browser
// offers passkeys in autofill, began that request (fetched its options,
// so that the button's own options come after them, as a person's click
// would). Then it turns key's consent on.
func (b *browser) passkeySignInReady(key *authenticator) {
	b.t.Helper()
	b.do("wait for the passkey button", chromedp.WaitVisible(chromedp.CSS(`[data-passkey=sign-in][data-passkey-ready] button`)))
	if b.autofillPasskeys() {
		run(b, "wait for the autofill request's options", chromedp.Poll[bool](
			`performance.getEntriesByType('resource').some(e => e.name.endsWith('/login/passkey/options?mediation=conditional'))`,
			chromedp.WithPollingInterval(20*time.Millisecond)))
	}
	b.waitLoaded()
	key.presence(true)
}

// waitLoaded waits for the page's load event, so that the next
// clickAndLoad sees the load of the page its click leads to.
func (b *browser) waitLoaded() {
	b.t.Helper()
	run(b, "wait for the page to load", chromedp.Poll[bool](`document.readyState === 'complete'`, chromedp.WithPollingInterval(20*time.Millisecond)))
}

// clickPasskeyButtonForError clicks "Sign in with a passkey" and expects
// to stay on sign-in with want said under the button.
func (b *browser) clickPasskeyButtonForError(want string) {
	b.t.Helper()
	const errSel = `[data-passkey=sign-in] [data-passkey-error]`
	b.do("click Sign in with a passkey and wait for what it says",
		chromedp.Click(chromedp.CSS(`[data-passkey=sign-in] button`)),
		chromedp.WaitVisible(chromedp.CSS(errSel)),
	)
	b.assertText(errSel, want)
	if u := b.location(); u.Path != "/login" {
		b.t.Errorf("%s: the passkey led to %s, want to stay on /login", b.name, u)
	}
}

// expect adds messages watch does not count as problems.
func (b *browser) expect(messages ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expected = append(b.expected, messages...)
}

// autofillPasskeys reports whether the browser offers passkeys in
// autofill (conditional mediation).
func (b *browser) autofillPasskeys() bool {
	b.t.Helper()
	return eval[bool](b, `typeof PublicKeyCredential.isConditionalMediationAvailable === 'function'`) &&
		run(b, "ask whether the browser offers passkeys in autofill", chromedp.Evaluate[bool](
			`PublicKeyCredential.isConditionalMediationAvailable()`, chromedp.EvalAwaitPromise))
}

// passkeyNames are the names the Passkeys list shows, in order.
func (b *browser) passkeyNames() []string {
	b.t.Helper()
	return eval[[]string](b, `Array.from(document.querySelectorAll('.passkey-list li.passkey .device-name')).map(e => e.textContent.trim())`)
}

// activity is the sentences of the Security activity, newest first.
func (b *browser) activity() []string {
	b.t.Helper()
	b.openSecurityActivity()
	return eval[[]string](b, `Array.from(document.querySelectorAll('.activity-entry .activity-sentence')).map(e => e.textContent.trim())`)
}

// TestPasskeys: a user adds a passkey in Settings from a browser whose
// (virtual) authenticator then holds it; signs out and back in with it
// alone, by the button and by autofill, and the session's row and the
// Security activity say so. Another browser's authenticator without it
// does not sign in; a copy of it whose signature counter is behind the
// portal's is refused and the user is told. Confirming it's them with the
// passkey leads on to removing it; once removed it no longer signs in.
func TestPasskeys(t *testing.T) {
	ctx, srv := setupPasskeys(t)
	refused := []string{"HTTP 401 for " + srv.URL + "/login/passkey", "status of 401 (Unauthorized) " + srv.URL + "/login/passkey"}
	a := newBrowser(t, ctx, srv, "A", chromeLinux)
	// Its own Sign out ends the session its live-updates stream is for,
	// whose "end" then races the form's redirect to sign-in: either
	// navigation may cancel the other (net::ERR_ABORTED). Live updates
	// are tested on their own.
	a.blockLive()
	keyA := a.addAuthenticator()
	a.watch()
	a.signIn(staffEmail)

	// Add one.
	a.navigate("/settings?section=two-step")
	a.assertText("#section-title", "Two-step sign-in")
	if names := a.passkeyNames(); len(names) != 0 {
		t.Fatalf("the new user already has passkeys %q", names)
	}
	a.assertText(".passkeys .empty", "You have no passkeys.")
	a.do("name the passkey",
		chromedp.WaitVisible(chromedp.CSS(`form[data-passkey=add][data-passkey-ready]`)),
		chromedp.SetValue(chromedp.ID("passkey-name"), "Test laptop"),
	)
	a.waitLoaded()
	a.clickAndLoad(`form[data-passkey=add] button[type=submit]`)
	a.assertPath("/settings?section=two-step")
	a.assertText("#flash .flash-msg", flashPasskeyAdded)
	if names := a.passkeyNames(); len(names) != 1 || names[0] != "Test laptop" {
		t.Fatalf("the Passkeys list shows %q, want [Test laptop]:\n%s", names, a.text("main"))
	}
	creds := keyA.credentials()
	if len(creds) != 1 {
		t.Fatalf("the authenticator holds %d passkeys, want 1", len(creds))
	}
	if c := creds[0]; !c.IsResidentCredential || c.RpID != "localhost" || len(c.UserHandle) == 0 {
		t.Errorf("the authenticator's passkey is resident=%v for %q with user handle %x; want a discoverable one for localhost with a user handle",
			c.IsResidentCredential, c.RpID, c.UserHandle)
	}
	passkeyID := strings.TrimPrefix(eval[string](a, `document.querySelector('.passkey-list li.passkey').id`), "passkey-")
	runAxe(t, a, "the Passkeys part")

	// Sign out, and in with the passkey alone: the button, no email.
	keyA.presence(false)
	a.signOut()
	a.passkeySignInReady(keyA)
	runAxe(t, a, "sign-in with the passkey button")
	a.clickAndLoad(`[data-passkey=sign-in] button`)
	if u := a.location(); u.Path != "/settings" {
		t.Fatalf("the passkey led to %s, want /settings:\n%s", u, a.text("main"))
	}
	a.assertText("h1", "Profile")
	if c := keyA.credentials(); len(c) != 1 || c[0].SignCount < 1 {
		t.Fatalf("after signing in the authenticator holds %d passkeys (%+v); want the one, its counter moved on", len(c), c)
	}
	a.openActiveSessions()
	rows := a.rows()
	assertCurrentFirst(t, rows, chromeLinux)
	if got := rows[0].Auth; got != "Passkey Two-step" {
		t.Errorf("the current row says it signed in with %q, want \"Passkey\" and the Two-step badge", got)
	}
	if got := a.activity(); len(got) == 0 || !strings.HasPrefix(got[0], "Signed in with "+chromeLinux.Label+" from ") ||
		!strings.HasSuffix(got[0], " using the passkey “Test laptop”") {
		t.Errorf("the newest activity is not this browser's sign-in using the passkey “Test laptop”: %q", got)
	}

	// By autofill: the sign-in page's own request, answered at once.
	if a.autofillPasskeys() {
		a.clickAndLoad(`form[action="/logout"] button[type=submit]`)
		a.waitPath("/settings", stepTimeout)
		a.waitLoaded()
		a.assertText("h1", "Profile")
		a.openActiveSessions()
		if rows := a.rows(); rows[0].Auth != "Passkey Two-step" {
			t.Errorf("after autofill the current row says it signed in with %q, want \"Passkey\" and the Two-step badge", rows[0].Auth)
		}
	} else {
		t.Log("this Chromium does not offer passkeys in autofill; that sign-in is not tested")
	}
	a.assertNoProblems()

	// Another browser, whose authenticator does not have it: no passkey
	// to use, so nothing is sent and it stays on sign-in.
	b := newBrowser(t, ctx, srv, "B", firefoxWindows)
	keyB := b.addAuthenticator()
	b.watch()
	keyB.presence(false)
	b.navigate("/login")
	b.passkeySignInReady(keyB)
	b.clickPasskeyButtonForError(passkeyNotUsed)
	if n := len(keyB.credentials()); n != 0 {
		t.Errorf("B's authenticator holds %d passkeys, want none", n)
	}
	b.assertNoProblems()

	// A copy of the passkey, its signature counter behind the one the
	// portal saw: refused, and the user is told in their activity.
	keyB.addCopy(keyA.credentials()[0], 0)
	b.expect(refused...)
	keyB.presence(false)
	b.navigate("/login")
	b.passkeySignInReady(keyB)
	b.clickPasskeyButtonForError(passkeyRefused)
	got := a.activity()
	if !slices.ContainsFunc(got, func(s string) bool {
		return strings.HasPrefix(s, "A sign-in with the passkey “Test laptop” was refused: its signature counter went backwards")
	}) {
		t.Errorf("the activity does not tell of the refused copy: %q", got)
	}
	b.assertNoProblems()

	// Remove it: the sign-in was recent, so Remove asks only whether to.
	a.navigate("/settings?section=two-step")
	removePage := "/settings/passkeys/" + passkeyID + "/remove"
	a.clickAndLoad(`.passkey-list a[aria-label="Remove Test laptop"]`)
	a.assertPath(removePage)
	a.assertText("#section-title", "Remove the passkey “Test laptop”?")
	runAxe(t, a, "Remove the passkey")
	// "Confirm it's you" (where Remove sends a sign-in older than the
	// window) takes the passkey instead of the password, and leads back.
	a.navigate("/confirm?next=" + url.QueryEscape(removePage))
	a.assertText("h1", "Confirm it's you")
	a.do("wait for the passkey button", chromedp.WaitVisible(chromedp.CSS(`[data-passkey=confirm][data-passkey-ready] button`)))
	a.waitLoaded()
	runAxe(t, a, "Confirm it's you, with a passkey")
	a.assertText(`[data-passkey=confirm] button`, "Use a passkey instead")
	a.clickAndLoad(`[data-passkey=confirm] button`)
	a.assertPath(removePage)
	a.clickAndLoad(`form[action="` + removePage + `"] button.btn-danger`)
	a.assertPath("/settings?section=two-step")
	a.assertText("#flash .flash-msg", flashPasskeyRemoved)
	if names := a.passkeyNames(); len(names) != 0 {
		t.Errorf("after removing it the list shows %q", names)
	}
	a.assertText(".passkeys .empty", "You have no passkeys.")
	if got := a.activity(); len(got) == 0 || !strings.HasPrefix(got[0], "Passkey “Test laptop” removed") {
		t.Errorf("the newest activity is not the removal: %q", got)
	}
	a.assertNoProblems()

	// The authenticator still has it, but it no longer signs in.
	if n := len(keyA.credentials()); n != 1 {
		t.Fatalf("A's authenticator holds %d passkeys, want the removed one still", n)
	}
	a.expect(refused...)
	keyA.presence(false)
	a.signOut()
	a.passkeySignInReady(keyA)
	a.clickPasskeyButtonForError(passkeyRefused)
	a.assertNoProblems()
}

// TestPasskeysWithoutJavaScript: passkeys need the script, so without it
// their parts stay hidden rather than offering a button that does
// nothing; the password signs in, and Settings says what adding one needs.
func TestPasskeysWithoutJavaScript(t *testing.T) {
	ctx, srv := setupPasskeys(t)
	b := newBrowser(t, ctx, srv, "A", chromeLinux)
	b.disableJavaScript()
	shown := func(sel string) bool {
		return eval[bool](b, `(() => { const e = document.querySelector(`+"`"+sel+"`"+`); return !!e && getComputedStyle(e).display !== "none"; })()`)
	}
	b.navigate("/login")
	if shown(`[data-passkey=sign-in]`) {
		t.Error("without JavaScript the sign-in page shows the passkey button")
	}
	b.signIn(adminEmail)
	b.navigate("/settings?section=two-step")
	if shown(`form[data-passkey=add]`) {
		t.Error("without JavaScript Settings shows the Add a passkey form")
	}
	if got := b.text("section.passkeys noscript"); !strings.Contains(got, "Adding a passkey needs JavaScript.") {
		t.Errorf("without JavaScript the Passkeys part says %q", got)
	}
}
