package handlers

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// maxProxyHeader bounds how much of a forwarding header is read.
const maxProxyHeader = 2048

// ParseTrustedProxies parses a comma-separated list of addresses and CIDRs.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or CIDR range", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func trusted(a netip.Addr, proxies []netip.Prefix) bool {
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Errors for a forwarding header a trusted proxy passed on that cannot be
// read. Neither falls back to the proxy's own address: a client could pad
// the header to be taken for the proxy, escaping the per-network throttle
// and hiding where it signed in from.
var (
	ErrForwardedTooLong   = errors.New("forwarding header longer than 2048 bytes")
	ErrForwardedMalformed = errors.New("forwarding header is not a list of addresses")
)

// ClientIP decides which address a request came from. Forwarding headers
// are believed only when the TCP peer is a trusted proxy. X-Forwarded-For
// lists hops left to right and each proxy appends the address it saw, so
// the client is the right-most address that is not one of our proxies:
// anything left of it was written by the client and is never read. If
// every hop is a trusted proxy, the left-most one is the client.
func ClientIP(peer netip.Addr, headers []string, proxies []netip.Prefix) (netip.Addr, error) {
	peer = peer.Unmap()
	if len(proxies) == 0 || !trusted(peer, proxies) {
		return peer, nil
	}
	total := 0
	for _, h := range headers {
		total += len(h)
	}
	if total > maxProxyHeader {
		return netip.Addr{}, ErrForwardedTooLong
	}
	client := peer
	for i := len(headers) - 1; i >= 0; i-- {
		if strings.TrimSpace(headers[i]) == "" {
			continue // an empty line adds no hop
		}
		hops := strings.Split(headers[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			a, ok := parseHop(hops[j])
			if !ok {
				return netip.Addr{}, ErrForwardedMalformed
			}
			client = a
			if !trusted(a, proxies) {
				return a, nil
			}
		}
	}
	return client, nil
}

// parseHop parses one X-Forwarded-For entry: an address, possibly in
// brackets or with a port ("[2001:db8::1]:443", "203.0.113.7:5000").
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return netip.Addr{}, false
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().Unmap(), true
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && a.Zone() == "" {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// clientAddr is the address the request came from, honouring forwarding
// headers only from trusted proxies. The result is a copy, safe to keep.
// A forwarding header that cannot be read is the client's error (400 or
// 431), never a reason to take the proxy for the client.
func (h *handler) clientAddr(c *fiber.Ctx) (netip.Addr, error) {
	peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	var hdrs []string
	if len(h.cfg.TrustedProxies) > 0 {
		for _, v := range c.Request().Header.PeekAll(h.cfg.ProxyHeader) {
			hdrs = append(hdrs, string(v))
		}
	}
	a, err := ClientIP(peer, hdrs, h.cfg.TrustedProxies)
	switch {
	case errors.Is(err, ErrForwardedTooLong):
		return a, &userError{status: fiber.StatusRequestHeaderFieldsTooLarge, message: "The request's " + h.cfg.ProxyHeader + " header is too long."}
	case err != nil:
		return a, &userError{status: fiber.StatusBadRequest, message: "The request's " + h.cfg.ProxyHeader + " header is not a list of addresses."}
	}
	return a, nil
}
