package handlers

import (
	"sync"
	"time"

	// The zone database is built in, so every zone a browser names is
	// known whatever the host (or a distroless image) has installed.
	_ "time/tzdata"

	"github.com/gofiber/fiber/v2"
)

// Exact times are shown in the viewer's time zone: the one their browser
// reported when this session signed in (static/app.js fills the sign-in
// form's tz field from Intl.DateTimeFormat). Without JavaScript, or for a
// zone Go does not know, times are in UTC, and say so.

// maxZoneLen bounds the tz field; the longest IANA name is 32 bytes
// ("America/Argentina/ComodRivadavia").
const maxZoneLen = 64

// browserZone is the zone the sign-in form reported, if it is a real IANA
// zone; "" otherwise.
func browserZone(name string) string {
	if name == "" || len(name) > maxZoneLen || name == "Local" {
		return ""
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '/' || c == '_' || c == '-' || c == '+') {
			return ""
		}
	}
	if _, ok := loadZone(name); !ok {
		return ""
	}
	return name
}

// zones caches loaded zones by name: time.LoadLocation parses the zone's
// data on every call. Only names that loaded are kept, and only checked
// names are asked for, so it holds at most the ~600 real zones.
var zones sync.Map // string -> *time.Location

// zoneNamed loads the zone name, UTC if it is not one.
func zoneNamed(name string) *time.Location {
	if loc, ok := loadZone(name); ok {
		return loc
	}
	return time.UTC
}

func loadZone(name string) (*time.Location, bool) {
	if name == "" {
		return nil, false
	}
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), true
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, false
	}
	zones.Store(name, loc)
	return loc, true
}

// zoneOf is the caller's zone: their session's, UTC when it has none.
func zoneOf(c *fiber.Ctx) *time.Location {
	if a := authOf(c); a != nil {
		return zoneNamed(a.Session.TimeZone)
	}
	return time.UTC
}

// zoneSentence says which zone the caller's times are in.
func zoneSentence(c *fiber.Ctx) string {
	if a := authOf(c); a != nil {
		if _, ok := loadZone(a.Session.TimeZone); ok {
			return "Times are in your time zone, " + a.Session.TimeZone + "."
		}
	}
	return "Times are in UTC: your browser did not tell the portal its time zone when you signed in."
}
