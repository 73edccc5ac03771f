package handlers

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/store"
)

// htmx request and response headers, named once.
const (
	hxRequest  = "HX-Request"
	hxRedirect = "HX-Redirect"
	hxTrigger  = "HX-Trigger"
	hxRetarget = "HX-Retarget"
	hxReswap   = "HX-Reswap"
	hxPushURL  = "HX-Push-Url"
)

func isHTMX(c *fiber.Ctx) bool { return c.Get(hxRequest) == "true" }

// redirect sends the browser to path: a 303 for a normal request, an
// HX-Redirect for htmx (which ignores the headers of 3xx responses and would
// otherwise swap the target page into a fragment).
func (h *handler) redirect(c *fiber.Ctx, path string) error {
	if isHTMX(c) {
		c.Set(hxRedirect, path)
		return c.SendStatus(fiber.StatusOK)
	}
	return c.Redirect(path, fiber.StatusSeeOther)
}

// contentSecurityPolicy allows only our own script and style files: no
// inline script or style anywhere (htmx is told not to inject its
// indicator styles).
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func (h *handler) securityHeaders(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentSecurityPolicy, contentSecurityPolicy)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "same-origin")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	c.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	if h.secure(c) {
		// A year, and no includeSubDomains: the portal does not own the
		// parent domain's other hosts.
		c.Set(fiber.HeaderStrictTransportSecurity, "max-age=31536000")
	}
	return c.Next()
}

// maxUserAgent is the longest User-Agent accepted. Real browsers send
// under 500 bytes; a longer one is refused with a sentence rather than
// silently cut, since the user agent is what the Active Sessions page
// shows. What is kept of an accepted one is its first device.MaxUALen
// bytes, all that the parser reads.
const maxUserAgent = 1024

func (h *handler) limitUserAgent(c *fiber.Ctx) error {
	if len(c.Request().Header.UserAgent()) > maxUserAgent {
		return &userError{status: fiber.StatusRequestHeaderFieldsTooLarge,
			message: "Your browser sent a User-Agent header longer than 1024 bytes, which the portal does not accept. Use a browser without a modified User-Agent."}
	}
	return c.Next()
}

// logRequests writes one line per request. It logs the route pattern, not
// the raw path or query, so nothing a user typed ends up in the log.
func (h *handler) logRequests(c *fiber.Ctx) error {
	start := time.Now()
	var b [8]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	c.Set("X-Request-Id", id)
	c.Locals(localRequestID, id)
	err := c.Next()
	if err != nil {
		// Render the error now so the logged status is the one sent.
		if herr := h.handleError(c, err); herr != nil {
			h.log.Error("error handler failed", "err", herr, "request_id", id)
		}
	}
	h.log.Info("request", "method", c.Method(), "route", c.Route().Path, "status", c.Response().StatusCode(),
		"duration_ms", float64(time.Since(start).Microseconds())/1000, "request_id", id)
	return nil
}

// auth is what requireSession learned about the caller.
type auth struct {
	User    store.User
	Session store.Session
	CSRF    string
}

const (
	localAuth      = "auth"
	localRequestID = "request_id"
)

func authOf(c *fiber.Ctx) *auth {
	a, _ := c.Locals(localAuth).(*auth)
	return a
}

// requireSession admits only requests with a live session cookie. Anyone
// else is sent to sign-in, with the reason when their session ended.
func (h *handler) requireSession(c *fiber.Ctx) error {
	a, reason, err := h.authenticate(c)
	if err != nil {
		return err
	}
	if a == nil {
		return h.toSignIn(c, reason)
	}
	c.Locals(localAuth, a)
	// Anything behind sign-in is personal: never cache it.
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}

// toSignIn sends the browser to sign-in, with the reason its session
// ended if there is one.
func (h *handler) toSignIn(c *fiber.Ctx, reason store.Reason) error {
	return h.redirect(c, signInURL(reason))
}

// authenticate validates the session cookie. It returns nil auth for an
// anonymous caller, with the reason if the cookie named a session that has
// ended (and clears that cookie).
func (h *handler) authenticate(c *fiber.Ctx) (*auth, store.Reason, error) {
	token := c.Cookies(h.sessionCookieName(c))
	if token == "" {
		return nil, "", nil
	}
	sess, user, err := h.sessions.Authenticate(token)
	var ended *store.EndedError
	switch {
	case errors.As(err, &ended):
		h.clearSessionCookie(c)
		return nil, ended.Reason, nil
	case errors.Is(err, store.ErrNotFound):
		h.clearSessionCookie(c)
		return nil, "", nil
	case err != nil:
		return nil, "", err
	}
	if user.Disabled {
		h.clearSessionCookie(c)
		return nil, store.ReasonUserDisabled, nil
	}
	if err := h.noteChanges(c, token, sess); err != nil {
		return nil, "", err
	}
	return &auth{User: user, Session: sess, CSRF: h.csrfToken(csrfSession, sess.ID)}, "", nil
}

// customerOnly hides the Active Sessions routes from partner roles: they
// get the same 404 as for a page that does not exist.
func (h *handler) customerOnly(c *fiber.Ctx) error {
	if a := authOf(c); a == nil || !a.User.Role.IsCustomer() {
		return fiber.ErrNotFound
	}
	return c.Next()
}
