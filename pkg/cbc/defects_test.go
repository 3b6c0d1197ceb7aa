package cbc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/cbcsim"
)

// credentialsSeen records whether requests to a server carried CBC credentials.
type credentialsSeen struct {
	requests, withCredentials atomic.Int32
}

func (c *credentialsSeen) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.requests.Add(1)
		if r.Header.Get("X-Auth-Token") != "" || r.Header.Get("Authorization") != "" {
			c.withCredentials.Add(1)
		}
		next.ServeHTTP(w, r)
	})
}

// The secret never follows a redirect to another host, nor down from HTTPS to HTTP.
func TestCredentialsNeverFollowARedirect(t *testing.T) {
	var other credentialsSeen
	elsewhere := httptest.NewServer(other.handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"num_found": 0, "num_available": 0, "results": []}`)
	})))
	defer elsewhere.Close()
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect} {
		origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+r.URL.Path, status)
		}))
		_, _ = newClient(origin.URL, fullKey, fullSec).Page(context.Background(), cbc.SearchRequest{})
		origin.Close()
	}
	if other.requests.Load() != 2 || other.withCredentials.Load() != 0 {
		t.Errorf("the other host got %d requests, %d with credentials", other.requests.Load(), other.withCredentials.Load())
	}

	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusFound)
	}))
	defer secure.Close()
	client := cbc.New(cbc.Config{BaseURL: secure.URL, OrgKey: "ABCD1234", APIID: fullKey, APISecret: fullSec, Transport: secure.Client().Transport})
	_, err := client.Page(context.Background(), cbc.SearchRequest{})
	if err == nil || !strings.Contains(err.Error(), "HTTPS to http") || other.requests.Load() != 2 {
		t.Errorf("an HTTPS to HTTP redirect: %v, %d requests reached the plain host", err, other.requests.Load()-2)
	}
}

// A download that CBC redirects to a storage host arrives whole, and the storage host sees no credentials.
func TestDownloadRedirectLeavesCredentialsBehind(t *testing.T) {
	files := httptest.NewServer(http.NotFoundHandler())
	defer files.Close()
	sim, url := startSim(t, cbcsim.Config{EventsPerDay: 500, DownloadRedirect: files.URL})
	files.Config.Handler = sim.FileHandler()
	client := newClient(url, fullKey, fullSec)
	ctx := context.Background()
	id, err := client.StartExport(ctx, cbc.ExportRequest{Format: cbc.FormatCSV})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.WaitForJob(ctx, id); err != nil {
		t.Fatal(err)
	}
	file, err := client.Download(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(file.Body)
	file.Body.Close()
	if lines := strings.Count(string(raw), "\n"); lines != len(sim.Records())+1 {
		t.Errorf("the file has %d lines for %d records", lines, len(sim.Records()))
	}
	if sim.Requests("file") != 1 || sim.Requests("file with credentials") != 0 {
		t.Errorf("the storage host got %d requests, %d with credentials", sim.Requests("file"), sim.Requests("file with credentials"))
	}
}

// Concurrency bounds the requests in flight for the whole data source, however many calls run at once.
func TestConcurrencyBoundsRequestsAcrossCalls(t *testing.T) {
	sim := cbcsim.New(cbcsim.Config{Seed: 1, EventsPerDay: 2000, Latency: 20 * time.Millisecond, Now: func() time.Time { return simNow }})
	defer sim.Close()
	var inFlight, most atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		sim.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	client := cbc.New(cbc.Config{BaseURL: srv.URL, OrgKey: "ABCD1234", APIID: fullKey, APISecret: fullSec, Timeout: time.Minute, Concurrency: 3})
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := cbc.SearchRequest{Criteria: &cbc.Criteria{CreateTime: cbc.Between(simNow.Add(-time.Duration(i+1)*time.Hour), simNow)}}
			if _, err := client.Search(context.Background(), req, 20000, 20000); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if most.Load() > 3 {
		t.Errorf("%d requests were in flight at once with concurrency 3", most.Load())
	}
}

// A response body past the bound fails with a clear error instead of being read whole.
func TestOversizedBodyIsRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"num_found": 1, "num_available": 1, "results": [{"description": "`)
		chunk := strings.Repeat("x", 1<<20)
		for range 80 {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
		_, _ = io.WriteString(w, `"}]}`)
	}))
	defer srv.Close()
	_, err := newClient(srv.URL, fullKey, fullSec).Page(context.Background(), cbc.SearchRequest{})
	if cbc.KindOf(err) != cbc.KindMalformed || !strings.Contains(err.Error(), "larger than 64 MiB") {
		t.Fatalf("an 80 MiB body: %v", err)
	}
}

