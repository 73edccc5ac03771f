package device

import "strings"

// uaCase is one row of the table that judges Parse and Label: a real-world
// (or deliberately hostile) User-Agent and what a person should read for it.
type uaCase struct {
	name  string
	ua    string
	label string
	typ   Type
}

// chromeWin is reused by the length-cap rows.
const chromeWin = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

var uaTable = []uaCase{
	// Chrome (desktop UAs are "reduced": minor versions and OS versions frozen).
	{"chrome win", chromeWin, "Chrome 131 on Windows", Desktop},
	{"chrome mac", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome 131 on macOS", Desktop},
	{"chrome linux", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36", "Chrome 130 on Linux", Desktop},
	{"chrome chromeos", "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome 131 on ChromeOS", Desktop},
	{"chrome chromeos arm", "Mozilla/5.0 (X11; CrOS aarch64 15236.80.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.5993.164 Safari/537.36", "Chrome 118 on ChromeOS", Desktop},
	{"chrome win7", "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36", "Chrome 109 on Windows", Desktop},
	{"chrome old full version", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.88 Safari/537.36", "Chrome 87 on Windows", Desktop},
	{"chrome win arm", "Mozilla/5.0 (Windows NT 10.0; ARM64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome 131 on Windows", Desktop},
	{"chrome android reduced", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome 131 on Android", Phone},
	{"chrome android pixel", "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36", "Chrome 116 on Android", Phone},
	{"chrome android build", "Mozilla/5.0 (Linux; Android 9; SM-G960F Build/PPR1.180610.011) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/74.0.3729.157 Mobile Safari/537.36", "Chrome 74 on Android", Phone},
	{"chrome android tablet reduced", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Chrome 120 on Android", Tablet},
	{"chrome android tablet samsung", "Mozilla/5.0 (Linux; Android 12; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.0.0 Safari/537.36", "Chrome 108 on Android", Tablet},
	{"chrome iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1", "Chrome 131 on iPhone", Phone},
	// iOS 26 froze the OS token at 18_6; without Safari's Version/ it is unknown.
	{"chrome iphone ios26 frozen", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/140.0.7339.101 Mobile/15E148 Safari/604.1", "Chrome 140 on iPhone", Phone},
	{"chrome ipad", "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1", "Chrome 131 on iPad", Tablet},
	{"chromium ubuntu", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu Chromium/83.0.4103.61 Chrome/83.0.4103.61 Safari/537.36", "Chromium 83 on Linux", Desktop},
	// Brave sends Chrome's exact UA on desktop, so it reads as Chrome.
	{"brave desktop (same as chrome)", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome 131 on Windows", Desktop},
	{"brave old android token", "Mozilla/5.0 (Linux; Android 9; SM-G960F) AppleWebKit/537.36 (KHTML, like Gecko) Brave Chrome/79.0.3945.88 Mobile Safari/537.36", "Brave on Android", Phone},
	{"brave versioned token", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.97 Safari/537.36 Brave/78", "Brave 78 on Windows", Desktop},

	// Firefox.
	{"firefox win", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox 133 on Windows", Desktop},
	{"firefox mac", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox 133 on macOS", Desktop},
	{"firefox linux", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox 128 on Linux", Desktop},
	{"firefox ubuntu", "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0", "Firefox 115 on Linux", Desktop},
	{"firefox freebsd", "Mozilla/5.0 (X11; FreeBSD amd64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox 128 on FreeBSD", Desktop},
	{"firefox win7", "Mozilla/5.0 (Windows NT 6.1; rv:52.0) Gecko/20100101 Firefox/52.0", "Firefox 52 on Windows", Desktop},
	{"firefox win8.1", "Mozilla/5.0 (Windows NT 6.3; Win64; x64; rv:115.0) Gecko/20100101 Firefox/115.0", "Firefox 115 on Windows", Desktop},
	{"firefox android phone", "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0", "Firefox 133 on Android", Phone},
	{"firefox android tablet", "Mozilla/5.0 (Android 13; Tablet; rv:132.0) Gecko/132.0 Firefox/132.0", "Firefox 132 on Android", Tablet},
	{"firefox iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15", "Firefox 133 on iPhone", Phone},
	{"firefox ipad", "Mozilla/5.0 (iPad; CPU OS 16_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/128.1 Mobile/15E148 Safari/605.1.15", "Firefox 128 on iPad", Tablet},

	// Safari. On iPhone and iPad its version is just the OS version, so the
	// label names the device instead.
	{"safari mac 17", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15", "Safari 17 on macOS", Desktop},
	{"safari mac 18", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15", "Safari 18 on macOS", Desktop},
	{"safari iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1", "Safari on iPhone", Phone},
	{"safari iphone ios26 frozen", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Mobile/15E148 Safari/604.1", "Safari on iPhone", Phone},
	{"safari iphone ios12", "Mozilla/5.0 (iPhone; CPU iPhone OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1", "Safari on iPhone", Phone},
	{"safari ipad", "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1", "Safari on iPad", Tablet},
	// iPadOS asks for the desktop site by default and then sends the Mac UA.
	{"safari ipad desktop mode", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "Safari 17 on macOS", Desktop},
	{"safari ipod", "Mozilla/5.0 (iPod touch; CPU iPhone OS 15_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.6 Mobile/15E148 Safari/604.1", "Safari on iPod touch", Phone},
	{"ios webview", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148", "In-app browser on iPhone", Phone},
	{"facebook in-app ios", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/21F79 [FBAN/FBIOS;FBAV/470.0.0.37.108;FBBV/634437211;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.5;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5;FBRV/0]", "Facebook on iPhone", Phone},
	{"instagram in-app ios", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 339.0.3.12.91 (iPhone14,5; iOS 17_5; en_US; en; scale=3.00; 1170x2532; 618023787)", "Instagram on iPhone", Phone},
	{"android webview", "Mozilla/5.0 (Linux; Android 13; SM-A536B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.81 Mobile Safari/537.36", "In-app browser on Android", Phone},
	{"facebook in-app android", "Mozilla/5.0 (Linux; Android 14; SM-S911B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.39 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/490.0.0.50.82;]", "Facebook on Android", Phone},

	// Edge.
	{"edge win", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge 131 on Windows", Desktop},
	{"edge mac", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.2849.80", "Edge 130 on macOS", Desktop},
	{"edge android", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.0.0", "Edge 131 on Android", Phone},
	{"edge iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/131.2903.68 Mobile/15E148 Safari/605.1.15", "Edge 131 on iPhone", Phone},
	{"edge legacy", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19045", "Edge 18 on Windows", Desktop},
	{"ie11", "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko", "Internet Explorer 11 on Windows", Desktop},
	{"ie9", "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0)", "Internet Explorer 9 on Windows", Desktop},
	{"ie8 xp", "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)", "Internet Explorer 8 on Windows", Desktop},

	// Opera.
	{"opera win", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0", "Opera 115 on Windows", Desktop},
	{"opera mac", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36 OPR/114.0.0.0", "Opera 114 on macOS", Desktop},
	{"opera android", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36 OPR/86.0.0.0", "Opera 86 on Android", Phone},
	{"opera mini", "Opera/9.80 (Android; Opera Mini/36.2.2254/119.132; U; id) Presto/2.12.423 Version/12.16", "Opera Mini 36 on Android", Phone},
	{"opera presto", "Opera/9.80 (Windows NT 6.1; WOW64) Presto/2.12.388 Version/12.18", "Opera 12 on Windows", Desktop},

	// Samsung Internet: the product owner wants it without a version.
	{"samsung phone", "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", "Samsung Internet on Android", Phone},
	{"samsung reduced", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36", "Samsung Internet on Android", Phone},
	{"samsung tablet", "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Safari/537.36", "Samsung Internet on Android", Tablet},
	{"samsung desktop mode", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Safari/537.36", "Samsung Internet on Linux", Desktop},

	// Other Chromium browsers that do name themselves.
	{"vivaldi win", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Vivaldi/7.0.3495.18", "Vivaldi 7 on Windows", Desktop},
	{"vivaldi linux", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Vivaldi/6.6.3271.45", "Vivaldi 6 on Linux", Desktop},
	{"yandex", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 YaBrowser/24.10.0.0 Safari/537.36", "Yandex Browser 24 on Windows", Desktop},
	{"duckduckgo android", "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.0.0 Mobile DuckDuckGo/5 Safari/537.36", "DuckDuckGo 5 on Android", Phone},
	{"silk kindle", "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/130.4.1 like Chrome/130.0.6723.102 Safari/537.36", "Amazon Silk 130 on Android", Tablet},
	{"google app ios", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) GSA/343.0.694245489 Mobile/15E148 Safari/604.1", "Google app on iPhone", Phone},
	{"duckduckgo mac", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15 Ddg/17.5", "DuckDuckGo 17 on macOS", Desktop},
	{"edge win arm", "Mozilla/5.0 (Windows NT 10.0; ARM64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge 131 on Windows", Desktop},
	{"firefox win arm", "Mozilla/5.0 (Windows NT 10.0; ARM64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox 133 on Windows", Desktop},
	{"opera gx", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0 (Edition Yx GX)", "Opera 115 on Windows", Desktop},
	// Electron apps only add their own name; they read as the Chrome inside.
	{"electron app", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Slack/4.41.105 Chrome/130.0.6723.137 Electron/33.2.1 Safari/537.36", "Chrome 130 on Windows", Desktop},
	// "Cubot" is a phone brand, not a bot.
	{"cubot phone", "Mozilla/5.0 (Linux; Android 12; CUBOT KingKong Power) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", "Chrome 120 on Android", Phone},
	// TVs and consoles: no Type of their own, so Other.
	{"samsung tv", "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36", "Samsung Internet on Linux", Other},
	{"lg webos tv", "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.79 Safari/537.36 WebAppManager", "Chrome 79 on Linux", Other},
	{"fire tv", "Mozilla/5.0 (Linux; Android 9; AFTMM Build/PS7233; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.107 Mobile Safari/537.36", "In-app browser on Android", Other},
	{"chromecast", "Mozilla/5.0 (X11; Linux armv7l) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 CrKey/1.56.500000", "Chrome 114 on Linux", Other},
	{"xbox", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.124 Safari/537.36 Edge/44.18363.8131", "Edge 44 on Windows", Other},
	{"android stock browser", "Mozilla/5.0 (Linux; U; Android 4.0.3; ko-kr; LG-L160L Build/IML74K) AppleWebkit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30", "Android Browser on Android", Phone},

	// Crawlers: named, never versioned.
	{"googlebot", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot (bot)", Bot},
	{"googlebot smartphone", "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot (bot)", Bot},
	{"bingbot", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "Bingbot (bot)", Bot},
	{"bingbot chrome", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36", "Bingbot (bot)", Bot},
	{"applebot", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)", "Applebot (bot)", Bot},
	{"yandexbot", "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", "YandexBot (bot)", Bot},
	{"baiduspider", "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)", "Baiduspider (bot)", Bot},
	{"duckduckbot", "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)", "DuckDuckBot (bot)", Bot},
	{"ahrefsbot", "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", "AhrefsBot (bot)", Bot},
	{"gptbot", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)", "GPTBot (bot)", Bot},
	{"mj12bot", "Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)", "MJ12bot (bot)", Bot},
	{"generic crawler", "ExampleCrawler/2.1 (+https://example.com/crawler)", "ExampleCrawler (bot)", Bot},
	{"generic spider", "Mozilla/5.0 (compatible; Sogou web spider/4.0; +http://www.sogou.com/docs/help/webmasters.htm#07)", "Sogou (bot)", Bot},
	{"semrushbot", "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)", "SemrushBot (bot)", Bot},
	{"bytespider", "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)", "Bytespider (bot)", Bot},
	{"claudebot", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)", "ClaudeBot (bot)", Bot},
	{"unnamed bot with url", "Mozilla/5.0 (compatible; +http://example.com/bot.html)", "Unknown bot", Bot},
	{"facebook crawler", "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "Facebook crawler (bot)", Bot},
	{"slackbot", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "Slackbot (bot)", Bot},
	{"discordbot", "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", "Discordbot (bot)", Bot},
	{"twitterbot", "Twitterbot/1.0", "Twitterbot (bot)", Bot},
	{"uptimerobot", "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", "UptimeRobot (bot)", Bot},
	{"headless chrome", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.6778.85 Safari/537.36", "Headless Chrome (bot)", Bot},

	// Command-line clients and HTTP libraries: Type Bot, named with the
	// tool's own major version where the token carries one.
	{"curl 8", "curl/8.5.0", "curl 8", Bot},
	{"curl 7", "curl/7.68.0", "curl 7", Bot},
	{"wget", "Wget/1.21.4", "Wget 1", Bot},
	{"wget platform", "Wget/1.20.3 (linux-gnu)", "Wget 1", Bot},
	{"python-requests", "python-requests/2.32.3", "python-requests 2", Bot},
	{"python urllib", "Python-urllib/3.11", "Python urllib", Bot},
	// Go's number is the HTTP protocol version, not the client's.
	{"go http 1.1", "Go-http-client/1.1", "Go HTTP client", Bot},
	{"go http 2", "Go-http-client/2.0", "Go HTTP client", Bot},
	{"postman", "PostmanRuntime/7.42.0", "Postman 7", Bot},
	{"httpie", "HTTPie/3.2.2", "HTTPie 3", Bot},
	{"okhttp", "okhttp/4.12.0", "OkHttp 4", Bot},
	{"axios", "axios/1.7.7", "axios 1", Bot},
	{"powershell", "Mozilla/5.0 (Windows NT 10.0; Microsoft Windows 10.0.22631; en-US) PowerShell/7.4.6", "PowerShell 7", Bot},
	{"libwww-perl", "libwww-perl/6.77", "libwww-perl 6", Bot},

	// Empty, junk and hostile input: never the raw string, never empty.
	{"empty", "", "Unknown browser", Other},
	{"whitespace", " \t \n ", "Unknown browser", Other},
	{"garbage word", "asdfghjkl", "Unknown browser", Other},
	{"bare mozilla", "Mozilla/5.0", "Unknown browser", Other},
	{"bare compatible", "Mozilla/5.0 (compatible)", "Unknown browser", Other},
	{"10KB of A", strings.Repeat("A", 10240), "Unknown browser", Other},
	{"real UA then 10KB padding", chromeWin + strings.Repeat("x", 10000), "Chrome 131 on Windows", Desktop},
	// Everything past MaxUALen is ignored, so a UA hidden after padding is not seen.
	{"real UA after cap", strings.Repeat("x ", 300) + chromeWin, "Unknown browser", Other},
	{"control characters", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)\x00\r\nAppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0\x1b[31m Safari/537.36", "Chrome 131 on Windows", Desktop},
	{"script tag", "<script>alert(1)</script>", "Unknown browser", Other},
	{"script as version", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/<script>alert(1)</script> Safari/537.36", "Chrome on Windows", Desktop},
	{"script named bot", "<script>alert('bot')</script>", "Unknown bot", Bot},
	{"invalid utf8 prefix", "\xff\xfe\xfdMozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox 133 on Windows", Desktop},
	{"invalid utf8 only", "\xc3\x28\xa0\xa1", "Unknown browser", Other},
	{"emoji", chromeWin + " 😀", "Chrome 131 on Windows", Desktop},
	{"absurd version", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/99999999999999999999.0", "Firefox on Windows", Desktop},
	{"browser without os", "Firefox/133.0", "Firefox 133", Other},
	{"os without browser", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "Unknown browser on Windows", Desktop},
}
