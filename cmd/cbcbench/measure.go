package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// measurement is one client doing one task, run several times.
type measurement struct {
	times    []time.Duration
	records  int    // what the last run returned
	requests int    // CBC requests the last run made
	peakRSS  int64  // the plugin process's highest resident memory over the runs; 0 for other clients
	note     string // why the client returned fewer records than match, when it did
}

func (m measurement) median() time.Duration {
	sorted := slices.Clone(m.times)
	slices.Sort(sorted)
	return sorted[len(sorted)/2]
}

// incomplete is a client's own failure: the benchmark goes on and reports how far the client got.
type incomplete string

func (e incomplete) Error() string { return string(e) }

// peakTracker reads a process's peak resident memory, reset before each run.
type peakTracker interface {
	resetPeak() error
	peak() (int64, error)
}

// job is one client doing one task. Each run returns the records the client got and the time it took.
type job struct {
	task, client string
	ours         bool        // our own code (the bare pager, the plugin): it must return every record
	peak         peakTracker // tracks the plugin's peak memory; nil for other clients
	run          func(run int) (records int, took time.Duration, err error)
}

// timed makes a job's run from a function whose whole call is what is measured.
func timed(run func(run int) (int, error)) func(int) (int, time.Duration, error) {
	return func(i int) (int, time.Duration, error) {
		start := time.Now()
		n, err := run(i)
		return n, time.Since(start), err
	}
}

// once runs the job once, adding its time, records, requests and peak memory to m.
func (j job) once(i int, stats simStats, m *measurement) error {
	if j.peak != nil {
		if err := j.peak.resetPeak(); err != nil {
			return fmt.Errorf("reset the peak memory: %w", err)
		}
	}
	before, err := stats.requests()
	if err != nil {
		return err
	}
	records, took, err := j.run(i)
	var short incomplete
	switch {
	case errors.As(err, &short):
		m.note = short.Error()
	case err != nil:
		return err
	}
	after, err := stats.requests()
	if err != nil {
		return err
	}
	m.times = append(m.times, took)
	m.records, m.requests = records, after-before
	if j.peak != nil {
		peak, err := j.peak.peak()
		if err != nil {
			return err
		}
		m.peakRSS = max(m.peakRSS, peak)
	}
	return nil
}

// simStats reads the simulator's request counters.
type simStats struct{ url string }

func (s simStats) requests() (int, error) {
	resp, err := http.Get(s.url + "/_sim/stats")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var stats struct{ Requests map[string]int }
	if err := json.NewDecoder(resp.Body).Decode(&stats); err != nil {
		return 0, fmt.Errorf("simulator stats: %w", err)
	}
	total := 0
	for _, n := range stats.Requests {
		total += n
	}
	return total, nil
}

// sizeResults are every measurement at one history size.
type sizeResults struct {
	records int
	rows    []row
}

type row struct {
	task, client string
	measurement
}

func (results *sizeResults) add(task, client string, m measurement) {
	results.rows = append(results.rows, row{task, client, m})
}

// find returns the measurement of client doing task, if it was measured.
func (results sizeResults) find(task, client string) (measurement, bool) {
	for _, row := range results.rows {
		if row.task == task && row.client == client {
			return row.measurement, true
		}
	}
	return measurement{}, false
}
