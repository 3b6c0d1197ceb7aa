// Package replicas shares one data source's CBC queue among several Grafana replicas through Redis
// (docs/replicas.md). Every replica follows the shared stream into its own Buffer; the one replica that holds
// the lease also drains CBC's queue, and its Drainer writes into the stream.
package replicas

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/cluster"
	"github.com/seed/cbcauditlogs/pkg/queue"
)

// Replicas is a data source's part in a cluster of Grafana replicas sharing one Redis.
type Replicas struct {
	shared *cluster.Shared
	lease  *cluster.Lease
	buffer *queue.Buffer // this replica's, fed from the stream
	source queue.Source
	cfg    queue.Config

	start  sync.Once
	end    sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	relay relay // batches the leader drained, on their way to the stream

	mu        sync.Mutex
	leader    *queue.Drainer // while this replica holds the lease
	redisErr  string         // the last failure to reach Redis; "" while it answers
	seen      map[string]time.Time
	following bool
	delivered int       // events the stream brought to the buffer
	lastRead  time.Time // of the stream
}

// relay takes the batches the leader's Drainer read to the goroutine that appends them to the stream, without
// ever making the drain wait for Redis.
type relay struct {
	batches chan []cbc.Record
	logger  interface{ Warn(string, ...any) }
}

func (r relay) Add(batch []cbc.Record) {
	if len(batch) == 0 {
		return
	}
	select {
	case r.batches <- batch:
	default:
		r.logger.Warn("Queue drain: Redis is too slow to take drained events; the next holder's backfill will find them", "events", len(batch))
	}
}

// leaseTTL is how long a dead holder keeps the lease: another replica takes over within it.
const leaseTTL = 15 * time.Second

// relayDepth bounds the drained batches waiting for Redis: past it the oldest are left to the next holder's
// backfill, which searches from the newest appended event.
const relayDepth = 1000

// New makes this replica's part; it follows the stream into buffer, and drains source when it holds the lease.
func New(shared *cluster.Shared, source queue.Source, buffer *queue.Buffer, cfg queue.Config) *Replicas {
	cfg = cfg.WithDefaults()
	host, _ := os.Hostname()
	ctx, cancel := context.WithCancel(context.Background())
	return &Replicas{
		shared: shared, lease: shared.Lease(leaseTTL, fmt.Sprintf("%s/%d", host, os.Getpid())),
		buffer: buffer, source: source, cfg: cfg,
		ctx: ctx, cancel: cancel, relay: relay{batches: make(chan []cbc.Record, relayDepth), logger: cfg.Logger}, seen: map[string]time.Time{},
	}
}

// Start starts following the stream and contending for the lease, once: on the first queue query or live panel.
func (r *Replicas) Start() {
	r.start.Do(func() {
		r.mu.Lock()
		r.following = true
		r.mu.Unlock()
		r.wg.Add(3)
		go r.follow()
		go r.contend()
		go r.append()
	})
}

// Stop ends this replica's part at once, and gives the lease up so that another takes over without waiting.
// Safe to call more than once.
func (r *Replicas) Stop() {
	r.end.Do(func() {
		r.cancel()
		r.wg.Wait()
		r.mu.Lock()
		r.following = false
		r.mu.Unlock()
		_ = r.shared.Close()
	})
}

// follow reads the stream into the buffer: every event once, in the order the holder appended them.
func (r *Replicas) follow() {
	defer r.wg.Done()
	after := "0"
	failures := 0
	for r.ctx.Err() == nil {
		entries, err := r.shared.Read(r.ctx, after, 2*time.Second, 1000)
		if err != nil {
			if r.ctx.Err() != nil {
				return
			}
			failures++
			r.failed(err)
			r.sleep(min(time.Duration(failures)*time.Second, 5*time.Second))
			continue
		}
		failures = 0
		r.answered()
		if len(entries) == 0 {
			continue
		}
		after = entries[len(entries)-1].ID
		records, seqs := r.unseen(entries)
		r.buffer.AddNumbered(records, seqs)
	}
}

// unseen keeps the entries this replica has not delivered yet (after Redis lost its data, a new holder may
// append again what the stream held before), each with its stream id as its number: every replica numbers an
// event alike, so a live panel's stream may run on another replica than its query.
func (r *Replicas) unseen(entries []cluster.Entry) ([]cbc.Record, []uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	horizon := r.cfg.Now().Add(-r.cfg.MaxAge)
	for member, at := range r.seen {
		if at.Before(horizon) {
			delete(r.seen, member)
		}
	}
	var (
		kept []cbc.Record
		seqs []uint64
	)
	for _, e := range entries {
		if _, ok := r.seen[e.Member]; ok {
			continue
		}
		r.seen[e.Member] = e.Record.CreateTime
		kept = append(kept, e.Record)
		seqs = append(seqs, streamSeq(e.ID))
	}
	r.delivered += len(kept)
	r.lastRead = r.cfg.Now()
	return kept, seqs
}

// streamSeq is a stream id ("<milliseconds>-<sequence>") as a buffer's arrival number.
func streamSeq(id string) uint64 {
	msText, nText, _ := strings.Cut(id, "-")
	ms, _ := strconv.ParseInt(msText, 10, 64)
	n, _ := strconv.ParseUint(nText, 10, 64)
	return queue.SeqOf(time.UnixMilli(ms), n)
}

