package handlers

import (
	"encoding/base64"
	"errors"

	"github.com/gofiber/fiber/v2"

	"portal/store"
)

// ownPasskey is the caller's passkey named in the address, or 404.
func (h *handler) ownPasskey(c *fiber.Ctx) (store.Passkey, error) {
	id, err := base64.RawURLEncoding.DecodeString(c.Params("id"))
	if err != nil || len(id) == 0 || len(id) > 1023 {
		return store.Passkey{}, fiber.ErrNotFound
	}
	return h.passkeys.UserPasskey(authOf(c).User.ID, id)
}

// passkeyRename names a passkey; htmx swaps its row.
func (h *handler) passkeyRename(c *fiber.Ctx) error {
	a := authOf(c)
	pk, err := h.ownPasskey(c)
	if err != nil {
		return err
	}
	row := newPasskeyRow(pk, zoneOf(c), a.CSRF)
	status := fiber.StatusOK
	err = h.passkeys.RenamePasskey(a.User.ID, pk.ID, formValue(c, "name"))
	switch {
	case errors.Is(err, store.ErrPasskeyName):
		status, row.Error = fiber.StatusBadRequest, "Give the passkey a name of 1 to 64 characters."
	case errors.Is(err, store.ErrNotFound): // removed meanwhile
		return err
	case err != nil:
		return notSaved("rename the passkey", err)
	default:
		row.Name, _ = store.CleanPasskeyName(formValue(c, "name"))
	}
	if !isHTMX(c) {
		if row.Error != "" {
			return &userError{status: status, message: row.Error}
		}
		return h.redirect(c, twoStepURL)
	}
	return c.Status(status).Render(partialPasskeyRow, row, "")
}
