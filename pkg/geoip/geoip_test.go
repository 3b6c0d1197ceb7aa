package geoip

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/seed/cbcauditlogs/pkg/geoip/geoiptest"
)

// Both layouts place IPv4 and IPv6 addresses alike: the country, its name, the city when the database has one,
// and the coordinates; private and reserved addresses read "private"; documentation ranges place nowhere.
func TestBothLayoutsPlaceAddressesAlike(t *testing.T) {
	dir := t.TempDir()
	layouts := map[string]string{
		"geoip2": geoiptest.Write(t, filepath.Join(dir, "geoip2.mmdb"), "GeoLite2-City", []geoiptest.Network{
			{CIDR: "81.2.69.0/24", Record: geoiptest.GeoIP2City("GB", "United Kingdom", "London", 51.5142, -0.0931)},
			{CIDR: "2001:480::/32", Record: geoiptest.GeoIP2City("US", "United States", "San Diego", 32.7203, -117.1552)},
			{CIDR: "89.160.20.0/24", Record: geoiptest.GeoIP2City("SE", "Sweden", "", 62, 15)},
		}),
		"flat": geoiptest.Write(t, filepath.Join(dir, "flat.mmdb"), "ip-location-db dbip-city", []geoiptest.Network{
			{CIDR: "81.2.69.0/24", Record: geoiptest.FlatCity("GB", "London", 51.5142, -0.0931)},
			{CIDR: "2001:480::/32", Record: geoiptest.FlatCity("US", "San Diego", 32.7203, -117.1552)},
			{CIDR: "89.160.20.0/24", Record: geoiptest.FlatCity("SE", "", 62, 15)},
		}),
	}
	asnPath := geoiptest.Write(t, filepath.Join(dir, "asn.mmdb"), "GeoLite2-ASN", []geoiptest.Network{
		{CIDR: "81.2.69.0/24", Record: geoiptest.ASN(20712, "Andrews & Arnold Ltd")},
		{CIDR: "2001:480::/32", Record: geoiptest.ASN(668, "DoD Network Information Center")},
	})
	for name, path := range layouts {
		t.Run(name, func(t *testing.T) {
			city, err := Open(path, CityDatabase)
			if err != nil {
				t.Fatal(err)
			}
			numbers, err := Open(asnPath, ASNDatabase)
			if err != nil {
				t.Fatal(err)
			}
			l := &Locator{City: city, ASN: numbers}
			for ip, want := range map[string]Place{
				"81.2.69.142":      {Country: "GB", CountryName: "United Kingdom", City: "London", Latitude: 51.5142, Longitude: -0.0931, Located: true, ASN: 20712, ASOrg: "Andrews & Arnold Ltd"},
				"::ffff:81.2.69.1": {Country: "GB", CountryName: "United Kingdom", City: "London", Latitude: 51.5142, Longitude: -0.0931, Located: true, ASN: 20712, ASOrg: "Andrews & Arnold Ltd"},
				"2001:480::1":      {Country: "US", CountryName: "United States", City: "San Diego", Latitude: 32.7203, Longitude: -117.1552, Located: true, ASN: 668, ASOrg: "DoD Network Information Center"},
				"89.160.20.112":    {Country: "SE", CountryName: "Sweden", Latitude: 62, Longitude: 15, Located: true},
				"10.20.0.15":       {Country: Private, CountryName: Private},
				"127.0.0.1":        {Country: Private, CountryName: Private},
				"::1":              {Country: Private, CountryName: Private},
				"fd00::5":          {Country: Private, CountryName: Private},
				"100.64.3.4":       {Country: Private, CountryName: Private},
				"192.0.2.45":       {},
				"198.51.100.7":     {},
				"203.0.113.10":     {},
				"not an address":   {},
			} {
				got := l.Place(ip)
				// The flat layout keeps its coordinates as 32-bit floats.
				got.Latitude, got.Longitude = round(got.Latitude), round(got.Longitude)
				want.Latitude, want.Longitude = round(want.Latitude), round(want.Longitude)
				if got != want {
					t.Errorf("%s: %+v, want %+v", ip, got, want)
				}
			}
		})
	}
}

func round(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// A file that is missing, not an mmdb file, of the other kind, or of neither layout is refused with its path
// and what to do.
func TestBadFilesAreRefusedByName(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.mmdb")
	if err := os.WriteFile(garbage, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	asnPath := geoiptest.Write(t, filepath.Join(dir, "asn.mmdb"), "GeoLite2-ASN", []geoiptest.Network{{CIDR: "81.2.69.0/24", Record: geoiptest.ASN(1, "x")}})
	cityPath := geoiptest.Write(t, filepath.Join(dir, "city.mmdb"), "GeoLite2-City", []geoiptest.Network{{CIDR: "81.2.69.0/24", Record: geoiptest.GeoIP2City("GB", "United Kingdom", "London", 1, 2)}})
	odd := geoiptest.Write(t, filepath.Join(dir, "odd.mmdb"), "Something-Else", []geoiptest.Network{{CIDR: "81.2.69.0/24", Record: mmdbtype.Map{"region": mmdbtype.String("x")}}})
	for _, c := range []struct {
		path string
		kind Kind
		want string
	}{
		{filepath.Join(dir, "missing.mmdb"), CityDatabase, "cannot be read"},
		{garbage, CityDatabase, "not a MaxMind DB"},
		{asnPath, CityDatabase, "is an ASN database, not a City or Country one"},
		{cityPath, ASNDatabase, "is a City or Country database, not an ASN one"},
		{odd, CityDatabase, "neither MaxMind's GeoIP2 layout"},
	} {
		_, err := Open(c.path, c.kind)
		if err == nil || !strings.Contains(err.Error(), c.path) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s as %s: %v; want the path and %q", filepath.Base(c.path), c.kind, err, c.want)
		}
	}
}

// A database replaced on disk (renamed over, as geoipupdate and package managers do) is read again, without a
// restart; one replaced by an unreadable file keeps serving its last good copy, and the check says what is
// wrong.
func TestAReplacedDatabaseIsReadAgain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "city.mmdb")
	geoiptest.Write(t, path, "GeoLite2-City", []geoiptest.Network{{CIDR: "81.2.69.0/24", Record: geoiptest.GeoIP2City("GB", "United Kingdom", "London", 1, 2)}})
	d, err := Open(path, CityDatabase)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	d.now = func() time.Time { return clock }
	l := &Locator{City: d}
	if got := l.Place("81.2.69.142").Country; got != "GB" {
		t.Fatalf("first copy: %q", got)
	}
	next := filepath.Join(filepath.Dir(path), "next.mmdb")
	geoiptest.Write(t, next, "GeoLite2-City", []geoiptest.Network{{CIDR: "81.2.69.0/24", Record: geoiptest.GeoIP2City("DE", "Germany", "Berlin", 1, 2)}})
	if err := os.Rename(next, path); err != nil { // as an updater replaces it
		t.Fatal(err)
	}
	if err := os.Chtimes(path, time.Now(), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(recheck)
	if got := l.Place("81.2.69.142").Country; got != "DE" {
		t.Errorf("after the file was replaced: %q, want DE", got)
	}
	if err := os.WriteFile(next, []byte("broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(next, path); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(recheck)
	if got := l.Place("81.2.69.142").Country; got != "DE" {
		t.Errorf("with the file broken: %q, want the last good copy's DE", got)
	}
	if err := l.Check(); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("the check of a broken file: %v", err)
	}
}
