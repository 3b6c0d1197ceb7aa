package cbcsim

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
)

// sortableFields are the fields a search may sort by ([chosen] in cbc-api.md).
var sortableFields = map[string]bool{
	"create_time": true, "actor": true, "actor_ip": true, "description": true,
	"request_url": true, "flagged": true, "verbose": true,
}

// badRequest is a search the simulator refuses with 400 and an error_code.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badRequestf(format string, args ...any) error {
	return &badRequest{msg: fmt.Sprintf(format, args...)}
}

// search is a compiled search body.
type search struct {
	query      matcher
	criteria   []matcher
	exclusions []matcher
	from, to   time.Time // narrows the scan when criteria hold an absolute create_time
	field      string
	order      string
}

func (s *Simulator) compile(query string, criteria, exclusions *cbc.Criteria, sortBy []cbc.SortField) (*search, error) {
	q, err := parseQuery(query)
	if err != nil {
		return nil, err
	}
	c := &search{query: q, field: "create_time", order: cbc.Desc}
	now := s.cfg.Now()
	if c.criteria, err = criteriaMatchers(criteria, now); err != nil {
		return nil, err
	}
	if c.exclusions, err = criteriaMatchers(exclusions, now); err != nil {
		return nil, err
	}
	if criteria != nil && criteria.CreateTime != nil && criteria.CreateTime.Range == "" {
		c.from, c.to, _ = absoluteRange(criteria.CreateTime)
	}
	if len(sortBy) > 1 {
		return nil, badRequestf("sort takes one field, got %d", len(sortBy))
	}
	if len(sortBy) == 1 {
		if !sortableFields[sortBy[0].Field] {
			return nil, badRequestf("cannot sort by %q: sortable fields are create_time, actor, actor_ip, description, request_url, flagged, verbose", sortBy[0].Field)
		}
		if sortBy[0].Order != cbc.Asc && sortBy[0].Order != cbc.Desc {
			return nil, badRequestf("sort order must be ASC or DESC, not %q", sortBy[0].Order)
		}
		c.field, c.order = sortBy[0].Field, sortBy[0].Order
	}
	return c, nil
}

func criteriaMatchers(c *cbc.Criteria, now time.Time) ([]matcher, error) {
	if c == nil {
		return nil, nil
	}
	var ms []matcher
	oneOf := func(values []string, get func(*cbc.Record) string) {
		if len(values) == 0 {
			return
		}
		ms = append(ms, func(r *cbc.Record) bool {
			v := get(r)
			for _, want := range values {
				if strings.EqualFold(v, want) {
					return true
				}
			}
			return false
		})
	}
	oneOf(c.Actor, func(r *cbc.Record) string { return r.Actor })
	oneOf(c.ActorIP, func(r *cbc.Record) string { return r.ActorIP })
	if len(c.Description) > 0 {
		// Descriptions are free text: a value matches as a phrase, like description:"..." in a query.
		phrases := make([][]string, len(c.Description))
		for i, d := range c.Description {
			phrases[i] = words(d)
		}
		ms = append(ms, func(r *cbc.Record) bool {
			have := words(r.Description)
			for _, p := range phrases {
				if containsWords(have, p, false) {
					return true
				}
			}
			return false
		})
	}
	oneOf(c.RequestURL, func(r *cbc.Record) string { return r.RequestURL })
	if c.Flagged != nil {
		want := *c.Flagged
		ms = append(ms, func(r *cbc.Record) bool { return r.Flagged == want })
	}
	if c.Verbose != nil {
		want := *c.Verbose
		ms = append(ms, func(r *cbc.Record) bool { return r.Verbose == want })
	}
	if c.CreateTime != nil {
		from, to, err := timeRange(c.CreateTime, now)
		if err != nil {
			return nil, err
		}
		ms = append(ms, func(r *cbc.Record) bool { return !r.CreateTime.Before(from) && !r.CreateTime.After(to) })
	}
	return ms, nil
}

var relativeRange = regexp.MustCompile(`^-(\d+)([ywdhms])$`)

