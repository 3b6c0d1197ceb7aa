package cbc_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/cbcsim"
)

func TestServerErrorsAreRetried(t *testing.T) {
	for _, status := range []int{502, 503, 504} {
		sim, url := startSim(t, cbcsim.Config{EventsPerDay: 100})
		sim.AddFault(cbcsim.Fault{Endpoint: "search", Status: status, Times: 2})
		page, err := newClient(url, fullKey, fullSec).Page(context.Background(), cbc.SearchRequest{Rows: 5})
		if err != nil || len(page.Results) != 5 {
			t.Errorf("%d twice, then success: got %d records, %v", status, len(page.Results), err)
		}
		if n := sim.Requests("search"); n != 3 {
			t.Errorf("%d: %d requests, want 3", status, n)
		}
	}
}

func TestServerErrorsGiveUp(t *testing.T) {
	sim, url := startSim(t, cbcsim.Config{EventsPerDay: 100})
	sim.AddFault(cbcsim.Fault{Endpoint: "search", Status: 503})
	_, err := newClient(url, fullKey, fullSec).Page(context.Background(), cbc.SearchRequest{})
	if cbc.KindOf(err) != cbc.KindServer {
		t.Fatalf("got %v, want a server error", err)
	}
	if n := sim.Requests("search"); n != 4 {
		t.Errorf("%d requests; retries must be bounded at 4 attempts", n)
	}
	sim.ClearFaults()
	sim.AddFault(cbcsim.Fault{Endpoint: "search", Status: 500, Times: 1})
	if _, err := newClient(url, fullKey, fullSec).Page(context.Background(), cbc.SearchRequest{}); cbc.KindOf(err) != cbc.KindServer {
		t.Errorf("a 500 is not retried and is reported: got %v", err)
	}
}

