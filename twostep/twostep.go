// Package twostep is the second step of signing in, apart from storage:
// authenticator-app codes (RFC 6238 through github.com/pquerna/otp: SHA-1,
// 6 digits, 30 s, one step of drift either way), recovery codes, and the
// QR code a phone scans. Which codes were used is the store's (it accepts
// each time step once); this package only says which steps a code is of.
package twostep

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Issuer names the portal in authenticator apps.
const Issuer = "AiDial portal"

// period, digits and drift are RFC 6238's defaults, which every app
// understands.
const (
	period = 30 * time.Second
	drift  = 1 // steps either way
)

var opts = totp.ValidateOpts{Period: uint(period / time.Second), Skew: 0, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Key is a new authenticator-app secret for account (the user's email).
type Key struct {
	Secret []byte // 20 random bytes, as the store keeps them (sealed)
	URL    string // otpauth://totp/…, what the QR code holds
}

// NewKey makes a new secret for account.
func NewKey(account string) (Key, error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: Issuer, AccountName: account, Period: opts.Period, Digits: opts.Digits, Algorithm: opts.Algorithm})
	if err != nil {
		return Key{}, fmt.Errorf("twostep: new key: %w", err)
	}
	secret, err := b32.DecodeString(k.Secret())
	if err != nil {
		return Key{}, fmt.Errorf("twostep: new key: %w", err)
	}
	return Key{Secret: secret, URL: k.URL()}, nil
}

// KeyFor is the key of an existing secret, for showing it again during
// setup (the secret travels sealed in the setup form).
func KeyFor(account string, secret []byte) (Key, error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: Issuer, AccountName: account, Secret: secret, Period: opts.Period, Digits: opts.Digits, Algorithm: opts.Algorithm})
	if err != nil {
		return Key{}, fmt.Errorf("twostep: key: %w", err)
	}
	return Key{Secret: secret, URL: k.URL()}, nil
}

// Text is the secret as a person types it into an app: base32 in groups
// of four.
func Text(secret []byte) string {
	s := b32.EncodeToString(secret)
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// QR is the key's QR code as a PNG data: URI (the page's
// Content-Security-Policy allows data: images; no outside service sees
// the secret).
func (k Key) QR(size int) (string, error) {
	key, err := otp.NewKeyFromURL(k.URL)
	if err != nil {
		return "", fmt.Errorf("twostep: QR code: %w", err)
	}
	img, err := key.Image(size, size)
	if err != nil {
		return "", fmt.Errorf("twostep: QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", fmt.Errorf("twostep: QR code: %w", err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// Step is the time step of t.
func Step(t time.Time) int64 { return t.Unix() / int64(period/time.Second) }

// Code is the code of secret at t: for the demo's second-step page and
// for tests.
func Code(secret []byte, t time.Time) string {
	code, err := totp.GenerateCodeCustom(b32.EncodeToString(secret), t, opts)
	if err != nil {
		panic(err) // only for a malformed secret, which b32 never makes
	}
	return code
}

// WellFormed reports whether code is six digits (what a person typed, with
// spaces removed by Clean).
func WellFormed(code string) bool {
	if len(code) != 6 {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// Clean is a code as typed, without spaces.
func Clean(code string) string { return strings.ReplaceAll(strings.TrimSpace(code), " ", "") }

// Steps are the time steps within the drift of now whose code is code,
// latest first. Adjacent steps can share a code, so all are returned: the
// caller asks the store to accept the latest one not yet used.
func Steps(secret []byte, code string, now time.Time) []int64 {
	if !WellFormed(code) {
		return nil
	}
	var out []int64
	for d := drift; d >= -drift; d-- {
		t := now.Add(time.Duration(d) * period)
		if subtle.ConstantTimeCompare([]byte(Code(secret, t)), []byte(code)) == 1 {
			out = append(out, Step(t))
		}
	}
	return out
}

// RecoveryCodes is a new set of n recovery codes: 80 random bits each,
// written as four groups of four base32 letters and digits
// ("7KQ2-M4XD-PT9A-W3CF").
func RecoveryCodes(n int) []string {
	out := make([]string, n)
	for i := range out {
		var b [10]byte
		rand.Read(b[:])
		s := b32.EncodeToString(b[:])
		out[i] = s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
	}
	return out
}
