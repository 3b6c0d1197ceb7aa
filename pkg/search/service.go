// Package search answers a data source's searches and counts: through the short-lived cache of recent
// searches, the history cache of closed hours, and admission by memory, with the notices that tell the user
// what the answer leaves out. The Grafana handlers, exports, and the benchmark all go through it.
package search

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"golang.org/x/sync/semaphore"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/frames"
	"github.com/seed/cbcauditlogs/pkg/geoip"
	"github.com/seed/cbcauditlogs/pkg/history"
	"github.com/seed/cbcauditlogs/pkg/models"
)

// Config sets up a Service from the data source's settings.
type Config struct {
	MaxRecords  int           // the most records one search or count reads
	CacheTTL    time.Duration // how long a search's answer is reused
	AlertSettle time.Duration // how long an alert rule waits for an hour to close (Settings.AlertSettle)
	History     *history.Cache
	CacheHit    func(hit bool) // told whether each search was answered from the cache of recent searches
	Places      *geoip.Locator // where addresses are, for counts and filters by country or network; nil without GeoIP
	PlacesErr   error          // why a GeoIP database the settings name cannot be read
}

// Service answers the searches and counts of one data source.
type Service struct {
	client      *cbc.Client
	maxRecords  int
	alertSettle time.Duration
	cache       *recentCache
	history     *history.Cache // nil when the settings turn it off
	admission   *semaphore.Weighted
	places      *geoip.Locator
	placesErr   error
}

// New makes the service of one data source.
func New(client *cbc.Client, cfg Config) *Service {
	counted := cfg.CacheHit
	if counted == nil {
		counted = func(bool) {}
	}
	return &Service{client: client, maxRecords: cfg.MaxRecords, alertSettle: cfg.AlertSettle,
		cache: newRecentCache(cfg.CacheTTL, counted), history: cfg.History, admission: newAdmission(),
		places: cfg.Places, placesErr: cfg.PlacesErr}
}

// Found is the answer to a search: the records to show and what to tell the user about them.
type Found struct {
	Records  []cbc.Record
	Executed cbc.SearchRequest // the search as sent to CBC, for the query inspector
	Notices  []data.Notice
}

// Search answers a logs or table query: the first q.Limit records in the query's order, as many as fit in
// budget bytes of response. fromAlert is set for an alert rule's query, which reads the newest events itself,
// never from what another query read moments ago.
func (s *Service) Search(ctx context.Context, q models.Query, budget int, fromAlert bool) (Found, error) {
	if err := s.needsPlaces(q); err != nil {
		return Found{}, err
	}
	req := Request(q)
	var (
		result  cbc.SearchResult
		scanned cbc.ScanResult // of a search filtered by country or network
		err     error
	)
	if keep := s.placeFilter(q); keep != nil {
		result, scanned, err = s.searchPlaces(ctx, q, keep, fromAlert)
	} else {
		var ok bool
		result, ok, err = s.searchHistory(ctx, req, q, fromAlert)
		if !ok && err == nil {
			result, err = s.searchRecent(ctx, req, q.TimeRange.From, q.TimeRange.To, q.Limit)
		}
	}
	if err != nil {
		return Found{}, err
	}
	found := Found{Records: result.Records, Executed: req}
	found.Executed.Rows = min(q.Limit, cbc.MaxRows)
	if fit := frames.Fit(found.Records, budget); fit < len(found.Records) {
		found.Notices = append(found.Notices, frames.Warning(fmt.Sprintf("Showing %d of %d records: more would not fit in one response. Narrow the search, or export it.", fit, len(found.Records))))
		found.Records = found.Records[:fit]
	}
	if result.NumFound > len(found.Records) {
		found.Notices = append(found.Notices, frames.Info(fmt.Sprintf("%d records match; showing the first %d. Raise the limit (at most %d), narrow the search, or export it.", result.NumFound, len(found.Records), models.MaxLimit)))
	}
	if scanned.Scanned < scanned.NumFound {
		found.Notices = append(found.Notices, frames.Warning(fmt.Sprintf("The country and network filters saw %d of the %d records the search matched: the data source's max records stopped the rest. Narrow the search or the time range.", scanned.Scanned, scanned.NumFound)))
	}
	if result.Sampled {
		found.Notices = append(found.Notices, frames.Warning(fmt.Sprintf("Sorted among the newest %d matches only: more match than the data source's max records allow to sort. Sort by create_time for an exact order.", s.maxRecords)))
	}
	return found, nil
}

