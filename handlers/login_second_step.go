package handlers

import (
	"errors"
	"html/template"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"portal/geo"
	"portal/store"
	"portal/twostep"
)

// The second step of signing in. A correct password for a user with
// two-step sign-in gives no session, only the pending state
// (two_step_state.go); a code from the app or a recovery code then makes
// the session. A user whose account requires two-step sign-in and who has
// not set it up sets it up here, before any session exists.

const (
	secondStepPath    = "/login/code"
	requiredSetupPath = "/login/setup"
	maxRecoveryLen    = 64
)

// secondStepFor is where a user goes after a correct password: the code
// page, the required setup, or "" for a session straight away.
func (h *handler) secondStepFor(u store.User) (string, error) {
	_, err := h.twoStep.TwoStep(u.ID)
	switch {
	case err == nil:
		return secondStepPath, nil
	case !errors.Is(err, store.ErrTwoStepOff):
		return "", err
	}
	acct, err := h.accounts.AccountByID(u.AccountID)
	if err != nil {
		return "", err
	}
	if acct.RequireTwoStep {
		return requiredSetupPath, nil
	}
	return "", nil
}

// secondStepView is the page asking for the code (or a recovery code).
type secondStepView struct {
	Layout   layoutView
	CSRF     string
	Recovery bool   // asks for a recovery code rather than the app's
	Error    string // what was wrong with the last try
	DemoCode string // -demo only: the user's current code
	Passkey  bool   // offers one of the user's passkeys instead
}

func (h *handler) renderSecondStep(c *fiber.Ctx, p pending, ts store.TwoStep, recovery bool, status int, msg string) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	pk, err := h.hasPasskeys(c, p.User.ID)
	if err != nil {
		return err
	}
	v := &secondStepView{Layout: h.newLayout(c, "Two-step sign-in"), CSRF: h.csrfToken(csrfLogin, h.preSession(c)), Recovery: recovery, Error: msg, Passkey: pk}
	if h.cfg.Demo && !recovery {
		v.DemoCode = twostep.Code(ts.Secret, h.now())
	}
	return c.Status(status).Render("login_code", v)
}

// pendingTwoStep is the pending sign-in and its user's two-step sign-in;
// done is set when the request was answered (back to sign-in, or on to
// the required setup).
func (h *handler) pendingTwoStep(c *fiber.Ctx) (p pending, ts store.TwoStep, done bool, err error) {
	p, text, err := h.pendingOf(c)
	if err != nil || text != "" {
		return p, ts, true, orElse(err, func() error { return h.backToSignIn(c, text) })
	}
	ts, err = h.twoStep.TwoStep(p.User.ID)
	if errors.Is(err, store.ErrTwoStepOff) {
		next, err := h.secondStepFor(p.User)
		if err == nil && next == requiredSetupPath {
			err = h.redirect(c, next)
		} else if err == nil {
			// Turned off (by a partner, say) since the password: start again.
			h.endPending(c)
			err = h.backToSignIn(c, pendingInvalidText)
		}
		return p, ts, true, err
	}
	return p, ts, err != nil, err
}

func orElse(err error, f func() error) error {
	if err != nil {
		return err
	}
	return f()
}

// secondStepPage asks for the code from the app, or with
// ?method=recovery for a recovery code.
func (h *handler) secondStepPage(c *fiber.Ctx) error {
	p, ts, done, err := h.pendingTwoStep(c)
	if done {
		return err
	}
	return h.renderSecondStep(c, p, ts, c.Query("method") == "recovery", fiber.StatusOK, "")
}

