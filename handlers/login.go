package handlers

import (
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/activity"
	"portal/geo"
	"portal/password"
	"portal/store"
)

// maxEmailLen is the longest address RFC 5321 allows.
const maxEmailLen = 254

// errBadCredentials is the one message for every failed sign-in, so the
// form does not reveal which accounts exist.
const errBadCredentials = "The email or password is incorrect."

// loginPage shows the sign-in form, with the reason if the browser was just
// signed out. A signed-in browser goes straight to where its role starts.
func (h *handler) loginPage(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store") // also on the redirects below
	a, _, err := h.authenticate(c)
	if err != nil {
		return err
	}
	if a != nil {
		return h.redirect(c, landing(a.User.Role))
	}
	reason := store.Reason(c.Query("reason"))
	text := h.reasonText(reason)
	if isHTMX(c) {
		// Never swap the sign-in page into a fragment. The target is built
		// here, never taken from the request: an absolute-form request
		// target would otherwise send the browser to another site.
		// Only a reason the page can tell is carried over.
		if text == "" {
			reason = ""
		}
		return h.redirect(c, signInURL(reason))
	}
	v := h.newLoginView(c)
	v.Reason = text
	return c.Render("login", v)
}

// loginView is the sign-in page.
type loginView struct {
	Layout               layoutView
	CSRF                 string // the form's token, bound to the pre-session cookie
	Email, Error, Reason string
	DemoLogins           []DemoLogin
	DemoPassword         string
	Passkeys             passkeyState
}

func (h *handler) newLoginView(c *fiber.Ctx) *loginView {
	c.Set(fiber.HeaderCacheControl, "no-store")
	v := &loginView{Layout: h.newLayout(c, "Sign in"), CSRF: h.csrfToken(csrfLogin, h.preSession(c)), Passkeys: h.passkeysHere(c)}
	if h.cfg.Demo {
		v.DemoLogins, v.DemoPassword = h.cfg.DemoLogins, h.cfg.DemoPassword
	}
	return v
}

func (h *handler) loginFailed(c *fiber.Ctx, status int, email, msg string) error {
	v := h.newLoginView(c)
	v.Email, v.Error = email, msg
	return c.Status(status).Render("login", v)
}

