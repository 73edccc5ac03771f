package bolt

import (
	"encoding/binary"
	"encoding/json"
	"slices"

	bbolt "go.etcd.io/bbolt"

	"portal/store"
)

// recordFailuresTx adds each group to its user's log, into the event of
// the same network and window if an earlier flush wrote one.
func recordFailuresTx(tx *bbolt.Tx, groups []*store.FailureGroup) error {
	for _, g := range groups {
		if getUsersBucket(tx).Get([]byte(g.UserID)) == nil {
			continue // the user is gone
		}
		if merged, err := mergeFailureTx(tx, g); err != nil || merged {
			if err != nil {
				return err
			}
			continue
		}
		if err := addEventTx(tx, g.UserID, g.Event()); err != nil {
			return err
		}
	}
	return nil
}

func mergeFailureTx(tx *bbolt.Tx, g *store.FailureGroup) (bool, error) {
	b := tx.Bucket(bucketEvents).Bucket([]byte(g.UserID))
	if b == nil {
		return false, nil
	}
	var (
		window []store.Event
		keys   [][]byte
	)
	c := b.Cursor()
	for k, v := c.Last(); k != nil && int64(binary.BigEndian.Uint64(k[:8])) >= g.Window.UnixNano(); k, v = c.Prev() {
		if storedKind(v) != g.Kind {
			continue
		}
		var e store.Event
		if err := json.Unmarshal(v, &e); err != nil {
			return false, err
		}
		window, keys = append(window, e), append(keys, slices.Clone(k))
	}
	i := store.PlaceFailure(window, g)
	if i < 0 {
		return false, nil
	}
	g.Merge(&window[i])
	if _, err := b.NextSequence(); err != nil { // see UserEventsVersion
		return false, err
	}
	return true, put(b, keys[i], window[i])
}
