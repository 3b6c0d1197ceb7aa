package plugintest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"gopkg.in/yaml.v3"
)

// allValue is what the dashboard's variables send when "All" is selected.
const allValue = "*"

// variableValues are the selections a user makes on the dashboard, as the frontend writes them into the query
// text: All, one value, and several values as (a OR b).
var variableValues = map[string]map[string]string{
	"all":    {"$actor_ip": allValue, "$actor": allValue},
	"single": {"$actor_ip": "203.0.113.10", "$actor": "alice.admin@acme.example"},
	"multi": {"$actor_ip": "(203.0.113.10 OR 203.0.113.24)",
		"$actor": "(alice.admin@acme.example OR bob.analyst@acme.example)"},
}

// Every panel of the provisioned dashboard answers, for All, one and several variable values, with the counts
// the simulator's ground truth gives for the same query over the same time range.
func TestProvisionedDashboardPanelsMatchTheTruth(t *testing.T) {
	raw, err := os.ReadFile("../../provisioning/dashboards/audit-overview.json")
	if err != nil {
		t.Fatal(err)
	}
	var dashboard struct {
		Panels []struct {
			Title   string
			Targets []json.RawMessage
		}
		Templating struct {
			List []struct{ Name, AllValue string }
		}
	}
	if err := json.Unmarshal(raw, &dashboard); err != nil {
		t.Fatal(err)
	}
	for _, v := range dashboard.Templating.List {
		if v.AllValue != allValue {
			t.Errorf("variable %s: All sends %q, want %q (a query wildcard)", v.Name, v.AllValue, allValue)
		}
	}
	p, ds, sim := stackWithSimulator(t)
	ds.JSONData["geoipCityDatabase"] = cityDatabase(t) // the map and the counts by country
	for selection, values := range variableValues {
		replacer := strings.NewReplacer("$actor_ip", values["$actor_ip"], "$actor", values["$actor"])
		for _, panel := range dashboard.Panels {
			for _, target := range panel.Targets {
				body := replacer.Replace(string(target))
				q := lastDay("A", body)
				resp, err := p.QueryData(context.Background(), ds, nil, q)
				if err != nil {
					t.Fatalf("%s, %s: %v", panel.Title, selection, err)
				}
				res := resp.Responses["A"]
				if res.Error != nil {
					t.Errorf("%s, %s: %v", panel.Title, selection, res.Error)
					continue
				}
				var model struct {
					QueryType, Query string
					Criteria         map[string]any
					Limit            int
				}
				_ = json.Unmarshal([]byte(body), &model)
				truth := simulatorTruth(t, sim, model.Query, model.Criteria, q.TimeRange)
				if truth == 0 && selection == "all" {
					t.Errorf("%s: nothing matches over the last day, so the panel proves nothing", panel.Title)
				}
				got, want := 0, truth
				if model.QueryType == "count" {
					got = sumOfSeries(res.Frames)
				} else {
					for _, f := range res.Frames {
						got += f.Rows()
					}
					want = min(truth, model.Limit)
				}
				if got != want {
					t.Errorf("%s, %s variables: %d, the simulator's truth is %d", panel.Title, selection, got, want)
				}
			}
		}
	}
}

