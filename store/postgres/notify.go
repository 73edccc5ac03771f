package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"portal/store"
)

// effects is what one write transaction must make known once it commits:
// the sessions every instance must drop from its cache, the users whose
// kept sessions list and activity version every instance must drop, the
// changes the Notifiers hear of (store.Notifier), and the users whose
// security log moved on (UserEventsVersion). The transaction's code adds
// to it; write sends it along with the commit.
type effects struct {
	forget   []store.TokenHash
	users    []string // besides those of changes and logUsers
	allUsers bool     // every user's (an import)
	changes  []store.Change
	logUsers []string
	// confirm asks the other instances to confirm they heard the
	// transaction even when it makes no session stale: a change to an
	// account, which users' pages keep (store.Core.AccountOf), takes
	// effect on every instance's very next request.
	confirm bool
}

// ended notes that x was closed: every instance forgets it, and, if
// publish, the Notifiers hear that it ended. Expiries recorded after the
// fact are not published, as in the bbolt store: nothing happened at the
// moment they are written.
func (fx *effects) ended(x sessionRow, publish bool) {
	fx.forget = append(fx.forget, x.Hash)
	fx.users = append(fx.users, x.UserID)
	if publish {
		fx.changes = append(fx.changes, store.Change{Kind: store.SessionEnded, UserID: x.UserID, SessionID: x.ID, Reason: x.EndReason})
	}
}

// staleUsers is every user whose kept list or version fx makes stale,
// sorted, without repeats; ["*"] for every user.
func (fx *effects) staleUsers() []string {
	if fx.allUsers {
		return []string{everyUser}
	}
	users := slices.Concat(fx.users, fx.logUsers)
	for _, c := range fx.changes {
		users = append(users, c.UserID)
	}
	slices.Sort(users)
	return slices.Compact(users)
}

// forgetLocally drops what fx made stale from this instance's cache.
func (s *Store) forgetLocally(fx *effects) {
	s.Forget(fx.forget...)
	if fx.allUsers {
		s.ForgetAllUsers()
	} else {
		s.ForgetUsers(fx.staleUsers()...)
	}
}

// finishTx moves the event versions of the users whose log changed on,
// and queues the notifications to every instance: first the token hashes
// and the users to forget, then the changes, so an instance that hears of
// a change has already dropped what it made stale. This instance forgets
// the hashes itself after the commit; hearing them again matters when a
// commit's outcome was lost with the connection. PostgreSQL delivers the
// notifications when, and only if, tx commits, in the order they were
// sent. All of it is one statement: one round trip more per write.
//
// When fx makes sessions stale and ackID is not "", the last notification
// asks the other instances to confirm they dropped them (acks.go), and
// finishTx returns the application names of the listeners that will hear
// it, read in the same statement.
func (fx *effects) finishTx(ctx context.Context, tx pgx.Tx, instance, ackID string) ([]string, error) {
	slices.SortFunc(fx.forget, func(a, b store.TokenHash) int { return bytes.Compare(a[:], b[:]) })
	fx.forget = slices.Compact(fx.forget) // a user change names its revokes twice
	var channels, payloads []string
	for _, p := range hashPayloads(fx.forget) {
		channels, payloads = append(channels, channel), append(payloads, p)
	}
	for _, p := range userPayloads(fx.staleUsers()) {
		channels, payloads = append(channels, usersChannel), append(payloads, p)
	}
	for _, p := range changePayloads(instance, fx.changes) {
		channels, payloads = append(channels, changesChannel), append(payloads, p)
	}
	ask := ackID != "" && (len(fx.forget) > 0 || fx.confirm)
	if ask {
		channels, payloads = append(channels, channel), append(payloads, ackPrefix+ackID)
	}
	users := slices.Compact(slices.Sorted(slices.Values(fx.logUsers)))
	if len(users)+len(payloads) == 0 {
		return nil, nil
	}
	// unnest yields the payloads in order, and pg_notify is called for
	// each as it comes.
	var n1, n2 int64
	var apps []string
	err := tx.QueryRow(ctx, "WITH bump AS ("+bumpVersions+` RETURNING 1)
		SELECT (SELECT count(*) FROM bump), (SELECT count(pg_notify(c, p)) FROM unnest($2::text[], $3::text[]) AS v(c, p)),
			(SELECT coalesce(array_agg(application_name::text), '{}') FROM pg_stat_activity
				WHERE $4 AND datname = current_database() AND application_name LIKE '`+listenerApp+`%')`,
		users, channels, payloads, ask).Scan(&n1, &n2, &apps)
	if err != nil {
		return nil, fmt.Errorf("notify the other instances: %w", err)
	}
	return apps, nil
}

// bumpVersions moves the event versions of the users in $1 (sorted, no
// repeats) on, in id order, so that two transactions never wait for each
// other's rows in a cycle.
const bumpVersions = `INSERT INTO event_versions (user_id, version) SELECT u, 1 FROM unnest($1::text[]) AS u ORDER BY u
	ON CONFLICT (user_id) DO UPDATE SET version = event_versions.version + 1`

