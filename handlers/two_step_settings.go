package handlers

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"portal/store"
)

// The Two-step sign-in section of Settings: turning it on (setup), the
// recovery codes, and turning it off. Making new codes and turning it off
// need a recent sign-in or confirmation (confirm_window.go); turning it on
// needs a code from the new app, which nobody but the user has.

const (
	twoStepSlug       = "two-step"
	twoStepURL        = "/settings?section=" + twoStepSlug
	twoStepSetupPath  = "/settings/two-step/setup"
	twoStepOffPath    = "/settings/two-step/turn-off"
	twoStepCodesPath  = "/settings/two-step/new-codes"
	twoStepLowCodes   = 3
	partialTwoStepSet = "partials/two_step_setup"
	partialTwoStepNew = "partials/two_step_codes"
	partialTwoStepOff = "partials/two_step_turn_off"
	partialTwoStepReg = "partials/two_step_new_codes"
)

// twoStepPartials are the section's pages besides its main one.
var twoStepPartials = []string{partialTwoStepSet, partialTwoStepNew, partialTwoStepOff, partialTwoStepReg, partialPasskeyGone}

// twoStepView is the section's main page.
type twoStepView struct {
	On        bool
	Since     string // the date it was turned on
	CodesLeft int
	Low       bool // 3 or fewer codes left
	Notice    string
	CSRF      string
	Passkeys  passkeysView
}

func (h *handler) twoStepSection(c *fiber.Ctx) (any, error) {
	a := authOf(c)
	v := &twoStepView{CSRF: a.CSRF}
	var err error
	if v.Passkeys, err = h.passkeysPart(c); err != nil {
		return nil, err
	}
	ts, err := h.twoStep.TwoStep(a.User.ID)
	switch {
	case errors.Is(err, store.ErrTwoStepOff):
		return v, nil
	case err != nil:
		return nil, err
	}
	v.On, v.CodesLeft, v.Low = true, ts.CodesLeft, ts.CodesLeft <= twoStepLowCodes
	v.Since = ts.EnabledAt.In(zoneOf(c)).Format("2 Jan 2006")
	return v, nil
}

// renderTwoStep shows one of the section's pages.
func (h *handler) renderTwoStep(c *fiber.Ctx, partial string, data any, status int) error {
	v := h.newSettingsView(c, sectionNamed(twoStepSlug))
	v.partial, v.Section = partial, data
	c.Status(status)
	return h.renderSettings(c, v)
}

func sessionBind(sessionID string) string { return "session:" + sessionID }

// isOn reports whether the caller has two-step sign-in on.
func (h *handler) isOn(userID string) (bool, error) {
	_, err := h.twoStep.TwoStep(userID)
	if errors.Is(err, store.ErrTwoStepOff) {
		return false, nil
	}
	return err == nil, err
}

func (h *handler) settingsSetup(c *fiber.Ctx, secret []byte, status int, msg string) error {
	a := authOf(c)
	s, err := h.newSetupView(a.User.Email, sessionBind(a.Session.ID), secret)
	if err != nil {
		return err
	}
	s.Action, s.CSRF, s.Error, s.Cancel = twoStepSetupPath, a.CSRF, msg, twoStepURL
	return h.renderTwoStep(c, partialTwoStepSet, s, status)
}

// setupAllowed answers the request unless the caller may set two-step
// sign-in up now: it is off, and they signed in or confirmed recently (a
// stolen cookie must not add the thief's phone, and with it their
// recovery codes, to the account).
func (h *handler) setupAllowed(c *fiber.Ctx) (done bool, err error) {
	a := authOf(c)
	switch on, err := h.isOn(a.User.ID); {
	case err != nil:
		return true, err
	case on:
		return true, h.redirect(c, twoStepURL)
	case !h.confirmedRecently(a.Session):
		return true, h.redirect(c, confirmURL(twoStepSetupPath))
	}
	return false, nil
}

// twoStepSetupPage shows a new key to scan; nothing is saved.
func (h *handler) twoStepSetupPage(c *fiber.Ctx) error {
	if done, err := h.setupAllowed(c); done {
		return err
	}
	return h.settingsSetup(c, nil, fiber.StatusOK, "")
}

