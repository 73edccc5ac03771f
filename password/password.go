// Package password hashes and verifies passwords with argon2id, using the
// OWASP Password Storage Cheat Sheet's minimum parameters.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
)

// OWASP's recommended argon2id minimum: 19 MiB of memory, 2 passes, 1 lane.
const (
	memoryKiB = 19456
	passes    = 2
	lanes     = 1
	keyLen    = 32
	saltLen   = 16
)

// MaxLen bounds what is hashed, so a huge password cannot tie up the CPU.
const MaxLen = 1024

// MinLen is the shortest new password accepted.
const MinLen = 12

// ErrTooLong is returned for passwords longer than MaxLen bytes.
var ErrTooLong = errors.New("password: longer than 1024 bytes")

// Hash returns the PHC-format argon2id hash of pw with a fresh salt.
func Hash(pw string) (string, error) {
	if len(pw) > MaxLen {
		return "", ErrTooLong
	}
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, passes, memoryKiB, lanes, keyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memoryKiB, passes, lanes, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// Verify reports whether pw matches encoded, in constant time with respect
// to the key. A malformed hash never matches.
func Verify(encoded, pw string) bool {
	if len(pw) > MaxLen {
		return false
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<20 || t == 0 || t > 16 || p == 0 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 64 {
		return false
	}
	start := time.Now()
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	if m == memoryKiB && t == passes && p == lanes {
		took.record(time.Since(start))
	}
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummy is a valid hash of a random password, verified against when the
// user does not exist so that the response takes as long as a real check.
// Verifying it once also gives NoUserDelay its first measure.
var dummy = func() string {
	b := make([]byte, 16)
	rand.Read(b)
	h, _ := Hash(base64.RawStdEncoding.EncodeToString(b))
	Verify(h, "")
	return h
}()

// VerifyNoUser spends the same time as Verify and always fails, by
// hashing. NoUserDelay says how long to wait instead, without hashing.
func VerifyNoUser(pw string) bool {
	Verify(dummy, pw)
	return false
}

// took keeps how long the latest checks of passwords with this package's
// parameters took.
var took = &durations{}

// NoUserDelay is how long a check of a password takes now: one of the
// latest checks' durations, chosen at random, so that waiting it out
// instead of hashing (for an email that has no account) takes as long, and
// varies as much, as a real check under the same load.
func NoUserDelay() time.Duration { return took.sample() }

// durations is a ring of the latest measures.
type durations struct {
	mu   sync.Mutex
	ring [16]time.Duration // few, so they follow the load
	n    int               // measures recorded, ever
}

func (d *durations) record(x time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ring[d.n%len(d.ring)] = x
	d.n++
}

func (d *durations) sample() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n == 0 {
		return 0
	}
	return d.ring[mrand.IntN(min(d.n, len(d.ring)))]
}

// Check reports what is wrong with a proposed new password, or "" if it is
// acceptable. Rules follow NIST SP 800-63B: length, not composition.
func Check(pw string) string {
	switch n := len([]rune(pw)); {
	case n < MinLen:
		return fmt.Sprintf("Use at least %d characters.", MinLen)
	case len(pw) > MaxLen:
		return "Use at most 1024 characters."
	}
	return ""
}
