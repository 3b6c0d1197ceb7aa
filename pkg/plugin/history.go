package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/history"
	"github.com/seed/cbcauditlogs/pkg/models"
)

// The history cache in use (README, "The history cache"): a count reads its closed time slices through the
// cache and only the open tail from CBC; a logs or table query sorted by time over a search whose slices the
// cache already holds (because a count panel read them) shares them. The tail is read once for all queries of
// the same search and time range; an alert rule's query reads its own.

// searchIdentity names a search without its time range and order: the records it matches in any slice.
func searchIdentity(req cbc.SearchRequest) string {
	criteria := cbc.Criteria{}
	if req.Criteria != nil {
		criteria = *req.Criteria
	}
	criteria.CreateTime = nil
	key, _ := json.Marshal(struct {
		Query      string
		Criteria   cbc.Criteria
		Exclusions *cbc.Criteria
	}{req.Query, criteria, req.Exclusions})
	return string(key)
}

// withRange is req over [from, to], both inclusive.
func withRange(req cbc.SearchRequest, span history.Span) cbc.SearchRequest {
	criteria := cbc.Criteria{}
	if req.Criteria != nil {
		criteria = *req.Criteria
	}
	criteria.CreateTime = cbc.Between(span.From, span.To)
	req.Criteria = &criteria
	return req
}

// errTooManyForHistory sends a query the cache cannot answer within max records back to the direct path.
var errTooManyForHistory = errors.New("more records than max records")

// historyRecords is every record req matches over tr, oldest first, read through the history cache; ok is
// false when the cache is off or cannot hold them, and the caller reads CBC directly.
func (d *Datasource) historyRecords(ctx context.Context, req cbc.SearchRequest, tr models.TimeRange, fresh bool) (records []cbc.Record, ok bool, err error) {
	if d.history == nil {
		return nil, false, nil
	}
	search := searchIdentity(req)
	res, err := d.history.Read(ctx, search, history.Span{From: tr.From, To: tr.To}, d.readSlices(req))
	if err == nil {
		records, err = d.withTail(ctx, req, search, res, fresh)
	}
	if errors.Is(err, history.ErrTooLarge) || errors.Is(err, errTooManyForHistory) {
		return nil, false, nil
	}
	return records, err == nil, err
}

// cachedRecords is like historyRecords, but answers only when the cache holds every closed slice of tr.
func (d *Datasource) cachedRecords(ctx context.Context, req cbc.SearchRequest, tr models.TimeRange, fresh bool) (records []cbc.Record, ok bool, err error) {
	if d.history == nil {
		return nil, false, nil
	}
	search := searchIdentity(req)
	res, held := d.history.Cached(search, history.Span{From: tr.From, To: tr.To})
	if !held {
		return nil, false, nil
	}
	records, err = d.withTail(ctx, req, search, res, fresh)
	if errors.Is(err, errTooManyForHistory) {
		return nil, false, nil
	}
	return records, err == nil, err
}

// withTail appends the open tail's records to the closed slices' and checks the total against max records.
func (d *Datasource) withTail(ctx context.Context, req cbc.SearchRequest, search string, res history.Result, fresh bool) ([]cbc.Record, error) {
	records := res.Records
	if res.Tail != nil {
		tail, err := d.readTail(ctx, req, search, *res.Tail, fresh)
		if err != nil {
			return nil, err
		}
		records = slices.Concat(records, tail)
	}
	if len(records) > d.settings.EffectiveMaxRecords() {
		return nil, errTooManyForHistory
	}
	return records, nil
}

// readSlices reads runs of closed slices for the cache: every record, or none when there are more than max
// records. After the first load a run is the hour that just closed: its first page is one request.
func (d *Datasource) readSlices(req cbc.SearchRequest) history.Fetch {
	return func(ctx context.Context, from, to time.Time, keep func(cbc.Record) bool) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stopped := false
		scanned, err := d.client.ScanRecent(ctx, withRange(req, history.Span{From: from, To: to}), d.settings.EffectiveMaxRecords(), func(r cbc.Record) {
			if !stopped && !keep(r) {
				stopped = true
				cancel()
			}
		})
		switch {
		case stopped:
			return nil
		case err == nil && scanned.Scanned < scanned.NumFound:
			return history.ErrTooLarge
		}
		return err
	}
}

// readTail reads the records of the open tail, oldest first: once for all queries of one search and range
// made within the cache time, unless fresh.
func (d *Datasource) readTail(ctx context.Context, req cbc.SearchRequest, search string, tail history.Span, fresh bool) ([]cbc.Record, error) {
	read := func(ctx context.Context) (cbc.SearchResult, error) {
		var records []cbc.Record
		scanned, err := d.client.ScanRecent(ctx, withRange(req, tail), d.settings.EffectiveMaxRecords(), func(r cbc.Record) { records = append(records, r) })
		if err == nil && scanned.Scanned < scanned.NumFound {
			err = errTooManyForHistory
		}
		slices.SortStableFunc(records, func(a, b cbc.Record) int { return a.CreateTime.Compare(b.CreateTime) })
		return cbc.SearchResult{Records: records, NumFound: len(records)}, err
	}
	var (
		result cbc.SearchResult
		err    error
	)
	if fresh {
		result, err = read(ctx)
	} else {
		result, err = d.cache.get(ctx, fmt.Sprintf("tail %d-%d %s", tail.From.UnixMilli(), tail.To.UnixMilli(), search), read)
	}
	return result.Records, err
}
