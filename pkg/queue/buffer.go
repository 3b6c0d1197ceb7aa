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
//
// Every event is numbered on arrival, so that a live panel gets exactly what it was not given yet: a queue
// query answers up to a number, and the panel's stream carries every event numbered after it that falls in the
// panel's time range, whatever its create_time. An event created just before the panel opened and drained just
// after reaches it once; the queue's backlog, older than the panel's range, never does.
type Buffer struct {
	maxCount int
	maxAge   time.Duration
	now      func() time.Time

	mu          sync.Mutex
	records     []arrival // oldest first
	last        uint64    // the number of the latest arrival
	subscribers map[*Subscription]struct{}
}

// arrival is an event and its arrival number.
type arrival struct {
	cbc.Record
	seq uint64
}

// NewBuffer makes an empty buffer bounded by cfg's MaxCount and MaxAge. Its numbers start from the time, in the
// form of the replicas' stream ids (milliseconds << 20), so that after a restart a panel's number is below
// every new one: the panel may be given again what it had, never miss what it had not.
func NewBuffer(cfg Config) *Buffer {
	cfg = cfg.WithDefaults()
	return &Buffer{maxCount: cfg.MaxCount, maxAge: cfg.MaxAge, now: cfg.Now, subscribers: map[*Subscription]struct{}{},
		last: SeqOf(cfg.Now(), 0)}
}

// NewStreamBuffer makes the buffer of a replica that follows the replicas' shared stream: its events take the
// stream's ids as their numbers, from the first, so that every replica numbers an event alike whenever it
// started, and a panel's query and its stream may run on different replicas.
func NewStreamBuffer(cfg Config) *Buffer {
	b := NewBuffer(cfg)
	b.last = 0
	return b
}

// SeqOf is an arrival number in the form of a Redis stream id: its milliseconds and its sequence within them.
func SeqOf(t time.Time, n uint64) uint64 { return uint64(max(t.UnixMilli(), 0))<<20 | min(n, 1<<20-1) }

// HandOver makes the buffer that replaces b after a settings change: it holds b's events within cfg's bounds.
// b's subscribers are closed, so that their panels subscribe again to the new data source instance.
func (b *Buffer) HandOver(cfg Config) *Buffer {
	next := NewBuffer(cfg)
	b.mu.Lock()
	next.records, b.records = b.records, nil
	next.last = max(next.last, b.last)
	b.mu.Unlock()
	b.Close()
	next.mu.Lock()
	next.evict()
	next.mu.Unlock()
	return next
}

// Add merges records into the buffer in time order, after the events of the same time it holds already,
// numbers them after every event before, evicts by age and count, and hands them to the subscribers.
func (b *Buffer) Add(records []cbc.Record) { b.AddNumbered(records, nil) }

// AddNumbered is Add with the numbers the records were given where they came from (the replicas' shared
// stream numbers its events alike for every replica); a number not above the buffer's latest, or a missing
// one, becomes the next above it.
func (b *Buffer) AddNumbered(records []cbc.Record, seqs []uint64) {
	if len(records) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	batch := make([]arrival, len(records))
	for i, r := range records {
		var given uint64
		if i < len(seqs) {
			given = seqs[i]
		}
		b.last = max(given, b.last+1)
		batch[i] = arrival{r, b.last}
	}
	slices.SortStableFunc(batch, func(a, b arrival) int { return a.CreateTime.Compare(b.CreateTime) })
	b.records = mergeByTime(b.records, batch)
	b.evict()
	b.publish(batch)
}

// mergeByTime is older with batch merged in, both in create_time order; among equal times, older's come first.
func mergeByTime(older, batch []arrival) []arrival {
	if len(older) == 0 || !batch[0].CreateTime.Before(older[len(older)-1].CreateTime) {
		return append(older, batch...) // the usual case: every new event is newer than all held
	}
	out := make([]arrival, 0, len(older)+len(batch))
	i, j := 0, 0
	for i < len(older) && j < len(batch) {
		if batch[j].CreateTime.Before(older[i].CreateTime) {
			out = append(out, batch[j])
			j++
		} else {
			out = append(out, older[i])
			i++
		}
	}
	out = append(out, older[i:]...)
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

// publish hands each subscriber the records that fall in its time range: all of them are numbered after
// anything it was given. The caller holds b.mu.
func (b *Buffer) publish(batch []arrival) {
	for sub := range b.subscribers {
		var live []cbc.Record
		for _, a := range batch {
			if !a.CreateTime.Before(sub.from) {
				live = append(live, a.Record)
			}
		}
		if len(live) > 0 {
			sub.send(live)
		}
	}
}

// Records returns the buffered records in [from, to], oldest first.
func (b *Buffer) Records(from, to time.Time) []cbc.Record {
	records, _ := b.Snapshot(from, to)
	return records
}

// Snapshot returns the buffered records in [from, to], oldest first, and the number of the latest arrival: a
// live panel that showed them subscribes after it.
func (b *Buffer) Snapshot(from, to time.Time) ([]cbc.Record, uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	lo := sort.Search(len(b.records), func(i int) bool { return !b.records[i].CreateTime.Before(from) })
	hi := sort.Search(len(b.records), func(i int) bool { return b.records[i].CreateTime.After(to) })
	out := make([]cbc.Record, 0, max(hi-lo, 0))
	for _, h := range b.records[lo:max(hi, lo)] {
		out = append(out, h.Record)
	}
	return out, b.last
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

// Subscription receives the events numbered after its mark that fall in its time range. Read them from C; it
// closes when the buffer is closed.
type Subscription struct {
	C       <-chan []cbc.Record
	ch      chan []cbc.Record
	from    time.Time
	dropped atomic.Int64
	b       *Buffer
}

// Subscribe starts receiving the events numbered after mark (a Snapshot's) whose create_time is at or after
// from: first those that arrived since the snapshot, then each new batch. A mark of 0 or below the buffer's
// first number means every buffered event from from on.
func (b *Buffer) Subscribe(from time.Time, mark uint64) *Subscription {
	ch := make(chan []cbc.Record, subscriberBacklog)
	sub := &Subscription{C: ch, ch: ch, from: from, b: b}
	b.mu.Lock()
	defer b.mu.Unlock()
	var missed []cbc.Record
	for _, h := range b.records[sort.Search(len(b.records), func(i int) bool { return !b.records[i].CreateTime.Before(from) }):] {
		if h.seq > mark {
			missed = append(missed, h.Record)
		}
	}
	if len(missed) > 0 {
		sub.send(missed)
	}
	b.subscribers[sub] = struct{}{}
	return sub
}

// Live subscribes to the events that arrive from now on and happen from now on, as a panel opened now would.
func (b *Buffer) Live() *Subscription {
	b.mu.Lock()
	mark := b.last
	b.mu.Unlock()
	return b.Subscribe(b.now(), mark)
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
