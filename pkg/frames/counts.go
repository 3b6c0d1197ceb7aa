package frames

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/seed/cbcauditlogs/pkg/category"
	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/geoip"
)

// MaxBuckets bounds the points of one count series.
const MaxBuckets = 11000

// OtherGroup holds the groups a top-N count leaves out; NoValue the records without a value for the group.
const (
	OtherGroup = "other"
	NoValue    = "(none)"
)

// GroupKey returns the function giving a record's group for a count grouped by field ("" groups nothing).
// Country and ASN are where actor_ip is, by places (nil: every record has no value).
func GroupKey(field string, places geoip.Placer) func(cbc.Record) string {
	switch field {
	case "":
		return func(cbc.Record) string { return "" }
	case "category":
		memo := category.Memo{}
		return func(r cbc.Record) string { return memo.Of(r.Description) }
	case "country", "asn":
		if places == nil {
			return func(cbc.Record) string { return NoValue }
		}
		memo := geoip.NewMemo(places)
		return func(r cbc.Record) string { return placeGroup(field, memo.Of(r.ActorIP)) }
	default:
		return func(r cbc.Record) string {
			if v := r.Text(field); v != "" {
				return v
			}
			return NoValue
		}
	}
}

// placeGroup is a place's group: its country code, or its network as "AS49505 Selectel".
func placeGroup(field string, p geoip.Place) string {
	switch {
	case field == "country" && p.Country != "":
		return p.Country
	case field == "asn" && p.ASN != 0:
		return strings.TrimSpace(fmt.Sprintf("AS%d %s", p.ASN, p.ASOrg))
	}
	return NoValue
}

// Buckets are the start times of the step-wide UTC buckets covering [from, to].
func Buckets(from, to time.Time, step time.Duration) []time.Time {
	var out []time.Time
	for t := from.UTC().Truncate(step); !t.After(to); t = t.Add(step) {
		out = append(out, t)
	}
	return out
}

// Counter counts records per group and bucket as they stream in.
type Counter struct {
	from, to time.Time
	step     time.Duration
	buckets  []time.Time
	groupBy  string
	group    func(cbc.Record) string
	counts   map[string][]int64
}

// NewCounter counts over [from, to] in step-wide buckets, grouped by groupBy, placing addresses with places.
func NewCounter(from, to time.Time, step time.Duration, groupBy string, places geoip.Placer) *Counter {
	return &Counter{from: from, to: to, step: step, buckets: Buckets(from, to, step), groupBy: groupBy,
		group: GroupKey(groupBy, places), counts: map[string][]int64{}}
}

// Add counts one record; records outside the range are ignored.
func (c *Counter) Add(r cbc.Record) {
	if r.CreateTime.Before(c.from) || r.CreateTime.After(c.to) || len(c.buckets) == 0 {
		return
	}
	i := int(r.CreateTime.Sub(c.buckets[0]) / c.step)
	g := c.group(r)
	series, ok := c.counts[g]
	if !ok {
		series = make([]int64, len(c.buckets))
		c.counts[g] = series
	}
	series[i]++
}

type series struct {
	group  string
	counts []int64
	total  int64
}

// Frames returns one zero-filled series per group, biggest first, keeping the topN biggest groups and summing
// the rest into "other" (topN 0 keeps all). An ungrouped count is one series even when nothing matched.
func (c *Counter) Frames(name string, topN int) data.Frames {
	var all []series
	for g, counts := range c.counts {
		var total int64
		for _, n := range counts {
			total += n
		}
		all = append(all, series{g, counts, total})
	}
	if c.groupBy == "" && len(all) == 0 {
		all = append(all, series{"", make([]int64, len(c.buckets)), 0})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].total != all[j].total {
			return all[i].total > all[j].total
		}
		return all[i].group < all[j].group
	})
	if topN > 0 && len(all) > topN {
		other := series{group: OtherGroup, counts: make([]int64, len(c.buckets))}
		for _, s := range all[topN:] {
			for i, n := range s.counts {
				other.counts[i] += n
			}
			other.total += s.total
		}
		all = append(all[:topN], other)
	}
	out := make(data.Frames, 0, len(all))
	for _, s := range all {
		var labels data.Labels
		if c.groupBy != "" {
			labels = data.Labels{c.groupBy: s.group}
		}
		values := data.NewField("count", labels, s.counts)
		if c.groupBy != "" {
			values.SetConfig(&data.FieldConfig{DisplayNameFromDS: s.group})
		}
		frame := data.NewFrame(name, data.NewField("time", nil, c.buckets), values)
		frame.SetMeta(&data.FrameMeta{Type: data.FrameTypeTimeSeriesMulti, TypeVersion: data.FrameTypeVersion{0, 1}})
		out = append(out, frame)
	}
	return out
}
