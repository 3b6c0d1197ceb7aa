package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/seed/cbcauditlogs/pkg/signals"
)

// The part of docs/benchmarks.md the benchmark writes lies between these markers.
const (
	beginMarker = "<!-- benchmark results: written by scripts/bench.sh -->"
	endMarker   = "<!-- end of benchmark results -->"
)

// Targets the product promises.
const (
	maxSearchRatio  = 1.25    // plugin search time / bare pager time, inside one window
	minSDKRatio     = 5.0     // Python SDK time / plugin time
	maxPeakRSSBytes = 250e6   // plugin peak resident memory
	maxModuleBytes  = 250_000 // minified frontend module
	maxGeoIPRatio   = 1.15    // a table search with GeoIP / the same without
	maxExportRatio  = 1.1     // the plugin's export / the same job downloaded directly
	bareClient      = "bare pager"
	pluginClient    = "plugin"
	sdkClient       = "Python SDK"
	geoipClient     = "plugin with GeoIP"
	searchTask      = "search"
	tableTask       = "table"
	countTask       = "count"
	exportTask      = "export"
	signalsColdTask = "signals"
	signalsWarmTask = "signals, warm"
	// A warm evaluation of every security signal reads at most one CBC request per detection.
	maxWarmSignalsRequestsPerDetection = 1
)

type report struct {
	date        time.Time
	latency     time.Duration
	runs        int
	moduleBytes int64
	sizes       []sizeResults
	refreshes   []refreshResult
}

var taskLabels = map[string]string{
	searchTask:      "search, every record (logs frame for the plugin)",
	tableTask:       "search, every record as a table",
	countTask:       "count by category, 1 h buckets",
	exportTask:      "CSV export",
	signalsColdTask: "every security signal, 7 days and the baseline before",
	signalsWarmTask: "every security signal again, baseline cached",
}

func (r *report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %d CPU cores (%s/%s%s, %s); simulator latency %s a request; median of %d runs.\n\n",
		r.date.UTC().Format("2006-01-02"), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, cpuModel(), runtime.Version(), r.latency, r.runs)
	b.WriteString("| Records | Task | Client | Median | Requests | Plugin peak RSS | Compared |\n")
	b.WriteString("|--:|---|---|--:|--:|--:|---|\n")
	for _, size := range r.sizes {
		for _, row := range size.rows {
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %d | %s | %s |\n", size.records, taskLabels[row.task], row.client,
				seconds(row.median()), row.requests, megabytes(row.peakRSS), size.compared(row))
		}
	}
	if len(r.refreshes) > 0 {
		fmt.Fprintf(&b, "\nDashboard refresh: the %d panels of the provisioned dashboard over the last 7 days, a first load, then %d refreshes a simulated minute apart (new events arriving), answered without and with the history cache, each path in a process of its own over the same minutes.\n\n",
			r.refreshes[0].Panels, len(r.refreshes[0].Paths[cachedPath].Times)-1)
		b.WriteString("| Records | Path | First load | Requests | Per refresh (median) | Requests per refresh (mean) | Plugin peak RSS |\n")
		b.WriteString("|--:|---|--:|--:|--:|--:|--:|\n")
		for _, res := range r.refreshes {
			for _, path := range []string{uncachedPath, cachedPath} {
				p := res.Paths[path]
				fmt.Fprintf(&b, "| %d | %s | %s | %d | %s | %.1f | %s |\n", res.Records, path, seconds(p.Times[0]), p.Requests[0],
					seconds(medianOf(p.Times[1:])), meanOf(p.Requests[1:]), megabytes(p.PeakRSS))
			}
		}
	}
	b.WriteString("\n| Target | Records | Measured | Verdict |\n|---|--:|---|---|\n")
	for _, t := range r.targets() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", t.name, t.records, t.measured, t.verdict)
	}
	return b.String()
}

// compared says how a row relates to its baseline: the bare pager's search for the plugin's search and count
// (both read every record), the plugin doing the same task for the SDK.
func (results sizeResults) compared(r row) string {
	if r.note != "" {
		return "incomplete: " + shorten(r.note, 120)
	}
	switch {
	case r.client == bareClient:
		return "baseline"
	case r.task == signalsColdTask:
		return fmt.Sprintf("%d findings", r.records)
	case r.task == signalsWarmTask:
		if cold, ok := results.find(signalsColdTask, pluginClient); ok {
			return fmt.Sprintf("%d findings; %.2f× the cold evaluation", r.records, ratio(r.measurement, cold))
		}
	case r.client == pluginClient && r.task == exportTask:
		if direct, ok := results.find(exportTask, bareClient); ok {
			return fmt.Sprintf("%.2f× the direct download", ratio(r.measurement, direct))
		}
	case r.client == pluginClient:
		if bare, ok := results.find(searchTask, bareClient); ok {
			return fmt.Sprintf("%.2f× the bare pager", ratio(r.measurement, bare))
		}
	case r.client == geoipClient:
		if plain, ok := results.find(r.task, pluginClient); ok {
			return fmt.Sprintf("%.2f× the plugin without GeoIP", ratio(r.measurement, plain))
		}
	case r.client == sdkClient:
		if plugin, ok := results.find(r.task, pluginClient); ok {
			return fmt.Sprintf("%.2f× the plugin", ratio(r.measurement, plugin))
		}
	}
	return ""
}

