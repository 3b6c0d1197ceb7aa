package queue

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
)

// Batches in any order, overlapping in time, end up as one stable sort of everything would leave them, within
// the bounds: the merge keeps the order a full re-sort gave.
func TestBufferMergesBatchesInTimeOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	cfg := Config{MaxCount: 700, MaxAge: 90 * time.Minute, Now: func() time.Time { return now }}
	b := NewBuffer(cfg)
	var all []cbc.Record
	for batch := range 60 {
		var records []cbc.Record
		for i := range rng.IntN(40) {
			at := now.Add(-time.Duration(rng.IntN(120)) * time.Minute) // some older than MaxAge, many at equal times
			records = append(records, cbc.Record{CreateTime: at, Actor: fmt.Sprintf("b%d-%d", batch, i)})
		}
		b.Add(records)
		all = append(all, records...)
	}
	slices.SortStableFunc(all, func(x, y cbc.Record) int { return x.CreateTime.Compare(y.CreateTime) })
	all = slices.DeleteFunc(all, func(r cbc.Record) bool { return r.CreateTime.Before(now.Add(-cfg.MaxAge)) })
	all = all[max(0, len(all)-cfg.MaxCount):]
	got := b.Records(now.Add(-24*time.Hour), now)
	if !slices.EqualFunc(got, all, func(x, y cbc.Record) bool { return x.Actor == y.Actor }) {
		t.Fatalf("the buffer holds %d records in an order other than a stable sort of the %d expected", len(got), len(all))
	}
}

// A subscriber receives what happened after it subscribed, and a handed-over buffer ends its subscriptions
// while the new one keeps the events.
func TestBufferHandOverEndsSubscriptionsAndKeepsEvents(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	cfg := Config{MaxCount: 10, MaxAge: time.Hour, Now: func() time.Time { return now }}
	b := NewBuffer(cfg)
	sub := b.Live()
	b.Add([]cbc.Record{{CreateTime: now.Add(-time.Minute), Actor: "before"}, {CreateTime: now, Actor: "live"}})
	if batch := <-sub.C; len(batch) != 1 || batch[0].Actor != "live" {
		t.Fatalf("the subscriber received %v, want only the event of after it subscribed", batch)
	}
	next := b.HandOver(Config{MaxCount: 1, MaxAge: time.Hour, Now: cfg.Now})
	if _, open := <-sub.C; open {
		t.Error("the old buffer's subscription is still open after the hand-over")
	}
	if got := next.Records(now.Add(-time.Hour), now); len(got) != 1 || got[0].Actor != "live" {
		t.Errorf("the new buffer holds %v, want the newest event within its bound of one", got)
	}
}

// A panel is given a snapshot and a mark; its subscription then carries, once each, the events that arrive
// after the mark and fall in its range, whether they arrived before it subscribed or after, and whatever
// their create_time: an event created before the panel opened and drained after still reaches it. Events
// older than its range, a backlog or a recovered span, never do.
func TestAPanelGetsExactlyWhatItWasNotGiven(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	b := NewBuffer(Config{MaxCount: 1000, MaxAge: 72 * time.Hour, Now: func() time.Time { return now }})
	event := func(name string, age time.Duration) cbc.Record {
		return cbc.Record{CreateTime: now.Add(-age), Actor: name}
	}
	b.Add([]cbc.Record{event("given", 10*time.Minute), event("backlog", 48*time.Hour)})
	from := now.Add(-time.Hour)
	shown, mark := b.Snapshot(from, now)
	if len(shown) != 1 || shown[0].Actor != "given" {
		t.Fatalf("the panel's query shows %v", shown)
	}
	// Drained between the panel's query and its subscription: created up to 90 s before, and a late old one.
	b.Add([]cbc.Record{event("created 90s before", 90*time.Second), event("recovered, old", 5*time.Hour)})
	sub := b.Subscribe(from, mark)
	defer sub.Close()
	// Drained after it subscribed, created before it opened.
	b.Add([]cbc.Record{event("created 1s before", time.Second), event("backlog again", 30*time.Hour)})
	b.Add([]cbc.Record{event("created after", -time.Second)})
	var got []string
	for len(got) < 3 {
		select {
		case batch := <-sub.C:
			for _, r := range batch {
				got = append(got, r.Actor)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("the panel received %v", got)
		}
	}
	select {
	case batch := <-sub.C:
		t.Fatalf("more than the three new events in range reached the panel: %v, then %v", got, batch)
	default:
	}
	if want := []string{"created 90s before", "created 1s before", "created after"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the panel received %v, want %v", got, want)
	}
	// A buffer handed over after a settings change numbers on from where the old one stopped.
	next := b.HandOver(Config{MaxCount: 1000, MaxAge: 72 * time.Hour, Now: func() time.Time { return now }})
	_, nextMark := next.Snapshot(from, now)
	if _, oldMark := b.Snapshot(from, now); nextMark < mark || nextMark < oldMark {
		t.Errorf("the handed-over buffer's mark %d is below the old one's %d", nextMark, mark)
	}
}
