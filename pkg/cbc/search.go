package cbc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
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

// Page runs one search request: one page of at most MaxRows records, with create_time's bounds both inclusive
// (onWire). CBC's largest page for audit logs is not public; when it refuses rows as too many, Page learns the
// size it takes and fetches the page in parts of that size, so that callers see the same page either way.
func (c *Client) Page(ctx context.Context, req SearchRequest) (SearchResponse, error) {
	criteria, err := c.onWire(ctx, req.Criteria)
	if err != nil {
		return SearchResponse{}, err
	}
	req.Criteria = criteria
	return c.page(ctx, req)
}

// page runs a search request whose criteria are already as CBC reads them.
func (c *Client) page(ctx context.Context, req SearchRequest) (SearchResponse, error) {
	var out SearchResponse
	for {
		part := req
		part.Start = req.Start + len(out.Results)
		if req.Rows > 0 {
			part.Rows = min(req.Rows-len(out.Results), c.pageRows())
		}
		page, err := c.envelope(ctx, endpointSearch, http.MethodPost, c.orgPath("audit_log/v1", "logs/_search"), part, part.Rows)
		if err != nil {
			if c.learnPageRows(err, part.Rows) {
				continue
			}
			return out, err
		}
		out.NumFound, out.NumAvailable = page.NumFound, page.NumAvailable
		out.Results = append(out.Results, page.Results...)
		if part.Rows == req.Rows || len(page.Results) < part.Rows || len(out.Results) >= req.Rows {
			return out, nil
		}
	}
}

// minPageRows is the smallest page size the client falls back to before it reports CBC's refusal.
const minPageRows = 100

var firstNumber = regexp.MustCompile(`\d+`)

// pageRows is the largest page CBC takes: MaxRows until it refuses that many.
func (c *Client) pageRows() int {
	c.rowsMu.Lock()
	defer c.rowsMu.Unlock()
	if c.rowsCap == 0 {
		return MaxRows
	}
	return c.rowsCap
}

