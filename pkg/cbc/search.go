package cbc

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// SearchResult is what a search returned.
type SearchResult struct {
	Records  []Record // in the requested order, at most the caller's limit
	NumFound int      // how many records match, as CBC counts them
	// Sampled is set when the search sorts by a field other than create_time and matched more records than
	// the caller allowed to scan: the order is then that of the scanned records only.
	Sampled bool
}

// Page runs one search request as it is: one page of at most MaxRows records.
func (c *Client) Page(ctx context.Context, req SearchRequest) (SearchResponse, error) {
	return c.envelope(ctx, endpointSearch, http.MethodPost, c.orgPath("audit_log/v1", "logs/_search"), req, req.Rows)
}

// envelope sends a call answered by {num_found, num_available, results} of at most rows records (0: unknown).
func (c *Client) envelope(ctx context.Context, ep endpoint, method, path string, body any, rows int) (SearchResponse, error) {
	var page SearchResponse
	err := c.getJSON(ctx, ep, method, path, body, func(r io.Reader) error {
		var err error
		page, err = decodeEnvelope(r, rows)
		return err
	})
	if err == nil {
		c.cfg.Logger.Debug("Carbon Black Cloud answer", "endpoint", ep.name, "rows", len(page.Results), "numFound", page.NumFound)
	}
	return page, err
}

// Search returns up to limit records matching req in req's order. Inside CBC's 10000-record window it pages
// with start/rows; beyond it, it splits req's create_time range into slices that each fit and fetches them
// concurrently. maxScan bounds how many records a search sorted by another field than create_time reads
// before sorting (0 means limit).
func (c *Client) Search(ctx context.Context, req SearchRequest, limit, maxScan int) (SearchResult, error) {
	if limit <= 0 {
		return SearchResult{}, fmt.Errorf("search limit must be positive, got %d", limit)
	}
	req.Sort = explicitSort(req)
	first, err := c.firstPage(ctx, req, min(limit, MaxRows))
	if err != nil {
		return SearchResult{}, err
	}
	result := SearchResult{NumFound: first.NumFound, Records: first.Results}
	if want := min(limit, first.NumFound); want <= available(first) && !mayHoldMore(first, limit) {
		result.Records, err = c.pageWindow(ctx, req, first.Results, want)
		return result, err
	}
	from, to, ok := req.timeBounds()
	if !ok {
		if from, to, err = c.timeSpan(ctx, req); err != nil {
			return SearchResult{}, err
		}
	}
	if field, order := sortOf(req); field == "create_time" {
		// The first page holds the newest (or oldest) records: fetch only the time it does not cover.
		kept, rest := coveredByPage(first.Results, order, timeSlice{from, to})
		result.Records, _, err = c.searchSlices(ctx, req, kept, rest.from, rest.to, first.NumFound-len(kept), limit, 0)
	} else {
		result.Records, result.Sampled, err = c.searchSlices(ctx, req, nil, from, to, first.NumFound, limit, max(maxScan, limit))
	}
	result.NumFound = max(result.NumFound, len(result.Records)) // num_found may have stopped at the window
	return result, err
}

// explicitSort is req's sort, or create_time DESC when it has none: what CBC does without a sort is not
// documented, so every request the client sends names its order.
func explicitSort(req SearchRequest) []SortField {
	field, order := sortOf(req)
	return []SortField{{Field: field, Order: order}}
}

// mayHoldMore reports a first page whose num_found may have stopped counting at the window: a search that
// wants more than the window is then sliced rather than trusted to hold exactly that many.
func mayHoldMore(first SearchResponse, want int) bool {
	return first.NumFound == Window && want > Window
}

// coveredByPage splits a page sorted by create_time in order into the records it holds completely, and the part
// of span still to fetch. Records at the page's last millisecond may continue past the page, so they are left
// to the rest, which includes that millisecond.
func coveredByPage(page []Record, order string, span timeSlice) (kept []Record, rest timeSlice) {
	if len(page) == 0 {
		return nil, span
	}
	edge := page[len(page)-1].CreateTime.Truncate(time.Millisecond)
	cut := len(page)
	for cut > 0 && page[cut-1].CreateTime.Truncate(time.Millisecond).Equal(edge) {
		cut--
	}
	if order == Desc {
		span.to = edge
	} else {
		span.from = edge
	}
	return page[:cut], span
}

// splitRows is the largest first page asked for in one request: more are asked for as two halves at once.
const splitRows = MaxRows / 2

