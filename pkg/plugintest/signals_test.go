package plugintest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// officeRanges are the simulator's office addresses (documentation ranges): the org's known ranges.
const officeRanges = "192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24"

// signalsStack is the built plugin over three weeks of the simulator's org traffic (no attack in it), with the
// shipped City database and the offices as known ranges.
func signalsStack(t *testing.T) (*Plugin, DataSource, *Simulator) {
	t.Helper()
	sim := StartSimulator(t, binaries.sim, "-traffic", "org", "-seed", "11", "-span", "504h", "-per-day", "2000", "-rate", "0")
	p := StartPlugin(t, binaries.plugin)
	ds := DataSource{UID: "signals", Secret: "SIMULATORSECRET0GRAFANA01", JSONData: map[string]any{
		"region": "custom", "url": sim.URL, "allowInsecureHttp": true, "orgKey": "ABCD1234", "apiId": "GRAFANA001",
		"geoipCityDatabase": cityDatabase(t), "knownRanges": officeRanges,
	}}
	return p, ds, sim
}

// finding is one row of a findings table.
type finding struct {
	Time                           time.Time
	Detection, Technique, Severity string
	Entity, Summary, EvidenceQuery string
	Evidence                       int64
}

func (f finding) String() string {
	return fmt.Sprintf("%s %s %s: %s", f.Time.Format(time.RFC3339), f.Detection, f.Entity, f.Summary)
}

// signalsQuery runs a signals query over [from, to] and fails the test on an error.
func signalsQuery(t *testing.T, p *Plugin, ds DataSource, headers map[string]string, model map[string]any, from, to time.Time) data.Frames {
	t.Helper()
	model["queryType"] = "signals"
	raw, _ := json.Marshal(model)
	q := backend.DataQuery{RefID: "S", JSON: raw, Interval: time.Minute, MaxDataPoints: 1000, TimeRange: backend.TimeRange{From: from, To: to}}
	resp, err := p.QueryData(context.Background(), ds, headers, q)
	if err != nil {
		t.Fatal(err)
	}
	res := resp.Responses["S"]
	if res.Error != nil {
		t.Fatalf("%v: %v", model, res.Error)
	}
	return res.Frames
}

func findings(t *testing.T, frames data.Frames) []finding {
	t.Helper()
	if len(frames) != 1 {
		t.Fatalf("a findings query answered %d frames, want 1", len(frames))
	}
	f := frames[0]
	var out []finding
	for i := range f.Rows() {
		row := finding{}
		for _, field := range f.Fields {
			switch v := field.At(i).(type) {
			case time.Time:
				row.Time = v
			case int64:
				row.Evidence = v
			case string:
				switch field.Name {
				case "detection":
					row.Detection = v
				case "technique":
					row.Technique = v
				case "severity":
					row.Severity = v
				case "entity":
					row.Entity = v
				case "summary":
					row.Summary = v
				case "evidence_query":
					row.EvidenceQuery = v
				}
			}
		}
		out = append(out, row)
	}
	return out
}

// detectionNames are the detections' names by id, from the catalogue the plugin serves.
func detectionNames(t *testing.T, p *Plugin, ds DataSource) map[string]string {
	t.Helper()
	status, body, err := p.CallResource(context.Background(), ds, "GET", "detections", nil)
	if err != nil || status != 200 {
		t.Fatalf("GET detections: %d %v %s", status, err, body)
	}
	var catalogue struct{ Detections []struct{ ID, Name string } }
	if err := json.Unmarshal(body, &catalogue); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, d := range catalogue.Detections {
		names[d.ID] = d.Name
	}
	if len(names) < 10 {
		t.Fatalf("the plugin serves %d detections, want at least 10", len(names))
	}
	return names
}

