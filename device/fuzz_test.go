package device

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParse(f *testing.F) {
	for _, c := range uaTable {
		f.Add(c.ua)
	}
	f.Fuzz(func(t *testing.T, ua string) {
		in := Parse(ua)
		label := in.Label()
		if label == "" || !utf8.ValidString(label) || len(label) >= 100 {
			t.Fatalf("Label() = %q for %q: want non-empty valid UTF-8 under 100 bytes", label, ua)
		}
		// Labels go into HTML and screen readers: nothing markup-like,
		// whatever the UA smuggled in.
		if strings.ContainsAny(label, "<>&\"'`") {
			t.Fatalf("Label() = %q for %q contains markup characters", label, ua)
		}
		if len(ua) > 40 && strings.Contains(label, ua) {
			t.Fatalf("Label() = %q repeats the raw input", label)
		}
		if in.TypeLabel() == "" {
			t.Fatalf("TypeLabel() empty for %q", ua)
		}
		switch in.Type {
		case Desktop, Phone, Tablet, Bot, Other:
		default:
			t.Fatalf("Type = %q for %q", in.Type, ua)
		}
		for _, f := range []string{in.Browser, in.BrowserVersion, in.OS, in.OSVersion, in.Device} {
			if len(f) > maxBotName || !utf8.ValidString(f) {
				t.Fatalf("field %q of %+v for %q: want valid UTF-8 of at most %d bytes", f, in, ua, maxBotName)
			}
		}
		if again := Parse(Clean(ua)); again != in {
			t.Fatalf("Parse(Clean(ua)) = %+v, Parse(ua) = %+v", again, in)
		}
		checkClean(t, ua)
	})
}

// benchUAs are representative of real traffic plus the worst case, a
// maximal junk UA (only MaxUALen bytes of it are ever read).
var benchUAs = []struct{ name, ua string }{
	{"ChromeWindows", chromeWin},
	{"SafariIPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1"},
	{"SamsungAndroid", "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36"},
	{"FirefoxLinux", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
	{"Googlebot", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"},
	{"Curl", "curl/8.5.0"},
	{"Junk10KB", strings.Repeat("\x01é", 5000)},
}

func BenchmarkParse(b *testing.B) {
	for _, u := range benchUAs {
		b.Run(u.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Parse(u.ua)
			}
		})
	}
}

func BenchmarkLabel(b *testing.B) {
	in := Parse(chromeWin)
	b.ReportAllocs()
	for b.Loop() {
		_ = in.Label()
	}
}
