package handlers

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"portal/store"
)

// partnerSignOutEverywhereConfirm serves GET
// /partner/users/:id/sign-out-everywhere, the confirmation page for
// browsers without JavaScript (with it, a <dialog> on the user's page
// asks instead).
func (h *handler) partnerSignOutEverywhereConfirm(c *fiber.Ctx) error {
	p, err := h.userSessionsAt(c)
	if err != nil {
		return err
	}
	if p.Everywhere.Live == 0 {
		h.setFlash(c, "everywhere", 0)
		return h.redirect(c, partnerUserURL(p.UserID))
	}
	v := h.newPartnerView(c, "Sign out everywhere", partnerNav{Under: navClients}, pageConfirmEverywhere)
	v.Page = p.Everywhere
	return h.renderPartner(c, v)
}

// partnerSignOutEverywhere serves POST
// /partner/users/:id/sign-out-everywhere: every live session of a client
// user is revoked in one transaction, scope checked inside it, and the
// page says how many.
func (h *handler) partnerSignOutEverywhere(c *fiber.Ctx) error {
	a := authOf(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	n, err := h.partners.PartnerRevokeAll(partnerOf(c), a.User.ID, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fiber.ErrNotFound
	case err != nil:
		h.log.Error("partner revoke-all could not be saved", "partner_user_id", a.User.ID, "user_id", id, "err", err)
		return notSaved("sign the user out", err)
	}
	h.log.Info("partner signed a user out everywhere", "partner_user_id", a.User.ID, "user_id", id, "count", n)
	if !isHTMX(c) {
		h.setFlash(c, "everywhere", n)
		return c.Redirect(partnerUserURL(id), fiber.StatusSeeOther)
	}
	p, err := h.userSessions(c, id)
	if err == nil {
		err = h.addUserActivity(c, p, activityQuery{Page: 1})
	}
	if err != nil {
		return h.savedButNotShown(c, signedOutEverywhere(n), err)
	}
	p.Message = signedOutEverywhere(n)
	announce(c, p.Message)
	return c.Render(pageUser, p, "")
}
