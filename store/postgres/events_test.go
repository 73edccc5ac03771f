package postgres

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"portal/geo"
	"portal/store"
)

// eventsOf returns userID's whole log, newest first.
func eventsOf(tb testing.TB, s *Store, userID string) []store.Event {
	tb.Helper()
	var out []store.Event
	for page := 1; ; page++ {
		p, err := s.UserEvents(userID, store.EventQuery{Page: page})
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, p.Events...)
		if page >= p.Pages {
			return out
		}
	}
}

// TestFailedSignInsGrouped: failures from one network in one 5-minute
// window are one event with a count, across flushes and instances;
// another network, another window or a throttled attempt is another
// event.
func TestFailedSignInsGrouped(t *testing.T) {
	t.Parallel()
	clk := newClock()
	clk.Set(time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC))
	s := mustOpen(t, Options{Now: clk.Now, Policy: testPolicy})
	b := mustOpenURL(t, dbURL(s), Options{Now: clk.Now, Policy: testPolicy})
	u := mustUser(t, s, store.RoleClientStaff)
	here := geo.Place{Network: "203.0.113.0/24", Masked: "203.0.113.x"}
	there := geo.Place{Network: "198.51.100.0/24", Masked: "198.51.100.x"}
	fail := func(on *Store, p geo.Place, throttled bool, n int) {
		for range n {
			on.RecordSignInFailure(u.ID, p, throttled)
			clk.Advance(10 * time.Second)
		}
	}
	flush := func(on *Store) {
		t.Helper()
		before := on.WriteTxCount()
		if _, err := on.FlushLastActive(); err != nil {
			t.Fatal(err)
		}
		if on.WriteTxCount()-before != 1 {
			t.Fatal("a flush of failures took more than one commit")
		}
	}
	fail(s, here, false, 3)
	flush(s)
	fail(s, here, false, 1) // same window, after a flush: merged
	fail(b, here, false, 1) // and from another instance
	fail(s, there, false, 1)
	fail(s, here, true, 4)
	flush(s)
	flush(b)
	clk.Set(time.Date(2025, 3, 14, 10, 5, 0, 0, time.UTC))
	fail(s, here, false, 1) // the next window
	flush(s)
	var got []string
	for _, e := range eventsOf(t, s, u.ID) {
		if e.Kind == store.EventSignInFailed || e.Kind == store.EventSignInThrottled {
			got = append(got, fmt.Sprintf("%s %s %d", e.Kind, e.Place.Masked, e.Count))
		}
	}
	want := []string{"sign_in_failed 203.0.113.x 1", "sign_in_throttled 203.0.113.x 4", "sign_in_failed 198.51.100.x 1", "sign_in_failed 203.0.113.x 5"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("failure events %v, want %v", got, want)
	}
	// An unknown user id is never recorded against anyone, and does not
	// hold up the flush.
	s.RecordSignInFailure("0123456789abcdef0123456789abcdef", here, false)
	flush(s)
	if n := sqlInt(t, s, "SELECT count(*) FROM events WHERE kind = 'sign_in_failed'"); n != 3 {
		t.Fatalf("%d failure events, want 3", n)
	}
	mustCheck(t, s)
}

// Two instances flushing failures of one network and window at the same
// moment write one event between them, with every attempt counted.
func TestFailedSignInsRace(t *testing.T) {
	t.Parallel()
	clk := newClock()
	a := mustOpen(t, Options{Now: clk.Now, Policy: testPolicy})
	b := mustOpenURL(t, dbURL(a), Options{Now: clk.Now, Policy: testPolicy})
	u := mustUser(t, a, store.RoleClientStaff)
	here := geo.Place{Network: "203.0.113.0/24", Masked: "203.0.113.x"}
	const rounds = 20
	for range rounds {
		clk.Advance(store.FailureWindow)
		a.RecordSignInFailure(u.ID, here, false)
		b.RecordSignInFailure(u.ID, here, false)
		b.RecordSignInFailure(u.ID, here, false)
		var wg sync.WaitGroup
		for _, s := range []*Store{a, b} {
			wg.Go(func() {
				if _, err := s.FlushLastActive(); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	all := eventsOf(t, a, u.ID)
	if len(all) != rounds {
		t.Fatalf("%d events, want one per window (%d)", len(all), rounds)
	}
	for _, e := range all {
		if e.Count != 3 {
			t.Errorf("event at %v counts %d attempts, want 3", e.At, e.Count)
		}
	}
}
