package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"

	"portal/device"
	"portal/geo"
)

// TokenHash is SHA-256 of a session token: the only form of a token at rest.
type TokenHash [32]byte

// tokenLen is the length of a token: 32 random bytes, base64url, no padding.
const tokenLen = 43

// NewToken returns a new session token: 256 random bits, tokenLen long.
func NewToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// NewID returns a random 128-bit id as 32 lower-case hex characters: the
// shape ValidID accepts.
func NewID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// HashToken returns the key a token's session is stored under.
func HashToken(token string) TokenHash { return sha256.Sum256([]byte(token)) }

// ErrUserDisabled is returned when a disabled user tries to start a session.
var ErrUserDisabled = errors.New("store: user is disabled")

// NewSession describes a sign-in. Zero times mean now.
type NewSession struct {
	UserAgent  string
	Device     device.Info
	Place      geo.Place
	CreatedAt  time.Time
	LastActive time.Time
	TimeZone   string // the browser's IANA time zone, already checked; "" for none
	Auth       AuthMethod
	Passkey    string // the name of the passkey it signed in with, if it did
	// WithPasskey, if set, is that passkey's use, written in the same
	// transaction as the session: a sign-in with a passkey is one commit.
	WithPasskey *PasskeySignIn
}

// PasskeySignIn is a passkey's use by a sign-in. The rule of
// PasskeyStorage.WritePasskeyUse applies: if the counter did not move
// forward, Refused is recorded instead of the session, and the sign-in
// fails with ErrSignCountBack.
type PasskeySignIn struct {
	ID      []byte
	Use     PasskeyUse
	Refused Event
}

// SignIn describes a sign-in from a browser sending user agent ua, seen at
// place: the user agent is cleaned and parsed once, here, never per
// request.
func SignIn(ua string, place geo.Place) NewSession {
	return NewSession{UserAgent: device.Clean(ua), Device: device.Parse(ua), Place: place}
}

// SessionFor is one sign-in for CreateSessions.
type SessionFor struct {
	UserID string
	NewSession
}
