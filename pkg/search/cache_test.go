package search

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
)

// The cache answers repeats from memory, but never holds more than maxCacheRecords records: a 200000-record
// search is not kept after it is answered, and older results make way for newer ones.
func TestCacheKeepsBoundedRecords(t *testing.T) {
	cache := newRecentCache(time.Minute, func(bool) {})
	fetches := 0
	fetch := func(n int) func(context.Context) (cbc.SearchResult, error) {
		return func(context.Context) (cbc.SearchResult, error) {
			fetches++
			return cbc.SearchResult{Records: make([]cbc.Record, n)}, nil
		}
	}
	get := func(key string, n int) {
		t.Helper()
		if res, err := cache.get(context.Background(), key, fetch(n)); err != nil || len(res.Records) != n {
			t.Fatalf("%s: %d records, %v", key, len(res.Records), err)
		}
	}
	held := func() int {
		total := 0
		for _, e := range cache.entries {
			total += len(e.result.Records)
		}
		return total
	}

	get("small", 10)
	get("small", 10)
	if fetches != 1 {
		t.Errorf("a repeat fetched again: %d fetches", fetches)
	}
	get("huge", maxCacheRecords+1)
	if _, kept := cache.entries["huge"]; kept {
		t.Error("a result over the cache's record bound was kept")
	}
	for i := range 5 {
		get(fmt.Sprint("big", i), maxCacheRecords/3)
		if n := held(); n > maxCacheRecords {
			t.Fatalf("the cache holds %d records, over its bound of %d", n, maxCacheRecords)
		}
	}
	if _, kept := cache.entries["big4"]; !kept {
		t.Error("the newest result was evicted instead of the oldest")
	}
}
