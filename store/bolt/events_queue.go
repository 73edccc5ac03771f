package bolt

import (
	"encoding/binary"
	"encoding/json"

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
	c := b.Cursor()
	for k, v := c.Last(); k != nil && int64(binary.BigEndian.Uint64(k[:8])) >= g.Window.UnixNano(); k, v = c.Prev() {
		var e store.Event
		if err := json.Unmarshal(v, &e); err != nil {
			return false, err
		}
		if e.Kind != g.Kind || e.Place.Network != g.Place.Network {
			continue
		}
		g.Merge(&e)
		if _, err := b.NextSequence(); err != nil { // see UserEventsVersion
			return false, err
		}
		return true, put(b, k, e)
	}
	return false, nil
}