type target struct{ name, records, measured, verdict string }

func (r *report) targets() []target {
	var out []target
	for _, s := range r.sizes {
		records := fmt.Sprint(s.records)
		plugin, _ := s.find(searchTask, pluginClient)
		bare, _ := s.find(searchTask, bareClient)
		x := ratio(plugin, bare)
		if s.records <= pageRows {
			t := target{fmt.Sprintf("plugin search ≤ %.2f× the bare pager", maxSearchRatio), records, fmt.Sprintf("%.2f×", x), "met"}
			if x > maxSearchRatio {
				t.verdict = fmt.Sprintf("missed by %.0f%%", (x/maxSearchRatio-1)*100)
			}
			out = append(out, t)
		} else {
			t := target{"plugin's concurrent parts faster than the sequential pager", records, fmt.Sprintf("%.2f×", x), "met"}
			if x >= 1 {
				t.verdict = fmt.Sprintf("missed: %.2f× the pager's time", x)
			}
			out = append(out, t)
		}
		if geo, ok := s.find(tableTask, geoipClient); ok {
			plain, _ := s.find(tableTask, pluginClient)
			y := ratio(geo, plain)
			t := target{fmt.Sprintf("GeoIP enrichment adds < %.0f%% to a table search", (maxGeoIPRatio-1)*100), records, fmt.Sprintf("%+.1f%%", (y-1)*100), "met"}
			if y > maxGeoIPRatio {
				t.verdict = fmt.Sprintf("missed: %+.1f%%", (y-1)*100)
			}
			out = append(out, t)
		}
		if direct, ok := s.find(exportTask, bareClient); ok {
			mine, _ := s.find(exportTask, pluginClient)
			y := ratio(mine, direct)
			t := target{fmt.Sprintf("plugin's export ≤ %.1f× the direct download of the same job", maxExportRatio), records, fmt.Sprintf("%.2f×", y), "met"}
			if y > maxExportRatio {
				t.verdict = fmt.Sprintf("missed: %.2f×", y)
			}
			out = append(out, t)
		}
		if warm, ok := s.find(signalsWarmTask, pluginClient); ok {
			most := maxWarmSignalsRequestsPerDetection * len(signals.Detections())
			t := target{fmt.Sprintf("a warm evaluation of the %d security signals costs ≤ %d CBC requests", len(signals.Detections()), most),
				records, fmt.Sprintf("%d requests", warm.requests), "met"}
			if warm.requests > most {
				t.verdict = fmt.Sprintf("missed: %d requests", warm.requests)
			}
			out = append(out, t)
		}
		// The SDK's search only: an export waits for CBC's job whoever asks, so its ratio promises nothing.
		sdk, okSDK := s.find(searchTask, sdkClient)
		if mine, okMine := s.find(searchTask, pluginClient); okSDK && okMine {
			t := target{fmt.Sprintf("plugin ≥ %.0f× faster than the Python SDK (search)", minSDKRatio), records, "", "met"}
			switch y := ratio(sdk, mine); {
			case sdk.note != "":
				t.measured = fmt.Sprintf("the SDK got %d of %d records in %s", sdk.records, s.records, seconds(sdk.median()))
				t.verdict = "no ratio: the SDK cannot finish"
			case y < minSDKRatio:
				t.measured = fmt.Sprintf("%.2f×", y)
				t.verdict = fmt.Sprintf("missed: only %.2f×", y)
			default:
				t.measured = fmt.Sprintf("%.1f×", y)
			}
			out = append(out, t)
		}
		var peak int64
		for _, row := range s.rows {
			peak = max(peak, row.peakRSS)
		}
		t := target{fmt.Sprintf("plugin peak memory < %s", megabytes(maxPeakRSSBytes)), records, megabytes(peak), "met"}
		if peak >= maxPeakRSSBytes {
			t.verdict = fmt.Sprintf("missed by %s", megabytes(peak-maxPeakRSSBytes))
		}
		out = append(out, t)
	}
	out = append(out, r.refreshTargets()...)
	t := target{fmt.Sprintf("module.js < %d kB minified", maxModuleBytes/1000), "", fmt.Sprintf("%.1f kB", float64(r.moduleBytes)/1000), "met"}
	if r.moduleBytes >= maxModuleBytes {
		t.verdict = fmt.Sprintf("missed by %.1f kB", float64(r.moduleBytes-maxModuleBytes)/1000)
	}
	return append(out, t)
}

