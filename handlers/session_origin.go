package handlers

// What a session keeps of where and with what it was used: the place its
// address resolves to and the device its user agent names, recorded at
// sign-in and updated when either changes.

import (
	"github.com/gofiber/fiber/v2"

	"portal/device"
	"portal/geo"
	"portal/store"
)

// noteChanges re-resolves the location when a session shows up from a
// different network than last time, and re-parses the user agent when the
// browser sends a different one (after an update). Otherwise it costs two
// string comparisons; changes are written with the next last-active flush.
func (h *handler) noteChanges(c *fiber.Ctx, token string, s store.Session) error {
	addr, err := h.clientAddr(c)
	if err != nil {
		return err
	}
	if n := geo.Network(addr); n != "" && n != s.LastPlace.Network {
		h.sessions.SeenFrom(token, h.geo.Place(addr))
	}
	// Stored agents are cleaned, so compare the raw header first: for
	// ordinary browsers the two are equal and nothing is allocated.
	if ua := c.Request().Header.UserAgent(); string(ua) != s.UserAgent {
		if clean := device.Clean(string(ua)); clean != s.UserAgent {
			h.sessions.SeenWith(token, store.Agent{UserAgent: clean, Device: device.Parse(clean)})
		}
	}
	return nil
}
