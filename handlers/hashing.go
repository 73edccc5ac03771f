package handlers

import (
	"fmt"
	"runtime"
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/password"
)

// Every password hash (sign-in, password change) goes through one gate:
// as many at once as there are CPUs (at least 2), a few more callers
// waiting up to busyWait for a slot, and everyone else answered at once
// with 503 and Retry-After. argon2id holds 19 MiB per hash, so this bounds
// the memory sign-ins can take, and bounds how long other requests wait
// for a CPU.
//
// A flood must not keep real users out, and a 503 costs its sender
// nothing, so:
//   - a sign-in for an email with no account takes no slot: it waits as
//     long as a check takes now (password.NoUserDelay) and is refused
//     exactly when a check would have been (login.go);
//   - a browser with a valid device cookie for the account it signs in to
//     has reservedSlots of its own, with its own waiting room;
//   - only one request per network waits at a time.
const (
	hashWaitersPerSlot = 4
	reservedSlots      = 1
	busyWait           = 2 * time.Second
	busyRetry          = 2 * time.Second
)

const errBusyText = "The portal is busy checking other sign-ins. Try again in a few seconds."

func hashSlots() int { return max(2, runtime.GOMAXPROCS(0)) }

// NewPasswordGate is the gate New makes when Config.PasswordGate is nil,
// for a server that hashes passwords elsewhere too (operator commands run
// over the admin socket) and must share it.
func NewPasswordGate() *password.Gate { return newHashGate() }

func newHashGate() *password.Gate {
	return password.NewGate(hashSlots(), hashSlots()*hashWaitersPerSlot, busyWait).
		WithReserved(reservedSlots, reservedSlots*hashWaitersPerSlot)
}

// hashing runs fn, which hashes a password, inside the gate as who, or
// returns password.ErrBusy without running it. A hash that runs alone
// runs as everything else does: a sign-in on a machine busy with other
// work is not held back. One that runs beside others (many sign-ins at
// once, a flood) runs below everything else (password.LowPriority), so
// that pages and passkey sign-ins keep the CPU.
func (h *handler) hashing(who password.Caller, fn func()) error {
	release, err := h.hashGate.EnterAs(who)
	if err != nil {
		return err
	}
	defer release()
	if h.hashGate.Running() == 1 {
		fn() // alone: at the priority of everything else
	} else {
		password.LowPriority(fn)
	}
	return nil
}

// retryAfter tells the client how long to wait, in whole seconds.
func retryAfter(c *fiber.Ctx, d time.Duration) {
	c.Set(fiber.HeaderRetryAfter, fmt.Sprint(int((d+time.Second-1)/time.Second)))
}
