package device

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestParseTable(t *testing.T) {
	if len(uaTable) < 60 {
		t.Fatalf("table has %d rows, want at least 60", len(uaTable))
	}
	seen := make(map[string]bool)
	for _, c := range uaTable {
		if seen[c.name] {
			t.Errorf("duplicate row name %q", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			in := Parse(c.ua)
			if got := in.Label(); got != c.label {
				t.Errorf("Label() = %q, want %q (Info %+v)", got, c.label, in)
			}
			if in.Type != c.typ {
				t.Errorf("Type = %q, want %q (Info %+v)", in.Type, c.typ, in)
			}
		})
	}
}

// TestParseFields pins the stored fields that Label does not show (OS
// versions, device names, versions Label hides) for rows of uaTable.
func TestParseFields(t *testing.T) {
	want := map[string]Info{
		"chrome win":                    {"Chrome", "131", "Windows", "", "", Desktop},
		"chrome win7":                   {"Chrome", "109", "Windows", "7", "", Desktop},
		"firefox win8.1":                {"Firefox", "115", "Windows", "8.1", "", Desktop},
		"ie8 xp":                        {"Internet Explorer", "8", "Windows", "XP", "", Desktop},
		"ie11":                          {"Internet Explorer", "11", "Windows", "", "", Desktop},
		"edge legacy":                   {"Edge", "18", "Windows", "", "", Desktop},
		"chrome mac":                    {"Chrome", "131", "macOS", "", "", Desktop},
		"safari mac 17":                 {"Safari", "17", "macOS", "", "", Desktop},
		"chrome chromeos":               {"Chrome", "131", "ChromeOS", "", "", Desktop},
		"chrome android reduced":        {"Chrome", "131", "Android", "", "", Phone},
		"chrome android pixel":          {"Chrome", "116", "Android", "13", "", Phone},
		"chrome android tablet reduced": {"Chrome", "120", "Android", "", "", Tablet},
		"firefox android phone":         {"Firefox", "133", "Android", "14", "", Phone},
		"samsung phone":                 {samsungInternet, "26", "Android", "14", "", Phone},
		"opera mini":                    {"Opera Mini", "36", "Android", "", "", Phone},
		"android stock browser":         {"Android Browser", "", "Android", "4", "", Phone},
		"android webview":               {"In-app browser", "", "Android", "13", "", Phone},
		"safari iphone":                 {"Safari", "17", "iOS", "17", "iPhone", Phone},
		"safari iphone ios26 frozen":    {"Safari", "26", "iOS", "26", "iPhone", Phone},
		"chrome iphone ios26 frozen":    {"Chrome", "140", "iOS", "", "iPhone", Phone},
		"safari iphone ios12":           {"Safari", "12", "iOS", "12", "iPhone", Phone},
		"safari ipad":                   {"Safari", "17", "iPadOS", "17", "iPad", Tablet},
		"chrome ipad":                   {"Chrome", "131", "iPadOS", "17", "iPad", Tablet},
		"safari ipod":                   {"Safari", "15", "iOS", "15", "iPod touch", Phone},
		"ios webview":                   {"In-app browser", "", "iOS", "17", "iPhone", Phone},
		"googlebot smartphone":          {"Googlebot", "", "", "", "", Bot},
		"curl 8":                        {"curl", "8", "", "", "", Bot},
		"go http 1.1":                   {"Go HTTP client", "", "", "", "", Bot},
		"script named bot":              {"", "", "", "", "", Bot},
		"empty":                         {"", "", "", "", "", Other},
		"browser without os":            {"Firefox", "133", "", "", "", Other},
	}
	for _, c := range uaTable {
		w, ok := want[c.name]
		if !ok {
			continue
		}
		delete(want, c.name)
		if got := Parse(c.ua); got != w {
			t.Errorf("%s: Parse = %+v, want %+v", c.name, got, w)
		}
	}
	for name := range want {
		t.Errorf("no table row named %q", name)
	}
}

