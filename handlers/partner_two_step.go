package handlers

// Two-step sign-in in the partner console: a switch on a client's page
// that makes it required for every user of the client, and, on a client
// user's page, whether the user has it on and Turn off two-step sign-in
// for a user who lost their phone. Turning it off needs the partner user's
// own recent confirmation ("Confirm it's you"), a confirmation step, and
// signs the user out everywhere. The store checks scope in the same
// transaction as each change; out-of-scope ids answer the same 404 as
// unknown ones, before anything else is said about them.

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"portal/store"
)

// Where the two-step controls post.
func partnerRequireTwoStepURL(accountID string) string {
	return partnerAccountURL(accountID) + "/require-two-step"
}
func partnerTwoStepOffURL(userID string) string { return partnerUserURL(userID) + "/two-step/turn-off" }

// requireTwoStepField is the switch's field: "on" or "off", the state
// asked for.
const requireTwoStepField = "require"

var errRequireTwoStep = &userError{status: fiber.StatusBadRequest,
	message: "Choose whether this client's users must use two-step sign-in: the switch sends on or off."}

// requireTwoStepControl is the switch on a client's page.
type requireTwoStepControl struct {
	On           bool
	Action, CSRF string
}

// Next is the value the switch sends: the state it changes to.
func (r requireTwoStepControl) Next() string {
	if r.On {
		return "off"
	}
	return "on"
}

// userTwoStep is a client user's two-step sign-in on their page: whether
// it is on and, if so, where Turn off two-step sign-in leads.
type userTwoStep struct {
	On       bool
	Passkeys int    // how many passkeys the user has
	TurnOff  string // the confirmation page
}

// Any reports whether there is anything to turn off: the app, passkeys.
func (t *userTwoStep) Any() bool { return t.On || t.Passkeys > 0 }

// turnOffPage is the confirmation step of Turn off two-step sign-in.
type turnOffPage struct {
	Name, Action, Back, CSRF string
	Everywhere               string // what signing the user out everywhere does
	Passkeys                 int    // the passkeys it removes
}

// twoStepOn reports whether userID has two-step sign-in on; the caller has
// checked that the partner manages the user.
func (h *handler) twoStepOn(userID string) (bool, error) {
	_, err := h.twoStep.TwoStep(userID)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrTwoStepOff):
		return false, nil
	}
	return false, err
}

// clientAccount is one of the partner's clients, or a 404.
func (h *handler) clientAccount(c *fiber.Ctx, id string) (store.Account, error) {
	list, err := h.partners.PartnerClients(partnerOf(c))
	if err != nil {
		return store.Account{}, err
	}
	for _, s := range list {
		if s.Account.ID == id {
			return s.Account, nil
		}
	}
	return store.Account{}, fiber.ErrNotFound
}

// partnerRequireTwoStep serves POST /partner/accounts/:id/require-two-step
// (require=on|off): every user of the client must (or need no longer) use
// two-step sign-in, recorded in each user's activity with the partner
// user as actor.
func (h *handler) partnerRequireTwoStep(c *fiber.Ctx) error {
	a := authOf(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.clientAccount(c, id); err != nil {
		return err
	}
	var on bool
	switch formValue(c, requireTwoStepField) {
	case "on":
		on = true
	case "off":
	default:
		return errRequireTwoStep
	}
	err = h.twoStep.SetRequireTwoStep(partnerOf(c), id, store.Actor{User: a.User.ID}, on)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fiber.ErrNotFound // moved to another partner since the check above
	case err != nil:
		h.log.Error("partner require-two-step could not be saved", "partner_user_id", a.User.ID, "account_id", id, "err", err)
		return notSaved("change whether two-step sign-in is required", err)
	}
	h.log.Info("partner set require-two-step", "partner_user_id", a.User.ID, "account_id", id, "on", on)
	flash := 0
	if on {
		flash = 1
	}
	h.setFlash(c, flashRequireTwoStep, flash)
	return h.redirect(c, partnerAccountURL(id))
}

