package queue

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/cbcsim"
	"github.com/seed/cbcauditlogs/pkg/cbctest"
)

// faultKinds are the ways a queue read can go wrong, each placed before, during or after CBC acted on it.
var faultKinds = map[string]struct {
	fault   cbcsim.Fault
	timeout time.Duration // the client's per-request timeout, short where the fault is about time
}{
	"refused before CBC acted (503)":      {fault: cbcsim.Fault{Status: 503}},
	"reset before CBC acted":              {fault: cbcsim.Fault{Reset: true}},
	"answer after the client's timeout":   {fault: cbcsim.Fault{LatencyMS: 1000}, timeout: 300 * time.Millisecond},
	"slow body past the client's timeout": {fault: cbcsim.Fault{SlowBodyMS: 400}, timeout: 300 * time.Millisecond},
	"body cut short":                      {fault: cbcsim.Fault{Truncate: true}},
	"garbled body":                        {fault: cbcsim.Fault{Malformed: true}},
	"reset after CBC acted":               {fault: cbcsim.Fault{Reset: true, After: true}},
	"504 after CBC acted":                 {fault: cbcsim.Fault{Status: 504, After: true}},
	"429 before CBC acted":                {fault: cbcsim.Fault{Status: 429, RetryAfter: 1}},
}

// drainEnv is a simulator whose whole history waits in the Grafana key's queue, so that at the end every
// event it holds must have reached the drainer's buffer exactly once.
func drainEnv(t *testing.T, backlog int, timeout time.Duration, modes ...func(*cbcsim.Config)) *env {
	t.Helper()
	began := time.Now()
	now := func() time.Time { return start.Add(time.Since(began)) }
	cfg := cbcsim.Config{Seed: uint64(backlog) + 1, EventsPerDay: -1, Span: 2 * time.Hour, QueueHistory: 2 * time.Hour, Now: now}
	if backlog > 0 {
		cfg.Records = backlog
	}
	for _, mode := range modes {
		mode(&cfg)
	}
	sim := cbcsim.New(cfg)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() {
		srv.Close()
		sim.Close()
	})
	newClient := func(timeout time.Duration) *cbc.Client {
		return cbc.New(cbc.Config{BaseURL: srv.URL, OrgKey: "ABCD1234", APIID: "GRAFANA001", APISecret: "SIMULATORSECRET0GRAFANA01", Timeout: timeout})
	}
	e := &env{sim: sim, client: newClient(time.Minute), now: now}
	e.source = e.client
	if timeout > 0 {
		e.source = splitSource{queue: newClient(timeout), Client: e.client}
	}
	return e
}

// splitSource reads the queue through a client with a short timeout, and searches through one whose timeout is
// far above any run: a test of queue timeouts must not fail because a loaded machine slowed a search.
type splitSource struct {
	queue *cbc.Client
	*cbc.Client
}

func (s splitSource) Queue(ctx context.Context) (cbc.SearchResponse, error) {
	return s.queue.Queue(ctx)
}

func (s splitSource) LegacyQueue(ctx context.Context) ([]cbc.Record, error) {
	return s.queue.LegacyQueue(ctx)
}

// settled waits until the queue is empty, nothing is left to recover, and the buffer holds every event the
// simulator holds (which is every event its queue handed out, or still holds); then it compares the two as
// multisets.
func settled(t *testing.T, e *env, d drain) {
	t.Helper()
	truth := ids(cbctest.Records(e.sim))
	var got []string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		got = ids(d.Records(start.Add(-24*time.Hour), e.now().Add(time.Hour)))
		if e.sim.QueueBacklog("GRAFANA001") == 0 && len(d.Status().Incomplete) == 0 && slices.Equal(got, truth) {
			break
		}
	}
	dequeued := ids(cbctest.Dequeued(e.sim, "GRAFANA001"))
	if !slices.Equal(dequeued, truth) {
		t.Fatalf("the queue handed out %d events of the %d it held", len(dequeued), len(truth))
	}
	lost, doubled := difference(truth, got), difference(got, truth)
	if len(lost) > 0 || len(doubled) > 0 {
		t.Fatalf("%d events lost and %d doubled of %d; status %+v", len(lost), len(doubled), len(truth), d.Status())
	}
}

