package models

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// Query types.
const (
	QueryTypeSearch = "search"
	QueryTypeCount  = "count"
	QueryTypeQueue  = "queue"
	// QueryTypeSignals runs the security signals' detections over the events of the range (pkg/signals).
	QueryTypeSignals = "signals"
)

// Formats of search and queue results.
const (
	FormatLogs  = "logs"
	FormatTable = "table"
	// FormatTimeSeries is a signals query's findings counted over time, one series per detection and entity.
	FormatTimeSeries = "time_series"
)

// Limits on a query's limit (limits.json, which the query editor reads too). MaxLimit is what a logs or table
// panel can still take in one response: about 50 MB of Arrow for typical records. More is an export's job.
var (
	DefaultLimit = limits.Query.DefaultLimit
	MaxLimit     = limits.Query.MaxLimit
)

// Filters are criteria or exclusions: a record matches a list when it matches any value of it.
type Filters struct {
	Actor       []string `json:"actor,omitempty"`
	ActorIP     []string `json:"actor_ip,omitempty"`
	Description []string `json:"description,omitempty"`
	RequestURL  []string `json:"request_url,omitempty"`
	Flagged     *bool    `json:"flagged,omitempty"`
	Verbose     *bool    `json:"verbose,omitempty"`
	// Where actor_ip is, by the data source's GeoIP databases: CBC cannot search these, the plugin filters
	// the records the search returns (places.go).
	Country []string `json:"country,omitempty"`
	ASN     []string `json:"asn,omitempty"`
}

// Sort is a search's order.
type Sort struct {
	Field string `json:"field"`
	Order string `json:"order"`
}

// Query is what the query editor sends, shared with src/types.ts.
type Query struct {
	QueryType  string  `json:"queryType"`
	Query      string  `json:"query"`
	Criteria   Filters `json:"criteria"`
	Exclusions Filters `json:"exclusions"`
	Sort       *Sort   `json:"sort,omitempty"`
	Format     string  `json:"format"`
	Limit      int     `json:"limit"`
	GroupBy    string  `json:"groupBy"`
	Interval   string  `json:"interval"`
	TopN       int     `json:"topN"`
	// A signals query's detection ("" for every one) and its parameters by name, as text: "10", "15m".
	Detection  string            `json:"detection,omitempty"`
	Parameters map[string]string `json:"parameters,omitempty"`

	// Set from the request, not from the JSON.
	RefID     string        `json:"-"`
	TimeRange TimeRange     `json:"-"`
	Step      time.Duration `json:"-"` // the count query's bucket width: the query's interval, or Grafana's
	// MaxDataPoints is what the panel can draw, from Grafana; 0 when it said nothing.
	MaxDataPoints int64 `json:"-"`
}

// TimeRange is Grafana's time range for the query; the frontend never sends its own.
type TimeRange struct{ From, To time.Time }

// grafanaKeys are the keys Grafana itself adds to every query.
var grafanaKeys = map[string]bool{
	"refId": true, "datasource": true, "datasourceId": true, "intervalMs": true, "maxDataPoints": true,
	"hide": true, "key": true, "queryType": true, "timeRange": true, "interval": true, "format": true,
}

var queryKeys = map[string]bool{
	"editorMode": true, // the query editor's Builder or Code, nothing to the backend
	"query":      true, "criteria": true, "exclusions": true, "sort": true, "limit": true, "groupBy": true, "topN": true,
	"detection": true, "parameters": true,
}

// ParseQuery reads and validates one query. The error says what is wrong and what is allowed.
func ParseQuery(q backend.DataQuery) (Query, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(q.JSON, &keys); err != nil {
		return Query{}, fmt.Errorf("the query is not valid JSON: %v", err)
	}
	for k := range keys {
		if !grafanaKeys[k] && !queryKeys[k] {
			return Query{}, fmt.Errorf("unknown query field %q: a query has %s", k, strings.Join(sortedKeys(queryKeys), ", "))
		}
	}
	var query Query
	dec := json.NewDecoder(bytes.NewReader(q.JSON))
	if err := decodeQuery(dec, &query); err != nil {
		return Query{}, err
	}
	query.RefID = q.RefID
	query.MaxDataPoints = q.MaxDataPoints
	if query.QueryType == "" {
		query.QueryType = q.QueryType
	}
	query.TimeRange = TimeRange{From: q.TimeRange.From.UTC(), To: q.TimeRange.To.UTC()}
	if err := query.normalize(q.Interval); err != nil {
		return Query{}, err
	}
	return query, nil
}

// decodeQuery decodes strictly inside criteria, exclusions and sort, and leaves Grafana's keys alone.
func decodeQuery(dec *json.Decoder, into *Query) error {
	var loose struct {
		Query
		Criteria   json.RawMessage `json:"criteria"`
		Exclusions json.RawMessage `json:"exclusions"`
		Sort       json.RawMessage `json:"sort"`
	}
	if err := dec.Decode(&loose); err != nil {
		return describeJSONError(err)
	}
	*into = loose.Query
	for _, part := range []struct {
		name string
		raw  json.RawMessage
		into any
	}{
		{"criteria", loose.Criteria, &into.Criteria},
		{"exclusions", loose.Exclusions, &into.Exclusions},
		{"sort", loose.Sort, &into.Sort},
	} {
		if len(part.raw) == 0 || string(part.raw) == "null" {
			continue
		}
		d := json.NewDecoder(bytes.NewReader(part.raw))
		d.DisallowUnknownFields()
		if err := d.Decode(part.into); err != nil {
			if strings.Contains(err.Error(), "unknown field") {
				return fmt.Errorf("%s has an %v: it takes %s", part.name, err, strings.Join(CriteriaFields(), ", "))
			}
			return fmt.Errorf("%s is malformed: %v", part.name, describeJSONError(err))
		}
	}
	return nil
}

