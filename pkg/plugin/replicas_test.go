package plugin

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	goredis "github.com/redis/go-redis/v9"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/cbcsim"
	"github.com/seed/cbcauditlogs/pkg/cluster/redistest"
)

func queueNotices(t *testing.T, f *fixture) string {
	t.Helper()
	res := f.run(t, dataQuery("Q", `{"queryType":"queue"}`)).Responses["Q"]
	if res.Error != nil || len(res.Frames) != 1 {
		t.Fatalf("queue query: %v", res.Error)
	}
	return strings.Join(func() []string {
		var out []string
		for _, n := range res.Frames[0].Meta.Notices {
			out = append(out, n.Text)
		}
		return out
	}(), " ")
}

// With Redis in the data source's settings, the replica drains through the lease and the stream. When Redis
// goes away, searches and counts keep working, the health check and queue queries say what is wrong, and no
// replica drains; when Redis returns, the drain resumes by itself and nothing drained is lost.
func TestRedisOutageFallsBackAndRecovers(t *testing.T) {
	redis := redistest.Start(t)
	f := newFixture(t, cbcsim.Config{Seed: 8, EventsPerDay: 400, Now: time.Now}, map[string]any{"redisAddress": redis.Addr, "queuePollSeconds": 10})
	if f.ds.replicas == nil {
		t.Fatal("the data source's Redis setting was not used")
	}
	queueNotices(t, f) // starts following the stream and contending for the lease
	backlog := f.sim.QueueBacklog(simKey)
	waitUntil(t, "the drain through the stream", func() bool { return f.ds.queueStatus().Drained >= backlog && backlog > 0 })
	if st := f.ds.replicas.Report(); st.Role != "leader" {
		t.Fatalf("the only replica is %q", st.Role)
	}

	redis.Stop()
	waitUntil(t, "the replica to notice", func() bool { return f.ds.replicas.Report().Unreachable != "" })
	if notice := queueNotices(t, f); !strings.Contains(notice, "Redis, where the Grafana replicas share this queue, is unreachable") {
		t.Errorf("queue query notices: %q", notice)
	}
	if res := f.run(t, dataQuery("A", `{"queryType":"count"}`)).Responses["A"]; res.Error != nil {
		t.Errorf("a count failed while Redis was down: %v", res.Error)
	}
	start := time.Now()
	health, err := f.ds.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if err != nil || !strings.Contains(health.Message, "Redis, shared by the Grafana replicas, is unreachable") {
		t.Errorf("health while Redis is down: %v %q", err, health.Message)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the health check hung %s on an unreachable Redis", took)
	}
	waitUntil(t, "the replica to stop draining", func() bool { return f.ds.replicas.Report().Role == "follower" })

	// Events arrive while Redis is down: they wait in CBC's queue.
	f.sim.Inject(cbcsim.Event{CreateTime: time.Now(), Actor: "during.outage@acme.example", Description: "Login failed"})
	redis.Restart(t, 0)
	waitUntil(t, "the drain to resume", func() bool {
		for _, r := range f.ds.buffer.Records(time.Now().Add(-time.Hour), time.Now().Add(time.Hour)) {
			if r.Actor == "during.outage@acme.example" {
				return true
			}
		}
		return false
	})
	if notice := queueNotices(t, f); strings.Contains(notice, "unreachable") {
		t.Errorf("the notice stayed after Redis returned: %q", notice)
	}
}

