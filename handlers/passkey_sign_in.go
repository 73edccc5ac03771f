package handlers

import (
	"errors"
	"net/netip"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/gofiber/fiber/v2"

	"portal/geo"
	"portal/store"
)

// Signing in with a passkey: no email asked (a discoverable credential
// names its user), no password, no second step (a user-verified passkey
// is both), and no wait at the password-hash gate: a signature check is
// cheap. static/passkeys.js drives the browser's side, from the button
// or from the email field's autofill (conditional mediation); the
// password form works on without it.

const (
	passkeySignInPath  = "/login/passkey"
	passkeySecondPath  = "/login/code/passkey"
	passkeyConfirmPath = "/confirm/passkey"
	optionsSuffix      = "/options"
)

// passkeyReply is what static/passkeys.js is answered: where to go next,
// or the sentence to show.
type passkeyReply struct {
	Redirect string `json:"redirect,omitempty"`
	Error    string `json:"error,omitempty"`
}

// wantsJSON reports whether the request is one of static/passkeys.js's.
func wantsJSON(c *fiber.Ctx) bool { return c.Get(fiber.HeaderAccept) == fiber.MIMEApplicationJSON }

// passkeyRefusedText is the one sentence for a passkey that did not sign
// in, whatever the reason, so that none reveals whether an account exists.
const passkeyRefusedText = "That passkey did not sign you in. Try again, or sign in with your email and password."

// maxPasskeyAnswer bounds the browser's answer: an assertion is well
// under 2 KiB, a new passkey's attestation "none" too.
const maxPasskeyAnswer = 8 << 10

// passkeyAnswer is the browser's answer in the form, or "" if it is
// missing or too long.
func passkeyAnswer(c *fiber.Ctx) []byte {
	v := formValue(c, "credential")
	if v == "" || len(v) > maxPasskeyAnswer {
		return nil
	}
	return []byte(v)
}

// passkeySignInOptions begins a discoverable sign-in: the options for
// navigator.credentials.get, with ?mediation=conditional for autofill.
func (h *handler) passkeySignInOptions(c *fiber.Ctx) error {
	pre := h.readCookie(c, preSessionCookie)
	if !h.csrfValid(c, csrfLogin, pre) {
		return errCSRF
	}
	mediation := protocol.MediationDefault
	if c.Query("mediation") == "conditional" {
		mediation = protocol.MediationConditional
	}
	opts, data, err := h.rp.wa.BeginDiscoverableMediatedLogin(mediation)
	if err != nil {
		return err
	}
	if err := h.beginCeremony(c, ceremony{Kind: ceremonySignIn, Bind: pre, Data: *data}); err != nil {
		return err
	}
	return c.JSON(opts)
}

// passkeySignIn finishes it: a session that signed in with "Passkey".
// Every failure counts against the network, like a wrong password, and
// against the account when the answer named one.
func (h *handler) passkeySignIn(c *fiber.Ctx) error {
	pre := h.readCookie(c, preSessionCookie)
	if !h.csrfValid(c, csrfLogin, pre) {
		return errCSRF
	}
	addr, err := h.clientAddr(c)
	if err != nil {
		return err
	}
	try, wait := h.throttle.reserve(h.now(), networkKey(addr))
	if try == nil {
		h.log.Warn("passkey sign-in throttled", "ip", geo.Mask(addr))
		retryAfter(c, wait)
		return &userError{status: fiber.StatusTooManyRequests, message: "Too many failed sign-in attempts. Try again in " + humanDuration(wait) + "."}
	}
	a, known, err := h.passkeyCeremonyAnswer(c, ceremonySignIn, pre, nil)
	if err == nil && a.User.Disabled {
		err = errPasskeyRefused
	}
	if err == nil {
		err = h.startSession(c, a.User, addr, browserZone(formValue(c, "tz")), store.AuthPasskey, &a)
	}
	if err != nil {
		return h.passkeyFailed(c, try, a.User, known, addr, err)
	}
	try.succeeded()
	return c.JSON(passkeyReply{Redirect: landing(a.User.Role)})
}

// passkeyCeremonyAnswer takes the browser's ceremony of kind for bind and
// checks the answer the form brings against it.
func (h *handler) passkeyCeremonyAnswer(c *fiber.Ctx, kind ceremonyKind, bind string, forUser *passkeyUser) (assertion, bool, error) {
	cer, err := h.finishCeremony(c, kind, bind)
	if errors.Is(err, errNoCeremony) {
		return assertion{}, false, errPasskeyRefused
	}
	if err != nil {
		return assertion{}, false, err
	}
	body := passkeyAnswer(c)
	if body == nil {
		return assertion{}, false, errPasskeyRefused
	}
	return h.verifyAssertion(cer, body, forUser)
}

// passkeyFailed answers a passkey that did not sign in (or confirm): the
// one sentence, the failure logged and, for a known user, recorded as a
// failed sign-in in their activity. Other errors go to handleError.
func (h *handler) passkeyFailed(c *fiber.Ctx, try *attempt, u store.User, known bool, addr netip.Addr, err error) error {
	if !errors.Is(err, errPasskeyRefused) {
		try.cancelled()
		return err
	}
	h.log.Info("passkey refused", "user_id", u.ID, "ip", geo.Mask(addr), "why", err.Error())
	if known {
		h.events.RecordSignInFailure(u.ID, h.geo.Place(addr), false)
	}
	return &userError{status: fiber.StatusUnauthorized, message: passkeyRefusedText}
}
