package plugin

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/experimental"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/cbcsim"
	"github.com/seed/cbcauditlogs/pkg/cbctest"
)

// Each feature of the query model reaches CBC as exactly this body (testdata/requests/*.json).
func TestRequestSnapshots(t *testing.T) {
	cases := map[string]string{
		"empty":         `{}`,
		"query-text":    `{"query":"description:\"Login failed\" AND NOT actor_ip:10.*"}`,
		"criteria":      `{"criteria":{"actor":["alice.admin@acme.example","bob.analyst@acme.example"],"actor_ip":["203.0.113.10"],"description":["Logged in successfully"],"request_url":["https://defense.conferdeploy.net/policies"],"flagged":true,"verbose":false}}`,
		"exclusions":    `{"exclusions":{"actor":["G7R4F2AN9B"],"verbose":true}}`,
		"sort":          `{"sort":{"field":"actor_ip","order":"asc"}}`,
		"limit":         `{"limit":25,"format":"table"}`,
		"grafana-keys":  `{"refId":"A","datasource":{"type":"seed-cbcauditlogs-datasource","uid":"x"},"intervalMs":60000,"maxDataPoints":500,"queryType":"search","query":"flagged:true"}`,
		"count-grouped": `{"queryType":"count","groupBy":"category","query":"flagged:true","sort":{"field":"actor","order":"DESC"}}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, cbcsim.Config{Seed: 1, EventsPerDay: 200}, nil)
			resp := f.run(t, dataQuery("A", body))
			if err := resp.Responses["A"].Error; err != nil {
				t.Fatal(err)
			}
			sent := f.rec.searches()
			if len(sent) == 0 {
				t.Fatal("no search reached CBC")
			}
			checkGoldenJSON(t, filepath.Join("testdata", "requests", name+".json"), firstPage(sent))
		})
	}
}

// firstPage is the request for the first page (the one without a start), whichever reached CBC first.
// The end probe's two requests, which ask for one row, come before it.
func firstPage(sent []json.RawMessage) json.RawMessage {
	for _, body := range sent {
		var page struct{ Start, Rows int }
		if json.Unmarshal(body, &page) == nil && page.Start == 0 && page.Rows != 1 {
			return body
		}
	}
	return sent[0]
}

func checkGoldenJSON(t *testing.T, path string, got json.RawMessage) {
	t.Helper()
	var pretty any
	if err := json.Unmarshal(got, &pretty); err != nil {
		t.Fatal(err)
	}
	gotText, _ := json.MarshalIndent(pretty, "", "  ")
	gotText = append(gotText, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, gotText, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/plugin -update to create it)", err)
	}
	if string(want) != string(gotText) {
		t.Errorf("request sent differs from %s\n got: %s\nwant: %s", path, gotText, want)
	}
}

func TestGoldenFrames(t *testing.T) {
	cases := map[string]string{
		"logs":              `{"query":"flagged:true","limit":15}`,
		"table":             `{"format":"table","limit":10,"sort":{"field":"actor","order":"ASC"}}`,
		"count":             `{"queryType":"count","interval":"3h"}`,
		"count-by-category": `{"queryType":"count","groupBy":"category","interval":"6h"}`,
		"count-top2-actors": `{"queryType":"count","groupBy":"actor","topN":2,"interval":"12h"}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, cbcsim.Config{Seed: 7, EventsPerDay: 300}, nil)
			resp := f.run(t, dataQuery("A", body))
			dr := resp.Responses["A"]
			experimental.CheckGoldenJSONResponse(t, "testdata/frames", name, &dr, *update)
		})
	}
}

func TestLogsFrameIsDataPlaneLogLines(t *testing.T) {
	f := newFixture(t, cbcsim.Config{Seed: 2, EventsPerDay: 500}, nil)
	dr := f.run(t, dataQuery("A", `{"limit":5}`)).Responses["A"]
	if dr.Error != nil || len(dr.Frames) != 1 {
		t.Fatalf("got %v, %d frames", dr.Error, len(dr.Frames))
	}
	frame := dr.Frames[0]
	if frame.Meta.Type != data.FrameTypeLogLines || frame.Meta.PreferredVisualization != data.VisTypeLogs {
		t.Errorf("meta %+v", frame.Meta)
	}
	names := []string{}
	for _, fld := range frame.Fields {
		names = append(names, fld.Name)
	}
	if strings.Join(names, ",") != "timestamp,body,severity,id,labels" {
		t.Errorf("fields %v", names)
	}
	if !strings.Contains(frame.Meta.ExecutedQueryString, `"create_time"`) {
		t.Errorf("executed query %q does not show the request sent", frame.Meta.ExecutedQueryString)
	}
	if len(frame.Meta.Notices) != 1 || !strings.Contains(frame.Meta.Notices[0].Text, "showing the first 5") {
		t.Errorf("notices %+v; want one saying the limit cut the results", frame.Meta.Notices)
	}
}

