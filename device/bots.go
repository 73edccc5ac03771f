package device

import "strings"

// knownBots are crawlers whose token is not simply their name, or that the
// generic "...bot" rule below would miss or misname. Token → display name.
var knownBots = []rule{
	{"Googlebot", "Googlebot", false},
	{"Google-InspectionTool", "Google Inspection Tool", false},
	{"GoogleOther", "GoogleOther", false},
	{"Mediapartners-Google", "Google AdSense", false},
	{"bingbot", "Bingbot", false},
	{"Applebot", "Applebot", false},
	{"facebookexternalhit", "Facebook crawler", false},
	{"facebookcatalog", "Facebook crawler", false},
	{"Slackbot", "Slackbot", false},
	{"Sogou web spider", "Sogou", false},
	{"Yahoo! Slurp", "Yahoo Slurp", false},
	{"WhatsApp/", "WhatsApp", false}, // link previews
	{"HeadlessChrome", "Headless Chrome", false},
	{"Chrome-Lighthouse", "Lighthouse", false},
	{"PhantomJS", "PhantomJS", false},
	{"Pingdom", "Pingdom", false},
}

// tools are command-line clients and HTTP libraries. They are Type Bot (see
// Type) but labelled like software, "curl 8", not "(bot)". Where the number
// after the token is the language runtime's or the HTTP protocol's rather
// than the tool's, it is not kept.
var tools = []rule{
	{"curl/", "curl", true},
	{"Wget/", "Wget", true},
	{"python-requests/", "python-requests", true},
	{"Python-urllib/", "Python urllib", false},
	{"python-httpx/", "HTTPX", true},
	{"aiohttp/", "aiohttp", true},
	{"Go-http-client/", "Go HTTP client", false},
	{"PostmanRuntime/", "Postman", true},
	{"insomnia/", "Insomnia", true},
	{"HTTPie/", "HTTPie", true},
	{"okhttp/", "OkHttp", true},
	{"axios/", "axios", true},
	{"node-fetch/", "node-fetch", true},
	{"GuzzleHttp/", "Guzzle", true},
	{"Apache-HttpClient/", "Apache HttpClient", true},
	{"libwww-perl/", "libwww-perl", true},
	{"PowerShell/", "PowerShell", true},
	{"Java/", "Java", true},
	{"Dart/", "Dart", true},
}

var toolNames = func() map[string]bool {
	m := make(map[string]bool, len(tools))
	for _, t := range tools {
		m[t.name] = true
	}
	return m
}()

// isTool tells Label which Bot names are software rather than crawlers. It
// works from the stored name alone so that Info read back from storage
// labels the same way.
func isTool(name string) bool { return toolNames[name] }

// maxBotName bounds a bot name taken from the UA itself, so that a label
// stays short and can never reproduce a long input.
const maxBotName = 32

// parseBot recognises crawlers and tools. Bots get neither OS nor device:
// what they imitate is not a fact about anyone's session.
func parseBot(s string) (Info, bool) {
	in := Info{Type: Bot}
	if applyRules(s, knownBots, &in) || applyRules(s, tools, &in) {
		return in, true
	}
	name, ok := genericBot(s)
	in.Browser = name
	// Browsers never put a URL in their UA; crawlers add one so that site
	// owners can look them up.
	if !ok && (strings.Contains(s, "http://") || strings.Contains(s, "https://")) {
		ok = true
	}
	return in, ok
}

// genericBot finds a product name that says it is a bot ("AhrefsBot/7.0",
// "Bytespider", "ExampleCrawler/2.1") and returns it as the bot's name.
// Only a plain ASCII name of sensible length is used; a bot word that is
// bare ("bot") or junk still makes the UA a bot, but an unnamed one.
func genericBot(s string) (name string, isBot bool) {
	for i := 0; i < len(s); {
		if !isWordByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
		word := s[i:j]
		i = j
		for k := 0; k < len(word); k++ {
			if word[k] == '/' {
				word = word[:k] // drop the version
				break
			}
		}
		if !botWord(word) {
			continue
		}
		isBot = true
		if len(word) <= maxBotName && isAlnum(word[0]) && !bareBotWord(word) {
			return word, true
		}
	}
	return "", isBot
}

// isWordByte is what may make up a product token and its version.
func isWordByte(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '-' || c == '/'
}

// botWord is deliberately narrow: "bot" must end the name or be followed by
// '-', '_' or '.'; "spider" and "crawler" may appear anywhere. The Cubot
// phone brand is the one known false friend.
func botWord(w string) bool {
	if len(w) >= 5 && equalFoldPrefix(w, "cubot") {
		return false
	}
	if hasFold(w, "spider") || hasFold(w, "crawler") {
		return true
	}
	for k := 0; k+3 <= len(w); k++ {
		if equalFoldPrefix(w[k:], "bot") {
			if k+3 == len(w) || w[k+3] == '-' || w[k+3] == '_' || w[k+3] == '.' ||
				(k+4 == len(w) && (w[k+3] == 's' || w[k+3] == 'S')) {
				return true
			}
		}
	}
	return false
}

func bareBotWord(w string) bool {
	for _, b := range []string{"bot", "bots", "robot", "spider", "crawler", "webcrawler"} {
		if len(w) == len(b) && equalFoldPrefix(w, b) {
			return true
		}
	}
	return false
}

func equalFoldPrefix(s, prefix string) bool {
	return len(s) >= len(prefix) && hasFold(s[:len(prefix)], prefix)
}
