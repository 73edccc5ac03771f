package handlers

import (
	"github.com/gofiber/fiber/v2"

	"portal/password"
)

// passwordChange sets a new password after checking the current one, and by
// default signs out every other session, since a changed password usually
// means someone else may have known the old one.
func (h *Handler) passwordChange(c *fiber.Ctx) error {
	a := authOf(c)
	current, next := c.FormValue("current_password"), c.FormValue("new_password")
	signOut := c.FormValue("sign_out_others") != ""
	fail := func(status int, msg string) error {
		p, err := h.settingsData(c, "password")
		if err != nil {
			return err
		}
		p.Password.Error = msg
		c.Status(status)
		return h.renderSettings(c, p)
	}
	if len(current) > password.MaxLen || !password.Verify(a.User.PasswordHash, current) {
		return fail(fiber.StatusBadRequest, "Your current password is incorrect.")
	}
	if problem := password.Check(next); problem != "" {
		return fail(fiber.StatusBadRequest, "The new password is not acceptable. "+problem)
	}
	hash, err := password.Hash(next)
	if err != nil {
		return err
	}
	n, err := h.store.SetPasswordHash(a.User.ID, hash, signOut, a.Session.ID)
	if err != nil {
		h.log.Error("password change could not be saved", "user_id", a.User.ID, "err", err)
		return &userError{status: fiber.StatusServiceUnavailable, message: "Couldn't change your password because the change could not be saved. Try again."}
	}
	h.log.Info("password changed", "user_id", a.User.ID, "session", a.Session.ID[:8], "signed_out_others", n)
	h.setFlash(c, "password", n)
	return h.redirect(c, "/settings?section=password")
}
