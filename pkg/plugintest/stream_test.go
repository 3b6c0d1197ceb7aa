package plugintest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// The queue query answers from the drainer's buffer with a live channel, and RunStream delivers events that
// reach the simulator afterwards.
func TestQueueStreamOverGRPC(t *testing.T) {
	sim := StartSimulator(t, binaries.sim, "-seed", "9", "-span", "24h", "-per-day", "2000", "-rate", "0", "-rate-limit", "0")
	p := StartPlugin(t, binaries.plugin)
	ds := DataSource{UID: "live", Secret: "SIMULATORSECRET0GRAFANA01", JSONData: map[string]any{
		"region": "custom", "url": sim.URL, "allowInsecureHttp": true, "orgKey": "ABCD1234", "apiId": "GRAFANA001",
		"queuePollSeconds": 10,
	}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	resp, err := p.QueryData(ctx, ds, nil, lastDay("Q", `{"queryType":"queue","format":"logs"}`))
	if err != nil {
		t.Fatal(err)
	}
	res := resp.Responses["Q"]
	if res.Error != nil || len(res.Frames) != 1 || !strings.HasPrefix(res.Frames[0].Meta.Channel, "ds/"+ds.UID+"/queue/logs/") {
		t.Fatalf("queue query: %v %+v", res.Error, res.Frames)
	}
	path := strings.TrimPrefix(res.Frames[0].Meta.Channel, "ds/"+ds.UID+"/")
	if status, err := p.SubscribeStream(ctx, ds, path); err != nil || status != backend.SubscribeStreamStatusOK {
		t.Fatalf("subscribe: %v %v", status, err)
	}
	if status, _ := p.SubscribeStream(ctx, ds, "elsewhere"); status != backend.SubscribeStreamStatusNotFound {
		t.Errorf("subscribe to an unknown path: %v", status)
	}

	received := make(chan string, 100)
	go func() {
		_ = p.RunStream(ctx, ds, path, func(raw []byte) bool {
			var f data.Frame
			if err := json.Unmarshal(raw, &f); err == nil {
				for i := 0; i < f.Rows(); i++ {
					received <- string(f.Fields[4].At(i).(json.RawMessage))
				}
			}
			return true
		})
	}()
	time.Sleep(500 * time.Millisecond)
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	event, _ := json.Marshal([]map[string]any{{"create_time": now, "actor": "streamed@acme.example", "actor_ip": "192.0.2.77", "description": "Login failed for user streamed@acme.example", "flagged": true}})
	post, err := http.Post(sim.URL+"/_sim/events", "application/json", bytes.NewReader(event))
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	for {
		select {
		case labels := <-received:
			if strings.Contains(labels, "streamed@acme.example") {
				status, body, _ := p.CallResource(ctx, ds, "GET", "queue/status", nil)
				if status != 200 || !strings.Contains(string(body), `"running":true`) {
					t.Errorf("queue/status: %d %s", status, body)
				}
				return
			}
		case <-ctx.Done():
			t.Fatal("the injected event never arrived on the stream")
		}
	}
}

// A panel opened moments after events were created, but before the drain read them, still gets each of them
// once: the stream carries what its queue query had not given it, by arrival, not only what was created after
// it subscribed. Late events older than the panel's time range never reach it.
func TestALivePanelMissesNothingCreatedBeforeItOpened(t *testing.T) {
	sim := StartSimulator(t, binaries.sim, "-seed", "10", "-span", "24h", "-per-day", "2000", "-rate", "0", "-rate-limit", "0")
	p := StartPlugin(t, binaries.plugin)
	ds := DataSource{UID: "live-gap", Secret: "SIMULATORSECRET0GRAFANA01", JSONData: map[string]any{
		"region": "custom", "url": sim.URL, "allowInsecureHttp": true, "orgKey": "ABCD1234", "apiId": "GRAFANA001",
		"queuePollSeconds": 10,
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	lastHour := lastDay("Q", `{"queryType":"queue","format":"logs","limit":100000}`)
	lastHour.TimeRange.From = lastHour.TimeRange.To.Add(-time.Hour)
	resp, err := p.QueryData(ctx, ds, nil, lastHour)
	if err != nil || resp.Responses["Q"].Error != nil {
		t.Fatalf("queue query: %v %v", err, resp.Responses["Q"].Error)
	}
	given := map[string]bool{}
	for i := 0; i < resp.Responses["Q"].Frames[0].Rows(); i++ {
		given[string(resp.Responses["Q"].Frames[0].Fields[4].At(i).(json.RawMessage))] = true
	}
	path := strings.TrimPrefix(resp.Responses["Q"].Frames[0].Meta.Channel, "ds/"+ds.UID+"/")

	// Events created over the 90 seconds before the panel opens, and events three hours old (a late batch):
	// the drain reads them at its next poll, after the panel has its answer.
	const recent, late = 120, 20
	var events []map[string]any
	now := time.Now().UTC()
	for i := range recent + late {
		at, who := now.Add(-time.Duration(i)*750*time.Millisecond), fmt.Sprintf("recent-%d@acme.example", i)
		if i >= recent {
			at, who = now.Add(-3*time.Hour-time.Duration(i)*time.Second), fmt.Sprintf("late-%d@acme.example", i)
		}
		events = append(events, map[string]any{"create_time": at.Format("2006-01-02T15:04:05.000Z"), "actor": who,
			"actor_ip": "192.0.2.78", "description": "Logged in successfully"})
	}
	body, _ := json.Marshal(events)
	post, err := http.Post(sim.URL+"/_sim/events", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()

	got := map[string]int{}
	done := make(chan struct{})
	go func() {
		_ = p.RunStream(ctx, ds, path, func(raw []byte) bool {
			var f data.Frame
			if err := json.Unmarshal(raw, &f); err != nil {
				return true
			}
			for i := 0; i < f.Rows(); i++ {
				var labels struct{ Actor string }
				_ = json.Unmarshal(f.Fields[4].At(i).(json.RawMessage), &labels)
				if given[string(f.Fields[4].At(i).(json.RawMessage))] {
					t.Errorf("the stream sent again an event the query gave: %s", labels.Actor)
				}
				got[labels.Actor]++
			}
			if countPrefix(got, "recent-") == recent {
				close(done)
				return false
			}
			return true
		})
	}()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatalf("the panel received %d of the %d events created before it opened", countPrefix(got, "recent-"), recent)
	}
	for actor, n := range got { // the drain's first backfill, in the panel's range, reaches it too
		if strings.HasPrefix(actor, "late-") || strings.HasPrefix(actor, "recent-") && n != 1 {
			t.Errorf("%s reached the panel %d times", actor, n)
		}
	}
}

func countPrefix(counts map[string]int, prefix string) int {
	n := 0
	for k, v := range counts {
		if strings.HasPrefix(k, prefix) {
			n += v
		}
	}
	return n
}
