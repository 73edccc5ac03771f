package handlers

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"portal/store"
)

// passkeyRemovePage asks before removing one.
func (h *handler) passkeyRemovePage(c *fiber.Ctx) error {
	a := authOf(c)
	pk, err := h.ownPasskey(c)
	if err != nil {
		return err
	}
	back := passkeysPath + "/" + passkeyID(pk.ID) + "/remove"
	if !h.confirmedRecently(a.Session) {
		return h.redirect(c, confirmURL(back))
	}
	return h.renderTwoStep(c, partialPasskeyGone, newPasskeyRow(pk, zoneOf(c), a.CSRF), fiber.StatusOK)
}

// passkeyRemove removes it: it no longer signs in.
func (h *handler) passkeyRemove(c *fiber.Ctx) error {
	a := authOf(c)
	pk, err := h.ownPasskey(c)
	if err != nil {
		return err
	}
	if !h.confirmedRecently(a.Session) {
		return h.redirect(c, confirmURL(passkeysPath+"/"+passkeyID(pk.ID)+"/remove"))
	}
	if err := h.passkeys.RemovePasskey(a.User.ID, pk.ID, store.Actor{Session: a.Session.ID}); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return err
		}
		return notSaved("remove the passkey", err)
	}
	h.log.Info("passkey removed", "user_id", a.User.ID, "session", a.Session.ID[:8])
	h.setFlash(c, "passkey-removed", 0)
	return h.redirect(c, twoStepURL)
}
