package geo

import (
	"net/netip"
	"testing"
)

// addrOf parses s, turning garbage into the invalid Addr.
func addrOf(s string) netip.Addr {
	a, _ := netip.ParseAddr(s)
	return a
}

func TestMaskAndNetwork(t *testing.T) {
	tests := []struct {
		name    string
		addr    netip.Addr
		mask    string
		network string
	}{
		{"ipv4", addrOf("203.0.113.9"), "203.0.113.x", "203.0.113.0/24"},
		{"ipv4 zero host", addrOf("198.51.100.0"), "198.51.100.x", "198.51.100.0/24"},
		{"ipv4 unspecified", addrOf("0.0.0.0"), "0.0.0.x", "0.0.0.0/24"},
		{"ipv6", addrOf("2001:db8:1234:5678::1"), "2001:db8:1234::/48", "2001:db8:1234::/48"},
		{"ipv6 short", addrOf("2001:db8::1"), "2001:db8::/48", "2001:db8::/48"},
		{"ipv6 unspecified", addrOf("::"), "::/48", "::/48"},
		// Raw netip values, not via ParseAddr: Mask must normalise itself.
		{"ipv4-mapped ipv6", netip.MustParseAddr("::ffff:203.0.113.9"), "203.0.113.x", "203.0.113.0/24"},
		{"zone dropped", netip.MustParseAddr("fe80::1%eth0"), "fe80::/48", "fe80::/48"},
		{"zone dropped, long", netip.MustParseAddr("2001:db8:aa:bb::1%25"), "2001:db8:aa::/48", "2001:db8:aa::/48"},
		{"garbage", addrOf("garbage"), "", ""},
		{"empty", addrOf(""), "", ""},
		{"invalid addr", netip.Addr{}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Mask(tt.addr); got != tt.mask {
				t.Errorf("Mask(%v) = %q, want %q", tt.addr, got, tt.mask)
			}
			if got := Network(tt.addr); got != tt.network {
				t.Errorf("Network(%v) = %q, want %q", tt.addr, got, tt.network)
			}
		})
	}
}

// Network is what decides "seen from a different network", so addresses in
// the same /24 or /48 must compare equal and neighbours must not.
func TestNetworkGroups(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"203.0.113.1", "203.0.113.254", true},
		{"203.0.113.1", "203.0.114.1", false},
		{"203.0.113.1", "::ffff:203.0.113.77", true},
		{"2001:db8:1:1::1", "2001:db8:1:ffff::2", true},
		{"2001:db8:1::1", "2001:db8:2::1", false},
		{"0.0.0.1", "::1", false}, // IPv4 and IPv6 never share a network
	}
	for _, tt := range tests {
		a, b := Network(netip.MustParseAddr(tt.a)), Network(netip.MustParseAddr(tt.b))
		if (a == b) != tt.same {
			t.Errorf("Network(%s)=%q, Network(%s)=%q; same=%v, want %v", tt.a, a, tt.b, b, a == b, tt.same)
		}
	}
}

func TestIsPrivate(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1", true},
		{"127.255.255.255", true},
		{"128.0.0.0", false},
		{"::1", true},
		{"10.0.0.0", true},
		{"10.255.255.255", true},
		{"11.0.0.0", false},
		{"172.15.255.255", false},
		{"172.16.0.0", true},
		{"172.31.255.255", true},
		{"172.32.0.0", false},
		{"192.168.0.1", true},
		{"192.167.255.255", false},
		{"192.169.0.0", false},
		{"fc00::1", true},
		{"fdff:ffff::1", true},
		{"fe00::1", false},
		{"fe80::1", true},
		{"fe80::1%eth0", true},
		{"febf::1", true},
		{"fec0::1", false},
		{"169.254.0.1", true},
		{"169.254.255.255", true},
		{"169.253.255.255", false},
		{"169.255.0.0", false},
		{"100.63.255.255", false},
		{"100.64.0.0", true},
		{"100.127.255.255", true},
		{"100.128.0.0", false},
		{"::ffff:10.0.0.1", true},
		{"::ffff:127.0.0.1", true},
		{"::ffff:8.8.8.8", false},
		{"8.8.8.8", false},
		{"203.0.113.9", false}, // documentation ranges are "public" so the demo DB can place them
		{"2001:db8::1", false},
		{"0.0.0.0", false}, // unspecified is not a client; not worth a "Private network" label
		{"::", false},
	}
	for _, tt := range tests {
		if got := IsPrivate(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("IsPrivate(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
	if IsPrivate(netip.Addr{}) {
		t.Error("IsPrivate(invalid) = true, want false")
	}
}
