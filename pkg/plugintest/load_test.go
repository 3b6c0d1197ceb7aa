package plugintest

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// 200 concurrent calls, each asking for 20000 records, are all answered, and the plugin stays under its
// memory bound (250 MB resident): queries wait for room instead of all holding their records at once.
func TestConcurrentCallsStayUnderTheMemoryLimit(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("peak memory is read from /proc")
	}
	sim := StartSimulator(t, binaries.sim, "-seed", "6", "-span", "24h", "-records", "60000", "-rate", "0", "-rate-limit", "0")
	p := StartPlugin(t, binaries.plugin)
	ds := DataSource{UID: "load", Secret: "SIMULATORSECRET0GRAFANA01", JSONData: map[string]any{
		"region": "custom", "url": sim.URL, "allowInsecureHttp": true, "orgKey": "ABCD1234", "apiId": "GRAFANA001",
		"timeoutSeconds": 300, "cacheSeconds": 1, "requestBudget": 1000000,
	}}
	if err := p.ResetPeakRSS(); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each call differs by a second of its time range, so none is answered from another's cache.
			body, _ := json.Marshal(map[string]any{"queryType": "search", "format": "logs", "limit": 20000})
			q := backend.DataQuery{RefID: "A", JSON: body, Interval: time.Minute, MaxDataPoints: 500,
				TimeRange: backend.TimeRange{From: now.Add(-24*time.Hour - time.Duration(i)*time.Second), To: now}}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			resp, err := p.QueryData(ctx, ds, nil, q)
			switch {
			case err != nil:
				errs <- err
			case resp.Responses["A"].Error != nil:
				errs <- resp.Responses["A"].Error
			case resp.Responses["A"].Frames[0].Rows() != 20000:
				errs <- fmt.Errorf("%d rows", resp.Responses["A"].Frames[0].Rows())
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	peak, err := p.PeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("200 concurrent calls of 20000 records: plugin peak RSS %d MB", peak/1e6)
	if peak > 250e6 {
		t.Errorf("peak RSS %d MB, over the 250 MB bound", peak/1e6)
	}
}
