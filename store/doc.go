// Package store keeps accounts, users and sessions in a bbolt file. It knows
// nothing of HTTP: callers pass plain values and get plain values back.
//
// # Words
//
// The pages say "sign out". The store says:
//
//   - revoke, when someone ended a session: the user signing this browser
//     or the others out, a password change, an operator, or a sign-in past
//     the session cap. A revoke is written at once, with its Reason
//     (RevokeUserSession, RevokeOtherSessions, RevokeAllUserSessions).
//   - expire, when the policy ended it: the idle timeout or the maximum
//     lifetime passed (ReasonIdle, ReasonLifetime). Nothing is written; a
//     session is judged expired whenever it is read (Session.Ended).
//   - ended, for either (Session.Ended, EndedError, a Reason). A live
//     session is one that has not ended.
//
// A revoke that reaches a session which had already expired records the
// expiry instead, with its own reason and time, so the session keeps it.
// That is why Session.RevokedAt and RevokeReason (stored as revoked_at
// and revoke_reason, names the byte layout keeps) say when and why a
// session ended, either way.
// Reason values name the event (ReasonSignedOut: the user pressed sign
// out); they are stored, so they never change.
//
// # Files
//
// model.go holds the types. buckets.go draws the bucket tree and holds one
// accessor per bucket; migrations.go is the table of schema versions Open
// runs; open.go opens a file and says why it could not (ErrLocked,
// ErrDamaged); files.go checks or removes a file no Store has open;
// store.go is the open Store. authenticate.go is the per-request path,
// which only touches memory (cache.go); activity.go writes what it learned
// later, in one transaction. sessions.go starts and lists sessions (lists
// cached by listcache.go), revoke.go revokes them, sweep.go deletes
// long-ended ones; users.go holds accounts and users.
package store
