package cbc

import (
	"context"
	"slices"
	"sync"
	"time"
)

// The slicer: a search beyond the window, cut by create_time into slices that each fit it.

// sliceTarget is how many records the slice plan aims to put in each slice, leaving room under MaxRows for
// events that cluster in time.
const sliceTarget = MaxRows * 8 / 10

// sliceSearch is a search past the window: req's matches over span, of which numFound are still to fetch,
// after head, the records already known to come first.
type sliceSearch struct {
	req      SearchRequest
	head     []Record
	span     timeSlice
	numFound int
	limit    int // records wanted in all
	maxScan  int // records read at most before sorting, when sorted by another field than create_time
}

// searchSlices fetches a search's span in time slices. Sorted by create_time, it fetches slices in that order
// and stops once limit records are known; sorted by another field, it reads up to maxScan records, sorts, and
// cuts.
func (c *Client) searchSlices(ctx context.Context, q sliceSearch) ([]Record, bool, error) {
	field, order := sortOf(q.req)
	byTime := field == "create_time"
	sl := slicer{c: c, req: q.req, order: order, need: q.maxScan, rows: MaxRows}
	if byTime {
		sl.need = q.limit - len(q.head)
		if sl.need <= 0 {
			return q.head[:q.limit], false, nil
		}
		sl.rows = min(MaxRows, sl.need)
	}
	plan := planSlices(q.span.from, q.span.to, q.numFound)
	if order == Desc {
		reverse(plan)
	}
	head, limit := q.head, q.limit
	perSlice, capped, err := sl.fetchAll(ctx, plan)
	if err != nil {
		return nil, false, err
	}
	records := slices.Concat(append([][]Record{head}, perSlice...)...)
	if !byTime {
		SortRecords(records, field, order)
	}
	if len(records) > limit {
		records = records[:limit]
	}
	return records, capped && !byTime, nil
}

type timeSlice struct{ from, to time.Time }

// slicer fetches slices of req's matches sorted by create_time in order, rows a page, until need are known.
type slicer struct {
	c     *Client
	req   SearchRequest
	order string
	rows  int
	need  int
}

// planSlices splits [from, to] (both inclusive, millisecond steps) into enough equal slices for numFound
// records to fit sliceTarget each if they were spread evenly; fetchSlice copes with slices that hold more.
func planSlices(from, to time.Time, numFound int) []timeSlice {
	from, to = from.Truncate(time.Millisecond), to.Truncate(time.Millisecond)
	span := to.Sub(from)/time.Millisecond + 1
	n := int64((numFound + sliceTarget - 1) / sliceTarget)
	n = max(1, min(n, int64(span)))
	plan := make([]timeSlice, 0, n)
	for i := int64(0); i < n; i++ {
		start := from.Add(time.Duration(int64(span)*i/n) * time.Millisecond)
		end := from.Add(time.Duration(int64(span)*(i+1)/n-1) * time.Millisecond)
		plan = append(plan, timeSlice{start, end})
	}
	return plan
}

// fetchSlices fetches slices with bounded concurrency, each worker taking the next slice in order. Once the
// slices finished in an unbroken run from the first hold need records, the rest are cancelled.
func (sl slicer) fetchAll(ctx context.Context, plan []timeSlice) ([][]Record, bool, error) {
	results := make([][]Record, len(plan))
	finished := make([]bool, len(plan))
	enough := false
	err := sl.each(ctx, plan, func(i int, records []Record) bool {
		results[i], finished[i] = records, true
		known := 0
		for j := 0; j < len(plan) && finished[j]; j++ {
			known += len(results[j])
		}
		enough = known >= sl.need
		return enough
	})
	if err != nil {
		return nil, false, err
	}
	var kept [][]Record
	for i := range plan {
		if !finished[i] {
			break
		}
		kept = append(kept, results[i])
	}
	return kept, enough && len(kept) < len(plan), nil
}

