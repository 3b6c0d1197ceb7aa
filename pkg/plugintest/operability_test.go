package plugintest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The plugin's metrics, read through CollectMetrics as Grafana scrapes them, count its requests to CBC, the
// drain, the cache and the bytes of exports, each labelled with the data source's uid.
func TestMetricsThroughCollectMetrics(t *testing.T) {
	sim := StartSimulator(t, binaries.sim, "-seed", "4", "-span", "24h", "-per-day", "2000", "-rate", "0", "-rate-limit", "0", "-job-duration", "100ms")
	p := StartPlugin(t, binaries.plugin)
	ds := DataSource{UID: "observed", Secret: "SIMULATORSECRET0GRAFANA01", JSONData: map[string]any{
		"region": "custom", "url": sim.URL, "allowInsecureHttp": true, "orgKey": "ABCD1234", "apiId": "GRAFANA001", "queuePollSeconds": 10,
	}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	search := lastDay("A", `{"queryType":"search","limit":100}`)
	for range 2 { // the second is answered from the cache
		if _, err := p.QueryData(ctx, ds, nil, search); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.QueryData(ctx, ds, nil, lastDay("Q", `{"queryType":"queue"}`)); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	body, _ := json.Marshal(map[string]any{"format": "csv", "from": now.Add(-time.Hour).UnixMilli(), "to": now.UnixMilli()})
	_, raw, err := p.CallResource(ctx, ds, "POST", "exports", body)
	if err != nil {
		t.Fatal(err)
	}
	var job struct{ ID int64 }
	_ = json.Unmarshal(raw, &job)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if status, _, _ := p.CallResource(ctx, ds, "GET", fmt.Sprintf("exports/%d/download", job.ID), nil); status == 200 {
			break
		}
	}

	var text string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if text, err = p.CollectMetrics(ctx); err != nil {
			t.Fatal(err)
		}
		if value(text, `cbcauditlogs_queue_events_drained_total{datasource="observed"}`) > 0 {
			break
		}
	}
	for _, series := range []string{
		`cbcauditlogs_cbc_requests_total{datasource="observed",endpoint="search",status="200"}`,
		`cbcauditlogs_cbc_request_duration_seconds_count{datasource="observed",endpoint="search"}`,
		`cbcauditlogs_cbc_requests_total{datasource="observed",endpoint="queue",status="200"}`,
		`cbcauditlogs_cache_requests_total{datasource="observed",result="hit"}`,
		`cbcauditlogs_cache_requests_total{datasource="observed",result="miss"}`,
		`cbcauditlogs_queue_events_drained_total{datasource="observed"}`,
		`cbcauditlogs_queue_buffer_events{datasource="observed"}`,
		`cbcauditlogs_export_bytes_total{datasource="observed"}`,
	} {
		if value(text, series) <= 0 {
			t.Errorf("%s is missing or zero", series)
		}
	}
	for _, series := range []string{`cbcauditlogs_queue_backlog{datasource="observed"}`, `cbcauditlogs_queue_last_poll_age_seconds{datasource="observed"}`, `cbcauditlogs_cache_bytes{datasource="observed"}`} {
		if value(text, series) < 0 {
			t.Errorf("%s is missing", series)
		}
	}
}

