package store

import (
	"fmt"
	"time"
)

// UserChange is one change to a user, made in one transaction
// (Storage.UpdateUser): the fields it sets, the sessions it ends and the
// event it records.
type UserChange struct {
	PasswordHash *string // set, and note when (At)
	Disabled     *bool
	At           time.Time
	// Revoke, if set, ends every session of the user but KeepID's.
	Revoke Reason
	KeepID string
	Event  *Event // recorded with the change; nil for none
}

// CreateUser adds a user to an existing account. The role must suit the
// account's kind: customer roles in client accounts, partner roles in
// partner accounts.
func (c *Core) CreateUser(in NewUser) (User, error) {
	out, err := c.db.CreateUsers([]NewUser{in})
	if err != nil {
		return User{}, err
	}
	return out[0], nil
}

// CreateSession starts a session for userID and returns it with its
// token, which is shown to no one but the browser's cookie. If the user is
// at the session cap, their least recently active sessions are revoked
// first (ReasonSessionLimit), in the same transaction.
func (c *Core) CreateSession(userID string, in NewSession) (Session, string, error) {
	out, tokens, err := c.db.CreateSessions([]SessionFor{{UserID: userID, NewSession: in}})
	if err != nil {
		return Session{}, "", err
	}
	return out[0], tokens[0], nil
}

// SetPasswordHash replaces a user's password hash. With revokeSessions, the
// user's sessions other than keepID (all of them if keepID is "") are
// revoked in the same transaction.
func (c *Core) SetPasswordHash(userID, hash string, revokeSessions bool, keepID string) (revoked int, err error) {
	now := c.now().UTC().Truncate(time.Microsecond)
	ch := UserChange{PasswordHash: &hash, At: now, KeepID: keepID,
		Event: &Event{At: now, Kind: EventPasswordChanged, By: Actor{Session: keepID}}}
	if revokeSessions {
		ch.Revoke = ReasonPasswordChanged
	}
	revoked, err = c.db.UpdateUser(userID, ch)
	if err != nil {
		return 0, fmt.Errorf("store: set password of user %s: %w", userID, err)
	}
	return revoked, nil
}

// SetUserDisabled disables or re-enables a user. Disabling revokes all of
// the user's sessions in the same transaction.
func (c *Core) SetUserDisabled(userID string, disabled bool) (revoked int, err error) {
	ch := UserChange{Disabled: &disabled, At: c.now().UTC().Truncate(time.Microsecond)}
	if disabled {
		ch.Revoke = ReasonUserDisabled
	}
	revoked, err = c.db.UpdateUser(userID, ch)
	if err != nil {
		return 0, fmt.Errorf("store: disable user %s: %w", userID, err)
	}
	return revoked, nil
}

// PartnerUserSessions returns the live sessions of a user of one of
// partnerID's clients, most recently active first, or ErrNotFound.
func (c *Core) PartnerUserSessions(partnerID, userID string) (User, Account, []Session, error) {
	u, a, err := c.db.PartnerUser(partnerID, userID)
	if err != nil {
		return u, a, nil, err
	}
	list, err := c.ListUserSessions(u.ID)
	return u, a, list, err
}
