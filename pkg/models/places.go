package models

import (
	"fmt"
	"strconv"
	"strings"
)

// PrivateCountry is the country of private, loopback and reserved addresses (geoip.Private).
const PrivateCountry = "private"

// FiltersPlaces reports whether the query's criteria or exclusions name a country or a network, which the
// plugin applies to the records CBC returns.
func (q Query) FiltersPlaces() bool {
	return len(q.Criteria.Country)+len(q.Criteria.ASN)+len(q.Exclusions.Country)+len(q.Exclusions.ASN) > 0
}

// normalizePlaces writes countries as ISO codes in capitals (or private) and networks as their numbers, so
// "de", "AS3320" and "AS3320 Deutsche Telekom AG" (as a count's series names it) all filter as written.
func (f *Filters) normalizePlaces(side string) []string {
	var problems []string
	for i, v := range f.Country {
		code := strings.TrimSpace(v)
		switch {
		case strings.EqualFold(code, PrivateCountry):
			f.Country[i] = PrivateCountry
		case len(code) == 2 && isLetters(code):
			f.Country[i] = strings.ToUpper(code)
		default:
			problems = append(problems, fmt.Sprintf("%s.country %q is not a country: use a two-letter ISO code such as US or DE, or private", side, v))
		}
	}
	for i, v := range f.ASN {
		number, ok := asNumber(v)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s.asn %q is not a network: use its number, such as 3320 or AS3320", side, v))
			continue
		}
		f.ASN[i] = strconv.FormatUint(uint64(number), 10)
	}
	return problems
}

// asNumber reads an autonomous system number: 3320, AS3320, or AS3320 followed by the network's name.
func asNumber(v string) (uint32, bool) {
	v = strings.TrimSpace(v)
	if len(v) > 2 && strings.EqualFold(v[:2], "AS") {
		v = v[2:]
	}
	digits, _, _ := strings.Cut(v, " ")
	n, err := strconv.ParseUint(digits, 10, 32)
	return uint32(n), err == nil
}

func isLetters(s string) bool {
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}
