package store

import (
	"time"
)

// Export reads the whole database, for 'portal copy' to move it to
// another backend: every record exactly as stored, sessions under their
// token hashes (the tokens themselves are never stored, so the browsers'
// cookies keep working only because the hashes move), and the keys, the
// CSRF key among them, so pages rendered before the move keep working.

// Record is one thing an export holds; exactly one field is set.
type Record struct {
	Key     *Key
	Account *Account
	User    *User
	Session *HashedSession
	Event   *UserEvent
	Log     *EventLog
	TwoStep *TwoStepRecord // sealed as stored: the copy moves the key too
	Passkey *Passkey
	Handle  *PasskeyHandle
}

// PasskeyHandle is a user's WebAuthn user handle: a copy must keep it, or
// the user's passkeys, which name them by it, stop signing in.
type PasskeyHandle struct {
	UserID string
	Handle []byte
}

// Key is a random key kept with the data (the CSRF key).
type Key struct {
	Name  string
	Value []byte
}

// HashedSession is a session with the hash of its token, its key.
type HashedSession struct {
	Session
	Hash TokenHash
}

// UserEvent is one event of a user's security activity.
type UserEvent struct {
	UserID string
	Event
}

// EventLog is the version of a user's security activity
// (UserEventsVersion), so pages of it kept by version stay right.
type EventLog struct {
	UserID  string
	Version uint64
}

// Counts is how much an export held, for the copy to check against what
// the target holds after it. Live is counted at At under the store's
// policy; Ended are the sessions recorded as ended (EndedAt set).
type Counts struct {
	Keys, Accounts, Users, Sessions, Ended, Live, Events, Logs, TwoSteps int
	Passkeys, Handles                                                    int
	At                                                                   time.Time
}
