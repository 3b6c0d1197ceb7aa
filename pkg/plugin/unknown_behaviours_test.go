package plugin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/cbcsim"
	"github.com/seed/cbcauditlogs/pkg/cbctest"
)

// The real CBC's undocumented behaviours, each an alternative the simulator offers. Under every one, searches
// (inside and beyond the 10000-record window, in both orders), counts, the queue backfill and exports return
// exactly the simulator's records: none missing, none twice.
func TestExactUnderEveryUnknownBehaviour(t *testing.T) {
	files := httptest.NewServer(http.NotFoundHandler())
	defer files.Close()
	modes := map[string]cbcsim.Config{
		"as cbc-api.md chose":                      {},
		"no sort means ascending":                  {DefaultSort: "asc"},
		"end leaves out its millisecond":           {EndExclusive: true},
		"num_found stops at 10000":                 {CapNumFound: true},
		"a new job answers 404 for a moment":       {JobVisibleAfter: 300 * time.Millisecond},
		"downloads redirect to another host":       {DownloadRedirect: files.URL},
		"a wrong org answers 403":                  {WrongOrgStatus: http.StatusForbidden},
		"a download needs a fitting Accept":        {StrictAccept: true},
		"jobs echo their parameters":               {JobParams: "echo"},
		"pages of at most 1000 rows":               {MaxRows: 1000},
		"queue answers newest first":               {QueueOrder: "newest"},
		"num_available counts after the read":      {NumAvailable: "after"},
		"an empty range is refused":                {RefuseEmptyRange: true},
		"an empty range is refused, end exclusive": {RefuseEmptyRange: true, EndExclusive: true},
	}
	for name, cfg := range modes {
		t.Run(name, func(t *testing.T) {
			// The drain keeps events by their age on the plugin's clock, so the simulator runs on real time here.
			cfg.Seed, cfg.EventsPerDay, cfg.Now = 41, 3000, time.Now
			f := newFixture(t, cfg, map[string]any{"queueBackfillMinutes": 60})
			now := time.Now().UTC().Truncate(time.Millisecond)
			// Records on both ends of every range below: a search holds its first and its last millisecond.
			for _, at := range []time.Time{now, now.Add(-24 * time.Hour), now.Add(-7 * 24 * time.Hour), now.Add(-48 * time.Hour)} {
				cbctest.Inject(f.sim, cbc.Record{CreateTime: at, Actor: "edge@acme.example", ActorIP: "192.0.2.1", Description: "Logged in successfully"})
			}
			if cfg.DownloadRedirect != "" {
				files.Config.Handler = f.sim.FileHandler()
			}
			all := cbctest.Records(f.sim)
			to := now
			between := func(from time.Time, ascending bool) []string {
				var out []cbc.Record
				for _, r := range all {
					if !r.CreateTime.Before(from) && !r.CreateTime.After(to) {
						out = append(out, r)
					}
				}
				if !ascending {
					slices.Reverse(out)
				}
				ids := make([]string, len(out))
				for i, r := range out {
					ids[i] = r.ID()
				}
				return ids
			}
			week, day := to.Add(-7*24*time.Hour), to.Add(-24*time.Hour)

			for _, c := range []struct {
				name      string
				from      time.Time
				limit     int
				ascending bool
			}{
				{"a day, newest 500", day, 500, false},
				{"a week, newest 15000", week, 15000, false},
				{"a week, oldest 15000", week, 15000, true},
				{"a week, all", week, 25000, false},
			} {
				sortBy := `{"field":"create_time","order":"DESC"}`
				if c.ascending {
					sortBy = `{"field":"create_time","order":"ASC"}`
				}
				q := backend.DataQuery{RefID: "A", JSON: json.RawMessage(fmt.Sprintf(`{"format":"table","limit":%d,"sort":%s}`, c.limit, sortBy)),
					TimeRange: backend.TimeRange{From: c.from, To: to}}
				res := f.run(t, q).Responses["A"]
				if res.Error != nil {
					t.Fatalf("search %s: %v", c.name, res.Error)
				}
				want := between(c.from, c.ascending)
				want = want[:min(len(want), c.limit)]
				if got := tableIDs(res.Frames[0]); !slices.Equal(got, want) {
					t.Errorf("search %s: %d records, want %d (first difference at %d)", c.name, len(got), len(want), firstDifference(got, want))
				}
			}

			counts := f.run(t, countQuery(`{"queryType":"count","interval":"1h"}`, week, to)).Responses["A"]
			if counts.Error != nil {
				t.Fatal(counts.Error)
			}
			sameCounts(t, seriesCounts(t, counts.Frames, "", week, to, time.Hour),
				truthCounts(all, week, to, time.Hour, func(cbc.Record) string { return "" }))

			exportFrom := now.Add(-48 * time.Hour)
			started := f.resource(t, "POST", "exports", map[string]any{"format": "csv", "from": exportFrom.UnixMilli(), "to": now.UnixMilli()})
			var st exportStatus
			if err := json.Unmarshal(started.body.Bytes(), &st); err != nil || started.status != http.StatusCreated {
				t.Fatalf("POST exports: %d %s", started.status, started.body.String())
			}
			if done := waitExport(t, f, st.ID); done.Status != cbc.JobCompleted {
				t.Fatalf("export ended %+v", done)
			}
			file := f.resource(t, "GET", fmt.Sprintf("exports/%d/download", st.ID), nil)
			exported, err := cbctest.ReadExport("csv", file.body.Bytes())
			if err != nil || file.status != http.StatusOK {
				t.Fatalf("download: %d %v", file.status, err)
			}
			if got, want := sortedIDs(exported), sortedIDs(recordsBetween(all, exportFrom.Truncate(time.Millisecond), now.Truncate(time.Millisecond))); !slices.Equal(got, want) {
				t.Errorf("export: %d records, want %d", len(got), len(want))
			}

			f.ds.feed.Start()
			hour := now.Add(-time.Hour)
			waitUntil(t, "the drain", func() bool {
				return f.sim.QueueBacklog(simKey) == 0 && len(f.ds.buffer.Records(hour, to)) == len(between(hour, true))
			})
			if got, want := sortedIDs(f.ds.buffer.Records(hour, to)), sortedIDs(recordsBetween(all, hour, to)); !slices.Equal(got, want) {
				t.Errorf("queue buffer: %d records of the last hour, want %d", len(got), len(want))
			}
		})
	}
}

