package plugin

import (
	"context"
	"sync"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
)

// maxCacheEntries bounds the search cache of one data source.
const maxCacheEntries = 200

// searchCache runs each distinct search once at a time and keeps its result for a short while: identical
// queries of one dashboard, or of several viewers, cost CBC one search. Failures are not kept.
type searchCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	now     func() time.Time
	entries map[string]*cacheEntry
}

type cacheEntry struct {
	done    chan struct{}
	result  cbc.SearchResult
	err     error
	expires time.Time
}

func newSearchCache(ttl time.Duration) *searchCache {
	return &searchCache{ttl: ttl, now: time.Now, entries: map[string]*cacheEntry{}}
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

	e.result, e.err = fetch(ctx)
	c.mu.Lock()
	e.expires = c.now().Add(c.ttl)
	if e.err != nil && c.entries[key] == e {
		delete(c.entries, key)
	}
	c.mu.Unlock()
	close(e.done)
	return e.result, e.err
}

// evict drops expired entries, and the oldest finished ones beyond maxCacheEntries. The caller holds c.mu.
func (c *searchCache) evict() {
	now := c.now()
	var oldestKey string
	var oldest time.Time
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
		if oldestKey == "" || e.expires.Before(oldest) {
			oldestKey, oldest = k, e.expires
		}
	}
	if len(c.entries) >= maxCacheEntries && oldestKey != "" {
		delete(c.entries, oldestKey)
	}
}
