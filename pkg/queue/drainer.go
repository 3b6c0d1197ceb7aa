// Package queue owns a data source's drain of the CBC audit log queue. The queue is per API key and reading it
// removes what it returns, so exactly one Drainer reads it, into a Buffer; panels read the Buffer and receive
// new events live from it, and ten viewers never steal events from one another.
//
// The drain's invariant: every event CBC removes from the queue reaches the sink exactly once, or the
// drainer reports the time span that may be incomplete and why. A read whose outcome is unknown (no answer, a
// 5xx, a body cut short or garbled) may have removed events, so its span is searched again until a search
// succeeds; events found that way and events the queue delivers are told apart by their derived ids.
package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

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
	MaxCount int           // records a Buffer keeps
	MaxAge   time.Duration // older records leave a Buffer, and the drainer forgets them
	// Margin is how far the queue's order may trail create_time (CBC's ingestion delay): a span to recover
	// reaches this far before the newest event drained and past the time of the read. Default 10 minutes.
	Margin time.Duration
	// QueueAge is how old an event still waiting in the queue may be: CBC fills a new key's queue with three
	// days. It bounds the span to recover when a read fails before any event was drained, or once the queue
	// is seen not to hand out its events oldest first. Default 72 hours.
	QueueAge time.Duration
	// Reach is how far before the newest event drained a read may still deliver one: an event CBC indexed
	// late reaches the queue after newer ones. A read with an unknown outcome is recovered from this far back,
	// and delivered events are remembered as long. Default one hour.
	Reach  time.Duration
	Now    func() time.Time
	Logger log.Logger // default: the SDK's logger
}

// maxReadsPerPoll bounds how many queue reads one poll makes while the backlog lasts.
const maxReadsPerPoll = 100

// recoveryLimit bounds the records one recovery search returns: far more than a span holds.
const recoveryLimit = 5_000_000

// Span is a time span whose events may be incomplete until a search of it succeeds.
type Span struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Reason   string    `json:"reason"`
	Attempts int       `json:"attempts"`
	LastErr  string    `json:"lastError,omitempty"`
	next     time.Time
}

// Status is what the queue/status resource and the health check report.
type Status struct {
	Running    bool      `json:"running"`
	Legacy     bool      `json:"legacy"`
	LastPoll   time.Time `json:"lastPoll,omitzero"`
	Drained    int       `json:"drained"`
	Backfilled int       `json:"backfilled"`
	Recovered  int       `json:"recovered"`
	Backlog    int       `json:"backlog"`    // what CBC said was still queued after the last read
	BufferSize int       `json:"bufferSize"` // this and the next two: Buffer.Describe
	Oldest     time.Time `json:"oldest,omitzero"`
	Newest     time.Time `json:"newest,omitzero"`
	LastError  string    `json:"lastError,omitempty"`
	Stopped    string    `json:"stopped,omitempty"` // why the drainer gave up, e.g. a revoked key
	Incomplete []Span    `json:"incomplete,omitempty"`
}

// held counts the copies of one event the sink was given, and how many of them came from a search and may
// still be delivered by the queue.
type held struct {
	at       time.Time
	count    int
	expected int
}

// state is everything a drainer knows; a drainer that takes over from another (a settings change) takes it.
type state struct {
	held    map[string]*held
	newest  time.Time // create_time of the newest event the queue delivered
	pending []*Span
	legacy  bool
	// unordered is set once the queue is seen to hand out events not oldest first (an answer listed newest
	// first, or an event from beyond the reach): a read may then take events of any age it holds.
	unordered bool

	emptied              bool // the last read took the whole backlog CBC reported
	availableAfter       bool // num_available counts what a read left, not the backlog before it
	lastPoll             time.Time
	drained, backfilled  int
	recovered, backlog   int
	lastError, stopped   string
	backfillDone, active bool
}

// Drainer reads the queue every Poll and writes each event it read, once, into its sink.
type Drainer struct {
	source Source
	sink   Sink
	cfg    Config

	start  sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu sync.Mutex
	st state
}

// WithDefaults fills in what cfg leaves unset: the clock, the margin, the queue's age and the logger.
func (cfg Config) WithDefaults() Config {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Margin <= 0 {
		cfg.Margin = 10 * time.Minute
	}
	if cfg.Reach <= 0 {
		cfg.Reach = time.Hour
	}
	if cfg.QueueAge <= 0 {
		cfg.QueueAge = 72 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = log.DefaultLogger
	}
	return cfg
}

