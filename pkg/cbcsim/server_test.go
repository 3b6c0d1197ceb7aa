package cbcsim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbcsim"
)

const (
	keyID     = "GRAFANA001"
	keySecret = "SIMULATORSECRET0GRAFANA01"
	searchURL = "/audit_log/v1/orgs/ABCD1234/logs/_search"
)

// grammarNow is the simulator's clock in these tests: its history ends here, and "now" in a query means it.
var grammarNow = time.Date(2024, 4, 17, 20, 0, 0, 0, time.UTC)

// The simulator checks the client, so it must share none of its code: a wrong JSON tag, sort rule or time
// format in the client would otherwise pass every test.
func TestSimulatorImportsNoClientPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../../pkg/cbcsim/...", "../../cmd/cbcsim").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, client := range []string{"/pkg/cbc", "/pkg/models", "/pkg/frames", "/pkg/plugin", "/pkg/queue", "/pkg/category"} {
			if strings.HasSuffix(pkg, client) || strings.Contains(pkg, client+"/") {
				t.Errorf("the simulator depends on %s", pkg)
			}
		}
	}
}

type server struct {
	t   *testing.T
	sim *cbcsim.Simulator
	url string
}

func serve(t *testing.T, cfg cbcsim.Config) *server {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return grammarNow }
	}
	sim := cbcsim.New(cfg)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() {
		srv.Close()
		sim.Close()
	})
	return &server{t: t, sim: sim, url: srv.URL}
}

// do sends a CBC request with the full key and returns the status, the headers and the decoded body.
func (s *server) do(method, path, body string) (int, http.Header, map[string]any) {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.url+path, strings.NewReader(body))
	req.Header.Set("X-Auth-Token", keySecret+"/"+keyID)
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, resp.Header, out
}

func (s *server) search(body string) map[string]any {
	s.t.Helper()
	status, _, out := s.do(http.MethodPost, searchURL, body)
	if status != http.StatusOK {
		s.t.Fatalf("search %s: %d %v", body, status, out)
	}
	return out
}

func results(out map[string]any) []map[string]any {
	var rs []map[string]any
	for _, r := range out["results"].([]any) {
		rs = append(rs, r.(map[string]any))
	}
	return rs
}

