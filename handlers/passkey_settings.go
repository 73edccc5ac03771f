package handlers

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/gofiber/fiber/v2"

	"portal/store"
)

// The Passkeys part of the Two-step sign-in section: the list, adding
// one (from static/passkeys.js), renaming and removing. Adding and
// removing need a recent sign-in or "Confirm it's you"; a passkey counts
// as either. Renaming changes nothing about how anyone signs in.

const (
	passkeysPath       = "/settings/passkeys"
	partialPasskeyRow  = "partials/passkey_row"
	partialPasskeyGone = "partials/passkey_remove"
)

// passkeysView is the part as the section shows it.
type passkeysView struct {
	Here   passkeyState
	Rows   []passkeyRow
	Full   bool   // MaxPasskeysPerUser reached
	Name   string // the name a new one gets unless changed: this browser's label
	CSRF   string
	Notice string
}

// passkeyRow is one passkey.
type passkeyRow struct {
	ID, Name, Added, LastUsed string
	Synced                    bool
	CSRF                      string
	Error                     string // what was wrong with a rename
}

// passkeyID is how a credential id appears in addresses and forms.
func passkeyID(id []byte) string { return base64.RawURLEncoding.EncodeToString(id) }

func newPasskeyRow(pk store.Passkey, zone *time.Location, csrf string) passkeyRow {
	r := passkeyRow{ID: passkeyID(pk.ID), Name: pk.Name, Added: pk.AddedAt.In(zone).Format("2 Jan 2006"), LastUsed: "Never",
		Synced: pk.Synced(), CSRF: csrf}
	if !pk.LastUsedAt.IsZero() {
		r.LastUsed = pk.LastUsedAt.In(zone).Format("2 Jan 2006, 15:04")
	}
	return r
}

// passkeysPart reads the caller's passkeys for the section.
func (h *handler) passkeysPart(c *fiber.Ctx) (passkeysView, error) {
	a := authOf(c)
	v := passkeysView{Here: h.passkeysHere(c), CSRF: a.CSRF, Name: a.Session.Device.Label()}
	pks, err := h.passkeys.Passkeys(a.User.ID)
	if err != nil {
		return v, err
	}
	for _, pk := range pks {
		v.Rows = append(v.Rows, newPasskeyRow(pk, zoneOf(c), a.CSRF))
	}
	v.Full = len(pks) >= store.MaxPasskeysPerUser
	return v, nil
}

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
