package handlers

import (
	"net/netip"

	"github.com/gofiber/fiber/v2"

	"portal/geo"
	"portal/store"
)

// A passkey in place of a code: after the password (the second step), and
// for "Confirm it's you". Both ask for one of the user's own passkeys.

// userPasskeyOptions begins a ceremony of kind for u, bound to bind,
// allowing only u's passkeys; errPasskeysNone if u has none.
func (h *handler) userPasskeyOptions(c *fiber.Ctx, kind ceremonyKind, bind string, u store.User) error {
	pu, _, err := h.passkeyUserOf(u)
	if err != nil {
		return err
	}
	if len(pu.creds) == 0 {
		return errPasskeysNone
	}
	opts, data, err := h.rp.wa.BeginLogin(pu)
	if err != nil {
		return err
	}
	if err := h.beginCeremony(c, ceremony{Kind: kind, Bind: bind, Data: *data}); err != nil {
		return err
	}
	return c.JSON(opts)
}

var errPasskeysNone = &userError{status: fiber.StatusBadRequest, message: "You have no passkeys yet. Add one in Settings, under Two-step sign-in."}

// userPasskeyAnswer checks the answer to a ceremony of kind for u,
// throttled like the codes it stands in for, and, if it is right, runs
// then with it, which writes the passkey's use (a refusal there counts
// as a wrong answer).
func (h *handler) userPasskeyAnswer(c *fiber.Ctx, kind ceremonyKind, bind string, u store.User, addr netip.Addr, then func(a *assertion) error) error {
	try, wait := h.throttle.reserve(h.now(), codeKey(u.ID))
	if try == nil {
		retryAfter(c, wait)
		return &userError{status: fiber.StatusTooManyRequests, message: "Too many failed tries. Try again in " + humanDuration(wait) + "."}
	}
	pu, _, err := h.passkeyUserOf(u)
	if err != nil {
		try.cancelled()
		return err
	}
	a, _, err := h.passkeyCeremonyAnswer(c, kind, bind, pu)
	if err == nil {
		err = then(&a)
	}
	if err != nil {
		return h.passkeyFailed(c, try, u, true, addr, err)
	}
	try.succeeded()
	h.log.Info("passkey accepted", "user_id", u.ID, "ip", geo.Mask(addr), "for", string(kind))
	return nil
}

// passkeySecondOptions begins the second step with a passkey.
func (h *handler) passkeySecondOptions(c *fiber.Ctx) error {
	pre := h.readCookie(c, preSessionCookie)
	if !h.csrfValid(c, csrfLogin, pre) {
		return errCSRF
	}
	p, text, err := h.pendingOf(c)
	if err != nil || text != "" {
		return orElse(err, func() error { return &userError{status: fiber.StatusBadRequest, message: text} })
	}
	return h.userPasskeyOptions(c, ceremonySecond, pendingBind(pre, p.User.ID), p.User)
}

// passkeySecond finishes it: a session that signed in with the password
// and a passkey.
func (h *handler) passkeySecond(c *fiber.Ctx) error {
	pre := h.readCookie(c, preSessionCookie)
	if !h.csrfValid(c, csrfLogin, pre) {
		return errCSRF
	}
	p, text, err := h.pendingOf(c)
	if err != nil || text != "" {
		return orElse(err, func() error { return &userError{status: fiber.StatusBadRequest, message: text} })
	}
	addr, err := h.clientAddr(c)
	if err != nil {
		return err
	}
	err = h.userPasskeyAnswer(c, ceremonySecond, pendingBind(pre, p.User.ID), p.User, addr, func(a *assertion) error {
		return h.startSession(c, p.User, addr, p.Zone, store.AuthPasswordPasskey, a)
	})
	if err != nil {
		return err
	}
	return c.JSON(passkeyReply{Redirect: landing(p.User.Role)})
}

// passkeyConfirmOptions begins "Confirm it's you" with a passkey.
func (h *handler) passkeyConfirmOptions(c *fiber.Ctx) error {
	a := authOf(c)
	return h.userPasskeyOptions(c, ceremonyConfirm, a.Session.ID, a.User)
}

// passkeyConfirm finishes it and sends the browser on to next.
func (h *handler) passkeyConfirm(c *fiber.Ctx) error {
	a := authOf(c)
	addr, err := h.clientAddr(c)
	if err != nil {
		return err
	}
	err = h.userPasskeyAnswer(c, ceremonyConfirm, a.Session.ID, a.User, addr, func(pk *assertion) error {
		if err := refusedUse(h.passkeys.UsePasskey(pk.Passkey, pk.Use)); err != nil {
			return err
		}
		if err := h.twoStep.ConfirmSession(a.User.ID, a.Session.ID); err != nil {
			return notSaved("confirm it's you", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(passkeyReply{Redirect: localNext(formValue(c, "next"))})
}

// hasPasskeys reports whether a page may offer userID's passkeys: they
// have one, and passkeys work at this address.
func (h *handler) hasPasskeys(c *fiber.Ctx, userID string) (bool, error) {
	if !h.passkeysHere(c).On {
		return false, nil
	}
	pks, err := h.passkeys.Passkeys(userID)
	return len(pks) > 0, err
}
