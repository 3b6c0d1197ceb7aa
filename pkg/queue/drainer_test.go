package queue

import (
	"fmt"
	"net/http/httptest"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/cbcsim"
	"github.com/seed/cbcauditlogs/pkg/cbctest"
)

var start = time.Date(2024, 4, 17, 20, 0, 0, 0, time.UTC)

// testMargin stands for CBC's ingestion delay in tests: the simulator has none, and the longest injected
// latency (1 s) stays well inside it.
const testMargin = 3 * time.Second

// env is a simulator whose clock runs from start, and a client for its Grafana key.
type env struct {
	sim    *cbcsim.Simulator
	client *cbc.Client
	source Source // what drainers read through: the client, unless a test splits queue reads from searches
	now    func() time.Time
}

func newEnv(t *testing.T, cfg cbcsim.Config) *env {
	t.Helper()
	began := time.Now()
	now := func() time.Time { return start.Add(time.Since(began)) }
	cfg.Now = now
	sim := cbcsim.New(cfg)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() {
		srv.Close()
		sim.Close()
	})
	client := cbc.New(cbc.Config{BaseURL: srv.URL, OrgKey: "ABCD1234", APIID: "GRAFANA001", APISecret: "SIMULATORSECRET0GRAFANA01"})
	return &env{sim: sim, client: client, source: client, now: now}
}

// drain is a Drainer writing into a Buffer, as a data source runs them.
type drain struct {
	*Drainer
	*Buffer
}

// Status is the drainer's status with the buffer's part.
func (d drain) Status() Status {
	st := d.Drainer.Status()
	d.Describe(&st)
	return st
}

func (e *env) drain(cfg Config) drain {
	b := NewBuffer(cfg)
	return drain{New(e.source, b, cfg), b}
}

func (e *env) drainer(poll time.Duration) drain {
	return e.drain(Config{Poll: poll, Backfill: 15 * time.Minute, MaxCount: 100000, MaxAge: 72 * time.Hour, Margin: testMargin, Now: e.now})
}

// inject adds n events, one millisecond apart, the last one just now.
func (e *env) inject(n int, tag string) []cbc.Record {
	at := e.now().Truncate(time.Millisecond)
	var out []cbc.Record
	for i := range n {
		out = append(out, cbc.Record{CreateTime: at.Add(-time.Duration(n-1-i) * time.Millisecond), Actor: fmt.Sprintf("%s-%d@acme.example", tag, i), Description: "Logged in successfully", OrgKey: "ABCD1234"})
	}
	cbctest.Inject(e.sim, out...)
	return out
}

// waitFor waits until ok holds. Its deadline only bounds a failing run: two busy cores running a dozen drains
// side by side under the race detector can take many seconds to reach a step.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func ids(records []cbc.Record) []string {
	out := make([]string, len(records))
	for i, r := range records {
		out[i] = r.ID()
	}
	sort.Strings(out)
	return out
}

// The buffer ends up with exactly the simulator's events of the buffered window: none lost, none doubled.
// The drainer may still be adding the last batch it read, so this waits a little for the two to agree.
func sameAsTruth(t *testing.T, e *env, d drain, from time.Time) {
	t.Helper()
	var truth []cbc.Record
	for _, r := range cbctest.Records(e.sim) {
		if !r.CreateTime.Before(from) {
			truth = append(truth, r)
		}
	}
	var got []cbc.Record
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = d.Records(from, e.now().Add(time.Hour)); fmt.Sprint(ids(got)) == fmt.Sprint(ids(truth)) {
			return
		}
	}
	t.Fatalf("buffer holds %d events, the simulator %d since %s", len(got), len(truth), from.Format(time.RFC3339))
}

