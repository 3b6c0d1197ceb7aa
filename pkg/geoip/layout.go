package geoip

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"
)

// layout reads one record layout into a Place.
type layout interface {
	read(result maxminddb.Result, p *Place) error
}

// detect finds the layout of a database's records from the first one that holds data, and refuses a file of
// the wrong kind or of neither layout, saying what it holds instead.
func detect(reader *maxminddb.Reader, kind Kind) (layout, error) {
	var sample map[string]any
	for result := range reader.Networks() {
		if err := result.Decode(&sample); err != nil {
			return nil, fmt.Errorf("its records do not decode: %w", err)
		}
		if len(sample) > 0 {
			break
		}
	}
	if sample == nil {
		return nil, errors.New("it holds no records")
	}
	_, asn := sample["autonomous_system_number"]
	_, geoip2Country := sample["country"].(map[string]any)
	_, geoip2City := sample["city"].(map[string]any)
	_, flat := sample["country_code"]
	switch {
	case kind == ASNDatabase && asn:
		return asnLayout{}, nil
	case kind == ASNDatabase && (geoip2Country || geoip2City || flat):
		return nil, errors.New("it is a City or Country database, not an ASN one: set it as the City database")
	case kind == CityDatabase && (geoip2Country || geoip2City):
		return geoip2Layout{}, nil
	case kind == CityDatabase && flat:
		return flatLayout{}, nil
	case kind == CityDatabase && asn:
		return nil, errors.New("it is an ASN database, not a City or Country one: set it as the ASN database")
	}
	return nil, fmt.Errorf("its records have neither MaxMind's GeoIP2 layout (country.iso_code, city.names.en, location) "+
		"nor the flat layout of ip-location-db (country_code, city, latitude), but %s (database type %q)",
		keysOf(sample), reader.Metadata.DatabaseType)
}

func keysOf(m map[string]any) string { return strings.Join(slices.Sorted(maps.Keys(m)), ", ") }

// geoip2Layout is MaxMind's: GeoLite2, GeoIP2 and db-ip.com's own mmdb downloads.
type geoip2Layout struct{}

type geoip2Record struct {
	Country struct {
		ISOCode string            `maxminddb:"iso_code"`
		Names   map[string]string `maxminddb:"names"`
	} `maxminddb:"country"`
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
	Location struct {
		Latitude  *float64 `maxminddb:"latitude"`
		Longitude *float64 `maxminddb:"longitude"`
	} `maxminddb:"location"`
}

func (geoip2Layout) read(result maxminddb.Result, p *Place) error {
	var r geoip2Record
	if err := result.Decode(&r); err != nil {
		return err
	}
	p.Country, p.CountryName, p.City = r.Country.ISOCode, r.Country.Names["en"], r.City.Names["en"]
	if r.Location.Latitude != nil && r.Location.Longitude != nil {
		p.Latitude, p.Longitude, p.Located = *r.Location.Latitude, *r.Location.Longitude, true
	}
	return nil
}

// flatLayout is that of the ip-location-db packages (e.g. dbip-city-mmdb): one level of plain fields.
type flatLayout struct{}

func (flatLayout) read(result maxminddb.Result, p *Place) error {
	var r map[string]any
	if err := result.Decode(&r); err != nil {
		return err
	}
	p.Country, _ = r["country_code"].(string)
	p.City, _ = r["city"].(string)
	lat, latOK := number(r["latitude"])
	lon, lonOK := number(r["longitude"])
	if latOK && lonOK {
		p.Latitude, p.Longitude, p.Located = lat, lon, true
	}
	return nil
}

// number reads a coordinate, which these files store as a float, a double or text.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil
	}
	return 0, false
}

// asnLayout is the same in both families: the AS number and its organisation.
type asnLayout struct{}

type asnRecord struct {
	Number uint32 `maxminddb:"autonomous_system_number"`
	Org    string `maxminddb:"autonomous_system_organization"`
}

func (asnLayout) read(result maxminddb.Result, p *Place) error {
	var r asnRecord
	if err := result.Decode(&r); err != nil {
		return err
	}
	p.ASN, p.ASOrg = r.Number, r.Org
	return nil
}
