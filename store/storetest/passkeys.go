package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portal/store"
)

var passkeyTests = []test{
	{"PasskeyHandleMadeOnce", testPasskeyHandleMadeOnce},
	{"PasskeyOwner", testPasskeyOwner},
	{"PasskeyAddListRemove", testPasskeyAddListRemove},
	{"PasskeyRename", testPasskeyRename},
	{"PasskeyExistsAndLimit", testPasskeyExistsAndLimit},
	{"PasskeyLimitInParallel", testPasskeyLimitInParallel},
	{"PasskeySignCount", testPasskeySignCount},
	{"PasskeySignCountInParallel", testPasskeySignCountInParallel},
	{"Ceremonies", testCeremonies},
	{"CeremonyTakenOnceInParallel", testCeremonyTakenOnceInParallel},
	{"ResetRemovesPasskeys", testResetRemovesPasskeys},
	{"SessionSignedInWithPasskey", testSessionSignedInWithPasskey},
	{"PasskeySessionOneCommit", testPasskeySessionOneCommit},
	{"PasskeyChangesInParallel", testPasskeyChangesInParallel},
}

var credSeq atomic.Int64

// newPasskey is a passkey for userID with a fresh credential id.
func newPasskey(userID, name string, count uint32) store.Passkey {
	n := credSeq.Add(1)
	return store.Passkey{
		ID: fmt.Appendf(nil, "credential-%d", n), UserID: userID, Name: name,
		Credential: fmt.Appendf(nil, `{"id":%d,"publicKey":"AQID"}`, n), SignCount: count,
		BackupEligible: true, BackupState: count == 0,
	}
}

func mustPasskey(tb testing.TB, s store.Backend, pk store.Passkey, by store.Actor) store.Passkey {
	tb.Helper()
	pk, err := s.AddPasskey(pk, by)
	if err != nil {
		tb.Fatalf("AddPasskey(%q): %v", pk.Name, err)
	}
	return pk
}

// passkeyIDs is the credential ids of list, as strings, in its order.
func passkeyIDs(list []store.Passkey) []string {
	out := make([]string, len(list))
	for i, pk := range list {
		out[i] = string(pk.ID)
	}
	return out
}

func mustPasskeys(tb testing.TB, s store.Backend, userID string) []store.Passkey {
	tb.Helper()
	list, err := s.Passkeys(userID)
	if err != nil {
		tb.Fatalf("Passkeys(%s): %v", userID, err)
	}
	return list
}

// passkeyEvents is userID's events of the passkey kinds, oldest first, as
// "kind name".
func passkeyEvents(tb testing.TB, s store.Backend, userID string) []string {
	tb.Helper()
	all := eventsOf(tb, s, userID)
	var out []string
	for i := len(all) - 1; i >= 0; i-- {
		if e := all[i]; strings.HasPrefix(string(e.Kind), "passkey_") {
			out = append(out, string(e.Kind)+" "+e.Passkey)
		}
	}
	return out
}

// A user's handle is 32 random bytes, made the first time it is asked for
// (once, however many ask at once) and the same ever after; it leads back
// to the user.
func testPasskeyHandleMadeOnce(t *testing.T, open Opener) {
	s, _ := openAt(t, open, Options{})
	if _, err := s.PasskeyHandle(noSuchID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PasskeyHandle of no user: %v, want ErrNotFound", err)
	}
	seen := map[string]string{}
	for range 4 {
		u := mustUser(t, s, store.RoleClientStaff)
		start := make(chan struct{})
		var got [8][]byte
		var wg sync.WaitGroup
		for i := range got {
			wg.Go(func() {
				<-start
				h, err := s.PasskeyHandle(u.ID)
				if err != nil {
					t.Errorf("PasskeyHandle: %v", err)
				}
				got[i] = h
			})
		}
		close(start)
		wg.Wait()
		for _, h := range got[1:] {
			if !bytes.Equal(h, got[0]) {
				t.Fatalf("parallel PasskeyHandle calls for one user: %x and %x", got[0], h)
			}
		}
		h := got[0]
		if len(h) != store.PasskeyHandleLen || bytes.Contains(h, []byte(u.ID)) {
			t.Errorf("handle %x: want %d random bytes", h, store.PasskeyHandleLen)
		}
		if again, err := s.PasskeyHandle(u.ID); err != nil || !bytes.Equal(again, h) {
			t.Errorf("PasskeyHandle again: %x, %v; want %x", again, err, h)
		}
		if other, ok := seen[string(h)]; ok {
			t.Errorf("users %s and %s have the same handle", other, u.ID)
		}
		seen[string(h)] = u.ID
		// The handle and one of the user's passkeys name the user.
		pk := mustPasskey(t, s, newPasskey(u.ID, "Phone", 0), store.Actor{})
		if owner, _, err := s.PasskeyOwner(h, pk.ID); err != nil || owner.ID != u.ID {
			t.Errorf("PasskeyOwner(the user's handle) = %s, %v; want %s", owner.ID, err, u.ID)
		}
	}
}

