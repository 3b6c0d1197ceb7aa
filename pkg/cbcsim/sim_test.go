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

// Records asks for an exact history size, as benchmarks do: 10000 must fit CBC's window, not overflow it.
func TestRecordsGivesExactlyThatManyEventsOverTheSpan(t *testing.T) {
	now := time.Date(2024, 1, 8, 0, 0, 0, 0, time.UTC)
	for _, n := range []int{1, 10000, 25000} {
		got := New(Config{Seed: 5, Records: n, Now: func() time.Time { return now }}).Records()
		if len(got) != n {
			t.Fatalf("Records %d gave %d events", n, len(got))
		}
		if n > 1000 && (got[0].CreateTime.After(now.Add(-6*24*time.Hour)) || got[n-1].CreateTime.Before(now.Add(-24*time.Hour))) {
			t.Errorf("Records %d spans only %s to %s, not the 7 days", n, got[0].CreateTime, got[n-1].CreateTime)
		}
	}
}

// Late events: with LateShare, about that share of events is found by search only LateBy after its
// create_time, and by then every event is found.
func TestLateEventsAreSearchableOnlyAfterTheirDelay(t *testing.T) {
	now := time.Date(2024, 1, 8, 0, 0, 0, 0, time.UTC)
	sim := New(Config{Seed: 3, EventsPerDay: 20000, Span: time.Hour, LateShare: 0.2, LateBy: 15 * time.Minute,
		Now: func() time.Time { return now }})
	body := []byte(`{"criteria": {"create_time": {"range": "-1h"}}, "rows": 10000}`)
	all := len(sim.Records())
	lastQuarter := 0
	for _, e := range sim.Records() {
		if e.CreateTime.After(now.Add(-15 * time.Minute)) {
			lastQuarter++
		}
	}
	found, err := sim.Match(body)
	if err != nil {
		t.Fatal(err)
	}
	missing := all - len(found)
	if missing < lastQuarter/10 || missing > lastQuarter*3/10 {
		t.Errorf("%d of the last quarter hour's %d events are not searchable yet, want about a fifth", missing, lastQuarter)
	}
	now = now.Add(15 * time.Minute)
	found, err = sim.Match([]byte(`{"criteria": {"create_time": {"range": "-2h"}}, "rows": 10000}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != all {
		t.Errorf("after the delay search finds %d of %d events", len(found), all)
	}
}
