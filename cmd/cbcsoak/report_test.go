package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A short run fails on what it can judge (a lost event, an error of our own), and leaves slopes unjudged; a
// long one judges them too.
func TestShortRunsJudgeOnlyWhatTheyCan(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	growing := func(n int) []sample {
		var out []sample
		for i := range n {
			out = append(out, sample{at: at.Add(time.Duration(i) * 10 * time.Second), rssBytes: int64(100+i) << 20, goroutines: 40, requests: i * 10})
		}
		return out
	}
	lat := &latencies{}
	lat.add("dashboard panel, refresh", 20*time.Millisecond)
	short := &result{took: 2 * time.Minute, samples: growing(12), lat: lat, lost: 1, deliveries: 10, peakRSS: 120 << 20}
	misses := strings.Join(short.misses(), "; ")
	if !strings.Contains(misses, "no live event lost") || strings.Contains(misses, "RSS") {
		t.Errorf("a short run with a lost event and growing memory misses %q", misses)
	}
	long := &result{took: 15 * time.Minute, samples: growing(90), lat: lat, deliveries: 10, peakRSS: 120 << 20}
	if misses := strings.Join(long.misses(), "; "); !strings.Contains(misses, "RSS flat") || strings.Contains(misses, "lost") {
		t.Errorf("a long run whose memory grows 6 MB a minute misses %q", misses)
	}
	if got := long.mostIn5Minutes(); got != 300 {
		t.Errorf("the busiest 5 minutes hold %d requests, want 300", got)
	}
}

func TestWriteIntoReplacesOnlyTheMarkedSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "doc.md")
	if err := os.WriteFile(path, []byte("before\n"+beginMarker+"\nold\n"+endMarker+"\nafter\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeInto(path, "new"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if want := "before\n" + beginMarker + "\nnew\n" + endMarker + "\nafter\n"; string(got) != want {
		t.Errorf("got %q", got)
	}
}
