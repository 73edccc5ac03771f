package geo

import (
	"net/netip"
	"testing"
)

func BenchmarkLookup(b *testing.B) {
	r, _ := openDemo(b)
	b.ReportAllocs()
	for b.Loop() {
		if r.Lookup(probe).City == "" {
			b.Fatal("no city")
		}
	}
}

func BenchmarkLookupParallel(b *testing.B) {
	r, _ := openDemo(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r.Lookup(probe).City == "" {
				b.Error("no city")
				return
			}
		}
	})
}

func BenchmarkLookupPrivate(b *testing.B) {
	r, _ := openDemo(b)
	addr := netip.MustParseAddr("192.168.1.20")
	b.ReportAllocs()
	for b.Loop() {
		if !r.Lookup(addr).Private {
			b.Fatal("not private")
		}
	}
}
