package handlers

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"portal/store"
)

var errNoSuchSession = &userError{status: fiber.StatusNotFound, message: "That session was not found. It may already have been signed out; refresh the list."}

// signOutSession ends one of the caller's other sessions. htmx gets the
// same row partial back in its signed-out state; a plain form goes back to
// the list. The store checks ownership: another user's id is a 404.
func (h *handler) signOutSession(c *fiber.Ctx) error {
	a := authOf(c)
	id := c.Params("id")
	if !store.ValidID(id) {
		return errNoSuchSession
	}
	id = strings.Clone(id)
	if id == a.Session.ID {
		return &userError{status: fiber.StatusBadRequest, message: "This is the session you are using. To end it, use Sign out at the top of the page."}
	}
	sess, err := h.sessions.RevokeUserSessionBy(a.User.ID, id, store.ReasonRevoked, store.Actor{Session: a.Session.ID})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errNoSuchSession
	case err != nil:
		h.log.Error("revoke could not be saved", "user_id", a.User.ID, "session", id[:8], "err", err)
		return notSaved("sign that session out", err)
	}
	h.log.Info("session signed out", "user_id", a.User.ID, "by_session", a.Session.ID[:8], "session", id[:8])
	if !isHTMX(c) {
		h.setFlash(c, "revoked", 1)
		return c.Redirect(activeSessionsURL, fiber.StatusSeeOther)
	}
	if formValue(c, "from") == "notice" {
		// "Not you? Sign it out" on a new sign-in's notice, on whatever
		// page: nothing to swap there; the live stream updates any open
		// Active Sessions rows.
		row := h.row(sess, false, a.CSRF, h.now(), zoneOf(c))
		announce(c, signedOutSession(row.Device, row.where()))
		return c.SendStatus(fiber.StatusNoContent)
	}
	// The row comes back in its signed-out state, and the sign-out-all
	// control with it (out of band), so its count stays true. If they
	// cannot be read now, the row alone: the sign-out stands.
	rest, err := h.listSessions(c)
	if err != nil {
		h.log.Warn("signed out, but the list could not be read again", "user_id", a.User.ID, "err", err)
		rest = nil
	}
	recent, err := h.ownRecentlyEnded(c)
	if err != nil {
		h.log.Warn("signed out, but Recently signed out could not be read again", "user_id", a.User.ID, "err", err)
		recent = nil
	}
	row := h.row(sess, false, a.CSRF, h.now(), zoneOf(c))
	announce(c, signedOutSession(row.Device, row.where()))
	return c.Render("partials/session_signed_out", signedOutRow{Row: row, Sessions: rest, Recent: recent}, "")
}

// signedOutRow is the row of a session just signed out, with what the
// control that signs out all the rest counts: the customer's own list, or
// the partner console's Sign out everywhere for the row's user; and
// Recently signed out, which now lists it.
type signedOutRow struct {
	Row        sessionRow
	Sessions   *sessionList
	Everywhere *everywhereControl
	Recent     *recentList
}
