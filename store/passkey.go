package store

import (
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Passkeys (WebAuthn, FIDO2): a key pair made by the user's device for
// the portal's own address; signing in is one signature check. The
// WebAuthn protocol itself (options, attestation, assertion, COSE keys) is
// the go-webauthn library's, in package handlers; what is kept of it:
//
//   - each passkey: its credential id (the lookup key), the library's
//     record of it as JSON (public key, AAGUID, transports, attestation,
//     flags), and beside it, as fields of their own, what the portal reads
//     or must update atomically: its name, the signature counter, the
//     backup flags, when it was added and last used;
//   - each user's WebAuthn user handle: 32 random bytes, made the first
//     time they add a passkey, never the email or the user id; a
//     discoverable sign-in names the user by it;
//   - ceremonies between their begin and finish (the challenge and what it
//     allows), under the hash of a random id the browser holds in a
//     cookie, for CeremonyLifetime, each taken once.

// Passkey is one of a user's passkeys.
type Passkey struct {
	ID         []byte `json:"id"` // the credential id
	UserID     string `json:"user_id"`
	Name       string `json:"name"`
	Credential []byte `json:"credential"` // the WebAuthn library's credential record, JSON
	// SignCount is the authenticator's signature counter as last seen: one
	// that does not move forward (unless both are 0, as for synced
	// passkeys) means a copy of the key, and is refused.
	SignCount uint32 `json:"sign_count"`
	// BackupEligible says the passkey can be synced between devices (it
	// never changes); BackupState that it is synced now.
	BackupEligible bool      `json:"backup_eligible"`
	BackupState    bool      `json:"backup_state"`
	AddedAt        time.Time `json:"added_at"`
	LastUsedAt     time.Time `json:"last_used_at,omitzero"` // zero: never used to sign in
}

// Synced reports whether the passkey is (or can be) synced between the
// user's devices, as its backup flags say.
func (p Passkey) Synced() bool { return p.BackupEligible && p.BackupState }

// PasskeyUse is what one sign-in with a passkey updates.
type PasskeyUse struct {
	Credential  []byte // the record as the library left it; nil keeps the one kept
	SignCount   uint32
	BackupState bool
	At          time.Time
}

// Limits on passkeys.
const (
	MaxPasskeysPerUser  = 20
	MaxPasskeyNameRunes = 64
	// CeremonyLifetime is how long a begun ceremony can be finished.
	CeremonyLifetime = 5 * time.Minute
	// PasskeyHandleLen is the size of a WebAuthn user handle, in bytes.
	PasskeyHandleLen = 32
)

var (
	// ErrSignCountBack refuses a passkey whose signature counter did not
	// move forward: the key was copied, or the authenticator is faulty.
	ErrSignCountBack = errors.New("store: the passkey's signature counter went backwards")
	// ErrPasskeyExists refuses a credential id already kept.
	ErrPasskeyExists = errors.New("store: that passkey is added already")
	// ErrTooManyPasskeys refuses a passkey past MaxPasskeysPerUser.
	ErrTooManyPasskeys = errors.New("store: too many passkeys")
	// ErrPasskeyName refuses a name that is empty, too long, or holds
	// control characters.
	ErrPasskeyName = errors.New("store: a passkey's name must be 1 to 64 characters, without control characters")
)

// CleanPasskeyName is name as kept: trimmed, with runs of spaces as one;
// ErrPasskeyName if nothing is left, or it is too long or not text.
func CleanPasskeyName(name string) (string, error) {
	if !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", ErrPasskeyName
	}
	name = strings.Join(strings.Fields(name), " ")
	if name == "" || utf8.RuneCountInString(name) > MaxPasskeyNameRunes {
		return "", ErrPasskeyName
	}
	return name, nil
}

// SignCountForward reports whether a sign-in's signature counter next
// may follow the kept one: it must move forward, unless both are 0 (an
// authenticator without a counter, as synced passkeys are).
func SignCountForward(kept, next uint32) bool {
	return next > kept || (next == 0 && kept == 0)
}

// PasskeyStorage is what the Core asks of a database for passkeys. Each
// call is one transaction, its event written in it.
type PasskeyStorage interface {
	// KeepPasskeyHandle is userID's user handle; if they have none yet, handle
	// becomes it (the one kept first wins a race). ErrNotFound for no
	// such user.
	KeepPasskeyHandle(userID string, handle []byte) ([]byte, error)
	// PasskeyHandleUser is the id of the user whose handle is handle, or
	// ErrNotFound.
	PasskeyHandleUser(handle []byte) (string, error)
	// PasskeysOf is userID's passkeys, oldest first.
	PasskeysOf(userID string) ([]Passkey, error)
	// PasskeyByID is the passkey with credential id id, or ErrNotFound.
	PasskeyByID(id []byte) (Passkey, error)
	// PutPasskey keeps pk for pk.UserID and records ev: ErrNotFound for
	// no such user, ErrPasskeyExists for an id kept already (for anyone),
	// ErrTooManyPasskeys past MaxPasskeysPerUser.
	PutPasskey(pk Passkey, ev Event) error
	// WritePasskeyUse records a sign-in with passkey id. Unless use.SignCount
	// and the kept count are both 0, use.SignCount must be greater than
	// the kept count; if not, nothing is updated, refused (with the
	// passkey's name, and Auth) is recorded for its user, and the answer
	// is ErrSignCountBack. ErrNotFound if the passkey is gone.
	WritePasskeyUse(id []byte, use PasskeyUse, refused Event) error
	// PutPasskeyName names userID's passkey id name; ErrNotFound if it is
	// not theirs.
	PutPasskeyName(userID string, id []byte, name string) error
	// DeletePasskey removes userID's passkey id and records ev (with the
	// name filled in); ErrNotFound if it is not theirs.
	DeletePasskey(userID string, id []byte, ev Event) error
	// PutCeremony keeps data under key until expires.
	PutCeremony(key TokenHash, data []byte, expires time.Time) error
	// TakeCeremony removes and returns what key holds, if it has not
	// expired at now; ErrNotFound otherwise. However many requests take
	// it at once, one gets it.
	TakeCeremony(key TokenHash, now time.Time) ([]byte, error)
}
