package signals

import (
	"context"
	"fmt"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/frames"
	"github.com/seed/cbcauditlogs/pkg/geoip"
	"github.com/seed/cbcauditlogs/pkg/models"
)

// Events visits the audit events of a time range: the data source's search service, through its caches.
type Events interface {
	Events(ctx context.Context, from, to time.Time, fromAlert bool, visit func(cbc.Record)) (cbc.ScanResult, error)
}

// Inputs are what a signals query reads besides itself: the events, where addresses are, and the data source
// its evidence links open.
type Inputs struct {
	Events    Events
	Places    geoip.Placer // nil without GeoIP
	CanLocate bool         // a City database places addresses on the map
	Source    Source
}

// Answer runs a signals query: its detections over the events of the range and the baseline before it, as a
// findings table or as findings over time. fromAlert is set for an alert rule's evaluation.
func Answer(ctx context.Context, q models.Query, fromAlert bool, settings models.Settings, in Inputs) (data.Frames, error) {
	plan, err := NewPlan(q.Detection, q.Parameters, settings)
	if err != nil {
		return nil, err
	}
	var notices []data.Notice
	if !in.CanLocate {
		for _, run := range plan.Runs {
			if !run.NeedsGeoIP {
				continue
			}
			if q.Detection != "" {
				return nil, models.UserErrorf("%s needs a GeoIP City database: set its path on the data source's settings page (GeoIP)", run.Name)
			}
			notices = append(notices, frames.Info(run.Name+" did not run: it needs a GeoIP City database, which the data source's settings do not name."))
		}
	}
	collected := NewCollector()
	scanned, err := in.Events.Events(ctx, q.TimeRange.From.Add(-plan.Lookback()), q.TimeRange.To, fromAlert, collected.Add)
	if err != nil {
		return nil, err
	}
	if scanned.Scanned < scanned.NumFound {
		notices = append(notices, frames.Warning(fmt.Sprintf("The detections saw %d of the %d events of the range and its baseline: the data source's max records stopped the rest. Findings may be missing; narrow the time range or raise max records.", scanned.Scanned, scanned.NumFound)))
	}
	found := plan.Evaluate(collected, q.TimeRange.From, q.TimeRange.To, in.Places)
	var out data.Frames
	if q.Format == models.FormatTimeSeries {
		out = Series(q.RefID, found, q.TimeRange.From, q.TimeRange.To, seriesStep(q))
	} else {
		out = data.Frames{Table(q.RefID, found, in.Source)}
	}
	if out[0].Meta == nil {
		out[0].Meta = &data.FrameMeta{}
	}
	out[0].Meta.Notices = append(out[0].Meta.Notices, notices...)
	return out, nil
}

// seriesStep is the width of the series' buckets: Grafana's interval, unless it would make more buckets than a
// panel takes (an alert rule's interval is milliseconds); then a hundredth of the range, in whole minutes.
func seriesStep(q models.Query) time.Duration {
	span := q.TimeRange.To.Sub(q.TimeRange.From)
	if q.Step > 0 && span/q.Step <= frames.MaxBuckets {
		return q.Step
	}
	return max(time.Minute, span/100).Truncate(time.Minute)
}
