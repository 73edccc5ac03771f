package handlers

import (
	"github.com/gofiber/fiber/v2"

	"portal/store"
)

// signOutOthersConfirm is the confirmation page for browsers without
// JavaScript (with it, a <dialog> on the list asks instead).
func (h *Handler) signOutOthersConfirm(c *fiber.Ctx) error {
	p, err := h.settingsData(c, "confirm-sign-out-others")
	if err != nil {
		return err
	}
	if p.Sessions.Others == 0 {
		h.setFlash(c, "others", 0)
		return h.redirect(c, activeSessionsURL)
	}
	return h.renderSettings(c, p)
}

// signOutOthers ends every session of the caller except this one, in one
// transaction, and shows the list again with how many it ended.
func (h *Handler) signOutOthers(c *fiber.Ctx) error {
	a := authOf(c)
	n, err := h.store.RevokeOtherSessions(a.User.ID, a.Session.ID, store.ReasonRevokedAll)
	if err != nil {
		h.log.Error("revoke-all could not be saved", "user_id", a.User.ID, "err", err)
		return &userError{status: fiber.StatusServiceUnavailable, message: "Couldn't sign out the other sessions because the change could not be saved. Try again."}
	}
	h.log.Info("other sessions signed out", "user_id", a.User.ID, "by_session", a.Session.ID[:8], "count", n)
	if !isHTMX(c) {
		h.setFlash(c, "others", n)
		return c.Redirect(activeSessionsURL, fiber.StatusSeeOther)
	}
	v, err := h.sessionsView(c)
	if err != nil {
		return err
	}
	v.Message = signedOutOthers(n)
	announce(c, v.Message)
	return c.Render("partials/active_sessions", v)
}
