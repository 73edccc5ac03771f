package handlers

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"portal/password"
)

// TestHashPriority: a hash that runs alone runs at the priority of
// everything else (a sign-in on a machine busy with other work is not
// held back); one that runs beside another runs at nice 19, below pages
// and passkey sign-ins.
func TestHashPriority(t *testing.T) {
	gate := password.NewGate(2, 0, time.Second)
	h := &handler{hashGate: gate}
	niceOf := func() int {
		nice := -1
		if err := h.hashing(password.Caller{}, func() {
			p, err := unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid())
			if err == nil {
				nice = 20 - p // Getpriority answers 20 - nice
			}
		}); err != nil {
			t.Fatal(err)
		}
		return nice
	}
	if got := niceOf(); got != 0 {
		t.Errorf("a hash alone ran at nice %d, want 0", got)
	}
	release, err := gate.Enter() // another hash is running
	if err != nil {
		t.Fatal(err)
	}
	if got := niceOf(); got != 19 {
		t.Errorf("a hash beside another ran at nice %d, want 19", got)
	}
	release()
	if got := niceOf(); got != 0 {
		t.Errorf("alone again: nice %d, want 0", got)
	}
}
