package geo

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestLookupDemoDB(t *testing.T) {
	r, _ := openDemo(t)
	tests := []struct {
		name  string
		addr  netip.Addr
		want  Location
		label string
	}{
		{"city and country", netip.MustParseAddr("203.0.113.10"), berlin, "Berlin, Germany"},
		{"other city", netip.MustParseAddr("198.51.100.200"),
			Location{City: "Tokyo", Region: "Tokyo", Country: "Japan", CountryCode: "JP"}, "Tokyo, Japan"},
		{"region only", netip.MustParseAddr("192.0.2.1"),
			Location{Region: "Ontario", Country: "Canada", CountryCode: "CA"}, "Ontario, Canada"},
		{"country only", netip.MustParseAddr("192.0.2.200"),
			Location{Country: "Brazil", CountryCode: "BR"}, "Brazil"},
		{"ipv6", netip.MustParseAddr("2001:db8:1:abcd::1"),
			Location{City: "Sydney", Region: "New South Wales", Country: "Australia", CountryCode: "AU"}, "Sydney, Australia"},
		{"ipv6 other /48", netip.MustParseAddr("2001:db8:2::99"), paris, "Paris, France"},
		{"ipv4-mapped ipv6", netip.MustParseAddr("::ffff:203.0.113.70"),
			Location{City: "London", Region: "England", Country: "United Kingdom", CountryCode: "GB"}, "London, United Kingdom"},
		{"zone ignored", netip.MustParseAddr("2001:db8:2::1%eth0"), paris, "Paris, France"},
		{"gap inside demo range", netip.MustParseAddr("203.0.113.200"), Location{}, ""},
		{"outside database", netip.MustParseAddr("8.8.8.8"), Location{}, ""},
		{"ipv6 outside database", netip.MustParseAddr("2001:db8:ffff::1"), Location{}, ""},
		{"private ipv4", netip.MustParseAddr("10.1.2.3"), Location{Private: true}, "Private network"},
		{"private link-local zoned", netip.MustParseAddr("fe80::1%eth0"), Location{Private: true}, "Private network"},
		{"private 4in6", netip.MustParseAddr("::ffff:192.168.1.1"), Location{Private: true}, "Private network"},
		{"invalid", netip.Addr{}, Location{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.Lookup(tt.addr)
			if got != tt.want {
				t.Fatalf("Lookup(%v) = %+v, want %+v", tt.addr, got, tt.want)
			}
			if got.Label() != tt.label {
				t.Fatalf("Lookup(%v).Label() = %q, want %q", tt.addr, got.Label(), tt.label)
			}
		})
	}
}

// Demo seeding relies on every sample resolving to its own entry.
func TestDemoAddrs(t *testing.T) {
	r, _ := openDemo(t)
	nets, addrs := DemoNetworks(), DemoAddrs()
	if len(nets) != len(addrs) || len(addrs) < 8 {
		t.Fatalf("%d networks, %d addrs", len(nets), len(addrs))
	}
	seen := map[netip.Addr]bool{}
	for i, n := range nets {
		if addrs[i] != n.Sample || !n.Prefix.Contains(n.Sample) {
			t.Errorf("entry %d: sample %v not in %v", i, n.Sample, n.Prefix)
		}
		if got := r.Lookup(n.Sample); got != n.Location || !got.Known() {
			t.Errorf("Lookup(%v) = %+v, want %+v", n.Sample, got, n.Location)
		}
		if IsPrivate(n.Sample) {
			t.Errorf("demo sample %v is private", n.Sample)
		}
		if seen[n.Sample] {
			t.Errorf("sample %v listed twice", n.Sample)
		}
		seen[n.Sample] = true
	}
	nets[0].Location.City = "Changed" // DemoNetworks must hand out a copy
	if DemoNetworks()[0].Location.City == "Changed" {
		t.Error("DemoNetworks returned the package's own slice")
	}
}