// New makes a drainer that writes into sink; it starts on the first Start call.
func New(source Source, sink Sink, cfg Config) *Drainer {
	cfg = cfg.WithDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Drainer{source: source, sink: sink, cfg: cfg, ctx: ctx, cancel: cancel, done: make(chan struct{}),
		st: state{held: map[string]*held{}}}
}

// TakeOver makes the drainer that replaces old after a settings change: old stops reading at once, and the new
// one continues from its state (what it read, spans still to recover) into sink, starting at once if old had
// started. Nothing old read is lost, and nothing is read twice.
func TakeOver(old *Drainer, source Source, sink Sink, cfg Config) *Drainer {
	d := New(source, sink, cfg)
	old.Stop()
	old.mu.Lock()
	d.st = old.st
	old.st = state{held: map[string]*held{}, stopped: "handed over to the data source's new settings"}
	old.mu.Unlock()
	d.st.stopped, d.st.lastError, d.st.active = "", "", false
	if d.st.backfillDone || d.st.drained > 0 {
		d.Start()
	}
	return d
}

// Start begins backfilling and polling, once; later calls do nothing.
func (d *Drainer) Start() {
	d.start.Do(func() {
		d.mu.Lock()
		d.st.active = true
		d.mu.Unlock()
		go d.run()
	})
}

// Stop ends the drainer at once, interrupting a read or a wait, and waits for it. A read it interrupts may have
// removed events: its span stays in the state, for a drainer that takes over. Safe to call more than once,
// started or not.
func (d *Drainer) Stop() {
	d.start.Do(func() { close(d.done) }) // never started: nothing to wait for
	d.cancel()
	<-d.done
	d.mu.Lock()
	d.st.active = false
	d.mu.Unlock()
}