// difference is a minus b as multisets of sorted ids.
func difference(a, b []string) []string {
	var out []string
	i, j := 0, 0
	for i < len(a) {
		switch {
		case j >= len(b) || a[i] < b[j]:
			out = append(out, a[i])
			i++
		case a[i] > b[j]:
			j++
		default:
			i++
			j++
		}
	}
	return out
}

// drainThrough drains e's queue with fault, when there is one, striking one queue read, and events arriving
// before the drain starts and after that read; every event must reach the buffer exactly once.
func drainThrough(t *testing.T, e *env, fault *cbcsim.Fault) {
	t.Helper()
	d := e.drainer(20 * time.Millisecond)
	defer d.Stop()
	reads := 2
	if fault != nil {
		f := *fault
		f.Endpoint, f.Times = "queue", 1
		e.sim.AddFault(f)
		reads = f.Skip + 1
	}
	e.inject(40, "before")
	d.Start()
	waitFor(t, "the fault to strike", func() bool { return e.sim.Requests("queue") > reads })
	e.inject(40, "after")
	settled(t, e, d)
}

// The invariant, under every fault kind, hitting the first or a later read, at several backlog sizes: every
// event the queue hands out reaches the buffer exactly once. The cases mostly wait (for spans to close), so
// they run side by side, more of them than t.Parallel would on two cores.
func TestDrainLosesNothingUnderAnyFault(t *testing.T) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, 12)
	for name, kind := range faultKinds {
		for _, backlog := range []int{0, 120, 6000} {
			for _, skip := range []int{0, 1} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					slots <- struct{}{}
					defer func() { <-slots }()
					t.Run(fmt.Sprintf("%s/backlog %d/read %d", name, backlog, skip+1), func(t *testing.T) {
						fault := kind.fault
						fault.Skip = skip
						drainThrough(t, drainEnv(t, backlog, kind.timeout), &fault)
					})
				}()
			}
		}
	}
	wg.Wait()
}

// A recovery search that fails is tried again, through further faults, until it succeeds.
func TestFailingRecoverySearchIsRetried(t *testing.T) {
	e := drainEnv(t, 3000, 0)
	d := e.drainer(20 * time.Millisecond)
	defer d.Stop()
	e.sim.AddFault(cbcsim.Fault{Endpoint: "queue", Reset: true, After: true, Skip: 1, Times: 1})
	e.sim.AddFault(cbcsim.Fault{Endpoint: "search", Status: 503, Skip: 1, Times: 8})
	e.sim.AddFault(cbcsim.Fault{Endpoint: "search", Reset: true, Skip: 9, Times: 4})
	d.Start()
	waitFor(t, "a failed recovery", func() bool {
		st := d.Status()
		return len(st.Incomplete) > 0 && st.Incomplete[0].Attempts > 0
	})
	if notice := d.Status().IncompleteNotice(); !strings.Contains(notice, "may be missing") || !strings.Contains(notice, "503") {
		t.Errorf("notice while recovering: %q", notice)
	}
	settled(t, e, d)
}

// With a buffer capped far below the backlog, every event still reaches the buffer once.
func TestBacklogOverTheBufferCap(t *testing.T) {
	e := drainEnv(t, 6000, 0)
	var mu sync.Mutex
	var added []cbc.Record
	cfg := Config{Poll: 20 * time.Millisecond, Backfill: 15 * time.Minute, MaxCount: 100, MaxAge: 72 * time.Hour, Margin: testMargin, Now: e.now}
	buffer := NewBuffer(cfg)
	d := drain{New(e.source, sinkFunc(func(records []cbc.Record) {
		mu.Lock()
		added = append(added, records...)
		mu.Unlock()
		buffer.Add(records)
	}), cfg), buffer}
	e.sim.AddFault(cbcsim.Fault{Endpoint: "queue", Status: 504, After: true, Skip: 1, Times: 1})
	d.Start()
	waitFor(t, "the drain", func() bool {
		return e.sim.QueueBacklog("GRAFANA001") == 0 && len(d.Status().Incomplete) == 0 && d.Status().Recovered > 0
	})
	d.Stop()
	mu.Lock()
	defer mu.Unlock()
	truth := ids(cbctest.Records(e.sim))
	if lost, doubled := difference(truth, ids(added)), difference(ids(added), truth); len(lost) > 0 || len(doubled) > 0 {
		t.Fatalf("%d lost, %d doubled of %d", len(lost), len(doubled), len(truth))
	}
	if st := d.Status(); st.BufferSize > 100 {
		t.Errorf("the buffer holds %d events over its cap of 100", st.BufferSize)
	}
}

