package handlers

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Device cookies, after OWASP's "slow down online guessing attacks with
// device cookies": a browser that signs in to an account gets a long-lived
// cookie naming the account (a random nonce and a MAC of nonce and email,
// so it cannot be forged or moved to another account). Its later sign-ins
// to that account are throttled on their own key, so a guesser elsewhere,
// however persistent, never locks the owner's own browsers out; attempts
// from anywhere else stay throttled per account and per network.
const deviceCookieLifetime = 365 * 24 * time.Hour

// nonceLen is the base64url length of the 16 random bytes of a nonce.
const nonceLen = 22

func (h *handler) deviceMAC(nonce, email string) string {
	return h.csrfToken(csrfDevice, nonce+":"+strings.ToLower(email))
}

// rememberDevice gives the browser a device cookie for email.
func (h *handler) rememberDevice(c *fiber.Ctx, email string) {
	var b [16]byte
	rand.Read(b[:])
	nonce := base64.RawURLEncoding.EncodeToString(b[:])
	h.cookie(c, deviceCookie, nonce+"."+h.deviceMAC(nonce, email), deviceCookieLifetime)
}

// knownDevice returns the nonce of the browser's device cookie if it was
// issued at a successful sign-in to email.
func (h *handler) knownDevice(c *fiber.Ctx, email string) (string, bool) {
	nonce, mac, ok := strings.Cut(h.readCookie(c, deviceCookie), ".")
	if !ok || len(nonce) != nonceLen || len(mac) > 64 {
		return "", false
	}
	return nonce, hmac.Equal([]byte(mac), []byte(h.deviceMAC(nonce, email)))
}
