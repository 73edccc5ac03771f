package handlers

import (
	"net/netip"

	"github.com/gofiber/fiber/v2"

	"portal/device"
	"portal/geo"
	"portal/store"
)

// clientAddr is the address the request came from, honouring forwarding
// headers only from trusted proxies. The result is a copy, safe to keep.
func (h *Handler) clientAddr(c *fiber.Ctx) netip.Addr {
	peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	var hdrs []string
	if len(h.cfg.TrustedProxies) > 0 {
		for _, v := range c.Request().Header.PeekAll(h.cfg.ProxyHeader) {
			hdrs = append(hdrs, string(v))
		}
	}
	return ClientIP(peer, hdrs, h.cfg.TrustedProxies)
}

// place resolves an address to what a session may keep of it.
func (h *Handler) place(addr netip.Addr) store.Place { return Place(h.geo, addr) }

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
	i := device.Parse(ua)
	return store.NewSession{
		UserAgent: device.Clean(ua),
		Device:    store.Device{Browser: i.Browser, BrowserVersion: i.BrowserVersion, OS: i.OS, OSVersion: i.OSVersion, Name: i.Device, Type: string(i.Type)},
		Place:     Place(loc, addr),
	}
}

// noteNetwork re-resolves the location when a session shows up from a
// different network than last time. Within the same /24 (or /48) it costs
// a string comparison; the change is written with the next activity flush.
func (h *Handler) noteNetwork(c *fiber.Ctx, token string, s store.Session) {
	addr := h.clientAddr(c)
	if n := geo.Network(addr); n != "" && n != s.LastPlace.Network {
		h.store.SeenFrom(token, h.place(addr))
	}
}