// TestLabelFromStoredInfo covers Info values read back from storage rather
// than fresh from Parse, including ones Parse would not produce.
func TestLabelFromStoredInfo(t *testing.T) {
	cases := []struct {
		in         Info
		label, typ string
	}{
		{Info{}, "Unknown browser", "Unknown device"},
		{Info{Type: Bot}, "Unknown bot", "Bot or script"},
		{Info{Type: "something new"}, "Unknown browser", "Unknown device"},
		{Info{Browser: "Safari", BrowserVersion: "17", OS: "iOS", Device: "iPhone", Type: Phone}, "Safari on iPhone", "Phone"},
		{Info{Browser: "Safari", BrowserVersion: "17", OS: "iPadOS", Device: "iPad", Type: Tablet}, "Safari on iPad", "Tablet"},
		{Info{Browser: "Firefox", BrowserVersion: "133", OS: "iPadOS", Device: "iPad", Type: Tablet}, "Firefox 133 on iPad", "Tablet"},
		{Info{Browser: samsungInternet, BrowserVersion: "26", OS: "Android", Type: Phone}, "Samsung Internet on Android", "Phone"},
		{Info{Browser: "Chrome", OS: "Linux", Type: Desktop}, "Chrome on Linux", "Desktop computer"},
		{Info{OS: "ChromeOS", Type: Desktop}, "Unknown browser on ChromeOS", "Desktop computer"},
		{Info{Browser: "Googlebot", Type: Bot}, "Googlebot (bot)", "Bot or script"},
		{Info{Browser: "curl", BrowserVersion: "8", Type: Bot}, "curl 8", "Bot or script"},
		{Info{Browser: "Go HTTP client", Type: Bot}, "Go HTTP client", "Bot or script"},
	}
	for _, c := range cases {
		if got := c.in.Label(); got != c.label {
			t.Errorf("%+v.Label() = %q, want %q", c.in, got, c.label)
		}
		if got := c.in.TypeLabel(); got != c.typ {
			t.Errorf("%+v.TypeLabel() = %q, want %q", c.in, got, c.typ)
		}
	}
}

func TestClean(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain kept", chromeWin, chromeWin},
		{"trimmed", "  curl/8.5.0 \t", "curl/8.5.0"},
		{"nul and escape removed", "a\x00b\x1b[0mc\x7fd", "ab[0mcd"},
		{"line breaks become spaces", "a\r\nb\tc", "a  b c"},
		{"unicode spaces become spaces", "a\u0085b\u2028c\u00a0d", "a b c d"},
		{"bidi and zero-width removed", "a\u202eb\u200bc\u2066d\ufeffe", "abcde"},
		{"invalid utf8 dropped", "a\xffb\xc3(c", "ab(c"},
		{"valid utf8 kept", "Ünïcødé 😀", "Ünïcødé 😀"},
		{"only junk", "\x00\xff\t", ""},
		{"cap ascii", strings.Repeat("a", 600), strings.Repeat("a", MaxUALen)},
		{"cap 2-byte rune boundary", "a" + strings.Repeat("é", 400), "a" + strings.Repeat("é", 255)},
		{"cap 4-byte rune boundary", "ab" + strings.Repeat("😀", 200), "ab" + strings.Repeat("😀", 127)},
		{"cap then trim", strings.Repeat("a", 511) + " b", strings.Repeat("a", 511)},
	}
	for _, c := range cases {
		if got := Clean(c.in); got != c.want {
			t.Errorf("%s: Clean = %q (%d bytes), want %q (%d bytes)", c.name, got, len(got), c.want, len(c.want))
		}
	}
	inputs := []string{"\xff" + strings.Repeat("\xbf", 600), strings.Repeat("\u202e", 300)}
	for _, c := range cases {
		inputs = append(inputs, c.in)
	}
	for _, c := range uaTable {
		inputs = append(inputs, c.ua)
	}
	for _, in := range inputs {
		checkClean(t, in)
	}
}

// checkClean asserts the properties every Clean result must have.
func checkClean(t *testing.T, in string) {
	t.Helper()
	out := Clean(in)
	if len(out) > MaxUALen {
		t.Errorf("Clean(%.40q) is %d bytes, over MaxUALen", in, len(out))
	}
	if !utf8.ValidString(out) {
		t.Errorf("Clean(%.40q) = %.40q is not valid UTF-8", in, out)
	}
	if out != strings.TrimSpace(out) {
		t.Errorf("Clean(%.40q) = %.40q is not trimmed", in, out)
	}
	for _, r := range out {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			t.Errorf("Clean(%.40q) keeps control or format character %U", in, r)
		}
	}
	if again := Clean(out); again != out {
		t.Errorf("Clean is not idempotent on %.40q: %.40q then %.40q", in, out, again)
	}
}
