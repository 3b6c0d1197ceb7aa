package cbc_test

import (
	"context"
	"errors"
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
