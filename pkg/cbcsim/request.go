package cbcsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The search limits of cbc-api.md ([chosen] there): a page holds at most maxRows records, and only the first
// window matches can be paged through.
const (
	maxRows = 10000
	window  = 10000
)

// searchBody is a search or export request as the simulator reads it: like a server, it ignores keys it does
// not know, takes a criteria value as a list or as a scalar, and reads sort orders in any case.
type searchBody struct {
	Query      string                     `json:"query"`
	Criteria   map[string]json.RawMessage `json:"criteria"`
	Exclusions map[string]json.RawMessage `json:"exclusions"`
	Rows       int                        `json:"rows"`
	Start      int                        `json:"start"`
	Sort       json.RawMessage            `json:"sort"`
	Format     string                     `json:"format"`
}

type sortKey struct {
	Field string `json:"field"`
	Order string `json:"order"`
}

// badRequest is a request the simulator refuses with 400 and an error_code.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badRequestf(format string, args ...any) error {
	return &badRequest{msg: fmt.Sprintf(format, args...)}
}

func readBody(raw []byte) (searchBody, error) {
	var body searchBody
	if len(bytes.TrimSpace(raw)) == 0 {
		return body, nil
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return body, badRequestf("the request body is not valid JSON: %v", err)
	}
	return body, nil
}

// sortKeys reads "sort" as a list of {field, order} or as one such object. No order means ASC.
func (b searchBody) sortKeys() ([]sortKey, error) {
	raw := bytes.TrimSpace(b.Sort)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var keys []sortKey
	if raw[0] == '{' {
		var one sortKey
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, badRequestf("sort must be a list of {field, order}: %v", err)
		}
		keys = []sortKey{one}
	} else if err := json.Unmarshal(raw, &keys); err != nil {
		return nil, badRequestf("sort must be a list of {field, order}: %v", err)
	}
	for i, k := range keys {
		if _, ok := compareBy[k.Field]; !ok {
			return nil, badRequestf("cannot sort by %q: sortable fields are create_time, actor, actor_ip, description, request_url, flagged, verbose", k.Field)
		}
		switch strings.ToUpper(k.Order) {
		case "", "ASC":
			keys[i].Order = "ASC"
		case "DESC":
			keys[i].Order = "DESC"
		default:
			return nil, badRequestf("sort order must be ASC or DESC, not %q", k.Order)
		}
	}
	return keys, nil
}

// filter is compiled criteria or exclusions: one predicate per key. from and to narrow the scan when an
// absolute create_time is given.
type filter struct {
	predicates []predicate
	from, to   time.Time
}

// readFilter compiles criteria or exclusions: AND across keys, OR within a key's values.
func readFilter(c map[string]json.RawMessage, now time.Time, endExclusive bool) (filter, error) {
	var f filter
	for key, raw := range c {
		kind, known := fieldKinds[key]
		if !known {
			return f, badRequestf("unknown criteria field %q: use actor, actor_ip, description, request_url, org_key, flagged, verbose or create_time", key)
		}
		var p predicate
		var err error
		switch kind {
		case keywordField:
			p, err = oneOfStrings(key, raw)
		case textField:
			p, err = descriptionPhrases(raw)
		case boolField:
			p, err = oneOfBools(key, raw)
		case dateField:
			p, f.from, f.to, err = timeCriterion(raw, now, endExclusive)
		}
		if err != nil {
			return f, err
		}
		f.predicates = append(f.predicates, p)
	}
	return f, nil
}

// stringList reads a JSON string or list of strings.
func stringList(key string, raw json.RawMessage) ([]string, error) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, badRequestf("criteria %s takes a string or a list of strings", key)
	}
	return list, nil
}

func oneOfStrings(key string, raw json.RawMessage) (predicate, error) {
	values, err := stringList(key, raw)
	if err != nil {
		return nil, err
	}
	i := keywordIndex[key]
	return func(e *entry) bool {
		for _, want := range values {
			if strings.EqualFold(e.keywords[i], want) {
				return true
			}
		}
		return false
	}, nil
}

// descriptionPhrases: description is free text, so a value matches as a phrase, like description:"…".
func descriptionPhrases(raw json.RawMessage) (predicate, error) {
	values, err := stringList("description", raw)
	if err != nil {
		return nil, err
	}
	phrases := make([][]string, len(values))
	for i, v := range values {
		phrases[i] = analyse(v)
	}
	return func(e *entry) bool {
		for _, p := range phrases {
			if len(p) > 0 && phraseWithin(e.words, p, 0) {
				return true
			}
		}
		return false
	}, nil
}

// oneOfBools reads true, [true], "true" or ["true", false].
func oneOfBools(key string, raw json.RawMessage) (predicate, error) {
	var list []any
	if err := json.Unmarshal(raw, &list); err != nil {
		var one any
		_ = json.Unmarshal(raw, &one)
		list = []any{one}
	}
	want := map[bool]bool{}
	for _, v := range list {
		switch v := v.(type) {
		case bool:
			want[v] = true
		case string:
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, badRequestf("criteria %s takes true or false, not %q", key, v)
			}
			want[b] = true
		default:
			return nil, badRequestf("criteria %s takes true or false", key)
		}
	}
	// A record that leaves the boolean out is false here: criteria are CBC's own filters, not query_string.
	if key == "flagged" {
		return func(e *entry) bool { return want[e.Flagged] }, nil
	}
	return func(e *entry) bool { return want[e.Verbose] }, nil
}

var relativeRange = regexp.MustCompile(`^-(\d+)([ywdhms])$`)

// timeCriterion reads {"start", "end"} or {"range": "-3d"} (until now). With endExclusive, end leaves out its
// own millisecond: one of the real API's undocumented behaviours, offered as a mode.
func timeCriterion(raw json.RawMessage, now time.Time, endExclusive bool) (p predicate, from, to time.Time, err error) {
	var t struct{ Start, End, Range string }
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, from, to, badRequestf("criteria create_time takes {\"start\", \"end\"} or {\"range\"}")
	}
	if t.Range != "" {
		if t.Start != "" || t.End != "" {
			return nil, from, to, badRequestf("create_time takes either range or start and end, not both")
		}
		m := relativeRange.FindStringSubmatch(t.Range)
		if m == nil {
			return nil, from, to, badRequestf("create_time range %q is malformed: expected -<number><y|w|d|h|m|s>, e.g. -3d", t.Range)
		}
		n, _ := strconv.Atoi(m[1])
		unit := map[string]time.Duration{"y": 365 * 24 * time.Hour, "w": 7 * 24 * time.Hour, "d": 24 * time.Hour, "h": time.Hour, "m": time.Minute, "s": time.Second}[m[2]]
		since := now.Add(-time.Duration(n) * unit)
		return func(e *entry) bool { return !e.CreateTime.Before(since) && !e.CreateTime.After(now) }, time.Time{}, time.Time{}, nil
	}
	if from, err = parseTime(t.Start); err != nil {
		return nil, from, to, badRequestf("create_time start: %v", err)
	}
	if to, err = parseTime(t.End); err != nil {
		return nil, from, to, badRequestf("create_time end: %v", err)
	}
	if to.Before(from) {
		return nil, from, to, badRequestf("create_time end %s is before start %s", t.End, t.Start)
	}
	if endExclusive {
		to = to.Add(-time.Nanosecond)
	}
	return func(e *entry) bool { return !e.CreateTime.Before(from) && !e.CreateTime.After(to) }, from, to, nil
}