// searchRecent runs a search over [from, to] through the cache of recent searches. Searches that differ only by
// a range that moved within one cache time, such as a dashboard refreshed by many viewers a few seconds apart,
// share one answer, kept to each one's range: as with any answer from the cache, the events of the last seconds
// may come only at the next refresh.
func (s *Service) searchRecent(ctx context.Context, req cbc.SearchRequest, from, to time.Time, limit int) (cbc.SearchResult, error) {
	from, to = from.Truncate(time.Millisecond), to.Truncate(time.Millisecond)
	req = req.WithTime(from, to)
	anyTime := *req.Criteria
	anyTime.CreateTime = nil
	bucket := max(s.cache.ttl.Milliseconds(), 1)
	key, _ := json.Marshal(struct {
		Query      string
		Criteria   cbc.Criteria
		Exclusions *cbc.Criteria
		Sort       []cbc.SortField
		From, To   int64 // in cache times
		Limit      int
	}{req.Query, anyTime, req.Exclusions, req.Sort, from.UnixMilli() / bucket, to.UnixMilli() / bucket, limit})
	result, err := s.cache.get(ctx, string(key), func(ctx context.Context) (cbc.SearchResult, error) {
		return s.client.Search(ctx, req, limit, s.maxRecords)
	})
	outside := func(r cbc.Record) bool { return r.CreateTime.Before(from) || r.CreateTime.After(to) }
	if err == nil && slices.ContainsFunc(result.Records, outside) { // read for a range a little earlier
		kept := slices.DeleteFunc(slices.Clone(result.Records), outside)
		result.NumFound -= len(result.Records) - len(kept)
		result.Records = kept
	}
	return result, err
}

// searchHistory answers a search sorted by time from the history cache, when it holds the search's closed
// slices: the records a count panel over the same search read.
func (s *Service) searchHistory(ctx context.Context, req cbc.SearchRequest, q models.Query, fromAlert bool) (cbc.SearchResult, bool, error) {
	if req.Sort[0].Field != "create_time" {
		return cbc.SearchResult{}, false, nil
	}
	answer, ok, err := s.historyRecords(ctx, req, q.TimeRange, fromAlert, true)
	if !ok {
		return cbc.SearchResult{}, false, err
	}
	result := cbc.SearchResult{NumFound: answer.len()}
	if strings.EqualFold(req.Sort[0].Order, cbc.Desc) {
		result.Records = answer.newest(q.Limit)
	} else {
		result.Records = answer.oldest(q.Limit)
	}
	return result, true, nil
}

// Count answers a count query: the matching events in buckets over the time range, as frames.
func (s *Service) Count(ctx context.Context, q models.Query, fromAlert bool) (data.Frames, error) {
	step, notice, err := bucketWidth(q)
	if err != nil {
		return nil, err
	}
	if err := s.needsPlaces(q); err != nil {
		return nil, err
	}
	counter := frames.NewCounter(q.TimeRange.From, q.TimeRange.To, step, q.GroupBy, s.Placer())
	add := counter.Add
	if keep := s.placeFilter(q); keep != nil {
		add = func(r cbc.Record) {
			if keep(r) {
				counter.Add(r)
			}
		}
	}
	scanned, err := s.each(ctx, q, fromAlert, add)
	if err != nil {
		return nil, err
	}
	out := counter.Frames(q.RefID, q.TopN)
	if notice != "" && len(out) > 0 {
		out[0].Meta.Notices = append(out[0].Meta.Notices, frames.Info(notice))
	}
	if scanned.NumFound > scanned.Scanned && len(out) > 0 {
		out[0].Meta.Notices = append(out[0].Meta.Notices, frames.Warning(fmt.Sprintf("Counted %d of %d matching events: the data source's max records (%d) stopped the count. Narrow the time range or raise max records.", scanned.Scanned, scanned.NumFound, s.maxRecords)))
	}
	return out, nil
}

