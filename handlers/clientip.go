package handlers

import (
	"fmt"
	"net/netip"
	"strings"
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

// ClientIP decides which address a request came from. Forwarding headers
// are believed only when the TCP peer is a trusted proxy. X-Forwarded-For
// lists hops left to right and each proxy appends the address it saw, so
// the client is the right-most address that is not one of our proxies:
// anything left of it was written by the client and may be forged. A
// malformed entry stops the walk at the last address a trusted proxy
// vouched for.
func ClientIP(peer netip.Addr, headers []string, proxies []netip.Prefix) netip.Addr {
	peer = peer.Unmap()
	if len(proxies) == 0 || !trusted(peer, proxies) {
		return peer
	}
	client := peer
	total := 0
	for i := len(headers) - 1; i >= 0; i-- {
		total += len(headers[i])
		if total > maxProxyHeader {
			return client
		}
		hops := strings.Split(headers[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			a, ok := parseHop(hops[j])
			if !ok {
				return client
			}
			client = a
			if !trusted(a, proxies) {
				return a
			}
		}
	}
	return client
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