// PasskeyOwner names the user only when the handle and the passkey are
// the same user's; every other case is the same ErrNotFound.
func testPasskeyOwner(t *testing.T, open Opener) {
	s, _ := openAt(t, open, Options{})
	ann, bob := mustUser(t, s, store.RoleClientStaff), mustUser(t, s, store.RoleClientStaff)
	annHandle, err := s.PasskeyHandle(ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	bobHandle, err := s.PasskeyHandle(bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	annKey := mustPasskey(t, s, newPasskey(ann.ID, "Ann's phone", 3), store.Actor{})
	bobKey := mustPasskey(t, s, newPasskey(bob.ID, "Bob's key", 0), store.Actor{})
	u, pk, err := s.PasskeyOwner(annHandle, annKey.ID)
	if err != nil || u.ID != ann.ID || u.Email != ann.Email || !bytes.Equal(pk.ID, annKey.ID) || pk.Name != "Ann's phone" || pk.SignCount != 3 {
		t.Errorf("PasskeyOwner(Ann's handle, Ann's passkey) = %s, %+v, %v", u.ID, pk, err)
	}
	for _, tc := range []struct {
		name         string
		handle, cred []byte
	}{
		{"Bob's handle with Ann's passkey", bobHandle, annKey.ID},
		{"Ann's handle with Bob's passkey", annHandle, bobKey.ID},
		{"an unknown handle", bytes.Repeat([]byte{7}, store.PasskeyHandleLen), annKey.ID},
		{"an unknown passkey", annHandle, []byte("no-such-credential")},
		{"no handle", nil, annKey.ID},
		{"no passkey", annHandle, nil},
		{"a handle too long", bytes.Repeat([]byte{1}, 65), annKey.ID},
		{"a credential id too long", annHandle, bytes.Repeat([]byte{1}, 1024)},
	} {
		if u, _, err := s.PasskeyOwner(tc.handle, tc.cred); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("PasskeyOwner with %s = user %q, %v; want ErrNotFound", tc.name, u.ID, err)
		}
	}
}

// Passkeys are added with their name cleaned and the time, listed oldest
// first (in the order added, within one instant), read back as added, and
// removed by their owner only; adding and removing are in the user's log
// with the passkey's name.
func testPasskeyAddListRemove(t *testing.T, open Opener) {
	s, clk := openAt(t, open, Options{})
	u, other := mustUser(t, s, store.RoleClientStaff), mustUser(t, s, store.RoleClientStaff)
	sess, _ := mustSession(t, s, u.ID, store.NewSession{})
	by := store.Actor{Session: sess.ID}
	if list := mustPasskeys(t, s, u.ID); len(list) != 0 {
		t.Errorf("a new user's passkeys: %v, want none", passkeyIDs(list))
	}
	if _, err := s.AddPasskey(newPasskey(noSuchID, "Phone", 0), store.Actor{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddPasskey for no user: %v, want ErrNotFound", err)
	}
	if _, err := s.AddPasskey(newPasskey(u.ID, " \t ", 0), by); !errors.Is(err, store.ErrPasskeyName) {
		t.Errorf("AddPasskey named blank: %v, want ErrPasskeyName", err)
	}

	first := clk.Advance(time.Minute)
	phone := newPasskey(u.ID, "  My   phone ", 0)
	got := mustPasskey(t, s, phone, by)
	if got.Name != "My phone" || !got.AddedAt.Equal(first) || !got.LastUsedAt.IsZero() {
		t.Errorf("AddPasskey = name %q, added %v, last used %v; want %q at %v, never used", got.Name, got.AddedAt, got.LastUsedAt, "My phone", first)
	}
	clk.Advance(time.Minute)
	laptop := mustPasskey(t, s, newPasskey(u.ID, "Laptop", 7), by)
	key := mustPasskey(t, s, newPasskey(u.ID, "Key", 0), by) // the same instant as laptop: after it
	mustPasskey(t, s, newPasskey(other.ID, "Someone else's", 0), store.Actor{})

	list := mustPasskeys(t, s, u.ID)
	if want := passkeyIDs([]store.Passkey{got, laptop, key}); !slices.Equal(passkeyIDs(list), want) {
		t.Fatalf("Passkeys = %q, want %q, oldest first", passkeyIDs(list), want)
	}
	// Every field back as kept.
	x := list[0]
	if !bytes.Equal(x.ID, phone.ID) || x.UserID != u.ID || x.Name != "My phone" || !bytes.Equal(x.Credential, phone.Credential) ||
		x.SignCount != 0 || !x.BackupEligible || !x.BackupState || !x.AddedAt.Equal(first) || !x.LastUsedAt.IsZero() || !x.Synced() {
		t.Errorf("the first passkey read back as %+v, want %+v", x, phone)
	}
	if y := list[1]; y.SignCount != 7 || y.BackupState || y.Synced() {
		t.Errorf("the second passkey read back as %+v", y)
	}
	if pk, err := s.UserPasskey(u.ID, laptop.ID); err != nil || pk.Name != "Laptop" {
		t.Errorf("UserPasskey = %+v, %v", pk, err)
	}
	if _, err := s.UserPasskey(other.ID, laptop.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserPasskey of another user's passkey: %v, want ErrNotFound", err)
	}

	if err := s.RemovePasskey(other.ID, laptop.ID, store.Actor{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RemovePasskey by another user: %v, want ErrNotFound", err)
	}
	if err := s.RemovePasskey(u.ID, []byte("no-such-credential"), by); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RemovePasskey of no passkey: %v, want ErrNotFound", err)
	}
	if n := len(mustPasskeys(t, s, u.ID)); n != 3 {
		t.Fatalf("after refused removals: %d passkeys, want 3", n)
	}
	clk.Advance(time.Minute)
	if err := s.RemovePasskey(u.ID, laptop.ID, by); err != nil {
		t.Fatal(err)
	}
	if want := passkeyIDs([]store.Passkey{got, key}); !slices.Equal(passkeyIDs(mustPasskeys(t, s, u.ID)), want) {
		t.Errorf("after the removal: %q, want %q", passkeyIDs(mustPasskeys(t, s, u.ID)), want)
	}
	if _, err := s.UserPasskey(u.ID, laptop.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a removed passkey: %v, want ErrNotFound", err)
	}
	if err := s.RemovePasskey(u.ID, laptop.ID, by); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("removing it twice: %v, want ErrNotFound", err)
	}
	if n := len(mustPasskeys(t, s, other.ID)); n != 1 {
		t.Errorf("the other user has %d passkeys, want 1", n)
	}

	wantEvents := []string{"passkey_added My phone", "passkey_added Laptop", "passkey_added Key", "passkey_removed Laptop"}
	if got := passkeyEvents(t, s, u.ID); !slices.Equal(got, wantEvents) {
		t.Errorf("events %q, want %q", got, wantEvents)
	}
	p, err := s.UserEvents(u.ID, store.EventQuery{Kinds: []store.EventKind{store.EventPasskeyRemoved}})
	if err != nil || p.Total != 1 || p.Events[0].By != by {
		t.Errorf("the removal's event: %+v, %v; want it by the session", p.Events, err)
	}
	mustCheck(t, s)
}

// A rename keeps the cleaned name; a bad one, or someone else's passkey,
// changes nothing.
func testPasskeyRename(t *testing.T, open Opener) {
	s, _ := openAt(t, open, Options{})
	u, other := mustUser(t, s, store.RoleClientStaff), mustUser(t, s, store.RoleClientStaff)
	pk := mustPasskey(t, s, newPasskey(u.ID, "Phone", 0), store.Actor{})
	name := "Phone"
	for _, tc := range []struct {
		name, want string
		err        error
	}{
		{"  Work   laptop ", "Work laptop", nil},
		{"Tab\there", "", store.ErrPasskeyName},
		{strings.Repeat("é", store.MaxPasskeyNameRunes), strings.Repeat("é", store.MaxPasskeyNameRunes), nil},
		{"Schlüssel 🔑", "Schlüssel 🔑", nil},
		{"", "", store.ErrPasskeyName},
		{"   ", "", store.ErrPasskeyName},
		{strings.Repeat("a", store.MaxPasskeyNameRunes+1), "", store.ErrPasskeyName},
		{"a\x00b", "", store.ErrPasskeyName},
		{"a\nb", "", store.ErrPasskeyName},
		{"\xff\xfe", "", store.ErrPasskeyName},
	} {
		err := s.RenamePasskey(u.ID, pk.ID, tc.name)
		if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
			t.Errorf("RenamePasskey(%q) = %v, want %v", tc.name, err, tc.err)
		}
		if tc.err == nil {
			name = tc.want
		}
		if got, err := s.UserPasskey(u.ID, pk.ID); err != nil || got.Name != name {
			t.Errorf("after RenamePasskey(%q): named %q, %v; want %q", tc.name, got.Name, err, name)
		}
	}
	if err := s.RenamePasskey(other.ID, pk.ID, "Mine now"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("renaming another user's passkey: %v, want ErrNotFound", err)
	}
	if err := s.RenamePasskey(u.ID, []byte("no-such-credential"), "Phone"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("renaming no passkey: %v, want ErrNotFound", err)
	}
	if got, _ := s.UserPasskey(u.ID, pk.ID); got.Name != name {
		t.Errorf("after refused renames: named %q, want %q", got.Name, name)
	}
}

