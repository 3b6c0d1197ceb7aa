package cbcsim

import (
	"cmp"
	"encoding/json"
	"slices"
	"sort"
	"strings"
)

// compareBy orders two events by one sortable field: text in byte order, false before true, time by time.
var compareBy = map[string]func(a, b *entry) int{
	"create_time": func(a, b *entry) int { return a.CreateTime.Compare(b.CreateTime) },
	"actor":       func(a, b *entry) int { return strings.Compare(a.Actor, b.Actor) },
	"actor_ip":    func(a, b *entry) int { return strings.Compare(a.ActorIP, b.ActorIP) },
	"description": func(a, b *entry) int { return strings.Compare(a.Description, b.Description) },
	"request_url": func(a, b *entry) int { return strings.Compare(a.RequestURL, b.RequestURL) },
	"flagged":     func(a, b *entry) int { return compareBools(a.Flagged, b.Flagged) },
	"verbose":     func(a, b *entry) int { return compareBools(a.Verbose, b.Verbose) },
}

func compareBools(a, b bool) int {
	toInt := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	return cmp.Compare(toInt(a), toInt(b))
}

// search is a compiled search body.
type search struct {
	query      predicate
	criteria   filter
	exclusions filter
	sort       []sortKey
}

func (s *Simulator) compile(body searchBody) (*search, error) {
	now := s.cfg.Now()
	query, err := s.compileQuery(body.Query, now)
	if err != nil {
		return nil, err
	}
	c := &search{query: query}
	if s.cfg.RefuseEmptyRange && emptyRange(body.Criteria) {
		return nil, badRequestf("create_time start and end are the same instant: the range is empty")
	}
	if c.criteria, err = readFilter(body.Criteria, now, s.cfg.EndExclusive); err != nil {
		return nil, err
	}
	if c.exclusions, err = readFilter(body.Exclusions, now, s.cfg.EndExclusive); err != nil {
		return nil, err
	}
	if c.sort, err = body.sortKeys(); err != nil {
		return nil, err
	}
	if len(c.sort) == 0 {
		c.sort = []sortKey{{Field: "create_time", Order: s.cfg.DefaultSort}}
	}
	return c, nil
}

// emptyRange reports a create_time criterion whose start and end are the same instant.
func emptyRange(criteria map[string]json.RawMessage) bool {
	var t struct{ Start, End string }
	if json.Unmarshal(criteria["create_time"], &t) != nil || t.Start == "" {
		return false
	}
	from, errFrom := parseTime(t.Start)
	to, errTo := parseTime(t.End)
	return errFrom == nil && errTo == nil && from.Equal(to)
}

func (c *search) matches(e *entry) bool {
	for _, p := range c.criteria.predicates {
		if !p(e) {
			return false
		}
	}
	for _, p := range c.exclusions.predicates {
		if p(e) {
			return false
		}
	}
	return c.query(e)
}

// run finds a search's matches in its order. The caller holds s.mu, and must not keep the entries past it.
func (s *Simulator) run(c *search) []*entry {
	lo, hi := 0, len(s.records)
	if from, to := c.criteria.from, c.criteria.to; !from.IsZero() {
		lo = sort.Search(len(s.records), func(i int) bool { return !s.records[i].CreateTime.Before(from) })
		hi = sort.Search(len(s.records), func(i int) bool { return s.records[i].CreateTime.After(to) })
	}
	var matched []*entry
	now := s.cfg.Now()
	for i := lo; i < hi; i++ {
		if s.records[i].indexed.After(now) {
			continue // a late event search does not find yet
		}
		if c.matches(&s.records[i]) {
			matched = append(matched, &s.records[i])
		}
	}
	// The store is oldest first, so a sort by time alone is the store's order or its reverse. Any other sort
	// puts the newest first among equals.
	switch {
	case len(c.sort) == 1 && c.sort[0].Field == "create_time":
		if c.sort[0].Order == "DESC" {
			slices.Reverse(matched)
		}
	default:
		slices.Reverse(matched)
		slices.SortStableFunc(matched, func(a, b *entry) int {
			for _, k := range c.sort {
				n := compareBy[k.Field](a, b)
				if k.Order == "DESC" {
					n = -n
				}
				if n != 0 {
					return n
				}
			}
			return 0
		})
	}
	return matched
}

// events copies entries out of the store.
func events(entries []*entry) []Event {
	out := make([]Event, len(entries))
	for i, e := range entries {
		out[i] = e.Event
	}
	return out
}

// Match returns every event a search body (JSON, as a client sends it) matches, in its order and without the
// 10000-record window: the ground truth for a search.
func (s *Simulator) Match(body []byte) ([]Event, error) {
	b, err := readBody(body)
	if err != nil {
		return nil, err
	}
	c, err := s.compile(b)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return events(s.run(c)), nil
}
