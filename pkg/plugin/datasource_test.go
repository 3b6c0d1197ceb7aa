package plugin

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/useragent"

	"github.com/seed/cbcauditlogs/pkg/cbcsim"
	"github.com/seed/cbcauditlogs/pkg/cbctest"
)

// A settings change hands the queue drain to the new instance at once: the old one stops reading, and every
// event drained before, during and after the change is in the new instance's buffer once.
func TestSettingsChangeHandsTheDrainOver(t *testing.T) {
	f := newFixture(t, cbcsim.Config{Seed: 35, EventsPerDay: 300, Now: func() time.Time { return time.Now() }},
		map[string]any{"queuePollSeconds": 10})
	old := f.ds
	old.feed.Start()
	recent := time.Now().Add(-time.Hour)
	lastHour := func() int {
		n := 0
		for _, r := range cbctest.Records(f.sim) {
			if !r.CreateTime.Before(recent) {
				n++
			}
		}
		return n
	}
	waitUntil(t, "the first drain", func() bool {
		return f.sim.QueueBacklog(simKey) == 0 && len(old.buffer.Records(recent, time.Now().Add(time.Hour))) == lastHour()
	})
	reads := f.sim.Requests("queue")
	f.ds = f.settingsChange(t, map[string]any{"queuePollSeconds": 10, "cacheSeconds": 5})
	if st := old.queueStatus(); st.Running {
		t.Error("the old instance's drainer still runs")
	}
	if f.sim.Requests("queue") > reads+1 {
		t.Errorf("the queue was read %d more times during the change", f.sim.Requests("queue")-reads)
	}
	if got, want := len(f.ds.buffer.Records(recent, time.Now())), len(old.buffer.Records(recent, time.Now())); got == 0 || want != 0 {
		t.Errorf("the new buffer holds %d events and the old %d; want the old one's events moved over", got, want)
	}
	if got, truth := len(f.ds.buffer.Records(recent, time.Now().Add(time.Hour))), lastHour(); got != truth {
		t.Errorf("the new buffer holds %d events of the last hour, the simulator %d", got, truth)
	}
}

// Dispose leaves no goroutine of the instance behind: the drain stops and idle connections close.
func TestDisposeLeavesNoGoroutine(t *testing.T) {
	f := newFixture(t, cbcsim.Config{EventsPerDay: 200}, nil)
	before := runtime.NumGoroutine()
	for range 5 {
		ds := f.instance(t, simSecret)
		ds.feed.Start()
		if _, err := ds.CheckHealth(context.Background(), &backend.CheckHealthRequest{}); err != nil {
			t.Fatal(err)
		}
		ds.Dispose()
	}
	waitUntil(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before+2 })
}

// Requests name the plugin and Grafana, so CBC's support can tell this traffic apart.
func TestUserAgentNamesPluginAndGrafana(t *testing.T) {
	ua, err := useragent.New("13.1.0", "linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	ctx := useragent.WithUserAgent(backend.WithPluginContext(context.Background(), backend.PluginContext{PluginVersion: "1.4.0"}), ua)
	if got := userAgent(ctx); got != "Grafana-CBC-AuditLogs/1.4.0 Grafana/13.1.0" {
		t.Errorf("User-Agent %q", got)
	}
	if got := userAgent(context.Background()); got != "Grafana-CBC-AuditLogs/dev" {
		t.Errorf("User-Agent without a plugin context: %q", got)
	}
}
