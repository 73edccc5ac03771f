package handlers

import (
	"github.com/gofiber/fiber/v2"

	"portal/store"
)

// signOutOthersConfirm is the confirmation page for browsers without
// JavaScript (with it, a <dialog> on the list asks instead).
func (h *handler) signOutOthersConfirm(c *fiber.Ctx) error {
	v := h.newSettingsView(c, sectionNamed("active-sessions"))
	list, err := h.listSessions(c)
	if err != nil {
		return err
	}
	if list.Others == 0 {
		h.setFlash(c, "others", 0)
		return h.redirect(c, activeSessionsURL)
	}
	v.Layout.Title, v.partial, v.Section = "Sign out all other devices", confirmSignOutOthers, list
	return h.renderSettings(c, v)
}

// signOutOthers ends every session of the caller except this one, in one
// transaction, and shows the list again with how many it ended.
func (h *handler) signOutOthers(c *fiber.Ctx) error {
	a := authOf(c)
	n, err := h.sessions.RevokeOtherSessions(a.User.ID, a.Session.ID, store.ReasonRevokedAll)
	if err != nil {
		h.log.Error("revoke-all could not be saved", "user_id", a.User.ID, "err", err)
		return notSaved("sign out the other sessions", err)
	}
	h.log.Info("other sessions signed out", "user_id", a.User.ID, "by_session", a.Session.ID[:8], "count", n)
	if !isHTMX(c) {
		h.setFlash(c, "others", n)
		return c.Redirect(activeSessionsURL, fiber.StatusSeeOther)
	}
	v, err := h.listSessions(c)
	if err == nil {
		v.Recent, err = h.ownRecentlyEnded(c)
	}
	if err != nil {
		return h.savedButNotShown(c, signedOutOthers(n), err)
	}
	v.Message = signedOutOthers(n)
	announce(c, v.Message)
	return c.Render("partials/active_sessions", v, "")
}
