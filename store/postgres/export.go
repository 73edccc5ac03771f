package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"portal/store"
)

// ErrNotEmpty is Import's refusal of a database that already holds
// accounts, users, sessions or events, when not told to replace them.
var ErrNotEmpty = errors.New("store: the database is not empty")

// NotEmptyError is ErrNotEmpty with what the database holds.
type NotEmptyError struct{ Has store.Counts }

func (e *NotEmptyError) Error() string {
	return fmt.Sprintf("store: the database already holds %d accounts, %d users, %d sessions and %d events", e.Has.Accounts, e.Has.Users, e.Has.Sessions, e.Has.Events)
}

func (e *NotEmptyError) Is(target error) bool { return target == ErrNotEmpty }

// Exporter hands every record of a store to fn and returns how many it
// handed over (bolt.Export, bound to its store).
type Exporter func(fn func(store.Record) error) (store.Counts, error)

// Import writes everything export hands over into s's database in one
// transaction, checks that the database then holds as many of each as
// export counted, and commits only then: it either copies all of it or
// leaves the database as it was. It refuses a database that holds any
// account, user, session or event (*NotEmptyError) unless replace, which
// deletes them first in the same transaction and has every instance on
// the database forget the deleted sessions. The keys it copies (the CSRF
// key) replace the database's: s and any instance already serving keep
// using the old key until they are opened again. A function rather than
// a method, so that the Store keeps the bbolt store's method set.
func Import(ctx context.Context, s *Store, export Exporter, replace bool) (store.Counts, error) {
	s.writes.Add(1)
	var have store.Counts
	var forget []store.TokenHash
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Writers on other instances wait until the copy commits, so
		// the emptiness check and the counts hold for the whole of it.
		if _, err := tx.Exec(ctx, "LOCK TABLE keys, accounts, users, sessions, events, event_versions, two_step, passkeys, passkey_handles IN EXCLUSIVE MODE"); err != nil {
			return fmt.Errorf("lock the tables: %w", err)
		}
		before, err := countTx(ctx, tx, time.Time{}, s.opts.Policy, nil)
		if err != nil {
			return err
		}
		if before.Accounts+before.Users+before.Sessions+before.Events+before.Logs+before.TwoSteps+before.Passkeys+before.Handles > 0 {
			if !replace {
				return &NotEmptyError{Has: before}
			}
			if forget, err = deleteAllTx(ctx, tx); err != nil {
				return err
			}
		}
		w := &importer{ctx: ctx, tx: tx}
		want, err := export(w.add)
		if err == nil {
			err = w.flush()
		}
		if err != nil {
			return err
		}
		if have, err = countTx(ctx, tx, want.At, s.opts.Policy, w.keys); err != nil {
			return err
		}
		if have != want {
			return fmt.Errorf("the copy holds %s but the source held %s", describeCounts(have), describeCounts(want))
		}
		fx := effects{forget: forget, allUsers: true}
		_, err = fx.finishTx(ctx, tx, s.instance, "")
		return err
	})
	if err != nil {
		return have, fmt.Errorf("store: import into %s: %w", s.url, err)
	}
	s.forgetLocally(&effects{forget: forget, allUsers: true})
	s.reloadCSRFKey()
	return have, nil
}

// describeCounts is c for a message.
func describeCounts(c store.Counts) string {
	return fmt.Sprintf("%d keys, %d accounts, %d users, %d sessions (%d ended, %d live), %d events, %d activity versions, %d two-step records, %d passkeys, %d user handles",
		c.Keys, c.Accounts, c.Users, c.Sessions, c.Ended, c.Live, c.Events, c.Logs, c.TwoSteps, c.Passkeys, c.Handles)
}