// A credential id is kept once, for anyone; a user keeps at most
// MaxPasskeysPerUser.
func testPasskeyExistsAndLimit(t *testing.T, open Opener) {
	s, _ := openAt(t, open, Options{})
	u, other := mustUser(t, s, store.RoleClientStaff), mustUser(t, s, store.RoleClientStaff)
	pk := mustPasskey(t, s, newPasskey(u.ID, "Phone", 0), store.Actor{})
	for _, owner := range []string{u.ID, other.ID} {
		dup := newPasskey(owner, "Copy", 0)
		dup.ID = pk.ID
		if _, err := s.AddPasskey(dup, store.Actor{}); !errors.Is(err, store.ErrPasskeyExists) {
			t.Errorf("adding a kept credential id again for user %s: %v, want ErrPasskeyExists", owner, err)
		}
	}
	if got, err := s.UserPasskey(u.ID, pk.ID); err != nil || got.Name != "Phone" {
		t.Errorf("the kept passkey after a duplicate: %+v, %v", got, err)
	}
	if n := len(mustPasskeys(t, s, other.ID)); n != 0 {
		t.Errorf("the other user got %d passkeys from a duplicate", n)
	}
	for i := 1; i < store.MaxPasskeysPerUser; i++ {
		mustPasskey(t, s, newPasskey(u.ID, fmt.Sprintf("Key %d", i), 0), store.Actor{})
	}
	if _, err := s.AddPasskey(newPasskey(u.ID, "One too many", 0), store.Actor{}); !errors.Is(err, store.ErrTooManyPasskeys) {
		t.Errorf("passkey %d: %v, want ErrTooManyPasskeys", store.MaxPasskeysPerUser+1, err)
	}
	if n := len(mustPasskeys(t, s, u.ID)); n != store.MaxPasskeysPerUser {
		t.Errorf("%d passkeys, want %d", n, store.MaxPasskeysPerUser)
	}
	if err := s.RemovePasskey(u.ID, pk.ID, store.Actor{}); err != nil {
		t.Fatal(err)
	}
	mustPasskey(t, s, newPasskey(u.ID, "In its place", 0), store.Actor{})
	p, err := s.UserEvents(u.ID, store.EventQuery{Kinds: []store.EventKind{store.EventPasskeyAdded}})
	if err != nil || p.Total != store.MaxPasskeysPerUser+1 {
		t.Errorf("%d passkey_added events, %v; want one per passkey added, %d", p.Total, err, store.MaxPasskeysPerUser+1)
	}
	mustCheck(t, s)
}

