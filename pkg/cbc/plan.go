package cbc

import (
	"context"
	"strings"
	"time"
)

// A search plan: how the client answers one search, settled once. Inside CBC's 10000-record window a search
// is paged with start/rows (window.go); beyond it, its create_time range is split into parts that each fit
// the window (split.go).

// plan is a search with its order named and, once known, the span of create_time it covers.
type plan struct {
	req   SearchRequest // its Sort names the order: what CBC does without one is not documented
	field string        // the sort field
	order string        // Asc or Desc
	span  span
}

// span is a range of create_time, both ends inclusive.
type span struct{ from, to time.Time }

// planFor settles req's order: its own, or create_time DESC when it has none.
func planFor(req SearchRequest) plan {
	p := plan{req: req, field: "create_time", order: Desc}
	if len(req.Sort) > 0 {
		if req.Sort[0].Field != "" {
			p.field = req.Sort[0].Field
		}
		if strings.EqualFold(req.Sort[0].Order, Asc) {
			p.order = Asc
		}
	}
	p.req.Sort = []SortField{{Field: p.field, Order: p.order}}
	return p
}

func (p plan) byTime() bool { return p.field == "create_time" }

// bound sets the plan's span: the request's time range, or for a search without one the create_time of its
// oldest and newest match.
func (c *Client) bound(ctx context.Context, p *plan) error {
	if from, to, ok := p.req.timeBounds(); ok {
		p.span = span{from, to}
		return nil
	}
	edge := func(order string) (time.Time, error) {
		probe := p.req
		probe.Rows, probe.Start = 1, 0
		probe.Sort = []SortField{{Field: "create_time", Order: order}}
		page, err := c.Page(ctx, probe)
		if err != nil || len(page.Results) == 0 {
			return time.Time{}, err
		}
		return page.Results[0].CreateTime, nil
	}
	var err error
	if p.span.from, err = edge(Asc); err != nil {
		return err
	}
	p.span.to, err = edge(Desc)
	return err
}