// twoStepSetup turns it on once the form brings back a right code for the
// key it showed, and shows the recovery codes once.
func (h *handler) twoStepSetup(c *fiber.Ctx) error {
	a := authOf(c)
	if done, err := h.setupAllowed(c); done {
		return err
	}
	secret, ok := h.openSetup(sessionBind(a.Session.ID), formValue(c, setupSealField))
	if !ok {
		return h.settingsSetup(c, nil, fiber.StatusBadRequest, setupExpiredText)
	}
	codes, status, msg, err := h.enableWithCode(c, a.User, store.Actor{Session: a.Session.ID}, secret, formValue(c, "code"))
	if err != nil || msg != "" {
		return orElse(err, func() error { return h.settingsSetup(c, secret, status, msg) })
	}
	return h.renderTwoStep(c, partialTwoStepNew, newCodesView(codes, twoStepURL), fiber.StatusOK)
}

// recentlyConfirmed runs then if the caller has two-step sign-in on and
// signed in or confirmed recently; else it sends them to confirm, and
// back to the GET page back afterwards (which asks again, so nothing
// happens without the user's say).
func (h *handler) recentlyConfirmed(c *fiber.Ctx, back string, then func(a *auth) error) error {
	a := authOf(c)
	if on, err := h.isOn(a.User.ID); err != nil || !on {
		return orElse(err, func() error { return h.redirect(c, twoStepURL) })
	}
	if !h.confirmedRecently(a.Session) {
		return h.redirect(c, confirmURL(back))
	}
	return then(a)
}

// twoStepOffPage asks before turning two-step sign-in off.
func (h *handler) twoStepOffPage(c *fiber.Ctx) error {
	return h.recentlyConfirmed(c, twoStepOffPath, func(a *auth) error {
		return h.renderTwoStep(c, partialTwoStepOff, a, fiber.StatusOK)
	})
}

// twoStepOff turns it off.
func (h *handler) twoStepOff(c *fiber.Ctx) error {
	return h.recentlyConfirmed(c, twoStepOffPath, func(a *auth) error {
		if err := h.twoStep.DisableTwoStep(a.User.ID, store.Actor{Session: a.Session.ID}); err != nil {
			h.log.Error("two-step sign-in could not be turned off", "user_id", a.User.ID, "err", err)
			return notSaved("turn off two-step sign-in", err)
		}
		h.log.Info("two-step sign-in turned off", "user_id", a.User.ID, "session", a.Session.ID[:8])
		v, err := h.twoStepSection(c)
		if err != nil {
			return h.savedButNotShown(c, "Two-step sign-in is off.", err)
		}
		tv := v.(*twoStepView)
		tv.Notice = "Two-step sign-in is off. Your password alone now signs you in."
		if len(tv.Passkeys.Rows) > 0 {
			tv.Notice = "Two-step sign-in with an app is off. Your password alone, or one of your passkeys, now signs you in."
		}
		return h.renderTwoStep(c, "partials/two_step", tv, fiber.StatusOK)
	})
}

// twoStepNewCodesPage asks before making new recovery codes.
func (h *handler) twoStepNewCodesPage(c *fiber.Ctx) error {
	return h.recentlyConfirmed(c, twoStepCodesPath, func(a *auth) error {
		return h.renderTwoStep(c, partialTwoStepReg, a, fiber.StatusOK)
	})
}

// twoStepNewCodes replaces the recovery codes and shows the new ones once.
func (h *handler) twoStepNewCodes(c *fiber.Ctx) error {
	return h.recentlyConfirmed(c, twoStepCodesPath, func(a *auth) error {
		codes := newRecoveryCodes()
		if err := h.twoStep.NewRecoveryCodes(a.User.ID, store.Actor{Session: a.Session.ID}, codes); err != nil {
			h.log.Error("new recovery codes could not be saved", "user_id", a.User.ID, "err", err)
			return notSaved("make new recovery codes", err)
		}
		h.log.Info("new recovery codes", "user_id", a.User.ID, "session", a.Session.ID[:8])
		return h.renderTwoStep(c, partialTwoStepNew, newCodesView(codes, twoStepURL), fiber.StatusOK)
	})
}
