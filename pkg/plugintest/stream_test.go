package plugintest

import (
	"bytes"
	"context"
	"encoding/json"
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
	if res.Error != nil || len(res.Frames) != 1 || res.Frames[0].Meta.Channel != "ds/live/queue/logs" {
		t.Fatalf("queue query: %v %+v", res.Error, res.Frames)
	}
	if status, err := p.SubscribeStream(ctx, ds, "queue/logs"); err != nil || status != backend.SubscribeStreamStatusOK {
		t.Fatalf("subscribe: %v %v", status, err)
	}
	if status, _ := p.SubscribeStream(ctx, ds, "elsewhere"); status != backend.SubscribeStreamStatusNotFound {
		t.Errorf("subscribe to an unknown path: %v", status)
	}

	received := make(chan string, 100)
	go func() {
		_ = p.RunStream(ctx, ds, "queue/logs", func(raw []byte) bool {
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
