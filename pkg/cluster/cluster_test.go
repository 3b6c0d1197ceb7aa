package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/cluster/redistest"
)

var ctx = context.Background()

func shared(t *testing.T, addr string) *Shared {
	t.Helper()
	s := Open(Config{Addr: addr}, "ds", "https://x ORG KEY")
	t.Cleanup(func() { s.Close() })
	return s
}

// One replica holds the lease; another gets it only once the first releases it or stops renewing it, and the
// first cannot renew what it lost.
func TestLeaseIsHeldByOneReplica(t *testing.T) {
	r := redistest.Start(t)
	a, b := shared(t, r.Addr).Lease(300*time.Millisecond, "a"), shared(t, r.Addr).Lease(300*time.Millisecond, "b")
	if ok, err := a.Acquire(ctx); !ok || err != nil {
		t.Fatalf("a: %v %v", ok, err)
	}
	if ok, _ := b.Acquire(ctx); ok {
		t.Fatal("b took a lease a holds")
	}
	if ok, _ := a.Renew(ctx); !ok {
		t.Fatal("a could not renew its lease")
	}
	if holder, _ := shared(t, r.Addr).Holder(ctx); holder != a.Token() {
		t.Errorf("holder %q, want a's token", holder)
	}
	time.Sleep(400 * time.Millisecond) // a stalls past the TTL
	if ok, _ := b.Acquire(ctx); !ok {
		t.Fatal("b could not take an expired lease")
	}
	if ok, _ := a.Renew(ctx); ok {
		t.Fatal("a renewed a lease b now holds")
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if holder, _ := shared(t, r.Addr).Holder(ctx); holder != b.Token() {
		t.Error("a's release removed b's lease")
	}
	_ = b.Release(ctx)
	if ok, _ := a.Acquire(ctx); !ok {
		t.Error("a could not take a released lease")
	}
}

func event(i int) cbc.Record {
	return cbc.Record{CreateTime: time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second),
		Actor: fmt.Sprintf("user%d@acme.example", i%3), Description: "Logged in"}
}

// Appending the same events again (a retry, a new holder's backfill) adds nothing; readers get every event
// once, in order, and two identical events of one batch both.
func TestStreamAppendsEachEventOnce(t *testing.T) {
	r := redistest.Start(t)
	s := shared(t, r.Addr)
	batch := []cbc.Record{event(1), event(2), event(2), event(3)}
	if n, err := s.Append(ctx, batch); n != 4 || err != nil {
		t.Fatalf("first append: %d %v", n, err)
	}
	if n, err := s.Append(ctx, append(batch, event(4))); n != 1 || err != nil {
		t.Fatalf("second append added %d (%v), want only the new event", n, err)
	}
	got, err := shared(t, r.Addr).Read(ctx, "0", 10*time.Millisecond, 100)
	if err != nil || len(got) != 5 {
		t.Fatalf("read %d entries (%v), want 5", len(got), err)
	}
	for i, want := range []cbc.Record{event(1), event(2), event(2), event(3), event(4)} {
		if !got[i].Record.CreateTime.Equal(want.CreateTime) || got[i].Record.Actor != want.Actor {
			t.Errorf("entry %d is %+v, want %+v", i, got[i].Record, want)
		}
	}
	if newest, ok, _ := s.Newest(ctx); !ok || !newest.Equal(event(4).CreateTime) {
		t.Errorf("newest %v %v", newest, ok)
	}
	more, err := s.Read(ctx, got[len(got)-1].ID, 10*time.Millisecond, 100)
	if err != nil || len(more) != 0 {
		t.Errorf("read past the end: %d %v", len(more), err)
	}
}

// Two replicas share one budget: together they get at most the limit, and a hold one of them sets holds both.
func TestBudgetIsShared(t *testing.T) {
	r := redistest.Start(t)
	a, b := shared(t, r.Addr).Budget(5, time.Minute), shared(t, r.Addr).Budget(5, time.Minute)
	granted := 0
	for i := range 10 {
		budget := a
		if i%2 == 1 {
			budget = b
		}
		wait, held, err := budget.Reserve(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if wait == 0 {
			granted++
		} else if held || wait > time.Minute {
			t.Errorf("a spent budget waits %s (held %v)", wait, held)
		}
	}
	if granted != 5 {
		t.Errorf("two replicas were granted %d requests of a shared budget of 5", granted)
	}
	c := shared(t, r.Addr).Budget(0, time.Minute)
	if err := c.Hold(ctx, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	wait, held, err := shared(t, r.Addr).Budget(0, time.Minute).Reserve(ctx)
	if err != nil || !held || wait <= 0 || wait > 2*time.Second {
		t.Errorf("after a 429 hold another replica waits %s (held %v, %v)", wait, held, err)
	}
}

// An unreachable Redis fails each call within the bound, never hanging.
func TestUnreachableRedisFailsFast(t *testing.T) {
	s := Open(Config{Addr: "127.0.0.1:1"}, "ds", "q")
	defer s.Close()
	start := time.Now()
	if _, err := s.Append(ctx, []cbc.Record{event(1)}); err == nil {
		t.Fatal("append to nowhere succeeded")
	}
	if _, _, err := s.Budget(1, time.Minute).Reserve(ctx); err == nil {
		t.Fatal("reserve from nowhere succeeded")
	}
	if took := time.Since(start); took > 4*opTimeout {
		t.Errorf("two calls to an unreachable Redis took %s", took)
	}
	// Once it failed, calls on a query's path fail at once for a while instead of waiting each time.
	start = time.Now()
	for range 100 {
		if _, _, err := s.Budget(1, time.Minute).Reserve(ctx); err == nil {
			t.Fatal("reserve from nowhere succeeded")
		}
	}
	if took := time.Since(start); took > opTimeout {
		t.Errorf("100 reservations against a Redis known to be down took %s", took)
	}
}

func TestConfigFromEnvironmentWins(t *testing.T) {
	env := map[string]string{EnvAddr: " redis:6379 ", EnvTLS: "true", EnvPassword: "pw", EnvKeyPrefix: "grafana-a"}
	installation := FromEnv(func(k string) string { return env[k] })
	if installation != (Config{Addr: "redis:6379", TLS: true, Password: "pw", KeyPrefix: "grafana-a"}) {
		t.Errorf("from the environment: %+v", installation)
	}
	ds := Config{Addr: "other:6379"}
	if got := Resolve(installation, ds); got != installation {
		t.Errorf("grafana.ini did not win: %+v", got)
	}
	if got := Resolve(Config{}, ds); got != ds {
		t.Errorf("without grafana.ini the data source's settings apply: %+v", got)
	}
}
