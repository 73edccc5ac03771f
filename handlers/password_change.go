package handlers

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"portal/password"
	"portal/store"
	"portal/twostep"
)

// passwordGuessesSignOut is how many wrong current passwords in a row (in
// the throttle's window) end the session that sent them. Whoever holds a
// stolen cookie gets this many guesses at the password, not two dozen an
// hour; the real user, who knows it, signs in again.
const passwordGuessesSignOut = accountFreeFailures

// passwordChange sets a new password after checking the current one, and by
// default signs out every other session, since a changed password usually
// means someone else may have known the old one. Wrong current passwords
// are throttled per user like sign-ins, and too many end the session.
func (h *handler) passwordChange(c *fiber.Ctx) error {
	a := authOf(c)
	current, next := formValue(c, "current_password"), formValue(c, "new_password")
	signOut := formValue(c, "sign_out_others") != ""
	// A two-step user also gives a code from the app, unless they signed
	// in or confirmed it was them recently.
	ts, needCode, err := h.passwordNeedsCode(a)
	if err != nil {
		return err
	}
	code := twostep.Clean(formValue(c, "code"))
	fail := func(status int, msg string) error {
		v := h.newSettingsView(c, sectionNamed("password"))
		v.Section = &passwordView{CSRF: a.CSRF, Error: msg, NeedCode: needCode}
		c.Status(status)
		return h.renderSettings(c, v)
	}
	if len(current) > password.MaxLen {
		return fail(fiber.StatusBadRequest, "Your current password is incorrect.")
	}
	if needCode && !twostep.WellFormed(code) {
		return fail(fiber.StatusBadRequest, "Enter the 6 digits your authenticator app shows.")
	}
	try, k, wait := h.reserveReauth(a.User.ID, needCode)
	if try == nil {
		retryAfter(c, wait)
		return fail(fiber.StatusTooManyRequests, "Too many wrong passwords. Try again in "+humanDuration(wait)+".")
	}
	var right bool
	var problem, hash string
	var hashErr error
	err = h.hashing(password.Caller{}, func() {
		if right = password.Verify(a.User.PasswordHash, current); !right {
			return
		}
		if problem = password.Check(next); problem == "" {
			hash, hashErr = password.Hash(next)
		}
	})
	switch {
	case errors.Is(err, password.ErrBusy):
		try.cancelled()
		retryAfter(c, busyRetry)
		return fail(fiber.StatusServiceUnavailable, "The portal is busy checking other passwords. Try again in a few seconds.")
	case !right:
		if try.failures(k) >= passwordGuessesSignOut {
			return h.endForGuessing(c, a)
		}
		return fail(fiber.StatusBadRequest, "Your current password is incorrect.")
	}
	if needCode {
		if msg, err := h.checkCode(c, try, a.User.ID, ts.Secret, code); err != nil || msg != "" {
			return orElse(err, func() error { return fail(fiber.StatusBadRequest, msg) })
		}
	}
	try.succeeded()
	if problem != "" {
		return fail(fiber.StatusBadRequest, "The new password is not acceptable. "+problem)
	}
	if hashErr != nil {
		return hashErr
	}
	n, err := h.accounts.SetPasswordHash(a.User.ID, hash, signOut, a.Session.ID)
	if err != nil {
		h.log.Error("password change could not be saved", "user_id", a.User.ID, "err", err)
		return notSaved("change your password", err)
	}
	// Every device cookie of the account was bound to the old password and
	// is void; this browser gets one for the new password.
	h.throttle.forgetDevices(a.User.ID)
	u := a.User
	u.PasswordHash = hash
	h.rememberDevice(c, u, "")
	h.log.Info("password changed", "user_id", a.User.ID, "session", a.Session.ID[:8], "signed_out_others", n)
	h.setFlash(c, "password", n)
	return h.redirect(c, "/settings?section=password")
}

// endForGuessing signs out the session that got the current password wrong
// too often, and sends its browser to sign-in with the reason.
func (h *handler) endForGuessing(c *fiber.Ctx, a *auth) error {
	if _, err := h.sessions.RevokeUserSession(a.User.ID, a.Session.ID, store.ReasonPasswordGuesses); err != nil {
		h.log.Error("could not end a session after wrong passwords", "user_id", a.User.ID, "session", a.Session.ID[:8], "err", err)
		return err
	}
	h.log.Warn("session ended after wrong current passwords", "user_id", a.User.ID, "session", a.Session.ID[:8])
	h.clearSessionCookie(c)
	return h.redirect(c, signInURL(store.ReasonPasswordGuesses))
}

// passwordNeedsCode reports whether the password form asks a for a code
// from the app: they use two-step sign-in and did not sign in or confirm
// it was them within the re-authentication window.
func (h *handler) passwordNeedsCode(a *auth) (store.TwoStep, bool, error) {
	ts, err := h.twoStep.TwoStep(a.User.ID)
	switch {
	case errors.Is(err, store.ErrTwoStepOff):
		return ts, false, nil
	case err != nil:
		return ts, false, err
	}
	return ts, !h.confirmedRecently(a.Session), nil
}
