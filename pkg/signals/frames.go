package signals

import (
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/seed/cbcauditlogs/pkg/frames"
)

// Source names the data source the findings' evidence links open in Explore.
type Source struct{ UID, Name string }

// Table is the findings, newest first, with a link from each summary to its evidence as a search in Explore.
func Table(name string, found []Finding, source Source) *data.Frame {
	n := len(found)
	var (
		times      = make([]time.Time, n)
		detections = make([]string, n)
		techniques = make([]string, n)
		severities = make([]string, n)
		entities   = make([]string, n)
		summaries  = make([]string, n)
		evidence   = make([]int64, n)
		queries    = make([]string, n)
	)
	for i := range found {
		f := found[n-1-i]
		times[i], detections[i], techniques[i], severities[i] = f.Time, f.Detection.Name, f.Detection.Technique, f.Detection.Severity
		entities[i], summaries[i], evidence[i], queries[i] = f.Entity, f.Summary, int64(f.Evidence), f.EvidenceQuery()
	}
	summary := data.NewField("summary", nil, summaries)
	summary.SetConfig(&data.FieldConfig{Links: []data.DataLink{{
		Title: "Show the evidence in Explore",
		Internal: &data.InternalDataLink{DatasourceUID: source.UID, DatasourceName: source.Name,
			Query: map[string]any{"queryType": "search", "format": "logs", "query": "${__data.fields.evidence_query}"}},
	}}})
	query := data.NewField("evidence_query", nil, queries)
	query.SetConfig(&data.FieldConfig{Custom: map[string]any{"hidden": true}})
	frame := data.NewFrame(name,
		data.NewField("time", nil, times), data.NewField("detection", nil, detections),
		data.NewField("technique", nil, techniques), data.NewField("severity", nil, severities),
		data.NewField("entity", nil, entities), summary, data.NewField("evidence", nil, evidence), query)
	frame.SetMeta(&data.FrameMeta{PreferredVisualization: data.VisTypeTable})
	return frame
}

// Series counts findings over time in step-wide buckets: one series per detection and entity, labelled with
// the detection, its technique and severity and the entity, so that an alert rule makes one alert per entity.
func Series(name string, found []Finding, from, to time.Time, step time.Duration) data.Frames {
	buckets := frames.Buckets(from, to, step)
	type key struct{ detection, entity string }
	counts := map[key][]int64{}
	var order []key
	var byKey = map[key]Finding{}
	for _, f := range found {
		k := key{f.Detection.ID, f.Entity}
		series, ok := counts[k]
		if !ok {
			series = make([]int64, len(buckets))
			counts[k], byKey[k] = series, f
			order = append(order, k)
		}
		series[int(f.Time.Sub(buckets[0])/step)]++
	}
	out := make(data.Frames, 0, len(order))
	for _, k := range order {
		d := byKey[k].Detection
		labels := data.Labels{"detection": d.ID, "technique": d.Technique, "severity": d.Severity, d.Entity: k.entity}
		values := data.NewField("findings", labels, counts[k])
		values.SetConfig(&data.FieldConfig{DisplayNameFromDS: d.Name + ": " + k.entity})
		frame := data.NewFrame(name, data.NewField("time", nil, buckets), values)
		frame.SetMeta(&data.FrameMeta{Type: data.FrameTypeTimeSeriesMulti, TypeVersion: data.FrameTypeVersion{0, 1}})
		out = append(out, frame)
	}
	if len(out) == 0 { // no finding: an empty series, so the panel says "no data" and an alert rule sees none
		frame := data.NewFrame(name, data.NewField("time", nil, []time.Time{}), data.NewField("findings", nil, []int64{}))
		frame.SetMeta(&data.FrameMeta{Type: data.FrameTypeTimeSeriesMulti, TypeVersion: data.FrameTypeVersion{0, 1}})
		out = append(out, frame)
	}
	return out
}
