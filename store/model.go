package store

import (
	"errors"
	"fmt"
	"time"

	"portal/device"
	"portal/geo"
)

// ErrNotFound is returned when a record does not exist, or is not the
// caller's to see.
var ErrNotFound = errors.New("store: not found")

// ErrEmailTaken is returned when a user with the same email already exists.
var ErrEmailTaken = errors.New("store: a user with that email already exists")

// AccountKind tells a customer organisation from a partner.
type AccountKind string

// Account kinds.
const (
	AccountClient  AccountKind = "client"
	AccountPartner AccountKind = "partner"
)

// Role is what a user may do inside their account.
type Role string

// Roles. Customer roles manage their own sessions; partner roles never see
// the Active Sessions section.
const (
	RoleClientAdmin   Role = "client_admin"
	RoleClientManager Role = "client_manager"
	RoleClientStaff   Role = "client_staff"
	RolePartnerAdmin  Role = "partner_admin"
	RolePartnerStaff  Role = "partner_staff"
)

// Roles lists every role in display order.
var Roles = []Role{RoleClientAdmin, RoleClientManager, RoleClientStaff, RolePartnerAdmin, RolePartnerStaff}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, k := range Roles {
		if r == k {
			return true
		}
	}
	return false
}

// IsCustomer reports whether r is one of the client (customer) roles.
func (r Role) IsCustomer() bool {
	return r == RoleClientAdmin || r == RoleClientManager || r == RoleClientStaff
}

// Label is the name people see for the role: "Client Admin".
func (r Role) Label() string { return roleLabels[r] }

var roleLabels = map[Role]string{
	RoleClientAdmin:   "Client Admin",
	RoleClientManager: "Client Manager",
	RoleClientStaff:   "Client Staff",
	RolePartnerAdmin:  "Partner Admin",
	RolePartnerStaff:  "Partner Staff",
}

// AccountKind is the kind of account a user with this role belongs to.
func (r Role) AccountKind() AccountKind {
	if r.IsCustomer() {
		return AccountClient
	}
	return AccountPartner
}

// Account is a client organisation or a partner.
type Account struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Kind      AccountKind `json:"kind"`
	CreatedAt time.Time   `json:"created_at"`
	// Partner is the partner account that manages this client account, or
	// "" (schema 2).
	Partner string `json:"partner,omitempty"`
	// RequireTwoStep: every user of the account must use two-step
	// sign-in (schema 3).
	RequireTwoStep bool `json:"require_two_step,omitempty"`
}

// User is a person who can sign in.
type User struct {
	ID           string    `json:"id"`
	AccountID    string    `json:"account_id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	Role         Role      `json:"role"`
	PasswordHash string    `json:"password_hash"`
	Disabled     bool      `json:"disabled,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	// TwoStepChangedAt is when two-step sign-in was last turned on or off
	// (schema 3): what was proven before it, a device cookie, is void.
	TwoStepChangedAt time.Time `json:"two_step_changed_at,omitzero"`
}

// Reason records why a session ended.
type Reason string

// Reasons a session ends: two kinds of expiry and the rest revokes (see
// the package comment). They are stored, so never change one's value.
const (
	ReasonSignedOut       Reason = "signed_out"            // revoked: the user signed this browser out
	ReasonRevoked         Reason = "revoked"               // revoked: signed out from another of the user's sessions
	ReasonRevokedAll      Reason = "revoked_all"           // revoked: "Sign out all other devices"
	ReasonIdle            Reason = "idle"                  // expired: the idle timeout passed
	ReasonLifetime        Reason = "lifetime"              // expired: the maximum lifetime passed
	ReasonPasswordChanged Reason = "password_changed"      // revoked: a password change signed the others out
	ReasonUserDisabled    Reason = "user_disabled"         // revoked: an operator disabled the user
	ReasonEverywhere      Reason = "signed_out_everywhere" // revoked: an operator signed the user out everywhere
	ReasonSessionLimit    Reason = "session_limit"         // revoked: a sign-in past the cap; the least recently active goes
	ReasonPasswordGuesses Reason = "password_guesses"      // revoked: the current password was wrong too often while changing it
	ReasonPartner         Reason = "partner_revoked"       // revoked: the user's partner signed this session out
	ReasonPartnerAll      Reason = "partner_revoked_all"   // revoked: the user's partner signed the user out everywhere
	ReasonTwoStepReset    Reason = "two_step_reset"        // revoked: a partner or an operator turned the user's two-step sign-in off
)

