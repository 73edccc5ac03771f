package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bbolt "go.etcd.io/bbolt"

	"portal/store"
)

// eventKey orders a user's events by time: the instant in nanoseconds,
// then the bucket's sequence, so events of one instant keep the order
// they were written in.
func eventKey(at time.Time, seq uint64) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 16), uint64(at.UnixNano()))
	return binary.BigEndian.AppendUint64(k, seq)
}

// addEventTx records e for userID in tx, dropping the user's oldest events
// of e's class (failures or the rest: EventKind.Failure) beyond its bound.
func addEventTx(tx *bbolt.Tx, userID string, e store.Event) error {
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
	failure, bound := e.Kind.Failure(), eventBound(e.Kind)
	n := 0
	c := b.Cursor()
	for k, v := c.Last(); k != nil && n <= bound; k, v = c.Prev() {
		if storedKind(v).Failure() == failure {
			n++
		}
	}
	// Keys first, deletes after: a cursor's Next after its Delete can skip.
	var drop [][]byte
	for k, v := c.First(); k != nil && n-len(drop) > bound; k, v = c.Next() {
		if storedKind(v).Failure() == failure {
			drop = append(drop, slices.Clone(k))
		}
	}
	for _, k := range drop {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// eventBound is how many events of k's class a user keeps.
func eventBound(k store.EventKind) int {
	if k.Failure() {
		return store.MaxFailureEventsPerUser
	}
	return store.MaxEventsPerUser
}

// endedEvent is the event of x having ended, as recorded in x.
func endedEvent(x store.Session, by store.Actor) store.Event {
	return store.Event{At: x.EndedAt, Kind: store.EventEnded, SessionID: x.ID, Reason: x.EndReason, By: by}
}

// UserEvents returns a page of userID's events, newest first. Only the
// events on the page are decoded: the rest are matched by their key (the
// time) and the kind read straight from the stored JSON, so a page costs
// the same whether the user has 10 events or 1,000.
func (s *Store) UserEvents(userID string, q store.EventQuery) (store.EventPage, error) {
	p := store.EventPage{Page: max(q.Page, 1)}
	start := (p.Page - 1) * store.EventPageSize
	err := s.db.View(func(tx *bbolt.Tx) error {
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
			if p.Total <= start || p.Total > start+store.EventPageSize {
				continue
			}
			var e store.Event
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("event %x: %w", k, err)
			}
			p.Events = append(p.Events, e)
		}
		return nil
	})
	if err != nil {
		return store.EventPage{}, fmt.Errorf("store: activity of user %s: %w", userID, err)
	}
	p.Pages = max((p.Total+store.EventPageSize-1)/store.EventPageSize, 1)
	return p, nil
}

// EventsVersion (Storage; Core.UserEventsVersion keeps it) is a number that changes whenever userID's security
// activity does, so that what is shown of it can be kept until then:
// the sequence of the user's event bucket, which every event written
// (addEventTx), merged (mergeFailureTx) or swept (SweepEvents) moves on
// in the transaction that makes the change. It is 0 for a user without
// events. It does not cover the sessions events name: a live session's
// device and place change without an event (the last-active flush).
func (s *Store) EventsVersion(userID string) (uint64, error) {
	var v uint64
	err := s.db.View(func(tx *bbolt.Tx) error {
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
func (s *Store) UserSessionsByID(userID string, ids []string) (map[string]store.Session, error) {
	out := make(map[string]store.Session, len(ids))
	if s.KeptSessions(userID, ids, out) {
		return out, nil
	}
	err := s.db.View(func(tx *bbolt.Tx) error {
		for _, id := range ids {
			x, err := userSessionTx(tx, userID, id)
			if errors.Is(err, store.ErrNotFound) {
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
func storedKind(v []byte) store.EventKind {
	i := bytes.Index(v, kindField)
	if i < 0 {
		return ""
	}
	rest := v[i+len(kindField):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return store.EventKind(rest[:j])
}

// unrecordedExpiry reports whether x has expired (idle or lifetime) but
// nothing has recorded it yet.
func (s *Store) unrecordedExpiry(x store.Session, now time.Time) bool {
	if !x.EndedAt.IsZero() {
		return false
	}
	s.MergeUnflushed(&x)
	ended, _ := x.Ended(now, s.opts.Policy)
	return ended
}

// recordExpiryTx closes the session under h if it has expired without a
// record, with its event dated when it expired, not when it was noticed.
func (s *Store) recordExpiryTx(tx *bbolt.Tx, h store.TokenHash, now time.Time) error {
	x, err := loadSession(getSessionsBucket(tx), h)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if !s.unrecordedExpiry(x, now) {
		return nil
	}
	s.MergeUnflushed(&x)
	_, reason := x.Ended(now, s.opts.Policy)
	x.EndedAt, x.EndReason = x.EndTime(now, s.opts.Policy), reason
	if err := putSession(tx, x); err != nil {
		return err
	}
	return addEventTx(tx, x.UserID, endedEvent(x, store.Actor{}))
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
		err := s.db.View(func(tx *bbolt.Tx) error {
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
		err = s.update(func(tx *bbolt.Tx) error {
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
