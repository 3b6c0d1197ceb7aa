package cbcsim

import (
	"testing"
	"time"
)

// New events trickle in at the configured rate and reach search (the records) and every key's queue.
func TestLiveTrickle(t *testing.T) {
	sim := New(Config{Seed: 1, EventsPerDay: -1, LiveRate: 1200}) // one every 50 ms
	defer sim.Close()
	deadline := time.Now().Add(5 * time.Second)
	for len(sim.Records()) < 4 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	n := len(sim.Records())
	if n < 4 {
		t.Fatalf("%d live events after 5 s at 20 a second", n)
	}
	for _, k := range DefaultKeys() {
		if backlog := sim.QueueBacklog(k.ID); backlog < 4 {
			t.Errorf("key %s's queue holds %d live events", k.ID, backlog)
		}
	}
	sim.Close()
	after := len(sim.Records())
	time.Sleep(150 * time.Millisecond)
	if len(sim.Records()) != after {
		t.Error("events kept arriving after Close")
	}
}

// The same seed and clock give the same history.
func TestGeneratorIsDeterministic(t *testing.T) {
	now := func() time.Time { return time.Date(2024, 1, 8, 0, 0, 0, 0, time.UTC) }
	a := New(Config{Seed: 42, EventsPerDay: 1000, Now: now}).Records()
	b := New(Config{Seed: 42, EventsPerDay: 1000, Now: now}).Records()
	c := New(Config{Seed: 43, EventsPerDay: 1000, Now: now}).Records()
	if len(a) == 0 || len(a) != len(b) || a[len(a)/2] != b[len(b)/2] {
		t.Fatal("the same seed gave different histories")
	}
	if len(a) == len(c) && a[len(a)/2] == c[len(c)/2] {
		t.Error("different seeds gave the same history")
	}
}
