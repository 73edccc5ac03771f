package handlers

import (
	"fmt"
	"runtime"
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/password"
)

// Every password hash (sign-in, the dummy hash for unknown emails,
// password change) goes through one gate: as many at once as there are
// CPUs (at least 2), a few more callers waiting up to busyWait for a slot,
// and everyone else answered at once with 503 and Retry-After. argon2id
// holds 19 MiB per hash, so this bounds the memory sign-ins can take, and
// bounds how long other requests wait for a CPU.
const (
	hashWaitersPerSlot = 4
	busyWait           = 2 * time.Second
	busyRetry          = 2 * time.Second
)

const errBusyText = "The portal is busy checking other sign-ins. Try again in a few seconds."

func hashSlots() int { return max(2, runtime.GOMAXPROCS(0)) }

func newHashGate() *password.Gate {
	return password.NewGate(hashSlots(), hashSlots()*hashWaitersPerSlot, busyWait)
}

// hashing runs fn, which hashes a password, inside the gate, or returns
// password.ErrBusy without running it.
func (h *handler) hashing(fn func()) error {
	release, err := h.hashGate.Enter()
	if err != nil {
		return err
	}
	defer release()
	fn()
	return nil
}

// retryAfter tells the client how long to wait, in whole seconds.
func retryAfter(c *fiber.Ctx, d time.Duration) {
	c.Set(fiber.HeaderRetryAfter, fmt.Sprint(int((d+time.Second-1)/time.Second)))
}
