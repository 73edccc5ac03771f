package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"portal/store"
)

// SweepEnded (store.Storage) deletes sessions that ended more than
// retention ago, with their index entries. It reads the sessions in
// batches of at most batch records and writes only for batches that have
// something to delete, each in its own short transaction, so requests
// never wait behind one long write and a sweep that finds nothing writes
// nothing.
func (s *Store) SweepEnded(ctx context.Context, retention time.Duration, batch int) (int, error) {
	var after []byte // resume point: the last key of the previous batch
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		deleted, last, err := s.sweepBatch(after, batch, s.now(), retention)
		total += len(deleted)
		// Cached copies of deleted sessions would otherwise linger until
		// evicted, answering "ended" for a session that no longer exists.
		s.Forget(deleted...)
		if err != nil {
			return total, fmt.Errorf("store: sweep: %w", err)
		}
		if last == nil {
			return total, nil
		}
		after = last
	}
}

// doomed reports whether x ended more than retention before now, counting
// use not yet flushed (which keeps a session alive).
func (s *Store) doomed(x store.Session, now time.Time, retention time.Duration) bool {
	s.MergeUnflushed(&x)
	end := x.EndTime(now, s.opts.Policy)
	return !end.IsZero() && now.Sub(end) >= retention
}

// sweepBatch reads up to batch sessions after the key after and deletes the
// ones past retention. It returns the last key read, or nil at the end.
func (s *Store) sweepBatch(after []byte, batch int, now time.Time, retention time.Duration) ([]store.TokenHash, []byte, error) {
	var candidates, expired []store.TokenHash
	var last []byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		records := getSessionsBucket(tx)
		c := records.Cursor()
		k, _ := c.First()
		if after != nil {
			if k, _ = c.Seek(after); k != nil && bytes.Equal(k, after) {
				k, _ = c.Next()
			}
		}
		for n := 0; k != nil && n < batch; n++ {
			var x store.Session
			if err := get(records, k, &x); err != nil {
				return err
			}
			copy(x.Hash[:], k)
			if s.doomed(x, now, retention) {
				candidates = append(candidates, x.Hash)
			} else if s.unrecordedExpiry(x, now) {
				expired = append(expired, x.Hash)
			}
			last = bytes.Clone(k)
			k, _ = c.Next()
		}
		if k == nil {
			last = nil // reached the end
		}
		return nil
	})
	if err != nil || len(candidates)+len(expired) == 0 {
		return nil, last, err
	}
	var deleted []store.TokenHash
	err = s.update(func(tx *bbolt.Tx) error {
		deleted = deleted[:0]
		records := getSessionsBucket(tx)
		for _, h := range candidates {
			// Judge again inside the write: the record may have changed
			// since it was read.
			x, err := loadSession(records, h)
			if errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if !s.doomed(x, now, retention) {
				continue
			}
			if err := deleteSessionTx(tx, x); err != nil {
				return err
			}
			deleted = append(deleted, h)
		}
		for _, h := range expired {
			if err := s.recordExpiryTx(tx, h, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return deleted, last, nil
}

func deleteSessionTx(tx *bbolt.Tx, x store.Session) error {
	if err := getSessionsBucket(tx).Delete(x.Hash[:]); err != nil {
		return err
	}
	if err := getSessionsByIDBucket(tx).Delete([]byte(x.ID)); err != nil {
		return err
	}
	if set := getSessionSetBucket(tx, x.UserID); set != nil {
		return set.Delete([]byte(x.ID))
	}
	return nil
}
