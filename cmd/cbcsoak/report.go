package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"
)

// Targets the soak holds the plugin to.
const (
	requestBudget   = 600 // the data source's default request budget, per 5 minutes
	maxRSSSlope     = 1.0 // MB per 10 minutes, after warm-up
	maxPeakRSSBytes = 300 << 20
	maxGoroutineGap = 20 // goroutines after warm-up may wander this far, no further
	maxCachedP95    = 200 * time.Millisecond
	judgedFrom      = 10 * time.Minute // slopes mean nothing over a shorter run
)

type result struct {
	cfg                       config
	took, settled             time.Duration
	samples                   []sample
	lat                       *latencies
	injected                  map[string]int
	own429, proxied           int
	injectedErrors, ownErrors map[string]int
	lost, doubled, deliveries int
	peakRSS                   int64
	countRules, signalRules   int
}

type target struct {
	name, measured, verdict string
	hard                    bool // missed, it fails even a short run
}

// warm is the samples after the first third of the run, when every viewer has loaded and caches are full.
func (r *result) warm() []sample { return r.samples[len(r.samples)/3:] }

// mostIn5Minutes is the most CBC requests in any 5 minutes (or the whole run, when shorter).
func (r *result) mostIn5Minutes() int {
	most := 0
	for i, a := range r.samples {
		for _, b := range r.samples[i:] {
			if b.at.Sub(a.at) <= 5*time.Minute {
				most = max(most, b.requests-a.requests)
			}
		}
	}
	return most
}

func (r *result) targets() []target {
	long := r.took >= judgedFrom
	verdict := func(ok bool, hard bool) string {
		switch {
		case ok:
			return "met"
		case hard || long:
			return "missed"
		}
		return "not judged: the run is shorter than " + judgedFrom.String()
	}
	var out []target
	most := r.mostIn5Minutes()
	out = append(out, target{"CBC requests within the data source's budget, none refused for our pace",
		fmt.Sprintf("%d in the busiest 5 minutes (budget %d); %d answered 429 by CBC itself", most, requestBudget, r.own429),
		verdict(most <= requestBudget && r.own429 == 0, true), true})
	out = append(out, target{"no live event lost or duplicated", fmt.Sprintf("%d lost, %d duplicated of %d deliveries", r.lost, r.doubled, r.deliveries),
		verdict(r.lost == 0 && r.doubled == 0 && r.deliveries > 0, true), true})
	own := 0
	for _, n := range r.ownErrors {
		own += n
	}
	out = append(out, target{"no error but injected faults and their consequences", fmt.Sprintf("%d of our own", own), verdict(own == 0, true), true})
	warm := r.warm()
	rss := slope(warm, func(s sample) float64 { return float64(s.rssBytes) / (1 << 20) }) * 10
	// The caches grow by design until their bounds: their slope tells filling from a leak.
	caches := slope(warm, func(s sample) float64 { return float64(s.cacheBytes) / (1 << 20) }) * 10
	out = append(out, target{fmt.Sprintf("RSS flat (under %.0f MB per 10 min after warm-up) and under %d MB", maxRSSSlope, maxPeakRSSBytes>>20),
		fmt.Sprintf("%+.1f MB per 10 min; peak %d MB (the caches: %+.1f MB per 10 min)", rss, r.peakRSS>>20, caches),
		verdict(rss < maxRSSSlope && r.peakRSS < maxPeakRSSBytes, false), false})
	low, high := 1<<30, 0
	for _, s := range warm {
		low, high = min(low, s.goroutines), max(high, s.goroutines)
	}
	out = append(out, target{"goroutines flat after warm-up", fmt.Sprintf("%d to %d", low, high), verdict(len(warm) > 0 && high-low <= maxGoroutineGap, false), false})
	p95, n := r.lat.percentile("dashboard panel, refresh", 95)
	out = append(out, target{fmt.Sprintf("p95 of a cached dashboard panel under %s", maxCachedP95), fmt.Sprintf("%s over %d panels", p95.Round(time.Millisecond), n),
		verdict(n > 0 && p95 < maxCachedP95, false), false})
	return out
}

func (r *result) misses() []string {
	var out []string
	for _, t := range r.targets() {
		if t.verdict == "missed" {
			out = append(out, t.name+": "+t.measured)
		}
	}
	return out
}

func (r *result) markdown() string {
	var b strings.Builder
	faults := 0
	var kinds []string
	for _, k := range faultKinds {
		faults += r.injected[k]
		kinds = append(kinds, fmt.Sprintf("%s %d", k, r.injected[k]))
	}
	fmt.Fprintf(&b, "Soaked %s on %d CPU cores (%s): %d dashboards refreshing every 30 s, %d live queue panels, %d count alert rules every minute and %d security signals' every 5 minutes, %d users in Explore; the proxy spoiled %d of %d CBC requests (%s); the drain settled %s after the load.\n\n",
		r.took.Round(time.Second), runtime.NumCPU(), time.Now().UTC().Format("2006-01-02"), r.cfg.viewers, r.cfg.subscribers, r.countRules, r.signalRules, r.cfg.users,
		faults, r.proxied, strings.Join(kinds, ", "), r.settled.Round(time.Second))
	b.WriteString("| Query | Count | p50 | p95 | p99 |\n|---|--:|--:|--:|--:|\n")
	for _, kind := range r.lat.kinds() {
		p50, n := r.lat.percentile(kind, 50)
		p95, _ := r.lat.percentile(kind, 95)
		p99, _ := r.lat.percentile(kind, 99)
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s |\n", kind, n, p50.Round(time.Millisecond), p95.Round(time.Millisecond), p99.Round(time.Millisecond))
	}
	b.WriteString("\n| Errors | Count |\n|---|--:|\n")
	for _, group := range []struct {
		name   string
		counts map[string]int
	}{{"explained by an injected fault", r.injectedErrors}, {"of our own", r.ownErrors}} {
		keys := make([]string, 0, len(group.counts))
		for k := range group.counts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) == 0 {
			fmt.Fprintf(&b, "| %s | 0 |\n", group.name)
		}
		for _, k := range keys {
			fmt.Fprintf(&b, "| %s: %s | %d |\n", group.name, strings.ReplaceAll(k, "|", "/"), group.counts[k])
		}
	}
	b.WriteString("\n| Target | Measured | Verdict |\n|---|---|---|\n")
	for _, t := range r.targets() {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", t.name, t.measured, t.verdict)
	}
	return b.String()
}

// The part of the doc the soak writes lies between these markers.
const (
	beginMarker = "<!-- soak results: written by cmd/cbcsoak -doc -->"
	endMarker   = "<!-- end of soak results -->"
)

func writeInto(path, text string) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	begin, end := bytes.Index(doc, []byte(beginMarker)), bytes.Index(doc, []byte(endMarker))
	if begin < 0 || end < begin {
		return fmt.Errorf("%s has no soak markers", path)
	}
	out := append([]byte{}, doc[:begin+len(beginMarker)]...)
	out = append(out, "\n"+text+"\n"...)
	out = append(out, doc[end:]...)
	return os.WriteFile(path, out, 0o644)
}
