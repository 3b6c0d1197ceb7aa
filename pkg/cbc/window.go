package cbc

import "context"

// The window pager: one search inside CBC's 10000-record window, page by page.

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
