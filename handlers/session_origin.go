package handlers

// What a session keeps of where and with what it was used: the place its
// address resolves to and the device its user agent names, recorded at
// sign-in and updated when either changes.

import (
	"net/netip"

	"github.com/gofiber/fiber/v2"

	"portal/device"
	"portal/geo"
	"portal/store"
)

// Place is what a session keeps of an address: its network, a masked form
// and a coarse location. The full address is not kept. loc may be nil.
func Place(loc Locator, addr netip.Addr) store.Place {
	p := store.Place{Network: geo.Network(addr), Masked: geo.Mask(addr)}
	if !addr.IsValid() {
		return p
	}
	var l geo.Location
	if geo.IsPrivate(addr) {
		l = geo.Location{Private: true}
	} else if loc != nil {
		l = loc.Lookup(addr)
	}
	p.City, p.Region, p.Country, p.CountryCode, p.Private = l.City, l.Region, l.Country, l.CountryCode, l.Private
	return p
}

// NewSession describes a sign-in from a browser with user agent ua at addr:
// the user agent parsed once, here, and the address resolved once.
func NewSession(loc Locator, ua string, addr netip.Addr) store.NewSession {
	return store.NewSession{UserAgent: device.Clean(ua), Device: parseDevice(ua), Place: Place(loc, addr)}
}

func parseDevice(ua string) store.Device {
	i := device.Parse(ua)
	return store.Device{Browser: i.Browser, BrowserVersion: i.BrowserVersion, OS: i.OS, OSVersion: i.OSVersion, Name: i.Device, Type: string(i.Type)}
}

// noteChanges re-resolves the location when a session shows up from a
// different network than last time, and re-parses the user agent when the
// browser sends a different one (after an update). Otherwise it costs two
// string comparisons; changes are written with the next activity flush.
func (h *Handler) noteChanges(c *fiber.Ctx, token string, s store.Session) error {
	addr, err := h.clientAddr(c)
	if err != nil {
		return err
	}
	if n := geo.Network(addr); n != "" && n != s.LastPlace.Network {
		h.store.SeenFrom(token, Place(h.geo, addr))
	}
	// Stored agents are cleaned, so compare the raw header first: for
	// ordinary browsers the two are equal and nothing is allocated.
	if ua := c.Request().Header.UserAgent(); string(ua) != s.UserAgent {
		if clean := device.Clean(string(ua)); clean != s.UserAgent {
			h.store.SeenWith(token, store.Agent{UserAgent: clean, Device: parseDevice(clean)})
		}
	}
	return nil
}
