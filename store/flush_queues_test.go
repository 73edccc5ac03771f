package store

import (
	"fmt"
	"testing"
	"time"

	"portal/geo"
)

// Past MaxFailureNetworks networks in one window, a user's failures are
// one group that counts the rest, each network once.
func TestFailureQueueFolds(t *testing.T) {
	var q FailureQueue
	for i := range 25 {
		q.add("u", geo.Place{Network: fmt.Sprintf("10.0.%d.0/24", i)}, EventSignInFailed, t0.Add(time.Duration(i)*time.Second))
	}
	q.add("u", geo.Place{Network: "10.0.20.0/24"}, EventSignInFailed, t0.Add(time.Minute)) // folded already: counted once
	q.add("u", geo.Place{Network: "10.0.3.0/24"}, EventSignInFailed, t0.Add(time.Minute))  // has its own group
	q.add("other", geo.Place{Network: "10.0.20.0/24"}, EventSignInFailed, t0)              // another user's own
	var single, folded, attempts, networks int
	for _, g := range q.Take() {
		if g.UserID != "u" {
			continue
		}
		attempts += g.Count
		if g.Networks > 0 {
			folded++
			networks += g.Networks
			if g.Place != (geo.Place{}) {
				t.Errorf("the folded group names a place: %+v", g.Place)
			}
		} else {
			single++
			networks++
		}
	}
	if single != MaxFailureNetworks || folded != 1 || attempts != 27 || networks != 25 {
		t.Errorf("%d single groups, %d folded, %d attempts from %d networks; want %d, 1, 27 from 25", single, folded, attempts, networks, MaxFailureNetworks)
	}
}

func TestPlaceFailure(t *testing.T) {
	one := func(n string) Event { return Event{Kind: EventSignInFailed, Place: geo.Place{Network: n}, Count: 1} }
	full := make([]Event, MaxFailureNetworks)
	for i := range full {
		full[i] = one(fmt.Sprintf("n%d", i))
	}
	withFolded := append(append([]Event(nil), full...), Event{Kind: EventSignInFailed, Count: 9, Networks: 9})
	for _, tc := range []struct {
		name       string
		window     []Event
		network    string
		networks   int
		want       int
		wantFolded bool
	}{
		{"empty window: a new event", nil, "a", 0, -1, false},
		{"same network: merged", full, "n3", 0, 3, false},
		{"a new network while there is room", full[:3], "a", 0, -1, false},
		{"a new network past the bound: a folded event", full, "a", 0, -1, true},
		{"a new network past the bound: into the folded event", withFolded, "a", 0, MaxFailureNetworks, true},
		{"a folded group: into the folded event", withFolded, "", 5, MaxFailureNetworks, true},
		{"a folded group, no folded event yet", full[:2], "", 5, -1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &FailureGroup{Kind: EventSignInFailed, Place: geo.Place{Network: tc.network}, Count: 1, Networks: tc.networks}
			if got := PlaceFailure(tc.window, g); got != tc.want {
				t.Errorf("PlaceFailure = %d, want %d", got, tc.want)
			}
			if folded := g.Networks > 0; folded != tc.wantFolded {
				t.Errorf("group folded = %v, want %v", folded, tc.wantFolded)
			}
		})
	}
}