func TestOpenFallbacks(t *testing.T) {
	const fix = "geoipupdate"
	tests := []struct {
		name string
		// setup returns the path to open, creating whatever should be there.
		setup   func(t *testing.T, dir string) string
		wantErr []string // substrings of the error; nil means Open must succeed
		errIs   error
		works   bool // public lookups answer from the file
	}{
		{name: "no path", setup: func(*testing.T, string) string { return "" }},
		{name: "GeoLite2-City", works: true, setup: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "a.mmdb")
			writeTestDB(t, p, "GeoLite2-City", berlin)
			return p
		}},
		{name: "DBIP-City-Lite accepted", works: true, setup: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "dbip.mmdb")
			writeTestDB(t, p, "DBIP-City-Lite", berlin)
			return p
		}},
		{name: "GeoIP2-City accepted", works: true, setup: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "paid.mmdb")
			writeTestDB(t, p, "GeoIP2-City", berlin)
			return p
		}},
		{name: "missing file", errIs: fs.ErrNotExist,
			wantErr: []string{"missing.mmdb", "no such file", fix, "-geoip-db"},
			setup:   func(_ *testing.T, dir string) string { return filepath.Join(dir, "missing.mmdb") }},
		{name: "corrupt file", wantErr: []string{"corrupt.mmdb", "not a valid MaxMind DB", fix},
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "corrupt.mmdb")
				writeFile(t, p, garbage())
				return p
			}},
		{name: "empty file", wantErr: []string{"empty.mmdb", fix},
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "empty.mmdb")
				writeFile(t, p, nil)
				return p
			}},
		{name: "directory", wantErr: []string{dirName, fix},
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, dirName)
				if err := os.Mkdir(p, 0o755); err != nil {
					t.Fatal(err)
				}
				return p
			}},
		{name: "country database", wantErr: []string{"country.mmdb", `"GeoLite2-Country"`, "not a City database", fix},
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "country.mmdb")
				writeTestDB(t, p, "GeoLite2-Country", berlin)
				return p
			}},
		{name: "unknown database type", wantErr: []string{"custom.mmdb", `"Portal-Test"`, fix},
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "custom.mmdb")
				writeTestDB(t, p, "Portal-Test", berlin)
				return p
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.setup(t, t.TempDir())
			r, err := Open(path, nil)
			if r == nil {
				t.Fatal("Open returned a nil *Resolver")
			}
			defer r.Close()
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("Open: %v", err)
			case tt.wantErr != nil && err == nil:
				t.Fatal("Open: want an error")
			}
			if err != nil {
				msg := err.Error()
				if !strings.HasPrefix(msg, "geo: ") || strings.Contains(msg, "\n") {
					t.Errorf("error is not a one-line geo: sentence: %q", msg)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(msg, s) {
						t.Errorf("error %q does not contain %q", msg, s)
					}
				}
				if tt.errIs != nil && !errors.Is(err, tt.errIs) {
					t.Errorf("errors.Is(%v, %v) = false", err, tt.errIs)
				}
				if st := r.Status(); st != "unavailable: "+msg {
					t.Errorf("Status() = %q, want unavailable: <the error>", st)
				}
			}
			want := Location{}
			if tt.works {
				want = berlin
			}
			if got := r.Lookup(probe); got != want {
				t.Errorf("Lookup(%v) = %+v, want %+v", probe, got, want)
			}
			if got := r.Lookup(netip.MustParseAddr("192.168.0.1")); got != (Location{Private: true}) {
				t.Errorf("private Lookup = %+v, want Private", got)
			}
		})
	}
}

const dirName = "a-directory.mmdb"

func TestStatus(t *testing.T) {
	r, path := openDemo(t)
	want := regexp.MustCompile(`^ok: ` + regexp.QuoteMeta(path) + ` \(GeoLite2-City, built \d{4}-\d{2}-\d{2}\)$`)
	if st := r.Status(); !want.MatchString(st) {
		t.Errorf("Status() = %q, want match %s", st, want)
	}
	none, err := Open("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if st := none.Status(); st != "disabled: no -geoip-db" {
		t.Errorf("Status() without path = %q", st)
	}
	var nilResolver *Resolver
	if st := nilResolver.Status(); st != "disabled: no -geoip-db" {
		t.Errorf("nil Status() = %q", st)
	}
}

// TestReloadUnderLoad swaps databases by rename while lookups run; with -race
// this checks the handover, and afterwards every old reader must be closed.
func TestReloadUnderLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "city.mmdb")
	writeTestDB(t, path, "GeoLite2-City", berlin)
	r, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	var (
		stop    atomic.Bool
		lookups atomic.Int64
		wg      sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			for !stop.Load() {
				got := r.Lookup(probe)
				if got != berlin && got != paris && got != lisbon {
					t.Errorf("Lookup during reload = %+v", got)
					return
				}
				lookups.Add(1)
			}
		})
	}

	var retired []*handle
	for i := range 20 {
		loc := berlin
		if i%2 == 0 {
			loc = paris
		}
		writeTestDB(t, path, "GeoLite2-City", loc) // writes a temp file and renames it over path
		retired = append(retired, r.cur.Load())
		if err := r.Reload(); err != nil {
			t.Fatalf("Reload %d: %v", i, err)
		}
	}
	writeTestDB(t, path, "GeoLite2-City", lisbon)
	retired = append(retired, r.cur.Load())
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := r.Lookup(probe); got != lisbon {
		t.Errorf("after Reload, Lookup = %+v, want %+v", got, lisbon)
	}
	eventually(t, "some lookups to run", func() bool { return lookups.Load() > 100 })
	stop.Store(true)
	wg.Wait()

	for i, h := range retired {
		select {
		case <-h.done:
		default:
			t.Errorf("reader %d was replaced but never closed", i)
		}
	}
	if got := r.Lookup(probe); got != lisbon {
		t.Errorf("Lookup = %+v, want %+v", got, lisbon)
	}
}