// simulatorTruth counts the events a query matches over a time range, asking the simulator itself.
func simulatorTruth(t *testing.T, sim *Simulator, query string, criteria map[string]any, tr backend.TimeRange) int {
	t.Helper()
	if criteria == nil {
		criteria = map[string]any{}
	}
	const layout = "2006-01-02T15:04:05.000Z"
	criteria["create_time"] = map[string]string{"start": tr.From.UTC().Format(layout), "end": tr.To.UTC().Format(layout)}
	body, _ := json.Marshal(map[string]any{"query": query, "criteria": criteria})
	resp, err := http.Post(sim.URL+"/_sim/truth", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		NumFound int `json:"num_found"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("truth for %s: %d %v", body, resp.StatusCode, err)
	}
	return out.NumFound
}

// sumOfSeries adds up every numeric value of every series.
func sumOfSeries(frames data.Frames) int {
	total := 0.0
	for _, f := range frames {
		for _, field := range f.Fields {
			for i := 0; i < field.Len(); i++ {
				if v, ok := field.ConcreteAt(i); ok {
					switch v := v.(type) {
					case float64:
						total += v
					case int64:
						total += float64(v)
					}
				}
			}
		}
	}
	return int(total)
}

// alertRules is a provisioned alerting file.
type alertRules struct {
	Groups []struct {
		Interval string
		Rules    []struct {
			UID, Title  string
			Labels      map[string]string
			Annotations map[string]string
			Data        []struct {
				RefID             string             `yaml:"refId"`
				DatasourceUID     string             `yaml:"datasourceUid"`
				RelativeTimeRange struct{ From int } `yaml:"relativeTimeRange"`
				Model             map[string]any     `yaml:"model"`
			}
		}
	}
}

func readAlertRules(t *testing.T, path string) alertRules {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file alertRules
	if err := yaml.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	return file
}

// The provisioned alert rule's query, sent as the alerting engine sends it, returns labelled numeric series.
func TestProvisionedAlertRuleQuery(t *testing.T) {
	file := readAlertRules(t, "../../provisioning/alerting/failed-logins.yml")
	p, ds := stack(t)
	rule := file.Groups[0].Rules[0]
	query := rule.Data[0]
	if query.DatasourceUID != "cbc-simulator" {
		t.Fatalf("rule %q queries %q, not the provisioned data source", rule.Title, query.DatasourceUID)
	}
	// As saved, and as a user who built it in the alerting UI would have it: without an interval, so that the
	// engine's own interval (64 ms) and the UI's (1 s) reach the plugin.
	withoutInterval := map[string]any{}
	for k, v := range query.Model {
		if k != "interval" {
			withoutInterval[k] = v
		}
	}
	var res backend.DataResponse
	for _, model := range []map[string]any{query.Model, withoutInterval} {
		for _, interval := range []time.Duration{64 * time.Millisecond, time.Second} {
			raw, _ := json.Marshal(model)
			q := lastDay(query.RefID, string(raw))
			q.Interval, q.MaxDataPoints = interval, 43200
			resp, err := p.QueryData(context.Background(), ds, map[string]string{"FromAlert": "true"}, q)
			if err != nil {
				t.Fatal(err)
			}
			res = resp.Responses[query.RefID]
			if res.Error != nil || len(res.Frames) == 0 {
				t.Fatalf("%s (interval %v in the model, %s from Grafana): %v, %d series", rule.Title, model["interval"], interval, res.Error, len(res.Frames))
			}
		}
	}
	for _, f := range res.Frames {
		if f.Fields[1].Labels["actor"] == "" {
			t.Errorf("series without an actor label: %v", f.Fields[1].Labels)
		}
	}
}

// The queries of the README's examples run through the plugin and find events.
func TestReadmeExamplesRun(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, examples, _ := strings.Cut(string(raw), "\n## Examples\n")
	examples, _, _ = strings.Cut(examples, "\n## ")
	queries := regexp.MustCompile("query `([^`]+)`").FindAllStringSubmatch(examples, -1)
	if len(queries) < 3 {
		t.Fatalf("found %d example queries in the README", len(queries))
	}
	p, ds := stack(t)
	for _, m := range queries {
		body, _ := json.Marshal(map[string]any{"queryType": "search", "format": "table", "query": m[1], "limit": 10})
		resp, err := p.QueryData(context.Background(), ds, nil, lastDay("A", string(body)))
		if err != nil {
			t.Fatal(err)
		}
		res := resp.Responses["A"]
		if res.Error != nil || len(res.Frames) == 0 || res.Frames[0].Rows() == 0 {
			t.Errorf("README example %s: %v", m[1], res.Error)
		}
	}
}
