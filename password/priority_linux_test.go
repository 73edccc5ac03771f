package password

import (
	"runtime"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// TestLowPriority: the work runs at nice 19 on a thread of its own, the
// caller's thread keeps its priority, and a panic reaches the caller.
func TestLowPriority(t *testing.T) {
	before, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
	if err != nil {
		t.Fatal(err)
	}
	var inside int
	var insideErr error
	LowPriority(func() {
		// Getpriority returns 20 - nice on Linux.
		inside, insideErr = unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid())
	})
	if insideErr != nil || 20-inside != 19 {
		t.Errorf("inside LowPriority: nice %d, %v; want 19", 20-inside, insideErr)
	}
	if after, _ := unix.Getpriority(unix.PRIO_PROCESS, 0); after != before {
		t.Errorf("the process's priority moved from %d to %d", before, after)
	}
	for range 8 {
		LowPriority(func() {})
	}
	// No thread that hashed is handed to other work: every thread the
	// runtime gives out now is at nice 0.
	var wg sync.WaitGroup
	niced := make(chan int, 32)
	for range 32 {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			if p, err := unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid()); err == nil && 20-p != 0 {
				niced <- 20 - p
			}
		})
	}
	wg.Wait()
	close(niced)
	for n := range niced {
		t.Errorf("a thread at nice %d ran other work", n)
	}

	defer func() {
		if r := recover(); r != "boom" {
			t.Errorf("recovered %v, want the work's panic", r)
		}
	}()
	LowPriority(func() { panic("boom") })
}
