package handlers

import (
	"time"

	"portal/activity"
	"portal/geo"
	"portal/store"
)

// The store as the handlers use it: one small interface per job rather
// than store.Backend's whole method set, so each handler's needs are
// visible and a test double or another store implements only those.
// store.Backend (bbolt or PostgreSQL) is all of them; New sets each from
// the same value.

// sessionStore is the signed-in browsers: authenticating them, listing
// and signing them out.
type sessionStore interface {
	CreateSession(userID string, in store.NewSession) (store.Session, string, error)
	Authenticate(token string) (store.Session, store.User, error)
	Peek(token string) (store.Session, store.User, error)
	SeenFrom(token string, place geo.Place)
	SeenWith(token string, a store.Agent)
	ListUserSessions(userID string) ([]store.Session, error)
	UserSession(userID, sessionID string) (store.Session, error)
	UserSessionsByID(userID string, ids []string) (map[string]store.Session, error)
	SessionsEndedSince(userID string, since time.Time) ([]store.Session, error)
	RevokeUserSession(userID, sessionID string, reason store.Reason) (store.Session, error)
	RevokeUserSessionBy(userID, sessionID string, reason store.Reason, by store.Actor) (store.Session, error)
	RevokeOtherSessions(userID, keepID string, reason store.Reason) (int, error)
}

// accountStore is the users and their accounts: sign-in's lookup, a
// password change, the account a page names.
type accountStore interface {
	UserByEmail(email string) (store.User, error)
	UserByID(id string) (store.User, error)
	AccountByID(id string) (store.Account, error)
	AccountOf(u store.User) (store.Account, error)
	SetPasswordHash(userID, hash string, revokeSessions bool, keepID string) (revoked int, err error)
}

// partnerStore is the partner console's reads and sign-outs, each scoped
// by the store to the partner's clients.
type partnerStore interface {
	PartnerClients(partnerID string) ([]store.ClientSummary, error)
	PartnerUsers(partnerID string, q store.UserQuery) (store.UserPage, error)
	PartnerUser(partnerID, userID string) (store.User, store.Account, error)
	PartnerUserSessions(partnerID, userID string) (store.User, store.Account, []store.Session, error)
	PartnerRevokeSession(partnerID, actorID, userID, sessionID string) (store.Session, error)
	PartnerRevokeAll(partnerID, actorID, userID string) (int, error)
}

// eventStore is the security activity log: failed sign-ins written, a
// user's events read, and the version that tells a kept view is stale.
type eventStore interface {
	RecordSignInFailure(userID string, place geo.Place, throttled bool)
	UserEvents(userID string, q store.EventQuery) (store.EventPage, error)
	UserEventsVersion(userID string) (uint64, error)
}

// twoStepStore is two-step sign-in: turning it on and off, checking its
// codes once each, re-authentication, and the accounts that require it.
type twoStepStore interface {
	EnableTwoStep(userID string, by store.Actor, secret []byte, codes []string) error
	TwoStep(userID string) (store.TwoStep, error)
	AcceptCode(userID string, step int64) error
	UseRecoveryCode(userID, code string) (left int, err error)
	NewRecoveryCodes(userID string, by store.Actor, codes []string) error
	DisableTwoStep(userID string, by store.Actor) error
	ResetTwoStep(partnerID, userID string, by store.Actor) (revoked int, err error)
	ConfirmSession(userID, sessionID string) error
	SetRequireTwoStep(partnerID, accountID string, by store.Actor, on bool) error
	RecordCodeFailure(userID string, place geo.Place)
}

// passkeyStore is passkeys: the user handle, the passkeys and their uses,
// and the ceremonies between begin and finish.
type passkeyStore interface {
	PasskeyHandle(userID string) ([]byte, error)
	PasskeyOwner(handle, credentialID []byte) (store.User, store.Passkey, error)
	Passkeys(userID string) ([]store.Passkey, error)
	UserPasskey(userID string, id []byte) (store.Passkey, error)
	AddPasskey(pk store.Passkey, by store.Actor) (store.Passkey, error)
	UsePasskey(pk store.Passkey, use store.PasskeyUse) error
	CreatePasskeySession(userID string, in store.NewSession, pk store.Passkey, use store.PasskeyUse) (store.Session, string, error)
	RenamePasskey(userID string, id []byte, name string) error
	RemovePasskey(userID string, id []byte, by store.Actor) error
	StartCeremony(id string, data []byte) error
	FinishCeremony(id string) ([]byte, error)
}

// database is the store as a whole: whether it answers, the key CSRF
// tokens are signed with, and the rules sessions live by.
type database interface {
	Ping() error
	CSRFKey() []byte
	Policy() store.Policy
	SessionLimit() int
}

// stores are the handlers' views of one store.
type stores struct {
	sessions sessionStore
	accounts accountStore
	partners partnerStore
	events   eventStore
	twoStep  twoStepStore
	passkeys passkeyStore
	db       database
	// lookups answers the activity sentences' reads of sessions and names.
	lookups activity.Store
}

// storesOf is every view of b.
func storesOf(b store.Backend) stores {
	return stores{sessions: b, accounts: b, partners: b, events: b, twoStep: b, passkeys: b, db: b, lookups: b}
}
