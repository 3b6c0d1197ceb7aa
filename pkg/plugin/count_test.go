package plugin

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/seed/cbcauditlogs/pkg/category"
	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/cbcsim"
	"github.com/seed/cbcauditlogs/pkg/cbctest"
	"github.com/seed/cbcauditlogs/pkg/frames"
)

// truthCounts counts the simulator's records in [from, to] per group and UTC bucket, straight from its data.
func truthCounts(records []cbc.Record, from, to time.Time, step time.Duration, group func(cbc.Record) string) map[string]map[time.Time]int64 {
	out := map[string]map[time.Time]int64{}
	for _, r := range records {
		if r.CreateTime.Before(from) || r.CreateTime.After(to) {
			continue
		}
		g := group(r)
		if out[g] == nil {
			out[g] = map[time.Time]int64{}
		}
		out[g][r.CreateTime.UTC().Truncate(step)]++
	}
	return out
}

// seriesCounts reads the count frames back into group -> bucket -> count, checking each is zero-filled.
func seriesCounts(t *testing.T, frames data.Frames, groupBy string, from, to time.Time, step time.Duration) map[string]map[time.Time]int64 {
	t.Helper()
	wantBuckets := int(to.Truncate(step).Sub(from.UTC().Truncate(step))/step) + 1
	out := map[string]map[time.Time]int64{}
	for _, f := range frames {
		if f.Rows() != wantBuckets {
			t.Fatalf("series %v has %d buckets, want %d (zero-filled)", f.Fields[1].Labels, f.Rows(), wantBuckets)
		}
		g := f.Fields[1].Labels[groupBy]
		counts := map[time.Time]int64{}
		for i := 0; i < f.Rows(); i++ {
			ts := f.Fields[0].At(i).(time.Time)
			if ts.Location() != time.UTC || !ts.Equal(ts.Truncate(step)) {
				t.Fatalf("bucket %v is not a UTC multiple of %s", ts, step)
			}
			if n := f.Fields[1].At(i).(int64); n > 0 {
				counts[ts] = n
			}
		}
		out[g] = counts
	}
	return out
}

func sameCounts(t *testing.T, got, want map[string]map[time.Time]int64) {
	t.Helper()
	total := func(m map[string]map[time.Time]int64) (n int64) {
		for _, s := range m {
			for _, c := range s {
				n += c
			}
		}
		return n
	}
	if total(got) != total(want) {
		t.Errorf("counted %d events, the simulator holds %d", total(got), total(want))
	}
	for g, series := range want {
		for ts, n := range series {
			if got[g][ts] != n {
				t.Errorf("group %q at %s: %d, want %d", g, ts.Format(time.RFC3339), got[g][ts], n)
			}
		}
	}
}

func countQuery(body string, from, to time.Time) backend.DataQuery {
	return backend.DataQuery{RefID: "A", JSON: []byte(body), Interval: time.Minute, TimeRange: backend.TimeRange{From: from, To: to}}
}

func TestCountsMatchTheSimulator(t *testing.T) {
	f := newFixture(t, cbcsim.Config{Seed: 12, EventsPerDay: 3000}, nil)
	records := cbctest.Records(f.sim)
	from, to := simNow.Add(-72*time.Hour), simNow
	cases := []struct {
		name, body, groupBy string
		step                time.Duration
		group               func(cbc.Record) string
	}{
		{"plain", `{"queryType":"count","interval":"1h"}`, "", time.Hour, func(cbc.Record) string { return "" }},
		{"by category", `{"queryType":"count","groupBy":"category","interval":"30m"}`, "category", 30 * time.Minute, func(r cbc.Record) string { return category.Of(r.Description) }},
		{"by flagged", `{"queryType":"count","groupBy":"flagged","interval":"1d"}`, "flagged", 24 * time.Hour, func(r cbc.Record) string { return fmt.Sprint(r.Flagged) }},
		{"by actor ip", `{"queryType":"count","groupBy":"actor_ip","interval":"6h"}`, "actor_ip", 6 * time.Hour, func(r cbc.Record) string { return r.ActorIP }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := f.run(t, countQuery(c.body, from, to)).Responses["A"]
			if res.Error != nil {
				t.Fatal(res.Error)
			}
			sameCounts(t, seriesCounts(t, res.Frames, c.groupBy, from, to, c.step), truthCounts(records, from, to, c.step, c.group))
		})
	}
}

