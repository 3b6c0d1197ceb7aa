package plugin

import (
	"context"
	"fmt"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/seed/cbcauditlogs/pkg/frames"
	"github.com/seed/cbcauditlogs/pkg/models"
	"github.com/seed/cbcauditlogs/pkg/signals"
)

// signalsFrames answers a signals query: its detections over the events of the range and the baseline before
// it, as a findings table or as findings over time.
func (d *Datasource) signalsFrames(ctx context.Context, q models.Query, fromAlert bool) (data.Frames, error) {
	plan, err := signals.NewPlan(q.Detection, q.Parameters, d.settings)
	if err != nil {
		return nil, err
	}
	var notices []data.Notice
	placer := d.search.Placer()
	if d.places == nil || d.places.City == nil {
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
	collected := signals.NewCollector()
	scanned, err := d.search.Events(ctx, q.TimeRange.From.Add(-plan.Lookback()), q.TimeRange.To, fromAlert, collected.Add)
	if err != nil {
		return nil, err
	}
	if scanned.Scanned < scanned.NumFound {
		notices = append(notices, frames.Warning(fmt.Sprintf("The detections saw %d of the %d events of the range and its baseline: the data source's max records stopped the rest. Findings may be missing; narrow the time range or raise max records.", scanned.Scanned, scanned.NumFound)))
	}
	found := plan.Evaluate(collected, q.TimeRange.From, q.TimeRange.To, placer)
	var out data.Frames
	if q.Format == models.FormatTimeSeries {
		step := q.Step
		if step <= 0 || q.TimeRange.To.Sub(q.TimeRange.From)/step > frames.MaxBuckets {
			step = max(time.Minute, q.TimeRange.To.Sub(q.TimeRange.From)/100).Truncate(time.Minute)
		}
		out = signals.Series(q.RefID, found, q.TimeRange.From, q.TimeRange.To, step)
	} else {
		out = data.Frames{signals.Table(q.RefID, found, signals.Source{UID: d.uid, Name: d.name})}
	}
	if out[0].Meta == nil {
		out[0].Meta = &data.FrameMeta{}
	}
	out[0].Meta.Notices = append(out[0].Meta.Notices, notices...)
	return out, nil
}
