package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/seed/cbcauditlogs/pkg/cbcsim"
	"github.com/seed/cbcauditlogs/pkg/plugin"
	"github.com/seed/cbcauditlogs/pkg/plugintest"
)

// The "dashboard refresh" scenario: the provisioned dashboard's panels over the last 7 days, a first load and
// then refreshes a minute apart on a simulated clock, each refresh answered by the plugin without its history
// cache (today's path before it) and with it, in turns. It runs in a child process of its own, so that the
// peak memory measured is the plugin's: the plugin's code with the driver of its queries, nothing else.

// refreshPath names the two ways through the plugin.
const (
	uncachedPath = "without history cache"
	cachedPath   = "with history cache"
)

// refreshResult is the scenario at one history size.
type refreshResult struct {
	Records int
	Panels  int
	Paths   map[string]pathResult
	Differ  []string // panels whose answers differed between the paths, by refresh
}

// pathResult is what a child reports for one path.
type pathResult struct {
	Requests []int           // CBC requests of each refresh, the first load first
	Times    []time.Duration // wall time of each refresh
	Answers  [][]answer      // each refresh's answer of each panel
	PeakRSS  int64           // the child's peak resident memory
}

// answer sums up a panel's frames: a digest that two equal answers share, and what a reader can compare.
type answer struct{ Digest, Summary string }

// measureRefresh runs the scenario at n records against a simulator of its own: a child process for each path,
// over the same simulated minutes. The first child adds each minute's events; the second finds them there, and
// since each refresh's range ends at its own minute, both see the same events at every refresh.
func measureRefresh(n int, cfg config, simBinary string) (refreshResult, error) {
	sim, err := startBenchSimulator(simBinary, n, cfg.latency)
	if err != nil {
		return refreshResult{}, err
	}
	defer sim.Stop()
	self, err := os.Executable()
	if err != nil {
		return refreshResult{}, err
	}
	start := time.Now().UTC().Format(time.RFC3339Nano)
	res := refreshResult{Records: n, Paths: map[string]pathResult{}}
	for i, path := range []string{uncachedPath, cachedPath} {
		cmd := exec.Command(self, "-refresh-worker", sim.URL, "-refresh-path", path, "-refresh-start", start, fmt.Sprintf("-refresh-inject=%v", i == 0),
			"-records", fmt.Sprint(n), "-refreshes", fmt.Sprint(cfg.refreshes), "-dashboard", cfg.dashboard, "-geoip", cfg.geoip)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return refreshResult{}, fmt.Errorf("the refresh worker %s: %w", path, err)
		}
		var pr pathResult
		if err := json.Unmarshal(out, &pr); err != nil {
			return refreshResult{}, fmt.Errorf("the refresh worker's report: %w", err)
		}
		res.Paths[path] = pr
		if len(pr.Answers) > 0 {
			res.Panels = len(pr.Answers[0])
		}
	}
	today, cached := res.Paths[uncachedPath].Answers, res.Paths[cachedPath].Answers
	for i := range min(len(today), len(cached)) {
		for p := range today[i] {
			if today[i][p].Digest != cached[i][p].Digest {
				res.Differ = append(res.Differ, fmt.Sprintf("refresh %d, panel %d (%s against %s)", i, p+1, cached[i][p].Summary, today[i][p].Summary))
			}
		}
	}
	return res, nil
}

// refreshJob is one child's work.
type refreshJob struct {
	simURL, path, dashboard string
	geoip                   string // the GeoIP City database, for the dashboard's map and counts by country
	records, refreshes      int
	start                   time.Time
	inject                  bool
}