// No piece of the secret reaches an error, whatever an upstream echoes back.
func TestErrorsNeverCarryThePieceOfASecret(t *testing.T) {
	for _, body := range []string{
		`{"num_found": 1, "results": [` + fullSec[:20] + `]}`,
		fullSec[3:18] + ` is not a token`,
		`{"message": "bad token ` + fullSec + `/` + fullKey + `"}`,
	} {
		for _, status := range []int{200, 400, 500} {
			if status == 200 && strings.HasPrefix(body, `{"message"`) {
				continue // a valid, empty answer
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(status)
				_, _ = io.WriteString(w, body)
			}))
			_, err := newClient(srv.URL, fullKey, fullSec).Page(context.Background(), cbc.SearchRequest{})
			srv.Close()
			if err == nil {
				t.Fatalf("%d %s: no error", status, body)
			}
			for i := 0; i+6 <= len(fullSec); i++ {
				if strings.Contains(err.Error(), fullSec[i:i+6]) {
					t.Errorf("%d %s: the error %q holds %q of the secret", status, body, err, fullSec[i:i+6])
					break
				}
			}
		}
	}
}

// A 429 whose wait outlasts the deadline is CBC's 429 (downstream), and says when to retry.
func TestRateLimitPastTheDeadlineIsA429(t *testing.T) {
	sim, url := startSim(t, cbcsim.Config{EventsPerDay: 100})
	sim.AddFault(cbcsim.Fault{Endpoint: "search", Status: 429, RetryAfter: 600, Times: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := newClient(url, fullKey, fullSec).Page(ctx, cbc.SearchRequest{})
	var apiErr *cbc.Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusTooManyRequests || apiErr.Source() != "downstream" || !strings.Contains(err.Error(), "retry after") {
		t.Fatalf("got %v", err)
	}
}

// A search has no side effect: a connection reset, a timeout or a garbled page is fetched again.
func TestSearchesAreRetriedAfterFaults(t *testing.T) {
	for name, fault := range map[string]cbcsim.Fault{
		"reset":   {Reset: true},
		"timeout": {LatencyMS: 1500},
		"garbled": {Malformed: true},
	} {
		t.Run(name, func(t *testing.T) {
			sim, url := startSim(t, cbcsim.Config{EventsPerDay: 500})
			fault.Endpoint, fault.Times = "search", 1
			sim.AddFault(fault)
			client := cbc.New(cbc.Config{BaseURL: url, OrgKey: "ABCD1234", APIID: fullKey, APISecret: fullSec, Timeout: 500 * time.Millisecond})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if page, err := client.Page(ctx, cbc.SearchRequest{Rows: 10}); err != nil || len(page.Results) != 10 {
				t.Fatalf("after one %s: %d records, %v", name, len(page.Results), err)
			}
		})
	}
}

// A queue read is never sent twice: not by the transport after a reset, not by our retry after a 5xx.
func TestQueueReadsAreNeverRepeated(t *testing.T) {
	for name, fault := range map[string]cbcsim.Fault{
		"reset after CBC acted": {Reset: true, After: true},
		"504 after CBC acted":   {Status: 504, After: true},
		"503":                   {Status: 503},
	} {
		t.Run(name, func(t *testing.T) {
			sim, url := startSim(t, cbcsim.Config{EventsPerDay: 500})
			client := newClient(url, fullKey, fullSec)
			if _, err := client.Queue(context.Background()); err != nil { // opens a connection the transport could reuse
				t.Fatal(err)
			}
			fault.Endpoint, fault.Times = "queue", 1
			sim.AddFault(fault)
			_, err := client.Queue(context.Background())
			var apiErr *cbc.Error
			if !errors.As(err, &apiErr) || !apiErr.MaybeActed {
				t.Errorf("got %v; want an error saying CBC may have acted", err)
			}
			if n := sim.Requests("queue"); n != 2 {
				t.Errorf("%d queue requests for 2 reads", n)
			}
		})
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

func TestRequestsCarryTheUserAgent(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("User-Agent"))
		_, _ = io.WriteString(w, `{"num_found": 0, "num_available": 0, "results": []}`)
	}))
	defer srv.Close()
	client := cbc.New(cbc.Config{BaseURL: srv.URL, OrgKey: "ABCD1234", APIID: fullKey, APISecret: fullSec, UserAgent: "Grafana-CBC-AuditLogs/1.4.0 Grafana/13.1.0"})
	if _, err := client.Page(context.Background(), cbc.SearchRequest{}); err != nil {
		t.Fatal(err)
	}
	if got.Load() != "Grafana-CBC-AuditLogs/1.4.0 Grafana/13.1.0" {
		t.Errorf("User-Agent %q", got.Load())
	}
}
