package handlers

import (
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/password"
	"portal/store"
	"portal/twostep"
)

// "Confirm it's you": the password and, for a two-step user, a code from
// the app (a recovery code does not count), before a change that needs a
// recent sign-in. Then the browser goes back to next, the page of the
// action, which asks for it again: nothing the user chose is lost and
// nothing happens without them.

// confirmView is the "Confirm it's you" page.
type confirmView struct {
	Layout  layoutView
	CSRF    string
	Next    string
	TwoStep bool // asks for a code too
	Passkey bool // offers one of the user's passkeys instead
	Error   string
}

// localNext is next if it is a path of the portal's own ("/…", not "//…"
// nor "/\…", which browsers read as another host), else the section.
func localNext(next string) string {
	if len(next) > 512 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\\\r\n\t") {
		return twoStepURL
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return twoStepURL
	}
	return next
}

func (h *handler) renderConfirm(c *fiber.Ctx, next string, status int, msg string) error {
	a := authOf(c)
	on, err := h.isOn(a.User.ID)
	if err != nil {
		return err
	}
	pk, err := h.hasPasskeys(c, a.User.ID)
	if err != nil {
		return err
	}
	v := &confirmView{Layout: h.newLayout(c, "Confirm it's you"), CSRF: a.CSRF, Next: next, TwoStep: on, Passkey: pk, Error: msg}
	v.Layout.Area = areaSettings
	return c.Status(status).Render("confirm", v)
}

// confirmPage asks for the password (and a code).
func (h *handler) confirmPage(c *fiber.Ctx) error {
	return h.renderConfirm(c, localNext(c.Query("next")), fiber.StatusOK, "")
}

// confirmSubmit checks them, throttled like the password form, notes the
// confirmation on the session and sends the browser on to next.
func (h *handler) confirmSubmit(c *fiber.Ctx) error {
	a := authOf(c)
	next := localNext(formValue(c, "next"))
	ok, status, msg, err := h.checkPasswordAndCode(c, a, formValue(c, "password"), formValue(c, "code"), true)
	if err != nil || !ok {
		return orElse(err, func() error {
			if status == 0 { // ended for guessing
				return nil
			}
			return h.renderConfirm(c, next, status, msg)
		})
	}
	if err := h.twoStep.ConfirmSession(a.User.ID, a.Session.ID); err != nil {
		return notSaved("confirm it's you", err)
	}
	h.log.Info("confirmed it's them", "user_id", a.User.ID, "session", a.Session.ID[:8])
	return h.redirect(c, next)
}

// checkPasswordAndCode checks the caller's password and, if they use
// two-step sign-in and needCode holds, a code from their app: throttled
// per user before checking, wrong passwords counted toward ending the
// session (as the password form does). ok false with status 0 means the
// session was ended and the answer sent.
func (h *handler) checkPasswordAndCode(c *fiber.Ctx, a *auth, pw, code string, needCode bool) (ok bool, status int, msg string, err error) {
	var ts store.TwoStep
	if needCode {
		ts, err = h.twoStep.TwoStep(a.User.ID)
		switch {
		case errors.Is(err, store.ErrTwoStepOff):
			needCode, err = false, nil
		case err != nil:
			return false, 0, "", err
		}
	}
	if pw == "" || len(pw) > password.MaxLen {
		return false, fiber.StatusBadRequest, "Enter your current password.", nil
	}
	if needCode {
		if code = twostep.Clean(code); !twostep.WellFormed(code) {
			return false, fiber.StatusBadRequest, "Enter the 6 digits your authenticator app shows.", nil
		}
	}
	try, k, wait := h.reserveReauth(a.User.ID, needCode)
	if try == nil {
		retryAfter(c, wait)
		return false, fiber.StatusTooManyRequests, "Too many wrong tries. Try again in " + humanDuration(wait) + ".", nil
	}
	right := false
	err = h.hashing(password.Caller{}, func() { right = password.Verify(a.User.PasswordHash, pw) })
	switch {
	case errors.Is(err, password.ErrBusy):
		try.cancelled()
		retryAfter(c, busyRetry)
		return false, fiber.StatusServiceUnavailable, errBusyText, nil
	case err != nil:
		try.cancelled()
		return false, 0, "", err
	case !right:
		if try.failures(k) >= passwordGuessesSignOut {
			return false, 0, "", h.endForGuessing(c, a)
		}
		return false, fiber.StatusBadRequest, "Your current password is incorrect.", nil
	}
	if needCode {
		if msg, err := h.checkCode(c, try, a.User.ID, ts.Secret, code); err != nil || msg != "" {
			return false, fiber.StatusBadRequest, msg, err
		}
	}
	try.succeeded()
	return true, 0, "", nil
}

// checkCode accepts code, already well formed, as the user's current app
// code once, inside the attempt try: "" if it was right, else the sentence
// for it (the failure recorded in Security activity).
func (h *handler) checkCode(c *fiber.Ctx, try *attempt, userID string, secret []byte, code string) (string, error) {
	ok, used, err := h.acceptAppCode(userID, secret, code)
	if err != nil {
		try.cancelled()
		return "", err
	}
	if !ok {
		addr, _ := h.clientAddr(c)
		h.twoStep.RecordCodeFailure(userID, h.geo.Place(addr))
		return codeWrongText(used), nil
	}
	return "", nil
}

// reserveReauth counts an attempt at the signed-in user's password (and,
// with code, at their app code) before checking it, as sign-in does: k is
// the password's key, whose failures end the session when too many.
func (h *handler) reserveReauth(userID string, code bool) (try *attempt, k key, wait time.Duration) {
	k = passwordChangeKey(userID)
	keys := []key{k}
	if code {
		keys = append(keys, codeKey(userID))
	}
	try, wait = h.throttle.reserve(h.now(), keys...)
	return try, k, wait
}
