package store

import (
	"context"
	"io"
	"time"

	"portal/geo"
)

// Backend is a whole database as the binary's wiring holds it (server,
// the operator commands, the benchmark) and the conformance suite tests
// it: bolt.Store (one file, the default) and postgres.Store (several
// instances on one database), each a Core over its Storage. Parts that
// need less declare the few methods they use where they use them (the
// handlers' five views, activity's three).
type Backend interface {
	// The database.
	Path() string
	Ping() error
	Check() error
	Backup(w io.Writer) (int64, error)
	Close() error
	CSRFKey() []byte
	Policy() Policy
	SessionLimit() int
	WriteTxCount() int64

	// Accounts and users.
	CreateAccount(name string, kind AccountKind) (Account, error)
	CreateClientAccount(name, partnerID string) (Account, error)
	SetAccountPartner(accountID, partnerID string) (Account, error)
	AccountByID(id string) (Account, error)
	AccountOf(u User) (Account, error)
	Accounts() ([]Account, error)
	CreateUser(in NewUser) (User, error)
	CreateUsers(in []NewUser) ([]User, error)
	UserByID(id string) (User, error)
	UserByEmail(email string) (User, error)
	Users() ([]User, error)
	SetPasswordHash(userID, hash string, revokeSessions bool, keepID string) (revoked int, err error)
	SetUserDisabled(userID string, disabled bool) (revoked int, err error)

	// Sessions.
	CreateSession(userID string, in NewSession) (Session, string, error)
	CreateSessions(batch []SessionFor) ([]Session, []string, error)
	Authenticate(token string) (Session, User, error)
	Peek(token string) (Session, User, error)
	SeenFrom(token string, place geo.Place)
	SeenWith(token string, a Agent)
	ListUserSessions(userID string) ([]Session, error)
	UserSession(userID, sessionID string) (Session, error)
	UserSessionsByID(userID string, ids []string) (map[string]Session, error)
	SessionsEndedSince(userID string, since time.Time) ([]Session, error)
	RevokeUserSession(userID, sessionID string, reason Reason) (Session, error)
	RevokeUserSessionBy(userID, sessionID string, reason Reason, by Actor) (Session, error)
	RevokeOtherSessions(userID, keepID string, reason Reason) (int, error)
	RevokeAllUserSessions(userID string, reason Reason) (int, error)
	PendingLastActive() int
	FlushLastActive() (int, error)
	Sweep(retention time.Duration, batch int) (int, error)
	SweepContext(ctx context.Context, retention time.Duration, batch int) (int, error)

	// The partner console, scoped to partnerID's clients.
	PartnerClients(partnerID string) ([]ClientSummary, error)
	PartnerUsers(partnerID string, q UserQuery) (UserPage, error)
	PartnerUser(partnerID, userID string) (User, Account, error)
	PartnerUserSessions(partnerID, userID string) (User, Account, []Session, error)
	PartnerRevokeSession(partnerID, actorID, userID, sessionID string) (Session, error)
	PartnerRevokeAll(partnerID, actorID, userID string) (int, error)

	// Two-step sign-in.
	EnableTwoStep(userID string, by Actor, secret []byte, codes []string) error
	TwoStep(userID string) (TwoStep, error)
	AcceptCode(userID string, step int64) error
	UseRecoveryCode(userID, code string) (left int, err error)
	NewRecoveryCodes(userID string, by Actor, codes []string) error
	DisableTwoStep(userID string, by Actor) error
	ResetTwoStep(partnerID, userID string, by Actor) (revoked int, err error)
	ConfirmSession(userID, sessionID string) error
	SetRequireTwoStep(partnerID, accountID string, by Actor, on bool) error
	RecordCodeFailure(userID string, place geo.Place)

	// Passkeys.
	PasskeyHandle(userID string) ([]byte, error)
	PasskeyOwner(handle, credentialID []byte) (User, Passkey, error)
	Passkeys(userID string) ([]Passkey, error)
	UserPasskey(userID string, id []byte) (Passkey, error)
	AddPasskey(pk Passkey, by Actor) (Passkey, error)
	UsePasskey(pk Passkey, use PasskeyUse) error
	CreatePasskeySession(userID string, in NewSession, pk Passkey, use PasskeyUse) (Session, string, error)
	RenamePasskey(userID string, id []byte, name string) error
	RemovePasskey(userID string, id []byte, by Actor) error
	StartCeremony(id string, data []byte) error
	FinishCeremony(id string) ([]byte, error)

	// Security activity.
	RecordSignInFailure(userID string, place geo.Place, throttled bool)
	UserEvents(userID string, q EventQuery) (EventPage, error)
	UserEventsVersion(userID string) (uint64, error)
	SweepEvents(ctx context.Context, retention time.Duration, batch int) (int, error)
}