// A panel that subscribes before a large backlog is read receives none of it, only the events that arrive
// later, each once; a subscriber that does not read loses its oldest batches, counted, instead of holding all.
func TestLivePanelsGetOnlyLiveEvents(t *testing.T) {
	e := drainEnv(t, 16503, 0)
	d := e.drainer(20 * time.Millisecond)
	defer d.Stop()
	sub := d.Live()
	defer sub.Close()
	idle := d.Live()
	defer idle.Close()
	d.Start()
	waitFor(t, "the backlog to be read", func() bool { return e.sim.QueueBacklog("GRAFANA001") == 0 && d.Status().Drained >= 16503 })
	time.Sleep(50 * time.Millisecond) // the injected events, a millisecond apart up to now, all happen after subscribing
	sent := e.inject(30, "live")
	var got []cbc.Record
	for len(got) < len(sent) {
		select {
		case batch := <-sub.C:
			got = append(got, batch...)
		case <-time.After(10 * time.Second):
			t.Fatalf("received %d of %d live events", len(got), len(sent))
		}
	}
	if fmt.Sprint(ids(got)) != fmt.Sprint(ids(sent)) {
		t.Errorf("the panel received %d events, not the %d live ones: the backlog reached it", len(got), len(sent))
	}
	for i := range subscriberBacklog + 10 {
		e.inject(1, fmt.Sprintf("burst%d", i))
		waitFor(t, "the burst", func() bool { return e.sim.QueueBacklog("GRAFANA001") == 0 })
	}
	waitFor(t, "the idle subscriber to drop", func() bool { return idle.dropped.Load() > 0 })
	if held := len(idle.ch); held > subscriberBacklog {
		t.Errorf("an idle subscriber holds %d batches", held)
	}
}

// A settings change in the middle of a read: the old drainer stops at once, the new one takes its buffer and
// recovers the interrupted read's span.
func TestSettingsChangeMidDrainHandsOver(t *testing.T) {
	e := drainEnv(t, 3000, 0)
	old := e.drainer(20 * time.Millisecond)
	e.sim.AddFault(cbcsim.Fault{Endpoint: "queue", LatencyMS: 1000, Skip: 1, Times: 1})
	old.Start()
	waitFor(t, "the slow read", func() bool { return e.sim.Requests("queue") >= 2 })
	e.inject(40, "during")
	cfg := Config{Poll: 20 * time.Millisecond, Backfill: 15 * time.Minute, MaxCount: 100000, MaxAge: 72 * time.Hour, Margin: testMargin, Now: e.now}
	buffer := old.HandOver(cfg)
	d := drain{TakeOver(old.Drainer, e.source, buffer, cfg), buffer}
	defer d.Stop()
	if st := old.Status(); st.Running || st.BufferSize != 0 {
		t.Errorf("the old drainer still runs or holds a buffer: %+v", st)
	}
	e.inject(40, "after")
	settled(t, e, d)
}

// Stop interrupts a read that waits out a long 429, instead of waiting with it.
func TestStopDuringA429ReturnsAtOnce(t *testing.T) {
	e := drainEnv(t, 100, 0)
	d := e.drainer(20 * time.Millisecond)
	e.sim.AddFault(cbcsim.Fault{Endpoint: "queue", Status: 429, RetryAfter: 120, Times: 1})
	d.Start()
	waitFor(t, "the 429", func() bool { return e.sim.Requests("queue") >= 1 })
	stopped := make(chan struct{})
	go func() {
		d.Stop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(60 * time.Second):
		t.Fatal("Stop waited out the 429's two minutes")
	}
}

