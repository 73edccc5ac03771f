package handlers

import (
	"net/netip"
	"strings"
	"testing"

	"portal/store"
)

// Fuzz targets for every parser of request input. Run one with e.g.
// go test -run '^$' -fuzz FuzzClientIP -fuzztime 60s ./handlers/
// Crashers land in testdata/fuzz and then run as regression tests.

func FuzzSessionID(f *testing.F) {
	for _, s := range []string{"", strings.Repeat("a", 32), strings.Repeat("A", 32), "0123456789abcdef0123456789abcdef", "../../etc/passwd", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if !store.ValidID(id) {
			return
		}
		if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
			t.Fatalf("ValidID accepted %q", id)
		}
	})
}

func FuzzSection(f *testing.F) {
	for _, s := range []string{"", "profile", "password", "active-sessions", "session-management", "ACTIVE-SESSIONS", strings.Repeat("x", 100)} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, customer bool) {
		role := store.RolePartnerAdmin
		if customer {
			role = store.RoleClientStaff
		}
		sec, canonical, ok := resolveSection(raw, role)
		if !ok {
			return
		}
		if sec.CustomerOnly && !customer {
			t.Fatalf("partner resolved %q to %q", raw, sec.Slug)
		}
		if canonical && raw != "" && raw != sec.Slug {
			t.Fatalf("%q resolved to %q but counts as canonical", raw, sec.Slug)
		}
		if !canonical && legacySections[raw] != sec.Slug {
			t.Fatalf("%q is not a known legacy alias of %q", raw, sec.Slug)
		}
	})
}

func FuzzClientIP(f *testing.F) {
	f.Add("127.0.0.1", "203.0.113.7", "127.0.0.1/32")
	f.Add("10.0.0.1", "198.51.100.1, 10.0.0.2, 203.0.113.7", "10.0.0.0/8")
	f.Add("::1", "[2001:db8::1]:443", "::1")
	f.Add("192.0.2.1", "garbage,,", "")
	f.Fuzz(func(t *testing.T, peerS, header, proxiesS string) {
		peer, err := netip.ParseAddr(peerS)
		if err != nil {
			return
		}
		proxies, err := ParseTrustedProxies(proxiesS)
		if err != nil {
			return
		}
		got, err := ClientIP(peer, []string{header}, proxies)
		if err != nil {
			if len(proxies) == 0 || !trusted(peer.Unmap(), proxies) {
				t.Fatalf("untrusted peer %v, header %q: %v (the header must be ignored)", peer, header, err)
			}
			return
		}
		if !got.IsValid() {
			t.Fatalf("invalid result for peer %v", peer)
		}
		if got == peer.Unmap() {
			return
		}
		if len(proxies) == 0 || !trusted(peer.Unmap(), proxies) {
			t.Fatalf("untrusted peer %v, header %q gave %v", peer, header, got)
		}
		found := false
		for _, hop := range strings.Split(header, ",") {
			if a, ok := parseHop(hop); ok && a == got {
				found = true
			}
		}
		if !found {
			t.Fatalf("%v is neither the peer nor in the header %q", got, header)
		}
	})
}

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name, peer string
		headers    []string
		want       string
		err        error
	}{
		{"untrusted peer ignores header", "203.0.113.9", []string{"198.51.100.1"}, "203.0.113.9", nil},
		{"one hop", "10.0.0.1", []string{"198.51.100.1"}, "198.51.100.1", nil},
		{"right-most untrusted wins over forged left", "10.0.0.1", []string{"1.2.3.4, 198.51.100.1, 10.0.0.7"}, "198.51.100.1", nil},
		{"several header lines", "10.0.0.1", []string{"1.2.3.4", "198.51.100.1"}, "198.51.100.1", nil},
		{"all trusted: left-most", "10.0.0.1", []string{"10.0.0.3, 10.0.0.2"}, "10.0.0.3", nil},
		{"garbage where the client should be", "10.0.0.1", []string{"198.51.100.1, junk"}, "", ErrForwardedMalformed},
		{"garbage left of the client is never read", "10.0.0.1", []string{"junk, 198.51.100.1"}, "198.51.100.1", nil},
		{"empty hop", "10.0.0.1", []string{"198.51.100.1,,10.0.0.2"}, "", ErrForwardedMalformed},
		{"port and brackets", "::1", []string{"[2001:db8::5]:443"}, "2001:db8::5", nil},
		{"ipv4-mapped peer", "::ffff:10.0.0.1", []string{"198.51.100.1"}, "198.51.100.1", nil},
		{"zone ids are refused", "10.0.0.1", []string{"fe80::1%eth0"}, "", ErrForwardedMalformed},
		{"empty header", "10.0.0.1", []string{""}, "10.0.0.1", nil},
		{"no header", "10.0.0.1", nil, "10.0.0.1", nil},
		{"oversized header", "10.0.0.1", []string{strings.Repeat("198.51.100.1,", 500)}, "", ErrForwardedTooLong},
		{"padding left of the client is still too long", "10.0.0.1", []string{strings.Repeat("x", 2100) + ", 198.51.100.1"}, "", ErrForwardedTooLong},
		{"oversized header from an untrusted peer is ignored", "203.0.113.9", []string{strings.Repeat("x", 5000)}, "203.0.113.9", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ClientIP(netip.MustParseAddr(tt.peer), tt.headers, proxies)
			if err != tt.err {
				t.Fatalf("ClientIP error = %v, want %v", err, tt.err)
			}
			if err == nil && got.String() != tt.want {
				t.Fatalf("ClientIP = %v, want %s", got, tt.want)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"", 0, true},
		{"127.0.0.1", 1, true},
		{"10.0.0.0/8, ::1 ,192.168.1.0/24", 3, true},
		{"10.0.0.0/33", 0, false},
		{"example.com", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseTrustedProxies(tt.in)
		if (err == nil) != tt.ok || len(got) != tt.want {
			t.Errorf("ParseTrustedProxies(%q) = %v, %v", tt.in, got, err)
		}
	}
}
