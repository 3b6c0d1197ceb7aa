package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/cbcsim"
	"github.com/seed/cbcauditlogs/pkg/cbctest"
)

// collector gathers a resource response as Grafana's HTTP layer would, counting the chunks.
type collector struct {
	status  int
	headers map[string][]string
	body    bytes.Buffer
	chunks  int
}

func (c *collector) Send(r *backend.CallResourceResponse) error {
	if r.Status != 0 {
		c.status, c.headers = r.Status, r.Headers
	}
	c.body.Write(r.Body)
	c.chunks++
	return nil
}

func (f *fixture) resource(t *testing.T, method, path string, body any) *collector {
	t.Helper()
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	c := &collector{}
	err := f.ds.CallResource(context.Background(), &backend.CallResourceRequest{Method: method, Path: path, URL: path, Body: raw}, c)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func exportBody(format string, query string) map[string]any {
	return map[string]any{"format": format, "query": json.RawMessage(query),
		"from": simNow.Add(-48 * time.Hour).UnixMilli(), "to": simNow.UnixMilli()}
}

func startExport(t *testing.T, f *fixture, format, query string) exportStatus {
	t.Helper()
	res := f.resource(t, "POST", "exports", exportBody(format, query))
	if res.status != http.StatusCreated {
		t.Fatalf("POST exports: %d %s", res.status, res.body.String())
	}
	var st exportStatus
	if err := json.Unmarshal(res.body.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func waitExport(t *testing.T, f *fixture, id int64) exportStatus {
	t.Helper()
	for range 100 {
		res := f.resource(t, "GET", fmt.Sprintf("exports/%d", id), nil)
		var st exportStatus
		_ = json.Unmarshal(res.body.Bytes(), &st)
		if res.status != http.StatusOK {
			t.Fatalf("GET exports/%d: %d %s", id, res.status, res.body.String())
		}
		if st.Status == cbc.JobCompleted || st.Status == cbc.JobFailed {
			return st
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the export did not finish")
	return exportStatus{}
}

func TestExportThroughResources(t *testing.T) {
	start := time.Now()
	clock := func() time.Time { return simNow.Add(time.Since(start)) }
	f := newFixture(t, cbcsim.Config{Seed: 31, EventsPerDay: 5000, JobDuration: 300 * time.Millisecond, Now: clock}, nil)
	query := `{"query":"flagged:true","exclusions":{"actor":["admin@acme.example"]},"limit":10}`
	truth, err := cbctest.Match(f.sim, cbc.SearchRequest{Query: "flagged:true", Criteria: &cbc.Criteria{CreateTime: cbc.Between(simNow.Add(-48*time.Hour), simNow)},
		Exclusions: &cbc.Criteria{Actor: []string{"admin@acme.example"}}})
	if err != nil || len(truth) < 100 {
		t.Fatalf("%d matches, %v", len(truth), err)
	}

	for _, format := range []string{"csv", "json"} {
		t.Run(format, func(t *testing.T) {
			st := startExport(t, f, format, query)
			early := f.resource(t, "GET", fmt.Sprintf("exports/%d/download", st.ID), nil)
			if early.status != http.StatusConflict || !strings.Contains(early.body.String(), "once it is COMPLETED") {
				t.Errorf("download before completion: %d %s", early.status, early.body.String())
			}
			done := waitExport(t, f, st.ID)
			if done.Status != cbc.JobCompleted || done.NumTotal == nil || *done.NumTotal != int64(len(truth)) {
				t.Fatalf("export ended %+v, want COMPLETED with %d records (not the display limit of 10)", done, len(truth))
			}
			jobReads := f.sim.Requests("job")
			res := f.resource(t, "GET", fmt.Sprintf("exports/%d/download", st.ID), nil)
			if res.status != http.StatusOK {
				t.Fatalf("download: %d %s", res.status, res.body.String())
			}
			if f.sim.Requests("job") != jobReads {
				t.Error("the download asked CBC for the job again, after a status answer had said it completed")
			}
			if got := res.headers["Content-Disposition"]; len(got) != 1 || !strings.Contains(got[0], fmt.Sprintf("cbc-audit-logs-%d.%s", st.ID, format)) {
				t.Errorf("Content-Disposition %v", got)
			}
			got, err := cbctest.ReadExport(format, res.body.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(truth) {
				t.Fatalf("the file holds %d records, the query matches %d", len(got), len(truth))
			}
			for i := range truth {
				if got[i] != truth[i] {
					t.Fatalf("record %d of the file is %+v, want %+v", i, got[i], truth[i])
				}
			}
		})
	}
}

func TestExportErrors(t *testing.T) {
	f := newFixture(t, cbcsim.Config{Seed: 32, EventsPerDay: 100}, nil)
	cases := []struct {
		method, path string
		body         any
		status       int
		want         string
	}{
		{"POST", "exports", map[string]any{"format": "xml", "from": 1, "to": 2}, 400, "format must be csv or json"},
		{"POST", "exports", map[string]any{"format": "csv"}, 400, "from and to"},
		{"POST", "exports", exportBody("csv", `{"sort":{"field":"nope"}}`), 400, "cannot sort by"},
		{"POST", "exports", exportBody("csv", `{"query":"(open"}`), 400, "query syntax error"},
		{"GET", "exports/abc", nil, 400, "not a job id"},
		{"GET", "exports/4805566", nil, 404, "not started through this data source"},
		{"GET", "exports/12/download", nil, 404, "not started through this data source"},
	}
	for _, c := range cases {
		res := f.resource(t, c.method, c.path, c.body)
		if res.status != c.status || !strings.Contains(res.body.String(), c.want) {
			t.Errorf("%s %s: %d %s, want %d with %q", c.method, c.path, res.status, res.body.String(), c.status, c.want)
		}
	}

	f.sim.AddFault(cbcsim.Fault{Endpoint: "export", FailJob: true, Times: 1})
	failed := startExport(t, f, "json", `{}`)
	if st := waitExport(t, f, failed.ID); st.Status != cbc.JobFailed || !strings.Contains(st.Message, "start it again") {
		t.Errorf("failed job: %+v", st)
	}
	if res := f.resource(t, "GET", fmt.Sprintf("exports/%d/download", failed.ID), nil); res.status != http.StatusConflict {
		t.Errorf("download of a failed export: %d", res.status)
	}
}

func TestExpiredExport(t *testing.T) {
	var later atomic.Int64
	clock := func() time.Time { return simNow.Add(time.Duration(later.Load())) }
	f := newFixture(t, cbcsim.Config{Seed: 33, EventsPerDay: 100, Now: clock, JobTTL: time.Hour}, nil)
	st := startExport(t, f, "csv", `{}`)
	later.Store(int64(2 * time.Hour))
	f.ds.exports.mu.Lock()
	job := f.ds.exports.jobs[st.ID]
	job.created = job.created.Add(-2 * time.Hour) // the plugin's clock moves with CBC's
	f.ds.exports.jobs[st.ID] = job
	f.ds.exports.mu.Unlock()
	res := f.resource(t, "GET", fmt.Sprintf("exports/%d", st.ID), nil)
	if res.status != http.StatusGone || !strings.Contains(res.body.String(), "expired") {
		t.Errorf("expired export: %d %s", res.status, res.body.String())
	}
}

// A job CBC does not show for a moment after creating it is starting, not expired; without progress numbers it
// is shown as working, not as 0 of 0.
func TestNewJobNotYetVisibleIsStarting(t *testing.T) {
	f := newFixture(t, cbcsim.Config{Seed: 36, EventsPerDay: 300, JobVisibleAfter: 400 * time.Millisecond, Now: func() time.Time { return time.Now() }}, nil)
	res := f.resource(t, "POST", "exports", map[string]any{"format": "csv", "from": time.Now().Add(-48 * time.Hour).UnixMilli(), "to": time.Now().UnixMilli()})
	var st exportStatus
	if err := json.Unmarshal(res.body.Bytes(), &st); err != nil || res.status != http.StatusCreated {
		t.Fatalf("POST exports: %d %s", res.status, res.body.String())
	}
	res = f.resource(t, "GET", fmt.Sprintf("exports/%d", st.ID), nil)
	if res.status != http.StatusOK || !strings.Contains(res.body.String(), `"status":"CREATED"`) || strings.Contains(res.body.String(), "numTotal") {
		t.Errorf("a job not visible yet: %d %s", res.status, res.body.String())
	}
	if done := waitExport(t, f, st.ID); done.Status != cbc.JobCompleted || done.NumTotal == nil || *done.NumTotal == 0 {
		t.Errorf("the job ended %+v", done)
	}
}

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
