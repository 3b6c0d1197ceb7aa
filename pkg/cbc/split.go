package cbc

import (
	"context"
	"slices"
	"sync"
	"time"
)

// The splitter: a search beyond the window, cut by create_time into parts that each fit it. (The history
// cache's hours are its slices; these are not.)

// partTarget is how many records a split aims to put in each part, leaving room under MaxRows for events
// that cluster in time.
const partTarget = MaxRows * 8 / 10

// splitSearch is a search past the window: the plan's matches over span, of which numFound are still to
// fetch, after head, the records already known to come first.
type splitSearch struct {
	plan     plan
	head     []Record
	span     span
	numFound int
	limit    int // records wanted in all
	maxScan  int // records read at most before sorting, when sorted by another field than create_time
}

// searchSplit fetches a search's span in parts. Sorted by create_time, it fetches parts in that order and
// stops once limit records are known; sorted by another field, it reads up to maxScan records, sorts, and
// cuts.
func (c *Client) searchSplit(ctx context.Context, q splitSearch) ([]Record, bool, error) {
	field, order, byTime := q.plan.field, q.plan.order, q.plan.byTime()
	sl := splitter{c: c, req: q.plan.req, order: order, need: q.maxScan, rows: MaxRows}
	if byTime {
		sl.need = q.limit - len(q.head)
		if sl.need <= 0 {
			return q.head[:q.limit], false, nil
		}
		sl.rows = min(MaxRows, sl.need)
	}
	parts := split(q.span, q.numFound)
	if order == Desc {
		reverse(parts)
	}
	head, limit := q.head, q.limit
	perPart, capped, err := sl.fetchAll(ctx, parts)
	if err != nil {
		return nil, false, err
	}
	records := slices.Concat(append([][]Record{head}, perPart...)...)
	if !byTime {
		SortRecords(records, field, order)
	}
	if len(records) > limit {
		records = records[:limit]
	}
	return records, capped && !byTime, nil
}

// splitter fetches parts of req's matches sorted by create_time in order, rows a page, until need are known.
type splitter struct {
	c     *Client
	req   SearchRequest
	order string
	rows  int
	need  int
}

// split cuts s (both ends inclusive, millisecond steps) into enough equal parts for numFound records to fit
// partTarget each if they were spread evenly; fetch copes with parts that hold more.
func split(s span, numFound int) []span {
	from, to := s.from.Truncate(time.Millisecond), s.to.Truncate(time.Millisecond)
	width := to.Sub(from)/time.Millisecond + 1
	n := int64((numFound + partTarget - 1) / partTarget)
	n = max(1, min(n, int64(width)))
	parts := make([]span, 0, n)
	for i := int64(0); i < n; i++ {
		start := from.Add(time.Duration(int64(width)*i/n) * time.Millisecond)
		end := from.Add(time.Duration(int64(width)*(i+1)/n-1) * time.Millisecond)
		parts = append(parts, span{start, end})
	}
	return parts
}

// fetchAll fetches parts with bounded concurrency, each worker taking the next part in order. Once the parts
// finished in an unbroken run from the first hold need records, the rest are cancelled.
func (sl splitter) fetchAll(ctx context.Context, parts []span) ([][]Record, bool, error) {
	results := make([][]Record, len(parts))
	finished := make([]bool, len(parts))
	enough := false
	err := sl.each(ctx, parts, func(i int, records []Record) bool {
		results[i], finished[i] = records, true
		known := 0
		for j := 0; j < len(parts) && finished[j]; j++ {
			known += len(results[j])
		}
		enough = known >= sl.need
		return enough
	})
	if err != nil {
		return nil, false, err
	}
	var kept [][]Record
	for i := range parts {
		if !finished[i] {
			break
		}
		kept = append(kept, results[i])
	}
	return kept, enough && len(kept) < len(parts), nil
}

// each fetches parts with bounded concurrency, each worker taking the next part in order, and hands each
// finished part to consume (one call at a time). When consume reports enough, the rest are cancelled.
func (sl splitter) each(ctx context.Context, parts []span, consume func(i int, records []Record) (enough bool)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		finished = make([]bool, len(parts))
		next     int
		enough   bool
		firstErr error
		wg       sync.WaitGroup
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if next >= len(parts) || enough || firstErr != nil {
			return 0, false
		}
		next++
		return next - 1, true
	}
	done := func(i int, records []Record, err error) {
		mu.Lock()
		defer mu.Unlock()
		if enough {
			return
		}
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			cancel()
			return
		}
		finished[i] = true
		if consume(i, records) {
			enough = true
			cancel()
		}
	}
	// No more workers than parts needed if each holds its share: a search for a few records past the window
	// reads one part, not as many as may run at once.
	workers := min(sl.c.cfg.Concurrency, len(parts), (sl.need+partTarget-1)/partTarget)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, ok := take(); ok; i, ok = take() {
				records, err := sl.fetch(ctx, parts[i])
				done(i, records, err)
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil && !enough && !allFinished(finished) {
		return err
	}
	return nil
}

func allFinished(finished []bool) bool {
	for _, f := range finished {
		if !f {
			return false
		}
	}
	return true
}

// maxPagesPerPart guards fetch against a server that never lets the cursor advance.
const maxPagesPerPart = 1000

// fetch reads every record of one part (up to need) sorted by create_time in order. When a page holds fewer
// records than the part matches, the part's edge moves to the last record's time: the records at that exact
// millisecond are dropped from this page and fetched again with the next.
func (sl splitter) fetch(ctx context.Context, s span) ([]Record, error) {
	c, order, need := sl.c, sl.order, sl.need
	req := sl.req
	req.Sort = []SortField{{Field: "create_time", Order: order}}
	req.Start = 0
	req.Rows = sl.rows
	var records []Record
	for pages := 0; len(records) < need; pages++ {
		if pages == maxPagesPerPart {
			return records, &Error{Kind: KindMalformed, Message: "Carbon Black Cloud kept returning the same records while paging by time"}
		}
		page, err := c.Page(ctx, req.WithTime(s.from, s.to))
		if err != nil {
			return records, err
		}
		// A page that is not full holds the rest; so does one holding num_found records, unless num_found is
		// the window, where CBC may have stopped counting.
		if len(page.Results) < req.Rows || (page.NumFound <= len(page.Results) && page.NumFound != Window) {
			if records == nil {
				return page.Results, nil
			}
			return append(records, page.Results...), nil
		}
		edge := page.Results[len(page.Results)-1].CreateTime.Truncate(time.Millisecond)
		kept := 0
		for _, r := range page.Results {
			if !r.CreateTime.Truncate(time.Millisecond).Equal(edge) {
				records = append(records, r)
				kept++
			}
		}
		if kept == 0 {
			// More than a page of records share one millisecond: page through it inside the window.
			instant := req.WithTime(edge, edge)
			same, err := c.pageWindow(ctx, instant, page.Results, min(page.NumFound, Window))
			records = append(records, same...)
			if err != nil {
				return records, err
			}
			if order == Desc {
				s.to = edge.Add(-time.Millisecond)
			} else {
				s.from = edge.Add(time.Millisecond)
			}
		} else if order == Desc {
			s.to = edge
		} else {
			s.from = edge
		}
		if s.from.After(s.to) {
			return records, nil
		}
	}
	return records, nil
}