// contend takes the lease when it is free and renews it while held; a replica that cannot renew it (Redis is
// unreachable, or it stalled past the TTL and another took over) stops draining at once.
func (r *Replicas) contend() {
	defer r.wg.Done()
	defer r.stepDown(true)
	for r.ctx.Err() == nil {
		r.mu.Lock()
		leading := r.leader != nil
		r.mu.Unlock()
		if leading {
			if ok, err := r.lease.Renew(r.ctx); !ok || err != nil {
				if err != nil {
					r.failed(err)
				}
				r.cfg.Logger.Warn("Queue drain: lost the lease of the shared queue; this replica stops draining", "error", errText(err))
				r.stepDown(false)
			}
		} else if ok, err := r.lease.Acquire(r.ctx); err != nil {
			r.failed(err)
		} else if ok {
			r.lead()
		}
		r.sleep(r.lease.TTL() / 3)
	}
}

// lead starts draining CBC's queue. The backfill reaches back from the newest event appended to the stream,
// less the drain's margin: what the previous holder read but never appended (it died in between) is found by
// that search, and the stream keeps only what it does not hold yet.
func (r *Replicas) lead() {
	cfg := r.cfg
	if newest, ok, err := r.shared.Newest(r.ctx); err == nil && ok {
		cfg.Backfill = min(max(cfg.Backfill, cfg.Now().Sub(newest.Add(-cfg.Margin))), cfg.QueueAge)
	}
	leader := queue.New(r.source, r.relay, cfg)
	r.mu.Lock()
	r.leader = leader
	r.mu.Unlock()
	r.cfg.Logger.Info("Queue drain: this replica holds the lease of the shared queue and drains it", "backfill", cfg.Backfill.Round(time.Second))
	leader.Start()
}

// stepDown stops draining; release gives the lease up as well (this replica is going away).
func (r *Replicas) stepDown(release bool) {
	r.mu.Lock()
	leader := r.leader
	r.leader = nil
	r.mu.Unlock()
	if leader != nil {
		leader.Stop()
	}
	if release {
		_ = r.lease.Release(context.Background())
	}
}

// append writes drained batches to the stream, retrying while Redis is unreachable: a batch read from CBC exists
// nowhere else. Appending is idempotent, so a retry after an unknown outcome adds nothing twice.
func (r *Replicas) append() {
	defer r.wg.Done()
	for {
		var batch []cbc.Record
		select {
		case <-r.ctx.Done():
			return
		case batch = <-r.relay.batches:
		}
		for attempt := 1; ; attempt++ {
			_, err := r.shared.Append(r.ctx, batch)
			if err == nil {
				r.answered()
				break
			}
			if r.ctx.Err() != nil {
				return
			}
			r.failed(err)
			r.sleep(min(time.Duration(attempt)*time.Second, 5*time.Second))
		}
	}
}

func (r *Replicas) failed(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.redisErr == "" {
		r.cfg.Logger.Warn("Shared queue: Redis is unreachable; this replica keeps serving searches and counts, and no replica drains the queue until Redis answers", "error", err.Error())
	}
	r.redisErr = err.Error()
}

func (r *Replicas) answered() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.redisErr != "" {
		r.cfg.Logger.Info("Shared queue: Redis answers again")
	}
	r.redisErr = ""
}

func (r *Replicas) sleep(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.ctx.Done():
	case <-t.C:
	}
}

// Report is what the health check and queue/status say of the shared queue.
type Report struct {
	Role        string        `json:"role"` // "leader" drains the queue; "follower" reads the stream
	Unreachable string        `json:"redisUnreachable,omitempty"`
	Leader      *queue.Status `json:"leaderDrain,omitempty"`
}

// Report says which role this replica has, and whether Redis answers.
func (r *Replicas) Report() Report {
	r.mu.Lock()
	leader, unreachable := r.leader, r.redisErr
	r.mu.Unlock()
	st := Report{Role: "follower", Unreachable: unreachable}
	if leader != nil {
		ls := leader.Status()
		st.Role, st.Leader = "leader", &ls
	}
	return st
}

// Status is this replica's queue status: how it follows the stream, and whether the drain it leads stopped.
func (r *Replicas) Status() queue.Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := queue.Status{Running: r.following, Drained: r.delivered, LastPoll: r.lastRead}
	if r.leader != nil {
		st.Stopped = r.leader.Status().Stopped
	}
	return st
}

// Notice is what a queue query says while the shared queue is not working; empty while it is.
func (r *Replicas) Notice() string {
	if st := r.Report(); st.Unreachable != "" {
		return "Redis, where the Grafana replicas share this queue, is unreachable: no replica reads Carbon Black Cloud's queue until it answers again. Events wait in Carbon Black Cloud's queue (it keeps three days) and arrive then. Searches and counts work as usual."
	}
	return ""
}

func errText(err error) string {
	if err == nil {
		return "another replica holds it"
	}
	return err.Error()
}

// Health says whether Redis answers and which replica drains, as a sentence of the health check's message.
func (r *Replicas) Health(ctx context.Context) string {
	if err := r.shared.Ping(ctx); err != nil {
		return "Redis, shared by the Grafana replicas, is unreachable (" + err.Error() + "): searches and counts work, the live queue waits until it answers"
	}
	holder, _ := r.shared.Holder(ctx)
	if holder == "" {
		return "Redis is shared by the Grafana replicas; no replica drains the live queue yet (it starts with the first live panel or queue query)"
	}
	return "Redis is shared by the Grafana replicas; the live queue is drained by " + holder
}

// Shared is the Redis state this replica shares with the others.
func (r *Replicas) Shared() *cluster.Shared { return r.shared }
