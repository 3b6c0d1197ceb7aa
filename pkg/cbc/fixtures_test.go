package cbc_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/cbcsim"
	"github.com/seed/cbcauditlogs/pkg/cbctest"
)

func TestFixtureResponsesParse(t *testing.T) {
	var search cbc.SearchResponse
	if err := json.Unmarshal(fixture(t, "search-response.json"), &search); err != nil {
		t.Fatal(err)
	}
	if search.NumFound != 5 || len(search.Results) != 5 {
		t.Fatalf("search fixture: got %d found, %d results", search.NumFound, len(search.Results))
	}
	first := search.Results[0]
	if first.Actor != "DEFGHIJKLM" || first.ActorIP != "192.168.0.5" || first.RequestURL != "" ||
		!first.CreateTime.Equal(time.Date(2024, 4, 17, 19, 18, 37, 480e6, time.UTC)) {
		t.Errorf("first search record parsed as %+v", first)
	}

	var queue cbc.SearchResponse
	if err := json.Unmarshal(fixture(t, "queue-response-docs.json"), &queue); err != nil {
		t.Fatal(err)
	}
	if len(queue.Results) != 2 || queue.Results[0].Flagged || queue.Results[0].Description != "Logged in successfully" {
		t.Errorf("queue fixture (no flagged/verbose keys) parsed as %+v", queue.Results)
	}

	var forwarded cbc.Record
	if err := json.Unmarshal(fixture(t, "forwarder-record-docs.json"), &forwarded); err != nil {
		t.Fatal(err)
	}
	if !forwarded.CreateTime.Equal(time.Date(2025, 5, 15, 12, 23, 27, 0, time.UTC)) {
		t.Errorf("seconds-only create_time parsed as %v", forwarded.CreateTime)
	}

	for _, name := range []string{"job-details.json", "export-job.json"} {
		var job cbc.Job
		if err := json.Unmarshal(fixture(t, name), &job); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if job.Status != cbc.JobCompleted || !job.Done() || job.ID == 0 {
			t.Errorf("%s parsed as %+v", name, job)
		}
	}
	var progress cbc.JobProgress
	if err := json.Unmarshal(fixture(t, "job-progress.json"), &progress); err != nil {
		t.Fatal(err)
	}
	if progress != (cbc.JobProgress{NumTotal: 34, NumCompleted: 16, Message: "Foo"}) {
		t.Errorf("progress parsed as %+v", progress)
	}
	var exported struct {
		JobID int64 `json:"job_id"`
	}
	if err := json.Unmarshal(fixture(t, "export-response.json"), &exported); err != nil || exported.JobID != 4805565 {
		t.Errorf("export response parsed as %+v (%v)", exported, err)
	}
}

func TestRecordRoundTripKeepsCBCShape(t *testing.T) {
	rec := cbc.Record{CreateTime: time.Date(2024, 4, 17, 19, 13, 1, 0, time.UTC), Actor: "a", OrgKey: "test"}
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"actor":"a","create_time":"2024-04-17T19:13:01.000Z","flagged":false,"verbose":false,"org_key":"test","request_url":null}`
	if string(b) != want {
		t.Errorf("marshalled as\n%s\nwant\n%s", b, want)
	}
	var back cbc.Record
	if err := json.Unmarshal(b, &back); err != nil || back != rec {
		t.Errorf("round trip gave %+v (%v)", back, err)
	}
	if err := json.Unmarshal([]byte(`{"create_time":"yesterday"}`), &back); err == nil {
		t.Error("a create_time that is not a time was accepted")
	}
}

// The SDK's own search request (fixtures/search-request.json) is accepted and filters as the contract says.
func TestSDKSearchRequestFilters(t *testing.T) {
	sim, url := startSim(t, cbcsim.Config{EventsPerDay: -1})
	base := cbc.Record{
		CreateTime: time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC), Actor: "ABCDEFGHIJ", ActorIP: "10.29.99.1",
		RequestURL: "https://inclusiveladyship.com", Description: "FOO FOOBAR", Flagged: true,
	}
	matching := base
	cbctest.Inject(sim, matching)
	variants := map[string]func(*cbc.Record){
		"other actor":          func(r *cbc.Record) { r.Actor = "JIHGFEDCBA" },
		"other ip":             func(r *cbc.Record) { r.ActorIP = "10.29.99.254" },
		"not flagged":          func(r *cbc.Record) { r.Flagged = false },
		"verbose":              func(r *cbc.Record) { r.Verbose = true },
		"before the range":     func(r *cbc.Record) { r.CreateTime = time.Date(2024, 2, 28, 0, 0, 0, 0, time.UTC) },
		"in the last 5 days":   func(r *cbc.Record) { r.CreateTime = simNow.Add(-time.Hour) },
		"no FOO in query":      func(r *cbc.Record) { r.Description = "FOOBAR x" },
		"no FOOBAR criterion":  func(r *cbc.Record) { r.Description = "FOO x" },
		"excluded BLORT":       func(r *cbc.Record) { r.Description = "FOO FOOBAR BLORT" },
		"excluded request_url": func(r *cbc.Record) { r.RequestURL = "https://links.inclusiveladyship.com" },
	}
	for _, change := range variants {
		r := base
		change(&r)
		cbctest.Inject(sim, r)
	}

	var req cbc.SearchRequest
	if err := json.Unmarshal(fixture(t, "search-request.json"), &req); err != nil {
		t.Fatal(err)
	}
	page, err := newClient(url, fullKey, fullSec).Page(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if page.NumFound != 1 || len(page.Results) != 1 || page.Results[0] != withOrg(matching) {
		t.Fatalf("the SDK's request matched %d records: %+v", page.NumFound, page.Results)
	}
}

func withOrg(r cbc.Record) cbc.Record {
	r.OrgKey = "ABCD1234"
	return r
}

func TestExportRequestFixtureIsAccepted(t *testing.T) {
	_, url := startSim(t, cbcsim.Config{})
	var req cbc.ExportRequest
	if err := json.Unmarshal(fixture(t, "export-request.json"), &req); err != nil {
		t.Fatal(err)
	}
	id, err := newClient(url, fullKey, fullSec).StartExport(context.Background(), req)
	if err != nil || id == 0 {
		t.Fatalf("export of the fixture request: id %d, %v", id, err)
	}
}
