// Package bolt keeps accounts, users, sessions and events in one bbolt
// file: the portal's default database. Its Store embeds the session core
// (store.Core) and implements store.Storage; everything that is the same
// for every database (the cache of validated sessions, expiry, batching
// last-active times and failed sign-ins) is the core's, not this
// package's.
//
// # Files
//
// buckets.go draws the bucket tree and holds one accessor per bucket;
// migrations.go is the table of schema versions Open runs; open.go opens
// a file and says why it could not (ErrLocked, ErrDamaged); files.go
// checks or removes a file no Store has open; store.go is the open Store
// and its one write path; storage.go answers the core (a session by its
// hash, a flush). sessions.go starts and lists sessions, revoke.go
// revokes them, sweep.go deletes long-ended ones; users.go holds accounts
// and users; partner.go and partner_dir.go the partner console's scoped
// reads and changes (scope_cache.go keeps scope checks between writes);
// events.go and events_queue.go the security activity log; notify.go
// tells the live updates what committed; export.go reads everything for
// 'portal copy'; check.go verifies the indexes.
package bolt
