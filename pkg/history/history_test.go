package history

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
)

var start = time.Date(2024, 3, 4, 12, 7, 30, 0, time.UTC)

// store is a brute-force stand-in for CBC: records every 7 seconds over 8 days before start, a count of its
// reads, and a clock tests move.
type store struct {
	mu      sync.Mutex
	records []cbc.Record
	reads   atomic.Int64
	now     time.Time
}

func newStore() *store {
	s := &store{now: start}
	for t := start.Add(-8 * 24 * time.Hour); t.Before(start.Add(2 * time.Hour)); t = t.Add(13 * time.Second) {
		s.records = append(s.records, cbc.Record{CreateTime: t, Actor: fmt.Sprintf("user%d@acme.example", t.Unix()%5), Description: "Logged in"})
	}
	return s
}

// The cache's settings in these tests: the data source's defaults.
const (
	testSettle   = 10 * time.Minute
	testMaxAge   = time.Hour
	testMaxBytes = 96 << 20
)

// config is a cache's configuration over the store's clock, with the default settings and then edits.
func (s *store) config(edits ...func(*Config)) Config {
	cfg := Config{Now: s.clock, Settle: testSettle, MaxAge: testMaxAge, MaxBytes: testMaxBytes}
	for _, edit := range edits {
		edit(&cfg)
	}
	return cfg
}

func (s *store) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

func (s *store) advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = s.now.Add(d)
}

// fetch hands over every record of [from, to] (one read), as a search with an inclusive end would.
func (s *store) fetch(_ context.Context, from, to time.Time, keep func(cbc.Record) bool) error {
	s.reads.Add(1)
	for _, r := range s.records {
		if !r.CreateTime.Before(from) && !r.CreateTime.After(to) && !keep(r) {
			return nil
		}
	}
	return nil
}

// truth is every record of r, oldest first.
func (s *store) truth(r Span) []cbc.Record {
	var out []cbc.Record
	for _, rec := range s.records {
		if !rec.CreateTime.Before(r.From) && !rec.CreateTime.After(r.To) {
			out = append(out, rec)
		}
	}
	return out
}

// answer is a cached read plus its tail read from the store: what the plugin does.
func answer(t *testing.T, c *Cache, s *store, r Span) []cbc.Record {
	t.Helper()
	res, err := c.Read(context.Background(), "search", r, 0, s.fetch)
	if err != nil {
		t.Fatal(err)
	}
	out := res.Oldest(res.Len())
	if res.Tail != nil {
		out = append(out, s.truth(*res.Tail)...)
	}
	return out
}

// A "last 7 days" range refreshed every minute reads the closed history once, then only newly closed slices
// and those past their maximum age; every answer equals the records of the range.
func TestMovingRangeReusesClosedSlices(t *testing.T) {
	s := newStore()
	c := New(s.config())
	var readsAfterFirst int64
	for refresh := range 70 {
		r := Span{s.clock().Add(-7 * 24 * time.Hour), s.clock()}
		if got, want := answer(t, c, s, r), s.truth(r); !slices.Equal(got, want) {
			t.Fatalf("refresh %d: %d records, want %d", refresh, len(got), len(want))
		}
		if refresh == 0 {
			readsAfterFirst = s.reads.Load()
		}
		s.advance(time.Minute)
	}
	if first := readsAfterFirst; first != 1 {
		t.Errorf("the first load read CBC %d times, want 1", first)
	}
	// From 12:07:30 to 13:16:30 the slices ending at 12:00 and 13:00 close, and at 13:07:30 the first load's
	// slices reach their maximum age.
	if later := s.reads.Load() - readsAfterFirst; later != 3 {
		t.Errorf("69 refreshes read %d runs of closed slices, want 3: two newly closed hours, one re-read after MaxAge", later)
	}
}

// The tail begins where the last closed slice ends: Settle before now, at an hour boundary.
func TestTailStartsAtTheLastClosedSlice(t *testing.T) {
	s := newStore()
	c := New(s.config())
	res, err := c.Read(context.Background(), "search", Span{start.Add(-24 * time.Hour), start}, 0, s.fetch)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Span{time.Date(2024, 3, 4, 11, 0, 0, 0, time.UTC), start}); res.Tail == nil || *res.Tail != want {
		t.Errorf("tail %v, want %v (12:07:30 less 10 minutes, down to the hour)", res.Tail, want)
	}
	past := Span{start.Add(-48 * time.Hour), start.Add(-24 * time.Hour)}
	if res, _ := c.Read(context.Background(), "search", past, 0, s.fetch); res.Tail != nil {
		t.Errorf("a range that ended a day ago has a tail %v", res.Tail)
	}
}

