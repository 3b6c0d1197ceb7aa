package search

import (
	"context"
	"slices"
	"strconv"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/geoip"
	"github.com/seed/cbcauditlogs/pkg/models"
)

// Placer places actor_ip in frames and counts; nil when the settings name no GeoIP database.
func (s *Service) Placer() geoip.Placer {
	if s.places == nil {
		return nil
	}
	return s.places
}

// needsPlaces says why the query's country or asn cannot be worked out, as a user error: the settings name no
// database of the kind it needs, or the one they name cannot be read. nil when it can, or the query uses
// neither.
func (s *Service) needsPlaces(q models.Query) error {
	var city, asn *geoip.Database
	if s.places != nil {
		city, asn = s.places.City, s.places.ASN
	}
	for _, need := range []struct {
		field, kind string
		uses        bool
		db          *geoip.Database
	}{
		{"country", "City or Country", q.GroupBy == "country" || len(q.Criteria.Country)+len(q.Exclusions.Country) > 0, city},
		{"asn", "ASN", q.GroupBy == "asn" || len(q.Criteria.ASN)+len(q.Exclusions.ASN) > 0, asn},
	} {
		switch {
		case !need.uses || need.db != nil:
		case s.placesErr != nil:
			return models.UserErrorf("%s needs the data source's GeoIP %s database, which cannot be read: %v", need.field, need.kind, s.placesErr)
		default:
			return models.UserErrorf("%s needs a GeoIP %s database: set its path on the data source's settings page (GeoIP)", need.field, need.kind)
		}
	}
	return nil
}

// placeFilter is the query's country and asn criteria and exclusions as a test of a record; nil when it has
// none. CBC cannot search where an address is, so the plugin applies them to the records the search returns.
func (s *Service) placeFilter(q models.Query) func(cbc.Record) bool {
	if !q.FiltersPlaces() {
		return nil
	}
	memo := geoip.NewMemo(s.places)
	return func(r cbc.Record) bool {
		p := memo.Of(r.ActorIP)
		asn := ""
		if p.ASN != 0 {
			asn = strconv.FormatUint(uint64(p.ASN), 10)
		}
		return allows(q.Criteria.Country, q.Exclusions.Country, p.Country) && allows(q.Criteria.ASN, q.Exclusions.ASN, asn)
	}
}

// allows: a value passes when criteria name none or it, and exclusions do not name it.
func allows(criteria, exclusions []string, v string) bool {
	return (len(criteria) == 0 || slices.Contains(criteria, v)) && !slices.Contains(exclusions, v)
}

// searchPlaces answers a search filtered by country or network: it visits every record the search matches, up
// to max records, as a count does, and keeps the first q.Limit that pass in the query's order. It holds at
// most twice q.Limit records, however many pass. scanned says how many it visited of how many matched.
func (s *Service) searchPlaces(ctx context.Context, q models.Query, keep func(cbc.Record) bool, fromAlert bool) (result cbc.SearchResult, scanned cbc.ScanResult, err error) {
	order := Request(q).Sort[0]
	var kept []cbc.Record
	trim := func() {
		cbc.SortRecords(kept, order.Field, order.Order)
		kept = kept[:min(len(kept), q.Limit)]
	}
	scanned, err = s.each(ctx, q, fromAlert, func(r cbc.Record) {
		if !keep(r) {
			return
		}
		result.NumFound++
		if kept = append(kept, r); len(kept) >= 2*q.Limit {
			trim()
		}
	})
	if err != nil {
		return cbc.SearchResult{}, cbc.ScanResult{}, err
	}
	trim()
	result.Records = kept
	return result, scanned, nil
}
