package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/tracing"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/frames"
	"github.com/seed/cbcauditlogs/pkg/models"
)

var _ backend.QueryDataHandler = (*Datasource)(nil)

// QueryData answers each query on its own: a bad query gets its own error and never fails its siblings.
// Queries run concurrently, at most the configured concurrency at once, sharing the client's request budget.
func (d *Datasource) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	response := backend.NewQueryDataResponse()
	if err := d.configError(); err != nil {
		for _, q := range req.Queries {
			response.Responses[q.RefID] = errorResponse(err)
		}
		return response, nil
	}
	var (
		mu     sync.Mutex
		wg     sync.WaitGroup
		slots  = make(chan struct{}, d.settings.EffectiveConcurrency())
		budget = frames.MaxResponseBytes / max(1, len(req.Queries))
		// An alert rule reads the newest events itself, never from what another query read moments ago.
		fresh = req.Headers[backend.FromAlertHeaderName] != ""
	)
	for _, q := range req.Queries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			res := d.query(ctx, q, budget, fresh)
			mu.Lock()
			response.Responses[q.RefID] = res
			mu.Unlock()
		}()
	}
	wg.Wait()
	return response, nil
}

func (d *Datasource) query(ctx context.Context, dq backend.DataQuery, budget int, fresh bool) backend.DataResponse {
	q, err := models.ParseQuery(dq)
	if err != nil {
		return errorResponse(userError{err})
	}
	ctx, span := tracing.DefaultTracer().Start(ctx, "cbcauditlogs.query", trace.WithAttributes(
		attribute.String("query.refId", q.RefID), attribute.String("query.type", q.QueryType),
		attribute.String("query.format", q.Format), attribute.Int("query.limit", q.Limit)))
	defer span.End()
	release, err := d.admit(ctx, q)
	if err != nil {
		return errorResponse(err)
	}
	defer release()
	var res backend.DataResponse
	switch q.QueryType {
	case models.QueryTypeCount:
		res, err = d.count(ctx, q, fresh)
	case models.QueryTypeQueue:
		res, err = d.queueQuery(q)
	default:
		res, err = d.search(ctx, q, budget, fresh)
	}
	if err != nil {
		span.SetStatus(codes.Error, "failed")
		return errorResponse(err)
	}
	rows := 0
	for _, f := range res.Frames {
		rows += f.Rows()
	}
	span.SetAttributes(attribute.Int("query.rows", rows), attribute.Int("query.frames", len(res.Frames)))
	return res
}