// loginSubmit checks the credentials and starts a new session. Every
// sign-in gets a fresh token: whatever cookie the browser brought is never
// promoted, so a planted cookie cannot become authenticated.
func (h *handler) loginSubmit(c *fiber.Ctx) error {
	if !h.csrfValid(c, csrfLogin, h.readCookie(c, preSessionCookie)) {
		return errCSRF
	}
	email := strings.TrimSpace(formValue(c, "email"))
	pw := formValue(c, "password")
	if len(email) > maxEmailLen || len(pw) > password.MaxLen {
		return h.loginFailed(c, fiber.StatusBadRequest, "", "The email or password is too long.")
	}
	if email == "" || pw == "" {
		return h.loginFailed(c, fiber.StatusBadRequest, email, "Enter your email and password.")
	}
	addr, err := h.clientAddr(c)
	if err != nil {
		return err
	}
	user, err := h.accounts.UserByEmail(email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	known := err == nil
	keys := []key{accountKey(email), networkKey(addr)}
	who := password.Caller{From: geo.Network(addr)}
	if known {
		if nonce, _, device := h.deviceCookieOf(c, user); device {
			keys = []key{deviceKey(nonce, accountKey(email))}
			who.Reserved = true
		}
	}
	try, wait := h.throttle.reserve(h.now(), keys...)
	if try == nil {
		h.log.Warn("sign-in throttled", "ip", geo.Mask(addr))
		if known {
			h.events.RecordSignInFailure(user.ID, h.geo.Place(addr), true)
		}
		retryAfter(c, wait)
		return h.loginFailed(c, fiber.StatusTooManyRequests, email, "Too many failed sign-in attempts. Try again in "+humanDuration(wait)+".")
	}
	ok, err := h.checkCredentials(who, user, known, pw)
	if err != nil {
		try.cancelled()
		if errors.Is(err, password.ErrBusy) {
			h.log.Warn("sign-in refused: too many password checks at once", "ip", geo.Mask(addr))
			retryAfter(c, busyRetry)
			return h.loginFailed(c, fiber.StatusServiceUnavailable, email, errBusyText)
		}
		return err
	}
	if !ok {
		h.log.Info("sign-in failed", "user_id", user.ID, "ip", geo.Mask(addr))
		if known {
			// Queued for the next flush: recording must not change the
			// answer's timing, nor reveal which emails exist.
			h.events.RecordSignInFailure(user.ID, h.geo.Place(addr), false)
		}
		return h.loginFailed(c, fiber.StatusUnauthorized, email, errBadCredentials)
	}
	try.succeeded()
	zone := browserZone(formValue(c, "tz"))
	switch second, err := h.secondStepFor(user); {
	case err != nil:
		return err
	case second != "":
		// No session yet: the browser goes on to its second step (or to
		// setting one up), bound to its pre-session cookie.
		h.log.Info("password accepted, second step next", "user_id", user.ID, "ip", geo.Mask(addr))
		h.startPending(c, user, zone)
		return h.redirect(c, second)
	}
	if err := h.startSession(c, user, addr, zone, store.AuthPassword, nil); err != nil {
		return err
	}
	return h.redirect(c, landing(user.Role))
}

// startSession signs user in once every step has passed: a fresh session
// recording how it signed in (and with which passkey, whose use is
// written with it: errPasskeyRefused if the store refuses it), the
// browser's device key, and the sign-in's cookies cleared. The caller
// answers the request.
func (h *handler) startSession(c *fiber.Ctx, user store.User, addr netip.Addr, zone string, method store.AuthMethod, passkey *assertion) error {
	in := store.SignIn(string(c.Request().Header.UserAgent()), h.geo.Place(addr))
	in.TimeZone, in.Auth = zone, method
	var sess store.Session
	var token string
	var err error
	if passkey != nil {
		sess, token, err = h.passkeys.CreatePasskeySession(user.ID, in, passkey.Passkey, passkey.Use)
		if err = refusedUse(err); errors.Is(err, errPasskeyRefused) {
			return err
		}
	} else {
		sess, token, err = h.sessions.CreateSession(user.ID, in)
	}
	if err != nil {
		h.log.Error("sign-in could not be saved", "user_id", user.ID, "err", err)
		return notSaved("sign you in", err)
	}
	h.log.Info("signed in", "user_id", user.ID, "session", sess.ID[:8], "ip", geo.Mask(addr), "auth", string(method))
	h.cookie(c, preSessionCookie, "", -1)
	h.endPending(c)
	// The browser keeps its device key if it had one for this account and
	// password, even one pushed out by newer browsers: it just proved the
	// password.
	nonce, _, _ := h.deviceCookieOf(c, user)
	h.rememberDevice(c, user, nonce)
	h.setSessionCookie(c, token)
	return nil
}

// checkCredentials checks pw against the user's password, inside the
// hashing gate. An unknown email takes no slot, so a flood of them cannot
// keep anyone out: it waits as long as a check takes now, and is refused
// when a check would have been, so that it answers like a wrong password
// in what it says and in how long it takes.
func (h *handler) checkCredentials(who password.Caller, user store.User, known bool, pw string) (bool, error) {
	if !known {
		if h.hashGate.Full(who) {
			return false, password.ErrBusy
		}
		time.Sleep(password.NoUserDelay())
		return false, nil
	}
	ok := false
	if err := h.hashing(who, func() {
		ok = password.Verify(user.PasswordHash, pw) && !user.Disabled
	}); err != nil {
		return false, err
	}
	return ok, nil
}

// reasonText tells a browser why it is back at sign-in; "" for none.
func (h *handler) reasonText(r store.Reason) string {
	if r == "" {
		return ""
	}
	return activity.SignInText(r, h.db.Policy())
}

// humanDuration writes d the way a person would: "12 hours", "14 days",
// "2 minutes".
var humanDuration = activity.Duration