// value reads one series of the text exposition format; -1 when it is missing.
func value(text, series string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// No secret reaches the plugin's log at any level, whatever happens: every query type, an export, and every
// error path — a wrong secret (401), a key without permission (403), a malformed URL, failed token exchanges.
func TestNoSecretInAnyLogLine(t *testing.T) {
	sim := StartSimulator(t, binaries.sim, "-seed", "8", "-span", "24h", "-per-day", "1000", "-rate", "0", "-rate-limit", "0", "-job-duration", "100ms")
	p, output := StartPluginLogging(t, binaries.plugin)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := map[string]any{"region": "custom", "url": sim.URL, "allowInsecureHttp": true, "orgKey": "ABCD1234", "cspUrl": sim.URL, "queuePollSeconds": 10}
	with := func(changes map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range changes {
			out[k] = v
		}
		return out
	}
	secrets := []string{"SIMULATORSECRET0GRAFANA01", "WRONGSECRET0WRONGSECRET0", "SIMULATORSECRET00NOPERMS1",
		"SIMULATORAPPSECRET000001", "WRONGAPPSECRET0000000001", "SIMULATORAPITOKEN0000000000000001", "SIMULATORAPITOKEN000000000REVOKED"}
	sources := []DataSource{
		{UID: "key", Secret: secrets[0], JSONData: with(map[string]any{"apiId": "GRAFANA001"})},
		{UID: "wrong-secret", Secret: secrets[1], JSONData: with(map[string]any{"apiId": "GRAFANA001"})},
		{UID: "no-permission", Secret: secrets[2], JSONData: with(map[string]any{"apiId": "NOPERMS001"})},
		{UID: "bad-url", Secret: secrets[0], JSONData: with(map[string]any{"apiId": "GRAFANA001", "url": "ht!tp://" + secrets[0]})},
		{UID: "app", SecureJSONData: map[string]string{"clientSecret": secrets[3]}, JSONData: with(map[string]any{"authType": "oauthApp", "clientId": "grafana-oauth-app"})},
		{UID: "wrong-app", SecureJSONData: map[string]string{"clientSecret": secrets[4]}, JSONData: with(map[string]any{"authType": "oauthApp", "clientId": "grafana-oauth-app"})},
		{UID: "token", SecureJSONData: map[string]string{"apiToken": secrets[5]}, JSONData: with(map[string]any{"authType": "apiToken"})},
		{UID: "revoked", SecureJSONData: map[string]string{"apiToken": secrets[6]}, JSONData: with(map[string]any{"authType": "apiToken"})},
	}
	for _, ds := range sources {
		if _, err := p.CheckHealth(ctx, ds); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{`{"queryType":"search","limit":50}`, `{"queryType":"count","groupBy":"actor"}`, `{"queryType":"queue"}`, `{"query":"description:\"open"}`} {
			if _, err := p.QueryData(ctx, ds, nil, lastDay("A", q)); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now()
		body, _ := json.Marshal(map[string]any{"format": "csv", "from": now.Add(-time.Hour).UnixMilli(), "to": now.UnixMilli()})
		_, raw, _ := p.CallResource(ctx, ds, "POST", "exports", body)
		var job struct{ ID int64 }
		_ = json.Unmarshal(raw, &job)
		time.Sleep(200 * time.Millisecond)
		_, _, _ = p.CallResource(ctx, ds, "GET", fmt.Sprintf("exports/%d/download", job.ID), nil)
		_, _, _ = p.CallResource(ctx, ds, "GET", "queue/status", nil)
	}
	logged := output.String()
	if !strings.Contains(logged, "[DEBUG]") || !strings.Contains(logged, "Carbon Black Cloud request") {
		t.Fatalf("the plugin logged no debug lines about its requests; the test cannot tell:\n%.2000s", logged)
	}
	for _, secret := range secrets {
		for i := 0; i+8 <= len(secret); i++ {
			if at := strings.Index(logged, secret[i:i+8]); at >= 0 {
				t.Errorf("the log holds %q, a piece of a secret: …%s…", secret[i:i+8], logged[max(0, at-160):min(len(logged), at+40)])
				break
			}
		}
	}
	if strings.Contains(logged, "Bearer ") || strings.Contains(logged, "X-Auth-Token") {
		t.Error("the log shows an authorization header")
	}
}

// Every metric the provisioned plugin-health dashboard charts is one the plugin exposes.
func TestPluginHealthDashboardChartsRealMetrics(t *testing.T) {
	raw, err := os.ReadFile("../../provisioning/dashboards/plugin-health.json")
	if err != nil {
		t.Fatal(err)
	}
	sim := StartSimulator(t, binaries.sim, "-seed", "4", "-span", "1h", "-per-day", "200", "-rate", "0", "-rate-limit", "0")
	p := StartPlugin(t, binaries.plugin)
	ds := DataSource{UID: "health", Secret: "SIMULATORSECRET0GRAFANA01", JSONData: map[string]any{
		"region": "custom", "url": sim.URL, "allowInsecureHttp": true, "orgKey": "ABCD1234", "apiId": "GRAFANA001",
	}}
	if _, err := p.QueryData(context.Background(), ds, nil, lastDay("A", `{"queryType":"search","limit":10}`)); err != nil {
		t.Fatal(err)
	}
	exposed, err := p.CollectMetrics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`cbcauditlogs_[a-z_]+`).FindAllString(string(raw), -1)
	if len(names) < 8 {
		t.Fatalf("the dashboard charts %d metrics", len(names))
	}
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_count")
		if !strings.Contains(exposed, "# TYPE "+base+" ") {
			t.Errorf("the dashboard charts %s, which the plugin does not expose", name)
		}
	}
}
