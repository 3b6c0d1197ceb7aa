package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/history"
	"github.com/seed/cbcauditlogs/pkg/models"
)

// The history cache in use (docs/history-cache.md): a count reads its closed time slices through the cache and
// only the open tail from CBC; a logs or table query sorted by time over a search whose slices the cache
// already holds (because a count panel read them) shares them. The tail is read once for all queries of the
// same search and time range; an alert rule's query reads its own.

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

// errTooManyForHistory sends a query the cache cannot answer within max records back to the direct path.
var errTooManyForHistory = errors.New("more records than max records")

// historyAnswer is every record a search matches over a time range: the closed slices' from the cache and the
// open tail's, oldest first.
type historyAnswer struct {
	closed history.Result
	tail   []cbc.Record
}

// each visits every record, oldest first.
func (a historyAnswer) each(visit func(cbc.Record)) {
	a.closed.Each(visit)
	for _, r := range a.tail {
		visit(r)
	}
}

func (a historyAnswer) len() int { return a.closed.Len() + len(a.tail) }

// newest is the last n records, newest first.
func (a historyAnswer) newest(n int) []cbc.Record {
	out := make([]cbc.Record, 0, min(n, len(a.tail)))
	for i := len(a.tail) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, a.tail[i])
	}
	return append(out, a.closed.Newest(n-len(out))...)
}

// oldest is the first n records, oldest first.
func (a historyAnswer) oldest(n int) []cbc.Record {
	out := a.closed.Oldest(n)
	return append(out, a.tail[:min(len(a.tail), n-len(out))]...)
}

// historyRecords answers req over tr through the history cache, reading missing closed slices from CBC, or with
// onlyHeld only when the cache holds every one. ok is false when the cache is off or cannot answer, and the
// caller reads CBC directly.
func (s *Service) historyRecords(ctx context.Context, req cbc.SearchRequest, tr models.TimeRange, fromAlert, onlyHeld bool) (answer historyAnswer, ok bool, err error) {
	if s.history == nil {
		return historyAnswer{}, false, nil
	}
	search := searchIdentity(req)
	span := history.Span{From: tr.From, To: tr.To}
	var settle time.Duration // the cache's own
	if fromAlert {
		settle = s.alertSettle
	}
	var res history.Result
	if onlyHeld {
		if res, ok = s.history.Cached(search, span, settle); !ok {
			return historyAnswer{}, false, nil
		}
	} else if res, err = s.history.Read(ctx, search, span, settle, s.readSlices(req)); err != nil {
		return historyAnswer{}, false, cacheRefusal(err)
	}
	answer, err = s.withTail(ctx, req, search, res, fromAlert)
	if err != nil {
		return historyAnswer{}, false, cacheRefusal(err)
	}
	return answer, true, nil
}

// cacheRefusal is nil for the errors that send a query back to the direct path, err otherwise.
func cacheRefusal(err error) error {
	if errors.Is(err, history.ErrTooLarge) || errors.Is(err, errTooManyForHistory) {
		return nil
	}
	return err
}

// withTail reads the open tail to go with the closed slices, and checks the total against max records.
func (s *Service) withTail(ctx context.Context, req cbc.SearchRequest, search string, res history.Result, fromAlert bool) (historyAnswer, error) {
	answer := historyAnswer{closed: res}
	if res.Tail != nil {
		tail, err := s.readTail(ctx, req, search, *res.Tail, fromAlert)
		if err != nil {
			return historyAnswer{}, err
		}
		answer.tail = tail
	}
	if answer.len() > s.maxRecords {
		return historyAnswer{}, errTooManyForHistory
	}
	return answer, nil
}

// readSlices reads runs of closed slices for the cache: every record, or none when there are more than max
// records. After the first load a run is the hour that just closed: its first page is one request.
func (s *Service) readSlices(req cbc.SearchRequest) history.Fetch {
	return func(ctx context.Context, from, to time.Time, keep func(cbc.Record) bool) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stopped := false
		scanned, err := s.client.ScanRecent(ctx, req.WithTime(from, to), s.maxRecords, func(r cbc.Record) {
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

// readTail reads the records of the open tail, oldest first. The queries of one search whose tails start at the
// same slice and end within the same cache time share one read, as they would share one answer: dashboards
// refreshed by many viewers a few seconds apart cost CBC one tail read, not one each. A query gets the shared
// read's records up to its own end; those of the last seconds before it may come only at its next refresh, as
// with any answer from the cache. An alert rule's query reads its own tail, fresh.
func (s *Service) readTail(ctx context.Context, req cbc.SearchRequest, search string, tail history.Span, fromAlert bool) ([]cbc.Record, error) {
	read := func(ctx context.Context) (cbc.SearchResult, error) {
		var records []cbc.Record
		scanned, err := s.client.ScanRecent(ctx, req.WithTime(tail.From, tail.To), s.maxRecords, func(r cbc.Record) { records = append(records, r) })
		if err == nil && scanned.Scanned < scanned.NumFound {
			err = errTooManyForHistory
		}
		slices.SortStableFunc(records, func(a, b cbc.Record) int { return a.CreateTime.Compare(b.CreateTime) })
		return cbc.SearchResult{Records: records, NumFound: len(records)}, err
	}
	if fromAlert {
		result, err := read(ctx)
		return result.Records, err
	}
	key := fmt.Sprintf("tail %d %d %s", tail.From.UnixMilli(), tail.To.UnixMilli()/max(s.cache.ttl.Milliseconds(), 1), search)
	result, err := s.cache.get(ctx, key, read)
	end := sort.Search(len(result.Records), func(i int) bool { return result.Records[i].CreateTime.After(tail.To) })
	return result.Records[:end], err
}
