// Package postgres keeps accounts, users, sessions and events in
// PostgreSQL (13 or newer), for deployments that run several instances on
// one database. Its Store embeds the session core (store.Core) and
// implements store.Storage, as the bbolt store (store/bolt) does, so each
// stands for the other: same methods, types and meaning.
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
//   - Validated sessions are cached in memory by the core, as for bbolt,
//     but a revoke may come from another instance: every
//     transaction that ends, changes or deletes sessions sends their token
//     hashes with pg_notify, and each instance's listener (listen.go), on
//     a connection of its own, drops them from its cache. While the
//     listener is not listening the cache is emptied and keeps nothing, so
//     every validation reads through to PostgreSQL and none is answered
//     from a cache that could have missed a revoke.
//   - A transaction that makes sessions stale is answered only once every
//     other instance listening has confirmed it dropped them (acks.go), at
//     most a second: a request that starts after the answer is refused on
//     any instance, not only after the notification happens to arrive.
//   - What the Active Sessions page reads on every view is kept too, per
//     user: the sessions not revoked and the activity version. Every
//     transaction names the users whose list or log it changed (a third
//     channel, portal_users, sent with the token hashes; "*" after an
//     import), and every instance drops those users' entries, under the
//     same rules as sessions': nothing is kept while the listener is down
//     or from a read that a notification overtook.
//   - Options.Notifier hears of committed changes as in the bbolt store
//     (notify.go): this instance's own after the commit and after its
//     cache has forgotten them, and other instances' through a second
//     channel (portal_changes) whose payloads, tagged with the sending
//     Store's random id and split under PostgreSQL's 8000-byte limit, each
//     transaction sends after its token hashes, so the listener has
//     dropped the sessions a change concerns before it publishes the
//     change. Changes committed while the listener is down are not heard
//     (their revokes are still refused: see above); once it listens again
//     the Notifier hears store.ChangesMissed, and live pages re-read what
//     they show.
//   - Last-active times are batched per instance and written with one
//     UPDATE per flush that keeps the later of the stored and the flushed
//     time (GREATEST), so instances flushing the same session keep the
//     latest. Failed sign-ins are queued per instance and flushed with
//     them; the flush locks the user's event_versions row first, so two
//     instances' groups of one network and window merge into one event.
//   - The session cap locks the user's row (SELECT ... FOR UPDATE) before
//     counting, so concurrent sign-ins of one user, on any instances, take
//     turns. Liveness for the cap and the sweeper counts this instance's
//     unflushed use only.
//   - A partner's change checks its scope with the client account's row
//     locked (FOR SHARE), so a move of the client to another partner and
//     the change take turns. The partner console's lists are read afresh
//     on every call (three queries in one snapshot) rather than cached as
//     the bbolt store does: another instance's writes would leave a kept
//     copy stale.
//   - UserEventsVersion is a counter per user (event_versions, migration
//     2) moved on by every transaction that adds, merges or deletes the
//     user's events.
//   - Backup writes nothing and returns ErrUsePgDump: use pg_dump. Check
//     verifies what the schema does not state (the schema version, roles
//     against account kinds, partners, events in their session's user's
//     log); PostgreSQL keeps its indexes and references itself.
//
// Every exported method of the bbolt store (bolt.Store) exists here with
// the same signature (TestSameMethodsAsBbolt checks it). What is not done here:
// the throttle of failed sign-ins lives in the handlers, per instance,
// and is not shared between instances.
package postgres
