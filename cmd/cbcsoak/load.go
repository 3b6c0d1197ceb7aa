package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"gopkg.in/yaml.v3"

	"github.com/seed/cbcauditlogs/pkg/plugintest"
)

// soak drives one plugin process as a busy Grafana does: dashboards refreshing, alert rules, users in Explore
// and live panels, all on one data source.
type soak struct {
	plugin     *plugintest.Plugin
	ds         plugintest.DataSource
	dashboards [][]map[string]any // each provisioned dashboard's panel queries
	lat        *latencies
	errs       *errorLog
	live       *liveLog
}

// query runs one query as Grafana does and records its latency under kind, and its error if any.
func (s *soak) query(ctx context.Context, kind string, headers map[string]string, model map[string]any, from, to time.Time) (data.Frames, bool) {
	body, _ := json.Marshal(model)
	q := backend.DataQuery{RefID: "A", JSON: body, Interval: max((to.Sub(from))/500, time.Second), MaxDataPoints: 500,
		TimeRange: backend.TimeRange{From: from, To: to}}
	if qt, ok := model["queryType"].(string); ok {
		q.QueryType = qt
	}
	start := time.Now()
	resp, err := s.plugin.QueryData(ctx, s.ds, headers, q)
	if ctx.Err() != nil {
		return nil, false // the soak ended during the call
	}
	s.lat.add(kind, time.Since(start))
	if err == nil {
		err = resp.Responses["A"].Error
	}
	if err != nil {
		s.errs.add(kind, err)
		return nil, false
	}
	return resp.Responses["A"].Frames, true
}

// viewer keeps a dashboard open: every panel at once, every 30 s, over a time range and variable values of
// its own. Viewers take the provisioned dashboards in turn.
func (s *soak) viewer(ctx context.Context, n int) {
	panels := s.dashboards[n%len(s.dashboards)]
	ranges := []time.Duration{time.Hour, 6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour}
	actors := []string{"*", "alice.admin@acme.example", "(bob.analyst@acme.example OR carol.soc@acme.example)"}
	span, actor := ranges[n%len(ranges)], actors[n%len(actors)]
	if !sleep(ctx, time.Duration(n)*time.Second) { // staggered, as dashboards opened one after another
		return
	}
	for load := 0; ; load++ {
		began := time.Now()
		kind := "dashboard panel, refresh"
		if load == 0 {
			kind = "dashboard panel, first load"
		}
		var wg sync.WaitGroup
		for _, panel := range panels {
			model := map[string]any{}
			for k, v := range panel {
				model[k] = v
			}
			if q, ok := model["query"].(string); ok {
				model["query"] = strings.NewReplacer("$actor_ip", "*", "$actor", actor).Replace(q)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.query(ctx, kind, nil, model, began.Add(-span), began)
			}()
		}
		wg.Wait()
		if !sleep(ctx, 30*time.Second-time.Since(began)) {
			return
		}
	}
}

// alertRule is a rule the alerting engine evaluates every so often, over the last minutes.
type alertRule struct {
	model       map[string]any
	every, over time.Duration
}

// countRules are evaluated every minute over the last 10 minutes.
var countRules = []alertRule{
	{map[string]any{"queryType": "count", "query": `description:"Login failed"`, "groupBy": "actor", "interval": "1m"}, time.Minute, 10 * time.Minute},
	{map[string]any{"queryType": "count", "query": `description:"Login failed"`, "groupBy": "actor_ip", "interval": "1m"}, time.Minute, 10 * time.Minute},
	{map[string]any{"queryType": "count", "query": "flagged:true", "interval": "1m"}, time.Minute, 10 * time.Minute},
	{map[string]any{"queryType": "count", "query": "policy", "groupBy": "actor", "interval": "1m"}, time.Minute, 10 * time.Minute},
	{map[string]any{"queryType": "count", "query": `"api key" OR connector`, "groupBy": "actor", "interval": "1m"}, time.Minute, 10 * time.Minute},
	{map[string]any{"queryType": "count", "query": `"live response"`, "groupBy": "actor", "interval": "1m"}, time.Minute, 10 * time.Minute},
}