// bumpVersionsTx runs bumpVersions on its own, for a writer that must
// hold the users' rows before it reads their logs.
func bumpVersionsTx(ctx context.Context, tx pgx.Tx, users []string) error {
	if len(users) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, bumpVersions, slices.Compact(slices.Sorted(slices.Values(users)))); err != nil {
		return fmt.Errorf("move the activity versions of %d users on: %w", len(users), err)
	}
	return nil
}

// write runs fn in one transaction, committed if fn returns nil, within
// the store's query timeout. When it made sessions stale it returns once
// the other instances have confirmed they dropped them (acks.go). An
// error that says PostgreSQL is out of reach matches
// store.ErrUnavailable, and store.ErrOutcomeUnknown too when the commit
// was sent but not answered. Once committed, this instance's cache
// forgets what fx names and then its Notifier hears of fx's changes;
// other instances do the same when their listeners hear of the commit.
func (s *Store) write(fn func(ctx context.Context, tx pgx.Tx, fx *effects) error) error {
	s.writes.Add(1)
	ctx, cancel := s.ctx()
	defer cancel()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return unavailable(err)
	}
	defer tx.Rollback(ctx) // after a commit, a no-op
	var fx effects
	if err := fn(ctx, tx, &fx); err != nil {
		return unavailable(err)
	}
	ackID := s.acks.newID()
	apps, err := fx.finishTx(ctx, tx, s.instance, ackID)
	if err != nil {
		return unavailable(err)
	}
	w := s.acks.expect(ackID, apps)
	if err := tx.Commit(ctx); err != nil {
		// It may have committed all the same (the answer was lost), so
		// forget what it would have made stale: forgetting costs a read.
		// Its changes are not published: nobody is told of what may not
		// have happened.
		s.acks.drop(ackID)
		s.forgetLocally(&fx)
		return commitFailed(err)
	}
	s.forgetLocally(&fx)
	s.publish(fx.changes)
	if w != nil {
		if s.listener.pid.Load() != 0 {
			s.acks.wait(ackID, w)
		} else {
			s.acks.drop(ackID) // the confirmations could not be heard
		}
	}
	return nil
}

// hear publishes the changes of a changesChannel payload that another
// instance sent. The listener calls it after it has dropped the sessions
// the same transaction named (sent before the changes).
func (s *Store) hear(payload string) {
	from, changes, ok := parseChanges(payload)
	if ok && from != s.instance {
		s.publish(changes)
	}
}

// missedChanges tells the Notifier that changes of other instances may
// have gone unheard (the listener was down).
func (s *Store) missedChanges() { s.publish([]store.Change{{Kind: store.ChangesMissed}}) }

// publish hands committed changes to the Notifier, if there is one.
func (s *Store) publish(changes []store.Change) {
	if s.opts.Notifier != nil && len(changes) > 0 {
		s.opts.Notifier.Publish(changes)
	}
}

// changesChannel carries committed changes to the other instances, for
// their Notifiers: a browser streaming from one instance hears of a
// revoke made on another. Each payload is a changeNote.
const changesChannel = "portal_changes"

// changeNote is one notification's payload: the changes of one
// transaction (or a part of them) and the instance that made them, which
// has published them itself and skips its own.
type changeNote struct {
	Instance string       `json:"i"`
	Changes  []noteChange `json:"c"`
}

// noteChange is a store.Change under short names: notifications are
// small.
type noteChange struct {
	Kind      store.ChangeKind `json:"k"`
	UserID    string           `json:"u"`
	SessionID string           `json:"s,omitempty"`
	Reason    store.Reason     `json:"r,omitempty"`
}

// maxPayload keeps a payload under PostgreSQL's limit of 8000 bytes.
const maxPayload = 7000

// changePayloads encodes changes as notification payloads of at most
// maxPayload bytes each, in order.
func changePayloads(instance string, changes []store.Change) []string {
	var out []string
	note := changeNote{Instance: instance}
	size := 0
	flush := func() {
		if len(note.Changes) > 0 {
			b, _ := json.Marshal(note)
			out = append(out, string(b))
		}
		note.Changes, size = nil, len(instance)+16
	}
	flush()
	for _, c := range changes {
		nc := noteChange{Kind: c.Kind, UserID: c.UserID, SessionID: c.SessionID, Reason: c.Reason}
		b, _ := json.Marshal(nc)
		if size+len(b)+1 > maxPayload {
			flush()
		}
		note.Changes = append(note.Changes, nc)
		size += len(b) + 1
	}
	flush()
	return out
}

// parseChanges reads a changePayloads payload; ok is false for one that
// is malformed.
func parseChanges(p string) (instance string, changes []store.Change, ok bool) {
	var note changeNote
	if err := json.Unmarshal([]byte(p), &note); err != nil || note.Instance == "" {
		return "", nil, false
	}
	changes = make([]store.Change, len(note.Changes))
	for i, c := range note.Changes {
		changes[i] = store.Change{Kind: c.Kind, UserID: c.UserID, SessionID: c.SessionID, Reason: c.Reason}
	}
	return note.Instance, changes, true
}