// Adds released together at a user's last free places fill them and no
// more.
func testPasskeyLimitInParallel(t *testing.T, open Opener) {
	s, _ := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientStaff)
	for i := 2; i < store.MaxPasskeysPerUser; i++ {
		mustPasskey(t, s, newPasskey(u.ID, fmt.Sprintf("Key %d", i), 0), store.Actor{})
	}
	n := race(t, 8, func() error {
		_, err := s.AddPasskey(newPasskey(u.ID, "Racing", 0), store.Actor{})
		return err
	}, store.ErrTooManyPasskeys)
	if n != 2 {
		t.Errorf("%d of 8 parallel adds at %d of %d passkeys succeeded, want 2", n, store.MaxPasskeysPerUser-2, store.MaxPasskeysPerUser)
	}
	if got := len(mustPasskeys(t, s, u.ID)); got != store.MaxPasskeysPerUser {
		t.Errorf("%d passkeys, want %d", got, store.MaxPasskeysPerUser)
	}
}

// A sign-in's signature counter must move forward, unless it and the kept
// one are both 0 (synced passkeys keep none). A refusal changes nothing
// but the user's log, which names the passkey.
func testPasskeySignCount(t *testing.T, open Opener) {
	s, clk := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientStaff)
	synced := mustPasskey(t, s, newPasskey(u.ID, "Synced", 0), store.Actor{})
	counting := mustPasskey(t, s, newPasskey(u.ID, "Counting", 5), store.Actor{})
	fresh := mustPasskey(t, s, newPasskey(u.ID, "Fresh", 0), store.Actor{})
	refusals := 0
	for i, tc := range []struct {
		pk        store.Passkey
		next      uint32
		wantCount uint32
		refused   bool
	}{
		{synced, 0, 0, false}, // 0 -> 0: synced passkeys
		{synced, 0, 0, false},
		{counting, 6, 6, false}, // 5 -> 6
		{counting, 6, 6, true},  // 6 -> 6: a copy
		{counting, 3, 6, true},  // 6 -> 3
		{counting, 0, 6, true},  // a counter that stopped
		{counting, 1000, 1000, false},
		{fresh, 3, 3, false}, // 0 -> 3: it starts counting
		{fresh, 0, 3, true},
	} {
		at := clk.Advance(time.Minute)
		before, err := s.UserPasskey(u.ID, tc.pk.ID)
		if err != nil {
			t.Fatal(err)
		}
		cred := fmt.Appendf(nil, `{"use":%d}`, i)
		err = s.UsePasskey(before, store.PasskeyUse{Credential: cred, SignCount: tc.next, BackupState: !before.BackupState})
		after, _ := s.UserPasskey(u.ID, tc.pk.ID)
		if tc.refused {
			refusals++
			if !errors.Is(err, store.ErrSignCountBack) {
				t.Errorf("%s, kept %d, next %d: %v, want ErrSignCountBack", tc.pk.Name, before.SignCount, tc.next, err)
			}
			if after.SignCount != before.SignCount || !bytes.Equal(after.Credential, before.Credential) ||
				after.BackupState != before.BackupState || !after.LastUsedAt.Equal(before.LastUsedAt) {
				t.Errorf("%s, kept %d, next %d: a refusal changed it to %+v from %+v", tc.pk.Name, before.SignCount, tc.next, after, before)
			}
		} else {
			if err != nil {
				t.Errorf("%s, kept %d, next %d: %v, want accepted", tc.pk.Name, before.SignCount, tc.next, err)
			}
			if !bytes.Equal(after.Credential, cred) || after.BackupState == before.BackupState || !after.LastUsedAt.Equal(at) {
				t.Errorf("%s after a sign-in: %+v; want the new record, backup state and last use %v", tc.pk.Name, after, at)
			}
		}
		if after.SignCount != tc.wantCount {
			t.Errorf("%s, kept %d, next %d: kept %d after, want %d", tc.pk.Name, before.SignCount, tc.next, after.SignCount, tc.wantCount)
		}
	}
	p, err := s.UserEvents(u.ID, store.EventQuery{Kinds: []store.EventKind{store.EventPasskeyRefused}})
	if err != nil || p.Total != refusals {
		t.Fatalf("%d passkey_refused events, %v; want %d", p.Total, err, refusals)
	}
	for _, e := range p.Events {
		if e.Passkey != "Counting" && e.Passkey != "Fresh" {
			t.Errorf("a refusal names passkey %q", e.Passkey)
		}
	}
	// A refusal names the passkey as it is called now.
	if err := s.RenamePasskey(u.ID, counting.ID, "Renamed"); err != nil {
		t.Fatal(err)
	}
	if err := s.UsePasskey(counting, store.PasskeyUse{SignCount: 1}); !errors.Is(err, store.ErrSignCountBack) {
		t.Errorf("a stale counter: %v, want ErrSignCountBack", err)
	}
	if got := passkeyEvents(t, s, u.ID); got[len(got)-1] != "passkey_refused Renamed" {
		t.Errorf("the last refusal: %q, want it to name the passkey Renamed", got[len(got)-1])
	}
	// A passkey removed meanwhile is not found, and nothing is recorded.
	if err := s.RemovePasskey(u.ID, synced.ID, store.Actor{}); err != nil {
		t.Fatal(err)
	}
	v, _ := s.UserEventsVersion(u.ID)
	if err := s.UsePasskey(synced, store.PasskeyUse{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a sign-in with a removed passkey: %v, want ErrNotFound", err)
	}
	if again, _ := s.UserEventsVersion(u.ID); again != v {
		t.Error("a sign-in with a removed passkey changed the user's log")
	}
}