// A holder may die at any step of a drain: after reading a batch from CBC and before appending it, after
// appending it and before reading the next, or between batches. The replica that takes the lease next gives
// every subscriber each of those events once: it backfills from the newest appended event, and the stream
// keeps an event once however often it is appended.
func TestFailoverAtEveryStepOfTheDrain(t *testing.T) {
	steps := map[string]struct{ appended, left int }{
		"died after reading a batch, before appending it": {appended: 0, left: 0},
		"died after appending a batch":                    {appended: 5, left: 0},
		"died between batches":                            {appended: 3, left: 2},
	}
	for name, step := range steps {
		t.Run(name, func(t *testing.T) {
			redis := redistest.Start(t)
			f := newFixture(t, cbcsim.Config{Seed: 8, EventsPerDay: 50, Now: time.Now}, map[string]any{"redisAddress": redis.Addr, "queuePollSeconds": 10})
			shared := f.ds.replicas.Shared()
			// What the dead holder had appended before: an event a minute old.
			if _, err := shared.Append(context.Background(), []cbc.Record{{CreateTime: time.Now().Add(-time.Minute), Actor: "earlier@acme.example"}}); err != nil {
				t.Fatal(err)
			}
			// The dead holder's last batch: read from CBC's queue (gone from it), appended as the step says.
			now := time.Now().UTC().Truncate(time.Millisecond)
			var batch []cbc.Record
			for i := range 5 {
				e := cbcsim.Event{CreateTime: now.Add(time.Duration(i-5) * time.Millisecond), Actor: "step" + string(rune('a'+i)) + "@acme.example", Description: "Logged in successfully"}
				batch = append(batch, cbc.Record{CreateTime: e.CreateTime, Actor: e.Actor, Description: e.Description, OrgKey: "ABCD1234"})
				f.sim.Inject(e)
			}
			for f.sim.QueueBacklog(simKey) > step.left {
				if _, err := f.ds.client.Queue(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if step.appended > 0 {
				if _, err := shared.Append(context.Background(), batch[:step.appended]); err != nil {
					t.Fatal(err)
				}
			}

			sub := f.ds.buffer.Live() // a live panel on the replica that takes over
			defer sub.Close()
			queueNotices(t, f) // this replica starts: it takes the free lease
			got := map[string]int{}
			waitUntil(t, "every event of the last batch", func() bool {
				for _, r := range f.ds.buffer.Records(now.Add(-time.Hour), now.Add(time.Hour)) {
					if strings.HasPrefix(r.Actor, "step") {
						got[r.Actor] = 0
					}
				}
				return len(got) == 5
			})
			for _, r := range f.ds.buffer.Records(now.Add(-time.Hour), now.Add(time.Hour)) {
				got[r.Actor]++
			}
			for _, e := range batch {
				if got[e.Actor] != 1 {
					t.Errorf("%s is in the buffer %d times, want once", e.Actor, got[e.Actor])
				}
			}
			if got["earlier@acme.example"] != 1 {
				t.Errorf("the event appended before is in the buffer %d times, want once", got["earlier@acme.example"])
			}
		})
	}
}

// A holder that died longer ago than the queue backfill leaves events that left CBC's queue but never reached
// the stream. The replica that takes over reaches back to the newest event already in the stream, not only
// over its backfill, so it finds them.
func TestANewHolderReachesBackToTheStreamsNewest(t *testing.T) {
	redis := redistest.Start(t)
	f := newFixture(t, cbcsim.Config{Seed: 9, EventsPerDay: 50, Now: time.Now}, map[string]any{"redisAddress": redis.Addr, "queuePollSeconds": 10})
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	// The dead holder appended the events up to two hours ago, then read an hour more from CBC's queue and
	// died before appending them: they are in neither the queue nor the stream.
	if _, err := f.ds.replicas.Shared().Append(ctx, []cbc.Record{{CreateTime: now.Add(-2 * time.Hour), Actor: "appended@acme.example"}}); err != nil {
		t.Fatal(err)
	}
	lost := map[string]bool{}
	for i := range 5 {
		e := cbcsim.Event{CreateTime: now.Add(-100*time.Minute + time.Duration(i)*10*time.Minute), Actor: fmt.Sprintf("lost%d@acme.example", i), Description: "Logged in successfully"}
		f.sim.Inject(e)
		lost[e.Actor] = true
	}
	for f.sim.QueueBacklog(simKey) > 0 {
		if _, err := f.ds.client.Queue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	queueNotices(t, f) // this replica starts: it takes the free lease, 15 minutes of backfill by default
	waitUntil(t, "the events the dead holder read and never appended", func() bool {
		found := 0
		for _, r := range f.ds.buffer.Records(now.Add(-3*time.Hour), now.Add(time.Hour)) {
			if lost[r.Actor] {
				found++
			}
		}
		return found == len(lost)
	})
}

// A replica whose renewal is refused, while Redis answers without an error (another replica took the lease
// when this one stalled past its time to live), steps down and stops draining at once.
func TestAHolderWhoseRenewalIsRefusedStepsDown(t *testing.T) {
	redis := redistest.Start(t)
	f := newFixture(t, cbcsim.Config{Seed: 10, EventsPerDay: 50, Now: time.Now}, map[string]any{"redisAddress": redis.Addr, "queuePollSeconds": 10})
	queueNotices(t, f) // this replica starts and takes the free lease
	waitUntil(t, "the lease", func() bool { return f.ds.replicas.Report().Role == "leader" })
	rdb := goredis.NewClient(&goredis.Options{Addr: redis.Addr})
	defer rdb.Close()
	ctx := context.Background()
	leases, err := rdb.Keys(ctx, "*:lease").Result()
	if err != nil || len(leases) != 1 {
		t.Fatalf("lease keys %v: %v", leases, err)
	}
	if err := rdb.Set(ctx, leases[0], "another-replica/0000", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the replica to step down", func() bool { return f.ds.replicas.Report().Role == "follower" })
	if st := f.ds.replicas.Report(); st.Leader != nil {
		t.Errorf("the replica still reports itself draining: %+v", st)
	}
}

// A live panel's query and its stream may run on different replicas: replicas number the shared stream's
// events alike, whenever each started, so the stream on one sends exactly what the query on the other did
// not give, each once.
func TestAPanelsStreamMayRunOnAnotherReplica(t *testing.T) {
	redis := redistest.Start(t)
	f := newFixture(t, cbcsim.Config{Seed: 11, EventsPerDay: 2000, Now: time.Now}, map[string]any{"redisAddress": redis.Addr, "queuePollSeconds": 10})
	queueNotices(t, f) // the first replica starts, takes the lease and drains
	waitUntil(t, "the first drain in the stream", func() bool { return len(f.ds.buffer.Records(time.Now().Add(-time.Hour), time.Now())) > 0 })
	late := f.instance(t, simSecret) // a replica started later
	if _, err := late.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{dataQuery("Q", `{"queryType":"queue"}`)}}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the later replica to read the stream", func() bool {
		now := time.Now()
		return len(late.buffer.Records(now.Add(-time.Hour), now)) == len(f.ds.buffer.Records(now.Add(-time.Hour), now))
	})
	from := time.Now().Add(-time.Hour)
	given, mark := f.ds.buffer.Snapshot(from, time.Now()) // the panel's query, on the first replica
	now := time.Now().UTC().Truncate(time.Millisecond)
	for i := range 20 {
		f.sim.Inject(cbcsim.Event{CreateTime: now.Add(-time.Duration(i) * time.Second), Actor: fmt.Sprintf("new%d@acme.example", i), Description: "Logged in successfully"})
	}
	sub := late.buffer.Subscribe(from, mark) // its stream, on the later one
	defer sub.Close()
	wasGiven := map[string]bool{}
	for _, r := range given {
		wasGiven[r.ID()] = true
	}
	got := map[string]int{}
	for news := 0; news < 20; {
		select {
		case batch := <-sub.C:
			for _, r := range batch {
				if wasGiven[r.ID()] {
					t.Fatalf("the stream sent %s again, which the query on the other replica gave", r.Actor)
				}
				if got[r.Actor]++; strings.HasPrefix(r.Actor, "new") {
					news++
				}
			}
		case <-time.After(time.Minute):
			t.Fatalf("the stream brought %d of the 20 new events", news)
		}
	}
	for actor, n := range got {
		if strings.HasPrefix(actor, "new") && n != 1 {
			t.Errorf("%s reached the panel %d times", actor, n)
		}
	}
}
