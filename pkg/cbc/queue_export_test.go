package cbc_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/cbcsim"
	"github.com/seed/cbcauditlogs/pkg/cbctest"
)

func TestQueueReadsClearAndKeysAreSeparate(t *testing.T) {
	sim, url := startSim(t, cbcsim.Config{Seed: 8, EventsPerDay: 1000, QueueBatch: 2500})
	full := newClient(url, fullKey, fullSec)
	threeDays := 0
	for _, r := range cbctest.Records(sim) {
		if !r.CreateTime.Before(simNow.Add(-72 * time.Hour)) {
			threeDays++
		}
	}
	var drained []cbc.Record
	for {
		page, err := full.Queue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Results) == 0 {
			break
		}
		if page.NumFound != len(page.Results) || len(page.Results) > 2500 {
			t.Fatalf("queue page: num_found %d, %d results", page.NumFound, len(page.Results))
		}
		drained = append(drained, page.Results...)
	}
	if len(drained) != threeDays {
		t.Fatalf("drained %d records, want the last three days' %d", len(drained), threeDays)
	}
	for i := 1; i < len(drained); i++ {
		if drained[i].CreateTime.Before(drained[i-1].CreateTime) {
			t.Fatal("the queue does not return the oldest records first")
		}
	}

	fresh := cbc.Record{CreateTime: simNow, Actor: "new@acme.example", Description: "Logged in successfully"}
	cbctest.Inject(sim, fresh)
	page, _ := full.Queue(context.Background())
	if len(page.Results) != 1 || page.Results[0].Actor != fresh.Actor {
		t.Errorf("after draining, the queue holds %+v; want only the new event", page.Results)
	}
	if backlog := sim.QueueBacklog(auditKey); backlog != threeDays+1 {
		t.Errorf("another key's queue holds %d records, want %d: reads must not clear other keys", backlog, threeDays+1)
	}
}

func TestLegacyQueueMapsToRecords(t *testing.T) {
	sim, url := startSim(t, cbcsim.Config{EventsPerDay: -1})
	want := cbc.Record{CreateTime: simNow.Add(-time.Minute), Actor: "bs@carbonblack.com", ActorIP: "192.0.2.3",
		Description: "Logged in successfully", RequestURL: "https://x.example/settings?q=a+b%2Fc", Flagged: true, OrgKey: "ABCD1234"}
	cbctest.Inject(sim, want)
	records, err := newClient(url, fullKey, fullSec).LegacyQueue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 1 || records[0] != want {
		t.Fatalf("legacy queue gave %+v, want %+v", records, want)
	}
	if again, _ := newClient(url, fullKey, fullSec).LegacyQueue(context.Background()); len(again) != 0 {
		t.Errorf("a second legacy read returned %d records; reads clear", len(again))
	}
}

func TestLegacyFixtureParses(t *testing.T) {
	srv := serveBody(t, fixture(t, "legacy-v3-auditlogs-response.json"))
	records, err := newClient(srv, fullKey, fullSec).LegacyQueue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 5 || records[0].Actor != "bs@carbonblack.com" || records[0].ActorIP != "192.0.2.3" ||
		!records[0].CreateTime.Equal(time.UnixMilli(1529332687006)) {
		t.Fatalf("legacy fixture mapped to %+v", records)
	}
}

