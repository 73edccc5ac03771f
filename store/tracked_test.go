package store

import (
	"testing"
	"time"

	"portal/geo"
)

func TestTrackedTouch(t *testing.T) {
	e := NewTracked(Session{LastActive: t0})
	if !e.Touch(t0.Add(time.Second)) {
		t.Error("first touch did not report the entry newly dirty")
	}
	if e.Touch(t0.Add(2 * time.Second)) {
		t.Error("second touch reported the entry newly dirty again")
	}
	e.Touch(t0.Add(time.Second)) // older: must not move last-active back
	if got := e.Snapshot().LastActive; !got.Equal(t0.Add(2 * time.Second)) {
		t.Errorf("LastActive %v, want %v", got, t0.Add(2*time.Second))
	}
	e.Flushing()
	if !e.Touch(t0.Add(3 * time.Second)) {
		t.Error("touch after a flush did not re-queue the entry")
	}
}

// MergeInto gives a session read from the database what was seen and not
// yet flushed; a revoked session keeps the network and browser it had.
func TestTrackedMergeInto(t *testing.T) {
	here := geo.Place{Network: "203.0.113.0/24", Masked: "203.0.113.x"}
	e := NewTracked(Session{LastActive: t0})
	e.Touch(t0.Add(time.Minute))
	e.SeenFrom(here)
	e.SeenWith(Agent{UserAgent: "new browser"})
	for _, tc := range []struct {
		name string
		in   Session
		want Session
	}{
		{"live, stored earlier", Session{LastActive: t0}, Session{LastActive: t0.Add(time.Minute), LastPlace: here, UserAgent: "new browser"}},
		{"live, stored later", Session{LastActive: t0.Add(time.Hour)}, Session{LastActive: t0.Add(time.Hour), LastPlace: here, UserAgent: "new browser"}},
		{"revoked", Session{LastActive: t0, EndedAt: t0.Add(time.Second)}, Session{LastActive: t0.Add(time.Minute), EndedAt: t0.Add(time.Second)}},
	} {
		got := tc.in
		e.MergeInto(&got)
		if !got.LastActive.Equal(tc.want.LastActive) || got.LastPlace != tc.want.LastPlace || got.UserAgent != tc.want.UserAgent {
			t.Errorf("%s: merged %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
