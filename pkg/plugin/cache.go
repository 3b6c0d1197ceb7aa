package plugin

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/frames"
)

// Bounds of the search cache of one data source: entries, and records over all entries (about 30 MB).
const (
	maxCacheEntries = 200
	maxCacheRecords = 100_000
)

// searchCache runs each distinct search once at a time and keeps its result for a short while: identical
// queries of one dashboard, or of several viewers, cost CBC one search. Failures are not kept, nor results
// too large to keep: those are shared only with identical queries made while they are fetched.
type searchCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	now     func() time.Time
	entries map[string]*cacheEntry
	counted func(hit bool) // told whether each search was answered from the cache
}

type cacheEntry struct {
	done    chan struct{}
	result  cbc.SearchResult
	err     error
	expires time.Time
}

func newSearchCache(ttl time.Duration, counted func(hit bool)) *searchCache {
	return &searchCache{ttl: ttl, now: time.Now, entries: map[string]*cacheEntry{}, counted: counted}
}

// size is how many records the cache holds, and about how many bytes.
func (c *searchCache) size() (records, bytes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		select {
		case <-e.done:
			for _, r := range e.result.Records {
				bytes += frames.RecordBytes(r)
			}
			records += len(e.result.Records)
		default:
		}
	}
	return records, bytes
}

// get returns the result for key, from the cache, from a fetch already under way, or by calling fetch.
func (c *searchCache) get(ctx context.Context, key string, fetch func(context.Context) (cbc.SearchResult, error)) (cbc.SearchResult, error) {
	c.mu.Lock()
	c.evict()
	if e, ok := c.entries[key]; ok {
		c.mu.Unlock()
		select {
		case <-e.done:
			if e.err == nil {
				c.counted(true)
				return e.result, nil
			}
			// The fetch we waited for failed (perhaps its caller gave up): fetch for ourselves.
		case <-ctx.Done():
			return cbc.SearchResult{}, ctx.Err()
		}
		c.mu.Lock()
	}
	e := &cacheEntry{done: make(chan struct{})}
	c.entries[key] = e
	c.mu.Unlock()
	c.counted(false)

	e.result, e.err = fetch(ctx)
	c.mu.Lock()
	e.expires = c.now().Add(c.ttl)
	if (e.err != nil || len(e.result.Records) > maxCacheRecords) && c.entries[key] == e {
		delete(c.entries, key)
	}
	close(e.done)
	c.evict()
	c.mu.Unlock()
	return e.result, e.err
}

// evict drops expired entries, then the oldest finished ones while the cache holds too many entries or
// records. The caller holds c.mu.
func (c *searchCache) evict() {
	now := c.now()
	var finished []string
	records := 0
	for k, e := range c.entries {
		select {
		case <-e.done:
		default:
			continue
		}
		if !now.Before(e.expires) {
			delete(c.entries, k)
			continue
		}
		finished = append(finished, k)
		records += len(e.result.Records)
	}
	slices.SortFunc(finished, func(a, b string) int { return c.entries[a].expires.Compare(c.entries[b].expires) })
	for _, k := range finished {
		if len(c.entries) < maxCacheEntries && records <= maxCacheRecords {
			return
		}
		records -= len(c.entries[k].result.Records)
		delete(c.entries, k)
	}
}
