package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"

	"github.com/gofiber/fiber/v2"
)

// CSRF tokens are HMACs of what they protect, keyed by a secret kept in the
// database: a signed-in form carries HMAC("session:"+session id), the
// sign-in form HMAC("login:"+pre-session cookie). A token is therefore
// bound to one session (or one anonymous browser), cannot be minted
// without the key, and one from before sign-in is useless after it.
const (
	csrfSession = "session"
	csrfLogin   = "login"
	csrfFlash   = "flash"
	csrfDevice  = "device"

	csrfHeader = "X-CSRF-Token"
	csrfField  = "_csrf"
)

func (h *handler) csrfToken(purpose, id string) string {
	mac := hmac.New(sha256.New, h.db.CSRFKey())
	mac.Write([]byte(purpose))
	mac.Write([]byte{':'})
	mac.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func (h *handler) csrfValid(c *fiber.Ctx, purpose, id string) bool {
	got := c.Get(csrfHeader)
	if got == "" {
		got = formValue(c, csrfField)
	}
	if got == "" || len(got) > 64 || id == "" {
		return false
	}
	return hmac.Equal([]byte(got), []byte(h.csrfToken(purpose, id)))
}

// errCSRF is what a stale or forged form gets. The usual honest cause is a
// tab left open across a sign-out, so the message says how to recover.
var errCSRF = &userError{
	status:  fiber.StatusForbidden,
	message: "This page has expired or the request did not come from the portal. Reload the page and try again.",
	reload:  true,
}

// requireCSRF checks the session-bound token on state-changing requests.
func (h *handler) requireCSRF(c *fiber.Ctx) error {
	a := authOf(c)
	if a == nil || !h.csrfValid(c, csrfSession, a.Session.ID) {
		return errCSRF
	}
	return c.Next()
}

// sameOrigin refuses unsafe requests that a browser says came from another
// site. Sec-Fetch-Site is authoritative where sent; older browsers are
// judged by Origin, then Referer.
func (h *handler) sameOrigin(c *fiber.Ctx) error {
	switch c.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return errCSRF
	case "same-origin", "none":
		return c.Next()
	}
	// The Host header, not c.Hostname(): Fiber believes X-Forwarded-Host
	// from any peer when its proxy check is off, which would let a
	// forged header make a foreign Origin look like ours.
	host := string(c.Request().Header.Host())
	if origin := c.Get(fiber.HeaderOrigin); origin != "" {
		if u, err := url.Parse(origin); err != nil || u.Host != host {
			return errCSRF
		}
		return c.Next()
	}
	if ref := c.Get(fiber.HeaderReferer); ref != "" {
		if u, err := url.Parse(ref); err != nil || u.Host != host {
			return errCSRF
		}
	}
	return c.Next()
}