// Sign-ins released together with the same counter: one is accepted, the
// rest refused and recorded.
func testPasskeySignCountInParallel(t *testing.T, open Opener) {
	s, _ := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientStaff)
	pk := mustPasskey(t, s, newPasskey(u.ID, "Key", 9), store.Actor{})
	if n := race(t, 16, func() error { return s.UsePasskey(pk, store.PasskeyUse{SignCount: 10}) }, store.ErrSignCountBack); n != 1 {
		t.Errorf("%d of 16 parallel sign-ins with counter 10 accepted, want 1", n)
	}
	if got, err := s.UserPasskey(u.ID, pk.ID); err != nil || got.SignCount != 10 || !bytes.Equal(got.Credential, pk.Credential) {
		t.Errorf("kept counter %d, record %q, %v; want 10 and the record as it was (a use without one keeps it)", got.SignCount, got.Credential, err)
	}
	p, err := s.UserEvents(u.ID, store.EventQuery{Kinds: []store.EventKind{store.EventPasskeyRefused}})
	if err != nil || p.Total != 15 {
		t.Errorf("%d passkey_refused events, %v; want 15", p.Total, err)
	}
}

// A ceremony's state is taken once, while it lasts, as it was kept.
func testCeremonies(t *testing.T, open Opener) {
	s, clk := openAt(t, open, Options{})
	data := []byte(`{"challenge":"abc"}`)
	if err := s.StartCeremony("one", data); err != nil {
		t.Fatal(err)
	}
	kept := bytes.Clone(data)
	data[0] = 'X' // the caller's slice is not what is kept
	for _, id := range []string{"", "two", "ONE"} {
		if _, err := s.FinishCeremony(id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("FinishCeremony(%q): %v, want ErrNotFound", id, err)
		}
	}
	if got, err := s.FinishCeremony("one"); err != nil || !bytes.Equal(got, kept) {
		t.Errorf("FinishCeremony = %q, %v; want %q", got, err, kept)
	}
	if _, err := s.FinishCeremony("one"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("FinishCeremony twice: %v, want ErrNotFound", err)
	}
	for _, tc := range []struct {
		after time.Duration
		ok    bool
	}{
		{store.CeremonyLifetime - time.Second, true},
		{store.CeremonyLifetime, false},
		{store.CeremonyLifetime + time.Second, false},
	} {
		id := fmt.Sprintf("after %v", tc.after)
		if err := s.StartCeremony(id, []byte(id)); err != nil {
			t.Fatal(err)
		}
		clk.Advance(tc.after)
		got, err := s.FinishCeremony(id)
		if tc.ok && (err != nil || string(got) != id) {
			t.Errorf("a ceremony finished %v after its start: %q, %v; want it", tc.after, got, err)
		}
		if !tc.ok && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a ceremony finished %v after its start: %v, want ErrNotFound", tc.after, err)
		}
	}
	// Many, some expired: each of the live ones is still there.
	for i := range 50 {
		if err := s.StartCeremony(fmt.Sprintf("old %d", i), []byte("old")); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(store.CeremonyLifetime + time.Second)
	for i := range 50 {
		if err := s.StartCeremony(fmt.Sprintf("new %d", i), []byte("new")); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 50 {
		if _, err := s.FinishCeremony(fmt.Sprintf("old %d", i)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an expired ceremony: %v, want ErrNotFound", err)
		}
		if got, err := s.FinishCeremony(fmt.Sprintf("new %d", i)); err != nil || string(got) != "new" {
			t.Errorf("a live ceremony: %q, %v", got, err)
		}
	}
}

// However many requests finish one ceremony at once, one gets it.
func testCeremonyTakenOnceInParallel(t *testing.T, open Opener) {
	s, _ := openAt(t, open, Options{})
	for round := range 3 {
		id := fmt.Sprintf("ceremony %d", round)
		if err := s.StartCeremony(id, []byte(id)); err != nil {
			t.Fatal(err)
		}
		var got atomic.Value
		n := race(t, 16, func() error {
			data, err := s.FinishCeremony(id)
			if err == nil {
				got.Store(string(data))
			}
			return err
		}, store.ErrNotFound)
		if n != 1 || got.Load() != id {
			t.Errorf("%d of 16 parallel finishes got the ceremony (%v), want 1", n, got.Load())
		}
	}
}

// A reset (the user lost their devices) removes the user's passkeys with
// their app, and works for a user with passkeys alone; turning two-step
// sign-in off themselves leaves the passkeys.
func testResetRemovesPasskeys(t *testing.T, open Opener) {
	w := newPartnerWorld(t, open)
	s := w.Store
	addKeys := func(u store.User, n int) []byte {
		t.Helper()
		h, err := s.PasskeyHandle(u.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			mustPasskey(t, s, newPasskey(u.ID, fmt.Sprintf("Key %d", i), 0), store.Actor{})
		}
		return h
	}
	offEvent := func(u store.User) store.Event {
		t.Helper()
		p, err := s.UserEvents(u.ID, store.EventQuery{Kinds: []store.EventKind{store.EventTwoStepOff}})
		if err != nil || p.Total == 0 {
			t.Fatalf("no two_step_off event: %v", err)
		}
		return p.Events[0]
	}

	// App and passkeys, turned off by the user: the passkeys stay.
	if err := s.EnableTwoStep(w.Mine2.ID, store.Actor{}, testSecret, testCodes); err != nil {
		t.Fatal(err)
	}
	addKeys(w.Mine2, 2)
	if err := s.DisableTwoStep(w.Mine2.ID, store.Actor{}); err != nil {
		t.Fatal(err)
	}
	if n := len(mustPasskeys(t, s, w.Mine2.ID)); n != 2 {
		t.Errorf("after turning the app off: %d passkeys, want 2", n)
	}
	if e := offEvent(w.Mine2); e.Count != 0 {
		t.Errorf("turning the app off says %d passkeys removed", e.Count)
	}
	// With passkeys alone there is no app to turn off.
	if err := s.DisableTwoStep(w.Mine2.ID, store.Actor{}); !errors.Is(err, store.ErrTwoStepOff) {
		t.Errorf("DisableTwoStep with passkeys alone: %v, want ErrTwoStepOff", err)
	}

	// App and passkeys, reset by the partner: both gone, signed out.
	if err := s.EnableTwoStep(w.Mine.ID, store.Actor{}, testSecret, testCodes); err != nil {
		t.Fatal(err)
	}
	handle := addKeys(w.Mine, 3)
	addKeys(w.Theirs, 1)
	// Not by a partner that does not manage the user.
	for _, u := range []store.User{w.Mine, w.Theirs} {
		partner := map[string]store.Account{w.Mine.ID: w.P2, w.Theirs.ID: w.P1}[u.ID]
		if _, err := s.ResetTwoStep(partner.ID, u.ID, store.Actor{}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a reset of %s by a partner that does not manage them: %v, want ErrNotFound", u.Email, err)
		}
	}
	if n, m := len(mustPasskeys(t, s, w.Mine.ID)), len(mustPasskeys(t, s, w.Theirs.ID)); n != 3 || m != 1 {
		t.Errorf("after refused resets: %d and %d passkeys, want 3 and 1", n, m)
	}
	n, err := s.ResetTwoStep(w.P1.ID, w.Mine.ID, store.Actor{User: w.Colleague.ID})
	if err != nil || n != 1 {
		t.Fatalf("ResetTwoStep = %d, %v; want 1 session signed out", n, err)
	}
	if list := mustPasskeys(t, s, w.Mine.ID); len(list) != 0 {
		t.Errorf("after a reset: %d passkeys, want none", len(list))
	}
	if _, err := s.TwoStep(w.Mine.ID); !errors.Is(err, store.ErrTwoStepOff) {
		t.Errorf("after a reset: %v, want two-step sign-in off", err)
	}
	if e := offEvent(w.Mine); e.Count != 3 || e.By.User != w.Colleague.ID {
		t.Errorf("the reset's event: %+v; want 3 passkeys removed, by the partner user", e)
	}
	wantEnded(t, s, w.Tokens[w.Mine.ID], store.ReasonTwoStepReset)
	// The handle is the user's for good.
	if h, err := s.PasskeyHandle(w.Mine.ID); err != nil || !bytes.Equal(h, handle) {
		t.Errorf("the handle after a reset: %x, %v; want %x", h, err, handle)
	}

	// Passkeys alone, reset by an operator.
	n, err = s.ResetTwoStep("", w.Theirs.ID, store.Actor{})
	if err != nil || n != 1 {
		t.Fatalf("ResetTwoStep of a user with passkeys alone = %d, %v; want 1 session signed out", n, err)
	}
	if list := mustPasskeys(t, s, w.Theirs.ID); len(list) != 0 {
		t.Errorf("after the reset: %d passkeys, want none", len(list))
	}
	if e := offEvent(w.Theirs); e.Count != 1 {
		t.Errorf("the reset's event says %d passkeys removed, want 1", e.Count)
	}
	wantEnded(t, s, w.Tokens[w.Theirs.ID], store.ReasonTwoStepReset)
	// Nothing left to reset.
	for _, u := range []store.User{w.Theirs, w.Unmanaged} {
		if _, err := s.ResetTwoStep("", u.ID, store.Actor{}); !errors.Is(err, store.ErrTwoStepOff) {
			t.Errorf("a reset of %s with nothing to reset: %v, want ErrTwoStepOff", u.Email, err)
		}
	}
	if n := len(mustPasskeys(t, s, w.Mine2.ID)); n != 2 {
		t.Errorf("another user's passkeys after the resets: %d, want 2", n)
	}
	mustCheck(t, s)
}

// A session keeps the name of the passkey it signed in with, and so does
// its sign-in event.
func testSessionSignedInWithPasskey(t *testing.T, open Opener) {
	s, _ := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientStaff)
	plain, plainTok := mustSession(t, s, u.ID, store.NewSession{})
	pk, pkTok := mustSession(t, s, u.ID, store.NewSession{Auth: store.AuthPasskey, Passkey: "Phone"})
	if pk.Passkey != "Phone" || pk.Auth != store.AuthPasskey {
		t.Errorf("CreateSession = %q, %q; want signed in with the passkey Phone", pk.Auth, pk.Passkey)
	}
	for tok, want := range map[string]string{plainTok: "", pkTok: "Phone"} {
		if x, _, err := s.Authenticate(tok); err != nil || x.Passkey != want {
			t.Errorf("Authenticate: passkey %q, %v; want %q", x.Passkey, err, want)
		}
	}
	if x, err := s.UserSession(u.ID, pk.ID); err != nil || x.Passkey != "Phone" || x.Auth != store.AuthPasskey {
		t.Errorf("UserSession = %q, %q, %v", x.Auth, x.Passkey, err)
	}
	list, err := s.ListUserSessions(u.ID)
	if err != nil || len(list) != 2 {
		t.Fatal(len(list), err)
	}
	for _, x := range list {
		if want := map[string]string{plain.ID: "", pk.ID: "Phone"}[x.ID]; x.Passkey != want {
			t.Errorf("listed session %s signed in with passkey %q, want %q", x.ID, x.Passkey, want)
		}
	}
	p, err := s.UserEvents(u.ID, store.EventQuery{Kinds: []store.EventKind{store.EventSignedIn}})
	if err != nil || p.Total != 2 {
		t.Fatal(p.Total, err)
	}
	for _, e := range p.Events {
		if want := map[string]string{plain.ID: "", pk.ID: "Phone"}[e.SessionID]; e.Passkey != want {
			t.Errorf("the sign-in event of session %s names passkey %q, want %q", e.SessionID, e.Passkey, want)
		}
		if e.SessionID == pk.ID && e.Auth != store.AuthPasskey {
			t.Errorf("the sign-in event says %q, want %q", e.Auth, store.AuthPasskey)
		}
	}
}

