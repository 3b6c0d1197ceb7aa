// Package geoip places an IP address — country, city, coordinates, autonomous system — with MaxMind-format
// (mmdb) databases kept on the Grafana host. Two record layouts are read, told apart from the file itself:
// MaxMind's GeoIP2 layout (GeoLite2, GeoIP2, db-ip.com's own downloads) and the flat layout of the
// ip-location-db packages. Files are memory-mapped, and opened again when they change on disk: replace a file
// by renaming a new one over it, as geoipupdate does, never by writing into it.
package geoip

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// Private is the country of private, loopback and reserved addresses, which place nowhere.
const Private = "private"

// Place is where an address is: what the databases say of it, each part empty when they do not know.
type Place struct {
	Country     string // ISO 3166-1 code, or Private
	CountryName string
	City        string
	Latitude    float64
	Longitude   float64
	Located     bool // Latitude and Longitude are known
	ASN         uint32
	ASOrg       string
}

// Kind is what a database answers: where an address is, or which network it belongs to.
type Kind string

// The two kinds: a City or Country database, and an ASN one.
const (
	CityDatabase Kind = "city"
	ASNDatabase  Kind = "asn"
)

// recheck is how often a lookup looks whether a database's file changed.
const recheck = 10 * time.Second

// Database is one mmdb file, opened again when it changes.
type Database struct {
	path string
	kind Kind
	now  func() time.Time

	mu      sync.RWMutex
	reader  *maxminddb.Reader
	layout  layout
	stamp   fileStamp
	checked time.Time
	err     error // why the file cannot be read now; the last good copy serves meanwhile
}

// fileStamp tells a changed file from the one that was opened.
type fileStamp struct {
	size    int64
	modTime time.Time
}

// Open opens the database at path as kind. The error names the path and says what is wrong with it.
func Open(path string, kind Kind) (*Database, error) {
	d := &Database{path: path, kind: kind, now: time.Now}
	if err := d.reload(); err != nil {
		return nil, err
	}
	return d, nil
}

// reload opens the file again when it changed, and keeps the copy it has when the new one cannot be read.
func (d *Database) reload() error {
	info, err := os.Stat(d.path)
	if err != nil {
		return d.failed(fmt.Errorf("GeoIP %s database %s cannot be read: %w", d.kind, d.path, err))
	}
	stamp := fileStamp{size: info.Size(), modTime: info.ModTime()}
	d.mu.RLock()
	same := d.reader != nil && d.stamp == stamp
	d.mu.RUnlock()
	if same {
		return d.failed(nil)
	}
	reader, err := maxminddb.Open(d.path)
	if err != nil {
		return d.failed(fmt.Errorf("GeoIP %s database %s is not a MaxMind DB (mmdb) file: %w", d.kind, d.path, err))
	}
	found, err := detect(reader, d.kind)
	if err != nil {
		_ = reader.Close()
		return d.failed(fmt.Errorf("GeoIP %s database %s: %w", d.kind, d.path, err))
	}
	d.mu.Lock()
	old := d.reader
	d.reader, d.layout, d.stamp, d.err = reader, found, stamp, nil
	d.mu.Unlock()
	if old != nil {
		_ = old.Close() // no lookup holds it: they hold d.mu while they read
	}
	return nil
}

func (d *Database) failed(err error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.err = err
	return err
}

// Check looks at the file now, opening it again if it changed, and says what is wrong with it, if anything.
func (d *Database) Check() error { return d.reload() }

// Path is the file the database reads.
func (d *Database) Path() string { return d.path }

// fresh opens the file again when it may have changed since the last look.
func (d *Database) fresh() {
	d.mu.Lock()
	due := d.now().Sub(d.checked) >= recheck
	if due {
		d.checked = d.now()
	}
	d.mu.Unlock()
	if due {
		_ = d.reload()
	}
}

// place fills in what this database says of addr.
func (d *Database) place(addr netip.Addr, p *Place) {
	d.fresh()
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.reader == nil {
		return
	}
	result := d.reader.Lookup(addr)
	if !result.Found() {
		return
	}
	_ = d.layout.read(result, p) // a record that does not decode places nothing
}

// Placer says where an address is: a Locator, or nil when the data source has no GeoIP database.
type Placer interface {
	Place(ip string) Place
}

// Memo looks each address up once: a few addresses make most of an audit log. It is not safe for concurrent
// use; one serves a frame, a count or a filter.
type Memo struct {
	placer Placer
	seen   map[string]Place
}

// NewMemo remembers what placer says of each address.
func NewMemo(placer Placer) *Memo { return &Memo{placer: placer, seen: map[string]Place{}} }

// Of is where ip is.
func (m *Memo) Of(ip string) Place {
	p, ok := m.seen[ip]
	if !ok {
		p = m.placer.Place(ip)
		m.seen[ip] = p
	}
	return p
}

// Locator places addresses with an optional City (or Country) database and an optional ASN database.
type Locator struct {
	City *Database
	ASN  *Database
}

// Place is where the address text is; an empty Place when it is not an address or no database knows it.
func (l *Locator) Place(ip string) Place {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return Place{}
	}
	addr = addr.Unmap()
	if reserved(addr) {
		return Place{Country: Private, CountryName: Private}
	}
	var p Place
	if l.City != nil {
		l.City.place(addr, &p)
	}
	if l.ASN != nil {
		l.ASN.place(addr, &p)
	}
	if p.CountryName == "" && p.Country != "" {
		p.CountryName = countryName(p.Country)
	}
	return p
}

// Check says what is wrong with either database, naming its path; nil when both can be read.
func (l *Locator) Check() error {
	var errs []error
	for _, d := range []*Database{l.City, l.ASN} {
		if d != nil {
			errs = append(errs, d.Check())
		}
	}
	return errors.Join(errs...)
}

// reservedNetworks are the special-purpose ranges (RFC 6890) that place nowhere on the Internet, beside the
// private, loopback, link-local, multicast and unspecified ones the standard library knows. Documentation
// ranges are left out: a database simply does not place them.
var reservedNetworks = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("100::/64"),
}

func reserved(addr netip.Addr) bool {
	if addr.IsPrivate() || addr.IsLoopback() || addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() ||
		addr.IsMulticast() || addr.IsUnspecified() {
		return true
	}
	for _, n := range reservedNetworks {
		if n.Contains(addr) {
			return true
		}
	}
	return false
}

// countryName is a country's English name from its ISO code, for databases that carry the code only.
func countryName(code string) string {
	region, err := language.ParseRegion(code)
	if err != nil {
		return code
	}
	if name := display.English.Regions().Name(region); name != "" {
		return name
	}
	return code
}
