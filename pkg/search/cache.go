package search

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
)

// Bounds of the search cache of one data source: entries, and records over all entries (about 30 MB).
const (
	maxCacheEntries = 200
	maxCacheRecords = 100_000
)

// recentCache runs each distinct search once at a time and keeps its result for a short while: identical
// queries of one dashboard, or of several viewers, cost CBC one search. Failures are not kept, nor results
// too large to keep: those are shared only with identical queries made while they are fetched.
type recentCache struct {
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

func newRecentCache(ttl time.Duration, counted func(hit bool)) *recentCache {
	return &recentCache{ttl: ttl, now: time.Now, entries: map[string]*cacheEntry{}, counted: counted}
}

// size is how many records the cache holds, and about how many bytes.
func (c *recentCache) size() (records, bytes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		select {
		case <-e.done:
			for _, r := range e.result.Records {
				bytes += r.Bytes()
			}
			records += len(e.result.Records)
		default:
		}
	}
	return records, bytes
}

// get returns the result for key, from the cache, from a fetch already under way, or by calling fetch.
func (c *recentCache) get(ctx context.Context, key string, fetch func(context.Context) (cbc.SearchResult, error)) (cbc.SearchResult, error) {
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
func (c *recentCache) evict() {
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
