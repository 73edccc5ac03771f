package geo

import (
	"net/netip"
	"strconv"
)

// cgnat is the shared address space of RFC 6598. netip has no helper for it,
// and carrier-grade NAT addresses say nothing about where a user is.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// normalize drops the zone and unmaps IPv4-mapped IPv6 addresses so that
// ::ffff:203.0.113.9 and 203.0.113.9 are treated as the same client. Zones
// only matter on the local link and must never reach a label or a database.
func normalize(addr netip.Addr) netip.Addr {
	return addr.WithZone("").Unmap()
}

// IsPrivate reports whether addr is one that no GeoIP database can place:
// loopback (127.0.0.0/8, ::1), RFC 1918 and unique-local (10/8, 172.16/12,
// 192.168/16, fc00::/7), link-local (169.254/16, fe80::/10) and carrier-grade
// NAT (100.64.0.0/10). IPv4-mapped IPv6 addresses are judged as IPv4. The
// invalid Addr is not private.
func IsPrivate(addr netip.Addr) bool {
	addr = normalize(addr)
	return addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() ||
		cgnat.Contains(addr)
}

// Mask returns addr with its host part hidden, for display: IPv4 keeps its
// /24 ("203.0.113.x"), IPv6 keeps its /48 ("2001:db8:1234::/48"). That is
// enough to recognise "my home network" without showing the full address.
// IPv4-mapped IPv6 is shown as IPv4, zones are dropped, and the invalid Addr
// gives "".
func Mask(addr netip.Addr) string {
	addr = normalize(addr)
	switch {
	case addr.Is4():
		b := addr.As4()
		return strconv.Itoa(int(b[0])) + "." + strconv.Itoa(int(b[1])) + "." +
			strconv.Itoa(int(b[2])) + ".x"
	case addr.Is6():
		return Network(addr)
	default:
		return ""
	}
}

// Network returns the canonical prefix addr belongs to ("203.0.113.0/24" or
// "2001:db8:1234::/48"). Two sessions with different Network values were seen
// from different networks; the prefix lengths match Mask so that what the
// user sees and what is compared agree. The invalid Addr gives "".
func Network(addr netip.Addr) string {
	addr = normalize(addr)
	bits := 48
	switch {
	case addr.Is4():
		bits = 24
	case !addr.Is6():
		return ""
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
}
