package device

// Label returns the short phrase a person reads for this client, such as
// "Chrome 131 on macOS", "Safari on iPhone", "Googlebot (bot)" or "curl 8".
// It never returns "" and never echoes the raw User-Agent.
//
// The shape, by product decision:
//   - browsers: "<Browser> <major> on <place>", where place is the device
//     name when there is one (iPhone, iPad) and otherwise the OS;
//   - no version for Samsung Internet (its number means nothing to people)
//     nor for Safari on iPhone/iPad (it is just the iOS version);
//   - unknown parts read "Unknown browser" ("Unknown browser on Windows");
//     a known browser on an unknown OS is just "Firefox 133"; when nothing
//     at all is known the label is "Unknown browser", and TypeLabel says
//     "Unknown device" for the icon;
//   - crawlers: "<name> (bot)" without a version, "Unknown bot" unnamed;
//   - command-line tools and libraries: "<name> <major>", like "curl 8".
func (i Info) Label() string {
	if i.Type == Bot {
		switch {
		case i.Browser == "":
			return "Unknown bot"
		case isTool(i.Browser):
			return withVersion(i.Browser, i.BrowserVersion)
		default:
			return i.Browser + " (bot)"
		}
	}
	name := "Unknown browser"
	if i.Browser != "" {
		name = i.Browser
		if showVersion(i) {
			name = withVersion(name, i.BrowserVersion)
		}
	}
	place := i.Device
	if place == "" {
		place = i.OS
	}
	if place == "" {
		return name
	}
	return name + " on " + place
}

// showVersion applies the product owner's examples: "Samsung Internet on
// Android" and "Safari on iPhone" carry no number, every other browser does.
func showVersion(i Info) bool {
	switch {
	case i.Browser == samsungInternet:
		return false
	case i.Browser == "Safari" && i.Device != "":
		return false
	}
	return true
}

func withVersion(name, version string) string {
	if version == "" {
		return name
	}
	return name + " " + version
}

// TypeLabel returns the accessible name for the device-type icon.
func (i Info) TypeLabel() string {
	switch i.Type {
	case Desktop:
		return "Desktop computer"
	case Phone:
		return "Phone"
	case Tablet:
		return "Tablet"
	case Bot:
		return "Bot or script"
	}
	return "Unknown device"
}
