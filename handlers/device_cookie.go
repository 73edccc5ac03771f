package handlers

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/store"
)

// Device cookies, after OWASP's "slow down online guessing attacks with
// device cookies": a browser that signs in to an account gets a long-lived
// cookie naming the account (a random nonce and a MAC of the nonce, the
// user and a digest of the user's current password hash, so it cannot be
// forged or moved to another account, and a new password voids every
// cookie issued before it, whoever sets it). Its later sign-ins to that
// account are throttled on their own key, so a guesser elsewhere, however
// persistent, never locks the owner's own browsers out; attempts from
// anywhere else stay throttled per account and per network.
//
// An account has at most maxDeviceKeys device keys (throttle.go keeps
// them): a browser signing in again keeps its key, and a new browser
// beyond the cap pushes out the oldest. The list lives in memory: until
// this process has issued a key for an account, a cookie with a valid MAC
// is believed, so a restart costs each browser its standing for one
// sign-in at most.
const deviceCookieLifetime = 365 * 24 * time.Hour

// nonceLen is the base64url length of the 16 random bytes of a nonce.
const nonceLen = 22

// deviceBinding is a digest of the account's current password hash: a
// device cookie (and a sign-in waiting for its second step) is only valid
// with it, so a new password voids them.
func deviceBinding(u store.User) string {
	sum := sha256.Sum256([]byte(u.PasswordHash))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// deviceMAC binds a device cookie to the password and to when two-step
// sign-in was last turned on or off: either change (a partner's or an
// operator's reset among them) voids every device cookie of the account,
// as a new password does.
func (h *handler) deviceMAC(nonce string, u store.User) string {
	return h.csrfToken(csrfDevice, nonce+":"+u.ID+":"+deviceBinding(u)+":"+u.TwoStepChangedAt.UTC().Format(time.RFC3339Nano))
}

// rememberDevice gives the browser a device cookie for u, with nonce if
// the browser already had one for u, else a new one, and makes it the
// account's newest device key.
func (h *handler) rememberDevice(c *fiber.Ctx, u store.User, nonce string) {
	if nonce == "" {
		var b [16]byte
		rand.Read(b[:])
		nonce = base64.RawURLEncoding.EncodeToString(b[:])
	}
	h.throttle.addDevice(u.ID, nonce)
	h.cookie(c, deviceCookie, nonce+"."+h.deviceMAC(nonce, u), deviceCookieLifetime)
}

// deviceCookieOf returns the nonce of the browser's device cookie if it
// was issued to u under u's current password (mine), and whether it is
// still one of the account's device keys (known).
func (h *handler) deviceCookieOf(c *fiber.Ctx, u store.User) (nonce string, mine, known bool) {
	nonce, mac, ok := strings.Cut(h.readCookie(c, deviceCookie), ".")
	if !ok || len(nonce) != nonceLen || len(mac) > 64 || !hmac.Equal([]byte(mac), []byte(h.deviceMAC(nonce, u))) {
		return "", false, false
	}
	return nonce, true, h.throttle.deviceKnown(u.ID, nonce)
}
