package device

import "strings"

const samsungInternet = "Samsung Internet"

// rule maps a product token to a browser name. Most browsers built on
// Chrome, Safari or Firefox keep their parent's token and add their own, so
// the rules run from the most specific token to the most generic one and
// the first hit wins.
type rule struct {
	token   string
	name    string
	version bool // whether the number after token is the browser's own major version
}

// brandRules name apps and browsers that add a token of their own. In-app
// browsers carry the app's build number, which means nothing to a person,
// so they get no version.
var brandRules = []rule{
	{"FBAN/", "Facebook", false},
	{"FBAV/", "Facebook", false},
	{"FB_IAB/", "Facebook", false},
	{"Instagram ", "Instagram", false},
	{"GSA/", "Google app", false},
	{"EdgA/", "Edge", true},
	{"EdgiOS/", "Edge", true},
	{"Edg/", "Edge", true},
	{"Edge/", "Edge", true}, // pre-Chromium Edge
	{"Opera Mini/", "Opera Mini", true},
	{"OPR/", "Opera", true},
	{"OPiOS/", "Opera", true},
	{"SamsungBrowser/", samsungInternet, true},
	{"YaBrowser/", "Yandex Browser", true},
	{"Vivaldi/", "Vivaldi", true},
	// Brave normally sends Chrome's exact UA (on purpose, against
	// fingerprinting) and then reads as Chrome; only some old builds
	// named themselves, with or without a number.
	{"Brave/", "Brave", true},
	{"Brave ", "Brave", false},
	{"DuckDuckGo/", "DuckDuckGo", true},
	{"Ddg/", "DuckDuckGo", true},
	{"Silk/", "Amazon Silk", true},
	{"UCBrowser/", "UC Browser", true},
	{"HuaweiBrowser/", "Huawei Browser", true},
	{"MiuiBrowser/", "Mi Browser", true},
	// Chrome and Firefox on iOS are Safari underneath, with their own token.
	{"CriOS/", "Chrome", true},
	{"FxiOS/", "Firefox", true},
}

// engineRules come after brands and the WebView check, because every
// Chromium browser also says Chrome/ and many say Safari/.
var engineRules = []rule{
	{"Chromium/", "Chromium", true},
	{"Chrome/", "Chrome", true},
	{"Firefox/", "Firefox", true},
	{"MSIE ", "Internet Explorer", true},
}

// parseBrowser fills Browser and BrowserVersion; parsePlatform must have
// run first since WebKit browsers are told apart by their platform.
func parseBrowser(s string, in *Info) {
	if applyRules(s, brandRules, in) {
		return
	}
	c := firstComment(s)
	if in.OS == "Android" && commentHas(c, "wv") {
		// An Android app's embedded WebView: its Chrome/ number is the
		// system WebView's, not a browser the person chose.
		in.Browser = "In-app browser"
		return
	}
	if applyRules(s, engineRules, in) {
		return
	}
	switch {
	case has(s, "Trident/"):
		// IE 11 dropped "MSIE" and gives its version as "rv:11.0".
		in.Browser = "Internet Explorer"
		in.BrowserVersion, _ = versionAfter(c, "rv:")
	case strings.HasPrefix(s, "Opera/"):
		// Presto Opera froze "Opera/9.80" and put the real version in Version/.
		in.Browser = "Opera"
		in.BrowserVersion, _ = versionAfter(s, "Version/")
	case in.OS == "Android" && has(s, "Safari/"):
		// The pre-Chrome stock browser; its "Version/4.0" is a constant.
		in.Browser = "Android Browser"
	case has(s, "Safari/"):
		in.Browser = "Safari"
		in.BrowserVersion, _ = versionAfter(s, "Version/")
	case in.Device != "" && has(s, "AppleWebKit/"):
		// WebKit without Safari/ on an iPhone or iPad is an app's web view.
		in.Browser = "In-app browser"
	}
}

func applyRules(s string, rules []rule, in *Info) bool {
	for _, r := range rules {
		j := after(s, r.token)
		if j < 0 {
			continue
		}
		in.Browser = r.name
		if r.version {
			in.BrowserVersion = major(s[j:])
		}
		return true
	}
	return false
}

// commentHas reports whether one of the ";"-separated parts of a platform
// comment is exactly part, e.g. the "wv" in "Linux; Android 13; wv".
func commentHas(c, part string) bool {
	for p := range strings.SplitSeq(c, ";") {
		if strings.TrimSpace(p) == part {
			return true
		}
	}
	return false
}
