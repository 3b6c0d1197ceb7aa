package cluster

import (
	"context"
	"time"
)

// Slices is the closed-slice cache's shared level (pkg/history): encoded slices under keys of one settings
// generation, each expiring with its maximum age. Redis's own memory bound (maxmemory with volatile-lru, as the
// compose stack sets it) decides what goes first when it is full.
type Slices struct {
	s          *Shared
	generation string
}

// Slices returns the shared level of a data source's cache; generation changes with the data source's
// settings, so that a settings change starts on an empty cache.
func (s *Shared) Slices(generation string) *Slices { return &Slices{s: s, generation: generation} }

func (sl *Slices) key(k string) string { return sl.s.key("cache:" + sl.generation + ":" + k) }

// Load returns the slices found under keys.
func (sl *Slices) Load(ctx context.Context, keys []string) (map[string][]byte, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	if err := sl.s.usable(); err != nil {
		return nil, err
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = sl.key(k)
	}
	values, err := sl.s.rdb.MGet(ctx, full...).Result()
	if err != nil {
		return nil, sl.s.note(err)
	}
	out := map[string][]byte{}
	for i, v := range values {
		if text, ok := v.(string); ok {
			out[keys[i]] = []byte(text)
		}
	}
	return out, nil
}

// Save keeps the slices until ttl has passed.
func (sl *Slices) Save(ctx context.Context, items map[string][]byte, ttl time.Duration) error {
	if err := sl.s.usable(); err != nil {
		return err
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	pipe := sl.s.rdb.Pipeline()
	for k, v := range items {
		pipe.Set(ctx, sl.key(k), v, ttl)
	}
	_, err := pipe.Exec(ctx)
	return sl.s.note(err)
}