// EndedError is returned by Authenticate for a session that exists but has
// ended (revoked or expired), with the reason to tell its browser.
type EndedError struct {
	Reason Reason
}

func (e *EndedError) Error() string { return fmt.Sprintf("store: session ended (%s)", e.Reason) }

// Policy bounds how long a session lives; past either bound it expires.
type Policy struct {
	IdleTimeout time.Duration // a session expires this long after its last activity
	MaxLifetime time.Duration // a session expires this long after sign-in, however active
}

// Session is one signed-in browser. It is stored under the hash of its
// token; ID is a separate random id that may appear in URLs and HTML.
type Session struct {
	ID         string    `json:"id"`
	UserID     string    `json:"user_id"`
	CreatedAt  time.Time `json:"created_at"`
	LastActive time.Time `json:"last_active"`
	// EndedAt and EndReason say when and why it ended, once that is
	// recorded: revoked, or an expiry written down (by a flush, the
	// sweeper, or a revoke that found it expired). Stored as revoked_at
	// and revoke_reason, names the byte layout keeps.
	EndedAt    time.Time   `json:"revoked_at,omitzero"`
	EndReason  Reason      `json:"revoke_reason,omitempty"`
	RevokedBy  string      `json:"revoked_by,omitempty"` // the user id of a partner user who revoked it; "" otherwise
	UserAgent  string      `json:"user_agent,omitempty"`
	Device     device.Info `json:"device"`
	FirstPlace geo.Place   `json:"first_place"`
	LastPlace  geo.Place   `json:"last_place"`
	TimeZone   string      `json:"tz,omitempty"` // the browser's IANA time zone at sign-in, checked by the caller; "" for none
	// Auth is how it signed in (schema 3; older sessions read as the
	// password alone); ConfirmedAt when its user last confirmed it was
	// them (re-authentication), zero if never.
	Auth        AuthMethod `json:"auth,omitempty"`
	ConfirmedAt time.Time  `json:"confirmed_at,omitzero"`
	// Passkey is the name of the passkey it signed in with, as it was
	// then (schema 4); "" for none.
	Passkey string `json:"passkey,omitempty"`

	// Hash is the key it is stored under, the hash of its token: never
	// written inside the record, never shown.
	Hash TokenHash `json:"-"`
}

// Ended reports whether the session has ended at now, revoked or expired
// under p, and why.
func (s Session) Ended(now time.Time, p Policy) (bool, Reason) {
	switch {
	case !s.EndedAt.IsZero():
		return true, s.EndReason
	case p.MaxLifetime > 0 && now.Sub(s.CreatedAt) >= p.MaxLifetime:
		return true, ReasonLifetime
	case p.IdleTimeout > 0 && now.Sub(s.LastActive) >= p.IdleTimeout:
		return true, ReasonIdle
	}
	return false, ""
}

// ExpiresAt is when the session will expire under p if it is not used
// again (and not revoked): the earlier of its idle timeout and its
// lifetime. Zero if p sets neither.
func (s Session) ExpiresAt(p Policy) time.Time {
	var at time.Time
	if p.IdleTimeout > 0 {
		at = s.LastActive.Add(p.IdleTimeout)
	}
	if end := s.CreatedAt.Add(p.MaxLifetime); p.MaxLifetime > 0 && (at.IsZero() || end.Before(at)) {
		at = end
	}
	return at
}

// EndTime is when the session ended, recorded or not (an expiry nothing
// has recorded yet is dated when it happened): for the sweeper's
// retention period and what a page shows as ended. Zero if it is live.
func (s Session) EndTime(now time.Time, p Policy) time.Time {
	ended, reason := s.Ended(now, p)
	switch {
	case !ended:
		return time.Time{}
	case !s.EndedAt.IsZero():
		return s.EndedAt
	case reason == ReasonLifetime:
		return s.CreatedAt.Add(p.MaxLifetime)
	default:
		return s.LastActive.Add(p.IdleTimeout)
	}
}

// Where says where the session is, as its row and the CLI show it: the
// last place, or where it signed in and where it is now when the country
// changed; "" when nothing is known. approx marks a place resolved from
// the address (not a private network).
func (s Session) Where() (text string, approx bool) {
	first, last := s.FirstPlace.Location, s.LastPlace.Location
	switch {
	case last.Private:
		return last.Label(), false
	case first.Known() && last.Known() && first.CountryCode != last.CountryCode:
		return "Signed in from " + first.Label() + " · now " + last.Label(), true
	case last.Known():
		return last.Label(), true
	}
	return "", false
}