func recordsBetween(records []cbc.Record, from, to time.Time) []cbc.Record {
	var out []cbc.Record
	for _, r := range records {
		if !r.CreateTime.Before(from) && !r.CreateTime.After(to) {
			out = append(out, r)
		}
	}
	return out
}

func sortedIDs(records []cbc.Record) []string {
	out := make([]string, len(records))
	for i, r := range records {
		out[i] = r.ID()
	}
	sort.Strings(out)
	return out
}

// tableIDs reads a table frame's rows back into record ids, in the frame's order.
func tableIDs(frame *data.Frame) []string {
	column := map[string]*data.Field{}
	for _, field := range frame.Fields {
		column[field.Name] = field
	}
	str := func(name string, i int) string {
		if v, ok := column[name].ConcreteAt(i); ok {
			return v.(string)
		}
		return ""
	}
	boolean := func(name string, i int) bool {
		v, _ := column[name].ConcreteAt(i)
		b, _ := v.(bool)
		return b
	}
	ids := make([]string, frame.Rows())
	for i := range ids {
		r := cbc.Record{CreateTime: column["create_time"].At(i).(time.Time), Actor: str("actor", i), ActorIP: str("actor_ip", i),
			Description: str("description", i), OrgKey: str("org_key", i), RequestURL: str("request_url", i),
			Flagged: boolean("flagged", i), Verbose: boolean("verbose", i)}
		ids[i] = r.ID()
	}
	return ids
}

func firstDifference(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