func TestSubscribersAllReceiveEveryEvent(t *testing.T) {
	e := newEnv(t, cbcsim.Config{Seed: 1, EventsPerDay: 500})
	backlog := e.sim.QueueBacklog("GRAFANA001")
	d := e.drainer(20 * time.Millisecond)
	defer d.Stop()
	d.Start()
	waitFor(t, "the first drain", func() bool { return d.Status().Drained >= backlog })
	a, b := d.Live(), d.Live()
	defer a.Close()
	defer b.Close()
	time.Sleep(50 * time.Millisecond) // the injected events, a millisecond apart up to now, all happen after subscribing
	sent := e.inject(30, "live")
	for name, ch := range map[string]<-chan []cbc.Record{"a": a.C, "b": b.C} {
		var got []cbc.Record
		for len(got) < len(sent) {
			select {
			case batch := <-ch:
				got = append(got, batch...)
			case <-time.After(5 * time.Second):
				t.Fatalf("subscriber %s received %d of %d events", name, len(got), len(sent))
			}
		}
		if fmt.Sprint(ids(got)) != fmt.Sprint(ids(sent)) {
			t.Errorf("subscriber %s received other events than were sent", name)
		}
	}
}

func TestReadingTheBufferDoesNotConsumeTheQueue(t *testing.T) {
	e := newEnv(t, cbcsim.Config{Seed: 2, EventsPerDay: 500})
	backlog := e.sim.QueueBacklog("GRAFANA001")
	d := e.drainer(time.Hour)
	defer d.Stop()
	d.Start()
	// The first poll reads every batch of the backlog, and no more: the last batch's num_available says it took
	// the rest.
	waitFor(t, "the first drain", func() bool { return d.Status().Drained >= backlog })
	time.Sleep(50 * time.Millisecond)
	if reads := e.sim.Requests("queue"); reads != (backlog+2499)/2500 {
		t.Errorf("the first poll read the queue %d times for a backlog of %d", reads, backlog)
	}
	e.inject(5, "later")
	reads := e.sim.Requests("queue")
	for range 10 {
		if n := len(d.Records(start.Add(-time.Hour), e.now())); n == 0 {
			t.Fatal("the buffer is empty")
		}
	}
	if e.sim.Requests("queue") != reads || e.sim.QueueBacklog("GRAFANA001") != 5 {
		t.Errorf("reading the buffer touched the queue: %d reads, backlog %d", e.sim.Requests("queue")-reads, e.sim.QueueBacklog("GRAFANA001"))
	}
}

// A restart between two drainers, with events arriving meanwhile, loses none and doubles none.
func TestRestartLeavesNoGapAndNoDuplicate(t *testing.T) {
	e := newEnv(t, cbcsim.Config{Seed: 3, EventsPerDay: 2000})
	backlog := e.sim.QueueBacklog("GRAFANA001")
	first := e.drainer(20 * time.Millisecond)
	first.Start()
	e.inject(10, "before")
	waitFor(t, "the first drainer to read everything", func() bool { return first.Status().Drained >= backlog+10 })
	first.Stop()

	e.inject(10, "between") // read by nobody yet; and the queue also still holds nothing of the earlier events
	second := e.drainer(20 * time.Millisecond)
	defer second.Stop()
	second.Start()
	e.inject(10, "after")
	waitFor(t, "the second drainer", func() bool { return e.sim.QueueBacklog("GRAFANA001") == 0 && second.Status().Drained >= 20 })
	sameAsTruth(t, e, second, e.now().Add(-15*time.Minute))
}

