package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"portal/device"
	"portal/geo"
)

// The security activity log. Every change to a user's sessions writes its
// event in the transaction that makes the change, so there is never an
// event without its change or a change without its event, and no extra
// commit. Events hold ids and codes, never sentences (those are rendered
// when shown, so a wording change applies to old events), and never a
// full address, a token, a raw user agent or a password.

// EventKind says what happened.
type EventKind string

// Event kinds. They are stored, so never rename one.
const (
	EventSignedIn        EventKind = "signed_in"         // a session began
	EventEnded           EventKind = "ended"             // a session was revoked or expired: Reason says which
	EventPasswordChanged EventKind = "password_changed"  // the user's password was changed
	EventSignInFailed    EventKind = "sign_in_failed"    // wrong passwords, Count of them from one network in one window
	EventSignInThrottled EventKind = "sign_in_throttled" // sign-ins refused by the throttle, grouped the same way
)

// EventKinds lists the kinds in the order a filter shows them.
var EventKinds = []EventKind{EventSignedIn, EventEnded, EventPasswordChanged, EventSignInFailed, EventSignInThrottled}

// Actor is who made a change for a user: one of the user's own sessions
// (signing out another device), a partner user, or nobody recorded (the
// session's own sign-out, the policy, an operator command).
type Actor struct {
	Session string `json:"session,omitempty"` // a session id of the same user
	User    string `json:"user,omitempty"`    // a partner user's id
}

// Event is one entry of a user's security activity.
type Event struct {
	At        time.Time   `json:"at"`
	Kind      EventKind   `json:"kind"`
	SessionID string      `json:"session,omitempty"` // the session it concerns
	Reason    Reason      `json:"reason,omitempty"`  // why it ended (EventEnded)
	By        Actor       `json:"by,omitzero"`
	Device    device.Info `json:"device,omitzero"` // of a sign-in
	Place     geo.Place   `json:"place,omitzero"`  // of a sign-in or failed attempts
	Count     int         `json:"count,omitempty"` // attempts in a group
	Until     time.Time   `json:"until,omitzero"`  // the last attempt of a group

	key []byte
}

// Bounds of the log: a user keeps at most maxEventsPerUser events (the
// oldest go first), failed attempts from one network are one event per
// FailureWindow, and the sweeper deletes events older than the activity
// retention.
const (
	maxEventsPerUser = 1000
	// FailureWindow groups failed sign-ins: one event per user, network
	// and kind in each.
	FailureWindow = 5 * time.Minute
	// EventPageSize is how many events a page of the log holds.
	EventPageSize = 50
)

// eventKey orders a user's events by time: the instant in nanoseconds,
// then the bucket's sequence, so events of one instant keep the order
// they were written in.
func eventKey(at time.Time, seq uint64) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 16), uint64(at.UnixNano()))
	return binary.BigEndian.AppendUint64(k, seq)
}

// addEventTx records e for userID in tx, dropping the user's oldest events
// beyond maxEventsPerUser.
func addEventTx(tx *bolt.Tx, userID string, e Event) error {
	b, err := tx.Bucket(bucketEvents).CreateBucketIfNotExists([]byte(userID))
	if err != nil {
		return err
	}
	e.At = e.At.UTC()
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	if err := put(b, eventKey(e.At, seq), e); err != nil {
		return fmt.Errorf("record %s event: %w", e.Kind, err)
	}
	// Count with a cursor: Stats does not see this transaction's writes.
	n := 0
	c := b.Cursor()
	for k, _ := c.Last(); k != nil && n <= maxEventsPerUser; k, _ = c.Prev() {
		n++
	}
	if n <= maxEventsPerUser {
		return nil
	}
	for k, _ := c.First(); k != nil && n > maxEventsPerUser; k, _ = c.First() {
		if err := c.Delete(); err != nil {
			return err
		}
		n--
	}
	return nil
}

// endedEvent is the event of x having ended, as recorded in x.
func endedEvent(x Session, by Actor) Event {
	return Event{At: x.RevokedAt, Kind: EventEnded, SessionID: x.ID, Reason: x.RevokeReason, By: by}
}

// EventQuery asks for a page of a user's events.
type EventQuery struct {
	Kinds []EventKind // only these; all when empty
	Since time.Time   // only events at or after; all when zero
	Page  int         // from 1
}

// EventPage is one page of events, newest first.
type EventPage struct {
	Events      []Event
	Total       int
	Page, Pages int
	// Oldest is when the oldest matching event happened (zero without
	// one): with Since, the moment the count next changes by itself is
	// when it leaves the window.
	Oldest time.Time
	// Version is the user's UserEventsVersion as of this page.
	Version uint64
}