func (d *Drainer) run() {
	defer close(d.done)
	d.mu.Lock()
	if !d.st.backfillDone && !d.backfillPending() {
		now := d.cfg.Now()
		d.st.pending = append(d.st.pending, &Span{From: now.Add(-d.cfg.Backfill), To: now, Reason: "backfill"})
	}
	d.mu.Unlock()
	for {
		d.recoverPending()
		if !d.poll() {
			return
		}
		timer := time.NewTimer(d.nextWake())
		select {
		case <-d.ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
	}
}

// backfillPending reports a backfill handed over before it succeeded. The caller holds d.mu.
func (d *Drainer) backfillPending() bool {
	for _, s := range d.st.pending {
		if s.Reason == "backfill" {
			return true
		}
	}
	return false
}

// nextWake is how long to sleep: until the next poll, or sooner when a span's recovery is due.
func (d *Drainer) nextWake() time.Duration {
	wait := d.cfg.Poll
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.cfg.Now()
	for _, s := range d.st.pending {
		wait = min(wait, max(s.next.Sub(now), 0))
	}
	return wait
}

// recoverPending searches every span whose recovery is due. A failed search is tried again with backoff, for
// as long as it takes.
func (d *Drainer) recoverPending() {
	d.mu.Lock()
	now := d.cfg.Now()
	var due []*Span
	for _, s := range d.st.pending {
		if !now.Before(s.next) {
			due = append(due, s)
		}
	}
	d.mu.Unlock()
	for _, s := range due {
		if d.ctx.Err() != nil {
			return
		}
		req := cbc.SearchRequest{
			Criteria: &cbc.Criteria{CreateTime: cbc.Between(s.From, s.To)},
			Sort:     []cbc.SortField{{Field: "create_time", Order: cbc.Asc}},
		}
		res, err := d.source.Search(d.ctx, req, recoveryLimit, recoveryLimit)
		d.mu.Lock()
		if err != nil {
			s.Attempts++
			s.LastErr = err.Error()
			s.next = d.cfg.Now().Add(min(time.Second<<min(s.Attempts, 10), 5*time.Minute))
			d.mu.Unlock()
			d.cfg.Logger.Warn("Queue drain: searching a span that may be missing events failed; retrying", "from", s.From, "to", s.To, "attempts", s.Attempts, "error", err.Error(), "retryAt", s.next)
			continue
		}
		unheld := d.takeSearched(res.Records)
		if s.Reason == "backfill" {
			d.st.backfilled += len(unheld)
			d.st.backfillDone = true
		} else {
			d.st.recovered += len(unheld)
			d.cfg.Logger.Info("Queue drain: recovered a span that may have been missing events", "from", s.From, "to", s.To, "recovered", len(unheld), "searched", len(res.Records))
		}
		d.removeSpan(s)
		d.mu.Unlock()
		d.sink.Add(unheld)
	}
}

// takeSearched keeps what a search found that the sink was not given yet; the queue may still deliver those,
// so they are expected. The caller holds d.mu.
func (d *Drainer) takeSearched(records []cbc.Record) []cbc.Record {
	seen := map[string]int{}
	var unheld []cbc.Record
	for _, r := range records {
		id := r.ID()
		seen[id]++
		h := d.st.held[id]
		if h != nil && seen[id] <= h.count {
			continue
		}
		if h == nil {
			h = &held{at: r.CreateTime}
			d.st.held[id] = h
		}
		h.count++
		h.expected++
		unheld = append(unheld, r)
	}
	return unheld
}

func (d *Drainer) removeSpan(s *Span) {
	for i, p := range d.st.pending {
		if p == s {
			d.st.pending = append(d.st.pending[:i:i], d.st.pending[i+1:]...)
			return
		}
	}
}

// poll reads the queue until it is empty (or maxReadsPerPoll reads); false means the drainer must stop.
func (d *Drainer) poll() bool {
	for range maxReadsPerPoll {
		if d.ctx.Err() != nil {
			return false
		}
		d.mu.Lock()
		before := d.st.newest
		d.mu.Unlock()
		readAt := d.cfg.Now()
		batch, err := d.read()
		d.mu.Lock()
		d.st.lastPoll = d.cfg.Now()
		if err != nil {
			stop := d.failedRead(err, before, readAt)
			d.mu.Unlock()
			return !stop && d.ctx.Err() == nil
		}
		d.st.lastError = ""
		unheld := d.takeDelivered(batch)
		d.st.drained += len(batch)
		emptied := d.st.emptied
		d.mu.Unlock()
		d.sink.Add(unheld)
		if len(batch) == 0 || emptied {
			return true
		}
	}
	return true
}

// failedRead records a read that failed, and reports whether the drainer must stop. A read whose outcome is
// unknown may have removed events: the span they can lie in is to be recovered. The caller holds d.mu.
func (d *Drainer) failedRead(err error, newestBefore, readAt time.Time) (stop bool) {
	d.st.lastError = err.Error()
	if kind := cbc.KindOf(err); kind == cbc.KindUnauthorized || kind == cbc.KindForbidden {
		d.st.stopped = "the queue refused this API key: " + err.Error()
		d.cfg.Logger.Info("Queue drain stopped", "reason", d.st.stopped)
		return true
	}
	if !outcomeUnknown(err) {
		return false
	}
	from := readAt.Add(-d.cfg.QueueAge)
	if !newestBefore.IsZero() && !d.st.unordered {
		from = newestBefore.Add(-d.cfg.Reach)
	}
	// CBC may still act on the read after we gave up on it: search the span only once it has closed.
	to := readAt.Add(d.cfg.Margin)
	d.st.pending = append(d.st.pending, &Span{From: from, To: to, Reason: "a queue read failed with an unknown outcome: " + err.Error(), next: to})
	d.cfg.Logger.Warn("Queue drain: a read may have removed events it did not deliver; the span will be searched", "from", from, "to", to, "searchAt", to, "error", err.Error())
	return false
}

// outcomeUnknown reports whether a failed read may have removed events from the queue.
func outcomeUnknown(err error) bool {
	var apiErr *cbc.Error
	if errors.As(err, &apiErr) {
		return apiErr.MaybeActed
	}
	return !errors.Is(err, context.Canceled) // cancelled before sending; anything else: assume CBC acted
}

// takeDelivered keeps what the queue delivered, but not the events a search already gave the sink. The
// caller holds d.mu.
func (d *Drainer) takeDelivered(batch []cbc.Record) []cbc.Record {
	var unheld []cbc.Record
	for i, r := range batch {
		if (i > 0 && r.CreateTime.Before(batch[i-1].CreateTime)) || (!d.st.newest.IsZero() && r.CreateTime.Before(d.st.newest.Add(-d.cfg.Reach))) {
			if !d.st.unordered {
				d.cfg.Logger.Info("Queue drain: the queue does not hand out its events oldest first; a failed read is now recovered over the whole queue's age")
			}
			d.st.unordered = true
		}
		if r.CreateTime.After(d.st.newest) {
			d.st.newest = r.CreateTime
		}
		id := r.ID()
		h := d.st.held[id]
		if h != nil && h.expected > 0 {
			h.expected--
			continue
		}
		if h == nil {
			h = &held{at: r.CreateTime}
			d.st.held[id] = h
		}
		h.count++
		unheld = append(unheld, r)
	}
	d.forget()
	return unheld
}

// forget drops what no longer needs remembering: an event older than the newest delivered, less the reach,
// can no longer arrive while the queue hands out its events oldest first, and one older than the buffer keeps
// leaves the buffer anyway; unless a span still to recover covers it. The caller holds d.mu.
func (d *Drainer) forget() {
	if d.st.newest.IsZero() {
		return
	}
	horizon := d.st.newest.Add(-d.cfg.Reach)
	if d.st.unordered {
		horizon = d.cfg.Now().Add(-d.cfg.MaxAge)
	}
	for _, s := range d.st.pending {
		if s.From.Before(horizon) {
			horizon = s.From
		}
	}
	for id, h := range d.st.held {
		if h.at.Before(horizon) {
			delete(d.st.held, id)
		}
	}
}

// read takes one batch from the v1 queue, or from the legacy v3 queue once the v1 queue route is missing.
func (d *Drainer) read() ([]cbc.Record, error) {
	d.mu.Lock()
	legacy := d.st.legacy
	d.mu.Unlock()
	if !legacy {
		page, err := d.source.Queue(d.ctx)
		if !routeMissing(err) {
			if err == nil {
				d.mu.Lock()
				d.countBacklog(page.NumAvailable, len(page.Results))
				d.mu.Unlock()
			}
			return page.Results, err
		}
		d.mu.Lock()
		d.st.legacy = true
		d.mu.Unlock()
		d.cfg.Logger.Info("Queue drain: the v1 queue route is missing; falling back to the legacy v3 queue")
	}
	return d.source.LegacyQueue(d.ctx)
}

// countBacklog reads a queue answer's num_available. Nothing public says whether it counts the backlog before
// the read or what the read left. Before the read, it is never less than the batch; an answer where it is less
// shows it counts what is left, and the drainer reads it so from then on. Either way, a read that took
// everything is not followed by another that would find the queue empty; when the reading is not yet known, a
// remainder exactly the batch's size waits for the next poll. The caller holds d.mu.
func (d *Drainer) countBacklog(available, read int) {
	if available < read {
		d.st.availableAfter = true
	}
	if d.st.availableAfter {
		d.st.backlog = available
		d.st.emptied = available == 0
		return
	}
	d.st.backlog = max(available-read, 0)
	d.st.emptied = available > 0 && available <= read
}

// routeMissing reports a 404 for the v1 queue route itself (a tenant without the v1 API), not one that names
// an unknown org: a wrong org key must not fall back to the legacy queue, which reads the key's own org.
func routeMissing(err error) bool {
	var apiErr *cbc.Error
	return errors.As(err, &apiErr) && apiErr.Kind == cbc.KindNotFound && !apiErr.NamesOrg
}

// Status reports the drainer's state.
func (d *Drainer) Status() Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := Status{
		Running: d.st.active && d.st.stopped == "", Legacy: d.st.legacy, LastPoll: d.st.lastPoll,
		Drained: d.st.drained, Backfilled: d.st.backfilled, Recovered: d.st.recovered, Backlog: d.st.backlog,
		LastError: d.st.lastError, Stopped: d.st.stopped,
	}
	for _, s := range d.st.pending {
		if s.Reason != "backfill" || s.Attempts > 0 {
			st.Incomplete = append(st.Incomplete, *s)
		}
	}
	return st
}

// IncompleteNotice says which spans may be missing events, for queue queries; empty when none may be.
func (st Status) IncompleteNotice() string {
	if len(st.Incomplete) == 0 {
		return ""
	}
	s := st.Incomplete[0]
	text := fmt.Sprintf("Events between %s and %s may be missing until a search of that span succeeds (%s)",
		s.From.UTC().Format(time.RFC3339), s.To.UTC().Format(time.RFC3339), s.Reason)
	if s.LastErr != "" {
		text += fmt.Sprintf("; %d searches failed so far, the last with: %s", s.Attempts, s.LastErr)
	}
	if n := len(st.Incomplete) - 1; n > 0 {
		text += fmt.Sprintf("; and %d more spans", n)
	}
	return text + "."
}
