package handlers

import (
	"encoding/base64"
	"time"

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
	Here passkeyState
	Rows []passkeyRow
	Full bool   // MaxPasskeysPerUser reached
	Name string // the name a new one gets unless changed: this browser's label
	CSRF string
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
