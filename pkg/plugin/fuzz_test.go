package plugin

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/seed/cbcauditlogs/pkg/cbcsim"
)

// No request to the resource routes crashes the plugin or goes unanswered, and none is the plugin's fault.
func FuzzResources(f *testing.F) {
	for _, seed := range []struct{ method, path, body string }{
		{"POST", "exports", ""}, {"POST", "exports", `{"format":"csv","from":1,"to":2,"query":{"limit":-1}}`},
		{"GET", "exports/99999999999999999999/download", ""}, {"GET", "values?field=actor&from=x&to=1", ""},
		{"GET", "queue/status", ""}, {"GET", "fields", ""}, {"DELETE", "exports/1", ""}, {"GET", "../../etc/passwd", ""},
	} {
		f.Add(seed.method, seed.path, []byte(seed.body))
	}
	sim := cbcsim.New(cbcsim.Config{EventsPerDay: 20, JobDuration: time.Millisecond})
	srv := httptest.NewServer(sim.Handler())
	f.Cleanup(srv.Close)
	settings, _ := json.Marshal(map[string]any{"region": "custom", "url": srv.URL, "allowInsecureHttp": true,
		"orgKey": "ABCD1234", "apiId": simKey, "requestBudget": 1_000_000})
	inst, err := NewFactory(prometheus.NewRegistry()).NewDatasource(context.Background(), backend.DataSourceInstanceSettings{
		UID: "fuzz", JSONData: settings, DecryptedSecureJSONData: map[string]string{"apiSecret": simSecret}})
	if err != nil {
		f.Fatal(err)
	}
	ds := inst.(*Datasource)
	f.Cleanup(ds.Dispose)
	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c := &collector{}
		err := ds.CallResource(ctx, &backend.CallResourceRequest{Method: method, Path: path, URL: path, Body: body}, c)
		if err != nil {
			return // a request Go cannot even form (a bad method or URL) is refused before any handler
		}
		if c.status == 0 || c.status >= 500 && c.status != 502 && c.status != 504 {
			t.Fatalf("%s %q: status %d %s", method, path, c.status, c.body.String())
		}
	})
}
