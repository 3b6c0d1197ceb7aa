package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/seed/cbcauditlogs/pkg/cbcsim"
)

// update rewrites golden files instead of comparing with them: go test ./pkg/plugin -update
var update = flag.Bool("update", false, "rewrite golden files")

var simNow = time.Date(2024, 4, 17, 20, 0, 0, 0, time.UTC)

const (
	simKey    = "GRAFANA001"
	simSecret = "SIMULATORSECRET0GRAFANA01"
)

// recorder keeps the bodies of the search requests that reach the simulator.
// endProbe is how many searches a data source's first search adds, once, to learn whether CBC's create_time.end
// includes its millisecond (cbc.Client.onWire).
const endProbe = 2

type recorder struct {
	mu     sync.Mutex
	bodies []json.RawMessage
}

func (r *recorder) searches() []json.RawMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]json.RawMessage(nil), r.bodies...)
}

type fixture struct {
	sim     *cbcsim.Simulator
	url     string
	rec     *recorder
	ds      *Datasource
	json    map[string]any
	factory *Factory // made ds; a settings change goes through it
}

// newFixture serves a simulator (history of 7 days before simNow) behind a recorder and makes a data source
// instance for it; jsonData overrides the settings.
func newFixture(t *testing.T, cfg cbcsim.Config, jsonData map[string]any) *fixture {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return simNow }
	}
	sim := cbcsim.New(cfg)
	rec := &recorder{}
	inner := sim.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			rec.mu.Lock()
			rec.bodies = append(rec.bodies, body)
			rec.mu.Unlock()
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		srv.Close()
		sim.Close()
	})
	settings := map[string]any{"region": "custom", "url": srv.URL, "allowInsecureHttp": true, "orgKey": "ABCD1234", "apiId": simKey}
	for k, v := range jsonData {
		settings[k] = v
	}
	factory := NewFactory(prometheus.NewRegistry())
	factory.Now = cfg.Now // the history cache closes slices on the simulator's clock
	f := &fixture{sim: sim, url: srv.URL, rec: rec, json: settings, factory: factory}
	f.ds = f.make(t, f.factory, f.json, simSecret)
	t.Cleanup(f.ds.Dispose)
	return f
}

// instance makes another data source on the same simulator, as if created apart from the fixture's.
func (f *fixture) instance(t *testing.T, secret string) *Datasource {
	t.Helper()
	ds := f.make(t, NewFactory(prometheus.NewRegistry()), f.json, secret)
	t.Cleanup(ds.Dispose)
	return ds
}

// settingsChange makes the instance that replaces the fixture's when its settings change as changes says, as
// the SDK does: the old instance is disposed of only a few seconds later.
func (f *fixture) settingsChange(t *testing.T, changes map[string]any) *Datasource {
	t.Helper()
	settings := map[string]any{}
	for k, v := range f.json {
		settings[k] = v
	}
	for k, v := range changes {
		settings[k] = v
	}
	ds := f.make(t, f.factory, settings, simSecret)
	t.Cleanup(ds.Dispose)
	return ds
}

func (f *fixture) make(t *testing.T, factory *Factory, jsonData map[string]any, secret string) *Datasource {
	t.Helper()
	raw, _ := json.Marshal(jsonData)
	inst, err := factory.NewDatasource(context.Background(), backend.DataSourceInstanceSettings{
		UID: "cbc-test", JSONData: raw, DecryptedSecureJSONData: map[string]string{"apiSecret": secret},
	})
	if err != nil {
		t.Fatal(err)
	}
	return inst.(*Datasource)
}

// dataQuery is a query over the day before simNow, as Grafana would send it.
func dataQuery(refID, body string) backend.DataQuery {
	return backend.DataQuery{
		RefID:     refID,
		JSON:      json.RawMessage(body),
		Interval:  time.Hour,
		TimeRange: backend.TimeRange{From: simNow.Add(-24 * time.Hour), To: simNow},
	}
}

func (f *fixture) run(t *testing.T, queries ...backend.DataQuery) *backend.QueryDataResponse {
	t.Helper()
	resp, err := f.ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: queries})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
