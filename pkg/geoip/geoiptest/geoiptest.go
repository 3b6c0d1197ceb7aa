// Package geoiptest writes small MaxMind-format databases for tests, in both record layouts.
package geoiptest

import (
	"bytes"
	"net"
	"os"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Network is one range of a test database and the record it holds.
type Network struct {
	CIDR   string
	Record mmdbtype.Map
}

// Write writes an mmdb file of the networks, as MaxMind's writer makes them, and returns its path.
func Write(t testing.TB, path, databaseType string, networks []Network) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: databaseType, RecordSize: 28})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range networks {
		_, ipnet, err := net.ParseCIDR(n.CIDR)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(ipnet, n.Record); err != nil {
			t.Fatal(err)
		}
	}
	var file bytes.Buffer
	if _, err := tree.WriteTo(&file); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, file.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// names are a place's names in English, as MaxMind's records hold them.
func names(en string) mmdbtype.Map { return mmdbtype.Map{"en": mmdbtype.String(en)} }

// GeoIP2City is a record in MaxMind's layout; an empty city leaves the city out, as for a country's range.
func GeoIP2City(iso, country, city string, lat, lon float64) mmdbtype.Map {
	r := mmdbtype.Map{
		"country":  mmdbtype.Map{"iso_code": mmdbtype.String(iso), "names": names(country)},
		"location": mmdbtype.Map{"latitude": mmdbtype.Float64(lat), "longitude": mmdbtype.Float64(lon)},
	}
	if city != "" {
		r["city"] = mmdbtype.Map{"names": names(city)}
	}
	return r
}

// FlatCity is a record in the ip-location-db layout, whose coordinates are 32-bit floats.
func FlatCity(iso, city string, lat, lon float32) mmdbtype.Map {
	r := mmdbtype.Map{"country_code": mmdbtype.String(iso), "latitude": mmdbtype.Float32(lat), "longitude": mmdbtype.Float32(lon)}
	if city != "" {
		r["city"], r["state1"] = mmdbtype.String(city), mmdbtype.String("somewhere")
	}
	return r
}

// ASN is a record of an ASN database, the same in both layouts.
func ASN(number uint32, org string) mmdbtype.Map {
	return mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(number), "autonomous_system_organization": mmdbtype.String(org)}
}
