package device

import "strings"

// after returns the index just past the first occurrence of tok in s that
// starts a word, or -1. "Starts a word" means s begins there or the byte
// before is not a letter or digit, so that "Chrome/" does not match inside
// "HeadlessChrome/" and "curl/" does not match inside "libcurl/".
func after(s, tok string) int {
	for off := 0; off <= len(s); {
		i := strings.Index(s[off:], tok)
		if i < 0 {
			return -1
		}
		i += off
		if i == 0 || !isAlnum(s[i-1]) {
			return i + len(tok)
		}
		off = i + 1
	}
	return -1
}

func has(s, tok string) bool { return after(s, tok) >= 0 }

// versionAfter reports whether tok occurs (see after) and the major version
// that directly follows it.
func versionAfter(s, tok string) (string, bool) {
	j := after(s, tok)
	if j < 0 {
		return "", false
	}
	return major(s[j:]), true
}

// major returns the leading digits of s: 1 to 4 of them, since no real
// major version is longer and longer runs are junk that a label must not
// repeat. Anything else yields "".
func major(s string) string {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	if n == 0 || n > 4 {
		return ""
	}
	return s[:n]
}

// firstComment returns the inside of the first parenthesised group, where
// browsers put their platform ("Windows NT 10.0; Win64; x64"). An unclosed
// group (a UA cut at MaxUALen) runs to the end.
func firstComment(s string) string {
	i := strings.IndexByte(s, '(')
	if i < 0 {
		return ""
	}
	s = s[i+1:]
	if j := strings.IndexByte(s, ')'); j >= 0 {
		s = s[:j]
	}
	return s
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// hasFold reports whether s contains sub, ignoring ASCII case, without
// allocating a lowered copy.
func hasFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
