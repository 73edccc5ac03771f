package live

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"portal/store"
)

func mustOpen(t *testing.T, h *Hub, user, session string, watch ...string) *Stream {
	t.Helper()
	s, err := h.Open(user, session, watch)
	if err != nil {
		t.Fatalf("Open(%s, %s): %v", user, session, err)
	}
	return s
}

func woken(s *Stream) bool {
	select {
	case <-s.Wake():
		return true
	default:
		return false
	}
}

func closed(s *Stream) bool {
	select {
	case <-s.Done():
		return true
	default:
		return false
	}
}

func TestPublishReachesStreamsShowingTheUser(t *testing.T) {
	h := NewHub(Options{})
	alice1 := mustOpen(t, h, "alice", "a1")
	alice2 := mustOpen(t, h, "alice", "a2")
	bob := mustOpen(t, h, "bob", "b1")
	partner := mustOpen(t, h, "pat", "p1", "alice")

	ended := store.Change{Kind: store.SessionEnded, UserID: "alice", SessionID: "a2", Reason: store.ReasonRevoked}
	h.Publish([]store.Change{ended})
	for name, s := range map[string]*Stream{"alice1": alice1, "alice2": alice2, "partner watching alice": partner} {
		if !woken(s) {
			t.Errorf("%s not woken", name)
		}
		if got, all := s.Take(); all || !slices.Equal(got, []store.Change{ended}) {
			t.Errorf("%s took %v (all=%v)", name, got, all)
		}
	}
	if woken(bob) {
		t.Error("bob woken by alice's change")
	}
	if got, _ := bob.Take(); len(got) != 0 {
		t.Errorf("bob took %v", got)
	}
	// A second Take has nothing; several changes wake once.
	if got, _ := alice1.Take(); len(got) != 0 {
		t.Errorf("second Take: %v", got)
	}
	started := store.Change{Kind: store.SessionStarted, UserID: "bob", SessionID: "b2"}
	h.Publish([]store.Change{started, started})
	if !woken(bob) || woken(bob) {
		t.Error("two changes should leave exactly one wake-up")
	}
	if got, _ := bob.Take(); len(got) != 2 {
		t.Errorf("bob took %v", got)
	}
}

func TestPerUserCapClosesTheOldest(t *testing.T) {
	h := NewHub(Options{MaxPerUser: 3})
	var streams []*Stream
	for i := range 3 {
		streams = append(streams, mustOpen(t, h, "alice", fmt.Sprint("a", i)))
	}
	other := mustOpen(t, h, "bob", "b")
	fourth := mustOpen(t, h, "alice", "a3")
	if !closed(streams[0]) || streams[0].Reason() != Replaced {
		t.Fatalf("oldest stream: closed=%v reason=%v", closed(streams[0]), streams[0].Reason())
	}
	for _, s := range append(streams[1:], other, fourth) {
		if closed(s) {
			t.Fatalf("stream %s closed", s.sessionID)
		}
	}
	if h.Len() != 4 {
		t.Fatalf("Len = %d, want 4", h.Len())
	}
	// The replaced stream hears nothing more; closing it again is harmless.
	h.Publish([]store.Change{{Kind: store.SessionStarted, UserID: "alice", SessionID: "x"}})
	if woken(streams[0]) {
		t.Fatal("a replaced stream was woken")
	}
	streams[0].Close()
	if h.Len() != 4 {
		t.Fatalf("Len after closing a replaced stream = %d, want 4", h.Len())
	}
}

func TestGlobalCapRefusesNewUsersButLetsAUserReplace(t *testing.T) {
	h := NewHub(Options{MaxPerUser: 2, MaxTotal: 3})
	a1 := mustOpen(t, h, "alice", "a1")
	mustOpen(t, h, "alice", "a2")
	b1 := mustOpen(t, h, "bob", "b1")
	if _, err := h.Open("carol", "c1", nil); !errors.Is(err, ErrFull) {
		t.Fatalf("Open beyond MaxTotal: %v, want ErrFull", err)
	}
	// Alice at her own cap replaces her oldest: the total does not grow.
	mustOpen(t, h, "alice", "a3")
	if !closed(a1) || h.Len() != 3 {
		t.Fatalf("replace at the global cap: a1 closed=%v, Len=%d", closed(a1), h.Len())
	}
	b1.Close()
	mustOpen(t, h, "carol", "c1")
}

