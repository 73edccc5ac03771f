package handlers

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/gofiber/fiber/v2"

	"portal/store"
)

// A WebAuthn ceremony's state (its challenge, the user and credentials it
// allows, its parameters) is kept in the database between begin and
// finish, under the hash of a random id the browser holds in an HttpOnly
// cookie: bound to that browser, taken once, gone after 5 minutes. It
// also names what it is for and whom: a sign-in ceremony cannot finish a
// confirmation, nor one begun in another session.

const passkeyCookie = "portal_passkey"

// ceremonyKind is what a ceremony is for.
type ceremonyKind string

const (
	ceremonySignIn  ceremonyKind = "sign-in"     // a discoverable sign-in, no email asked
	ceremonySecond  ceremonyKind = "second-step" // after the password, instead of the app's code
	ceremonyConfirm ceremonyKind = "confirm"     // "Confirm it's you"
	ceremonyAdd     ceremonyKind = "add"         // adding a passkey in Settings
)

// ceremony is what is kept of one.
type ceremony struct {
	Kind ceremonyKind `json:"kind"`
	// Bind is the browser's pre-session id (sign-in), pending binding
	// (second step) or session id (signed in) it was begun for.
	Bind string `json:"bind"`
	// Name is the name a passkey being added will have.
	Name string               `json:"name,omitempty"`
	Data webauthn.SessionData `json:"data"`
}

// beginCeremony keeps a new ceremony and gives this browser its id.
func (h *handler) beginCeremony(c *fiber.Ctx, cer ceremony) error {
	var b [32]byte
	rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	data, err := json.Marshal(cer)
	if err != nil {
		return fmt.Errorf("handlers: keep a passkey ceremony: %w", err)
	}
	if err := h.passkeys.StartCeremony(id, data); err != nil {
		h.log.Error("passkey ceremony could not be kept", "err", err)
		return notSaved("start using your passkey", err)
	}
	h.cookie(c, passkeyCookie, id, ceremonyLifetime+time.Minute)
	return nil
}

// finishCeremony takes this browser's ceremony of kind, begun for bind,
// once: errNoCeremony if there is none (expired, used, another browser's)
// or it was for something else.
func (h *handler) finishCeremony(c *fiber.Ctx, kind ceremonyKind, bind string) (ceremony, error) {
	id := h.readCookie(c, passkeyCookie)
	if id == "" || len(id) > 64 {
		return ceremony{}, errNoCeremony
	}
	h.cookie(c, passkeyCookie, "", -1)
	data, err := h.passkeys.FinishCeremony(id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ceremony{}, errNoCeremony
	case err != nil:
		return ceremony{}, err
	}
	var cer ceremony
	if err := json.Unmarshal(data, &cer); err != nil || cer.Kind != kind || cer.Bind != bind || bind == "" {
		return ceremony{}, errNoCeremony
	}
	return cer, nil
}
