package postgres

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portal/internal/pgtest"
	"portal/store"
)

// Each new ceremony deletes up to ceremonySweep expired ones, so the
// table shrinks back after a flood with no job of its own; live ones stay.
func TestPutCeremonySweepsExpired(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := mustOpen(t, Options{Now: clk.Now})
	flood := ceremonySweep + ceremonySweep/2
	for i := range flood {
		if err := s.StartCeremony(fmt.Sprint(i), []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(store.CeremonyLifetime + time.Second)
	if err := s.StartCeremony("live", []byte("live")); err != nil {
		t.Fatal(err)
	}
	if n := sqlInt(t, s, "SELECT count(*) FROM webauthn_ceremonies"); n != flood-ceremonySweep+1 {
		t.Errorf("after one more: %d ceremonies, want %d", n, flood-ceremonySweep+1)
	}
	if err := s.StartCeremony("live too", []byte("live")); err != nil {
		t.Fatal(err)
	}
	if n := sqlInt(t, s, "SELECT count(*) FROM webauthn_ceremonies"); n != 2 {
		t.Errorf("after two more: %d ceremonies, want the 2 live ones", n)
	}
	if data, err := s.FinishCeremony("live"); err != nil || string(data) != "live" {
		t.Errorf("a live ceremony: %q, %v", data, err)
	}
}

// Two instances on one database: a ceremony begun on one is finished on
// either, once between them; a passkey's counter is accepted once between
// them; and a passkey change on one moves the user's activity version on
// the other.
func TestPasskeysAcrossInstances(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDB(t)
	a := mustOpenURL(t, url, Options{})
	b := mustOpenURL(t, url, Options{})
	u := mustUser(t, a, store.RoleClientStaff)

	if err := a.StartCeremony("c", []byte("state")); err != nil {
		t.Fatal(err)
	}
	start := make(chan struct{})
	var took, used atomic.Int64
	var wg sync.WaitGroup
	pk, err := a.AddPasskey(store.Passkey{ID: []byte("cred"), UserID: u.ID, Name: "Key", Credential: []byte("{}"), SignCount: 1}, store.Actor{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 16 {
		s := []*Store{a, b}[i%2]
		wg.Go(func() {
			<-start
			if data, err := s.FinishCeremony("c"); err == nil && bytes.Equal(data, []byte("state")) {
				took.Add(1)
			} else if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("FinishCeremony: %v", err)
			}
			if err := s.UsePasskey(pk, store.PasskeyUse{SignCount: 2}); err == nil {
				used.Add(1)
			} else if !errors.Is(err, store.ErrSignCountBack) {
				t.Errorf("UsePasskey: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if took.Load() != 1 || used.Load() != 1 {
		t.Errorf("of 16 requests across two instances, %d finished the ceremony and %d signed in; want 1 and 1", took.Load(), used.Load())
	}

	v, err := b.UserEventsVersion(u.ID) // b keeps it
	if err != nil {
		t.Fatal(err)
	}
	if err := a.RemovePasskey(u.ID, pk.ID, store.Actor{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the other instance to see the user's activity change", func() bool {
		got, err := b.UserEventsVersion(u.ID)
		return err == nil && got != v
	})
}
