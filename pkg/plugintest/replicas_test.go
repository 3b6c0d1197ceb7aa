package plugintest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/seed/cbcauditlogs/pkg/cluster/redistest"
)

// replica is one Grafana's plugin process with its live subscribers.
type replica struct {
	name    string
	plugin  *Plugin
	cancel  context.CancelFunc
	mu      sync.Mutex
	got     []map[string]int // per subscriber: how often each event arrived
	joined  time.Time        // when its subscribers were listening
	stopped time.Time        // when it was killed; zero while alive
}

// subscribers per replica, as several viewers of a live panel.
const subscribers = 10

func startReplica(t *testing.T, name, redisAddr string, ds DataSource) *replica {
	t.Helper()
	p, err := LaunchPluginWithEnv(binaries.plugin, "GF_PLUGIN_REDIS_ADDRESS="+redisAddr, "GF_PLUGIN_REDIS_KEY_PREFIX=ha-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{name: name, plugin: p, cancel: cancel, got: make([]map[string]int, subscribers)}
	for i := range subscribers {
		r.got[i] = map[string]int{}
		go func() {
			_ = p.RunStream(ctx, ds, "queue/logs", func(raw []byte) bool {
				var f data.Frame
				if json.Unmarshal(raw, &f) != nil {
					return true
				}
				r.mu.Lock()
				defer r.mu.Unlock()
				for row := 0; row < f.Rows(); row++ {
					var labels struct{ Actor string }
					_ = json.Unmarshal(f.Fields[4].At(row).(json.RawMessage), &labels)
					if strings.HasPrefix(labels.Actor, "ha-") {
						r.got[i][labels.Actor]++
					}
				}
				return true
			})
		}()
	}
	time.Sleep(500 * time.Millisecond) // the subscriptions are registered
	r.joined = time.Now()
	return r
}

func (r *replica) role(t *testing.T, ds DataSource) string {
	status, body, err := r.plugin.CallResource(context.Background(), ds, "GET", "queue/status", nil)
	if err != nil || status != 200 {
		return ""
	}
	var st struct{ Replicas struct{ Role string } }
	_ = json.Unmarshal(body, &st)
	return st.Replicas.Role
}

// kill ends the replica as a crash would: SIGKILL, no goodbye to Redis.
func (r *replica) kill() {
	_ = syscall.Kill(r.plugin.Pid(), syscall.SIGKILL)
	r.cancel()
	r.stopped = time.Now()
}

// Three Grafana replicas share one data source through one Redis, with ten live subscribers each. Events
// arrive at a steady rate while the lease holder is killed twice (and replaced, as an orchestrator would) and
// Redis restarts empty once. Every subscriber gets every event of its lifetime exactly once, queue reads stay
// at one a poll, failover takes less than twice the lease, and the requests stay within one budget.
func TestReplicasShareOneDrain(t *testing.T) {
	redis := redistest.Start(t)
	const budget = 400
	sim := StartSimulator(t, binaries.sim, "-seed", "12", "-span", "1h", "-per-day", "500", "-rate", "0", "-rate-limit", "0")
	ds := DataSource{UID: "ha", Secret: "SIMULATORSECRET0GRAFANA01", JSONData: map[string]any{
		"region": "custom", "url": sim.URL, "allowInsecureHttp": true, "orgKey": "ABCD1234", "apiId": "GRAFANA001",
		"queuePollSeconds": 10, "requestBudget": budget,
	}}
	stats := func() map[string]int {
		resp, err := http.Get(sim.URL + "/_sim/stats")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var s struct{ Requests map[string]int }
		_ = json.NewDecoder(resp.Body).Decode(&s)
		return s.Requests
	}

	var replicas []*replica
	for i := range 3 {
		replicas = append(replicas, startReplica(t, fmt.Sprintf("grafana-%d", i), redis.Addr, ds))
	}
	leader := func() *replica {
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			for _, r := range replicas {
				if r.stopped.IsZero() && r.role(t, ds) == "leader" {
					return r
				}
			}
		}
		t.Fatal("no replica took the lease within a minute")
		return nil
	}

	// Events at a steady rate, each with a name of its own.
	var (
		injectedMu sync.Mutex
		injected   = map[string]time.Time{}
	)
	stopInjecting := make(chan struct{})
	injecting := sync.WaitGroup{}
	injecting.Add(1)
	go func() {
		defer injecting.Done()
		for n := 0; ; n++ {
			select {
			case <-stopInjecting:
				return
			case <-time.After(400 * time.Millisecond):
			}
			now := time.Now().UTC()
			name := fmt.Sprintf("ha-%04d@acme.example", n)
			body, _ := json.Marshal([]map[string]any{{"create_time": now.Format("2006-01-02T15:04:05.000Z"), "actor": name,
				"actor_ip": "192.0.2.9", "description": "Logged in successfully"}})
			if resp, err := http.Post(sim.URL+"/_sim/events", "application/json", bytes.NewReader(body)); err == nil {
				resp.Body.Close()
				injectedMu.Lock()
				injected[name] = now
				injectedMu.Unlock()
			}
		}
	}()

	first := leader()
	queueBefore, steadyFrom := stats()["queue"], time.Now()
	time.Sleep(35 * time.Second) // about three polls with every replica subscribed
	readsPerPoll := float64(stats()["queue"]-queueBefore) / (time.Since(steadyFrom).Seconds() / 10)

	var failovers []time.Duration
	for kill := range 2 {
		l := leader()
		l.kill()
		killedAt := time.Now()
		replicas = append(replicas, startReplica(t, fmt.Sprintf("replacement-%d", kill), redis.Addr, ds))
		next := leader()
		failovers = append(failovers, time.Since(killedAt))
		t.Logf("killed %s; %s holds the lease %s later", l.name, next.name, failovers[kill].Round(time.Millisecond))
		time.Sleep(10 * time.Second)
	}
	outageFrom := time.Now()
	redis.Restart(t, 3*time.Second)
	outage := time.Since(outageFrom)
	leader()
	time.Sleep(25 * time.Second) // the queue kept the outage's events; the next polls deliver them
	close(stopInjecting)
	injecting.Wait()

	// Wait until every living subscriber has every event of its lifetime, or report what is missing.
	missing := func() (lost, doubled []string) {
		injectedMu.Lock()
		defer injectedMu.Unlock()
		for _, r := range replicas {
			if !r.stopped.IsZero() {
				continue
			}
			r.mu.Lock()
			for i, got := range r.got {
				for name, at := range injected {
					if at.Before(r.joined) {
						continue
					}
					switch got[name] {
					case 0:
						lost = append(lost, fmt.Sprintf("%s/%d %s", r.name, i, name))
					case 1:
					default:
						doubled = append(doubled, fmt.Sprintf("%s/%d %s ×%d", r.name, i, name, got[name]))
					}
				}
			}
			r.mu.Unlock()
		}
		return lost, doubled
	}
	var lost, doubled []string
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		if lost, doubled = missing(); len(lost) == 0 {
			break
		}
	}
	total := 0
	for _, n := range stats() {
		total += n
	}
	injectedMu.Lock()
	events := len(injected)
	injectedMu.Unlock()
	t.Logf("3 replicas × %d subscribers, %d events: queue reads per poll interval %.2f (one drain per replica would make 3); failovers %v (lease %s); Redis down %s; lost %d, duplicated %d; CBC requests %d (budget %d); first holder %s",
		subscribers, events, readsPerPoll, failovers, 15*time.Second, outage.Round(time.Millisecond), len(lost), len(doubled), total, budget, first.name)
	if len(lost) > 0 {
		t.Errorf("%d deliveries lost, e.g. %v", len(lost), lost[:min(5, len(lost))])
	}
	if len(doubled) > 0 {
		t.Errorf("%d deliveries duplicated, e.g. %v", len(doubled), doubled[:min(5, len(doubled))])
	}
	if readsPerPoll > 1.5 {
		t.Errorf("%.2f queue reads per poll interval with 3 replicas, want 1", readsPerPoll)
	}
	// Over the whole run one replica drains at a time: about a read per poll interval, plus a read by each new
	// holder as it takes over and by each replica while Redis was down (each drains on its own then).
	reads, polls := stats()["queue"]-queueBefore, time.Since(steadyFrom).Seconds()/10
	if allowed := 1.5*polls + float64(len(failovers)) + float64(len(replicas)); float64(reads) > allowed {
		t.Errorf("%d queue reads over %.1f poll intervals (at most %.0f with one drainer at a time): replicas drained side by side", reads, polls, allowed)
	}
	for _, f := range failovers {
		if f > 2*15*time.Second {
			t.Errorf("failover took %s, more than twice the 15 s lease", f)
		}
	}
	if total > budget {
		t.Errorf("the replicas made %d CBC requests, over their one budget of %d", total, budget)
	}
}
