package device

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Type is the broad kind of client, chosen for the icon shown beside a
// session. It is stored as text, so the values must never change.
type Type string

// The device types. Command-line tools and HTTP libraries count as Bot:
// in a list of sessions the useful fact is "no person with a browser".
const (
	Desktop Type = "desktop"
	Phone   Type = "phone"
	Tablet  Type = "tablet"
	Bot     Type = "bot"
	Other   Type = "other"
)

// Info is the parsed, storable description of a browser/device.
// Every field is plain text chosen by this package, never copied from the
// request except for sanitised version digits and bot names.
// Sessions store it as JSON under these names, so they must never change.
type Info struct {
	Browser        string `json:"browser,omitempty"`         // "Chrome", "Firefox", "Safari", "Edge", "Opera", "Samsung Internet", "Brave", "Vivaldi", "curl", "Googlebot", ... or "" when unknown
	BrowserVersion string `json:"browser_version,omitempty"` // major version only, "133"; "" when unknown/unreliable
	OS             string `json:"os,omitempty"`              // "Windows", "macOS", "Linux", "ChromeOS", "Android", "iOS", "iPadOS", "FreeBSD", or ""
	OSVersion      string `json:"os_version,omitempty"`      // only where reliable (e.g. Android "14", iOS "17", Windows "7"); else ""
	Device         string `json:"name,omitempty"`            // human device name where it is the natural word: "iPhone", "iPad", "iPod touch"; "" otherwise
	Type           Type   `json:"type,omitempty"`
}

// MaxUALen is the most of a User-Agent that is kept or looked at, in bytes.
// Real UAs are under 300 bytes; anything longer is padding or an attack.
const MaxUALen = 512

// Clean returns the User-Agent to store for support staff: cut to at most
// MaxUALen bytes at a rune boundary, invalid UTF-8 dropped, control and
// format characters (including bidi overrides, which can disguise text)
// removed, every kind of whitespace (tab, newline, NBSP, ...) turned into
// a plain space so tokens stay apart, and trimmed. Clean(Clean(s)) == Clean(s).
func Clean(ua string) string {
	// Cut first so the work done is bounded whatever the input size.
	if len(ua) > MaxUALen {
		i := MaxUALen
		for i > MaxUALen-utf8.UTFMax && !utf8.RuneStart(ua[i]) {
			i--
		}
		ua = ua[:i]
	}
	if isPlain(ua) {
		return strings.TrimSpace(ua)
	}
	var b strings.Builder
	b.Grow(len(ua))
	for i := 0; i < len(ua); {
		r, size := utf8.DecodeRuneInString(ua[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			// Invalid byte: dropped rather than replaced, so that
			// garbage does not turn into visible U+FFFD noise.
		case unicode.IsSpace(r):
			b.WriteByte(' ')
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
		default:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}

// isPlain reports whether s is printable ASCII, the case for nearly every
// real UA, so Clean can skip rebuilding it.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// Parse describes the client behind a User-Agent. It never panics and
// works on Clean(ua), so at most MaxUALen bytes are looked at. An empty or
// unrecognisable UA gives Info{Type: Other}, which labels as "Unknown
// browser".
func Parse(ua string) Info {
	s := Clean(ua)
	if s == "" {
		return Info{Type: Other}
	}
	if in, ok := parseBot(s); ok {
		return in
	}
	var in Info
	parsePlatform(s, &in)
	parseBrowser(s, &in)
	return in
}
