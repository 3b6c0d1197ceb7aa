package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// latencies are the times of every query, by kind.
type latencies struct {
	mu     sync.Mutex
	byKind map[string][]time.Duration
}

func (l *latencies) add(kind string, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byKind == nil {
		l.byKind = map[string][]time.Duration{}
	}
	l.byKind[kind] = append(l.byKind[kind], d)
}

// percentile is the p-th percentile (0–100) of kind's times, and how many there are.
func (l *latencies) percentile(kind string, p float64) (time.Duration, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	times := slices.Clone(l.byKind[kind])
	if len(times) == 0 {
		return 0, 0
	}
	slices.Sort(times)
	return times[min(len(times)-1, int(p/100*float64(len(times))))], len(times)
}

func (l *latencies) kinds() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for k := range l.byKind {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// errorLog counts the errors queries met, told apart: those an injected fault explains, and our own.
type errorLog struct {
	mu       sync.Mutex
	injected map[string]int
	own      map[string]int
}

// faultTraces are what an injected fault leaves in an error that reaches a panel: the status, the timeout,
// the reset or the cut-short body, as the plugin words them.
var faultTraces = []string{"429", "Rate limit", "503", "504", "502", "temporarily", "timed out", "timeout", "deadline exceeded",
	"reset", "EOF", "cut short", "malformed", "not valid JSON", "server error", "Bad Gateway", "connection"}

func (e *errorLog) add(kind string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.injected == nil {
		e.injected, e.own = map[string]int{}, map[string]int{}
	}
	text := err.Error()
	key := kind + ": " + shorten(text, 140)
	if strings.Contains(text, "request budget") { // the plugin's own pace, whatever the proxy did
		e.own[key]++
		return
	}
	for _, trace := range faultTraces {
		if strings.Contains(text, trace) {
			e.injected[key]++
			return
		}
	}
	e.own[key]++
}

func (e *errorLog) counts() (injected, own map[string]int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return clone(e.injected), clone(e.own)
}

func clone(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// liveLog keeps what each live panel was shown: its first answer and every streamed row, counted by event.
type liveLog struct {
	mu     sync.Mutex
	panels []*livePanel
}

type livePanel struct {
	mu     sync.Mutex
	opened time.Time // the time of its first answer: every event created after must reach it once
	shown  map[string]int
}

func (l *liveLog) open(at time.Time) *livePanel {
	p := &livePanel{opened: at, shown: map[string]int{}}
	l.mu.Lock()
	l.panels = append(l.panels, p)
	l.mu.Unlock()
	return p
}

// add counts the rows of a logs frame: time, body, severity, id, labels.
func (p *livePanel) add(f *data.Frame) {
	if len(f.Fields) < 5 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range f.Rows() {
		at, _ := f.Fields[0].At(i).(time.Time)
		body, _ := f.Fields[1].At(i).(string)
		var labels struct {
			Actor   string `json:"actor"`
			ActorIP string `json:"actor_ip"`
		}
		raw, _ := f.Fields[4].At(i).(json.RawMessage)
		_ = json.Unmarshal(raw, &labels)
		p.shown[eventKey(at, labels.Actor, labels.ActorIP, body)]++
	}
}

// eventKey names an event by what a panel shows of it.
func eventKey(at time.Time, actor, ip, description string) string {
	return fmt.Sprintf("%d|%s|%s|%s", at.UnixMilli(), actor, ip, description)
}

// sample is the plugin process and CBC traffic at one moment.
type sample struct {
	at         time.Time
	rssBytes   int64
	cacheBytes int64 // what the data sources' search and history caches hold, about
	goroutines int
	requests   int // CBC requests so far, as the simulator counts them
}

// slope is the least-squares slope of y over time, per minute.
func slope(samples []sample, y func(sample) float64) float64 {
	if len(samples) < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	t0 := samples[0].at
	for _, s := range samples {
		x := s.at.Sub(t0).Minutes()
		sx, sy, sxx, sxy = sx+x, sy+y(s), sxx+x*x, sxy+x*y(s)
	}
	n := float64(len(samples))
	if d := n*sxx - sx*sx; d != 0 {
		return (n*sxy - sx*sy) / d
	}
	return 0
}
