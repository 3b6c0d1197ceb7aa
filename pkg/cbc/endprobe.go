package cbc

import (
	"context"
	"time"
)

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
// would be simpler, but CBC may refuse it as empty.) Parts the client cuts then meet without losing or
// doubling a record either way. An org without records needs no parts; the answer waits for one.
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