// A lookup that holds the old reader keeps it open across a reload; the
// reader closes when that lookup finishes. This is the guarantee that lets
// Reload swap without waiting.
func TestReloadWaitsForInFlightLookup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "city.mmdb")
	writeTestDB(t, path, "GeoLite2-City", berlin)
	r, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	old := r.cur.Load()
	if !old.acquire() { // stands in for a lookup that has just started
		t.Fatal("could not acquire current reader")
	}
	writeTestDB(t, path, "GeoLite2-City", paris)
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := r.Lookup(probe); got != paris {
		t.Errorf("new lookups = %+v, want %+v", got, paris)
	}
	select {
	case <-old.done:
		t.Fatal("old reader closed while a lookup still held it")
	default:
	}
	if got := old.lookup(probe); got != berlin {
		t.Errorf("in-flight lookup on old reader = %+v, want %+v", got, berlin)
	}
	old.release()
	select {
	case <-old.done:
	default:
		t.Fatal("old reader not closed after its last lookup finished")
	}
	if old.acquire() {
		t.Error("a closed reader could be acquired again")
	}
}

func TestReloadFailureKeepsOld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "city.mmdb")
	writeTestDB(t, path, "GeoLite2-City", berlin)
	r, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	replacements := []struct {
		name  string
		write func()
	}{
		{"corrupt", func() { writeFile(t, path, garbage()) }},
		{"country database", func() { writeTestDB(t, path, "GeoLite2-Country", paris) }},
		{"removed", func() {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, rep := range replacements {
		t.Run(rep.name, func(t *testing.T) {
			rep.write()
			err := r.Reload()
			if err == nil {
				t.Fatal("Reload succeeded, want error")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "geoipupdate") {
				t.Errorf("Reload error %q lacks path or fix", err)
			}
			if got := r.Lookup(probe); got != berlin {
				t.Errorf("after failed Reload, Lookup = %+v, want old %+v", got, berlin)
			}
			if st := r.Status(); !strings.HasPrefix(st, "ok: ") || !strings.Contains(st, "last reload failed: "+err.Error()) {
				t.Errorf("Status() = %q", st)
			}
		})
	}

	writeTestDB(t, path, "GeoLite2-City", paris)
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := r.Lookup(probe); got != paris {
		t.Errorf("after good Reload, Lookup = %+v, want %+v", got, paris)
	}
	if st := r.Status(); strings.Contains(st, "failed") {
		t.Errorf("Status() still reports a failure: %q", st)
	}
}

// An operator may start the server before geoipupdate has run.
func TestReloadAfterMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "later.mmdb")
	r, err := Open(path, nil)
	if err == nil {
		t.Fatal("Open of missing file: want error")
	}
	defer r.Close()
	writeTestDB(t, path, "GeoLite2-City", berlin)
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := r.Lookup(probe); got != berlin {
		t.Errorf("Lookup = %+v, want %+v", got, berlin)
	}
	if st := r.Status(); !strings.HasPrefix(st, "ok: ") {
		t.Errorf("Status() = %q", st)
	}
}

func TestCloseThenLookup(t *testing.T) {
	r, _ := openDemo(t)
	if got := r.Lookup(probe); got != berlin {
		t.Fatalf("before Close: %+v", got)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if got := r.Lookup(probe); got != (Location{}) {
		t.Errorf("after Close, Lookup = %+v, want Location{}", got)
	}
	if got := r.Lookup(netip.MustParseAddr("127.0.0.1")); got != (Location{Private: true}) {
		t.Errorf("after Close, private Lookup = %+v", got)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := r.Reload(); err == nil {
		t.Error("Reload after Close succeeded")
	}
	if got := r.Lookup(probe); got != (Location{}) {
		t.Errorf("Reload after Close revived the resolver: %+v", got)
	}
	if st := r.Status(); !strings.HasPrefix(st, "unavailable: ") {
		t.Errorf("Status() after Close = %q", st)
	}

	var nilResolver *Resolver
	if got := nilResolver.Lookup(probe); got != (Location{}) {
		t.Errorf("nil Lookup = %+v", got)
	}
	if err := nilResolver.Close(); err != nil {
		t.Errorf("nil Close: %v", err)
	}
}

func TestCloseWaitsForInFlightLookup(t *testing.T) {
	r, _ := openDemo(t)
	h := r.cur.Load()
	if !h.acquire() {
		t.Fatal("could not acquire current reader")
	}
	closed := make(chan error, 1)
	go func() { closed <- r.Close() }()
	eventually(t, "Close to retire the reader", func() bool { return r.cur.Load() == nil })
	select {
	case <-closed:
		t.Fatal("Close returned while a lookup was in flight")
	default:
	}
	if got := h.lookup(probe); got != berlin { // the in-flight lookup still works
		t.Errorf("in-flight lookup = %+v", got)
	}
	h.release()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
}