// countTx counts what the database holds, sessions live at at under p
// (none when at is zero), and of keys those named.
func countTx(ctx context.Context, tx pgx.Tx, at time.Time, p store.Policy, keys []string) (store.Counts, error) {
	c := store.Counts{At: at}
	var atArg *time.Time
	if !at.IsZero() {
		atArg = &at
	}
	err := tx.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM keys WHERE name = ANY($1)),
		(SELECT count(*) FROM accounts), (SELECT count(*) FROM users),
		(SELECT count(*) FROM sessions), (SELECT count(*) FROM sessions WHERE revoked_at IS NOT NULL),
		(SELECT count(*) FROM sessions WHERE revoked_at IS NULL AND $2::timestamptz IS NOT NULL
			AND ($3::bigint = 0 OR created_at > $2 - make_interval(secs => $3::double precision / 1e6))
			AND ($4::bigint = 0 OR last_active > $2 - make_interval(secs => $4::double precision / 1e6))),
		(SELECT count(*) FROM events), (SELECT count(*) FROM event_versions), (SELECT count(*) FROM two_step),
		(SELECT count(*) FROM passkeys), (SELECT count(*) FROM passkey_handles)`,
		keys, atArg, p.MaxLifetime.Microseconds(), p.IdleTimeout.Microseconds(),
	).Scan(&c.Keys, &c.Accounts, &c.Users, &c.Sessions, &c.Ended, &c.Live, &c.Events, &c.Logs, &c.TwoSteps, &c.Passkeys, &c.Handles)
	if err != nil {
		return c, fmt.Errorf("count what the database holds: %w", err)
	}
	return c, nil
}

// deleteAllTx deletes every account, user, session, event, two-step
// record, passkey and user handle (ceremonies under way stay: they
// name no one until finished), and
// returns the token hashes of the sessions it deleted.
func deleteAllTx(ctx context.Context, tx pgx.Tx) ([]store.TokenHash, error) {
	rows, err := tx.Query(ctx, "SELECT token_hash FROM sessions")
	if err != nil {
		return nil, fmt.Errorf("read the sessions to replace: %w", err)
	}
	hashes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.TokenHash, error) {
		var h store.TokenHash
		var b []byte
		err := r.Scan(&b)
		copy(h[:], b)
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("read the sessions to replace: %w", err)
	}
	if _, err := tx.Exec(ctx, "TRUNCATE passkeys, passkey_handles, two_step, events, event_versions, sessions, users, accounts"); err != nil {
		return nil, fmt.Errorf("delete what the database held: %w", err)
	}
	return hashes, nil
}

// importBatch is how many rows one COPY writes.
const importBatch = 5000

// importer writes the records it is handed with one COPY per run of
// records of one table, importBatch rows at most, in the order handed.
type importer struct {
	ctx   context.Context
	tx    pgx.Tx
	table string
	rows  [][]any
	keys  []string
}

var importCols = map[string][]string{
	"accounts": {"id", "name", "kind", "partner_id", "created_at", "require_two_step"},
	"users":    {"id", "account_id", "email", "name", "role", "password_hash", "disabled", "created_at", "two_step_changed_at"},
	"sessions": {"token_hash", "id", "user_id", "created_at", "last_active", "revoked_at", "revoke_reason", "revoked_by", "user_agent", "device", "first_place", "last_place", "time_zone", "auth", "confirmed_at", "passkey"},
	"two_step": {"user_id", "sealed", "last_step", "codes", "enabled_at"},
	// passkeys' seq is left to its default, which numbers them in the
	// order handed: each user's oldest first.
	"passkeys":        {"id", "user_id", "name", "credential", "sign_count", "backup_eligible", "backup_state", "added_at", "last_used_at"},
	"passkey_handles": {"user_id", "handle"},
	"events":          {"user_id", "at", "kind", "body"},
	"event_versions":  {"user_id", "version"},
}

func (w *importer) add(r store.Record) error {
	switch {
	case r.Key != nil:
		w.keys = append(w.keys, r.Key.Name)
		_, err := w.tx.Exec(w.ctx, "INSERT INTO keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value", r.Key.Name, r.Key.Value)
		if err != nil {
			return fmt.Errorf("key %s: %w", r.Key.Name, err)
		}
		return nil
	case r.Account != nil:
		a := r.Account
		var partner *string
		if a.Partner != "" {
			partner = &a.Partner
		}
		return w.row("accounts", a.ID, a.Name, string(a.Kind), partner, micro(a.CreatedAt), a.RequireTwoStep)
	case r.User != nil:
		u := r.User
		var twoStep *time.Time
		if !u.TwoStepChangedAt.IsZero() {
			t := micro(u.TwoStepChangedAt)
			twoStep = &t
		}
		return w.row("users", u.ID, u.AccountID, u.Email, u.Name, string(u.Role), u.PasswordHash, u.Disabled, micro(u.CreatedAt), twoStep)
	case r.Session != nil:
		x := r.Session
		var revokedAt *time.Time
		if !x.EndedAt.IsZero() {
			t := micro(x.EndedAt)
			revokedAt = &t
		}
		var confirmed *time.Time
		if !x.ConfirmedAt.IsZero() {
			t := micro(x.ConfirmedAt)
			confirmed = &t
		}
		return w.row("sessions", x.Hash[:], x.ID, x.UserID, micro(x.CreatedAt), micro(x.LastActive), revokedAt,
			string(x.EndReason), x.RevokedBy, x.UserAgent, x.Device, x.FirstPlace, x.LastPlace, x.TimeZone, string(x.Auth), confirmed, x.Passkey)
	case r.TwoStep != nil:
		t := r.TwoStep
		return w.row("two_step", t.UserID, t.Sealed, t.LastStep, t.Codes, micro(t.EnabledAt))
	case r.Handle != nil:
		return w.row("passkey_handles", r.Handle.UserID, r.Handle.Handle)
	case r.Passkey != nil:
		pk := r.Passkey
		var used *time.Time
		if !pk.LastUsedAt.IsZero() {
			t := micro(pk.LastUsedAt)
			used = &t
		}
		return w.row("passkeys", pk.ID, pk.UserID, pk.Name, pk.Credential, int64(pk.SignCount), pk.BackupEligible, pk.BackupState, micro(pk.AddedAt), used)
	case r.Event != nil:
		e := r.Event.Event
		e.At = micro(e.At) // as addEventsTx writes it
		body, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode a %s event: %w", e.Kind, err)
		}
		return w.row("events", r.Event.UserID, e.At, string(e.Kind), json.RawMessage(body))
	case r.Log != nil:
		return w.row("event_versions", r.Log.UserID, int64(r.Log.Version))
	}
	return errors.New("an empty record")
}

// row queues one row of table, first writing what is queued of another.
func (w *importer) row(table string, values ...any) error {
	if table != w.table || len(w.rows) >= importBatch {
		if err := w.flush(); err != nil {
			return err
		}
		w.table = table
	}
	w.rows = append(w.rows, values)
	return nil
}

// flush writes the queued rows.
func (w *importer) flush() error {
	if len(w.rows) == 0 {
		return nil
	}
	_, err := w.tx.CopyFrom(w.ctx, pgx.Identifier{w.table}, importCols[w.table], pgx.CopyFromRows(w.rows))
	if err != nil {
		return fmt.Errorf("write %d %s: %w", len(w.rows), w.table, err)
	}
	w.rows = w.rows[:0]
	return nil
}

// micro is t in UTC to the microsecond PostgreSQL keeps.
func micro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
