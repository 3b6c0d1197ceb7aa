package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/seed/cbcauditlogs/pkg/plugintest"
)

// pluginProcess is the built plugin binary, started and called the way Grafana does, configured for the
// simulator with its default settings (as a user who changed nothing), except the history cache: these runs
// measure reading CBC, and the refresh scenario measures the cache. geo is the same data source with a GeoIP
// City database.
type pluginProcess struct {
	plugin  *plugintest.Plugin
	ds, geo plugintest.DataSource
	file    bytes.Buffer // the last export downloaded, reused as the direct download reuses its buffer
}

func startPlugin(binary, simURL, geoip string) (*pluginProcess, error) {
	p, err := plugintest.LaunchPlugin(binary)
	if err != nil {
		return nil, err
	}
	settings := map[string]any{"region": "custom", "url": simURL, "allowInsecureHttp": true, "orgKey": orgKey, "apiId": apiID, "disableHistoryCache": true}
	withGeoIP := maps.Clone(settings)
	withGeoIP["geoipCityDatabase"] = geoip
	return &pluginProcess{plugin: p,
		ds:  plugintest.DataSource{UID: "bench", Secret: apiSecret, JSONData: settings},
		geo: plugintest.DataSource{UID: "bench-geoip", Secret: apiSecret, JSONData: withGeoIP},
	}, nil
}

func (p *pluginProcess) stop() { p.plugin.Kill() }

func (p *pluginProcess) resetPeak() error     { return p.plugin.ResetPeakRSS() }
func (p *pluginProcess) peak() (int64, error) { return p.plugin.PeakRSS() }

// query runs one query through QueryData and returns its frames, or the error Grafana would show. The time is
// that of the call as Grafana makes it: from sending the request to holding the response's bytes, before the
// frames are decoded (as the bare pager reads bytes without decoding them).
func (p *pluginProcess) query(span timeSpan, interval time.Duration, model map[string]any) (data.Frames, time.Duration, error) {
	return p.queryOn(p.ds, span, interval, model)
}

func (p *pluginProcess) queryOn(ds plugintest.DataSource, span timeSpan, interval time.Duration, model map[string]any) (data.Frames, time.Duration, error) {
	raw, _ := json.Marshal(model)
	req := backend.ToProto().QueryDataRequest(&backend.QueryDataRequest{PluginContext: ds.PluginContext(), Queries: []backend.DataQuery{{
		RefID: "A", QueryType: model["queryType"].(string), JSON: raw, Interval: interval, MaxDataPoints: 1000,
		TimeRange: backend.TimeRange{From: span.from, To: span.to},
	}}})
	start := time.Now()
	reply, err := p.plugin.Data.QueryData(context.Background(), req)
	took := time.Since(start)
	if err != nil {
		return nil, took, err
	}
	resp, err := backend.FromProto().QueryDataResponse(reply)
	if err != nil {
		return nil, took, err
	}
	res := resp.Responses["A"]
	if res.Error != nil {
		return nil, took, res.Error
	}
	return res.Frames, took, nil
}

// search asks for every record as logs and returns how many lines its frames hold.
func (p *pluginProcess) search(span timeSpan, limit int) (int, time.Duration, error) {
	frames, took, err := p.query(span, time.Minute, map[string]any{"queryType": "search", "format": "logs", "limit": limit})
	if err != nil {
		return 0, took, err
	}
	lines := 0
	for _, frame := range frames {
		lines += frame.Rows()
	}
	return lines, took, nil
}

// table asks ds for every record as a table frame and returns how many rows it holds.
func (p *pluginProcess) table(span timeSpan, limit int, ds plugintest.DataSource) (int, time.Duration, error) {
	frames, took, err := p.queryOn(ds, span, time.Minute, map[string]any{"queryType": "search", "format": "table", "limit": limit})
	if err == nil && len(frames) != 1 {
		err = fmt.Errorf("a table search returned %d frames, want 1", len(frames))
	}
	if err != nil {
		return 0, took, err
	}
	return frames[0].Rows(), took, nil
}

// countByCategory counts events per hour grouped by category and returns the sum of every bucket.
func (p *pluginProcess) countByCategory(span timeSpan) (int, time.Duration, error) {
	frames, took, err := p.query(span, time.Hour, map[string]any{"queryType": "count", "groupBy": "category"})
	if err != nil {
		return 0, took, err
	}
	total := 0
	for _, frame := range frames {
		for _, field := range frame.Fields {
			if !field.Type().Numeric() {
				continue
			}
			for i := range field.Len() {
				v, err := field.FloatAt(i)
				if err != nil {
					return 0, took, err
				}
				total += int(v)
			}
		}
	}
	return total, took, nil
}

// signalsOn evaluates every security signal as a findings table over span, on a data source named uid with
// the default settings (the history cache on) and GeoIP, and returns how many findings it holds. A new uid is
// a cold data source; the same uid again finds the baseline in its history cache.
func (p *pluginProcess) signalsOn(uid string, span timeSpan) (int, time.Duration, error) {
	settings := maps.Clone(p.geo.JSONData)
	delete(settings, "disableHistoryCache")
	ds := plugintest.DataSource{UID: uid, Secret: apiSecret, JSONData: settings}
	frames, took, err := p.queryOn(ds, span, time.Minute, map[string]any{"queryType": "signals"})
	if err != nil {
		return 0, took, err
	}
	return frames[0].Rows(), took, nil
}

// export starts a CSV export through the plugin's resources, waits for it as the query editor does, downloads
// it and returns how many records the file holds.
func (p *pluginProcess) export(span timeSpan) (int, error) {
	ctx := context.Background()
	body, _ := json.Marshal(map[string]any{"format": "csv", "query": map[string]any{}, "from": span.from.UnixMilli(), "to": span.to.UnixMilli()})
	status, raw, err := p.plugin.CallResource(ctx, p.ds, "POST", "exports", body)
	if err != nil || status != 201 {
		return 0, fmt.Errorf("POST exports: %d %s %v", status, raw, err)
	}
	var job struct{ ID int64 }
	if err := json.Unmarshal(raw, &job); err != nil {
		return 0, err
	}
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		_, raw, err := p.plugin.CallResource(ctx, p.ds, "GET", fmt.Sprintf("exports/%d", job.ID), nil)
		var st struct{ Status, Message string }
		if err != nil || json.Unmarshal(raw, &st) != nil {
			return 0, fmt.Errorf("export status: %s %v", raw, err)
		}
		if st.Status == "COMPLETED" {
			break
		}
		if st.Status == "FAILED" || time.Now().After(deadline) {
			return 0, fmt.Errorf("export %s: %s", st.Status, st.Message)
		}
	}
	// Into a buffer reused from run to run, as the direct download reads into its own.
	p.file.Reset()
	status, err = p.plugin.StreamResource(ctx, p.ds, "GET", fmt.Sprintf("exports/%d/download", job.ID), nil, &p.file)
	if err != nil || status != 200 {
		return 0, fmt.Errorf("download: %d %v", status, err)
	}
	return bytes.Count(p.file.Bytes(), []byte("\n")) - 1, nil // minus the header
}
