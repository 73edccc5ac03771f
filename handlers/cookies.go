package handlers

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Cookie names. Over HTTPS every cookie takes the __Host- prefix, which
// browsers accept only with Secure, Path=/ and no Domain, so no sibling
// subdomain or plain-http page can plant or shadow it.
const (
	sessionCookie       = "portal_session"
	secureSessionCookie = hostPrefix + sessionCookie
	preSessionCookie    = "portal_pre"
	flashCookie         = "portal_flash"
	deviceCookie        = "portal_device"
	hostPrefix          = "__Host-"
)

// secure reports whether this request reached us over HTTPS: by
// configuration, or by a trusted proxy saying so. Without trusted proxies
// Fiber would believe anyone's X-Forwarded-Proto, so it is not asked.
func (h *handler) secure(c *fiber.Ctx) bool {
	return h.cfg.SecureCookies || (len(h.cfg.TrustedProxies) > 0 && c.Protocol() == "https")
}

// cookieName is the name cookie base goes by on this request.
func (h *handler) cookieName(c *fiber.Ctx, base string) string {
	if h.secure(c) {
		return hostPrefix + base
	}
	return base
}

func (h *handler) sessionCookieName(c *fiber.Ctx) string { return h.cookieName(c, sessionCookie) }

// readCookie returns a copy of the cookie's value, safe to keep after the
// handler returns.
func (h *handler) readCookie(c *fiber.Ctx, base string) string {
	return strings.Clone(c.Cookies(h.cookieName(c, base)))
}

func (h *handler) cookie(c *fiber.Ctx, name, value string, maxAge time.Duration) {
	ck := &fiber.Cookie{
		Name: h.cookieName(c, name), Value: value, Path: "/", HTTPOnly: true,
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

func (h *handler) setSessionCookie(c *fiber.Ctx, token string) {
	h.cookie(c, sessionCookie, token, h.db.Policy().MaxLifetime)
}

func (h *handler) clearSessionCookie(c *fiber.Ctx) {
	h.cookie(c, sessionCookie, "", -1)
}

// preSession returns the anonymous browser id that the sign-in form's CSRF
// token is bound to, creating it if needed.
func (h *handler) preSession(c *fiber.Ctx) string {
	if v := h.readCookie(c, preSessionCookie); len(v) == 43 {
		return v
	}
	var b [32]byte
	rand.Read(b[:])
	v := base64.RawURLEncoding.EncodeToString(b[:])
	h.cookie(c, preSessionCookie, v, 0)
	return v
}

// Flash messages survive one redirect in a short-lived cookie holding a
// code, never free text, and a MAC binding the code to the session that
// set it, so nobody can plant a cookie that makes the page say something
// else.
func (h *handler) setFlash(c *fiber.Ctx, code string, n int) {
	v := code + "." + strconv.Itoa(n)
	h.cookie(c, flashCookie, v+"."+h.csrfToken(csrfFlash, authOf(c).Session.ID+":"+v), time.Minute)
}

func (h *handler) takeFlash(c *fiber.Ctx) string {
	raw := h.readCookie(c, flashCookie)
	if raw == "" {
		return ""
	}
	h.cookie(c, flashCookie, "", -1)
	dot := strings.LastIndexByte(raw, '.')
	if dot < 0 || !hmac.Equal([]byte(raw[dot+1:]), []byte(h.csrfToken(csrfFlash, authOf(c).Session.ID+":"+raw[:dot]))) {
		return ""
	}
	code, num, _ := strings.Cut(raw[:dot], ".")
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || n > 1_000_000 {
		return ""
	}
	if msg := partnerFlash(code, n); msg != "" {
		return msg
	}
	switch code {
	case "revoked":
		return signedOutOne
	case "others":
		return signedOutOthers(n)
	case "password":
		return passwordChanged(n)
	case "everywhere":
		return signedOutEverywhere(n)
	case "passkey-added":
		return "Passkey added. You can now sign in with it, without your password."
	case "passkey-removed":
		return "Passkey removed. It no longer signs you in."
	}
	return ""
}