// timeRange reads {"start", "end"} (inclusive) or {"range": "-3d"} (until now).
func timeRange(t *cbc.TimeRange, now time.Time) (time.Time, time.Time, error) {
	if t.Range != "" {
		if t.Start != "" || t.End != "" {
			return time.Time{}, time.Time{}, badRequestf("create_time takes either range or start and end, not both")
		}
		m := relativeRange.FindStringSubmatch(t.Range)
		if m == nil {
			return time.Time{}, time.Time{}, badRequestf("create_time range %q is malformed: expected -<number><y|w|d|h|m|s>, e.g. -3d", t.Range)
		}
		n, _ := strconv.Atoi(m[1])
		unit := map[string]time.Duration{"y": 365 * 24 * time.Hour, "w": 7 * 24 * time.Hour, "d": 24 * time.Hour, "h": time.Hour, "m": time.Minute, "s": time.Second}[m[2]]
		return now.Add(-time.Duration(n) * unit), now, nil
	}
	return absoluteRange(t)
}

func absoluteRange(t *cbc.TimeRange) (time.Time, time.Time, error) {
	from, err := time.Parse(time.RFC3339Nano, t.Start)
	if err != nil {
		return time.Time{}, time.Time{}, badRequestf("create_time start %q is not an ISO-8601 time", t.Start)
	}
	to, err := time.Parse(time.RFC3339Nano, t.End)
	if err != nil {
		return time.Time{}, time.Time{}, badRequestf("create_time end %q is not an ISO-8601 time", t.End)
	}
	if to.Before(from) {
		return time.Time{}, time.Time{}, badRequestf("create_time end %s is before start %s", t.End, t.Start)
	}
	return from, to, nil
}

func (c *search) matches(r *cbc.Record) bool {
	for _, m := range c.criteria {
		if !m(r) {
			return false
		}
	}
	for _, m := range c.exclusions {
		if m(r) {
			return false
		}
	}
	return c.query(r)
}

// hits are a search's matches in its order: positions in s.records when sorted by time (no copy), copies
// otherwise.
type hits struct {
	positions []int
	sorted    []cbc.Record
	records   []cbc.Record
}

func (h hits) len() int {
	if h.sorted != nil {
		return len(h.sorted)
	}
	return len(h.positions)
}

func (h hits) at(i int) cbc.Record {
	if h.sorted != nil {
		return h.sorted[i]
	}
	return h.records[h.positions[i]]
}

// run finds a search's matches. The caller holds s.mu and must not let the hits outlive it.
func (s *Simulator) run(c *search) hits {
	lo, hi := 0, len(s.records)
	if !c.from.IsZero() {
		lo = sort.Search(len(s.records), func(i int) bool { return !s.records[i].CreateTime.Before(c.from) })
		hi = sort.Search(len(s.records), func(i int) bool { return s.records[i].CreateTime.After(c.to) })
	}
	h := hits{records: s.records}
	for i := lo; i < hi; i++ {
		if c.matches(&s.records[i]) {
			h.positions = append(h.positions, i)
		}
	}
	switch {
	case c.field == "create_time" && c.order == cbc.Desc:
		for i, j := 0, len(h.positions)-1; i < j; i, j = i+1, j-1 {
			h.positions[i], h.positions[j] = h.positions[j], h.positions[i]
		}
	case c.field != "create_time":
		h.sorted = make([]cbc.Record, 0, len(h.positions))
		for _, p := range h.positions {
			h.sorted = append(h.sorted, s.records[p])
		}
		cbc.SortRecords(h.sorted, c.field, c.order)
	}
	return h
}

// Match returns every record req matches, in req's order and without the 10000-record window: the ground truth
// for a search.
func (s *Simulator) Match(req cbc.SearchRequest) ([]cbc.Record, error) {
	c, err := s.compile(req.Query, req.Criteria, req.Exclusions, req.Sort)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.run(c)
	out := make([]cbc.Record, h.len())
	for i := range out {
		out[i] = h.at(i)
	}
	return out, nil
}
