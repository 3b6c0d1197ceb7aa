package plugintest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

var binaries struct{ plugin, sim string }

func TestMain(m *testing.M) {
	built, err := BuildAll()
	binaries.plugin, binaries.sim = built.Plugin, built.Sim
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	built.Remove()
	os.Exit(code)
}

// stack is the built plugin and the standalone simulator, as in docker compose.
func stack(t *testing.T) (*Plugin, DataSource) {
	t.Helper()
	p, ds, _ := stackWithSimulator(t)
	return p, ds
}

func stackWithSimulator(t *testing.T) (*Plugin, DataSource, *Simulator) {
	t.Helper()
	sim := StartSimulator(t, binaries.sim, "-seed", "3", "-span", "48h", "-per-day", "4000", "-rate", "0")
	p := StartPlugin(t, binaries.plugin)
	ds := DataSource{UID: "cbc", Secret: "SIMULATORSECRET0GRAFANA01", JSONData: map[string]any{
		"region": "custom", "url": sim.URL, "allowInsecureHttp": true, "orgKey": "ABCD1234", "apiId": "GRAFANA001",
	}}
	return p, ds, sim
}

func lastDay(refID, body string) backend.DataQuery {
	now := time.Now()
	return backend.DataQuery{RefID: refID, JSON: json.RawMessage(body), Interval: time.Hour, MaxDataPoints: 500,
		TimeRange: backend.TimeRange{From: now.Add(-24 * time.Hour), To: now}}
}

func TestCheckHealthOverGRPC(t *testing.T) {
	p, ds := stack(t)
	ctx := context.Background()
	res, err := p.CheckHealth(ctx, ds)
	if err != nil || res.Status != backend.HealthStatusOk {
		t.Fatalf("good key: %v %+v", err, res)
	}

	bad := ds
	bad.UID, bad.Secret = "bad-secret", "WRONG"
	if res, err := p.CheckHealth(ctx, bad); err != nil || res.Status != backend.HealthStatusError || !strings.Contains(res.Message, "API key invalid") {
		t.Errorf("bad key: %v %+v", err, res)
	}

	noPerm := DataSource{UID: "no-perm", Secret: "SIMULATORSECRET00NOPERMS1", JSONData: map[string]any{}}
	for k, v := range ds.JSONData {
		noPerm.JSONData[k] = v
	}
	noPerm.JSONData["apiId"] = "NOPERMS001"
	if res, err := p.CheckHealth(ctx, noPerm); err != nil || !strings.Contains(res.Message, "org.audits") {
		t.Errorf("key without permission: %v %+v", err, res)
	}
}

func TestQueryDataOverGRPC(t *testing.T) {
	p, ds := stack(t)
	resp, err := p.QueryData(context.Background(), ds, nil,
		lastDay("logs", `{"query":"description:\"Login failed\"","limit":50}`),
		lastDay("table", `{"format":"table","limit":20,"sort":{"field":"actor","order":"ASC"}}`),
		lastDay("bad", `{"sort":{"field":"nope","order":"ASC"}}`),
	)
	if err != nil {
		t.Fatal(err)
	}
	logs := resp.Responses["logs"]
	if logs.Error != nil || len(logs.Frames) != 1 || logs.Frames[0].Meta.Type != data.FrameTypeLogLines || logs.Frames[0].Rows() == 0 {
		t.Fatalf("logs: %v %+v", logs.Error, logs.Frames)
	}
	for i := 0; i < logs.Frames[0].Rows(); i++ {
		if body := logs.Frames[0].Fields[1].At(i).(string); !strings.HasPrefix(body, "Login failed") {
			t.Errorf("a logs line %q does not match the query", body)
		}
	}
	table := resp.Responses["table"]
	if table.Error != nil || table.Frames[0].Rows() != 20 || table.Frames[0].Fields[4].Name != "category" {
		t.Fatalf("table: %v", table.Error)
	}
	actors := table.Frames[0].Fields[1]
	for i := 1; i < actors.Len(); i++ {
		if actors.At(i).(string) < actors.At(i-1).(string) {
			t.Errorf("table not sorted by actor at row %d", i)
		}
	}
	if bad := resp.Responses["bad"]; bad.Error == nil || !strings.Contains(bad.Error.Error(), "sortable fields") {
		t.Errorf("bad query: %v", bad.Error)
	}
	if p.Exited() {
		t.Error("the plugin process exited")
	}
}

// The alerting engine calls QueryData from the backend, with its own headers; it needs numeric series with
// labels.
func TestAlertRuleQueryOverGRPC(t *testing.T) {
	p, ds := stack(t)
	headers := map[string]string{"FromAlert": "true", "X-Rule-Uid": "failed-logins", "X-Grafana-Org-Id": "1"}
	q := lastDay("A", `{"queryType":"count","query":"description:\"Login failed\"","groupBy":"actor","interval":"5m"}`)
	resp, err := p.QueryData(context.Background(), ds, headers, q)
	if err != nil {
		t.Fatal(err)
	}
	res := resp.Responses["A"]
	if res.Error != nil || len(res.Frames) == 0 {
		t.Fatalf("alert query: %v, %d frames", res.Error, len(res.Frames))
	}
	for _, f := range res.Frames {
		if f.Fields[1].Type() != data.FieldTypeInt64 || f.Fields[1].Labels["actor"] == "" {
			t.Errorf("series %v: want int64 counts labelled by actor", f.Fields[1].Labels)
		}
		if kind := f.TimeSeriesSchema().Type; kind == data.TimeSeriesTypeNot {
			t.Errorf("frame for %v is not a time series", f.Fields[1].Labels)
		}
	}
}

func TestResourcesOverGRPC(t *testing.T) {
	p, ds := stack(t)
	status, body, err := p.CallResource(context.Background(), ds, "GET", "fields", nil)
	if err != nil || status != 200 || !strings.Contains(string(body), `"name": "actor_ip"`) {
		t.Fatalf("fields: %d %s %v", status, body, err)
	}
}