// secondStepSubmit checks the code and, if it is right, signs in. Wrong
// codes are counted per user before they are checked, like passwords.
func (h *handler) secondStepSubmit(c *fiber.Ctx) error {
	if !h.csrfValid(c, csrfLogin, h.readCookie(c, preSessionCookie)) {
		return errCSRF
	}
	p, ts, done, err := h.pendingTwoStep(c)
	if done {
		return err
	}
	recovery := formValue(c, "method") == "recovery"
	fail := func(status int, msg string) error { return h.renderSecondStep(c, p, ts, recovery, status, msg) }
	var code string
	if recovery {
		code = strings.TrimSpace(formValue(c, "recovery_code"))
		if code == "" || len(code) > maxRecoveryLen || !recoveryWellFormed(code) {
			return fail(fiber.StatusBadRequest, "Enter one of your recovery codes: 16 letters and digits, as printed.")
		}
	} else if code = twostep.Clean(formValue(c, "code")); !twostep.WellFormed(code) {
		return fail(fiber.StatusBadRequest, "Enter the 6 digits your authenticator app shows.")
	}
	addr, err := h.clientAddr(c)
	if err != nil {
		return err
	}
	try, wait := h.throttle.reserve(h.now(), codeKey(p.User.ID))
	if try == nil {
		h.log.Warn("second step throttled", "user_id", p.User.ID, "ip", geo.Mask(addr))
		retryAfter(c, wait)
		return fail(fiber.StatusTooManyRequests, "Too many wrong codes. Try again in "+humanDuration(wait)+".")
	}
	method := store.AuthPasswordApp
	var ok, used bool
	if recovery {
		method = store.AuthPasswordRecovery
		_, err = h.twoStep.UseRecoveryCode(p.User.ID, code)
		ok, used = err == nil, errors.Is(err, store.ErrCodeUsed)
		if used {
			err = nil
		}
	} else {
		ok, used, err = h.acceptAppCode(p.User.ID, ts.Secret, code)
	}
	if err != nil {
		try.cancelled()
		return err
	}
	if !ok {
		h.log.Info("second step failed", "user_id", p.User.ID, "ip", geo.Mask(addr))
		h.twoStep.RecordCodeFailure(p.User.ID, h.geo.Place(addr))
		msg := codeWrongText(used)
		if recovery {
			msg = "That recovery code is not right, or it was used already."
		}
		return fail(fiber.StatusUnauthorized, msg)
	}
	try.succeeded()
	if err := h.startSession(c, p.User, addr, p.Zone, method, nil); err != nil {
		return err
	}
	return h.redirect(c, landing(p.User.Role))
}

// setupView is the form that turns two-step sign-in on: the QR code, the
// key as text, and the field for the first code. Sealed is the new secret,
// sealed for this session or pending sign-in only.
type setupView struct {
	Action, CSRF, Sealed, Text, Error string
	QR                                template.URL
	Cancel                            string // where Cancel goes; "" for none
}

// newSetupView shows secret (new, or the one the form brought back) for
// account (the user's email), sealed for bind.
func (h *handler) newSetupView(account, bind string, secret []byte) (*setupView, error) {
	var k twostep.Key
	var err error
	if secret == nil {
		k, err = twostep.NewKey(account)
	} else {
		k, err = twostep.KeyFor(account, secret)
	}
	if err != nil {
		return nil, err
	}
	qr, err := k.QR(200)
	if err != nil {
		return nil, err
	}
	sealed, err := h.sealSetup(bind, k.Secret)
	if err != nil {
		return nil, err
	}
	return &setupView{Sealed: sealed, Text: twostep.Text(k.Secret), QR: template.URL(qr)}, nil
}

// codesView shows a new set of recovery codes, once.
type codesView struct {
	Codes    []string
	Download template.URL // the codes as a text file
	Continue string
}

func newCodesView(codes []string, next string) *codesView {
	text := "AiDial portal recovery codes\r\nEach code works once, in place of a code from your authenticator app.\r\n\r\n" + strings.Join(codes, "\r\n") + "\r\n"
	return &codesView{Codes: codes, Download: template.URL("data:text/plain;charset=utf-8," + url.PathEscape(text)), Continue: next}
}

// enableWithCode turns two-step sign-in on for u with secret if code is its
// current code (throttled per user like any code): the recovery codes, or
// the sentence saying what was wrong.
func (h *handler) enableWithCode(c *fiber.Ctx, u store.User, by store.Actor, secret []byte, code string) ([]string, int, string, error) {
	code = twostep.Clean(code)
	if !twostep.WellFormed(code) {
		return nil, fiber.StatusBadRequest, "Enter the 6 digits your authenticator app shows.", nil
	}
	try, wait := h.throttle.reserve(h.now(), codeKey(u.ID))
	if try == nil {
		retryAfter(c, wait)
		return nil, fiber.StatusTooManyRequests, "Too many wrong codes. Try again in " + humanDuration(wait) + ".", nil
	}
	steps := twostep.Steps(secret, code, h.now())
	if len(steps) == 0 {
		return nil, fiber.StatusBadRequest, "That code is not right. Check the time on your phone and enter the code your app shows now.", nil
	}
	try.succeeded()
	codes := newRecoveryCodes()
	if err := h.twoStep.EnableTwoStep(u.ID, by, secret, codes); err != nil {
		h.log.Error("two-step sign-in could not be turned on", "user_id", u.ID, "err", err)
		return nil, 0, "", notSaved("turn on two-step sign-in", err)
	}
	// The code that turned it on is used: it cannot sign in as well.
	if err := h.twoStep.AcceptCode(u.ID, steps[0]); err != nil && !errors.Is(err, store.ErrCodeUsed) {
		return nil, 0, "", err
	}
	h.log.Info("two-step sign-in turned on", "user_id", u.ID)
	return codes, 0, "", nil
}

