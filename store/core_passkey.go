package store

import (
	"crypto/rand"
	"errors"
	"fmt"
)

// PasskeyHandle is userID's WebAuthn user handle, made (32 random bytes)
// the first time it is asked for.
func (c *Core) PasskeyHandle(userID string) ([]byte, error) {
	fresh := make([]byte, PasskeyHandleLen)
	rand.Read(fresh)
	h, err := c.pk.KeepPasskeyHandle(userID, fresh)
	if err != nil {
		return nil, fmt.Errorf("store: user handle of user %s: %w", userID, err)
	}
	return h, nil
}

// PasskeyOwner is the user a discoverable sign-in names by its user
// handle and credential id: ErrNotFound unless the passkey exists and
// belongs to the user with that handle, so a sign-in never learns which
// of the two was wrong.
func (c *Core) PasskeyOwner(handle, credentialID []byte) (User, Passkey, error) {
	if len(handle) == 0 || len(handle) > 64 || len(credentialID) == 0 || len(credentialID) > 1023 {
		return User{}, Passkey{}, ErrNotFound
	}
	userID, err := c.pk.PasskeyHandleUser(handle)
	if err != nil {
		return User{}, Passkey{}, err
	}
	pk, err := c.pk.PasskeyByID(credentialID)
	if err != nil {
		return User{}, Passkey{}, err
	}
	if pk.UserID != userID {
		return User{}, Passkey{}, ErrNotFound
	}
	u, err := c.db.UserByID(userID)
	if err != nil {
		return User{}, Passkey{}, err
	}
	return u, pk, nil
}

// Passkeys is userID's passkeys, oldest first.
func (c *Core) Passkeys(userID string) ([]Passkey, error) { return c.pk.PasskeysOf(userID) }

// AddPasskey keeps a new passkey for pk.UserID, added now by (the session
// that added it), its name cleaned (CleanPasskeyName).
func (c *Core) AddPasskey(pk Passkey, by Actor) (Passkey, error) {
	name, err := CleanPasskeyName(pk.Name)
	if err != nil {
		return Passkey{}, err
	}
	pk.Name, pk.AddedAt, pk.LastUsedAt = name, c.nowUTC(), pk.LastUsedAt.UTC()
	ev := Event{At: pk.AddedAt, Kind: EventPasskeyAdded, By: by, Passkey: name}
	if err := c.pk.PutPasskey(pk, ev); err != nil {
		return Passkey{}, fmt.Errorf("store: add a passkey for user %s: %w", pk.UserID, err)
	}
	return pk, nil
}

// UsePasskey records a use of pk that signs nobody in ("Confirm it's
// you"), as the library verified it: the new counter and backup state. A
// counter that did not move forward is refused (ErrSignCountBack) and
// recorded in the user's activity.
func (c *Core) UsePasskey(pk Passkey, use PasskeyUse) error {
	p := c.passkeySignIn(pk, use)
	if err := c.pk.WritePasskeyUse(pk.ID, p.Use, p.Refused); err != nil {
		if errors.Is(err, ErrSignCountBack) {
			return err
		}
		return fmt.Errorf("store: record a sign-in with a passkey of user %s: %w", pk.UserID, err)
	}
	return nil
}

// CreatePasskeySession signs userID in with pk: the session and the
// passkey's use in one commit, refused as UsePasskey's is.
func (c *Core) CreatePasskeySession(userID string, in NewSession, pk Passkey, use PasskeyUse) (Session, string, error) {
	in.Passkey, in.WithPasskey = pk.Name, c.passkeySignIn(pk, use)
	out, tokens, err := c.db.CreateSessions([]SessionFor{{UserID: userID, NewSession: in}})
	if errors.Is(err, ErrSignCountBack) {
		return Session{}, "", ErrSignCountBack
	} else if err != nil {
		return Session{}, "", err
	}
	return out[0], tokens[0], nil
}

func (c *Core) passkeySignIn(pk Passkey, use PasskeyUse) *PasskeySignIn {
	use.At = c.nowUTC()
	return &PasskeySignIn{ID: pk.ID, Use: use, Refused: Event{At: use.At, Kind: EventPasskeyRefused, Passkey: pk.Name}}
}

// RenamePasskey names userID's passkey id name (cleaned); ErrNotFound if
// it is not theirs.
func (c *Core) RenamePasskey(userID string, id []byte, name string) error {
	name, err := CleanPasskeyName(name)
	if err != nil {
		return err
	}
	return c.pk.PutPasskeyName(userID, id, name)
}

// RemovePasskey removes userID's passkey id, by (the session that did it);
// ErrNotFound if it is not theirs.
func (c *Core) RemovePasskey(userID string, id []byte, by Actor) error {
	return c.pk.DeletePasskey(userID, id, Event{At: c.nowUTC(), Kind: EventPasskeyRemoved, By: by})
}

// UserPasskey is userID's passkey id, or ErrNotFound.
func (c *Core) UserPasskey(userID string, id []byte) (Passkey, error) {
	pk, err := c.pk.PasskeyByID(id)
	if err != nil {
		return Passkey{}, err
	}
	if pk.UserID != userID {
		return Passkey{}, ErrNotFound
	}
	return pk, nil
}

// StartCeremony keeps data, a ceremony's state, for CeremonyLifetime under
// the hash of id (a random value the browser holds).
func (c *Core) StartCeremony(id string, data []byte) error {
	return c.pk.PutCeremony(HashToken(id), data, c.now().Add(CeremonyLifetime))
}

// FinishCeremony takes the state kept under id, once; ErrNotFound if there
// is none, it expired, or it was taken already.
func (c *Core) FinishCeremony(id string) ([]byte, error) {
	if id == "" {
		return nil, ErrNotFound
	}
	return c.pk.TakeCeremony(HashToken(id), c.now())
}