// partnerTwoStepOffConfirm serves GET /partner/users/:id/two-step/turn-off:
// the confirmation step, once the partner user has confirmed it is them.
func (h *handler) partnerTwoStepOffConfirm(c *fiber.Ctx) error {
	p, err := h.userSessionsAt(c)
	if err != nil {
		return err
	}
	if !h.confirmedRecently(authOf(c).Session) {
		return h.redirect(c, confirmURL(partnerTwoStepOffURL(p.UserID)))
	}
	if p.TwoStep == nil || !p.TwoStep.Any() {
		h.setFlash(c, flashTwoStepAlreadyOff, 0)
		return h.redirect(c, partnerUserURL(p.UserID))
	}
	v := h.newPartnerView(c, "Turn off two-step sign-in", partnerNav{Under: navClients}, pageConfirmTwoStepOff)
	everywhere := willSignOutEverywhere(p.Everywhere.Live, p.Name)
	if p.Everywhere.Live == 0 {
		everywhere = p.Name + " is not signed in anywhere now."
	}
	v.Page = turnOffPage{Name: p.Name, Action: partnerTwoStepOffURL(p.UserID), Back: partnerUserURL(p.UserID), CSRF: authOf(c).CSRF, Everywhere: everywhere, Passkeys: p.TwoStep.Passkeys}
	return h.renderPartner(c, v)
}

// partnerTwoStepOff serves POST /partner/users/:id/two-step/turn-off:
// the user's two-step sign-in is turned off and they are signed out
// everywhere, in one transaction that checks scope, by the partner user;
// the page says how many sessions ended.
func (h *handler) partnerTwoStepOff(c *fiber.Ctx) error {
	a := authOf(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	// Scope first, so an id out of reach gets the 404 and nothing else.
	if _, _, err := h.partners.PartnerUser(partnerOf(c), id); err != nil {
		return err
	}
	if !h.confirmedRecently(a.Session) {
		return h.redirect(c, confirmURL(partnerTwoStepOffURL(id)))
	}
	n, err := h.twoStep.ResetTwoStep(partnerOf(c), id, store.Actor{User: a.User.ID})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fiber.ErrNotFound
	case errors.Is(err, store.ErrTwoStepOff):
		h.setFlash(c, flashTwoStepAlreadyOff, 0)
		return h.redirect(c, partnerUserURL(id))
	case err != nil:
		h.log.Error("partner two-step reset could not be saved", "partner_user_id", a.User.ID, "user_id", id, "err", err)
		return notSaved("turn off two-step sign-in", err)
	}
	h.log.Info("partner turned off a user's two-step sign-in", "partner_user_id", a.User.ID, "user_id", id, "count", n)
	h.setFlash(c, flashTwoStepOff, n)
	return h.redirect(c, partnerUserURL(id))
}

// The flashes of the two-step controls (see partnerFlash).
const (
	flashRequireTwoStep    = "require-two-step" // n: 1 required, 0 no longer
	flashTwoStepOff        = "two-step-off"     // n: sessions signed out
	flashTwoStepAlreadyOff = "two-step-already-off"
)

// partnerFlash is the sentence of a console flash code with its number,
// or "" for a code that is not the console's.
func partnerFlash(code string, n int) string {
	switch code {
	case flashRequireTwoStep:
		if n == 1 {
			return "Two-step sign-in is now required for this client's users. Those who have not set it up are asked to straight after their password."
		}
		return "Two-step sign-in is no longer required for this client's users. Those who use it keep it."
	case flashTwoStepOff:
		return turnedOffTwoStep(n)
	case flashTwoStepAlreadyOff:
		return "Two-step sign-in is already off for this user. Nothing changed."
	}
	return ""
}

// turnedOffTwoStep is what Turn off two-step sign-in did.
func turnedOffTwoStep(n int) string {
	return "Turned off two-step sign-in for this user and signed them out of " + plural(n, "session", ". ") +
		"They sign in with their password alone until they set it up again."
}