// requiredSetupView is the setup page of a user whose account requires
// two-step sign-in, before they have a session.
type requiredSetupView struct {
	Layout  layoutView
	Setup   *setupView
	CSRF    string
	Passkey bool // offers one of the user's passkeys instead
}

// requiredCodesView shows the recovery codes at the end of that setup.
type requiredCodesView struct {
	Layout layoutView
	Codes  *codesView
}

func pendingBind(pre, userID string) string { return "pending:" + pre + ":" + userID }

// requiredPending is the pending sign-in of a user who must set two-step
// sign-in up; done is set when the request was answered otherwise.
func (h *handler) requiredPending(c *fiber.Ctx) (pending, bool, error) {
	p, text, err := h.pendingOf(c)
	if err != nil || text != "" {
		return p, true, orElse(err, func() error { return h.backToSignIn(c, text) })
	}
	next, err := h.secondStepFor(p.User)
	if err != nil {
		return p, true, err
	}
	if next != requiredSetupPath {
		if next == "" { // no longer required: sign in again
			h.endPending(c)
			return p, true, h.backToSignIn(c, pendingInvalidText)
		}
		return p, true, h.redirect(c, next)
	}
	return p, false, nil
}

func (h *handler) renderRequiredSetup(c *fiber.Ctx, p pending, secret []byte, status int, msg string) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	pre := h.preSession(c)
	s, err := h.newSetupView(p.User.Email, pendingBind(pre, p.User.ID), secret)
	if err != nil {
		return err
	}
	s.Action, s.CSRF, s.Error = requiredSetupPath, h.csrfToken(csrfLogin, pre), msg
	pk, err := h.hasPasskeys(c, p.User.ID)
	if err != nil {
		return err
	}
	return c.Status(status).Render("login_setup", &requiredSetupView{Layout: h.newLayout(c, "Set up two-step sign-in"), Setup: s, CSRF: s.CSRF, Passkey: pk})
}

// requiredSetupPage shows the setup to a user who must turn it on.
func (h *handler) requiredSetupPage(c *fiber.Ctx) error {
	p, done, err := h.requiredPending(c)
	if done {
		return err
	}
	return h.renderRequiredSetup(c, p, nil, fiber.StatusOK, "")
}

// requiredSetupSubmit turns it on with the first code, then signs in and
// shows the recovery codes.
func (h *handler) requiredSetupSubmit(c *fiber.Ctx) error {
	pre := h.readCookie(c, preSessionCookie)
	if !h.csrfValid(c, csrfLogin, pre) {
		return errCSRF
	}
	p, done, err := h.requiredPending(c)
	if done {
		return err
	}
	secret, ok := h.openSetup(pendingBind(pre, p.User.ID), formValue(c, setupSealField))
	if !ok {
		return h.renderRequiredSetup(c, p, nil, fiber.StatusBadRequest, setupExpiredText)
	}
	codes, status, msg, err := h.enableWithCode(c, p.User, store.Actor{}, secret, formValue(c, "code"))
	if err != nil || msg != "" {
		return orElse(err, func() error { return h.renderRequiredSetup(c, p, secret, status, msg) })
	}
	addr, err := h.clientAddr(c)
	if err != nil {
		return err
	}
	if err := h.startSession(c, p.User, addr, p.Zone, store.AuthPasswordApp, nil); err != nil {
		return err
	}
	return c.Render("login_codes", &requiredCodesView{Layout: h.newLayout(c, "Your recovery codes"), Codes: newCodesView(codes, landing(p.User.Role))})
}

// setupExpiredText is for a setup form whose key has expired or was not
// made for this browser.
const setupExpiredText = "This setup page has expired. Scan the new QR code below (remove the old entry from your app first) and enter its code."

// newRecoveryCodes is a new set of recovery codes.
func newRecoveryCodes() []string { return twostep.RecoveryCodes(store.RecoveryCodes) }

// twoStepPages are the whole pages of two-step sign-in, in the layout.
var twoStepPages = []string{"login_code", "login_setup", "login_codes", "confirm"}
