package handlers

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/store"
)

// userError is an error whose message is written for the person who sees
// it.
type userError struct {
	status  int
	message string
	reload  bool  // offer to reload the page (stale CSRF token)
	err     error // the cause, if any: handleError looks through it
}

func (e *userError) Error() string { return e.message }
func (e *userError) Unwrap() error { return e.err }

// notSaved is what a person is told when a change could not be committed
// (disk full, read-only file system): what failed, and that nothing
// changed, so trying again is safe. err is the store's error; one that
// says the database is out of reach gets that sentence instead.
func notSaved(what string, err error) error {
	return &userError{status: fiber.StatusServiceUnavailable, message: "Couldn't " + what + " because the change could not be saved. Try again.", err: err}
}

// savedButNotShown is the answer of a change that was committed when
// reading the page again for the reply failed (the database went away in
// between): the change stands, so the reply says it was made, never that
// nothing was.
func (h *handler) savedButNotShown(c *fiber.Ctx, done string, err error) error {
	if !errors.Is(err, store.ErrUnavailable) {
		return err
	}
	h.log.Warn("a change was saved but the page could not be read again", "route", c.Route().Path, "err", err)
	return &userError{status: fiber.StatusServiceUnavailable, reload: true,
		message: done + " The page could not be shown again because the portal cannot reach its database right now; reload it in a moment."}
}

// The sentences for a database out of reach (PostgreSQL down, restarting,
// cut off). The instance recovers by itself once it is back, so the
// person is told to try again, and, when a commit went unanswered, that
// the change may have been made after all.
const (
	unavailableText    = "The portal cannot reach its database right now. Nothing was changed; try again in a moment."
	outcomeUnknownText = "The portal lost its database while saving that change, so it may or may not have been made. Reload the page in a moment to see."
	unavailableRetry   = 5 * time.Second
)

// statusText is the plain sentence shown for each status we send.
var statusText = map[int][2]string{
	fiber.StatusBadRequest:                  {"Bad request", "The request was not understood. Go back and try again."},
	fiber.StatusForbidden:                   {"Not allowed", "You are not allowed to do that."},
	fiber.StatusNotFound:                    {"Page not found", "There is no page at this address, or you do not have access to it."},
	fiber.StatusMethodNotAllowed:            {"Not allowed", "That action cannot be done this way."},
	fiber.StatusRequestEntityTooLarge:       {"Too large", "The request was too large."},
	fiber.StatusTooManyRequests:             {"Too many requests", "Too many attempts. Wait a little and try again."},
	fiber.StatusRequestHeaderFieldsTooLarge: {"Too large", "The request's headers were too large."},
	fiber.StatusInternalServerError:         {"Something went wrong", "Something went wrong on our side. Try again in a moment."},
	fiber.StatusServiceUnavailable:          {"Unavailable", "The portal could not save that change. Try again in a moment."},
}

// handleError maps every error to a status and a sentence in one place. A
// full page gets an error page; an htmx request gets the sentence in the
// flash region, so it is visible and announced instead of silently dropped.
func (h *handler) handleError(c *fiber.Ctx, err error) error {
	status := fiber.StatusInternalServerError
	msg := ""
	reload := false
	var ue *userError
	var fe *fiber.Error
	switch {
	case errors.Is(err, store.ErrUnavailable):
		// Before userError: notSaved carries the store's error.
		status, msg = fiber.StatusServiceUnavailable, unavailableText
		if errors.Is(err, store.ErrOutcomeUnknown) {
			msg = outcomeUnknownText
		}
		retryAfter(c, unavailableRetry)
	case errors.As(err, &ue):
		status, msg, reload = ue.status, ue.message, ue.reload
	case errors.Is(err, store.ErrNotFound):
		status = fiber.StatusNotFound
	case errors.As(err, &fe):
		status = fe.Code
		if _, ok := statusText[status]; !ok {
			status = fiber.StatusBadRequest
		}
	}
	text, ok := statusText[status]
	if !ok {
		text = statusText[fiber.StatusInternalServerError]
	}
	if msg == "" {
		msg = text[1]
	}
	if status == fiber.StatusNotFound && authOf(c) == nil {
		// An unknown path never ran requireSession. A signed-in user must
		// get the same 404 page for it as for a route their role may not
		// see, or the difference would reveal that the route exists.
		if a, _, err := h.authenticate(c); err == nil && a != nil {
			c.Locals(localAuth, a)
		}
	}
	if status >= 500 {
		h.log.Error("request failed", "route", c.Route().Path, "err", err, "request_id", c.Locals(localRequestID))
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Status(status)
	if wantsJSON(c) { // the passkey calls of static/passkeys.js
		return c.JSON(passkeyReply{Error: msg})
	}
	if isHTMX(c) {
		c.Set(hxRetarget, "#flash")
		c.Set(hxReswap, "innerHTML")
		return c.Render("partials/error_flash", errorFlash{Message: msg, Reload: reload}, "")
	}
	v := &errorView{Layout: h.newLayout(c, text[0]), Heading: text[0], Message: msg, Back: "/settings", BackText: "Go to Settings"}
	switch a := authOf(c); {
	case errors.Is(err, store.ErrUnavailable) && c.Method() == fiber.MethodGet:
		// The session could not be checked, or the page read: trying
		// again is the way on, and sign-in would fail the same way.
		v.Back, v.BackText = c.OriginalURL(), "Try again"
	case a == nil:
		v.Back, v.BackText = "/login", "Go to sign-in"
	case isPartner(a.User.Role):
		v.Back, v.BackText = partnerURL, "Go to the partner console"
	}
	return c.Render("error", v)
}

// errorView is the error page.
type errorView struct {
	Layout                           layoutView
	Heading, Message, Back, BackText string
}

// errorFlash is an error as an htmx request gets it, in the flash region.
type errorFlash struct {
	Message string
	Reload  bool
}