// A sign-in with a passkey writes the session and the passkey's use in one
// commit; a counter that did not move forward makes no session, only its
// refusal. Sign-ins released together with the same counter: one session.
func testPasskeySessionOneCommit(t *testing.T, open Opener) {
	s, clk := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientStaff)
	pk := mustPasskey(t, s, newPasskey(u.ID, "Laptop", 4), store.Actor{})
	at := clk.Advance(time.Minute)
	before := s.WriteTxCount()
	sess, tok, err := s.CreatePasskeySession(u.ID, store.NewSession{Auth: store.AuthPasskey}, pk, store.PasskeyUse{SignCount: 5, Credential: []byte(`{"use":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	if n := s.WriteTxCount() - before; n != 1 {
		t.Errorf("a passkey sign-in took %d commits, want 1", n)
	}
	if x, _, err := s.Authenticate(tok); err != nil || x.ID != sess.ID || x.Passkey != "Laptop" || x.Auth != store.AuthPasskey {
		t.Errorf("the session: %+v, %v; want signed in with the passkey Laptop", x, err)
	}
	if got, _ := s.UserPasskey(u.ID, pk.ID); got.SignCount != 5 || !got.LastUsedAt.Equal(at) || string(got.Credential) != `{"use":1}` {
		t.Errorf("the passkey after the sign-in: %+v", got)
	}

	_, _, err = s.CreatePasskeySession(u.ID, store.NewSession{Auth: store.AuthPasskey}, pk, store.PasskeyUse{SignCount: 5})
	if !errors.Is(err, store.ErrSignCountBack) {
		t.Fatalf("a counter that did not move: %v, want ErrSignCountBack", err)
	}
	if list, _ := s.ListUserSessions(u.ID); len(list) != 1 {
		t.Errorf("%d sessions after a refused sign-in, want 1", len(list))
	}
	if got := passkeyEvents(t, s, u.ID); got[len(got)-1] != "passkey_refused Laptop" {
		t.Errorf("passkey events %q: want the refusal last", got)
	}

	n := race(t, 16, func() error {
		_, _, err := s.CreatePasskeySession(u.ID, store.NewSession{Auth: store.AuthPasskey}, pk, store.PasskeyUse{SignCount: 6})
		return err
	}, store.ErrSignCountBack)
	if n != 1 {
		t.Errorf("%d of 16 parallel sign-ins with counter 6 signed in, want 1", n)
	}
	if list, _ := s.ListUserSessions(u.ID); len(list) != 2 {
		t.Errorf("%d sessions, want 2", len(list))
	}

	// A passkey removed meanwhile signs nobody in.
	if err := s.RemovePasskey(u.ID, pk.ID, store.Actor{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreatePasskeySession(u.ID, store.NewSession{Auth: store.AuthPasskey}, pk, store.PasskeyUse{SignCount: 7}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a removed passkey: %v, want ErrNotFound", err)
	}
}

// Sign-ins with a user's passkeys, their removal, a rename and a reset,
// all released together, again and again: each ends as one of them
// decided (a sign-in that found its passkey gone or its counter passed,
// a reset that found nothing left), never with a database error such as
// a deadlock between one change's locks and another's.
func testPasskeyChangesInParallel(t *testing.T, open Opener) {
	s, _ := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientStaff)
	for round := range 10 {
		pks := []store.Passkey{
			mustPasskey(t, s, newPasskey(u.ID, "A", 1), store.Actor{}),
			mustPasskey(t, s, newPasskey(u.ID, "B", 1), store.Actor{}),
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		check := func(what string, err error, allowed ...error) {
			for _, a := range allowed {
				if errors.Is(err, a) {
					return
				}
			}
			if err != nil {
				t.Errorf("round %d, %s: %v", round, what, err)
			}
		}
		for i := range 6 {
			pk := pks[i%2]
			wg.Go(func() {
				<-start
				_, _, err := s.CreatePasskeySession(u.ID, store.NewSession{Auth: store.AuthPasskey}, pk, store.PasskeyUse{SignCount: uint32(2 + i)})
				check("a sign-in", err, store.ErrSignCountBack, store.ErrNotFound)
			})
		}
		wg.Go(func() {
			<-start
			check("a removal", s.RemovePasskey(u.ID, pks[1].ID, store.Actor{}), store.ErrNotFound)
		})
		wg.Go(func() {
			<-start
			check("a rename", s.RenamePasskey(u.ID, pks[0].ID, "Renamed"), store.ErrNotFound)
		})
		wg.Go(func() {
			<-start
			check("a confirmation", s.UsePasskey(pks[0], store.PasskeyUse{SignCount: 1}), store.ErrSignCountBack, store.ErrNotFound)
		})
		wg.Go(func() {
			<-start
			_, err := s.ResetTwoStep("", u.ID, store.Actor{})
			check("a reset", err, store.ErrTwoStepOff)
		})
		close(start)
		wg.Wait()
		if left := mustPasskeys(t, s, u.ID); len(left) != 0 {
			t.Fatalf("round %d: %d passkeys after the reset", round, len(left))
		}
	}
}