func TestCountTopNSumsTheRestIntoOther(t *testing.T) {
	f := newFixture(t, cbcsim.Config{Seed: 13, EventsPerDay: 2000}, nil)
	from, to := simNow.Add(-48*time.Hour), simNow
	truth := truthCounts(cbctest.Records(f.sim), from, to, time.Hour, func(r cbc.Record) string { return r.Actor })
	res := f.run(t, countQuery(`{"queryType":"count","groupBy":"actor","topN":3,"interval":"1h"}`, from, to)).Responses["A"]
	if res.Error != nil {
		t.Fatal(res.Error)
	}
	got := seriesCounts(t, res.Frames, "actor", from, to, time.Hour)
	if len(got) != 4 || got["other"] == nil {
		t.Fatalf("got groups %v, want the top 3 and other", keys(got))
	}
	folded := map[string]map[time.Time]int64{"other": {}}
	for g, s := range truth {
		if _, top := got[g]; top && g != "other" {
			folded[g] = s
			continue
		}
		for ts, n := range s {
			folded["other"][ts] += n
		}
	}
	sameCounts(t, got, folded)
	sums := map[string]int64{}
	for g, s := range got {
		for _, n := range s {
			sums[g] += n
		}
	}
	for g := range got {
		if g != "other" && sums[g] < sumOf(truth, got) {
			t.Errorf("%q (%d events) is in the top 3, but a bigger group was left out", g, sums[g])
		}
	}
}

// sumOf returns the largest total among groups left out of the top N.
func sumOf(truth, kept map[string]map[time.Time]int64) int64 {
	var most int64
	for g, s := range truth {
		if _, ok := kept[g]; ok {
			continue
		}
		var n int64
		for _, c := range s {
			n += c
		}
		most = max(most, n)
	}
	return most
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// More than 100000 events: the count pages beyond CBC's window by time slices and misses none.
func TestCountBeyondTheWindow(t *testing.T) {
	f := newFixture(t, cbcsim.Config{Seed: 14, EventsPerDay: 30000}, nil)
	from, to := simNow.Add(-4*24*time.Hour), simNow
	truth := truthCounts(cbctest.Records(f.sim), from, to, 3*time.Hour, func(r cbc.Record) string { return category.Of(r.Description) })
	var total int64
	for _, s := range truth {
		for _, n := range s {
			total += n
		}
	}
	if total < 100000 {
		t.Fatalf("test data holds %d events, want over 100000", total)
	}
	res := f.run(t, countQuery(`{"queryType":"count","groupBy":"category","interval":"3h"}`, from, to)).Responses["A"]
	if res.Error != nil {
		t.Fatal(res.Error)
	}
	sameCounts(t, seriesCounts(t, res.Frames, "category", from, to, 3*time.Hour), truth)
	if n := len(res.Frames[0].Meta.Notices); n != 0 {
		t.Errorf("a complete count carries %d notices", n)
	}
}

func TestCountCapAddsANotice(t *testing.T) {
	f := newFixture(t, cbcsim.Config{Seed: 14, EventsPerDay: 10000}, map[string]any{"maxRecords": 5000})
	res := f.run(t, countQuery(`{"queryType":"count"}`, simNow.Add(-24*time.Hour), simNow)).Responses["A"]
	if res.Error != nil || len(res.Frames[0].Meta.Notices) != 1 {
		t.Fatalf("%v, notices %+v: want one saying the count stopped at max records", res.Error, res.Frames[0].Meta.Notices)
	}
}

func TestCountOfAnEmptyRange(t *testing.T) {
	f := newFixture(t, cbcsim.Config{Seed: 15, EventsPerDay: 1000}, nil)
	from := simNow.Add(-30 * 24 * time.Hour)
	res := f.run(t, countQuery(`{"queryType":"count","interval":"1h"}`, from, from.Add(6*time.Hour))).Responses["A"]
	if res.Error != nil || len(res.Frames) != 1 || res.Frames[0].Rows() != 7 {
		t.Fatalf("%v: want one zero-filled series of 7 hourly buckets", res.Error)
	}
	grouped := f.run(t, countQuery(`{"queryType":"count","groupBy":"actor","interval":"1h"}`, from, from.Add(6*time.Hour))).Responses["A"]
	if grouped.Error != nil || len(grouped.Frames) != 0 {
		t.Errorf("a grouped count of nothing: %v, %d frames; want no series", grouped.Error, len(grouped.Frames))
	}
}

// A browser in Europe/Berlin asks for the days around the spring DST change: Grafana sends the range in UTC,
// and buckets stay whole UTC days (23 local hours do not make a short bucket).
func TestCountAcrossDSTStaysUTC(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone data on this machine:", err)
	}
	change := time.Date(2024, 3, 31, 3, 0, 0, 0, berlin)
	now := change.Add(3 * 24 * time.Hour)
	f := newFixture(t, cbcsim.Config{Seed: 16, EventsPerDay: 2000, Now: func() time.Time { return now }}, nil)
	from, to := time.Date(2024, 3, 29, 0, 0, 0, 0, berlin), time.Date(2024, 4, 2, 0, 0, 0, 0, berlin)
	res := f.run(t, countQuery(`{"queryType":"count","interval":"1d"}`, from, to)).Responses["A"]
	if res.Error != nil {
		t.Fatal(res.Error)
	}
	truth := truthCounts(cbctest.Records(f.sim), from, to, 24*time.Hour, func(cbc.Record) string { return "" })
	sameCounts(t, seriesCounts(t, res.Frames, "", from, to, 24*time.Hour), truth)
}