func TestCloseEndsEveryStreamAndRefusesNew(t *testing.T) {
	h := NewHub(Options{})
	var all []*Stream
	for i := range 50 {
		all = append(all, mustOpen(t, h, fmt.Sprint("user", i%7), fmt.Sprint("s", i), "watched"))
	}
	if n := h.Close(); n != 50 {
		t.Fatalf("Close closed %d, want 50", n)
	}
	for _, s := range all {
		if !closed(s) || s.Reason() != ShuttingDown {
			t.Fatalf("stream %s: closed=%v reason=%v", s.sessionID, closed(s), s.Reason())
		}
	}
	if h.Len() != 0 || len(h.byUser) != 0 || len(h.own) != 0 {
		t.Fatalf("after Close: Len=%d byUser=%d own=%d", h.Len(), len(h.byUser), len(h.own))
	}
	if _, err := h.Open("alice", "late", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Open after Close: %v", err)
	}
}

func TestOverflowAsksForAFullReread(t *testing.T) {
	h := NewHub(Options{})
	s := mustOpen(t, h, "alice", "a1")
	for i := range maxPending + 5 {
		h.Publish([]store.Change{{Kind: store.SessionStarted, UserID: "alice", SessionID: fmt.Sprint(i)}})
	}
	got, all := s.Take()
	if !all || len(got) != 0 {
		t.Fatalf("after %d changes Take = %d changes, all=%v; want none and all", maxPending+5, len(got), all)
	}
	h.Publish([]store.Change{{Kind: store.SessionStarted, UserID: "alice", SessionID: "next"}})
	if got, all := s.Take(); all || len(got) != 1 {
		t.Fatalf("after a full re-read, Take = %v, all=%v", got, all)
	}
}

// ChangesMissed (an instance that could not hear the others for a while)
// wakes every stream, whoever's sessions it shows, to read them all again.
func TestChangesMissedAsksEveryStreamForAFullReread(t *testing.T) {
	h := NewHub(Options{})
	alice := mustOpen(t, h, "alice", "a1")
	bob := mustOpen(t, h, "bob", "b1")
	partner, err := h.Open("pat", "p1", []string{"carol"})
	if err != nil {
		t.Fatal(err)
	}
	h.Publish([]store.Change{{Kind: store.SessionStarted, UserID: "alice", SessionID: "a2"}, {Kind: store.ChangesMissed}})
	for name, s := range map[string]*Stream{"alice": alice, "bob": bob, "pat": partner} {
		select {
		case <-s.Wake():
		default:
			t.Errorf("%s's stream was not woken", name)
		}
		if got, all := s.Take(); !all || len(got) != 0 {
			t.Errorf("%s's stream: Take = %v, all=%v; want a full re-read", name, got, all)
		}
	}
}

// Streams opening, publishing and closing at once, released together,
// leave the hub consistent: every stream accounted for, none leaked.
func TestConcurrentOpenPublishClose(t *testing.T) {
	h := NewHub(Options{MaxPerUser: 4, MaxTotal: 1000})
	const workers = 32
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(workers)
	for w := range workers {
		done.Go(func() {
			ready.Done()
			<-start
			user := fmt.Sprint("user", w%5)
			for i := range 200 {
				s, err := h.Open(user, fmt.Sprint(w, "-", i), []string{fmt.Sprint("user", (w+1)%5)})
				if err != nil {
					t.Error(err)
					return
				}
				h.Publish([]store.Change{{Kind: store.SessionStarted, UserID: fmt.Sprint("user", i%5)}})
				s.Take()
				s.Close()
			}
		})
	}
	ready.Wait()
	close(start)
	done.Wait()
	if h.Len() != 0 || len(h.byUser) != 0 || len(h.own) != 0 {
		t.Fatalf("after every stream closed: Len=%d byUser=%d own=%d", h.Len(), len(h.byUser), len(h.own))
	}
}