// refreshWorker is the child: it prints a pathResult as JSON.
func refreshWorker(job refreshJob) error {
	panels, err := dashboardPanels(job.dashboard)
	if err != nil {
		return err
	}
	backend.Logger = log.NewWithLevel(log.Warn) // the plugin's debug log of every request would drown the report
	now := job.start
	var clockMu sync.Mutex
	clock := func() time.Time {
		clockMu.Lock()
		defer clockMu.Unlock()
		return now
	}
	factory := plugin.NewFactory(prometheus.NewRegistry())
	factory.Now = clock
	settings, _ := json.Marshal(map[string]any{"region": "custom", "url": job.simURL, "allowInsecureHttp": true, "orgKey": orgKey, "apiId": apiID,
		"disableHistoryCache": job.path == uncachedPath, "requestBudget": 1_000_000, "geoipCityDatabase": job.geoip})
	inst, err := factory.NewDatasource(context.Background(), backend.DataSourceInstanceSettings{UID: "refresh", JSONData: settings,
		DecryptedSecureJSONData: map[string]string{"apiSecret": apiSecret}})
	if err != nil {
		return err
	}
	ds := inst.(backend.QueryDataHandler)
	stats := simStats{url: job.simURL}
	var res pathResult
	perMinute := max(1, job.records/(7*24*60))
	for i := 0; i <= job.refreshes; i++ {
		if i > 0 {
			clockMu.Lock()
			now = now.Add(time.Minute)
			clockMu.Unlock()
			if job.inject {
				if err := injectMinute(job.simURL, now, perMinute, i); err != nil {
					return err
				}
			}
		}
		before, err := stats.requests()
		if err != nil {
			return err
		}
		started := time.Now()
		answers, err := runPanels(ds, panels, now)
		took := time.Since(started)
		if err != nil {
			return fmt.Errorf("%s, refresh %d: %w", job.path, i, err)
		}
		after, err := stats.requests()
		if err != nil {
			return err
		}
		res.Requests = append(res.Requests, after-before)
		res.Times = append(res.Times, took)
		res.Answers = append(res.Answers, answers)
		logf("%d records, %s, refresh %d: %s, %d requests", job.records, job.path, i, seconds(took), after-before)
	}
	// VmHWM, not getrusage: the peak of this program alone, not of the benchmark it was forked from.
	if res.PeakRSS, err = plugintest.PeakRSS(os.Getpid()); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// dashboardPanels reads the dashboard's panel queries with every variable at All.
func dashboardPanels(path string) ([]json.RawMessage, error) {
	targets, err := plugintest.DashboardQueries(path)
	if err != nil {
		return nil, err
	}
	all := strings.NewReplacer("$actor_ip", "*", "$actor", "*")
	var panels []json.RawMessage
	for _, target := range targets {
		if q, ok := target["query"].(string); ok {
			target["query"] = all.Replace(q)
		}
		body, _ := json.Marshal(target)
		panels = append(panels, body)
	}
	return panels, nil
}

// runPanels sends each panel's query as Grafana does on a refresh: one request per panel, all at once, over
// the last 7 days, and returns each answer in a canonical form.
func runPanels(ds backend.QueryDataHandler, panels []json.RawMessage, now time.Time) ([]answer, error) {
	answers := make([]answer, len(panels))
	errs := make([]error, len(panels))
	var wg sync.WaitGroup
	for i, body := range panels {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var model struct{ QueryType string }
			_ = json.Unmarshal(body, &model)
			resp, err := ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{{
				RefID: "A", QueryType: model.QueryType, JSON: body, Interval: 10 * time.Minute, MaxDataPoints: 1000,
				TimeRange: backend.TimeRange{From: now.Add(-7 * 24 * time.Hour), To: now},
			}}})
			if err == nil {
				err = resp.Responses["A"].Error
			}
			if err != nil {
				errs[i] = fmt.Errorf("panel %d: %w", i+1, err)
				return
			}
			answers[i] = summarize(resp.Responses["A"].Frames)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return answers, nil
}

// summarize sums up frames. Rows are sorted for the digest, because records of the same millisecond may come
// in any order (CBC does not say how it orders them).
func summarize(frames data.Frames) answer {
	h := sha256.New()
	rowCount, sum := 0, 0.0
	for _, f := range frames {
		rowCount += f.Rows()
		if last := f.Fields[len(f.Fields)-1]; last.Type().Numeric() {
			for i := range last.Len() {
				v, _ := last.FloatAt(i)
				sum += v
			}
		}
		rows := make([]string, f.Rows())
		for i := range rows {
			var row strings.Builder
			for _, field := range f.Fields {
				v, _ := field.ConcreteAt(i) // the value, not the address, of a nullable one
				fmt.Fprint(&row, v, "\t")
			}
			rows[i] = row.String()
		}
		slices.Sort(rows)
		notices := ""
		if f.Meta != nil {
			notices = fmt.Sprint(f.Meta.Notices)
		}
		fmt.Fprintf(h, "%s %s %s\n%s\n", f.Name, fmt.Sprint(f.Fields[len(f.Fields)-1].Labels), notices, strings.Join(rows, "\n"))
	}
	return answer{Digest: hex.EncodeToString(h.Sum(nil)), Summary: fmt.Sprintf("%d frames, %d rows, sum %.0f", len(frames), rowCount, sum)}
}

// injectMinute adds the events of the minute before now, as many as the history holds a minute on average.
func injectMinute(simURL string, now time.Time, n, minute int) error {
	events := make([]cbcsim.Event, n)
	for i := range events {
		at := now.Add(-time.Minute).Add(time.Duration(i) * time.Minute / time.Duration(n)).Add(time.Duration(minute) * time.Millisecond)
		events[i] = cbcsim.Event{CreateTime: at, Actor: fmt.Sprintf("analyst%d@acme.example", i%9), ActorIP: fmt.Sprintf("198.51.100.%d", i%13),
			Description: []string{"Logged in successfully", "Login failed for user", "Updated policy 'Standard'"}[i%3]}
	}
	body, _ := json.Marshal(events)
	resp, err := http.Post(simURL+"/_sim/events", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("inject events: %s", resp.Status)
	}
	return nil
}
