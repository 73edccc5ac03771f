package device

import "strings"

// parsePlatform fills OS, OSVersion, Device and Type from the platform
// comment. Order matters: iOS UAs also say "like Mac OS X", iPods say
// "iPhone OS", Android UAs say "Linux".
func parsePlatform(s string, in *Info) {
	c := firstComment(s)
	switch {
	case strings.Contains(c, "iPad"):
		in.OS, in.Device, in.Type = "iPadOS", "iPad", Tablet
		in.OSVersion = iosVersion(s, c)
	case strings.Contains(c, "iPod"): // before iPhone: "iPod touch; CPU iPhone OS"
		in.OS, in.Device, in.Type = "iOS", "iPod touch", Phone
		in.OSVersion = iosVersion(s, c)
	case strings.Contains(c, "iPhone"):
		in.OS, in.Device, in.Type = "iOS", "iPhone", Phone
		in.OSVersion = iosVersion(s, c)
	case has(c, "Android"):
		in.OS = "Android"
		in.OSVersion = androidVersion(c)
		// Android has no tablet token: phones say "Mobile" (Chrome's
		// "Mobile Safari", Firefox's "; Mobile;") and tablets do not.
		// Opera Mini never says it but only runs on phones.
		in.Type = Tablet
		if has(s, "Mobile") || has(s, "Opera Mini") {
			in.Type = Phone
		}
	case has(c, "CrOS"):
		in.OS, in.Type = "ChromeOS", Desktop
	case has(c, "Windows"):
		in.OS, in.Type = "Windows", Desktop
		in.OSVersion = windowsVersion(c)
	case has(c, "Macintosh") || has(c, "Mac OS X"):
		// macOS is frozen at 10_15_7 in every current browser, so no version.
		// iPadOS in its default desktop mode sends exactly this UA too: it
		// cannot be told apart and reads as macOS.
		in.OS, in.Type = "macOS", Desktop
	case has(c, "Linux") || has(c, "Ubuntu") || has(c, "Fedora"):
		in.OS, in.Type = "Linux", Desktop
	case has(c, "FreeBSD"):
		in.OS, in.Type = "FreeBSD", Desktop
	case has(c, "OpenBSD"):
		in.OS, in.Type = "OpenBSD", Desktop
	default:
		in.Type = Other
	}
	// TVs and consoles run desktop or Android platforms underneath; Type
	// has no word for them, and "Desktop computer" would be wrong.
	// Chromecast puts its token after the comment.
	if has(s, "CrKey/") {
		in.Type = Other
	}
	for _, tok := range bigScreens {
		if has(c, tok) {
			in.Type = Other
			break
		}
	}
}

// bigScreens are platform-comment tokens of TVs and consoles ("AFT" begins
// every Fire TV model name).
var bigScreens = []string{"SMART-TV", "SmartTV", "Tizen", "Web0S", "webOS", "AFT", "Xbox", "PlayStation", "Nintendo"}

// androidVersion reads "Android 14" as "14". Chrome's reduced UA always
// claims "Android 10; K" whatever the real version, so that pair is
// reported as unknown.
func androidVersion(c string) string {
	j := after(c, "Android ")
	if j < 0 {
		return ""
	}
	v := major(c[j:])
	if v == "10" && commentHas(c, "K") {
		return ""
	}
	return v
}

// iosVersion reads "CPU iPhone OS 17_5" or "CPU OS 17_5" as "17". Since
// iOS 26 WebKit freezes that token at 18_6, so 18_6 is only trusted when
// Safari's own Version/ (which tracks the OS) confirms it; Version/ wins
// when present, and without it 18_6 is reported as unknown.
func iosVersion(s, c string) string {
	j := strings.Index(c, "OS ")
	if j < 0 {
		return ""
	}
	tok := c[j+3:]
	v := major(tok)
	if strings.HasPrefix(tok, "18_6") && (len(tok) == 4 || tok[4] == ' ') {
		if sv, ok := versionAfter(s, "Version/"); ok {
			return sv
		}
		return ""
	}
	return v
}

// windowsVersion names pre-10 releases from their NT number. "Windows NT
// 10.0" is sent by both Windows 10 and 11, so it yields "".
func windowsVersion(c string) string {
	j := after(c, "Windows NT ")
	if j < 0 {
		return ""
	}
	nt := c[j:]
	if k := strings.IndexAny(nt, "; "); k >= 0 {
		nt = nt[:k]
	}
	switch nt {
	case "6.3":
		return "8.1"
	case "6.2":
		return "8"
	case "6.1":
		return "7"
	case "6.0":
		return "Vista"
	case "5.1", "5.2":
		return "XP"
	}
	return ""
}
