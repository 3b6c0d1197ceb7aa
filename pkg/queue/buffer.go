package queue

import (
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
)

// Sink takes the batches of events a Drainer read, each event once.
type Sink interface {
	Add(records []cbc.Record)
}

// Buffer keeps the newest queue events in create_time order, at most MaxCount and none older than MaxAge, and
// hands the new ones to its subscribers (live panels). Queue queries read it; it never touches CBC.
type Buffer struct {
	maxCount int
	maxAge   time.Duration
	now      func() time.Time

	mu          sync.Mutex
	records     []cbc.Record // oldest first
	subscribers map[*Subscription]struct{}
}

// NewBuffer makes an empty buffer bounded by cfg's MaxCount and MaxAge.
func NewBuffer(cfg Config) *Buffer {
	cfg = cfg.WithDefaults()
	return &Buffer{maxCount: cfg.MaxCount, maxAge: cfg.MaxAge, now: cfg.Now, subscribers: map[*Subscription]struct{}{}}
}

// HandOver makes the buffer that replaces b after a settings change: it holds b's events within cfg's bounds.
// b's subscribers are closed, so that their panels subscribe again to the new data source instance.
func (b *Buffer) HandOver(cfg Config) *Buffer {
	next := NewBuffer(cfg)
	b.mu.Lock()
	next.records, b.records = b.records, nil
	b.mu.Unlock()
	b.Close()
	next.mu.Lock()
	next.evict()
	next.mu.Unlock()
	return next
}

// Add merges records into the buffer in time order, after the events of the same time it holds already,
// evicts by age and count, and hands the records to the subscribers.
func (b *Buffer) Add(records []cbc.Record) {
	if len(records) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.records = mergeByTime(b.records, records)
	b.evict()
	b.publish(records)
}

// mergeByTime is held with batch merged in, both in create_time order; among equal times, held's come first.
func mergeByTime(held, batch []cbc.Record) []cbc.Record {
	byTime := func(a, b cbc.Record) int { return a.CreateTime.Compare(b.CreateTime) }
	if !slices.IsSortedFunc(batch, byTime) {
		batch = slices.Clone(batch)
		slices.SortStableFunc(batch, byTime)
	}
	if len(held) == 0 || !batch[0].CreateTime.Before(held[len(held)-1].CreateTime) {
		return append(held, batch...) // the usual case: every new event is newer than all held
	}
	out := make([]cbc.Record, 0, len(held)+len(batch))
	i, j := 0, 0
	for i < len(held) && j < len(batch) {
		if batch[j].CreateTime.Before(held[i].CreateTime) {
			out = append(out, batch[j])
			j++
		} else {
			out = append(out, held[i])
			i++
		}
	}
	out = append(out, held[i:]...)
	return append(out, batch[j:]...)
}

// evict drops the events older than MaxAge, then the oldest while more than MaxCount are held. The caller holds
// b.mu.
func (b *Buffer) evict() {
	cutoff := b.now().Add(-b.maxAge)
	drop := sort.Search(len(b.records), func(i int) bool { return !b.records[i].CreateTime.Before(cutoff) })
	drop = max(drop, len(b.records)-b.maxCount)
	if drop > 0 {
		kept := copy(b.records, b.records[drop:])
		clear(b.records[kept:]) // no reference to an evicted record stays behind
		b.records = b.records[:kept]
	}
}

// publish hands each subscriber the events that happened since it subscribed. The queue's backlog, the
// backfill and recovered older events go to the buffer only, where a queue query finds them. The caller holds
// b.mu.
func (b *Buffer) publish(records []cbc.Record) {
	for sub := range b.subscribers {
		live := make([]cbc.Record, 0, len(records))
		for _, r := range records {
			if !r.CreateTime.Before(sub.joined) {
				live = append(live, r)
			}
		}
		if len(live) > 0 {
			sub.send(live)
		}
	}
}

// Records returns the buffered records in [from, to], oldest first.
func (b *Buffer) Records(from, to time.Time) []cbc.Record {
	b.mu.Lock()
	defer b.mu.Unlock()
	lo := sort.Search(len(b.records), func(i int) bool { return !b.records[i].CreateTime.Before(from) })
	hi := sort.Search(len(b.records), func(i int) bool { return b.records[i].CreateTime.After(to) })
	return append([]cbc.Record(nil), b.records[lo:hi]...)
}

// Describe fills in the buffer's part of a queue status: its size and the times of its oldest and newest event.
func (b *Buffer) Describe(st *Status) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st.BufferSize = len(b.records)
	if n := len(b.records); n > 0 {
		st.Oldest, st.Newest = b.records[0].CreateTime, b.records[n-1].CreateTime
	}
}

// Close ends every subscription; a panel's stream ends with it. The buffer stays readable.
func (b *Buffer) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for sub := range b.subscribers {
		close(sub.ch)
		delete(b.subscribers, sub)
	}
}

// subscriberBacklog is how many batches a subscriber may lag behind; past it, its oldest batches are dropped.
const subscriberBacklog = 64

// Subscription receives the events that arrive after it was made. Read them from C; it closes when the
// buffer is closed.
type Subscription struct {
	C       <-chan []cbc.Record
	ch      chan []cbc.Record
	joined  time.Time
	dropped atomic.Int64
	b       *Buffer
}

// Subscribe starts receiving the events that arrive from now on.
func (b *Buffer) Subscribe() *Subscription {
	ch := make(chan []cbc.Record, subscriberBacklog)
	sub := &Subscription{C: ch, ch: ch, joined: b.now(), b: b}
	b.mu.Lock()
	b.subscribers[sub] = struct{}{}
	b.mu.Unlock()
	return sub
}

// send queues a batch, dropping the oldest queued one while the subscriber is a whole backlog behind.
func (s *Subscription) send(batch []cbc.Record) {
	for {
		select {
		case s.ch <- batch:
			return
		default:
		}
		select {
		case old := <-s.ch:
			s.dropped.Add(int64(len(old)))
		default:
		}
	}
}

// Dropped returns how many events were dropped since the last call because the subscriber fell behind.
func (s *Subscription) Dropped() int { return int(s.dropped.Swap(0)) }

// Close stops the subscription.
func (s *Subscription) Close() {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	if _, ok := s.b.subscribers[s]; ok {
		delete(s.b.subscribers, s)
		close(s.ch)
	}
}
