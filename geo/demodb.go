package geo

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// DemoNetwork is one entry of the demo database: every address in Prefix
// resolves to Location, and Sample is one such address for seeding demo data.
type DemoNetwork struct {
	Prefix   netip.Prefix
	Sample   netip.Addr
	Location Location
}

// demoNetworks covers documentation ranges only (RFC 5737, RFC 3849), so the
// demo database can never mislabel a real visitor. The shapes are deliberate:
// city+country, region only and country only exercise every Label fallback.
// 203.0.113.192/26 is intentionally absent, so 203.0.113.200 is "not found".
var demoNetworks = []DemoNetwork{
	demo("203.0.113.0/26", "203.0.113.10", "Berlin", "Berlin", "Germany", "DE"),
	demo("203.0.113.64/26", "203.0.113.70", "London", "England", "United Kingdom", "GB"),
	demo("203.0.113.128/26", "203.0.113.130", "Amsterdam", "North Holland", "Netherlands", "NL"),
	demo("198.51.100.0/25", "198.51.100.20", "San Francisco", "California", "United States", "US"),
	demo("198.51.100.128/25", "198.51.100.140", "Tokyo", "Tokyo", "Japan", "JP"),
	demo("192.0.2.0/25", "192.0.2.30", "", "Ontario", "Canada", "CA"),
	demo("192.0.2.128/25", "192.0.2.150", "", "", "Brazil", "BR"),
	demo("2001:db8:1::/48", "2001:db8:1::10", "Sydney", "New South Wales", "Australia", "AU"),
	demo("2001:db8:2::/48", "2001:db8:2:5::20", "Paris", "Île-de-France", "France", "FR"),
	demo("2001:db8:3::/48", "2001:db8:3:1::30", "Mumbai", "Maharashtra", "India", "IN"),
	demo("2001:db8:4::/48", "2001:db8:4::40", "", "", "Kenya", "KE"),
}

func demo(prefix, sample, city, region, country, code string) DemoNetwork {
	return DemoNetwork{
		Prefix:   netip.MustParsePrefix(prefix),
		Sample:   netip.MustParseAddr(sample),
		Location: Location{City: city, Region: region, Country: country, CountryCode: code},
	}
}

// DemoNetworks returns a copy of the table WriteDemoDB writes.
func DemoNetworks() []DemoNetwork {
	return append([]DemoNetwork(nil), demoNetworks...)
}

// DemoAddrs returns one sample address per demo network, in table order, so
// demo seeding can create sessions that resolve to each kind of location.
func DemoAddrs() []netip.Addr {
	addrs := make([]netip.Addr, len(demoNetworks))
	for i, n := range demoNetworks {
		addrs[i] = n.Sample
	}
	return addrs
}

// demoDBType must be a type geoip2-golang recognises, or it refuses to open
// the file; the description says what the file really is.
const demoDBType = "GeoLite2-City"

// WriteDemoDB writes a small City-schema database covering only the
// documentation ranges in DemoNetworks to path. The file is written to a
// temporary name and renamed into place, so a Resolver watching path never
// sees a half-written database.
func WriteDemoDB(path string) error {
	return writeDB(path, demoDBType, demoNetworks)
}

// writeDB writes nets as a City-schema MaxMind DB of the given type; tests use
// it to build databases with other contents and types.
func writeDB(path, dbType string, nets []DemoNetwork) error {
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType: dbType,
		Description:  map[string]string{"en": "portal demo database (documentation ranges only)"},
		Languages:    []string{"en"},
		// An IPv6 tree answers both families, like the published databases;
		// IPv4 aliasing (::ffff:0:0/96 etc.) stays on for the same reason.
		IPVersion: 6,
		// Documentation ranges are reserved; without this Insert rejects them.
		IncludeReservedNetworks: true,
	})
	if err != nil {
		return fmt.Errorf("geo: cannot start GeoIP database %s: %w", path, err)
	}
	for _, n := range nets {
		ipnet := &net.IPNet{
			IP:   n.Prefix.Addr().AsSlice(),
			Mask: net.CIDRMask(n.Prefix.Bits(), n.Prefix.Addr().BitLen()),
		}
		if err := tree.Insert(ipnet, cityRecord(n.Location)); err != nil {
			return fmt.Errorf("geo: cannot add %s to GeoIP database %s: %w", n.Prefix, path, err)
		}
	}
	return writeAtomic(path, tree)
}

// cityRecord builds the subset of the GeoIP2 City schema that Lookup reads,
// leaving out empty parts so "country only" records really lack a city.
func cityRecord(l Location) mmdbtype.Map {
	names := func(s string) mmdbtype.Map {
		return mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(s)}}
	}
	rec := mmdbtype.Map{}
	if l.City != "" {
		rec["city"] = names(l.City)
	}
	if l.Region != "" {
		rec["subdivisions"] = mmdbtype.Slice{names(l.Region)}
	}
	if l.Country != "" || l.CountryCode != "" {
		c := mmdbtype.Map{}
		if l.Country != "" {
			c = names(l.Country)
		}
		if l.CountryCode != "" {
			c["iso_code"] = mmdbtype.String(l.CountryCode)
		}
		rec["country"] = c
	}
	return rec
}

// writeAtomic writes tree next to path and renames it over path, the same
// way geoipupdate replaces databases.
func writeAtomic(path string, tree *mmdbwriter.Tree) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("geo: cannot write GeoIP database %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	w := bufio.NewWriter(f)
	if _, err = tree.WriteTo(w); err != nil {
		return fmt.Errorf("geo: cannot write GeoIP database %s: %w", path, err)
	}
	if err = w.Flush(); err != nil {
		return fmt.Errorf("geo: cannot write GeoIP database %s: %w", path, err)
	}
	// CreateTemp makes the file 0600; a database is not secret, and the
	// server may run as a different user than whoever generated it.
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("geo: cannot write GeoIP database %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("geo: cannot write GeoIP database %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("geo: cannot write GeoIP database %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("geo: cannot write GeoIP database %s: %w", path, err)
	}
	return nil
}
