// Package frames shapes audit records into Grafana data frames: data plane log lines, typed tables and count
// time series.
package frames

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/seed/cbcauditlogs/pkg/category"
	"github.com/seed/cbcauditlogs/pkg/cbc"
)

// labels are the record fields a log line carries besides its time and body.
type labels struct {
	Actor      string `json:"actor,omitempty"`
	ActorIP    string `json:"actor_ip,omitempty"`
	OrgKey     string `json:"org_key,omitempty"`
	RequestURL string `json:"request_url,omitempty"`
	Flagged    bool   `json:"flagged"`
	Verbose    bool   `json:"verbose"`
	Category   string `json:"category"`
}

// Severity of a log line: flagged events are security-relevant.
func Severity(r cbc.Record) string {
	if r.Flagged {
		return "warning"
	}
	return "info"
}

// IDs returns a stable id for each record: its derived id, with "-2", "-3"… for exact duplicates, so that
// Grafana keeps both lines.
func IDs(records []cbc.Record) []string {
	ids := make([]string, len(records))
	seen := make(map[string]int, len(records))
	for i, r := range records {
		id := r.ID()
		seen[id]++
		if n := seen[id]; n > 1 {
			id += "-" + strconv.Itoa(n)
		}
		ids[i] = id
	}
	return ids
}

// Logs is the data plane log-lines frame: timestamp, body, severity, id, labels.
func Logs(name string, records []cbc.Record) *data.Frame {
	times := make([]time.Time, len(records))
	bodies := make([]string, len(records))
	severities := make([]string, len(records))
	labelValues := make([]json.RawMessage, len(records))
	for i, r := range records {
		times[i] = r.CreateTime
		bodies[i] = r.Description
		severities[i] = Severity(r)
		labelValues[i], _ = json.Marshal(labels{
			Actor: r.Actor, ActorIP: r.ActorIP, OrgKey: r.OrgKey, RequestURL: r.RequestURL,
			Flagged: r.Flagged, Verbose: r.Verbose, Category: category.Of(r.Description),
		})
	}
	frame := data.NewFrame(name,
		data.NewField("timestamp", nil, times),
		data.NewField("body", nil, bodies),
		data.NewField("severity", nil, severities),
		data.NewField("id", nil, IDs(records)),
		data.NewField("labels", nil, labelValues),
	)
	frame.SetMeta(&data.FrameMeta{
		Type:                   data.FrameTypeLogLines,
		TypeVersion:            data.FrameTypeVersion{0, 0},
		PreferredVisualization: data.VisTypeLogs,
	})
	return frame
}

// Table has one typed column per record field, plus the category.
func Table(name string, records []cbc.Record) *data.Frame {
	n := len(records)
	var (
		times                                             = make([]time.Time, n)
		actors, ips, descriptions, categories, orgs, urls = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		flagged, verbose                                  = make([]bool, n), make([]bool, n)
	)
	for i, r := range records {
		times[i], actors[i], ips[i], descriptions[i] = r.CreateTime, r.Actor, r.ActorIP, r.Description
		categories[i], orgs[i], urls[i] = category.Of(r.Description), r.OrgKey, r.RequestURL
		flagged[i], verbose[i] = r.Flagged, r.Verbose
	}
	frame := data.NewFrame(name,
		data.NewField("create_time", nil, times),
		data.NewField("actor", nil, actors),
		data.NewField("actor_ip", nil, ips),
		data.NewField("description", nil, descriptions),
		data.NewField("category", nil, categories),
		data.NewField("flagged", nil, flagged),
		data.NewField("verbose", nil, verbose),
		data.NewField("org_key", nil, orgs),
		data.NewField("request_url", nil, urls),
	)
	frame.SetMeta(&data.FrameMeta{PreferredVisualization: data.VisTypeTable})
	return frame
}
