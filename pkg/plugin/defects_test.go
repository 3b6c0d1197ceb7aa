package plugin

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/useragent"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/cbcsim"
	"github.com/seed/cbcauditlogs/pkg/cbctest"
	"github.com/seed/cbcauditlogs/pkg/frames"
)

// POST exports without a body is the user's mistake, answered with 400, not a crash.
func TestStartExportWithoutABody(t *testing.T) {
	f := newFixture(t, cbcsim.Config{EventsPerDay: 10}, nil)
	res := f.resource(t, "POST", "exports", nil)
	if res.status != http.StatusBadRequest || !strings.Contains(res.body.String(), "export request is empty") {
		t.Fatalf("%d %s", res.status, res.body.String())
	}
}

// A download CBC cuts short announces the whole length and ends with an error, so the browser's download
// fails instead of saving a third of the file as if it were whole.
func TestCutShortDownloadFails(t *testing.T) {
	f := newFixture(t, cbcsim.Config{Seed: 34, EventsPerDay: 2000}, nil)
	st := startExport(t, f, "csv", `{}`)
	waitExport(t, f, st.ID)
	f.sim.AddFault(cbcsim.Fault{Endpoint: "download", Truncate: true, Times: 1})
	c := &collector{}
	path := fmt.Sprintf("exports/%d/download", st.ID)
	err := f.ds.CallResource(context.Background(), &backend.CallResourceRequest{Method: "GET", Path: path, URL: path}, c)
	if err == nil || !strings.Contains(err.Error(), "broke off") {
		t.Errorf("the resource call ended with %v, want an error", err)
	}
	length := c.headers["Content-Length"]
	if len(length) != 1 || length[0] == fmt.Sprint(c.body.Len()) {
		t.Errorf("Content-Length %v for %d bytes received: the browser cannot tell the file is short", length, c.body.Len())
	}
}

// Export jobs started before a settings change are still served after it.
func TestExportsSurviveASettingsChange(t *testing.T) {
	f := newFixture(t, cbcsim.Config{EventsPerDay: 100}, nil)
	st := startExport(t, f, "json", `{}`)
	f.ds = f.settingsChange(t, map[string]any{"timeoutSeconds": 45})
	if got := waitExport(t, f, st.ID); got.Status != cbc.JobCompleted {
		t.Errorf("after the settings change the export is %+v", got)
	}
}

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

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
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

// A burst reaches a live panel in bounded packets.
func TestStreamPacketsAreBounded(t *testing.T) {
	small := make([]cbc.Record, 1200)
	if sizes := packetSizes(packets(small)); fmt.Sprint(sizes) != "[500 500 200]" {
		t.Errorf("1200 events went out as %v", sizes)
	}
	big := make([]cbc.Record, 40)
	for i := range big {
		big[i].Description = strings.Repeat("x", 64<<10)
	}
	for _, p := range packets(big) {
		bytes := 0
		for _, r := range p {
			bytes += frames.RecordBytes(r)
		}
		if bytes > maxPacketBytes {
			t.Errorf("a packet of %d bytes", bytes)
		}
	}
}

func packetSizes(ps [][]cbc.Record) []int {
	var out []int
	for _, p := range ps {
		out = append(out, len(p))
	}
	return out
}

// A live queue query keeps the search's text and filters (the editor holds them for a switch back) and ignores
// them, saying so.
func TestQueueQueryIgnoresSearchFields(t *testing.T) {
	f := newFixture(t, cbcsim.Config{EventsPerDay: 50}, nil)
	res := f.run(t, dataQuery("Q", `{"queryType":"queue","query":"flagged:true","criteria":{"actor":["a"]}}`)).Responses["Q"]
	if res.Error != nil || len(res.Frames) != 1 || len(res.Frames[0].Meta.Notices) == 0 ||
		!strings.Contains(res.Frames[0].Meta.Notices[0].Text, "ignored here") {
		t.Fatalf("%v %+v", res.Error, res.Frames)
	}
}
