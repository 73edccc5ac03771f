package handlers

import (
	"github.com/gofiber/fiber/v2"

	"portal/geo"
	"portal/store"
)

// signOut is the portal's normal sign-out control (POST /logout): it ends
// the current session, committed before the browser is told.
func (h *handler) signOut(c *fiber.Ctx) error {
	a := authOf(c)
	if _, err := h.sessions.RevokeUserSession(a.User.ID, a.Session.ID, store.ReasonSignedOut); err != nil {
		h.log.Error("sign-out could not be saved", "user_id", a.User.ID, "session", a.Session.ID[:8], "err", err)
		return notSaved("sign you out", err)
	}
	addr, _ := h.clientAddr(c) // already read without error by requireSession
	h.log.Info("signed out", "user_id", a.User.ID, "session", a.Session.ID[:8], "ip", geo.Mask(addr))
	h.clearSessionCookie(c)
	return h.redirect(c, signInURL(store.ReasonSignedOut))
}
