package search

import (
	"fmt"
	"time"

	"github.com/seed/cbcauditlogs/pkg/frames"
	"github.com/seed/cbcauditlogs/pkg/models"
)

// niceSteps are the bucket widths a count picks for itself, each a whole part of a day or a week.
var niceSteps = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour,
}

// niceStep is the smallest nice width of at least min.
func niceStep(min time.Duration) time.Duration {
	for _, nice := range niceSteps {
		if nice >= min {
			return nice
		}
	}
	week := niceSteps[len(niceSteps)-1]
	return (min + week - 1) / week * week
}

// bucketWidth is a count's bucket width. An interval the user wrote is kept, and refused when it makes more
// buckets than a series holds. Grafana's interval is kept too, as Grafana's Prometheus and Loki keep it: it
// already follows the panel's width (a 7-day panel of 1000 points gets 10 minutes, 1008 buckets). It is raised,
// to the smallest nice width that fits the panel's maxDataPoints and the series' bound, only when it makes more
// buckets than the series' bound or far more than the panel asked for (1 s from the alerting UI, 64 ms from the
// alerting engine), with a notice saying how to choose the width. Without any interval, about 100 buckets.
func bucketWidth(q models.Query) (time.Duration, string, error) {
	span := q.TimeRange.To.Sub(q.TimeRange.From)
	if q.Interval != "" {
		if n := span / q.Step; n > frames.MaxBuckets {
			return 0, "", models.UserErrorf("interval %s makes %d buckets over this time range; use a wider interval (at most %d buckets)", q.Interval, n, frames.MaxBuckets)
		}
		return q.Step, "", nil
	}
	if q.Step <= 0 {
		return niceStep(span / 100), "", nil
	}
	buckets := int64(span / q.Step)
	if buckets <= frames.MaxBuckets && (q.MaxDataPoints <= 0 || buckets <= pointsMargin*q.MaxDataPoints) {
		return q.Step, "", nil
	}
	limit := int64(frames.MaxBuckets)
	if q.MaxDataPoints > 0 {
		limit = min(limit, q.MaxDataPoints)
	}
	step := niceStep(time.Duration((int64(span) + limit - 1) / limit))
	return step, fmt.Sprintf("Counted in %s buckets: Grafana's interval of %s would make %d buckets over this time range, more than the %d this panel can show. Set an interval on the query to choose the width.",
		step, q.Step, buckets, limit), nil
}

// pointsMargin is how far past the panel's maxDataPoints Grafana's interval may go before it is raised.
const pointsMargin = 2
