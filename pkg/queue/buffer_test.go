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
	sub := b.Subscribe()
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
