package plugintest

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// allValue is what the dashboard's variables send when "All" is selected.
const allValue = "*"

// Every panel of the provisioned dashboard returns data from the simulator.
func TestProvisionedDashboardPanelsReturnData(t *testing.T) {
	raw, err := os.ReadFile("../../provisioning/dashboards/audit-overview.json")
	if err != nil {
		t.Fatal(err)
	}
	var dashboard struct {
		Title  string
		Panels []struct {
			Title   string
			Type    string
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
	p, ds := stack(t)
	for _, panel := range dashboard.Panels {
		for _, target := range panel.Targets {
			body := strings.NewReplacer("$actor_ip", allValue, "$actor", allValue).Replace(string(target))
			resp, err := p.QueryData(context.Background(), ds, nil, lastDay("A", body))
			if err != nil {
				t.Fatalf("%s: %v", panel.Title, err)
			}
			res := resp.Responses["A"]
			if res.Error != nil {
				t.Errorf("%s: %v", panel.Title, res.Error)
				continue
			}
			rows := 0
			for _, f := range res.Frames {
				rows += f.Rows()
			}
			if len(res.Frames) == 0 || rows == 0 {
				t.Errorf("%s (%s) returned no data", panel.Title, panel.Type)
			}
		}
	}
}

// The provisioned alert rule's query, sent as the alerting engine sends it, returns labelled numeric series.
func TestProvisionedAlertRuleQuery(t *testing.T) {
	raw, err := os.ReadFile("../../provisioning/alerting/failed-logins.yml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Rules []struct {
				Title string
				Data  []struct {
					RefID         string         `yaml:"refId"`
					DatasourceUID string         `yaml:"datasourceUid"`
					Model         map[string]any `yaml:"model"`
				}
			}
		}
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	p, ds := stack(t)
	rule := file.Groups[0].Rules[0]
	query := rule.Data[0]
	if query.DatasourceUID != "cbc-simulator" {
		t.Fatalf("rule %q queries %q, not the provisioned data source", rule.Title, query.DatasourceUID)
	}
	model, _ := json.Marshal(query.Model)
	q := lastDay(query.RefID, string(model))
	resp, err := p.QueryData(context.Background(), ds, map[string]string{"FromAlert": "true"}, q)
	if err != nil {
		t.Fatal(err)
	}
	res := resp.Responses[query.RefID]
	if res.Error != nil || len(res.Frames) == 0 {
		t.Fatalf("%s: %v, %d series", rule.Title, res.Error, len(res.Frames))
	}
	for _, f := range res.Frames {
		if f.Fields[1].Labels["actor"] == "" {
			t.Errorf("series without an actor label: %v", f.Fields[1].Labels)
		}
	}
}
