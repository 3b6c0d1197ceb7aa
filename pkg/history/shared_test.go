package history

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cluster"
	"github.com/seed/cbcauditlogs/pkg/cluster/redistest"
)

// Two replicas' caches over one Redis: what one read from CBC, the other loads without reading, with the same
// answers and the same maximum age; another settings generation shares nothing.
func TestReplicasShareSlicesThroughRedis(t *testing.T) {
	r := redistest.Start(t)
	s := newStore()
	replica := func(generation string) *Cache {
		shared := cluster.Open(cluster.Config{Addr: r.Addr}, "ds", "queue")
		t.Cleanup(func() { shared.Close() })
		return New(s.config(func(c *Config) { c.Shared = shared.Slices(generation) }))
	}
	a, b := replica("g1"), replica("g1")
	week := Span{start.Add(-7 * 24 * time.Hour), start}
	want := s.truth(week)
	if got := answer(t, a, s, week); !slices.Equal(got, want) {
		t.Fatalf("replica a: %d records, want %d", len(got), len(want))
	}
	readsByA := s.reads.Load()
	if got := answer(t, b, s, week); !slices.Equal(got, want) {
		t.Fatalf("replica b: %d records, want %d", len(got), len(want))
	}
	if s.reads.Load() != readsByA {
		t.Errorf("replica b read CBC %d times for slices replica a had read", s.reads.Load()-readsByA)
	}
	if records, _ := b.Size(); records == 0 {
		t.Error("replica b keeps nothing of what it loaded")
	}
	// The loaded slices keep a's read time: both read again together once it has passed.
	s.advance(testMaxAge)
	before := s.reads.Load()
	if _, err := b.Read(context.Background(), "search", week, 0, s.fetch); err != nil {
		t.Fatal(err)
	}
	if s.reads.Load() == before {
		t.Error("replica b kept slices past their maximum age, counted from when replica a read them")
	}
	other := replica("g2")
	before = s.reads.Load()
	answer(t, other, s, week)
	if s.reads.Load() == before {
		t.Error("a data source with other settings loaded this one's slices")
	}
}
