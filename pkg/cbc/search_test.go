package cbc_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/cbcsim"
	"github.com/seed/cbcauditlogs/pkg/cbctest"
)

func lastWeek() *cbc.Criteria {
	return &cbc.Criteria{CreateTime: cbc.Between(simNow.Add(-7*24*time.Hour), simNow)}
}

func sameRecords(t *testing.T, got, want []cbc.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("record %d is %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestSearchInsideTheWindow(t *testing.T) {
	sim, url := startSim(t, cbcsim.Config{Seed: 3, EventsPerDay: 1000})
	client := newClient(url, fullKey, fullSec)
	req := cbc.SearchRequest{Query: `description:"logged in"`, Criteria: lastWeek()}
	truth, err := cbctest.Match(sim, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(truth) < 100 || len(truth) > cbc.Window {
		t.Fatalf("test data has %d matches; want between 100 and the window", len(truth))
	}

	before := sim.Requests("search")
	got, err := client.Search(context.Background(), req, 50, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The client's first search also asks, once, whether create_time.end includes its millisecond: two requests.
	if n := sim.Requests("search") - before; n != 1+2 {
		t.Errorf("a first search for 50 records took %d requests, want 1 and the end probe's 2", n)
	}
	if got.NumFound != len(truth) {
		t.Errorf("NumFound %d, want %d", got.NumFound, len(truth))
	}
	sameRecords(t, got.Records, truth[:50])

	before = sim.Requests("search")
	all, err := client.Search(context.Background(), req, cbc.Window, 0)
	if err != nil {
		t.Fatal(err)
	}
	sameRecords(t, all.Records, truth)
	if n := sim.Requests("search") - before; n != 2 {
		t.Errorf("a search for a whole window of %d records took %d requests; want its two halves, asked for at once", len(truth), n)
	}
}

func TestSearchPagesWithSmallPages(t *testing.T) {
	sim, url := startSim(t, cbcsim.Config{Seed: 4, EventsPerDay: 3000})
	client := newClient(url, fullKey, fullSec)
	req := cbc.SearchRequest{Criteria: lastWeek(), Sort: []cbc.SortField{{Field: "actor", Order: cbc.Asc}}}
	truth, _ := cbctest.Match(sim, req)
	// A limit under the window, above one page of rows: pages follow start/rows.
	got, err := client.Search(context.Background(), req, 9999, 0)
	if err != nil {
		t.Fatal(err)
	}
	sameRecords(t, got.Records, truth[:9999])
}

// Beyond the 10000-record window, the search splits by time; counts and order match the ground truth exactly.
func TestSearchBeyondTheWindow(t *testing.T) {
	sim, url := startSim(t, cbcsim.Config{Seed: 5, EventsPerDay: 16000})
	client := newClient(url, fullKey, fullSec)
	all := cbctest.Records(sim)
	if len(all) < 100000 {
		t.Fatalf("test data has %d records, want over 100000", len(all))
	}
	cases := []struct {
		name  string
		req   cbc.SearchRequest
		limit int
	}{
		{"newest first, everything", cbc.SearchRequest{Criteria: lastWeek()}, 1_000_000},
		{"oldest first, first 25000", cbc.SearchRequest{Criteria: lastWeek(), Sort: []cbc.SortField{{Field: "create_time", Order: cbc.Asc}}}, 25000},
		{"newest 15000 of the flagged", cbc.SearchRequest{Query: "flagged:true OR verbose:true", Criteria: lastWeek()}, 15000},
		{"by actor, first 12000", cbc.SearchRequest{Criteria: lastWeek(), Sort: []cbc.SortField{{Field: "actor", Order: cbc.Desc}}}, 12000},
		{"no time range", cbc.SearchRequest{Query: "NOT description:Logged"}, 1_000_000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			truth, err := cbctest.Match(sim, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := client.Search(context.Background(), tc.req, tc.limit, 1_000_000)
			if err != nil {
				t.Fatal(err)
			}
			if got.NumFound != len(truth) {
				t.Errorf("NumFound %d, want %d", got.NumFound, len(truth))
			}
			sameRecords(t, got.Records, truth[:min(tc.limit, len(truth))])
			if got.Sampled {
				t.Error("a search that read every match says it sampled")
			}
		})
	}
}

// Sorted by another field beyond the window, a search reads at most maxScan records and says the order is that
// of a sample; inside the window CBC sorts every match itself.
func TestSearchSortedByFieldBeyondScanCap(t *testing.T) {
	sim, url := startSim(t, cbcsim.Config{Seed: 6, EventsPerDay: 6000})
	client := newClient(url, fullKey, fullSec)
	req := cbc.SearchRequest{Criteria: lastWeek(), Sort: []cbc.SortField{{Field: "actor_ip", Order: cbc.Asc}}}
	truth, _ := cbctest.Match(sim, req)

	inWindow, err := client.Search(context.Background(), req, 100, 20000)
	if err != nil {
		t.Fatal(err)
	}
	if inWindow.Sampled {
		t.Error("a search inside the window says it sampled")
	}
	sameRecords(t, inWindow.Records, truth[:100])

	beyond, err := client.Search(context.Background(), req, 12000, 20000)
	if err != nil {
		t.Fatal(err)
	}
	if !beyond.Sampled || len(beyond.Records) != 12000 {
		t.Errorf("sampled=%v with %d records; want a sample of 12000", beyond.Sampled, len(beyond.Records))
	}
}

// Many records in one millisecond: the time cursor cannot split them, so the search pages through that instant.
func TestSearchManyRecordsInOneMillisecond(t *testing.T) {
	sim, url := startSim(t, cbcsim.Config{EventsPerDay: -1})
	at := simNow.Add(-time.Hour)
	for i := range 12000 {
		t := at
		if i >= cbc.MaxRows {
			t = at.Add(-time.Duration(i) * time.Second)
		}
		cbctest.Inject(sim, cbc.Record{CreateTime: t, Actor: fmt.Sprintf("user%05d", i), Description: "Logged in successfully"})
	}
	req := cbc.SearchRequest{Criteria: lastWeek()}
	truth, _ := cbctest.Match(sim, req)
	got, err := newClient(url, fullKey, fullSec).Search(context.Background(), req, 1_000_000, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Records) != len(truth) {
		t.Fatalf("got %d of %d records", len(got.Records), len(truth))
	}
}

func TestSearchErrors(t *testing.T) {
	_, url := startSim(t, cbcsim.Config{EventsPerDay: 10})
	ctx := context.Background()
	cases := []struct {
		name string
		id   string
		sec  string
		org  string
		req  cbc.SearchRequest
		want cbc.Kind
	}{
		{"query syntax", fullKey, fullSec, "ABCD1234", cbc.SearchRequest{Query: `description:"open`}, cbc.KindQuerySyntax},
		{"bad sort", fullKey, fullSec, "ABCD1234", cbc.SearchRequest{Sort: []cbc.SortField{{Field: "category", Order: cbc.Asc}}}, cbc.KindBadRequest},
		{"wrong secret", fullKey, "nope", "ABCD1234", cbc.SearchRequest{}, cbc.KindUnauthorized},
		{"no permission", noPermKey, noPermSec, "ABCD1234", cbc.SearchRequest{}, cbc.KindForbidden},
		{"wrong org", fullKey, fullSec, "WXYZ9999", cbc.SearchRequest{}, cbc.KindNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client := cbc.New(cbc.Config{BaseURL: url, OrgKey: tc.org, APIID: tc.id, APISecret: tc.sec})
			_, err := client.Search(ctx, tc.req, 10, 0)
			if cbc.KindOf(err) != tc.want {
				t.Fatalf("got %v (kind %d), want kind %d", err, cbc.KindOf(err), tc.want)
			}
		})
	}
	_, err := newClient(url, fullKey, fullSec).Page(ctx, cbc.SearchRequest{Query: "actor:(bob"})
	if err == nil || err.Error() == "" || cbc.KindOf(err) != cbc.KindQuerySyntax {
		t.Fatalf("unbalanced parenthesis: %v", err)
	}
	t.Logf("syntax error reads: %v", err)
}

func BenchmarkPager(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			_, url := startSim(b, cbcsim.Config{Seed: 9, EventsPerDay: n / 7})
			client := newClient(url, fullKey, fullSec)
			req := cbc.SearchRequest{Criteria: lastWeek()}
			b.ReportAllocs()
			b.ResetTimer()
			var got int
			for range b.N {
				res, err := client.Search(context.Background(), req, 1_000_000, 0)
				if err != nil {
					b.Fatal(err)
				}
				got = len(res.Records)
			}
			b.ReportMetric(float64(got*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// A search for a little more than the window reads a little more than the window: the first page's records are
// kept and only the records still missing are fetched.
func TestSearchBeyondTheWindowFetchesOnlyWhatIsMissing(t *testing.T) {
	sim, url := startSim(t, cbcsim.Config{Seed: 5, EventsPerDay: 16000})
	client := newClient(url, fullKey, fullSec)
	req := cbc.SearchRequest{Criteria: lastWeek()}
	truth, _ := cbctest.Match(sim, req)
	before := sim.Requests("search")
	got, err := client.Search(context.Background(), req, 12000, 0)
	if err != nil {
		t.Fatal(err)
	}
	sameRecords(t, got.Records, truth[:12000])
	// Two more, once per client, find out whether create_time.end includes its millisecond.
	if n := sim.Requests("search") - before; n > 6 {
		t.Errorf("12000 of %d records took %d requests; want the first page's two halves, a part or two and the probe", len(truth), n)
	}
}