// A dashboard panel keeps Grafana's interval, with no notice, where it makes a few more buckets than the
// panel's maxDataPoints: Grafana chose it for that panel (7 days over 1000 points is 10 minutes, 1008 buckets).
func TestCountKeepsGrafanasInterval(t *testing.T) {
	f := newFixture(t, cbcsim.Config{Seed: 18, EventsPerDay: 500}, nil)
	q := backend.DataQuery{RefID: "A", JSON: []byte(`{"queryType":"count"}`), Interval: 10 * time.Minute, MaxDataPoints: 1000,
		TimeRange: backend.TimeRange{From: simNow.Add(-7 * 24 * time.Hour), To: simNow}}
	resp, err := f.ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{q}})
	if err != nil {
		t.Fatal(err)
	}
	res := resp.Responses["A"]
	if res.Error != nil || len(res.Frames) != 1 {
		t.Fatalf("%v, %d frames", res.Error, len(res.Frames))
	}
	if rows, notices := res.Frames[0].Rows(), res.Frames[0].Meta.Notices; rows < 1008 || rows > 1009 || len(notices) > 0 {
		t.Errorf("%d buckets and notices %v; want Grafana's 10 minutes (1008 or 1009 buckets) and no notice", rows, notices)
	}
}

// An alert rule saved without an interval counts correctly over any window: Grafana's interval (1 s from the
// alerting UI, 64 ms from the engine) is raised to a width the series can hold, with a notice saying so.
func TestAlertRulesWithoutAnInterval(t *testing.T) {
	f := newFixture(t, cbcsim.Config{Seed: 17, EventsPerDay: 3000}, nil)
	all := cbctest.Records(f.sim)
	for _, window := range []time.Duration{5 * time.Minute, 6 * time.Hour, 7 * 24 * time.Hour} {
		for _, interval := range []time.Duration{time.Second, 64 * time.Millisecond} {
			for _, maxDataPoints := range []int64{43200, 5000} {
				name := fmt.Sprintf("%s window, interval %s, maxDataPoints %d", window, interval, maxDataPoints)
				from := simNow.Add(-window)
				q := backend.DataQuery{RefID: "A", JSON: []byte(`{"queryType":"count","groupBy":"actor"}`), Interval: interval,
					MaxDataPoints: maxDataPoints, TimeRange: backend.TimeRange{From: from, To: simNow}}
				resp, err := f.ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{q}, Headers: map[string]string{"FromAlert": "true"}})
				if err != nil {
					t.Fatal(err)
				}
				res := resp.Responses["A"]
				if res.Error != nil {
					t.Errorf("%s: %v", name, res.Error)
					continue
				}
				want := map[string]int64{}
				for _, r := range recordsBetween(all, from, simNow) {
					want[r.Actor]++
				}
				got := map[string]int64{}
				points := 0
				for _, frame := range res.Frames {
					points = max(points, frame.Rows())
					for i := 0; i < frame.Rows(); i++ {
						got[frame.Fields[1].Labels["actor"]] += frame.Fields[1].At(i).(int64)
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s: counted %v, want %v", name, got, want)
				}
				buckets := int64(window / interval)
				raised := buckets > frames.MaxBuckets || buckets > 2*maxDataPoints
				hasNotice := len(res.Frames) > 0 && len(res.Frames[0].Meta.Notices) > 0
				if raised != hasNotice || (raised && int64(points) > min(int64(frames.MaxBuckets), maxDataPoints)+1) {
					t.Errorf("%s: %d points, notice %v (want one: %v)", name, points, hasNotice, raised)
				}
			}
		}
	}
}