// each visits every event the query matches over its time range, up to max records, in no particular order:
// from the history cache when it can answer, from CBC otherwise, keeping nothing.
func (s *Service) each(ctx context.Context, q models.Query, fromAlert bool, visit func(cbc.Record)) (cbc.ScanResult, error) {
	req := Request(q)
	req.Sort = nil
	answer, cached, err := s.historyRecords(ctx, req, q.TimeRange, fromAlert, false)
	if err != nil {
		return cbc.ScanResult{}, err
	}
	if cached {
		answer.each(visit)
		return cbc.ScanResult{NumFound: answer.len(), Scanned: answer.len()}, nil
	}
	return s.client.Scan(ctx, req, s.maxRecords, visit)
}

// Events visits every audit event over [from, to], up to max records, in no particular order, as a count of
// every event does: through the history cache, so a baseline read once is reused.
func (s *Service) Events(ctx context.Context, from, to time.Time, fromAlert bool, visit func(cbc.Record)) (cbc.ScanResult, error) {
	return s.each(ctx, models.Query{TimeRange: models.TimeRange{From: from, To: to}}, fromAlert, visit)
}

// valuesSample is how many of the newest matching records Values reads.
const valuesSample = 5000

// Values is a field's distinct values among the newest records of a time range, most frequent first.
func (s *Service) Values(ctx context.Context, field string, from, to time.Time) ([]string, error) {
	if err := s.needsPlaces(models.Query{GroupBy: field}); err != nil {
		return nil, err
	}
	result, err := s.searchRecent(ctx, cbc.SearchRequest{Criteria: &cbc.Criteria{}}, from, to, valuesSample)
	if err != nil {
		return nil, err
	}
	value := frames.GroupKey(field, s.Placer())
	counts := map[string]int{}
	for _, r := range result.Records {
		if v := value(r); v != frames.NoValue {
			counts[v]++
		}
	}
	values := slices.Collect(maps.Keys(counts))
	slices.SortFunc(values, func(a, b string) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return values, nil
}

// Size is how many records the caches hold, and about how many bytes.
func (s *Service) Size() (records, bytes int) {
	records, bytes = s.cache.size()
	r, b := s.HistorySize()
	return records + r, bytes + int(b)
}

// HistorySize is how many records the history cache holds, and about how many bytes; zero when it is off.
func (s *Service) HistorySize() (records int, bytes int64) {
	if s.history == nil {
		return 0, 0
	}
	return s.history.Size()
}

// Request turns a query into the body sent to CBC: Grafana's time range becomes criteria.create_time,
// everything else passes through as the user wrote it.
func Request(q models.Query) cbc.SearchRequest {
	criteria := toCriteria(q.Criteria)
	criteria.CreateTime = cbc.Between(q.TimeRange.From, q.TimeRange.To)
	req := cbc.SearchRequest{Query: q.Query, Criteria: &criteria}
	if exclusions := toCriteria(q.Exclusions); !exclusions.IsEmpty() {
		req.Exclusions = &exclusions
	}
	req.Sort = []cbc.SortField{{Field: "create_time", Order: cbc.Desc}} // named always: CBC's default is not documented
	if q.Sort != nil {
		req.Sort = []cbc.SortField{{Field: q.Sort.Field, Order: q.Sort.Order}}
	}
	return req
}

func toCriteria(f models.Filters) cbc.Criteria {
	return cbc.Criteria{Actor: f.Actor, ActorIP: f.ActorIP, Description: f.Description, RequestURL: f.RequestURL, Flagged: f.Flagged, Verbose: f.Verbose}
}