// Under the byte bound the least recently used slices go, and come back by reading them again.
func TestEvictionKeepsTheBound(t *testing.T) {
	s := newStore()
	perHour := int64(3600/13+1) * (recordBytes(s.records[0]) + 8) // about one slice
	c := New(s.config(func(c *Config) { c.MaxBytes = 30 * perHour }))
	day := Span{start.Add(-48 * time.Hour), start.Add(-24 * time.Hour)}
	other := Span{start.Add(-96 * time.Hour), start.Add(-72 * time.Hour)}
	answer(t, c, s, day)
	answer(t, c, s, other) // pushes most of day out
	if _, bytes := c.Size(); bytes > 30*perHour {
		t.Errorf("the cache holds %d bytes, over its bound of %d", bytes, 30*perHour)
	}
	before := s.reads.Load()
	if got, want := answer(t, c, s, day), s.truth(day); !slices.Equal(got, want) {
		t.Fatalf("after eviction: %d records, want %d", len(got), len(want))
	}
	if s.reads.Load() == before {
		t.Error("evicted slices were answered without reading them again")
	}
}

// A search whose closed slices exceed the bound is refused, and not tried again until MaxAge has passed.
func TestTooLargeIsRefusedAndRemembered(t *testing.T) {
	s := newStore()
	c := New(s.config(func(c *Config) { c.MaxBytes = 1 << 16 }))
	week := Span{start.Add(-7 * 24 * time.Hour), start}
	for range 2 {
		if _, err := c.Read(context.Background(), "search", week, 0, s.fetch); err != ErrTooLarge {
			t.Fatalf("err %v, want ErrTooLarge", err)
		}
	}
	if n := s.reads.Load(); n != 1 {
		t.Errorf("%d reads, want 1: a search found too large is not read again at once", n)
	}
	if records, _ := c.Size(); records != 0 {
		t.Errorf("%d records kept from a refused read", records)
	}
}

// A slice read more than MaxAge ago is read again, so a late event does not stay missing.
func TestSlicesAreReadAgainAfterMaxAge(t *testing.T) {
	s := newStore()
	c := New(s.config(func(c *Config) { c.Settle = time.Minute }))
	day := Span{start.Add(-48 * time.Hour), start.Add(-24 * time.Hour)}
	answer(t, c, s, day)
	late := cbc.Record{CreateTime: start.Add(-30 * time.Hour).Add(time.Millisecond), Actor: "late@acme.example"}
	s.records = append(s.records, late)
	if got := answer(t, c, s, day); slices.Contains(got, late) {
		t.Fatal("a closed slice was read again before MaxAge")
	}
	s.advance(testMaxAge)
	if got := answer(t, c, s, day); !slices.Contains(got, late) {
		t.Error("the late event is still missing after MaxAge")
	}
}

// Concurrent reads of the same range, as the panels of one dashboard make, read CBC once; one of them giving
// up does not fail the others.
func TestConcurrentReadsShareOneFetch(t *testing.T) {
	s := newStore()
	c := New(s.config())
	release := make(chan struct{})
	slow := func(ctx context.Context, from, to time.Time, keep func(cbc.Record) bool) error {
		<-release
		return s.fetch(ctx, from, to, keep)
	}
	week := Span{start.Add(-7 * 24 * time.Hour), start}
	gaveUp, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		ctx := context.Background()
		if i == 0 {
			ctx = gaveUp
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.Read(ctx, "search", week, 0, slow)
		}()
	}
	cancel()
	time.Sleep(10 * time.Millisecond) // let the readers reach the shared read; fewer would still read once
	close(release)
	wg.Wait()
	if errs[0] != context.Canceled {
		t.Errorf("the read that gave up: %v, want context.Canceled", errs[0])
	}
	for i, err := range errs[1:] {
		if err != nil {
			t.Errorf("reader %d failed with its neighbour: %v", i+1, err)
		}
	}
	if n := s.reads.Load(); n != 1 {
		t.Errorf("4 concurrent reads made %d fetches, want 1", n)
	}
}

// Cached answers only from what is held, and needs at least one closed slice.
func TestCachedNeverReads(t *testing.T) {
	s := newStore()
	c := New(s.config())
	week := Span{start.Add(-7 * 24 * time.Hour), start}
	if _, ok := c.Cached("search", week, 0); ok {
		t.Fatal("an empty cache answered")
	}
	answer(t, c, s, week)
	res, ok := c.Cached("search", week, 0)
	if !ok || res.Len() == 0 || res.Tail == nil {
		t.Fatalf("after a read, Cached gave ok %v, %d records, tail %v", ok, res.Len(), res.Tail)
	}
	all := res.Oldest(res.Len())
	newest := res.Newest(3)
	if len(newest) != 3 || newest[0] != all[len(all)-1] || newest[2] != all[len(all)-3] {
		t.Errorf("Newest(3) is not the last three records, newest first")
	}
	if oldest := res.Oldest(2); len(oldest) != 2 || oldest[0] != all[0] || !oldest[0].CreateTime.Before(oldest[1].CreateTime) {
		t.Errorf("Oldest(2) is not the first two records, oldest first")
	}
	if _, ok := c.Cached("search", Span{start.Add(-5 * time.Minute), start}, 0); ok {
		t.Error("a range with no closed slice answered from the cache")
	}
	if _, ok := c.Cached("another search", week, 0); ok {
		t.Error("another search answered from this one's slices")
	}
}