// A 429 holds every call of the client until Retry-After has passed, then the call goes through.
func TestRateLimitHoldsAllCalls(t *testing.T) {
	sim, url := startSim(t, cbcsim.Config{EventsPerDay: 100})
	sim.AddFault(cbcsim.Fault{Endpoint: "search", Status: 429, RetryAfter: 1, Times: 1})
	client := newClient(url, fullKey, fullSec)
	start := time.Now()
	if _, err := client.Page(context.Background(), cbc.SearchRequest{}); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("retried after %v, before Retry-After (1s)", waited)
	}

	// A 429 whose wait outlasts the caller's deadline fails at once, saying so.
	sim.AddFault(cbcsim.Fault{Endpoint: "search", Status: 429, RetryAfter: 30, Times: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start = time.Now()
	_, err := client.Page(ctx, cbc.SearchRequest{})
	if cbc.KindOf(err) != cbc.KindRateLimited || time.Since(start) > time.Second {
		t.Fatalf("got %v after %v, want a rate-limit error at once", err, time.Since(start))
	}
	// Other calls of the same client are held too, without reaching CBC.
	before := sim.Requests("")
	_, err = client.Queue(ctx)
	if cbc.KindOf(err) != cbc.KindRateLimited || sim.Requests("") != before {
		t.Errorf("queue call during the hold: %v, %d requests sent", err, sim.Requests("")-before)
	}
}

// The simulator's own sliding window answers 429 with Retry-After, and the client reports it.
func TestSimulatorRateLimitWindow(t *testing.T) {
	_, url := startSim(t, cbcsim.Config{EventsPerDay: 10, RateLimit: 3, RateWindow: time.Minute})
	client := newClient(url, fullKey, fullSec)
	for range 3 {
		if _, err := client.Page(context.Background(), cbc.SearchRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var apiErr *cbc.Error
	_, err := client.Page(ctx, cbc.SearchRequest{})
	if !errors.As(err, &apiErr) || apiErr.Kind != cbc.KindRateLimited || apiErr.RetryAfter < 50*time.Second {
		t.Fatalf("fourth request in the window: %v", err)
	}
}

func TestRequestBudget(t *testing.T) {
	sim, url := startSim(t, cbcsim.Config{EventsPerDay: 10})
	client := cbc.New(cbc.Config{BaseURL: url, OrgKey: "ABCD1234", APIID: fullKey, APISecret: fullSec, RequestBudget: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range 2 {
		if _, err := client.Page(ctx, cbc.SearchRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := client.Page(ctx, cbc.SearchRequest{})
	var apiErr *cbc.Error
	if !errors.As(err, &apiErr) || apiErr.Kind != cbc.KindRateLimited || !strings.Contains(err.Error(), "budget") {
		t.Fatalf("third request over a budget of 2: %v", err)
	}
	if sim.Requests("search") != 2 {
		t.Errorf("%d requests reached CBC, want 2", sim.Requests("search"))
	}
}

func TestTruncatedBodiesAreFetchedAgain(t *testing.T) {
	sim, url := startSim(t, cbcsim.Config{EventsPerDay: 500})
	sim.AddFault(cbcsim.Fault{Endpoint: "search", Truncate: true, Times: 1})
	page, err := newClient(url, fullKey, fullSec).Page(context.Background(), cbc.SearchRequest{Rows: 100})
	if err != nil || len(page.Results) != 100 {
		t.Fatalf("after one truncated body: %d records, %v", len(page.Results), err)
	}

	sim.AddFault(cbcsim.Fault{Endpoint: "search", Truncate: true})
	_, err = newClient(url, fullKey, fullSec).Page(context.Background(), cbc.SearchRequest{Rows: 100})
	if cbc.KindOf(err) != cbc.KindMalformed || !strings.Contains(err.Error(), "cut short") {
		t.Fatalf("always truncated: %v", err)
	}
}

// A search has no side effect, so one garbled page is fetched again; one that stays garbled is an error.
func TestMalformedBody(t *testing.T) {
	sim, url := startSim(t, cbcsim.Config{EventsPerDay: 10})
	sim.AddFault(cbcsim.Fault{Endpoint: "search", Malformed: true, Times: 1})
	if _, err := newClient(url, fullKey, fullSec).Page(context.Background(), cbc.SearchRequest{}); err != nil {
		t.Fatalf("after one garbled page: %v", err)
	}
	sim.AddFault(cbcsim.Fault{Endpoint: "search", Malformed: true})
	_, err := newClient(url, fullKey, fullSec).Page(context.Background(), cbc.SearchRequest{})
	if cbc.KindOf(err) != cbc.KindMalformed || !strings.Contains(err.Error(), "not valid JSON") {
		t.Fatalf("got %v", err)
	}
}

func TestSlowBodyAndTimeouts(t *testing.T) {
	sim, url := startSim(t, cbcsim.Config{EventsPerDay: 2000})
	sim.AddFault(cbcsim.Fault{Endpoint: "search", SlowBodyMS: 200})
	client := cbc.New(cbc.Config{BaseURL: url, OrgKey: "ABCD1234", APIID: fullKey, APISecret: fullSec, Timeout: 300 * time.Millisecond})
	_, err := client.Page(context.Background(), cbc.SearchRequest{Rows: 1000})
	if cbc.KindOf(err) != cbc.KindUnreachable || !strings.Contains(err.Error(), "in time") {
		t.Fatalf("a body slower than the timeout: %v", err)
	}
}

// Once a search returns cancelled, none of its requests is still in flight and none starts. The client's own
// requests are watched: the server may yet receive one sent just before the cancel, which is not a request
// that went on.
func TestCancellationStopsASearch(t *testing.T) {
	_, url := startSim(t, cbcsim.Config{Seed: 2, EventsPerDay: 6000, Latency: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	// Cancelled while the split parts are fetched: the first page is two requests at once, the parts up to four.
	watch := &watchedTransport{next: http.DefaultTransport, cancelAt: 3, cancel: cancel}
	client := cbc.New(cbc.Config{BaseURL: url, OrgKey: "ABCD1234", APIID: fullKey, APISecret: fullSec,
		Timeout: 10 * time.Second, Concurrency: 4, Transport: watch})
	_, err := client.Search(ctx, cbc.SearchRequest{Criteria: lastWeek()}, 1_000_000, 0)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if started, inFlight := watch.returned(); started == 0 || inFlight != 0 {
		t.Errorf("when the search returned: %d requests sent, %d still in flight; want some sent and none in flight", started, inFlight)
	}
	time.Sleep(200 * time.Millisecond)
	if late := watch.lateStarts(); late != 0 {
		t.Errorf("%d requests started after the search returned", late)
	}
}

// watchedTransport counts the requests a client sends, those still in flight, and those started after returned.
// It calls cancel once cancelAt requests are in flight together.
type watchedTransport struct {
	next                    http.RoundTripper
	cancelAt                int
	cancel                  func()
	mu                      sync.Mutex
	started, inFlight, late int
	over                    bool
}

func (w *watchedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	w.mu.Lock()
	w.started++
	w.inFlight++
	if w.over {
		w.late++
	}
	if w.inFlight == w.cancelAt {
		w.cancel()
	}
	w.mu.Unlock()
	resp, err := w.next.RoundTrip(r)
	if err == nil {
		// The client reads the whole body before it hands a page on; in flight ends when the body is closed.
		resp.Body = &closeHook{ReadCloser: resp.Body, onClose: w.finish}
	} else {
		w.finish()
	}
	return resp, err
}

func (w *watchedTransport) finish() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inFlight--
}

// returned marks the caller's return and tells what had been sent and what was still in flight then.
func (w *watchedTransport) returned() (started, inFlight int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.over = true
	return w.started, w.inFlight
}

func (w *watchedTransport) lateStarts() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.late
}

type closeHook struct {
	io.ReadCloser
	once    sync.Once
	onClose func()
}

func (c *closeHook) Close() error {
	err := c.ReadCloser.Close()
	c.once.Do(c.onClose)
	return err
}

func TestUnreachableHost(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := newClient(url, fullKey, fullSec).Page(context.Background(), cbc.SearchRequest{})
	if cbc.KindOf(err) != cbc.KindUnreachable || !strings.Contains(err.Error(), "cannot reach") {
		t.Fatalf("got %v", err)
	}
}

// The secret never shows in an error, even when the server echoes the request's token back.
func TestSecretNeverInErrors(t *testing.T) {
	const secret = "VERYSECRETVALUE42"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error_code":"BAD","message":"bad token ` + r.Header.Get("X-Auth-Token") + `"}`))
	}))
	defer srv.Close()
	client := cbc.New(cbc.Config{BaseURL: srv.URL, OrgKey: "ABCD1234", APIID: "ID", APISecret: secret})
	_, err := client.Page(context.Background(), cbc.SearchRequest{})
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Fatalf("error %q holds the secret", err)
	}
	if !strings.Contains(err.Error(), "[redacted]/ID") {
		t.Errorf("error %q does not show where the secret was removed", err)
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
