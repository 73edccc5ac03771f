package password

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// LowersPriority says whether LowPriority runs its work below everything
// else here (Linux: nice 19 on a thread of its own).
const LowersPriority = true

// LowPriority runs fn, a password hash, on an OS thread of its own at
// the lowest CPU priority (nice 19), and waits for it. A memory-hard hash
// is meant to be slow; a flood of them must not slow everything else
// (passkey sign-ins, pages) that shares the CPUs, and the Go scheduler
// has no priorities, so the kernel's are used.
//
// The thread is handed back at its old priority when the process may
// raise it again (root, or RLIMIT_NICE); when it may not, the goroutine
// ends locked to the thread and the runtime ends the thread with it, so
// that no other work ever runs at nice 19 (a new thread costs tens of
// microseconds against a hash's tens of milliseconds). A panic in fn is
// raised again in the caller.
func LowPriority(fn func()) {
	var panicked any
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		tid := unix.Gettid()
		before, err := unix.Getpriority(unix.PRIO_PROCESS, tid) // 20 - nice
		lowered := err == nil && unix.Setpriority(unix.PRIO_PROCESS, tid, 19) == nil
		func() {
			defer func() { panicked = recover() }()
			fn()
		}()
		if !lowered || unix.Setpriority(unix.PRIO_PROCESS, tid, 20-before) == nil {
			runtime.UnlockOSThread()
		}
	}()
	<-done
	if panicked != nil {
		panic(panicked)
	}
}