// searchRequest turns the query into the body sent to CBC: Grafana's time range becomes
// criteria.create_time, everything else passes through as the user wrote it.
func searchRequest(q models.Query) cbc.SearchRequest {
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

// runSearch runs a search through the cache.
func (d *Datasource) runSearch(ctx context.Context, req cbc.SearchRequest, limit int) (cbc.SearchResult, error) {
	key, _ := json.Marshal(struct {
		Req   cbc.SearchRequest
		Limit int
	}{req, limit})
	return d.cache.get(ctx, string(key), func(ctx context.Context) (cbc.SearchResult, error) {
		return d.client.Search(ctx, req, limit, d.settings.EffectiveMaxRecords())
	})
}

func (d *Datasource) search(ctx context.Context, q models.Query, budget int, fresh bool) (backend.DataResponse, error) {
	req := searchRequest(q)
	result, ok, err := d.searchHistory(ctx, req, q, fresh)
	if !ok && err == nil {
		result, err = d.runSearch(ctx, req, q.Limit)
	}
	if err != nil {
		return backend.DataResponse{}, err
	}
	records := result.Records
	var notices []data.Notice
	if fit := frames.Fit(records, budget); fit < len(records) {
		notices = append(notices, warning(fmt.Sprintf("Showing %d of %d records: more would not fit in one response. Narrow the search, or export it.", fit, len(records))))
		records = records[:fit]
	}
	if result.NumFound > len(records) {
		notices = append(notices, info(fmt.Sprintf("%d records match; showing the first %d. Raise the limit (at most %d), narrow the search, or export it.", result.NumFound, len(records), models.MaxLimit)))
	}
	if result.Sampled {
		notices = append(notices, warning(fmt.Sprintf("Sorted among the newest %d matches only: more match than the data source's max records allow to sort. Sort by create_time for an exact order.", d.settings.EffectiveMaxRecords())))
	}
	var frame *data.Frame
	if q.Format == models.FormatTable {
		frame = frames.Table(q.RefID, records)
	} else {
		frame = frames.Logs(q.RefID, records)
	}
	executed := req
	executed.Rows = min(q.Limit, cbc.MaxRows)
	shown, _ := json.MarshalIndent(executed, "", "  ")
	frame.Meta.ExecutedQueryString = string(shown)
	frame.Meta.Notices = notices
	return backend.DataResponse{Frames: data.Frames{frame}}, nil
}

// searchHistory answers a search sorted by time from the history cache, when it holds the search's closed
// slices: the records a count panel over the same search read.
func (d *Datasource) searchHistory(ctx context.Context, req cbc.SearchRequest, q models.Query, fresh bool) (cbc.SearchResult, bool, error) {
	if req.Sort[0].Field != "create_time" {
		return cbc.SearchResult{}, false, nil
	}
	answer, ok, err := d.historyRecords(ctx, req, q.TimeRange, fresh, true)
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

func (d *Datasource) count(ctx context.Context, q models.Query, fresh bool) (backend.DataResponse, error) {
	step, notice, err := bucketWidth(q)
	if err != nil {
		return backend.DataResponse{}, err
	}
	req := searchRequest(q)
	req.Sort = nil
	maxRecords := d.settings.EffectiveMaxRecords()
	counter := frames.NewCounter(q.TimeRange.From, q.TimeRange.To, step, q.GroupBy)
	answer, cached, err := d.historyRecords(ctx, req, q.TimeRange, fresh, false)
	if err != nil {
		return backend.DataResponse{}, err
	}
	var scanned cbc.ScanResult
	if cached {
		answer.each(counter.Add)
		scanned = cbc.ScanResult{NumFound: answer.len(), Scanned: answer.len()}
	} else if scanned, err = d.client.Scan(ctx, req, maxRecords, counter.Add); err != nil {
		// Without the cache nothing is kept: a count may read up to maxRecords records.
		return backend.DataResponse{}, err
	}
	out := counter.Frames(q.RefID, q.TopN)
	if notice != "" && len(out) > 0 {
		out[0].Meta.Notices = append(out[0].Meta.Notices, info(notice))
	}
	if scanned.NumFound > scanned.Scanned && len(out) > 0 {
		out[0].Meta.Notices = append(out[0].Meta.Notices, warning(fmt.Sprintf("Counted %d of %d matching events: the data source's max records (%d) stopped the count. Narrow the time range or raise max records.", scanned.Scanned, scanned.NumFound, maxRecords)))
	}
	return backend.DataResponse{Frames: out}, nil
}

// niceSteps are the bucket widths a count picks for itself, each a whole part of a day or a week.
var niceSteps = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour,
}

// niceStep is the smallest nice width of at least min.
func niceStep(min time.Duration) time.Duration {
	for _, nice := range niceSteps {
		if nice >= min {
			return nice
		}
	}
	week := niceSteps[len(niceSteps)-1]
	return (min + week - 1) / week * week
}

// bucketWidth is a count's bucket width. An interval the user wrote is kept, and refused when it makes more
// buckets than a series holds. Grafana's interval (1 s from the alerting UI, 64 ms from the alerting engine) is
// raised to the smallest nice width that fits the panel's maxDataPoints and the series' bound, with a notice
// saying so; without any interval, about 100 buckets.
func bucketWidth(q models.Query) (time.Duration, string, error) {
	span := q.TimeRange.To.Sub(q.TimeRange.From)
	if q.Interval != "" {
		if n := span / q.Step; n > frames.MaxBuckets {
			return 0, "", userErrorf("interval %s makes %d buckets over this time range; use a wider interval (at most %d buckets)", q.Interval, n, frames.MaxBuckets)
		}
		return q.Step, "", nil
	}
	if q.Step <= 0 {
		return niceStep(span / 100), "", nil
	}
	limit := int64(frames.MaxBuckets)
	if q.MaxDataPoints > 0 {
		limit = min(limit, q.MaxDataPoints)
	}
	if int64(span/q.Step) <= limit {
		return q.Step, "", nil
	}
	step := niceStep(time.Duration((int64(span) + limit - 1) / limit))
	return step, fmt.Sprintf("Counted in %s buckets: Grafana's interval of %s would make %d buckets over this time range, more than the %d this panel can show. Set an interval on the query to choose the width.",
		step, q.Step, int64(span/q.Step), limit), nil
}

func warning(text string) data.Notice {
	return data.Notice{Severity: data.NoticeSeverityWarning, Text: text}
}

func info(text string) data.Notice { return data.Notice{Severity: data.NoticeSeverityInfo, Text: text} }