func TestFaultsOnTheQueueLoseNothing(t *testing.T) {
	e := newEnv(t, cbcsim.Config{Seed: 4, EventsPerDay: 300})
	d := e.drainer(20 * time.Millisecond)
	defer d.Stop()
	d.Start()
	waitFor(t, "the first drain", func() bool { return e.sim.QueueBacklog("GRAFANA001") == 0 })
	e.sim.AddFault(cbcsim.Fault{Endpoint: "queue", Status: 503, Times: 8})
	e.inject(20, "during")
	waitFor(t, "the 503s to pass", func() bool { return e.sim.QueueBacklog("GRAFANA001") == 0 })
	// A batch cut short was removed from the queue all the same: the drainer finds it again by searching.
	e.sim.AddFault(cbcsim.Fault{Endpoint: "queue", Truncate: true, Times: 1})
	e.inject(20, "cut")
	waitFor(t, "the cut batch", func() bool { return e.sim.QueueBacklog("GRAFANA001") == 0 })
	e.sim.AddFault(cbcsim.Fault{Endpoint: "queue", Malformed: true, Times: 1})
	e.inject(20, "garbled")
	waitFor(t, "the garbled batch", func() bool { return e.sim.QueueBacklog("GRAFANA001") == 0 })
	e.sim.AddFault(cbcsim.Fault{Endpoint: "queue", Status: 429, RetryAfter: 1, Times: 1})
	e.inject(20, "after")
	waitFor(t, "the 429 to pass", func() bool { return e.sim.QueueBacklog("GRAFANA001") == 0 })
	sameAsTruth(t, e, d, start.Add(-72*time.Hour))
}

func TestRevokedKeyStopsTheDrainer(t *testing.T) {
	e := newEnv(t, cbcsim.Config{Seed: 5, EventsPerDay: 100})
	d := e.drainer(20 * time.Millisecond)
	defer d.Stop()
	d.Start()
	e.sim.Revoke("GRAFANA001")
	waitFor(t, "the drainer to stop", func() bool { return d.Status().Stopped != "" })
	if st := d.Status(); st.Running || st.LastError == "" {
		t.Errorf("status after revocation: %+v", st)
	}
}

func TestLegacyQueueWhenV1IsMissing(t *testing.T) {
	e := newEnv(t, cbcsim.Config{Seed: 6, EventsPerDay: 100})
	e.sim.AddFault(cbcsim.Fault{Endpoint: "queue", Status: 404})
	d := e.drainer(20 * time.Millisecond)
	defer d.Stop()
	d.Start()
	waitFor(t, "the legacy drain", func() bool { return d.Status().Legacy && e.sim.QueueBacklog("GRAFANA001") == 0 })
	sent := e.inject(3, "legacy")
	waitFor(t, "the new events", func() bool { return len(d.Records(sent[0].CreateTime, e.now())) == 3 })
}

func TestBufferIsBounded(t *testing.T) {
	e := newEnv(t, cbcsim.Config{Seed: 7, EventsPerDay: 5000})
	d := e.drain(Config{Poll: time.Hour, Backfill: time.Minute, MaxCount: 1000, MaxAge: 12 * time.Hour, Now: e.now})
	defer d.Stop()
	d.Start()
	waitFor(t, "the first drain", func() bool { return e.sim.QueueBacklog("GRAFANA001") == 0 })
	st := d.Status()
	if st.BufferSize != 1000 || st.Oldest.Before(e.now().Add(-12*time.Hour)) {
		t.Errorf("buffer of %d records from %s; want at most 1000, none older than 12 h", st.BufferSize, st.Oldest)
	}
}

func TestStopLeavesNoGoroutine(t *testing.T) {
	e := newEnv(t, cbcsim.Config{Seed: 8, EventsPerDay: 100})
	for range 5 {
		d := e.drainer(10 * time.Millisecond)
		d.Start()
		sub := d.Live()
		time.Sleep(30 * time.Millisecond)
		d.Stop()
		sub.Close()
	}
	never := e.drainer(time.Second)
	never.Stop()
	if stacks := drainerGoroutines(); stacks != "" {
		t.Fatalf("drainer goroutines outlived Stop:\n%s", stacks)
	}
}

// drainerGoroutines returns the stacks of running goroutines that are in this package's code.
func drainerGoroutines() string {
	buf := make([]byte, 1<<20)
	all := string(buf[:runtime.Stack(buf, true)])
	var found []string
	for _, g := range strings.Split(all, "\n\n") {
		if strings.Contains(g, "queue.(*Drainer)") && !strings.Contains(g, "drainerGoroutines") {
			found = append(found, g)
		}
	}
	return strings.Join(found, "\n\n")
}
