package handlers

import (
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Cookie names. Over HTTPS the session cookie takes the __Host- prefix,
// which browsers accept only with Secure, Path=/ and no Domain, so no
// sibling subdomain can plant or shadow it.
const (
	sessionCookie       = "portal_session"
	secureSessionCookie = "__Host-portal_session"
	preSessionCookie    = "portal_pre"
	flashCookie         = "portal_flash"
)

// secure reports whether this request reached us over HTTPS: by
// configuration, or by a trusted proxy saying so. Without trusted proxies
// Fiber would believe anyone's X-Forwarded-Proto, so it is not asked.
func (h *Handler) secure(c *fiber.Ctx) bool {
	return h.cfg.SecureCookies || (len(h.cfg.TrustedProxies) > 0 && c.Protocol() == "https")
}

func (h *Handler) sessionCookieName(c *fiber.Ctx) string {
	if h.secure(c) {
		return secureSessionCookie
	}
	return sessionCookie
}

func (h *Handler) cookie(c *fiber.Ctx, name, value string, maxAge time.Duration) {
	ck := &fiber.Cookie{
		Name: name, Value: value, Path: "/", HTTPOnly: true,
		Secure: h.secure(c), SameSite: fiber.CookieSameSiteLaxMode,
	}
	switch {
	case maxAge < 0:
		ck.Expires = time.Unix(1, 0)
		ck.MaxAge = -1
	case maxAge > 0:
		ck.MaxAge = int(maxAge / time.Second)
	}
	c.Cookie(ck)
	// A response that sets a session cookie must never be cached.
	c.Set(fiber.HeaderCacheControl, "no-store")
}

func (h *Handler) setSessionCookie(c *fiber.Ctx, token string) {
	h.cookie(c, h.sessionCookieName(c), token, h.store.Policy().MaxLifetime)
}

func (h *Handler) clearSessionCookie(c *fiber.Ctx) {
	h.cookie(c, h.sessionCookieName(c), "", -1)
}

// preSession returns the anonymous browser id that the sign-in form's CSRF
// token is bound to, creating it if needed.
func (h *Handler) preSession(c *fiber.Ctx) string {
	if v := c.Cookies(preSessionCookie); len(v) == 43 {
		return strings.Clone(v)
	}
	var b [32]byte
	rand.Read(b[:])
	v := base64.RawURLEncoding.EncodeToString(b[:])
	h.cookie(c, preSessionCookie, v, 0)
	return v
}

// Flash messages survive one redirect in a short-lived cookie holding a
// code, never free text, so nobody can make the page say something else.
func (h *Handler) setFlash(c *fiber.Ctx, code string, n int) {
	h.cookie(c, flashCookie, code+"."+strconv.Itoa(n), time.Minute)
}

func (h *Handler) takeFlash(c *fiber.Ctx) string {
	v := c.Cookies(flashCookie)
	if v == "" {
		return ""
	}
	h.cookie(c, flashCookie, "", -1)
	code, num, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || n > 1_000_000 {
		return ""
	}
	switch code {
	case "revoked":
		return "The session was signed out."
	case "others":
		return signedOutOthers(n)
	case "password":
		if n > 0 {
			return "Your password was changed. " + signedOutOthers(n)
		}
		return "Your password was changed."
	}
	return ""
}

func signedOutOthers(n int) string {
	switch n {
	case 0:
		return "There were no other sessions to sign out."
	case 1:
		return "Signed out 1 other session."
	}
	return "Signed out " + strconv.Itoa(n) + " other sessions."
}
