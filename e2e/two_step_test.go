package e2e

import (
	"encoding/base32"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"portal/twostep"
)

// TestTwoStepSignIn: a user turns two-step sign-in on from Settings (the
// test reads the key from the page as a person would type it into an app,
// and computes the code), saves the recovery codes, signs out, signs in
// with a recovery code and then with an app code, and each session's row
// says how it signed in. Then their partner turns it off for them (they
// lost their phone): the user's browser is sent to sign-in with the
// reason, and the password alone signs in again.
func TestTwoStepSignIn(t *testing.T) {
	ctx, srv := setup(t)
	user := newBrowser(t, ctx, srv, "user", firefoxWindows)
	user.blockLive()
	user.watch()
	user.signIn(adminEmail)

	user.navigate("/settings?section=two-step")
	user.assertText("#section-title", "Two-step sign-in")
	user.clickAndLoad(`a[href="/settings/two-step/setup"]`)
	key := strings.ReplaceAll(user.text("code.secret-key"), " ", "")
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(key)
	if err != nil || len(secret) != 20 {
		t.Fatalf("the key on the page, %q, is not a 20-byte base32 secret: %v", key, err)
	}
	if qr := eval[string](user, `document.querySelector('img[alt^="QR code"]').getAttribute('src')`); !strings.HasPrefix(qr, "data:image/png;base64,") {
		t.Errorf("the QR code is %.40q…, want a PNG drawn by the portal", qr)
	}
	user.do("enter the app's code", chromedp.SendKeys(chromedp.ID("code"), twostep.Code(secret, time.Now())))
	user.clickAndLoad(`form button.btn-primary[type=submit]`)
	codes := eval[[]string](user, `Array.from(document.querySelectorAll('.recovery-codes ol.codes code')).map(c => c.textContent.trim())`)
	if len(codes) != 10 {
		t.Fatalf("the recovery codes page shows %d codes, want 10:\n%s", len(codes), user.text("main"))
	}
	if href := eval[string](user, `document.querySelector('a[download]').getAttribute('href')`); !strings.Contains(href, codes[0]) {
		t.Error("the download link does not hold the codes")
	}
	user.clickAndLoad(`.recovery-codes a.btn-primary`)
	user.navigate("/settings?section=two-step")
	if !strings.Contains(user.text("main"), "10 recovery codes left") {
		t.Errorf("the section does not say 10 codes are left:\n%s", user.text("main"))
	}

	signInWithSecondStep := func(fill func(), want string) {
		t.Helper()
		user.clickAndLoad(`form[action="/logout"] button[type=submit]`)
		user.enterPassword(adminEmail)
		user.assertPath("/login/code")
		if ac := eval[string](user, `(document.getElementById('code') || {}).autocomplete || ''`); ac != "one-time-code" {
			t.Errorf("the code field's autocomplete is %q, want one-time-code", ac)
		}
		fill()
		user.assertPath("/settings")
		user.openActiveSessions()
		var current row
		for _, r := range user.rows() {
			if r.Current {
				current = r
			}
		}
		if !strings.HasPrefix(current.Auth, want) || !strings.Contains(current.Auth, "Two-step") {
			t.Errorf("the current row says it signed in with %q, want %q and the Two-step badge", current.Auth, want)
		}
	}
	signInWithSecondStep(func() {
		user.clickAndLoad(`a[href="/login/code?method=recovery"]`)
		user.do("enter a recovery code", chromedp.SendKeys(chromedp.ID("recovery_code"), strings.ToLower(codes[3])))
		user.clickAndLoad(`form[action="/login/code"] button[type=submit]`)
	}, "Password and recovery code")
	signInWithSecondStep(func() {
		// The setup used this step's code; the next step's is within the
		// drift and not used yet.
		user.do("enter the app's code", chromedp.SendKeys(chromedp.ID("code"), twostep.Code(secret, time.Now().Add(30*time.Second))))
		user.clickAndLoad(`form[action="/login/code"] button[type=submit]`)
	}, "Password and authenticator app")

	// The partner turns it off for the user, confirming first that it is
	// them (a fresh sign-in counts).
	partner := newBrowser(t, ctx, srv, "partner", chromeLinux)
	partner.watch()
	partner.signIn(partnerEmail)
	partner.findUser(adminEmail)
	partner.clickAndLoad(`#two-step button.btn-danger`)
	if title := partner.text("#page-title"); !strings.HasPrefix(title, "Turn off two-step sign-in for ") || !strings.Contains(partner.text("main"), "signs") {
		t.Errorf("the confirmation reads %q and does not say it signs the user out everywhere:\n%s", title, partner.text("main"))
	}
	partner.clickAndLoad(`form.actions button.btn-danger`)
	if !strings.Contains(partner.text("#two-step"), "Off.") {
		t.Errorf("the user's page does not say two-step sign-in is off:\n%s", partner.text("main"))
	}
	user.navigate("/settings?section=active-sessions")
	if u := user.location(); u.Path != "/login" || u.Query().Get("reason") != "two_step_reset" {
		t.Fatalf("the user's next page is %s, want sign-in with the two-step reason", u)
	}
	if !strings.Contains(user.text("main"), "two-step sign-in was turned off") {
		t.Errorf("sign-in does not say why:\n%s", user.text("main"))
	}
	user.signIn(adminEmail) // the password alone again
	user.assertNoProblems()
	partner.assertNoProblems()
}
