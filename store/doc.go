// Package store is the portal's domain and the session logic every
// database shares. It knows nothing of HTTP, and nothing of any database:
// store/bolt (one bbolt file, the default) and store/postgres (several
// instances on one PostgreSQL) each implement Storage and embed a *Core,
// so both behave alike: the same errors (ErrNotFound, *EndedError,
// ErrUserDisabled…), the same scope checks inside the same transaction as
// the change, the same events. Backend is what the binary's wiring holds;
// callers that need less declare the few methods they use.
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
// That is why Session.EndedAt and EndReason (stored as revoked_at
// and revoke_reason, names the byte layout keeps) say when and why a
// session ended, either way.
// Reason values name the event (ReasonSignedOut: the user pressed sign
// out); they are stored, so they never change.
//
// # Files
//
// model.go holds the types, sessions.go, users.go, partner.go,
// partner_dir.go, events.go, notify.go and export.go those of each
// subject, unavailable.go the errors of a database that does not answer.
// core.go is the Core and the Storage it asks of a database;
// authenticate.go is the per-request path, which only touches memory
// (cache.go, tracked.go); flush.go writes what requests saw later, in one
// transaction (flush_queues.go queues expiries and failed sign-ins);
// core_changes.go is what the Core adds to a database's writes.
package store
