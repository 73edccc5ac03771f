package cli

import (
	"fmt"
	"strings"
	"unicode"
)

// Text for the terminal.

// printable replaces control and format characters (which could move the
// cursor or reorder text on a terminal) so a table shows what is stored.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return '?'
		}
		return r
	}, s)
}

func plural(n int, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %ss", n, one)
}