// Targets of the dashboard refresh scenario.
const (
	minRefreshSpeedup     = 10.0    // today's refresh time / the cached refresh time, from minSpeedupRecords on
	minSpeedupRecords     = 200_000 // below, the speedup is printed but not judged
	maxRefreshPeakRSS     = 250e6
	maxRequestsPerPanel   = 1.0 // CBC requests per panel per refresh after the first load, on average
	todayRequestsReported = "today's path"
)

func (r *report) refreshTargets() []target {
	var out []target
	for _, res := range r.refreshes {
		records := fmt.Sprint(res.Records)
		cachedRun, todayRun := res.Paths[cachedPath], res.Paths[uncachedPath]
		cached, today := meanOf(cachedRun.Requests[1:]), meanOf(todayRun.Requests[1:])
		t := target{fmt.Sprintf("a refresh costs ≤ %.0f CBC request per panel (%d panels)", maxRequestsPerPanel, res.Panels), records,
			fmt.Sprintf("%.1f requests (%s: %.1f)", cached, todayRequestsReported, today), "met"}
		if cached > maxRequestsPerPanel*float64(res.Panels) {
			t.verdict = fmt.Sprintf("missed: %.1f requests a panel", cached/float64(res.Panels))
		}
		out = append(out, t)
		speedup := float64(medianOf(todayRun.Times[1:])) / float64(max(1, medianOf(cachedRun.Times[1:])))
		t = target{fmt.Sprintf("a cached refresh ≥ %.0f× faster than %s", minRefreshSpeedup, todayRequestsReported), records, fmt.Sprintf("%.1f×", speedup), "met"}
		switch {
		case res.Records < minSpeedupRecords:
			t.verdict = fmt.Sprintf("judged from %d records", minSpeedupRecords)
		case speedup < minRefreshSpeedup:
			t.verdict = fmt.Sprintf("missed: only %.1f×", speedup)
		}
		out = append(out, t)
		t = target{"cached answers identical to uncached ones in every refresh", records, "all identical", "met"}
		if len(res.Differ) > 0 {
			t.measured = fmt.Sprintf("%d differ: %s", len(res.Differ), shorten(strings.Join(res.Differ, ", "), 120))
			t.verdict = "missed"
		}
		out = append(out, t)
		t = target{fmt.Sprintf("plugin peak memory with the cache warm < %s", megabytes(maxRefreshPeakRSS)), records, megabytes(cachedRun.PeakRSS), "met"}
		if cachedRun.PeakRSS >= maxRefreshPeakRSS {
			t.verdict = fmt.Sprintf("missed by %s", megabytes(cachedRun.PeakRSS-maxRefreshPeakRSS))
		}
		out = append(out, t)
	}
	return out
}

func medianOf(times []time.Duration) time.Duration {
	if len(times) == 0 {
		return 0
	}
	return measurement{times: times}.median()
}

func meanOf(counts []int) float64 {
	if len(counts) == 0 {
		return 0
	}
	sum := 0
	for _, n := range counts {
		sum += n
	}
	return float64(sum) / float64(len(counts))
}

// misses lists the targets not met, for the summary line; a target the SDK cannot be measured against is
// not a miss.
func (r *report) misses() []string {
	var out []string
	for _, t := range r.targets() {
		if t.verdict != "met" && !strings.HasPrefix(t.verdict, "no ratio") && !strings.HasPrefix(t.verdict, "judged from") {
			out = append(out, fmt.Sprintf("%s at %s records: %s", t.name, t.records, t.verdict))
		}
	}
	return out
}

// writeInto replaces the text between the file's benchmark markers with the results.
func (r *report) writeInto(path string) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	begin := bytes.Index(doc, []byte(beginMarker))
	end := bytes.Index(doc, []byte(endMarker))
	if begin < 0 || end < begin {
		return fmt.Errorf("%s has no %q … %q section to write into", path, beginMarker, endMarker)
	}
	var out bytes.Buffer
	out.Write(doc[:begin+len(beginMarker)])
	out.WriteString("\n" + r.markdown())
	out.Write(doc[end:])
	return os.WriteFile(path, out.Bytes(), 0o644)
}

// ratio is the median of a's time over b's, run by run: the runs took turns, so each pair shared the
// machine's state at that moment, and the pairing cancels most of its noise.
func ratio(a, b measurement) float64 {
	n := min(len(a.times), len(b.times))
	if n == 0 {
		return 0
	}
	ratios := make([]float64, n)
	for i := range n {
		ratios[i] = a.times[i].Seconds() / b.times[i].Seconds()
	}
	slices.Sort(ratios)
	return ratios[n/2]
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3g s", d.Seconds()) }

func megabytes(n int64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%.0f MB", float64(n)/1e6)
}

func shorten(s string, n int) string {
	s = strings.ReplaceAll(strings.Join(strings.Fields(s), " "), "|", "/")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// cpuModel is the processor's name from /proc/cpuinfo, where there is one.
func cpuModel() string {
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(info), "\n") {
		if name, ok := strings.CutPrefix(line, "model name"); ok {
			return ", " + strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
		}
	}
	return ""
}
