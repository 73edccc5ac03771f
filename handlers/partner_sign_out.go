package handlers

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"portal/store"
)

// partnerSignOutSession serves POST /partner/users/:id/sessions/:sid/sign-out:
// a partner user signs out one session of a client user. htmx gets the
// row back in its signed-out state, as customers do, with the user's Sign
// out everywhere control (out of band) so its count stays true; a plain
// form goes back to the user's page. The store checks, in the same
// transaction as the revoke, that the partner manages the user and that
// the session is the user's: anything else is the not-found page.
func (h *handler) partnerSignOutSession(c *fiber.Ctx) error {
	a := authOf(c)
	uid, err := pathID(c, "id")
	if err != nil {
		return err
	}
	sid, err := pathID(c, "sid")
	if err != nil {
		return err
	}
	sess, err := h.partners.PartnerRevokeSession(partnerOf(c), a.User.ID, uid, sid)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fiber.ErrNotFound
	case err != nil:
		h.log.Error("partner revoke could not be saved", "partner_user_id", a.User.ID, "user_id", uid, "session", sid[:8], "err", err)
		return notSaved("sign that session out", err)
	}
	h.log.Info("partner signed out a session", "partner_user_id", a.User.ID, "user_id", uid, "session", sid[:8])
	if !isHTMX(c) {
		h.setFlash(c, "revoked", 1)
		return c.Redirect(partnerUserURL(uid), fiber.StatusSeeOther)
	}
	// If the rest cannot be read now, the row alone: the sign-out stands.
	out := signedOutRow{}
	if rest, err := h.userSessions(c, uid); err == nil {
		out.Everywhere = rest.Everywhere
	} else {
		h.log.Warn("partner signed out, but the user's sessions could not be read again", "user_id", uid, "err", err)
	}
	if out.Recent, err = h.partnerRecentlyEnded(c, uid); err != nil {
		h.log.Warn("partner signed out, but Recently signed out could not be read again", "user_id", uid, "err", err)
		out.Recent = nil
	}
	out.Row = h.row(sess, false, a.CSRF, h.now(), zoneOf(c))
	out.Row.SignOutBase = partnerSessionsBase(uid)
	announce(c, signedOutSession(out.Row.Device, out.Row.where()))
	return c.Render("partials/session_signed_out", out, "")
}