// The legacy v3 queue, used when the v1 route is missing, keeps the same invariant.
func TestLegacyDrainLosesNothing(t *testing.T) {
	for name, fault := range map[string]cbcsim.Fault{
		"reset after CBC acted": {Reset: true, After: true},
		"504 after CBC acted":   {Status: 504, After: true},
		"garbled body":          {Malformed: true},
	} {
		t.Run(name, func(t *testing.T) {
			e := drainEnv(t, 3000, 0)
			e.sim.AddFault(cbcsim.Fault{Endpoint: "queue", Status: 404})
			fault.Endpoint, fault.Skip, fault.Times = "legacy", 1, 1
			e.sim.AddFault(fault)
			d := e.drainer(20 * time.Millisecond)
			defer d.Stop()
			d.Start()
			waitFor(t, "the fault to strike", func() bool { return e.sim.Requests("legacy") > 2 })
			e.inject(40, "after")
			settled(t, e, d)
			if !d.Status().Legacy {
				t.Error("the drain did not use the legacy queue")
			}
		})
	}
}

// Nothing public says in which order a queue answer lists its events (CBC's migration guide shows one newest
// first), nor whether num_available counts the backlog before or after the read. Under each answer, with a
// fault that leaves a read's outcome unknown or none, every event reaches the buffer exactly once.
func TestDrainExactUnderEveryQueueBehaviour(t *testing.T) {
	var wg sync.WaitGroup
	for _, order := range []string{"oldest", "newest"} {
		for _, available := range []string{"before", "after"} {
			for name, fault := range map[string]*cbcsim.Fault{"no fault": nil, "garbled body": {Malformed: true, Skip: 1},
				"504 after CBC acted": {Status: 504, After: true}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					t.Run(fmt.Sprintf("%s first, num_available %s, %s", order, available, name), func(t *testing.T) {
						drainThrough(t, drainEnv(t, 6000, 0, func(cfg *cbcsim.Config) { cfg.QueueOrder, cfg.NumAvailable = order, available }), fault)
					})
				}()
			}
		}
	}
	wg.Wait()
}

// An event CBC indexes late reaches the queue after newer ones. A read that takes it with an unknown outcome
// is recovered from Config.Reach before the newest event drained, so an event created 40 minutes before it
// reached the queue is found again.
func TestLateEventInAFailedReadIsRecovered(t *testing.T) {
	e := drainEnv(t, 120, 0)
	d := e.drainer(20 * time.Millisecond)
	defer d.Stop()
	d.Start()
	waitFor(t, "the backlog", func() bool { return d.Status().Drained >= 120 })
	e.inject(5, "now")
	waitFor(t, "the new events", func() bool { return d.Status().Drained >= 125 })
	e.sim.AddFault(cbcsim.Fault{Endpoint: "queue", Status: 504, After: true, Times: 1})
	late := cbc.Record{CreateTime: e.now().Add(-40 * time.Minute).Truncate(time.Millisecond), Actor: "late@acme.example",
		Description: "Logged in successfully", OrgKey: "ABCD1234"}
	cbctest.Inject(e.sim, late)
	settled(t, e, d)
	if d.Status().Recovered != 1 {
		t.Errorf("recovered %d events, want the late one", d.Status().Recovered)
	}
}

// sinkFunc is a Sink made of a function.
type sinkFunc func([]cbc.Record)

func (f sinkFunc) Add(records []cbc.Record) { f(records) }

// A read CBC acts on after the client gave up can take events created after the client sent it. The span to
// search reaches past the read's own time by the margin, so they are found; a span that ended at the read
// would lose them. The reads after it are refused (429, known not to have acted) until it has acted, so none of
// them takes the events first, nor leaves a span of its own that would cover them.
func TestEventsALateReadTookAreRecovered(t *testing.T) {
	e := drainEnv(t, 500, 300*time.Millisecond)
	e.sim.AddFault(cbcsim.Fault{Endpoint: "queue", LatencyMS: 5000, Times: 1})
	e.sim.AddFault(cbcsim.Fault{Endpoint: "queue", Status: 429, RetryAfter: 1, Skip: 1}) // refused before acting: no span of its own
	d := e.drainer(20 * time.Millisecond)
	defer d.Stop()
	d.Start()
	waitFor(t, "the first read to time out and the next to be refused", func() bool { return e.sim.Requests("queue") >= 2 })
	e.inject(30, "taken-late")
	waitFor(t, "the late read to take them", func() bool { return e.sim.QueueBacklog("GRAFANA001") == 0 })
	e.sim.ClearFaults()
	settled(t, e, d)
}
