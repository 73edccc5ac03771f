package handlers

import (
	"encoding/json"
	"errors"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/gofiber/fiber/v2"

	"portal/store"
)

// passkeyAddOptions begins adding a passkey: the options for
// navigator.credentials.create, or where to confirm first.
func (h *handler) passkeyAddOptions(c *fiber.Ctx) error {
	a := authOf(c)
	if !h.confirmedRecently(a.Session) {
		return c.JSON(passkeyReply{Redirect: confirmURL(twoStepURL)})
	}
	name := formValue(c, "name")
	if name == "" {
		name = a.Session.Device.Label()
	}
	name, err := store.CleanPasskeyName(name)
	if err != nil {
		return &userError{status: fiber.StatusBadRequest, message: "Give the passkey a name of 1 to 64 characters."}
	}
	pu, pks, err := h.passkeyUserOf(a.User)
	if err != nil {
		return err
	}
	if len(pks) >= store.MaxPasskeysPerUser {
		return errTooManyPasskeys
	}
	// The device is asked not to make a second passkey where it has one.
	exclude := make([]protocol.CredentialDescriptor, len(pu.creds))
	for i, cr := range pu.creds {
		exclude[i] = cr.Descriptor()
	}
	opts, data, err := h.rp.wa.BeginRegistration(pu, webauthn.WithExclusions(exclude))
	if err != nil {
		return err
	}
	if err := h.beginCeremony(c, ceremony{Kind: ceremonyAdd, Bind: a.Session.ID, Name: name, Data: *data}); err != nil {
		return err
	}
	return c.JSON(opts)
}

var errTooManyPasskeys = &userError{status: fiber.StatusBadRequest, message: "You have 20 passkeys, the most an account can have. Remove one you no longer use first."}

// passkeyAdd finishes it: the library checks the new passkey (origin,
// challenge, user verification, a key it can use), and it is kept with
// every flag the library reports.
func (h *handler) passkeyAdd(c *fiber.Ctx) error {
	a := authOf(c)
	if !h.confirmedRecently(a.Session) {
		return c.JSON(passkeyReply{Redirect: confirmURL(twoStepURL)})
	}
	cer, err := h.finishCeremony(c, ceremonyAdd, a.Session.ID)
	if errors.Is(err, errNoCeremony) {
		return &userError{status: fiber.StatusBadRequest, message: "Adding the passkey took too long or was started elsewhere. Try again."}
	} else if err != nil {
		return err
	}
	body := passkeyAnswer(c)
	parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
	if body == nil || err != nil {
		return &userError{status: fiber.StatusBadRequest, message: "Your device's answer could not be read. Try again."}
	}
	pu, _, err := h.passkeyUserOf(a.User)
	if err != nil {
		return err
	}
	cred, err := h.rp.wa.CreateCredential(pu, cer.Data, parsed)
	if err != nil {
		h.log.Info("passkey not added", "user_id", a.User.ID, "why", err.Error())
		return &userError{status: fiber.StatusBadRequest, message: "That passkey could not be added: your device's answer did not check out. Try again."}
	}
	record, err := json.Marshal(cred)
	if err != nil {
		return err
	}
	pk, err := h.passkeys.AddPasskey(store.Passkey{ID: cred.ID, UserID: a.User.ID, Name: cer.Name, Credential: record,
		SignCount: cred.Authenticator.SignCount, BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState},
		store.Actor{Session: a.Session.ID})
	switch {
	case errors.Is(err, store.ErrPasskeyExists):
		return &userError{status: fiber.StatusConflict, message: "That passkey is added already."}
	case errors.Is(err, store.ErrTooManyPasskeys):
		return errTooManyPasskeys
	case err != nil:
		h.log.Error("passkey could not be saved", "user_id", a.User.ID, "err", err)
		return notSaved("add the passkey", err)
	}
	h.log.Info("passkey added", "user_id", a.User.ID, "session", a.Session.ID[:8], "synced", pk.Synced())
	h.setFlash(c, "passkey-added", 0)
	return c.JSON(passkeyReply{Redirect: twoStepURL})
}