func describeJSONError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		field := typeErr.Field[strings.LastIndex(typeErr.Field, ".")+1:]
		want := map[string]string{"int": "a number", "string": "text", "bool": "true or false", "[]string": "a list of text"}[typeErr.Type.String()]
		if want == "" {
			want = typeErr.Type.String()
		}
		return fmt.Errorf("field %q must be %s, not %s", field, want, typeErr.Value)
	}
	return fmt.Errorf("the query is malformed: %v", err)
}

func (q *Query) normalize(grafanaInterval time.Duration) error {
	var problems []string
	q.Query = strings.TrimSpace(q.Query)
	switch q.QueryType {
	case "":
		q.QueryType = QueryTypeSearch
	case QueryTypeSearch, QueryTypeCount, QueryTypeQueue, QueryTypeSignals:
	default:
		problems = append(problems, fmt.Sprintf("query type %q is unknown: use search, count, queue or signals", q.QueryType))
	}
	switch q.Format = strings.ToLower(q.Format); {
	case q.QueryType == QueryTypeSignals && q.Format == "":
		q.Format = FormatTable
	case q.QueryType == QueryTypeSignals:
		if q.Format != FormatTable && q.Format != FormatTimeSeries {
			problems = append(problems, fmt.Sprintf("format %q is unknown for signals: use table (findings) or time_series", q.Format))
		}
	case q.Format == "":
		q.Format = FormatLogs
	case q.Format != FormatLogs && q.Format != FormatTable:
		problems = append(problems, fmt.Sprintf("format %q is unknown: use logs or table", q.Format))
	}
	switch {
	case q.Limit < 0:
		problems = append(problems, fmt.Sprintf("limit %d is negative: use a number from 1 to %d", q.Limit, MaxLimit))
	case q.Limit > MaxLimit:
		problems = append(problems, fmt.Sprintf("limit %d is too large: at most %d records fit in one response (use an export for more)", q.Limit, MaxLimit))
	case q.Limit == 0:
		q.Limit = DefaultLimit
	}
	if q.Sort != nil {
		q.Sort.Order = strings.ToUpper(q.Sort.Order)
		if q.Sort.Order == "" {
			q.Sort.Order = "DESC"
		}
		if !slices.Contains(SortableFields, q.Sort.Field) {
			problems = append(problems, fmt.Sprintf("cannot sort by %q: sortable fields are %s", q.Sort.Field, strings.Join(SortableFields, ", ")))
		}
		if q.Sort.Order != "ASC" && q.Sort.Order != "DESC" {
			problems = append(problems, fmt.Sprintf("sort order %q is unknown: use ASC or DESC", q.Sort.Order))
		}
	}
	problems = append(problems, q.Criteria.normalizePlaces("criteria")...)
	problems = append(problems, q.Exclusions.normalizePlaces("exclusions")...)
	if q.GroupBy != "" && !slices.Contains(GroupByFields, q.GroupBy) {
		problems = append(problems, fmt.Sprintf("cannot group by %q: use one of %s", q.GroupBy, strings.Join(GroupByFields, ", ")))
	}
	switch {
	case q.TopN < 0:
		problems = append(problems, fmt.Sprintf("top %d is negative: use 0 for every group, or the number of groups to keep", q.TopN))
	case q.TopN > MaxTopN:
		problems = append(problems, fmt.Sprintf("top %d is too large: keep at most %d groups", q.TopN, MaxTopN))
	}
	if q.TimeRange.To.Before(q.TimeRange.From) {
		problems = append(problems, fmt.Sprintf("the time range is inverted: %s is after %s", q.TimeRange.From.Format(time.RFC3339), q.TimeRange.To.Format(time.RFC3339)))
	}
	q.Step = grafanaInterval
	if q.Interval != "" {
		step, err := parseInterval(q.Interval)
		switch {
		case err != nil || step <= 0:
			problems = append(problems, fmt.Sprintf("interval %q is malformed: use e.g. 30s, 5m, 1h or 1d", q.Interval))
		case step > MaxInterval:
			problems = append(problems, fmt.Sprintf("interval %q is too long: at most 366d", q.Interval))
		}
		q.Step = step
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// MaxInterval and MaxTopN bound what a count query may ask for (limits.json).
var (
	MaxInterval = time.Duration(limits.Query.MaxIntervalDays) * 24 * time.Hour
	MaxTopN     = limits.Query.MaxTopN
)

// parseInterval reads a bucket width as Grafana writes one: 30s, 5m, 1h, 1d or 1w. Widths past MaxInterval
// are refused before they are multiplied, so none wraps around.
func parseInterval(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v < 0 {
				return 0, fmt.Errorf("not an interval")
			}
			if v > int(MaxInterval/unit) {
				return MaxInterval + 1, nil
			}
			return time.Duration(v) * unit, nil
		}
	}
	return time.ParseDuration(s)
}
