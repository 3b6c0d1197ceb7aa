// Package history keeps the records of closed time slices of searches, so that a dashboard's refresh reads
// from Carbon Black Cloud only the time that can still change.
//
// A slice is a SliceWidth-long span of create_time aligned to UTC. It is closed once it ended more than Settle
// ago: CBC has indexed its events by then, so its records are read once, kept, and reused by every later query
// over the same search whose time range covers it. What is newer than the last closed slice, the open tail, is
// the caller's to read fresh. Slices are kept until MaxAge after they were read (so that an event indexed later
// than Settle is not missing for long) and while the cache holds at most MaxBytes; the least recently used go
// first.
package history

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
	"unique"

	"golang.org/x/sync/singleflight"

	"github.com/seed/cbcauditlogs/pkg/cbc"
)

// DefaultSliceWidth is the width of a slice unless Config says otherwise.
const DefaultSliceWidth = time.Hour

// Config sets up a Cache. Settle, MaxAge and MaxBytes are the data source's settings (their defaults are in
// pkg/models/limits.json); a zero SliceWidth is an hour, a nil Now is time.Now.
type Config struct {
	SliceWidth time.Duration // a divisor of a day
	Settle     time.Duration
	MaxAge     time.Duration
	MaxBytes   int64
	Now        func() time.Time
	// Shared, when set, is a second level several Grafana replicas share (pkg/cluster): a slice one replica read
	// from CBC, the others load from it. Its failures only cost a read from CBC.
	Shared Store
}

// Store keeps encoded slices for several caches, each until its time to live has passed.
type Store interface {
	Load(ctx context.Context, keys []string) (map[string][]byte, error)
	Save(ctx context.Context, items map[string][]byte, ttl time.Duration) error
}

// ErrTooLarge is returned by Read when a search's closed slices would take more than the cache's bound: the
// caller reads the range without the cache.
var ErrTooLarge = errors.New("the search's closed time slices hold more records than the history cache may keep")

// Fetch reads every record of the search created in [from, to): the cache keeps those it asked for and drops
// any others. It calls keep for each record and stops when keep returns false.
type Fetch func(ctx context.Context, from, to time.Time, keep func(cbc.Record) bool) error

// Cache holds closed slices of any number of searches, each named by a key that identifies the search
// without its time range.
type Cache struct {
	cfg    Config
	mu     sync.Mutex
	slices map[sliceKey]*list.Element // of *slice
	lru    *list.List                 // most recently used first
	bytes  int64
	reads  singleflight.Group
	// tooLarge holds the searches found too large to keep, until when they are not tried again.
	tooLarge map[string]time.Time
}

type sliceKey struct {
	search string
	start  int64 // UnixMilli
}

type slice struct {
	key     sliceKey
	records []cbc.Record // oldest first
	bytes   int64
	read    time.Time
}

