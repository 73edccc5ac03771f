package store

import (
	"time"

	"portal/device"
	"portal/geo"
)

// The security activity log. Every change to a user's sessions writes its
// event in the transaction that makes the change, so there is never an
// event without its change or a change without its event, and no extra
// commit. Events hold ids and codes, never sentences (those are rendered
// when shown, so a wording change applies to old events), and never a
// full address, a token, a raw user agent or a password.

// EventKind says what happened.
type EventKind string

// Event kinds. They are stored, so never rename one.
const (
	EventSignedIn        EventKind = "signed_in"         // a session began
	EventEnded           EventKind = "ended"             // a session was revoked or expired: Reason says which
	EventPasswordChanged EventKind = "password_changed"  // the user's password was changed
	EventSignInFailed    EventKind = "sign_in_failed"    // wrong passwords, Count of them from one network in one window
	EventSignInThrottled EventKind = "sign_in_throttled" // sign-ins refused by the throttle, grouped the same way
	EventCodeFailed      EventKind = "code_failed"       // wrong second-step codes, grouped the same way

	EventTwoStepOn          EventKind = "two_step_on"           // two-step sign-in was turned on
	EventTwoStepOff         EventKind = "two_step_off"          // turned off: By says by whom (none: an operator)
	EventRecoveryCodeUsed   EventKind = "recovery_code_used"    // a recovery code signed in; Count is how many are left
	EventRecoveryCodesNew   EventKind = "recovery_codes_new"    // a new set of recovery codes voided the old one
	EventTwoStepRequired    EventKind = "two_step_required"     // the account now requires two-step sign-in (By: the partner user)
	EventTwoStepNotRequired EventKind = "two_step_not_required" // it no longer does

	EventPasskeyAdded   EventKind = "passkey_added"   // a passkey was added (Passkey: its name)
	EventPasskeyRemoved EventKind = "passkey_removed" // one was removed
	EventPasskeyRefused EventKind = "passkey_refused" // a sign-in with one was refused: its signature counter went backwards
)

// Failure reports whether k records attempts that did not sign in: they
// are kept within a bound of their own, so a flood of them can never push
// a sign-in, a sign-out or a password change out of the log.
func (k EventKind) Failure() bool {
	return k == EventSignInFailed || k == EventSignInThrottled || k == EventCodeFailed
}

// EventKinds lists the kinds in the order a filter shows them.
var EventKinds = []EventKind{EventSignedIn, EventEnded, EventPasswordChanged, EventSignInFailed, EventSignInThrottled,
	EventCodeFailed, EventTwoStepOn, EventTwoStepOff, EventRecoveryCodeUsed, EventRecoveryCodesNew, EventTwoStepRequired, EventTwoStepNotRequired,
	EventPasskeyAdded, EventPasskeyRemoved, EventPasskeyRefused}

// SignedInEvent is the event of x having signed in, as every database
// writes it with the session.
func SignedInEvent(x Session) Event {
	return Event{At: x.CreatedAt, Kind: EventSignedIn, SessionID: x.ID, Device: x.Device, Place: x.FirstPlace, Auth: x.Auth, Passkey: x.Passkey}
}

// Actor is who made a change for a user: one of the user's own sessions
// (signing out another device), a partner user, or nobody recorded (the
// session's own sign-out, the policy, an operator command).
type Actor struct {
	Session string `json:"session,omitempty"` // a session id of the same user
	User    string `json:"user,omitempty"`    // a partner user's id
}

// Event is one entry of a user's security activity.
type Event struct {
	At        time.Time   `json:"at"`
	Kind      EventKind   `json:"kind"`
	SessionID string      `json:"session,omitempty"` // the session it concerns
	Reason    Reason      `json:"reason,omitempty"`  // why it ended (EventEnded)
	By        Actor       `json:"by,omitzero"`
	Device    device.Info `json:"device,omitzero"` // of a sign-in
	Place     geo.Place   `json:"place,omitzero"`  // of a sign-in or failed attempts
	Count     int         `json:"count,omitempty"` // attempts in a group
	Until     time.Time   `json:"until,omitzero"`  // the last attempt of a group
	// Auth is how a sign-in signed in (EventSignedIn).
	Auth AuthMethod `json:"auth,omitempty"`
	// Networks, if set, is how many networks a group's attempts came
	// from, folded into one event past MaxFailureNetworks (Place unset).
	Networks int `json:"networks,omitempty"`
	// Passkey is the name of the passkey a sign-in used or a change
	// concerned (EventSignedIn, EventPasskey*).
	Passkey string `json:"passkey,omitempty"`
}

// Bounds of the log: a user keeps at most MaxEventsPerUser events (the
// oldest go first) and, besides them, MaxFailureEventsPerUser events of
// failed or refused attempts (EventKind.Failure); failed attempts from one
// network are one event per FailureWindow, and from more than
// MaxFailureNetworks networks in one window one event for all the rest;
// the sweeper deletes events older than the activity retention.
const (
	MaxEventsPerUser        = 1000
	MaxFailureEventsPerUser = 200
	MaxFailureNetworks      = 10
	// FailureWindow groups failed sign-ins: one event per user, network
	// and kind in each.
	FailureWindow = 5 * time.Minute
	// EventPageSize is how many events a page of the log holds.
	EventPageSize = 50
)

// EventQuery asks for a page of a user's events.
type EventQuery struct {
	Kinds []EventKind // only these; all when empty
	Since time.Time   // only events at or after; all when zero
	Page  int         // from 1
}

// EventPage is one page of events, newest first.
type EventPage struct {
	Events      []Event
	Total       int
	Page, Pages int
	// Oldest is when the oldest matching event happened (zero without
	// one): with Since, the moment the count next changes by itself is
	// when it leaves the window.
	Oldest time.Time
	// Version is the user's UserEventsVersion as of this page.
	Version uint64
}