// eachSlice fetches slices with bounded concurrency, each worker taking the next slice in order, and hands
// each finished slice to consume (one call at a time). When consume reports enough, the rest are cancelled.
func (sl slicer) each(ctx context.Context, plan []timeSlice, consume func(i int, records []Record) (enough bool)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		finished = make([]bool, len(plan))
		next     int
		enough   bool
		firstErr error
		wg       sync.WaitGroup
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if next >= len(plan) || enough || firstErr != nil {
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
	// No more workers than slices needed if each holds its share: a search for a few records past the window
	// reads one slice, not as many as may run at once.
	workers := min(sl.c.cfg.Concurrency, len(plan), (sl.need+sliceTarget-1)/sliceTarget)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, ok := take(); ok; i, ok = take() {
				records, err := sl.fetch(ctx, plan[i])
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

// maxPagesPerSlice guards fetchSlice against a server that never lets the cursor advance.
const maxPagesPerSlice = 1000

// fetchSlice reads every record of one slice (up to need) sorted by create_time in order. When a page holds
// fewer records than the slice matches, the slice's edge moves to the last record's time: the records at that
// exact millisecond are dropped from this page and fetched again with the next.
func (sl slicer) fetch(ctx context.Context, s timeSlice) ([]Record, error) {
	c, order, need := sl.c, sl.order, sl.need
	req := sl.req
	req.Sort = []SortField{{Field: "create_time", Order: order}}
	req.Start = 0
	req.Rows = sl.rows
	var records []Record
	for pages := 0; len(records) < need; pages++ {
		if pages == maxPagesPerSlice {
			return records, &Error{Kind: KindMalformed, Message: "Carbon Black Cloud kept returning the same records while paging by time"}
		}
		slice := req.WithTime(s.from, s.to)
		page, err := c.Page(ctx, slice)
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

// onWire is criteria as CBC must read them for both ends of create_time to be inclusive: when CBC's end
// leaves its own millisecond out (see endIncludesItsMillisecond), an absolute end moves one millisecond on.
// Every search and export goes through it, so a range's last millisecond is never lost.
func (c *Client) onWire(ctx context.Context, criteria *Criteria) (*Criteria, error) {
	if criteria == nil || criteria.CreateTime == nil || criteria.CreateTime.End == "" {
		return criteria, nil
	}
	end, err := time.Parse(time.RFC3339Nano, criteria.CreateTime.End)
	if err != nil {
		return criteria, nil //nolint:nilerr // a relative or malformed end goes as it is, for CBC to judge
	}
	inclusive, err := c.endIncludesItsMillisecond(ctx)
	if err != nil || inclusive {
		return criteria, err
	}
	moved, span := *criteria, *criteria.CreateTime
	span.End = FormatTime(end.Add(time.Millisecond))
	moved.CreateTime = &span
	return &moved, nil
}

// endIncludesItsMillisecond finds out, once per client, whether CBC's create_time.end includes the records of
// its own millisecond: nothing public says. It asks for the newest record of the two milliseconds that end at
// the newest record's: that record found, the end is inclusive; not found, exclusive. (A range of one instant
// would be simpler, but CBC may refuse it as empty.) Slices the client cuts then meet without losing or
// doubling a record either way. An org without records needs no slices; the answer waits for one.
func (c *Client) endIncludesItsMillisecond(ctx context.Context) (bool, error) {
	c.endMu.Lock()
	defer c.endMu.Unlock()
	if c.endKnown {
		return c.endInclusive, nil
	}
	newest, err := c.page(ctx, SearchRequest{Rows: 1, Sort: []SortField{{Field: "create_time", Order: Desc}}})
	if err != nil || len(newest.Results) == 0 {
		return true, err
	}
	at := newest.Results[0].CreateTime
	probe, err := c.page(ctx, SearchRequest{Rows: 1, Sort: []SortField{{Field: "create_time", Order: Desc}},
		Criteria: &Criteria{CreateTime: Between(at.Add(-time.Millisecond), at)}})
	if err != nil {
		return true, err
	}
	c.endKnown, c.endInclusive = true, len(probe.Results) > 0 && probe.Results[0].CreateTime.Equal(at)
	return c.endInclusive, nil
}
