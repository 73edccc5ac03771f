package bolt

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"portal/store"
)

// Ceremonies never touch the file: beginning and finishing them writes
// nothing, however many there are.
func TestCeremoniesWriteNothing(t *testing.T) {
	s := MustOpen(t, Options{})
	before := s.WriteTxCount()
	for i := range 100 {
		if err := s.StartCeremony(fmt.Sprint(i), []byte("state")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.FinishCeremony("7"); err != nil {
		t.Fatal(err)
	}
	if n := s.WriteTxCount() - before; n != 0 {
		t.Errorf("100 ceremonies cost %d write transactions, want 0", n)
	}
}

func ceremonyKey(i int) store.TokenHash { return store.HashToken(fmt.Sprint(i)) }

// The ceremonies kept are bounded: when full, the expired ones go first,
// then the oldest; a taken one frees its place.
func TestCeremoniesBounded(t *testing.T) {
	var c ceremonies
	now := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	expires := now.Add(store.CeremonyLifetime)
	for i := range maxCeremonies + 1 {
		c.put(ceremonyKey(i), []byte("x"), expires, now)
	}
	if len(c.byKey) != maxCeremonies {
		t.Fatalf("%d kept, want %d", len(c.byKey), maxCeremonies)
	}
	if _, ok := c.take(ceremonyKey(0), now); ok {
		t.Error("the oldest ceremony was kept past the bound")
	}
	for _, i := range []int{1, maxCeremonies} {
		if _, ok := c.take(ceremonyKey(i), now); !ok {
			t.Errorf("ceremony %d was dropped", i)
		}
	}
	// Taking and putting many does not grow the queue without bound.
	for i := range 10 * maxCeremonies {
		k := ceremonyKey(-1 - i)
		c.put(k, nil, expires, now)
		c.take(k, now)
	}
	if len(c.queue) > 2*len(c.byKey)+64 {
		t.Errorf("a queue of %d for %d ceremonies", len(c.queue), len(c.byKey))
	}
	// Once they expire, a new one drops them all, not just one.
	later := expires.Add(time.Second)
	c.put(ceremonyKey(-1), []byte("new"), later.Add(store.CeremonyLifetime), later)
	if len(c.byKey) != 1 {
		t.Errorf("%d kept after the others expired, want 1", len(c.byKey))
	}
	if data, ok := c.take(ceremonyKey(-1), later); !ok || string(data) != "new" {
		t.Errorf("the new ceremony: %q, %v", data, ok)
	}
}

// Passkeys and handles survive a reopen, a removal leaves no index entry
// behind, and Check finds an index entry that dangles.
func TestPasskeysInTheFile(t *testing.T) {
	s := MustOpen(t, Options{})
	u := mustUser(t, s, store.RoleClientStaff)
	h, err := s.PasskeyHandle(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	keep, err := s.AddPasskey(store.Passkey{ID: []byte("kept"), UserID: u.ID, Name: "Kept", Credential: []byte("{}"), SignCount: 4}, store.Actor{})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := s.AddPasskey(store.Passkey{ID: []byte("gone"), UserID: u.ID, Name: "Gone", Credential: []byte("{}")}, store.Actor{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RemovePasskey(u.ID, gone.ID, store.Actor{}); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s, Options{})
	if again, err := s.PasskeyHandle(u.ID); err != nil || !bytes.Equal(again, h) {
		t.Errorf("the handle after a reopen: %x, %v; want %x", again, err, h)
	}
	owner, pk, err := s.PasskeyOwner(h, keep.ID)
	if err != nil || owner.ID != u.ID || pk.SignCount != 4 || pk.Name != "Kept" {
		t.Errorf("PasskeyOwner after a reopen: %s, %+v, %v", owner.ID, pk, err)
	}
	err = s.db.View(func(tx *bbolt.Tx) error {
		if getPasskeySetBucket(tx, u.ID).Get(gone.ID) != nil || getPasskeysBucket(tx).Get(gone.ID) != nil {
			t.Error("the removed passkey is still in the file")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mustCheck(t, s)

	// An index entry whose passkey is gone is damage.
	err = s.db.Update(func(tx *bbolt.Tx) error { return getPasskeysBucket(tx).Delete(keep.ID) })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(); !errors.Is(err, store.ErrDamaged) {
		t.Errorf("Check with a dangling passkey index entry: %v, want ErrDamaged", err)
	}
}