// Through the built binary: every detection stays silent on a week of the org traffic at its defaults, then
// fires on its attack scenario for the scenario's entity at the scenario's time, as a findings row whose
// evidence search finds the attack, and as an alert rule's series labelled with that entity.
func TestSignalsThroughTheBinary(t *testing.T) {
	p, ds, sim := signalsStack(t)
	names := detectionNames(t, p, ds)
	now := time.Now()

	t.Run("silent on a week of baseline", func(t *testing.T) {
		for _, f := range findings(t, signalsQuery(t, p, ds, nil, map[string]any{}, now.Add(-7*24*time.Hour), now)) {
			t.Errorf("false positive: %s", f)
		}
		// The baseline tempts: at thresholds of one, the ordinary mistyped passwords and routine policy edits fire.
		for _, tempting := range []map[string]any{
			{"detection": "brute_force", "parameters": map[string]string{"failures": "1"}},
			{"detection": "defences_weakened", "parameters": map[string]string{"changes": "1"}},
		} {
			if found := findings(t, signalsQuery(t, p, ds, nil, tempting, now.Add(-7*24*time.Hour), now)); len(found) == 0 {
				t.Errorf("%v finds nothing in a week of baseline: the detections see no events", tempting)
			}
		}
	})

	// The history cache holds the hours it read as closed: the attacks, added in the past, go to a data source
	// that has read nothing yet.
	ds.UID = "signals-attacked"
	var truths []Truth
	scenarios := []string{"brute-force", "password-spray", "success-after-failures", "new-source", "impossible-travel",
		"administrator-granted", "policy-purge", "key-change-at-night", "off-hours-administration", "first-live-response"}
	for i, name := range scenarios {
		truth, err := sim.Attack(name, now.Add(-20*time.Hour+time.Duration(i)*2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		truths = append(truths, truth)
	}
	from := now.Add(-48 * time.Hour)
	to := time.Now()

	for _, truth := range truths {
		t.Run(truth.Scenario, func(t *testing.T) {
			found := findings(t, signalsQuery(t, p, ds, nil, map[string]any{"detection": truth.Detection}, from, to))
			var hit *finding
			for i, f := range found {
				if f.Entity == truth.Entity && !f.Time.Before(truth.From) && !f.Time.After(truth.To) {
					hit = &found[i]
				}
			}
			if hit == nil {
				t.Fatalf("%s found nothing for %s between %s and %s; it found %v", truth.Detection, truth.Entity, truth.From, truth.To, found)
			}
			if hit.Detection != names[truth.Detection] || !strings.HasPrefix(hit.Technique, "T1") || hit.Severity == "" || hit.Summary == "" || hit.Evidence < 1 {
				t.Errorf("an incomplete finding: %+v", *hit)
			}
			evidence := searchCount(t, p, ds, hit.EvidenceQuery, from, to)
			if evidence < int(hit.Evidence) {
				t.Errorf("the evidence search %s finds %d events, the finding counts %d", hit.EvidenceQuery, evidence, hit.Evidence)
			}

			series := signalsQuery(t, p, ds, map[string]string{"FromAlert": "true"}, map[string]any{"detection": truth.Detection, "format": "time_series"}, from, to)
			seen := map[string]bool{}
			fired := false
			for _, frame := range series {
				values := frame.Fields[1]
				labels := values.Labels
				entity := labels["actor"] + labels["actor_ip"]
				if labels["detection"] != truth.Detection || labels["technique"] == "" || labels["severity"] == "" || entity == "" {
					t.Fatalf("a series without its labels: %v", labels)
				}
				if seen[entity] {
					t.Errorf("two series for %s: an alert rule would merge them", entity)
				}
				seen[entity] = true
				total := int64(0)
				for i := range values.Len() {
					total += values.At(i).(int64)
				}
				fired = fired || (entity == truth.Entity && total > 0)
			}
			if !fired {
				t.Errorf("as an alert rule, %s has no series for %s", truth.Detection, truth.Entity)
			}
		})
	}
}

// searchCount is how many events a logs search finds.
func searchCount(t *testing.T, p *Plugin, ds DataSource, query string, from, to time.Time) int {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{"queryType": "search", "format": "table", "query": query})
	resp, err := p.QueryData(context.Background(), ds, nil, backend.DataQuery{RefID: "E", JSON: raw, TimeRange: backend.TimeRange{From: from, To: to}})
	if err != nil {
		t.Fatal(err)
	}
	res := resp.Responses["E"]
	if res.Error != nil {
		t.Fatalf("evidence search %s: %v", query, res.Error)
	}
	return res.Frames[0].Rows()
}

// The provisioned security signals: one alert rule per detection of the catalogue, each naming its entity,
// severity and technique as the catalogue does and answering series for its alerts; and a dashboard whose
// every panel answers from the provisioned data source, with findings once attacks happened.
func TestProvisionedSecuritySignals(t *testing.T) {
	p, ds, sim := signalsStack(t)
	ds.UID = "cbc-simulator" // the provisioned data source's uid, which the rules and panels name
	now := time.Now()
	status, body, err := p.CallResource(context.Background(), ds, "GET", "detections", nil)
	if err != nil || status != 200 {
		t.Fatalf("GET detections: %d %v", status, err)
	}
	var catalogue struct {
		Detections []struct{ ID, Technique, Severity, Entity string }
	}
	if err := json.Unmarshal(body, &catalogue); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(sim.URL + "/_sim/scenarios")
	if err != nil {
		t.Fatal(err)
	}
	var scenarios []string
	err = json.NewDecoder(resp.Body).Decode(&scenarios)
	resp.Body.Close()
	if err != nil || len(scenarios) < 10 {
		t.Fatalf("GET /_sim/scenarios: %v %v", scenarios, err)
	}
	for _, name := range scenarios {
		if _, err := sim.Attack(name, now.Add(-30*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}

	file := readAlertRules(t, "../../provisioning/alerting/security-signals.yml")
	ruled := map[string]bool{}
	for _, rule := range file.Groups[0].Rules {
		query := rule.Data[0]
		detection, _ := query.Model["detection"].(string)
		ruled[detection] = true
		var want struct{ ID, Technique, Severity, Entity string }
		for _, d := range catalogue.Detections {
			if d.ID == detection {
				want = d
			}
		}
		switch {
		case want.ID == "":
			t.Errorf("rule %q names detection %q, which the catalogue does not have", rule.Title, detection)
			continue
		case query.DatasourceUID != ds.UID || rule.Data[1].DatasourceUID != "__expr__" || rule.Data[2].DatasourceUID != "__expr__":
			t.Errorf("rule %q queries %q, not the provisioned data source and expressions", rule.Title, query.DatasourceUID)
		case rule.Labels["severity"] != want.Severity || rule.Labels["technique"] != want.Technique:
			t.Errorf("rule %q is labelled %v; the catalogue says %s, %s", rule.Title, rule.Labels, want.Severity, want.Technique)
		case !strings.Contains(rule.Annotations["summary"], "$labels."+want.Entity+" "):
			t.Errorf("rule %q's summary does not name its entity, %s: %s", rule.Title, want.Entity, rule.Annotations["summary"])
		}
		from := now.Add(-time.Duration(query.RelativeTimeRange.From) * time.Second)
		series := signalsQuery(t, p, ds, map[string]string{"FromAlert": "true"}, query.Model, from, time.Now())
		for _, frame := range series {
			if labels := frame.Fields[1].Labels; frame.Rows() > 0 && (labels["detection"] != detection || labels[want.Entity] == "") {
				t.Errorf("rule %q: a series labelled %v", rule.Title, labels)
			}
		}
	}
	for _, d := range catalogue.Detections {
		if !ruled[d.ID] {
			t.Errorf("no provisioned alert rule for %s", d.ID)
		}
	}

	raw, err := os.ReadFile("../../provisioning/dashboards/security-signals.json")
	if err != nil {
		t.Fatal(err)
	}
	var dashboard struct {
		Panels []struct {
			Title      string
			Datasource struct{ UID string }
			Targets    []map[string]any
		}
	}
	if err := json.Unmarshal(raw, &dashboard); err != nil {
		t.Fatal(err)
	}
	ds.JSONData["geoipCityDatabase"] = cityDatabase(t)
	for _, panel := range dashboard.Panels {
		if panel.Datasource.UID != ds.UID {
			t.Errorf("%s uses data source %q", panel.Title, panel.Datasource.UID)
		}
		for _, target := range panel.Targets {
			delete(target, "datasource")
			raw, _ := json.Marshal(target)
			q := lastDay("A", string(raw))
			resp, err := p.QueryData(context.Background(), ds, nil, q)
			if err != nil {
				t.Fatal(err)
			}
			res := resp.Responses["A"]
			rows := 0
			for _, f := range res.Frames {
				rows += f.Rows()
			}
			if res.Error != nil || rows == 0 {
				t.Errorf("%s: %v, %d rows over a day with attacks in it", panel.Title, res.Error, rows)
			}
		}
	}
}