// Syntax CBC cannot parse is refused with its 400 body, never answered with 200 and nothing. A huge nested
// query is refused too, without exhausting the server.
func TestQuerySyntaxErrors(t *testing.T) {
	s := serve(t, cbcsim.Config{EventsPerDay: 100})
	bad := []string{
		`description:"open`, `(a OR b`, `a OR`, `AND a`, `a )`, `:value`, `actor:`, `NOT NOT a`,
		`flagged:maybe`, `flagged:TRUE`, `actor:/[/`, `create_time:yesterday`, `create_time:[2024 TO`, `description:x^`,
		`create_time:>=now/d`, `create_time:log*`, `x\`,
		strings.Repeat("(", 1<<20) + "a" + strings.Repeat(")", 1<<20),
		strings.Repeat("a OR ", 2000) + "a",
	}
	for _, q := range bad {
		body, _ := json.Marshal(map[string]string{"query": q})
		status, _, out := s.do(http.MethodPost, searchURL, string(body))
		if status != http.StatusBadRequest || out["reason"] != "query_malformed_syntax" || out["message"] == "" {
			t.Errorf("%.40q: %d %v, want 400 query_malformed_syntax", q, status, out)
		}
	}
}

// An unknown field matches nothing, as in Elasticsearch, unless the simulator is told to refuse it.
func TestUnknownFields(t *testing.T) {
	for _, refuse := range []bool{false, true} {
		s := serve(t, cbcsim.Config{EventsPerDay: 100, RefuseUnknown: refuse})
		body, _ := json.Marshal(map[string]string{"query": "category:login OR actor:*"})
		status, _, out := s.do(http.MethodPost, searchURL, string(body))
		switch {
		case refuse && (status != http.StatusBadRequest || !strings.Contains(fmt.Sprint(out["message"]), "unknown field [category]")):
			t.Errorf("refusing: %d %v, want 400 naming the field", status, out)
		case !refuse && (status != http.StatusOK || out["num_found"] == float64(0)):
			t.Errorf("as Elasticsearch: %d %v, want the other clause's matches", status, out)
		}
	}
}

// Like a server, the simulator ignores what it does not know and takes the forms clients send.
func TestTolerantRequests(t *testing.T) {
	s := serve(t, cbcsim.Config{Seed: 3, EventsPerDay: 500})
	flagged := len(results(s.search(`{"criteria": {"flagged": true}, "rows": 500}`)))
	if flagged == 0 {
		t.Fatal("no flagged events to compare with")
	}
	for _, body := range []string{
		`{"criteria": {"flagged": [true]}, "rows": 500, "unknown_key": {"x": 1}}`,
		`{"criteria": {"flagged": "true"}, "rows": 500}`,
		`{"query": "flagged:true", "rows": 500}`,
	} {
		if got := len(results(s.search(body))); got != flagged {
			t.Errorf("%s: %d results, want %d", body, got, flagged)
		}
	}
	one := results(s.search(`{"criteria": {"actor": "alice.admin@acme.example"}, "rows": 100}`))
	list := results(s.search(`{"criteria": {"actor": ["alice.admin@acme.example"]}, "rows": 100}`))
	if len(one) == 0 || len(one) != len(list) {
		t.Errorf("a scalar criterion gave %d results, a list %d", len(one), len(list))
	}
	asc := results(s.search(`{"sort": [{"field": "actor", "order": "asc"}], "rows": 50}`))
	noOrder := results(s.search(`{"sort": [{"field": "actor"}], "rows": 50}`))
	if asc[0]["actor"].(string) > asc[49]["actor"].(string) {
		t.Error("a lower-case asc did not sort ascending")
	}
	for i := range asc {
		if asc[i]["actor"] != noOrder[i]["actor"] || asc[i]["create_time"] != noOrder[i]["create_time"] {
			t.Fatal("a sort without an order is not ASC")
		}
	}
	if n := len(results(s.search(`{"rows": 0}`))); n != 20 {
		t.Errorf("rows 0 gave %d results, want the default 20", n)
	}
}

// Generated events look like CBC's: some without false booleans or a null request_url, some with times in
// whole seconds.
func TestRecordsVaryLikeCBCs(t *testing.T) {
	s := serve(t, cbcsim.Config{Seed: 4, EventsPerDay: 2000})
	var sparse, dense, whole, millis int
	wholeSecond := regexp.MustCompile(`T\d\d:\d\d:\d\dZ$`)
	withMillis := regexp.MustCompile(`T\d\d:\d\d:\d\d\.\d{3}Z$`)
	for _, r := range results(s.search(`{"rows": 5000}`)) {
		if _, has := r["flagged"]; has {
			dense++
		} else {
			sparse++
		}
		switch ts := r["create_time"].(string); {
		case wholeSecond.MatchString(ts):
			whole++
		case withMillis.MatchString(ts):
			millis++
		default:
			t.Fatalf("create_time %q is not ISO-8601", ts)
		}
	}
	if sparse < 100 || dense < 1000 || whole < 50 || millis < 1000 {
		t.Errorf("%d sparse and %d full records, %d whole-second and %d millisecond times", sparse, dense, whole, millis)
	}
}

func TestRateLimitAnswersLikeCBC(t *testing.T) {
	s := serve(t, cbcsim.Config{EventsPerDay: 10, RateLimit: 1})
	s.search(`{}`)
	status, header, out := s.do(http.MethodPost, searchURL, `{}`)
	if status != http.StatusTooManyRequests || header.Get("Retry-After") == "" {
		t.Fatalf("%d, Retry-After %q", status, header.Get("Retry-After"))
	}
	if out["error_code"] != "TOO_MANY_REQUESTS" || strings.Contains(strings.ToLower(out["message"].(string)), "fault") {
		t.Errorf("429 body %v does not read like CBC's", out)
	}
}

// Export jobs end as the SDK's job model expects: progress message FINISHED, a failed job's errors a string.
func TestExportJobsLikeTheSDKExpects(t *testing.T) {
	s := serve(t, cbcsim.Config{EventsPerDay: 100})
	_, _, started := s.do(http.MethodPost, "/audit_log/v1/orgs/ABCD1234/logs/_export", `{"format": "csv"}`)
	job := "/jobs/v1/orgs/ABCD1234/jobs/" + jsonNumber(started["job_id"])
	_, _, body := s.do(http.MethodGet, job, "")
	progress := body["progress"].(map[string]any)
	if body["status"] != "COMPLETED" || progress["message"] != "FINISHED" {
		t.Errorf("job %v", body)
	}
	_, _, p := s.do(http.MethodGet, job+"/progress", "")
	if p["message"] != "FINISHED" || p["num_total"] != p["num_completed"] {
		t.Errorf("progress %v", p)
	}
	s.sim.AddFault(cbcsim.Fault{Endpoint: "export", FailJob: true, Times: 1})
	_, _, started = s.do(http.MethodPost, "/audit_log/v1/orgs/ABCD1234/logs/_export", `{"format": "json"}`)
	_, _, failed := s.do(http.MethodGet, "/jobs/v1/orgs/ABCD1234/jobs/"+jsonNumber(started["job_id"]), "")
	if _, isString := failed["errors"].(string); failed["status"] != "FAILED" || !isString {
		t.Errorf("failed job %v: errors must be a string", failed)
	}
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestLegacyNotificationsLikeCBCs(t *testing.T) {
	s := serve(t, cbcsim.Config{EventsPerDay: -1})
	s.sim.Inject(cbcsim.Event{CreateTime: grammarNow, Actor: "a@acme.example", Description: "Updated policy 'x'",
		RequestURL: "https://defense.conferdeploy.net/policies?id=4&x=a b"})
	_, _, out := s.do(http.MethodGet, "/integrationServices/v3/auditlogs", "")
	n := out["notifications"].([]any)[0].(map[string]any)
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(n["eventId"].(string)) {
		t.Errorf("eventId %q is not 32 hex digits", n["eventId"])
	}
	if n["requestUrl"] != "https://defense.conferdeploy.net/policies?id=4&x=a b" {
		t.Errorf("requestUrl %q is not as stored", n["requestUrl"])
	}
}

// Each undocumented behaviour of the real API is a mode; the defaults stay as cbc-api.md chose them.
func TestAmbiguityModes(t *testing.T) {
	t.Run("default sort", func(t *testing.T) {
		for mode, ascending := range map[string]bool{"": false, "asc": true, "desc": false} {
			rs := results(serve(t, cbcsim.Config{Seed: 5, EventsPerDay: 200, DefaultSort: mode}).search(`{"rows": 100}`))
			first, last := rs[0]["create_time"].(string), rs[len(rs)-1]["create_time"].(string)
			if (first < last) != ascending {
				t.Errorf("default sort %q: first %s, last %s", mode, first, last)
			}
		}
	})
	t.Run("end exclusive", func(t *testing.T) {
		body := `{"criteria": {"create_time": {"start": "2024-04-17T19:00:00.000Z", "end": "2024-04-17T19:00:00.500Z"}}}`
		for exclusive, want := range map[bool]int{false: 2, true: 1} {
			s := serve(t, cbcsim.Config{EventsPerDay: -1, EndExclusive: exclusive})
			s.sim.Inject(cbcsim.Event{CreateTime: time.Date(2024, 4, 17, 19, 0, 0, 0, time.UTC)},
				cbcsim.Event{CreateTime: time.Date(2024, 4, 17, 19, 0, 0, 500e6, time.UTC)})
			if got := len(results(s.search(body))); got != want {
				t.Errorf("end exclusive %v: %d results, want %d", exclusive, got, want)
			}
		}
	})
	t.Run("capped num_found", func(t *testing.T) {
		for capped, want := range map[bool]float64{false: 14000, true: 10000} {
			out := serve(t, cbcsim.Config{Records: 14000, CapNumFound: capped}).search(`{"rows": 1}`)
			if out["num_found"] != want || out["num_available"] != float64(10000) {
				t.Errorf("cap %v: num_found %v, num_available %v", capped, out["num_found"], out["num_available"])
			}
		}
	})
	t.Run("job visible after", func(t *testing.T) {
		now := grammarNow
		s := serve(t, cbcsim.Config{EventsPerDay: 10, JobVisibleAfter: time.Second, Now: func() time.Time { return now }})
		_, _, started := s.do(http.MethodPost, "/audit_log/v1/orgs/ABCD1234/logs/_export", `{"format": "csv"}`)
		job := "/jobs/v1/orgs/ABCD1234/jobs/" + jsonNumber(started["job_id"])
		if status, _, _ := s.do(http.MethodGet, job, ""); status != http.StatusNotFound {
			t.Errorf("a new job answered %d, want 404", status)
		}
		now = now.Add(time.Second)
		if status, _, _ := s.do(http.MethodGet, job, ""); status != http.StatusOK {
			t.Errorf("a job a second old answered %d", status)
		}
	})
	t.Run("download redirect", func(t *testing.T) {
		files := httptest.NewServer(http.NotFoundHandler())
		defer files.Close()
		s := serve(t, cbcsim.Config{EventsPerDay: 50, DownloadRedirect: files.URL})
		files.Config.Handler = s.sim.FileHandler()
		_, _, started := s.do(http.MethodPost, "/audit_log/v1/orgs/ABCD1234/logs/_export", `{"format": "csv"}`)
		status, header, _ := s.do(http.MethodGet, "/jobs/v1/orgs/ABCD1234/jobs/"+jsonNumber(started["job_id"])+"/download", "")
		location := header.Get("Location")
		if status != http.StatusFound || !strings.HasPrefix(location, files.URL+"/files/") {
			t.Fatalf("download answered %d to %q", status, location)
		}
		resp, err := http.Get(location)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		csv, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(csv, []byte("create_time,actor")) {
			t.Errorf("the file host answered %d: %.60s", resp.StatusCode, csv)
		}
		if s.sim.Requests("file") != 1 || s.sim.Requests("file with credentials") != 0 {
			t.Errorf("file host saw %d requests, %d with credentials", s.sim.Requests("file"), s.sim.Requests("file with credentials"))
		}
	})
	t.Run("wrong org status", func(t *testing.T) {
		for mode, want := range map[int]int{0: http.StatusNotFound, 404: http.StatusNotFound, 403: http.StatusForbidden} {
			s := serve(t, cbcsim.Config{EventsPerDay: 10, WrongOrgStatus: mode})
			if status, _, _ := s.do(http.MethodPost, "/audit_log/v1/orgs/WRONG/logs/_search", `{}`); status != want {
				t.Errorf("mode %d: %d, want %d", mode, status, want)
			}
		}
	})
}

// No query text, however odd, crashes the simulator: it answers or refuses.
func FuzzQuery(f *testing.F) {
	sim := cbcsim.New(cbcsim.Config{Seed: 1, EventsPerDay: 50, Now: func() time.Time { return grammarNow }})
	for _, example := range []string{`create_time:"2024"`, `create_time:[now/d TO now+1h}`, `description:"a b"~1`, `actor:/a.*/`, `x~1`, `f:*`} {
		f.Add(example)
	}
	f.Fuzz(func(t *testing.T, q string) {
		body, _ := json.Marshal(map[string]string{"query": q})
		_, _ = sim.Match(body)
	})
}
