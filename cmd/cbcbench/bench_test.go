package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func runs(ms ...int) measurement {
	var m measurement
	for _, v := range ms {
		m.times = append(m.times, time.Duration(v)*time.Millisecond)
	}
	return m
}

// Each target gets a verdict from the measurements, and a miss says by how much.
func TestTargetsJudgeTheMeasurements(t *testing.T) {
	small := sizeResults{records: 10000}
	small.add(searchTask, bareClient, runs(100, 100, 100))
	small.add(searchTask, pluginClient, measurement{times: runs(130, 140, 120).times, peakRSS: 80e6})
	small.add(searchTask, sdkClient, runs(2000, 2000, 2000))
	large := sizeResults{records: 200000}
	large.add(searchTask, bareClient, runs(1000, 1000, 1000))
	large.add(searchTask, pluginClient, measurement{times: runs(900, 800, 950).times, peakRSS: 300e6})
	large.add(searchTask, sdkClient, measurement{times: runs(5000).times, records: 10000, note: "400 at the window"})
	r := &report{sizes: []sizeResults{small, large}, moduleBytes: 30_000}

	verdicts := map[string]string{}
	for _, target := range r.targets() {
		verdicts[target.records+" "+target.name] = target.measured + " → " + target.verdict
	}
	for key, want := range map[string]string{
		"10000 plugin search ≤ 1.25× the bare pager":                        "1.30× → missed by 4%",
		"200000 plugin's concurrent parts faster than the sequential pager": "0.90× → met",
		"10000 plugin ≥ 5× faster than the Python SDK (search)":             "15.4× → met",
		"200000 plugin ≥ 5× faster than the Python SDK (search)":            "the SDK got 10000 of 200000 records in 5 s → no ratio: the SDK cannot finish",
		"200000 plugin peak memory < 250 MB":                                "300 MB → missed by 50 MB",
		"10000 plugin peak memory < 250 MB":                                 "80 MB → met",
		" module.js < 250 kB minified":                                      "30.0 kB → met",
	} {
		if got := verdicts[key]; got != want {
			t.Errorf("%s: %q, want %q", key, got, want)
		}
	}
	if misses := r.misses(); len(misses) != 2 {
		t.Errorf("misses %q, want the search ratio and the memory", misses)
	}
}

// The page keeps everything outside its benchmark markers; between them, the newest results.
func TestWriteIntoReplacesOnlyTheMarkedSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "benchmarks.md")
	old := "# Title\n\n" + beginMarker + "\nold table\n" + endMarker + "\n\nAfter.\n"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &report{date: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), runs: 3, latency: 25 * time.Millisecond}
	if err := r.writeInto(path); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	text := string(got)
	if strings.Contains(text, "old table") || !strings.HasPrefix(text, "# Title\n\n"+beginMarker+"\nMeasured 2026-11-26") ||
		!strings.HasSuffix(text, endMarker+"\n\nAfter.\n") {
		t.Errorf("the page after writing:\n%s", text)
	}
	if err := r.writeInto(filepath.Join(t.TempDir(), "none.md")); err == nil {
		t.Error("writing into a missing page succeeded")
	}
}

// The bare pager reads num_found without decoding the body, and splits spans into adjacent slices.
func TestBarePagerHelpers(t *testing.T) {
	if n, err := numFound([]byte(`{"num_found": 12345,"num_available":10000,"results":[]}`)); err != nil || n != 12345 {
		t.Errorf("numFound %d, %v", n, err)
	}
	if _, err := numFound([]byte(`{"results":[]}`)); err == nil {
		t.Error("a body without num_found was read")
	}
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	span := timeSpan{from, from.Add(999 * time.Millisecond)}
	parts := span.split(3)
	if len(parts) != 3 || !parts[0].from.Equal(span.from) || !parts[2].to.Equal(span.to) {
		t.Fatalf("split %v", parts)
	}
	for i := 1; i < len(parts); i++ {
		if !parts[i].from.Equal(parts[i-1].to.Add(time.Millisecond)) {
			t.Errorf("slices %d and %d are not adjacent: %v", i-1, i, parts)
		}
	}
}
