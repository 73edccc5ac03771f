package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"portal/geo"
)

// TwoStepStorage is what the Core asks of a database for two-step
// sign-in. Each call is one transaction, its event written in it.
type TwoStepStorage interface {
	// TwoStepRecord is userID's record, or ErrTwoStepOff.
	TwoStepRecord(userID string) (TwoStepRecord, error)
	// PutTwoStep turns two-step sign-in on (or gives it new recovery
	// codes) with rec, and records ev; ErrNotFound for no such user.
	PutTwoStep(rec TwoStepRecord, ev Event) error
	// AdvanceStep moves userID's last accepted step to step if it is
	// earlier, else refuses with ErrCodeUsed; ErrTwoStepOff if off.
	AdvanceStep(userID string, step int64) error
	// TakeRecoveryCode removes the code whose hash is hash and records ev
	// with Count set to the codes left, which it returns; ErrCodeUsed if
	// the user has no such code.
	TakeRecoveryCode(userID, hash string, ev Event) (left int, err error)
	// DeleteTwoStep turns userID's two-step sign-in off and records ev;
	// with signOut set (a reset: the user lost their devices) it also
	// removes all of the user's passkeys, setting ev.Count to how many,
	// and ends all of the user's sessions for that reason, by ev.By; a
	// reset of a user with passkeys but no app succeeds. ErrTwoStepOff
	// when there was nothing to turn off. partnerID, if set, must manage
	// the user's account (else ErrNotFound, as for every partner change).
	DeleteTwoStep(partnerID, userID string, ev Event, signOut Reason) (revoked int, err error)
	// SetConfirmedAt notes that the user confirmed it was them in
	// sessionID at at (re-authentication).
	SetConfirmedAt(userID, sessionID string, at time.Time) error
	// PutRequireTwoStep sets whether accountID's users must use two-step
	// sign-in, recording ev in each user's log; partnerID, if set, must
	// manage the account.
	PutRequireTwoStep(partnerID, accountID string, on bool, ev Event) error
	// CSRFKey is the database's own key; secrets are sealed under one
	// derived from it, so a copy that moves it keeps them readable.
	CSRFKey() []byte
}

// EnableTwoStep turns two-step sign-in on for userID with the app's
// secret and a first set of recovery codes, by (the session that did it).
func (c *Core) EnableTwoStep(userID string, by Actor, secret []byte, codes []string) error {
	sealed, err := c.seal(userID, secret)
	if err != nil {
		return err
	}
	now := c.nowUTC()
	rec := TwoStepRecord{UserID: userID, Sealed: sealed, Codes: hashCodes(codes), EnabledAt: now}
	if err := c.two.PutTwoStep(rec, Event{At: now, Kind: EventTwoStepOn, By: by}); err != nil {
		return fmt.Errorf("store: turn on two-step sign-in for user %s: %w", userID, err)
	}
	return nil
}

// TwoStep is userID's two-step sign-in with its secret opened, or
// ErrTwoStepOff.
func (c *Core) TwoStep(userID string) (TwoStep, error) {
	rec, err := c.two.TwoStepRecord(userID)
	if err != nil {
		return TwoStep{}, err
	}
	secret, err := c.open(userID, rec.Sealed)
	if err != nil {
		return TwoStep{}, fmt.Errorf("store: open the two-step secret of user %s: %w", userID, err)
	}
	return TwoStep{Secret: secret, LastStep: rec.LastStep, CodesLeft: len(rec.Codes), EnabledAt: rec.EnabledAt}, nil
}

// AcceptCode accepts a code of time step step for userID once: a code of
// that step or an earlier one is then refused (ErrCodeUsed), however many
// requests bring it at once.
func (c *Core) AcceptCode(userID string, step int64) error {
	return c.two.AdvanceStep(userID, step)
}

// UseRecoveryCode accepts one of userID's recovery codes once and says how
// many are left; ErrCodeUsed for one that is not (or no longer) theirs.
func (c *Core) UseRecoveryCode(userID, code string) (left int, err error) {
	return c.two.TakeRecoveryCode(userID, hashCode(code), Event{At: c.nowUTC(), Kind: EventRecoveryCodeUsed})
}

