// Package postgres keeps accounts, users, sessions and events in
// PostgreSQL (13 or newer), for deployments that run several instances on
// one database. Its Store has the methods of the bbolt store
// (*store.Store), with the same signatures, types (package store's) and
// meaning, so that one can stand for the other once the callers take an
// interface.
//
// # How it differs inside
//
//   - Open connects with a pgxpool (Options.PoolSize), waits a bounded time
//     for the database (Options.ConnectTimeout) and migrates it from the
//     numbered files in migrations/ in one transaction under an advisory
//     lock, recording each in schema_version; a newer schema is refused.
//   - Times are kept to the microsecond, PostgreSQL's precision: the store
//     truncates its clock to it, so what a call returns equals what is read
//     back.
//   - Validated sessions are cached in memory as in the bbolt store
//     (cache.go), but a revoke may come from another instance: every
//     transaction that ends, changes or deletes sessions sends their token
//     hashes with pg_notify, and each instance's listener (listen.go), on
//     a connection of its own, drops them from its cache. While the
//     listener is not listening the cache is emptied and keeps nothing, so
//     every validation reads through to PostgreSQL and none is answered
//     from a cache that could have missed a revoke.
//   - Last-active times are batched per instance and written with one
//     UPDATE per flush that keeps the later of the stored and the flushed
//     time (GREATEST), so instances flushing the same session keep the
//     latest.
//   - The session cap locks the user's row (SELECT ... FOR UPDATE) before
//     counting, so concurrent sign-ins of one user, on any instances, take
//     turns. Liveness for the cap and the sweeper counts this instance's
//     unflushed activity only.
//
// # Not implemented yet
//
// These methods of *store.Store have no counterpart here yet: Backup
// (use pg_dump), Check, RecordSignInFailure (failed sign-ins are not
// logged), PartnerClients, PartnerUsers, PartnerUser, PartnerUserSessions,
// PartnerRevokeSession, PartnerRevokeAll, CreateClientAccount and
// SetAccountPartner (the schema holds accounts.partner_id already), and
// the methods added to the bbolt store since this package was begun:
// Peek, UserSessionsByID, UserEventsVersion and the live hub's
// notifications of committed changes. The throttle of failed sign-ins is
// not shared between instances.
package postgres