// firstPage fetches the first rows records of req. Over splitRows, it asks for the two halves concurrently,
// which CBC serves in about half the time of one large page; when fewer records match than the first half
// holds, the second half's request is the one made in vain.
func (c *Client) firstPage(ctx context.Context, req SearchRequest, rows int) (SearchResponse, error) {
	req.Start = 0
	if rows <= splitRows || c.cfg.Concurrency < 2 {
		req.Rows = rows
		return c.Page(ctx, req)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	half := (rows + 1) / 2
	var (
		second    SearchResponse
		secondErr error
		done      = make(chan struct{})
	)
	rest := req
	rest.Start, rest.Rows = half, rows-half
	go func() {
		defer close(done)
		second, secondErr = c.Page(ctx, rest)
	}()
	req.Rows = half
	first, err := c.Page(ctx, req)
	if err != nil {
		cancel()
	}
	<-done
	if err == nil {
		err = secondErr
	}
	first.Results = append(first.Results, second.Results...)
	return first, err
}

// available is how many of a search's matches CBC pages through: num_available, or the window when the server
// leaves it out.
func available(first SearchResponse) int {
	if first.NumAvailable <= 0 || first.NumAvailable > Window {
		return min(first.NumFound, Window)
	}
	return first.NumAvailable
}

// pageWindow continues from the first page until it holds want records, the window ends or a page is empty.
func (c *Client) pageWindow(ctx context.Context, req SearchRequest, records []Record, want int) ([]Record, error) {
	if len(records) > want {
		records = records[:want]
	}
	for len(records) < want && len(records) < Window {
		req.Start = len(records)
		req.Rows = min(MaxRows, want-len(records), Window-req.Start)
		page, err := c.Page(ctx, req)
		if err != nil {
			return records, err
		}
		if len(page.Results) == 0 {
			break
		}
		records = append(records, page.Results[:min(len(page.Results), req.Rows)]...)
	}
	return records, nil
}

// timeSpan finds the oldest and newest create_time among req's matches, for a search without a time range.
func (c *Client) timeSpan(ctx context.Context, req SearchRequest) (from, to time.Time, err error) {
	edge := func(order string) (time.Time, error) {
		probe := req
		probe.Rows, probe.Start = 1, 0
		probe.Sort = []SortField{{Field: "create_time", Order: order}}
		page, err := c.Page(ctx, probe)
		if err != nil || len(page.Results) == 0 {
			return time.Time{}, err
		}
		return page.Results[0].CreateTime, nil
	}
	if from, err = edge(Asc); err != nil {
		return
	}
	to, err = edge(Desc)
	return
}

// sliceTarget is how many records the slice plan aims to put in each slice, leaving room under MaxRows for
// events that cluster in time.
const sliceTarget = MaxRows * 8 / 10

// searchSlices fetches [from, to] in time slices. Sorted by create_time, it fetches slices in that order and
// stops once limit records are known; sorted by another field, it reads up to maxScan records, sorts, and cuts.
// The result starts with head, the records already known to come first.
func (c *Client) searchSlices(ctx context.Context, req SearchRequest, head []Record, from, to time.Time, numFound, limit, maxScan int) ([]Record, bool, error) {
	field, order := sortOf(req)
	byTime := field == "create_time"
	need := maxScan
	rows := MaxRows
	if byTime {
		need = limit - len(head)
		if need <= 0 {
			return head[:limit], false, nil
		}
		rows = min(MaxRows, need)
	}
	plan := planSlices(from, to, numFound)
	if order == Desc {
		reverse(plan)
	}
	perSlice, capped, err := c.fetchSlices(ctx, req, plan, order, rows, need)
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
func (c *Client) fetchSlices(ctx context.Context, req SearchRequest, plan []timeSlice, order string, rows, need int) ([][]Record, bool, error) {
	results := make([][]Record, len(plan))
	finished := make([]bool, len(plan))
	enough := false
	err := c.eachSlice(ctx, req, plan, order, rows, need, func(i int, records []Record) bool {
		results[i], finished[i] = records, true
		known := 0
		for j := 0; j < len(plan) && finished[j]; j++ {
			known += len(results[j])
		}
		enough = known >= need
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
func (c *Client) eachSlice(ctx context.Context, req SearchRequest, plan []timeSlice, order string, rows, need int, consume func(i int, records []Record) (enough bool)) error {
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
	workers := min(c.cfg.Concurrency, len(plan), (need+sliceTarget-1)/sliceTarget)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, ok := take(); ok; i, ok = take() {
				records, err := c.fetchSlice(ctx, req, plan[i], order, rows, need)
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

// ScanResult is what a scan read.
type ScanResult struct {
	NumFound int // how many records match, as CBC counts them
	Scanned  int // how many were visited: NumFound, unless the scan stopped at its maximum
}

// Scan visits the records req matches, up to max, in no particular order and keeping none: memory follows one
// page per concurrent request, not the number of matches. Counts use it.
func (c *Client) Scan(ctx context.Context, req SearchRequest, max int, visit func(Record)) (ScanResult, error) {
	if max <= 0 {
		return ScanResult{}, fmt.Errorf("scan maximum must be positive, got %d", max)
	}
	req.Sort = []SortField{{Field: "create_time", Order: Desc}}
	first, err := c.firstPage(ctx, req, min(max, MaxRows))
	if err != nil {
		return ScanResult{}, err
	}
	result := ScanResult{NumFound: first.NumFound}
	if want := min(max, first.NumFound); want <= available(first) && !mayHoldMore(first, max) {
		records, err := c.pageWindow(ctx, req, first.Results, want)
		for _, r := range records {
			visit(r)
		}
		result.Scanned = len(records)
		return result, err
	}
	from, to, ok := req.timeBounds()
	if !ok {
		if from, to, err = c.timeSpan(ctx, req); err != nil {
			return ScanResult{}, err
		}
	}
	// Newest first: the first page covers the newest records, the slices the time before.
	kept, rest := coveredByPage(first.Results, Desc, timeSlice{from, to})
	kept = kept[:min(len(kept), max)]
	for _, r := range kept {
		visit(r)
	}
	result.Scanned = len(kept)
	if result.Scanned == max {
		return result, nil
	}
	err = c.eachSlice(ctx, req, planSlices(rest.from, rest.to, first.NumFound-len(kept)), Desc, MaxRows, max-result.Scanned, func(_ int, records []Record) bool {
		take := min(len(records), max-result.Scanned)
		for _, r := range records[:take] {
			visit(r)
		}
		result.Scanned += take
		return result.Scanned >= max
	})
	if result.Scanned > result.NumFound { // num_found may have stopped at the window
		result.NumFound = result.Scanned
	}
	return result, err
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
func (c *Client) fetchSlice(ctx context.Context, req SearchRequest, s timeSlice, order string, rows, need int) ([]Record, error) {
	req.Sort = []SortField{{Field: "create_time", Order: order}}
	req.Start = 0
	req.Rows = rows
	var records []Record
	for pages := 0; len(records) < need; pages++ {
		if pages == maxPagesPerSlice {
			return records, &Error{Kind: KindMalformed, Message: "Carbon Black Cloud kept returning the same records while paging by time"}
		}
		slice, err := c.between(ctx, req, s.from, s.to)
		if err != nil {
			return records, err
		}
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
			instant, err := c.between(ctx, req, edge, edge)
			if err != nil {
				return records, err
			}
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

// between is req narrowed to the records of [from, to], both inclusive, whichever way CBC reads
// create_time.end (see endIncludesItsMillisecond).
func (c *Client) between(ctx context.Context, req SearchRequest, from, to time.Time) (SearchRequest, error) {
	inclusive, err := c.endIncludesItsMillisecond(ctx)
	if err != nil {
		return req, err
	}
	if !inclusive {
		to = to.Add(time.Millisecond)
	}
	return req.withTime(from, to), nil
}

// endIncludesItsMillisecond finds out, once per client, whether CBC's create_time.end includes the records of
// its own millisecond: nothing public says. It asks for the newest record's exact millisecond as both start and
// end: found, the end is inclusive; not found, exclusive. Slices the client cuts then meet without losing or
// doubling a record either way. An org without records needs no slices; the answer waits for one.
func (c *Client) endIncludesItsMillisecond(ctx context.Context) (bool, error) {
	c.endMu.Lock()
	defer c.endMu.Unlock()
	if c.endKnown {
		return c.endInclusive, nil
	}
	newest, err := c.Page(ctx, SearchRequest{Rows: 1, Sort: []SortField{{Field: "create_time", Order: Desc}}})
	if err != nil || len(newest.Results) == 0 {
		return true, err
	}
	at := newest.Results[0].CreateTime
	probe, err := c.Page(ctx, SearchRequest{Rows: 1, Criteria: &Criteria{CreateTime: Between(at, at)}})
	if err != nil {
		return true, err
	}
	c.endKnown, c.endInclusive = true, probe.NumFound > 0
	return c.endInclusive, nil
}

// sortOf returns the request's sort field and order, CBC's default being create_time DESC.
func sortOf(req SearchRequest) (field, order string) {
	field, order = "create_time", Desc
	if len(req.Sort) > 0 {
		if req.Sort[0].Field != "" {
			field = req.Sort[0].Field
		}
		if strings.EqualFold(req.Sort[0].Order, Asc) {
			order = Asc
		}
	}
	return field, order
}

// SortRecords orders records by field as CBC does (byte order for text, false before true), newest first
// among equals.
func SortRecords(records []Record, field, order string) {
	key := SortKey(field)
	sort.SliceStable(records, func(i, j int) bool {
		a, b := key(records[i]), key(records[j])
		if a == b {
			return records[i].CreateTime.After(records[j].CreateTime)
		}
		if order == Asc {
			return a < b
		}
		return a > b
	})
}

// SortKey returns a function giving the text a record sorts by for field.
func SortKey(field string) func(Record) string {
	boolKey := func(b bool) string {
		if b {
			return "1"
		}
		return "0"
	}
	switch field {
	case "actor":
		return func(r Record) string { return r.Actor }
	case "actor_ip":
		return func(r Record) string { return r.ActorIP }
	case "description":
		return func(r Record) string { return r.Description }
	case "request_url":
		return func(r Record) string { return r.RequestURL }
	case "flagged":
		return func(r Record) string { return boolKey(r.Flagged) }
	case "verbose":
		return func(r Record) string { return boolKey(r.Verbose) }
	default:
		return func(r Record) string { return FormatTime(r.CreateTime) }
	}
}

func reverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}