// New makes an empty cache.
func New(cfg Config) *Cache {
	if cfg.SliceWidth <= 0 {
		cfg.SliceWidth = DefaultSliceWidth
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Cache{cfg: cfg, slices: map[sliceKey]*list.Element{}, lru: list.New(), tooLarge: map[string]time.Time{}}
}

// Span is a range of create_time, both ends inclusive at millisecond precision, as Grafana's time range is.
type Span struct{ From, To time.Time }

// Result is a query's time range as the cache answers it: the records of the closed slices inside the range,
// and the open tail the caller reads fresh (none when the range ends before it). The records are not copied:
// Each, Len, Oldest and Newest read them in place.
type Result struct {
	parts [][]cbc.Record // the closed slices cut to the range, oldest first, each oldest first
	Tail  *Span
}

// Each visits the records oldest first.
func (r Result) Each(visit func(cbc.Record)) {
	for _, part := range r.parts {
		for _, rec := range part {
			visit(rec)
		}
	}
}

// Len is how many records the closed slices hold inside the range.
func (r Result) Len() int {
	n := 0
	for _, part := range r.parts {
		n += len(part)
	}
	return n
}

// Oldest returns the first n records, oldest first.
func (r Result) Oldest(n int) []cbc.Record {
	var out []cbc.Record
	for _, part := range r.parts {
		if len(out) == n {
			break
		}
		out = append(out, part[:min(len(part), n-len(out))]...)
	}
	return out
}

// Newest returns the last n records, newest first.
func (r Result) Newest(n int) []cbc.Record {
	var out []cbc.Record
	for i := len(r.parts) - 1; i >= 0 && len(out) < n; i-- {
		part := r.parts[i]
		for j := len(part) - 1; j >= 0 && len(out) < n; j-- {
			out = append(out, part[j])
		}
	}
	return out
}

// plan is where a query's closed part ends: the end of the last slice closed under settle, or of the slice
// holding the range's end when that comes first. Slices start at the one holding the range's start.
func (c *Cache) plan(r Span, settle time.Duration) (first, end time.Time) {
	w := c.cfg.SliceWidth
	first = r.From.UTC().Truncate(w)
	end = c.cfg.Now().UTC().Add(-settle).Truncate(w)
	if last := r.To.UTC().Truncate(w).Add(w); last.Before(end) {
		end = last
	}
	return first, end
}

// settle is the settle time a read asks for: its own when longer than the cache's (an alert rule's), or the
// cache's.
func (c *Cache) settle(asked time.Duration) time.Duration {
	return max(asked, c.cfg.Settle)
}

// Cached answers r from closed slices already held, without reading anything; ok is false when one is
// missing, or when r has no closed slice. A logs or table query uses it to share what count queries read.
// settle, when longer than the cache's, is how long after its end a slice must have been read to count: see
// Read.
func (c *Cache) Cached(search string, r Span, settle time.Duration) (Result, bool) {
	settle = c.settle(settle)
	first, end := c.plan(r, settle)
	c.mu.Lock()
	parts, missing := c.held(search, first, end, settle)
	c.mu.Unlock()
	if len(missing) > 0 || len(parts) == 0 {
		return Result{}, false // nothing closed yet: nothing to share
	}
	return c.result(c.ordered(parts, first, end), r, end), true
}

// Read answers r from closed slices, reading the missing ones with fetch: each unbroken run of them in one
// call, shared with concurrent reads of the same run.
//
// An alert rule must not miss an event CBC indexed later than the cache's settle time, so it asks for a longer
// settle: then only slices that ended that long ago are closed, and a slice counts only when it was read that
// long after its end; an older read is read again, and the fresher copy serves every later query.
func (c *Cache) Read(ctx context.Context, search string, r Span, settle time.Duration, fetch Fetch) (Result, error) {
	settle = c.settle(settle)
	first, end := c.plan(r, settle)
	c.mu.Lock()
	if c.cfg.Now().Before(c.tooLarge[search]) {
		c.mu.Unlock()
		return Result{}, ErrTooLarge
	}
	parts, missing := c.held(search, first, end, settle)
	c.mu.Unlock()
	if c.cfg.Shared != nil && len(missing) > 0 {
		c.loadShared(ctx, search, missing)
		c.mu.Lock()
		parts, missing = c.held(search, first, end, settle)
		c.mu.Unlock()
	}
	for _, run := range missing {
		read, err := c.readRun(ctx, search, run, fetch)
		if err != nil {
			return Result{}, err
		}
		for start, records := range read {
			parts[start] = records
		}
	}
	return c.result(c.ordered(parts, first, end), r, end), nil
}

// held is the records of each slice in [first, end) the cache holds, by start, and the runs of those it does
// not hold, [From, To). The caller holds c.mu.
func (c *Cache) held(search string, first, end time.Time, settle time.Duration) (map[int64][]cbc.Record, []Span) {
	parts := map[int64][]cbc.Record{}
	var missing []Span
	for start := first; start.Before(end); start = start.Add(c.cfg.SliceWidth) {
		if s := c.unexpired(sliceKey{search, start.UnixMilli()}); s != nil && !s.read.Before(start.Add(c.cfg.SliceWidth+settle)) {
			parts[start.UnixMilli()] = s.records
			continue
		}
		if n := len(missing); n > 0 && missing[n-1].To.Equal(start) {
			missing[n-1].To = start.Add(c.cfg.SliceWidth)
		} else {
			missing = append(missing, Span{start, start.Add(c.cfg.SliceWidth)})
		}
	}
	return parts, missing
}

// ordered lists the parts of [first, end) by start, oldest first.
func (c *Cache) ordered(parts map[int64][]cbc.Record, first, end time.Time) [][]cbc.Record {
	var out [][]cbc.Record
	for start := first; start.Before(end); start = start.Add(c.cfg.SliceWidth) {
		out = append(out, parts[start.UnixMilli()])
	}
	return out
}

// sharedSlice is a slice as the shared store keeps it: when it was read from CBC, and its records.
type sharedSlice struct {
	Read    time.Time    `json:"read"`
	Records []cbc.Record `json:"records"`
}

// storeKey names a slice in the shared store: a digest of the search, and the slice's start.
func storeKey(search string, start int64) string {
	sum := sha256.Sum256([]byte(search))
	return fmt.Sprintf("slice:%s:%d", hex.EncodeToString(sum[:12]), start)
}

// loadShared takes what the shared store holds of the missing slices into this cache, each with the time it
// was read from CBC, so that it is read again at the same maximum age on every replica.
func (c *Cache) loadShared(ctx context.Context, search string, missing []Span) {
	var keys []string
	for _, run := range missing {
		for start := run.From; start.Before(run.To); start = start.Add(c.cfg.SliceWidth) {
			keys = append(keys, storeKey(search, start.UnixMilli()))
		}
	}
	found, err := c.cfg.Shared.Load(ctx, keys)
	if err != nil || len(found) == 0 {
		return
	}
	now := c.cfg.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, run := range missing {
		for start := run.From; start.Before(run.To); start = start.Add(c.cfg.SliceWidth) {
			raw, ok := found[storeKey(search, start.UnixMilli())]
			var stored sharedSlice
			if !ok || json.Unmarshal(raw, &stored) != nil || now.Sub(stored.Read) >= c.cfg.MaxAge {
				continue
			}
			for i := range stored.Records {
				stored.Records[i] = compact(stored.Records[i])
			}
			c.put(sliceKey{search, start.UnixMilli()}, stored.Records, stored.Read)
		}
	}
	c.evict()
}

// saveShared offers the slices of a run just read from CBC to the other replicas.
func (c *Cache) saveShared(ctx context.Context, search string, run Span, bySlice map[int64][]cbc.Record, read time.Time) {
	items := map[string][]byte{}
	for start := run.From; start.Before(run.To); start = start.Add(c.cfg.SliceWidth) {
		raw, err := json.Marshal(sharedSlice{Read: read, Records: bySlice[start.UnixMilli()]})
		if err == nil {
			items[storeKey(search, start.UnixMilli())] = raw
		}
	}
	_ = c.cfg.Shared.Save(ctx, items, c.cfg.MaxAge) // unreachable: the other replicas read CBC themselves
}

// readRun reads the slices of run, keeps them, and returns their records by slice start.
func (c *Cache) readRun(ctx context.Context, search string, run Span, fetch Fetch) (map[int64][]cbc.Record, error) {
	key := fmt.Sprintf("%d-%d %s", run.From.UnixMilli(), run.To.UnixMilli(), search)
	// The read is shared: it goes on when the query that started it gives up, so that the others waiting
	// for it are not failed by that one, and its slices are kept for the next refresh.
	shared := context.WithoutCancel(ctx)
	read := c.reads.DoChan(key, func() (any, error) {
		ctx := shared
		bySlice := map[int64][]cbc.Record{}
		var bytes int64
		tooLarge := false
		err := fetch(ctx, run.From, run.To, func(r cbc.Record) bool {
			t := r.CreateTime.UTC()
			if t.Before(run.From) || !t.Before(run.To) {
				return true
			}
			r = compact(r)
			bytes += recordBytes(r)
			if bytes > c.cfg.MaxBytes {
				tooLarge = true
				return false
			}
			start := t.Truncate(c.cfg.SliceWidth).UnixMilli()
			bySlice[start] = append(bySlice[start], r)
			return true
		})
		if tooLarge {
			c.mu.Lock()
			c.tooLarge[search] = c.cfg.Now().Add(c.cfg.MaxAge)
			c.mu.Unlock()
			return nil, ErrTooLarge
		}
		if err != nil {
			return nil, err
		}
		for _, records := range bySlice {
			sort.SliceStable(records, func(i, j int) bool { return records[i].CreateTime.Before(records[j].CreateTime) })
		}
		read := c.cfg.Now()
		c.store(search, run, bySlice)
		if c.cfg.Shared != nil {
			c.saveShared(ctx, search, run, bySlice, read)
		}
		return bySlice, nil
	})
	select {
	case res := <-read:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(map[int64][]cbc.Record), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// result is r answered by the parts, closed up to end. Only the first and last slices reach outside r: they
// are cut to it, without copying.
func (c *Cache) result(parts [][]cbc.Record, r Span, end time.Time) Result {
	from, to := r.From.UTC().Truncate(time.Millisecond), r.To.UTC().Truncate(time.Millisecond)
	at := func(rec cbc.Record) time.Time { return rec.CreateTime.Truncate(time.Millisecond) }
	if n := len(parts); n > 0 {
		first := parts[0]
		parts[0] = first[sort.Search(len(first), func(i int) bool { return !at(first[i]).Before(from) }):]
		last := parts[n-1]
		parts[n-1] = last[:sort.Search(len(last), func(i int) bool { return at(last[i]).After(to) })]
	}
	out := Result{parts: parts}
	tailFrom := end
	if tailFrom.Before(from) {
		tailFrom = from
	}
	if !tailFrom.After(to) {
		out.Tail = &Span{tailFrom, to}
	}
	return out
}

// unexpired is the slice under key if it is held and younger than MaxAge; it becomes the most recently used. The
// caller holds c.mu.
func (c *Cache) unexpired(key sliceKey) *slice {
	el, ok := c.slices[key]
	if !ok {
		return nil
	}
	s := el.Value.(*slice)
	if c.cfg.Now().Sub(s.read) >= c.cfg.MaxAge {
		c.remove(el)
		return nil
	}
	c.lru.MoveToFront(el)
	return s
}

// store keeps every slice of run, empty ones too, then evicts the least recently used while over the bound.
func (c *Cache) store(search string, run Span, bySlice map[int64][]cbc.Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.cfg.Now()
	for start := run.From; start.Before(run.To); start = start.Add(c.cfg.SliceWidth) {
		c.put(sliceKey{search, start.UnixMilli()}, bySlice[start.UnixMilli()], now)
	}
	c.evict()
}

// put keeps one slice, read from CBC at read. The caller holds c.mu.
func (c *Cache) put(key sliceKey, records []cbc.Record, read time.Time) {
	if el, ok := c.slices[key]; ok {
		c.remove(el)
	}
	s := &slice{key: key, records: records, read: read, bytes: sliceOverhead}
	for _, r := range s.records {
		s.bytes += recordBytes(r)
	}
	c.slices[key] = c.lru.PushFront(s)
	c.bytes += s.bytes
}

// evict drops the least recently used slices while the cache holds more than its bound. The caller holds c.mu.
func (c *Cache) evict() {
	for c.bytes > c.cfg.MaxBytes && c.lru.Len() > 0 {
		c.remove(c.lru.Back())
	}
}

func (c *Cache) remove(el *list.Element) {
	s := el.Value.(*slice)
	c.lru.Remove(el)
	delete(c.slices, s.key)
	c.bytes -= s.bytes
}

// Size is how many records the cache holds, and about how many bytes.
func (c *Cache) Size() (records int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := c.lru.Front(); el != nil; el = el.Next() {
		records += len(el.Value.(*slice).records)
	}
	return records, c.bytes
}

// sliceOverhead is what a slice costs beside its records: the map entry, the list element and the struct.
const sliceOverhead = 256

// recordBytes is about what a kept record costs. Actors, IPs and org keys repeat across records and are shared
// (see compact), but are counted in full: the bound errs on the safe side.
func recordBytes(r cbc.Record) int64 { return int64(r.Bytes()) }

// compact shares one copy of each value of the fields that repeat across records.
func compact(r cbc.Record) cbc.Record {
	r.Actor = unique.Make(r.Actor).Value()
	r.ActorIP = unique.Make(r.ActorIP).Value()
	r.OrgKey = unique.Make(r.OrgKey).Value()
	r.Description = unique.Make(r.Description).Value()
	return r
}