// learnPageRows reads a 400 that refuses rows as too many: the largest page it names, or half of what was
// asked. It reports whether the page should be asked for again, smaller.
func (c *Client) learnPageRows(err error, rows int) bool {
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Kind != KindBadRequest || rows <= minPageRows {
		return false
	}
	if msg := strings.ToLower(apiErr.Message); !strings.Contains(msg, "rows") && !strings.Contains(msg, "size") {
		return false
	}
	next := rows / 2
	for _, n := range firstNumber.FindAllString(apiErr.Message, -1) {
		if v, err := strconv.Atoi(n); err == nil && v >= minPageRows && v < rows {
			next = v
			break
		}
	}
	next = max(next, minPageRows)
	c.rowsMu.Lock()
	defer c.rowsMu.Unlock()
	if c.rowsCap == 0 || next < c.rowsCap {
		c.rowsCap = next
		c.cfg.Logger.Warn("Carbon Black Cloud serves smaller pages than asked: pages are fetched in parts", "rows", next)
	}
	return true
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
// with start/rows; beyond it, it splits req's create_time range into parts that each fit and fetches them
// concurrently. maxScan bounds how many records a search sorted by another field than create_time reads
// before sorting (0 means limit).
func (c *Client) Search(ctx context.Context, req SearchRequest, limit, maxScan int) (SearchResult, error) {
	if limit <= 0 {
		return SearchResult{}, fmt.Errorf("search limit must be positive, got %d", limit)
	}
	p := planFor(req)
	first, err := c.firstPage(ctx, p.req, min(limit, MaxRows))
	if err != nil {
		return SearchResult{}, err
	}
	result := SearchResult{NumFound: first.NumFound, Records: first.Results}
	if want := min(limit, first.NumFound); want <= available(first) && !mayHoldMore(first, limit) {
		result.Records, err = c.pageWindow(ctx, p.req, first.Results, want)
		return result, err
	}
	if err := c.bound(ctx, &p); err != nil {
		return SearchResult{}, err
	}
	if p.byTime() {
		// The first page holds the newest (or oldest) records: fetch only the time it does not cover.
		kept, rest := coveredByPage(first.Results, p.order, p.span)
		result.Records, _, err = c.searchSplit(ctx, splitSearch{plan: p, head: kept, span: rest, numFound: first.NumFound - len(kept), limit: limit})
	} else {
		result.Records, result.Sampled, err = c.searchSplit(ctx, splitSearch{plan: p, span: p.span, numFound: first.NumFound, limit: limit, maxScan: max(maxScan, limit)})
	}
	result.NumFound = max(result.NumFound, len(result.Records)) // num_found may have stopped at the window
	return result, err
}

// mayHoldMore reports a first page whose num_found may have stopped counting at the window: a search that
// wants more than the window is then split rather than trusted to hold exactly that many.
func mayHoldMore(first SearchResponse, want int) bool {
	return first.NumFound == Window && want > Window
}

// coveredByPage splits a page sorted by create_time in order into the records it holds completely, and the part
// of span still to fetch. Records at the page's last millisecond may continue past the page, so they are left
// to the rest, which includes that millisecond.
func coveredByPage(page []Record, order string, whole span) (kept []Record, rest span) {
	if len(page) == 0 {
		return nil, whole
	}
	edge := page[len(page)-1].CreateTime.Truncate(time.Millisecond)
	cut := len(page)
	for cut > 0 && page[cut-1].CreateTime.Truncate(time.Millisecond).Equal(edge) {
		cut--
	}
	rest = whole
	if order == Desc {
		rest.to = edge
	} else {
		rest.from = edge
	}
	return page[:cut], rest
}

// ScanResult is what a scan read.
type ScanResult struct {
	NumFound int // how many records match, as CBC counts them
	Scanned  int // how many were visited: NumFound, unless the scan stopped at its maximum
}

// Scan visits the records req matches, up to max, in no particular order and keeping none: memory follows one
// page per concurrent request, not the number of matches. Counts use it.
func (c *Client) Scan(ctx context.Context, req SearchRequest, max int, visit func(Record)) (ScanResult, error) {
	return c.scan(ctx, req, max, MaxRows, visit)
}

// ScanRecent is Scan for a span expected to hold fewer than a few thousand records, such as the last hour:
// its first page is one request of splitRows rows, not two halves of a full page.
func (c *Client) ScanRecent(ctx context.Context, req SearchRequest, max int, visit func(Record)) (ScanResult, error) {
	return c.scan(ctx, req, max, splitRows, visit)
}

func (c *Client) scan(ctx context.Context, req SearchRequest, max, firstRows int, visit func(Record)) (ScanResult, error) {
	if max <= 0 {
		return ScanResult{}, fmt.Errorf("scan maximum must be positive, got %d", max)
	}
	req.Sort = []SortField{{Field: "create_time", Order: Desc}}
	p := planFor(req)
	first, err := c.firstPage(ctx, p.req, min(max, firstRows))
	if err != nil {
		return ScanResult{}, err
	}
	result := ScanResult{NumFound: first.NumFound}
	if want := min(max, first.NumFound); want <= available(first) && !mayHoldMore(first, max) {
		records, err := c.pageWindow(ctx, p.req, first.Results, want)
		for _, r := range records {
			visit(r)
		}
		result.Scanned = len(records)
		return result, err
	}
	if err := c.bound(ctx, &p); err != nil {
		return ScanResult{}, err
	}
	// Newest first: the first page covers the newest records, the parts the time before.
	kept, rest := coveredByPage(first.Results, Desc, p.span)
	kept = kept[:min(len(kept), max)]
	for _, r := range kept {
		visit(r)
	}
	result.Scanned = len(kept)
	if result.Scanned == max {
		return result, nil
	}
	all := splitter{c: c, req: p.req, order: Desc, rows: MaxRows, need: max - result.Scanned}
	err = all.each(ctx, split(rest, first.NumFound-len(kept)), func(_ int, records []Record) bool {
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
