//go:build !linux

package password

// LowersPriority says whether LowPriority runs its work below everything
// else here: not on this system.
const LowersPriority = false

// LowPriority runs fn: thread priorities are Linux's only here.
func LowPriority(fn func()) { fn() }