// signalRules are the provisioned security signals' alert rules, as the alerting engine runs them.
func signalRules(path string) ([]alertRule, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var file struct {
		Groups []struct {
			Interval string
			Rules    []struct {
				Data []struct {
					RelativeTimeRange struct{ From int } `yaml:"relativeTimeRange"`
					Model             map[string]any     `yaml:"model"`
				}
			}
		}
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []alertRule
	for _, group := range file.Groups {
		every, err := time.ParseDuration(group.Interval)
		if err != nil {
			return nil, fmt.Errorf("%s: interval %q: %w", path, group.Interval, err)
		}
		for _, rule := range group.Rules {
			query := rule.Data[0]
			out = append(out, alertRule{query.Model, every, time.Duration(query.RelativeTimeRange.From) * time.Second})
		}
	}
	return out, nil
}

func (s *soak) alertRule(ctx context.Context, rule alertRule, n int) {
	if !sleep(ctx, time.Duration(n)*7*time.Second) {
		return
	}
	kind := "alert rule"
	if rule.model["queryType"] == "signals" {
		kind = "alert rule, security signal"
	}
	for {
		began := time.Now()
		s.query(ctx, kind, map[string]string{backend.FromAlertHeaderName: "true"}, rule.model, began.Add(-rule.over), began)
		if !sleep(ctx, rule.every-time.Since(began)) {
			return
		}
	}
}

// user searches in Explore now and then: logs, a large table beyond one window of CBC's, a count.
func (s *soak) user(ctx context.Context, n int) {
	rng := rand.New(rand.NewPCG(uint64(n), 3))
	texts := []string{"", `description:"Login failed"`, "actor:alice*", `"api key" OR policy`, "flagged:true AND NOT actor_ip:10.*"}
	for {
		if !sleep(ctx, time.Duration(20+rng.IntN(20))*time.Second) {
			return
		}
		now := time.Now()
		switch rng.IntN(3) {
		case 0:
			s.query(ctx, "ad hoc search", nil, map[string]any{"queryType": "search", "format": "logs", "limit": 1000, "query": texts[rng.IntN(len(texts))]}, now.Add(-24*time.Hour), now)
		case 1:
			s.query(ctx, "ad hoc search", nil, map[string]any{"queryType": "search", "format": "table", "limit": 20000}, now.Add(-7*24*time.Hour), now)
		default:
			s.query(ctx, "ad hoc search", nil, map[string]any{"queryType": "count", "groupBy": "category", "query": texts[rng.IntN(len(texts))]}, now.Add(-7*24*time.Hour), now)
		}
	}
}

// subscriber is a live panel of the queue over the last hour: its first answer, then its stream.
func (s *soak) subscriber(ctx context.Context, n int) {
	if !sleep(ctx, time.Duration(n)*3*time.Second) {
		return
	}
	now := time.Now()
	frames, ok := s.query(ctx, "live queue query", nil, map[string]any{"queryType": "queue", "format": "logs", "limit": 100000}, now.Add(-time.Hour), now)
	if !ok || len(frames) != 1 || frames[0].Meta == nil {
		return
	}
	panel := s.live.open(now)
	panel.add(frames[0])
	path := strings.TrimPrefix(frames[0].Meta.Channel, "ds/"+s.ds.UID+"/")
	for ctx.Err() == nil {
		err := s.plugin.RunStream(ctx, s.ds, path, func(raw []byte) bool {
			var f data.Frame
			if err := json.Unmarshal(raw, &f); err == nil {
				panel.add(&f)
			}
			return true
		})
		if ctx.Err() == nil {
			s.errs.add("live stream", fmt.Errorf("the stream ended: %v", err))
			sleep(ctx, time.Second) // Grafana subscribes again
		}
	}
}

// sleep waits d, or less when ctx ends first; false when it did.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
