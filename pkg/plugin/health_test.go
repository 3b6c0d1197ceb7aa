package plugin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/seed/cbcauditlogs/pkg/cbcsim"
)

func checkHealth(t *testing.T, ds *Datasource) *backend.CheckHealthResult {
	t.Helper()
	res, err := ds.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestHealthCheck(t *testing.T) {
	f := newFixture(t, cbcsim.Config{EventsPerDay: 50}, nil)

	ok := checkHealth(t, f.ds)
	if ok.Status != backend.HealthStatusOk || !strings.Contains(ok.Message, "ABCD1234") {
		t.Errorf("good key: %v %q", ok.Status, ok.Message)
	}
	if f.sim.Requests("queue") != 0 || f.sim.Requests("search") != 1 {
		t.Errorf("the health check made %d searches and %d queue reads; want one search and no queue read", f.sim.Requests("search"), f.sim.Requests("queue"))
	}

	cases := []struct {
		name   string
		json   map[string]any
		secret string
		want   string
	}{
		{"bad secret", nil, "WRONG", "API key invalid"},
		{"no permission", map[string]any{"apiId": "NOPERMS001"}, "SIMULATORSECRET00NOPERMS1", "(403). Either the org key is wrong"},
		{"wrong org", map[string]any{"orgKey": "WXYZ9999"}, simSecret, "org WXYZ9999 (404). Either the org key is wrong"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.json {
				f.json[k] = v
			}
			defer func() { f.json["apiId"], f.json["orgKey"] = simKey, "ABCD1234" }()
			res := checkHealth(t, f.instance(t, c.secret))
			if res.Status != backend.HealthStatusError || !strings.Contains(res.Message, c.want) {
				t.Errorf("got %v %q, want an error containing %q", res.Status, res.Message, c.want)
			}
			if strings.Contains(res.Message+string(res.JSONDetails), c.secret) && c.secret != "" {
				t.Error("the health result shows the secret")
			}
		})
	}

	f.sim.AddFault(cbcsim.Fault{Endpoint: "search", Status: 429, RetryAfter: 120, Times: 1})
	limited := f.instance(t, simSecret)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	res, _ := limited.CheckHealth(ctx, &backend.CheckHealthRequest{})
	if !strings.Contains(res.Message, "rate limiting") {
		t.Errorf("429: %q", res.Message)
	}
}

func TestHealthCheckUnreachableAndTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(2 * time.Second) }))
	defer srv.Close()
	f := &fixture{json: map[string]any{"region": "custom", "url": srv.URL, "allowInsecureHttp": true, "orgKey": "ABCD1234", "apiId": simKey, "timeoutSeconds": 1}}
	if res := checkHealth(t, f.instance(t, simSecret)); !strings.Contains(res.Message, "did not answer") {
		t.Errorf("slow host: %q", res.Message)
	}
	f.json["url"] = "http://127.0.0.1:1"
	if res := checkHealth(t, f.instance(t, simSecret)); !strings.Contains(res.Message, "Cannot reach Carbon Black Cloud") {
		t.Errorf("closed port: %q", res.Message)
	}
}

func TestHealthCheckNamesEverySettingProblem(t *testing.T) {
	f := &fixture{json: map[string]any{"region": "custom", "url": "http://cbc.example", "orgKey": "AB/CD"}}
	res := checkHealth(t, f.instance(t, ""))
	for _, want := range []string{"plain HTTP", "org key \"AB/CD\" is malformed", "API ID is missing", "API secret key is missing"} {
		if !strings.Contains(res.Message, want) {
			t.Errorf("message %q lacks %q", res.Message, want)
		}
	}
	if !strings.Contains(string(res.JSONDetails), `"problems"`) {
		t.Errorf("details %s lack the list of problems", res.JSONDetails)
	}
}

// CBC may answer a wrong org key with 403 as well as 404: either way the health check names both causes.
func TestWrongOrgKeyAs403NamesBothCauses(t *testing.T) {
	f := newFixture(t, cbcsim.Config{EventsPerDay: 10, WrongOrgStatus: 403}, map[string]any{"orgKey": "WXYZ9999"})
	res := checkHealth(t, f.ds)
	for _, want := range []string{"(403)", "org key is wrong", "lacks READ on org.audits"} {
		if !strings.Contains(res.Message, want) {
			t.Errorf("%q does not say %q", res.Message, want)
		}
	}
}

// A bad security signals setting is named by the health check, and refuses only the signals queries.
func TestHealthCheckNamesTheSignalsSettings(t *testing.T) {
	f := newFixture(t, cbcsim.Config{EventsPerDay: 50}, nil)
	f.json["workingHours"], f.json["knownRanges"] = "weekdays", "10.0.0.0/8, office"
	f.ds = f.instance(t, simSecret)
	res := checkHealth(t, f.ds)
	for _, want := range []string{`working hours "weekdays" are malformed`, `known range "office" is malformed`, "Searches, counts and the live queue work"} {
		if res.Status != backend.HealthStatusError || !strings.Contains(res.Message, want) {
			t.Errorf("got %v %q, want it to say %q", res.Status, res.Message, want)
		}
	}
	resp := f.run(t, dataQuery("S", `{"queryType":"signals"}`), dataQuery("C", `{"queryType":"count"}`))
	if err := resp.Responses["S"].Error; err == nil || !strings.Contains(err.Error(), "working hours") {
		t.Errorf("the signals query: %v", err)
	}
	if err := resp.Responses["C"].Error; err != nil {
		t.Errorf("the count beside it failed: %v", err)
	}
}