// A bad query gets its own error, naming what is wrong and what is allowed; the good one beside it answers.
func TestBadQueriesDoNotBreakTheirNeighbours(t *testing.T) {
	f := newFixture(t, cbcsim.Config{Seed: 2, EventsPerDay: 500}, nil)
	bad := map[string]struct{ body, want string }{
		"unknown field":   {`{"querry":"x"}`, `unknown query field "querry"`},
		"unknown filter":  {`{"criteria":{"category":["x"]}}`, `unknown field "category"`},
		"bad sort field":  {`{"sort":{"field":"category","order":"ASC"}}`, "sortable fields are create_time"},
		"bad sort order":  {`{"sort":{"field":"actor","order":"UP"}}`, "use ASC or DESC"},
		"negative limit":  {`{"limit":-1}`, "limit -1 is negative"},
		"huge limit":      {`{"limit":10000000}`, "at most 200000"},
		"malformed JSON":  {`{"query":`, "not valid JSON"},
		"wrong type":      {`{"limit":"ten"}`, `field "limit" must be a number, not string`},
		"bad group by":    {`{"queryType":"count","groupBy":"org"}`, "cannot group by"},
		"bad query type":  {`{"queryType":"sql"}`, "use search, count, queue or signals"},
		"bad interval":    {`{"queryType":"count","interval":"soon"}`, "interval \"soon\" is malformed"},
		"huge interval":   {`{"queryType":"count","interval":"213504d"}`, "interval \"213504d\" is too long"},
		"huge top":        {`{"queryType":"count","groupBy":"actor","topN":100000000}`, "keep at most 1000 groups"},
		"query syntax":    {`{"query":"description:\"open"}`, "query syntax error"},
		"tiny interval":   {`{"queryType":"count","interval":"1s"}`, "use a wider interval"},
		"cbc sort reject": {`{"sort":{"field":"create_time","order":"ASC"},"query":"(a"}`, "query syntax error"},
	}
	queries := []backend.DataQuery{dataQuery("good", `{"limit":3}`)}
	for name, c := range bad {
		queries = append(queries, dataQuery(name, c.body))
	}
	inverted := dataQuery("inverted", `{}`)
	inverted.TimeRange.From, inverted.TimeRange.To = inverted.TimeRange.To, inverted.TimeRange.From
	queries = append(queries, inverted)

	resp := f.run(t, queries...)
	if good := resp.Responses["good"]; good.Error != nil || good.Frames[0].Rows() != 3 {
		t.Fatalf("the good query: %v", good.Error)
	}
	for name, c := range bad {
		res := resp.Responses[name]
		if res.Error == nil || !strings.Contains(res.Error.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", name, res.Error, c.want)
		} else if res.ErrorSource != backend.ErrorSourceDownstream || res.Status != backend.StatusBadRequest {
			t.Errorf("%s: error source %q and status %d, want downstream (the user's) and 400", name, res.ErrorSource, res.Status)
		}
	}
	if res := resp.Responses["inverted"]; res.Error == nil || !strings.Contains(res.Error.Error(), "inverted") {
		t.Errorf("inverted time range: %v", res.Error)
	}
}

func TestIdenticalQueriesAreFetchedOnce(t *testing.T) {
	f := newFixture(t, cbcsim.Config{Seed: 2, EventsPerDay: 500, Latency: 50 * 1e6}, nil)
	resp := f.run(t, dataQuery("A", `{"query":"flagged:true"}`), dataQuery("B", `{"query":"flagged:true"}`), dataQuery("C", `{"query":"flagged:true"}`))
	for _, ref := range []string{"A", "B", "C"} {
		if resp.Responses[ref].Error != nil {
			t.Fatal(resp.Responses[ref].Error)
		}
	}
	if n := f.sim.Requests("search"); n != 1+endProbe {
		t.Errorf("three identical queries made %d searches, want 1 and the end probe's %d", n, endProbe)
	}
	f.run(t, dataQuery("A", `{"query":"flagged:true"}`))
	if n := f.sim.Requests("search"); n != 1+endProbe {
		t.Errorf("a repeat within the cache time made %d searches, want none", n-1-endProbe)
	}
}

// Viewers of one dashboard refresh a few seconds apart, each with its own "now": within the cache time they
// share one search, each answer kept to its own range, and equal to what the search over that range finds but
// for the events of the seconds since the shared one was read.
func TestViewersSecondsApartShareOneSearch(t *testing.T) {
	f := newFixture(t, cbcsim.Config{Seed: 3, EventsPerDay: 5000}, nil)
	body := `{"format":"table","criteria":{"flagged":true},"limit":500}`
	first := dataQuery("A", body)
	first.TimeRange.From, first.TimeRange.To = simNow.Add(-24*time.Hour-20*time.Second), simNow.Add(-20*time.Second)
	later := dataQuery("A", body)
	later.TimeRange.From, later.TimeRange.To = simNow.Add(-24*time.Hour-10*time.Second), simNow.Add(-10*time.Second)
	a := f.run(t, first).Responses["A"]
	searches := f.sim.Requests("search")
	b := f.run(t, later).Responses["A"]
	if a.Error != nil || b.Error != nil {
		t.Fatal(a.Error, b.Error)
	}
	if n := f.sim.Requests("search") - searches; n != 0 {
		t.Errorf("a viewer 10 s later made %d searches, want none", n)
	}
	times, _ := b.Frames[0].FieldByName("create_time")
	flagged := true
	truth, err := cbctest.Match(f.sim, cbc.SearchRequest{Criteria: &cbc.Criteria{Flagged: &flagged, CreateTime: cbc.Between(later.TimeRange.From, first.TimeRange.To)}})
	if err != nil {
		t.Fatal(err)
	}
	if times.Len() != min(len(truth), 500) {
		t.Errorf("the later viewer sees %d rows, want the %d of its range the shared search read", times.Len(), min(len(truth), 500))
	}
	for i := range times.Len() {
		if at := times.At(i).(time.Time); at.Before(later.TimeRange.From) || at.After(later.TimeRange.To) {
			t.Fatalf("row %d at %s is outside the later viewer's range", i, at)
		}
	}
}

func TestMisconfiguredDataSourceExplainsItself(t *testing.T) {
	f := newFixture(t, cbcsim.Config{EventsPerDay: 10}, map[string]any{"orgKey": ""})
	res := f.run(t, dataQuery("A", `{}`)).Responses["A"]
	if res.Error == nil || !strings.Contains(res.Error.Error(), "org key is missing") {
		t.Errorf("got %v", res.Error)
	}
}
