package handlers

import (
	"slices"
	"sync"
	"time"

	// The zone database is built in, so every listed zone loads whatever
	// the host (or a distroless image) has installed.
	_ "time/tzdata"

	"github.com/gofiber/fiber/v2"
)

//go:generate go run zone_names_gen.go

// Exact times are shown in the viewer's time zone: the one their browser
// reported when this session signed in (static/app.js fills the sign-in
// form's tz field from Intl.DateTimeFormat). Without JavaScript, or for a
// zone that is not listed, times are in UTC, and say so.
//
// A name is checked against zoneNames, the names in the database built
// into the binary (zone_names.go, generated from the Go that builds it),
// before time.LoadLocation sees it. LoadLocation alone would also answer
// from the host's zoneinfo directory, where Europe//Berlin,
// posix/Europe/Berlin, right/UTC, Factory and posixrules all load: each
// such spelling would be a zone of its own, shown to the user, and cached
// for ever, so a client could grow the cache without bound. A listed name
// may still be read from the host's files (LoadLocation looks there
// first): that is the same zone, in the host's possibly newer data.

// maxZoneLen bounds the tz field before it is looked up; the longest
// listed name is 32 bytes ("America/Argentina/ComodRivadavia").
const maxZoneLen = 64

// isZoneName reports whether name is in the binary's list of zones.
func isZoneName(name string) bool {
	_, ok := slices.BinarySearch(zoneNames, name)
	return ok
}

// browserZone is the zone the sign-in form reported, if it is a listed
// zone; "" otherwise.
func browserZone(name string) string {
	if len(name) > maxZoneLen {
		return ""
	}
	if _, ok := loadZone(name); !ok {
		return ""
	}
	return name
}

// zones caches loaded zones by name: time.LoadLocation parses the zone's
// data on every call. Only listed names are loaded, so it holds at most
// len(zoneNames) zones.
var zones sync.Map // string -> *time.Location

// zoneNamed loads the zone name, UTC if it is not a listed one.
func zoneNamed(name string) *time.Location {
	if loc, ok := loadZone(name); ok {
		return loc
	}
	return time.UTC
}

func loadZone(name string) (*time.Location, bool) {
	if !isZoneName(name) {
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
