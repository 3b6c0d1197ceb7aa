// Package queue owns a data source's drain of the CBC audit log queue. The queue is per API key and reading it
// removes what it returns, so exactly one drainer reads it; panels read the drainer's buffer and receive new
// events live, and ten viewers never steal events from one another.
package queue

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
)

// Source is what the drainer needs of the CBC client.
type Source interface {
	Queue(ctx context.Context) (cbc.SearchResponse, error)
	LegacyQueue(ctx context.Context) ([]cbc.Record, error)
	Search(ctx context.Context, req cbc.SearchRequest, limit, maxScan int) (cbc.SearchResult, error)
}

// Config sets up a drainer.
type Config struct {
	Poll     time.Duration // between reads of the queue
	Backfill time.Duration // searched at start, so a restart leaves no gap
	MaxCount int           // records kept in the buffer
	MaxAge   time.Duration // older records leave the buffer
	Now      func() time.Time
}

// maxReadsPerPoll bounds how many queue reads one poll makes while the backlog lasts.
const maxReadsPerPoll = 100

// Status is what the queue/status resource and the health check report.
type Status struct {
	Running    bool      `json:"running"`
	Legacy     bool      `json:"legacy"`
	LastPoll   time.Time `json:"lastPoll,omitzero"`
	Drained    int       `json:"drained"`
	Backfilled int       `json:"backfilled"`
	BufferSize int       `json:"bufferSize"`
	Oldest     time.Time `json:"oldest,omitzero"`
	Newest     time.Time `json:"newest,omitzero"`
	LastError  string    `json:"lastError,omitempty"`
	Stopped    string    `json:"stopped,omitempty"` // why the drainer gave up, e.g. a revoked key
}

// Drainer reads the queue every Poll, keeps what it read in a bounded buffer and hands new records to every
// subscriber.
type Drainer struct {
	source Source
	cfg    Config

	start  sync.Once
	cancel context.CancelFunc
	done   chan struct{}

	mu          sync.Mutex
	buffer      []cbc.Record // by create_time, oldest first
	backfillIDs map[string]int
	lastDrained time.Time // create_time of the newest event read from the queue
	subscribers map[chan []cbc.Record]struct{}
	status      Status
}

// New makes a drainer; it starts on the first Start call.
func New(source Source, cfg Config) *Drainer {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Drainer{source: source, cfg: cfg, done: make(chan struct{}), subscribers: map[chan []cbc.Record]struct{}{}}
}

// Start begins backfilling and polling, once; later calls do nothing.
func (d *Drainer) Start() {
	d.start.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		d.cancel = cancel
		d.mu.Lock()
		d.status.Running = true
		d.mu.Unlock()
		go d.run(ctx)
	})
}

// Stop ends the drainer and waits for it; it is safe to call whether or not it started.
func (d *Drainer) Stop() {
	d.start.Do(func() { close(d.done) }) // never started: nothing to wait for
	if d.cancel != nil {
		d.cancel()
	}
	<-d.done
	d.mu.Lock()
	defer d.mu.Unlock()
	for ch := range d.subscribers {
		close(ch)
		delete(d.subscribers, ch)
	}
	d.status.Running = false
}

func (d *Drainer) run(ctx context.Context) {
	defer close(d.done)
	d.backfill(ctx)
	ticker := time.NewTicker(d.cfg.Poll)
	defer ticker.Stop()
	for {
		if !d.poll(ctx) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// backfill seeds the buffer with a search of the last Backfill window. Queue reads that return the same
// records later are dropped by their derived id.
func (d *Drainer) backfill(ctx context.Context) {
	now := d.cfg.Now()
	res, err := d.source.Search(ctx, cbc.SearchRequest{Criteria: &cbc.Criteria{CreateTime: cbc.Between(now.Add(-d.cfg.Backfill), now)}}, d.cfg.MaxCount, d.cfg.MaxCount)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		d.status.LastError = "backfill: " + err.Error()
		return
	}
	d.backfillIDs = map[string]int{}
	for _, r := range res.Records {
		d.backfillIDs[r.ID()]++
	}
	d.status.Backfilled = len(res.Records)
	d.add(res.Records)
}

// recoverLost runs after a queue read that could not be decoded: CBC removed that batch when it sent it. The
// queue hands out events oldest first, so the lost ones are about as new as the last event drained or newer (or,
// before any, within the buffer's age); a search of that span finds them, and what the buffer lacks is kept. Events it finds
// that are still queued are dropped when the queue delivers them, as after a backfill.
func (d *Drainer) recoverLost(ctx context.Context) {
	now := d.cfg.Now()
	d.mu.Lock()
	from := now.Add(-d.cfg.MaxAge)
	if !d.lastDrained.IsZero() {
		// Events reach the queue in arrival order, which can trail create_time a little: look back a backfill.
		if since := d.lastDrained.Add(-d.cfg.Backfill); since.After(from) {
			from = since
		}
	}
	d.mu.Unlock()
	res, err := d.source.Search(ctx, cbc.SearchRequest{Criteria: &cbc.Criteria{CreateTime: cbc.Between(from, now)}}, d.cfg.MaxCount, d.cfg.MaxCount)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		d.status.LastError = "recovering an unreadable queue batch: " + err.Error()
		return
	}
	have := map[string]int{}
	for _, r := range d.buffer {
		if !r.CreateTime.Before(from) {
			have[r.ID()]++
		}
	}
	if d.backfillIDs == nil {
		d.backfillIDs = map[string]int{}
	}
	var missing []cbc.Record
	for _, r := range res.Records {
		id := r.ID()
		if have[id] > 0 {
			have[id]--
			continue
		}
		missing = append(missing, r)
		d.backfillIDs[id]++
	}
	d.add(missing)
	d.publish(missing)
}

