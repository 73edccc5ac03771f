// Package geo turns client addresses into what a session list may show about
// them: a masked address, the network it belongs to and a coarse location
// (city, region, country) from a MaxMind-format City database. It knows
// nothing of HTTP or templates.
package geo

// Location is what a session row may show about where an address is.
// The zero value means "nothing known".
// Sessions store it as JSON under these names, so they must never change.
type Location struct {
	// City, Region and Country are English names; CountryCode is the ISO
	// 3166-1 alpha-2 code. Any of them may be empty: databases often know
	// the country but not the city.
	City        string `json:"city,omitempty"`
	Region      string `json:"region,omitempty"`
	Country     string `json:"country,omitempty"`
	CountryCode string `json:"country_code,omitempty"`
	// Private is set for loopback, RFC 1918, fc00::/7, link-local and CGNAT
	// (100.64.0.0/10) addresses; no lookup is done for those.
	Private bool `json:"private,omitempty"`
}

// Label is the text for a session row, from most to least specific:
// "Berlin, Germany"; "Bavaria, Germany" when the city is missing; "Germany"
// alone; "Private network" for private addresses; "" when nothing is known.
// The region is left out when the city is known because "Berlin, Berlin,
// Germany" adds length, not information. When a database has only the ISO
// code for a country, the code stands in for the name.
func (l Location) Label() string {
	if l.Private {
		return "Private network"
	}
	place := l.City
	if place == "" {
		place = l.Region
	}
	country := l.Country
	if country == "" {
		country = l.CountryCode
	}
	switch {
	case place == "":
		return country
	case country == "":
		return place
	default:
		return place + ", " + country
	}
}

// Known reports whether Label has anything to show.
func (l Location) Known() bool { return l.Label() != "" }
