package handlers

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/store"
	"portal/twostep"
)

// Two pieces of state live in the browser rather than the server, so that
// several instances behind one address need nothing shared and a browser
// that walks away leaves nothing behind:
//
//   - the pending sign-in: after a correct password, a cookie naming the
//     user, its expiry (5 minutes) and the browser's time zone, with a MAC
//     (under the CSRF key) over those, the browser's pre-session cookie
//     and the user's password binding. It grants no session and is only
//     good for the second step, in this browser, for this password.
//   - a new authenticator-app secret during setup: sealed (AES-256-GCM
//     under a key derived from the CSRF key) in the setup form, bound to
//     the session (or the pending sign-in) that was shown it and expiring
//     after setupLifetime. Nothing about it is stored until a correct code
//     comes back; the browser holds only ciphertext.

const (
	pendingCookie   = "portal_second"
	pendingLifetime = 5 * time.Minute
	setupLifetime   = 15 * time.Minute
	csrfPending     = "second-step"
	setupSealField  = "sealed"
)

// Sentences for a pending sign-in that cannot go on.
const (
	pendingExpiredText = "More than 5 minutes passed since you entered your password. Sign in again."
	pendingInvalidText = "That sign-in was not started in this browser, or it has ended. Sign in again."
)

// pending is a sign-in waiting for its second step.
type pending struct {
	User store.User
	Zone string // the browser's time zone from the sign-in form
}

func (h *handler) pendingMAC(pre, userID, exp, zone string, u store.User) string {
	return h.csrfToken(csrfPending, pre+":"+userID+":"+exp+":"+zone+":"+deviceBinding(u))
}

// startPending gives the browser the pending state for u after its correct
// password; the pre-session cookie it is bound to stays.
func (h *handler) startPending(c *fiber.Ctx, u store.User, zone string) {
	pre := h.preSession(c)
	exp := strconv.FormatInt(h.now().Add(pendingLifetime).Unix(), 10)
	z := base64.RawURLEncoding.EncodeToString([]byte(zone))
	h.cookie(c, pendingCookie, u.ID+"."+exp+"."+z+"."+h.pendingMAC(pre, u.ID, exp, z, u), pendingLifetime)
}

// endPending clears the pending state.
func (h *handler) endPending(c *fiber.Ctx) {
	if h.readCookie(c, pendingCookie) != "" {
		h.cookie(c, pendingCookie, "", -1)
	}
}

// pendingOf is the browser's pending sign-in, or the sentence that says
// why there is none usable (and the pending cookie is cleared).
func (h *handler) pendingOf(c *fiber.Ctx) (pending, string, error) {
	raw := h.readCookie(c, pendingCookie)
	pre := h.readCookie(c, preSessionCookie)
	parts := strings.Split(raw, ".")
	if raw == "" || len(raw) > 512 || len(parts) != 4 || pre == "" || len(parts[0]) > 64 {
		h.endPending(c)
		return pending{}, pendingInvalidText, nil
	}
	id, exp, z, mac := parts[0], parts[1], parts[2], parts[3]
	u, err := h.accounts.UserByID(id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.endPending(c)
		return pending{}, pendingInvalidText, nil
	case err != nil:
		return pending{}, "", err
	}
	if !hmac.Equal([]byte(mac), []byte(h.pendingMAC(pre, id, exp, z, u))) || u.Disabled {
		h.endPending(c)
		return pending{}, pendingInvalidText, nil
	}
	at, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !h.now().Before(time.Unix(at, 0)) {
		h.endPending(c)
		return pending{}, pendingExpiredText, nil
	}
	zone, _ := base64.RawURLEncoding.DecodeString(z)
	return pending{User: u, Zone: string(zone)}, "", nil
}

// backToSignIn shows the sign-in form with why the second step cannot go on.
func (h *handler) backToSignIn(c *fiber.Ctx, text string) error {
	v := h.newLoginView(c)
	v.Reason = text
	return c.Status(fiber.StatusUnauthorized).Render("login", v)
}

// setupAEAD is the cipher setup secrets travel under.
func (h *handler) setupAEAD() (cipher.AEAD, error) {
	m := hmac.New(sha256.New, h.db.CSRFKey())
	m.Write([]byte("portal two-step setup v1"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealSetup seals secret for the form of whoever bind names ("session:"+id
// or "pending:"+pre-session+":"+user id).
func (h *handler) sealSetup(bind string, secret []byte) (string, error) {
	aead, err := h.setupAEAD()
	if err != nil {
		return "", err
	}
	plain := binary.BigEndian.AppendUint64(nil, uint64(h.now().Add(setupLifetime).Unix()))
	plain = append(plain, secret...)
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, []byte("setup:"+bind))), nil
}

// openSetup opens a sealed secret from a setup form: false if it was not
// sealed for bind, was changed, or has expired.
func (h *handler) openSetup(bind, sealed string) ([]byte, bool) {
	aead, err := h.setupAEAD()
	if err != nil || len(sealed) > 512 {
		return nil, false
	}
	data, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(data) < aead.NonceSize() {
		return nil, false
	}
	plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], []byte("setup:"+bind))
	if err != nil || len(plain) < 8 {
		return nil, false
	}
	if !h.now().Before(time.Unix(int64(binary.BigEndian.Uint64(plain)), 0)) {
		return nil, false
	}
	return plain[8:], true
}

// codeKey throttles wrong second-step codes per user, like wrong passwords.
func codeKey(userID string) key { return key{name: "c:" + userID, limit: accountLimit} }

// acceptAppCode reports whether code is the user's current app code, and
// accepts it once: ok false with used set for a code whose time step was
// accepted already.
func (h *handler) acceptAppCode(userID string, secret []byte, code string) (ok, used bool, err error) {
	for _, step := range twostep.Steps(secret, code, h.now()) { // latest first
		switch err := h.twoStep.AcceptCode(userID, step); {
		case err == nil:
			return true, false, nil
		case errors.Is(err, store.ErrCodeUsed):
			used = true
		default:
			return false, false, err
		}
	}
	return false, used, nil
}

// codeWrongText is what a wrong or reused code gets.
func codeWrongText(used bool) string {
	if used {
		return "That code was used already. Wait for the next code in your app and enter it."
	}
	return "That code is not right. Check the time on your phone and enter the code your app shows now."
}

// recoveryWellFormed reports whether a typed recovery code could be one.
func recoveryWellFormed(code string) bool {
	n := store.NormalizeRecoveryCode(code)
	if len(n) != 16 {
		return false
	}
	for _, r := range n {
		if !(r >= 'A' && r <= 'Z' || r >= '2' && r <= '7') {
			return false
		}
	}
	return true
}
