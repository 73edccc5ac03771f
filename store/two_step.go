package store

import (
	"errors"
	"time"
)

// Two-step sign-in: after the password, a code from an authenticator app
// (RFC 6238; the codes themselves are package twostep's) or one of ten
// single-use recovery codes. What is kept of it:
//
//   - the app's secret, sealed (AES-256-GCM under a key derived from the
//     database's CSRF key, which a copy moves with the data): only the
//     Core opens it, and no database row or log holds it in clear;
//   - the last time step a code was accepted for: a code of that step or
//     an earlier one is refused, atomically, so a code works once;
//   - the SHA-256 of each recovery code not yet used (the codes are 80
//     random bits: a fast hash does), each removed as it is used.

// TwoStepRecord is a user's two-step sign-in as a database keeps it.
type TwoStepRecord struct {
	UserID    string    `json:"user_id"`
	Sealed    []byte    `json:"sealed"`     // the app's secret, sealed
	LastStep  int64     `json:"last_step"`  // codes of this time step or earlier are refused
	Codes     []string  `json:"codes"`      // hex SHA-256 of each recovery code not yet used
	EnabledAt time.Time `json:"enabled_at"` // when it was turned on
}

// TwoStep is a user's two-step sign-in as callers see it.
type TwoStep struct {
	Secret    []byte // the app's secret, opened
	LastStep  int64
	CodesLeft int
	EnabledAt time.Time
}

// AuthMethod says how a session signed in. Stored, so never change one.
type AuthMethod string

const (
	AuthPassword         AuthMethod = ""                  // the password alone (and every session from before two-step sign-in)
	AuthPasswordApp      AuthMethod = "password+app"      // the password and an authenticator app's code
	AuthPasswordRecovery AuthMethod = "password+recovery" // the password and a recovery code
	AuthPasskey          AuthMethod = "passkey"           // a user-verified passkey alone: both steps in one
	AuthPasswordPasskey  AuthMethod = "password+passkey"  // the password, then a passkey as the second step
)

// Label is how the method reads on a session's row: "Password",
// "Password and authenticator app", "Password and recovery code".
func (m AuthMethod) Label() string {
	switch m {
	case AuthPasswordApp:
		return "Password and authenticator app"
	case AuthPasswordRecovery:
		return "Password and recovery code"
	case AuthPasskey:
		return "Passkey"
	case AuthPasswordPasskey:
		return "Password and passkey"
	}
	return "Password"
}

// TwoStep reports whether m had a second step (a user-verified passkey
// is something the user has and something they are or know at once).
func (m AuthMethod) TwoStep() bool { return m != AuthPassword }

var (
	// ErrTwoStepOff is returned for a user without two-step sign-in.
	ErrTwoStepOff = errors.New("store: two-step sign-in is off")
	// ErrCodeUsed refuses a code of a time step at or before the last one
	// accepted, and a recovery code that is not (or no longer) the user's.
	ErrCodeUsed = errors.New("store: the code was used already or is not valid")
)

// RecoveryCodes is how many recovery codes a set holds.
const RecoveryCodes = 10