// UserEvents returns a page of userID's events, newest first. Only the
// events on the page are decoded: the rest are matched by their key (the
// time) and the kind read straight from the stored JSON, so a page costs
// the same whether the user has 10 events or 1,000.
func (s *Store) UserEvents(userID string, q EventQuery) (EventPage, error) {
	p := EventPage{Page: max(q.Page, 1)}
	start := (p.Page - 1) * EventPageSize
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEvents).Bucket([]byte(userID))
		if b == nil {
			return nil
		}
		p.Version = b.Sequence()
		c := b.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			if !q.Since.IsZero() && int64(binary.BigEndian.Uint64(k[:8])) < q.Since.UnixNano() {
				break
			}
			if len(q.Kinds) > 0 && !slices.Contains(q.Kinds, storedKind(v)) {
				continue
			}
			p.Total++
			p.Oldest = time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))).UTC()
			if p.Total <= start || p.Total > start+EventPageSize {
				continue
			}
			var e Event
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("event %x: %w", k, err)
			}
			e.key = slices.Clone(k)
			p.Events = append(p.Events, e)
		}
		return nil
	})
	if err != nil {
		return EventPage{}, fmt.Errorf("store: activity of user %s: %w", userID, err)
	}
	p.Pages = max((p.Total+EventPageSize-1)/EventPageSize, 1)
	return p, nil
}

// EventsVersion (Storage; Core.UserEventsVersion keeps it) is a number that changes whenever userID's security
// activity does, so that what is shown of it can be kept until then:
// the sequence of the user's event bucket, which every event written
// (addEventTx), merged (mergeFailureTx) or swept (SweepEvents) moves on
// in the transaction that makes the change. It is 0 for a user without
// events. It does not cover the sessions events name: a live session's
// device and place change without an event (the activity flush).
func (s *Store) EventsVersion(userID string) (uint64, error) {
	var v uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketEvents).Bucket([]byte(userID)); b != nil {
			v = b.Sequence()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: activity version of user %s: %w", userID, err)
	}
	return v, nil
}

// UserSessionsByID returns those of ids that are userID's sessions, in
// whatever state, read in one transaction: the sessions a page of events
// names. Ids of other users' sessions are left out, as if they did not
// exist. When the list cache holds the user's sessions and all of ids are
// among them, nothing is read.
func (s *Store) UserSessionsByID(userID string, ids []string) (map[string]Session, error) {
	out := make(map[string]Session, len(ids))
	if s.KeptSessions(userID, ids, out) {
		return out, nil
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, id := range ids {
			x, err := userSessionTx(tx, userID, id)
			if errors.Is(err, ErrNotFound) {
				continue
			} else if err != nil {
				return fmt.Errorf("session %s: %w", id, err)
			}
			out[id] = x
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: sessions of user %s: %w", userID, err)
	}
	for id, x := range out {
		s.MergeUnflushed(&x)
		out[id] = x
	}
	return out, nil
}

// kindField is how an event's kind starts in its JSON: Event's second
// field, written by encoding/json in declaration order.
var kindField = []byte(`"kind":"`)

// storedKind reads the kind of a stored event without decoding it.
func storedKind(v []byte) EventKind {
	i := bytes.Index(v, kindField)
	if i < 0 {
		return ""
	}
	rest := v[i+len(kindField):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return EventKind(rest[:j])
}

// unrecordedExpiry reports whether x has expired (idle or lifetime) but
// nothing has recorded it yet.
func (s *Store) unrecordedExpiry(x Session, now time.Time) bool {
	if !x.RevokedAt.IsZero() {
		return false
	}
	s.MergeUnflushed(&x)
	ended, _ := x.Ended(now, s.opts.Policy)
	return ended
}

// recordExpiryTx closes the session under h if it has expired without a
// record, with its event dated when it expired, not when it was noticed.
func (s *Store) recordExpiryTx(tx *bolt.Tx, h TokenHash, now time.Time) error {
	x, err := loadSession(getSessionsBucket(tx), h)
	if errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if !s.unrecordedExpiry(x, now) {
		return nil
	}
	s.MergeUnflushed(&x)
	_, reason := x.Ended(now, s.opts.Policy)
	x.RevokedAt, x.RevokeReason = x.EndTime(now, s.opts.Policy), reason
	if err := putSession(tx, x); err != nil {
		return err
	}
	return addEventTx(tx, x.UserID, endedEvent(x, Actor{}))
}

// SweepEvents deletes events older than retention, at most batch in each
// short transaction, and reports how many it deleted. It stops between
// batches when ctx is done.
func (s *Store) SweepEvents(ctx context.Context, retention time.Duration, batch int) (int, error) {
	if batch <= 0 {
		batch = 500
	}
	cutoff := uint64(s.now().Add(-retention).UnixNano())
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n := 0
		err := s.db.View(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketEvents).ForEach(func(user, _ []byte) error {
				if k, _ := tx.Bucket(bucketEvents).Bucket(user).Cursor().First(); k != nil && binary.BigEndian.Uint64(k[:8]) < cutoff {
					n++
				}
				return nil
			})
		})
		if err != nil || n == 0 {
			return total, err
		}
		deleted := 0
		err = s.update(func(tx *bolt.Tx) error {
			deleted = 0
			return tx.Bucket(bucketEvents).ForEach(func(user, _ []byte) error {
				b := tx.Bucket(bucketEvents).Bucket(user)
				c, before := b.Cursor(), deleted
				for k, _ := c.First(); k != nil && deleted < batch && binary.BigEndian.Uint64(k[:8]) < cutoff; k, _ = c.First() {
					if err := c.Delete(); err != nil {
						return err
					}
					deleted++
				}
				if deleted == before {
					return nil
				}
				_, err := b.NextSequence() // the user's log changed: see UserEventsVersion
				return err
			})
		})
		total += deleted
		if err != nil {
			return total, fmt.Errorf("store: sweep events: %w", err)
		}
		if deleted == 0 {
			return total, nil
		}
	}
}