// poll reads the queue until it is empty (or maxReadsPerPoll reads); false means the drainer must stop. A read
// under way is never cancelled, since CBC removes what it sends: Stop waits for it (the client's timeout bounds
// it) and keeps its events.
func (d *Drainer) poll(ctx context.Context) bool {
	for range maxReadsPerPoll {
		if ctx.Err() != nil {
			return false
		}
		batch, err := d.read(context.WithoutCancel(ctx))
		d.mu.Lock()
		d.status.LastPoll = d.cfg.Now()
		if cbc.KindOf(err) == cbc.KindMalformed {
			// CBC removed the batch it sent, but we could not read it: find it again by searching.
			d.mu.Unlock()
			d.recoverLost(ctx)
			d.mu.Lock()
		}
		if err != nil {
			d.status.LastError = err.Error()
			stop := cbc.KindOf(err) == cbc.KindUnauthorized || cbc.KindOf(err) == cbc.KindForbidden
			if stop {
				d.status.Stopped = "the queue refused this API key: " + err.Error()
				d.status.Running = false
			}
			d.mu.Unlock()
			return !stop && ctx.Err() == nil
		}
		d.status.LastError = ""
		for _, r := range batch {
			if r.CreateTime.After(d.lastDrained) {
				d.lastDrained = r.CreateTime
			}
		}
		fresh := d.dropBackfilled(batch)
		d.status.Drained += len(batch)
		d.add(fresh)
		d.publish(fresh)
		d.mu.Unlock()
		if len(batch) == 0 {
			return true
		}
	}
	return true
}

// read takes one batch from the v1 queue, or from the legacy v3 queue once the v1 queue answered 404.
func (d *Drainer) read(ctx context.Context) ([]cbc.Record, error) {
	d.mu.Lock()
	legacy := d.status.Legacy
	d.mu.Unlock()
	if !legacy {
		page, err := d.source.Queue(ctx)
		if cbc.KindOf(err) != cbc.KindNotFound {
			return page.Results, err
		}
		d.mu.Lock()
		d.status.Legacy = true
		d.mu.Unlock()
	}
	return d.source.LegacyQueue(ctx)
}

// dropBackfilled removes records the backfill already holds, once per copy backfilled. The caller holds d.mu.
func (d *Drainer) dropBackfilled(batch []cbc.Record) []cbc.Record {
	if len(d.backfillIDs) == 0 {
		return batch
	}
	fresh := batch[:0:0]
	for _, r := range batch {
		id := r.ID()
		if d.backfillIDs[id] > 0 {
			d.backfillIDs[id]--
			continue
		}
		fresh = append(fresh, r)
	}
	return fresh
}

// add inserts records in time order and evicts by age and count. The caller holds d.mu.
func (d *Drainer) add(records []cbc.Record) {
	d.buffer = append(d.buffer, records...)
	sort.SliceStable(d.buffer, func(i, j int) bool { return d.buffer[i].CreateTime.Before(d.buffer[j].CreateTime) })
	cutoff := d.cfg.Now().Add(-d.cfg.MaxAge)
	drop := sort.Search(len(d.buffer), func(i int) bool { return !d.buffer[i].CreateTime.Before(cutoff) })
	drop = max(drop, len(d.buffer)-d.cfg.MaxCount)
	if drop > 0 {
		d.buffer = append([]cbc.Record(nil), d.buffer[drop:]...)
	}
	d.status.BufferSize = len(d.buffer)
	if len(d.buffer) > 0 {
		d.status.Oldest, d.status.Newest = d.buffer[0].CreateTime, d.buffer[len(d.buffer)-1].CreateTime
	}
}

// publish hands new records to every subscriber. A subscriber that has fallen a whole buffer behind is
// dropped rather than allowed to stall the drain. The caller holds d.mu.
func (d *Drainer) publish(records []cbc.Record) {
	if len(records) == 0 {
		return
	}
	for ch := range d.subscribers {
		select {
		case ch <- records:
		default:
			close(ch)
			delete(d.subscribers, ch)
		}
	}
}

// subscriberBacklog is how many batches a subscriber may lag behind before it is dropped.
const subscriberBacklog = 64

// Subscribe returns a channel of new records and a function to stop receiving them. The channel closes when the
// drainer stops or the subscriber falls too far behind.
func (d *Drainer) Subscribe() (<-chan []cbc.Record, func()) {
	ch := make(chan []cbc.Record, subscriberBacklog)
	d.mu.Lock()
	d.subscribers[ch] = struct{}{}
	d.mu.Unlock()
	return ch, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if _, ok := d.subscribers[ch]; ok {
			delete(d.subscribers, ch)
			close(ch)
		}
	}
}

// Records returns the buffered records in [from, to], oldest first. Reading never touches CBC.
func (d *Drainer) Records(from, to time.Time) []cbc.Record {
	d.mu.Lock()
	defer d.mu.Unlock()
	lo := sort.Search(len(d.buffer), func(i int) bool { return !d.buffer[i].CreateTime.Before(from) })
	hi := sort.Search(len(d.buffer), func(i int) bool { return d.buffer[i].CreateTime.After(to) })
	return append([]cbc.Record(nil), d.buffer[lo:hi]...)
}

// Status reports the drainer's state.
func (d *Drainer) Status() Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.status
}
