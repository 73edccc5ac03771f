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
// has no priorities, so the kernel's are used. A thread cannot raise its
// priority back without privileges, so it is never reused: the goroutine
// ends locked to it, and the runtime ends the thread with it. Starting a
// thread costs tens of microseconds against a hash's tens of
// milliseconds. A panic in fn is raised again in the caller.
func LowPriority(fn func()) {
	var panicked any
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { panicked = recover() }()
		runtime.LockOSThread() // never unlocked: see above
		// Best effort: if the kernel refuses, the hash runs as before.
		_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), 19)
		fn()
	}()
	<-done
	if panicked != nil {
		panic(panicked)
	}
}