// NewRecoveryCodes replaces userID's recovery codes with codes: the old
// ones stop working.
func (c *Core) NewRecoveryCodes(userID string, by Actor, codes []string) error {
	rec, err := c.two.TwoStepRecord(userID)
	if err != nil {
		return err
	}
	rec.Codes = hashCodes(codes)
	if err := c.two.PutTwoStep(rec, Event{At: c.nowUTC(), Kind: EventRecoveryCodesNew, By: by}); err != nil {
		return fmt.Errorf("store: new recovery codes for user %s: %w", userID, err)
	}
	return nil
}

// DisableTwoStep turns two-step sign-in off at the user's own request, in
// the session by.Session.
func (c *Core) DisableTwoStep(userID string, by Actor) error {
	_, err := c.two.DeleteTwoStep("", userID, Event{At: c.nowUTC(), Kind: EventTwoStepOff, By: by}, "")
	return err
}

// ResetTwoStep turns a user's two-step sign-in off for them (they lost
// their phone), removes their passkeys and signs them out everywhere: by a partner user of
// partnerID, which must manage the user (else ErrNotFound), or by an
// operator (partnerID "" and a zero by).
func (c *Core) ResetTwoStep(partnerID, userID string, by Actor) (revoked int, err error) {
	ev := Event{At: c.nowUTC(), Kind: EventTwoStepOff, By: by}
	return c.two.DeleteTwoStep(partnerID, userID, ev, ReasonTwoStepReset)
}

// ConfirmSession notes that the user just confirmed it was them (their
// password, and a code if they use two-step sign-in) in sessionID.
func (c *Core) ConfirmSession(userID, sessionID string) error {
	return c.two.SetConfirmedAt(userID, sessionID, c.nowUTC())
}

// SetRequireTwoStep makes two-step sign-in required (or not) for every
// user of accountID: by a partner user of partnerID, which must manage
// it, or by an operator (partnerID "").
func (c *Core) SetRequireTwoStep(partnerID, accountID string, by Actor, on bool) error {
	kind := EventTwoStepRequired
	if !on {
		kind = EventTwoStepNotRequired
	}
	return c.two.PutRequireTwoStep(partnerID, accountID, on, Event{At: c.nowUTC(), Kind: kind, By: by})
}

// RecordCodeFailure notes a wrong second-step code for userID from place,
// grouped and written like failed passwords.
func (c *Core) RecordCodeFailure(userID string, place geo.Place) {
	c.failures.add(userID, place, EventCodeFailed, c.nowUTC())
}

func (c *Core) nowUTC() time.Time { return c.now().UTC().Truncate(time.Microsecond) }

// NormalizeRecoveryCode is a recovery code as typed, without the spaces
// and dashes people add and in one case, as it is hashed.
func NormalizeRecoveryCode(code string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			return -1
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, code)
}

func hashCode(code string) string {
	sum := sha256.Sum256([]byte(NormalizeRecoveryCode(code)))
	return hex.EncodeToString(sum[:])
}

func hashCodes(codes []string) []string {
	out := make([]string, len(codes))
	for i, code := range codes {
		out[i] = hashCode(code)
	}
	return out
}

// sealKey is the key two-step secrets are sealed under: derived from the
// database's CSRF key, read afresh (an import may replace it).
func (c *Core) sealKey() ([]byte, error) {
	k := c.two.CSRFKey()
	if len(k) < 16 {
		return nil, errors.New("store: no key to seal secrets with")
	}
	m := hmac.New(sha256.New, k)
	m.Write([]byte("portal two-step secrets v1"))
	return m.Sum(nil), nil
}

// seal encrypts secret for userID (the user id is authenticated with it,
// so a sealed secret cannot be moved to another user).
func (c *Core) seal(userID string, secret []byte) ([]byte, error) {
	aead, err := c.aead()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	return aead.Seal(nonce, nonce, secret, []byte(userID)), nil
}

func (c *Core) open(userID string, sealed []byte) ([]byte, error) {
	aead, err := c.aead()
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize() {
		return nil, errors.New("sealed secret too short")
	}
	return aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(userID))
}

func (c *Core) aead() (cipher.AEAD, error) {
	key, err := c.sealKey()
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
