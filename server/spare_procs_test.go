package server

import (
	"runtime"
	"testing"

	"portal/handlers"
	"portal/password"
)

// TestSpareProcs: while serving, the runtime has one more P for each hash
// that can run at once (hashes run at the lowest priority but hold a P),
// and gets its count back after.
func TestSpareProcs(t *testing.T) {
	if !password.LowersPriority {
		t.Skip("hashes run at normal priority on this system")
	}
	s := &Server{hashGate: handlers.NewPasswordGate()}
	before := runtime.GOMAXPROCS(0)
	restore := s.spareProcs()
	if got, want := runtime.GOMAXPROCS(0), before+s.hashGate.Slots(); got != want {
		t.Errorf("GOMAXPROCS while serving: %d, want %d", got, want)
	}
	restore()
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Errorf("GOMAXPROCS after: %d, want %d", got, before)
	}
}