func TestExportLifecycle(t *testing.T) {
	sim, url := startSim(t, cbcsim.Config{Seed: 11, EventsPerDay: 3000, JobDuration: 400 * time.Millisecond})
	client := newClient(url, fullKey, fullSec)
	ctx := context.Background()
	search := cbc.SearchRequest{Query: "flagged:true", Criteria: lastWeek()}
	truth, _ := cbctest.Match(sim, search)

	for _, format := range []string{cbc.FormatCSV, cbc.FormatJSON} {
		t.Run(format, func(t *testing.T) {
			id, err := client.StartExport(ctx, cbc.ExportRequest{Query: search.Query, Criteria: search.Criteria, Format: format})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := client.Download(ctx, id); cbc.KindOf(err) != cbc.KindConflict {
				t.Errorf("download before completion: %v, want a 409 conflict", err)
			}
			if _, err := newClient(url, auditKey, auditSec).Job(ctx, id); cbc.KindOf(err) != cbc.KindForbidden {
				t.Errorf("a key without jobs.status reading the job: %v, want 403", err)
			}
			job, err := client.WaitForJob(ctx, id)
			if err != nil || job.Status != cbc.JobCompleted {
				t.Fatalf("job ended %+v, %v", job, err)
			}
			progress, err := client.JobProgress(ctx, id)
			if err != nil || progress.NumTotal != int64(len(truth)) || progress.NumCompleted != progress.NumTotal {
				t.Errorf("progress %+v, %v; want %d of %d", progress, err, len(truth), len(truth))
			}
			file, err := client.Download(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			defer file.Body.Close()
			contentType := file.ContentType
			raw, _ := io.ReadAll(file.Body)
			got, err := cbctest.ReadExport(format, raw)
			if err != nil {
				t.Fatal(err)
			}
			sameRecords(t, got, truth)
			if (format == cbc.FormatCSV) != (contentType == "text/csv") {
				t.Errorf("content type %q for %s", contentType, format)
			}
		})
	}
}

func TestExportRejectsOtherFormatsAndIsPrivateToItsKey(t *testing.T) {
	sim, url := startSim(t, cbcsim.Config{EventsPerDay: 10})
	sim.AddFault(cbcsim.Fault{Endpoint: "export", FailJob: true, Times: 1})
	client := newClient(url, fullKey, fullSec)
	if _, err := client.StartExport(context.Background(), cbc.ExportRequest{Format: "CSV"}); err == nil {
		t.Error("format CSV (upper case) was accepted")
	}
	id, err := client.StartExport(context.Background(), cbc.ExportRequest{Format: cbc.FormatJSON})
	if err != nil {
		t.Fatal(err)
	}
	job, _ := client.WaitForJob(context.Background(), id)
	if job.Status != cbc.JobFailed {
		t.Errorf("injected failure: job is %s", job.Status)
	}
	if _, err := newClient(url, noPermKey, noPermSec).Job(context.Background(), id); cbc.KindOf(err) != cbc.KindForbidden {
		t.Errorf("key without permission: %v", err)
	}
}

func TestJobsAreVisibleOnlyToTheirKey(t *testing.T) {
	keys := append(cbcsim.DefaultKeys(), cbcsim.Key{ID: "SECONDKEY1", Secret: "SECOND", Permissions: []string{cbcsim.PermAudits, cbcsim.PermJobs}})
	_, url := startSim(t, cbcsim.Config{EventsPerDay: 10, Keys: keys})
	id, err := newClient(url, fullKey, fullSec).StartExport(context.Background(), cbc.ExportRequest{Format: cbc.FormatCSV})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newClient(url, "SECONDKEY1", "SECOND").Job(context.Background(), id); cbc.KindOf(err) != cbc.KindNotFound {
		t.Errorf("another key reading the job: %v, want 404", err)
	}
}

// An export start that gets no answer is looked up before it is sent again, whether or not CBC acted on it and
// whether or not jobs echo their parameters: one job is made, it is the one returned, and neither an older
// export with the same parameters nor another user's concurrent export is taken for it.
func TestExportStartIsNotRepeatedBlindly(t *testing.T) {
	req := cbc.ExportRequest{Query: "flagged:true", Format: cbc.FormatJSON}
	for _, params := range []string{"null", "echo"} {
		for _, acted := range []bool{false, true} {
			t.Run(fmt.Sprintf("job_parameters %s, CBC acted %v", params, acted), func(t *testing.T) {
				sim, url := startSim(t, cbcsim.Config{EventsPerDay: 100, JobParams: params, Now: time.Now})
				client := newClient(url, fullKey, fullSec)
				ctx := context.Background()
				older, err := client.StartExport(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				sim.AddFault(cbcsim.Fault{Endpoint: "export", Status: 504, After: acted, Times: 1})
				id, err := client.StartExport(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				jobs, err := client.Jobs(ctx)
				if err != nil || len(jobs) != 2 || id == older || (id != jobs[0].ID && id != jobs[1].ID) {
					t.Fatalf("jobs after a start through a 504: %+v, %v; the start returned %d, the older job is %d", jobs, err, id, older)
				}
			})
		}
	}
}
