package cbcsim

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"
)

// The query editor's Builder and Code are two views of one query: the builder's filters go to CBC as criteria
// and exclusions, and Code shows them as Lucene text (src/views.ts). Both forms of each query in
// tests/views/pairs.json, which the editor's Jest test writes from its own conversion, must match the same
// events, as CBC's search would run them.
func TestBuilderAndCodeMatchTheSameEvents(t *testing.T) {
	raw, err := os.ReadFile("../../tests/views/pairs.json")
	if err != nil {
		t.Fatal(err)
	}
	var pairs []struct {
		Criteria   map[string]any `json:"criteria"`
		Exclusions map[string]any `json:"exclusions"`
		Query      string         `json:"query"`
	}
	if err := json.Unmarshal(raw, &pairs); err != nil || len(pairs) < 5 {
		t.Fatalf("%d pairs: %v", len(pairs), err)
	}
	sim := New(Config{Seed: 5, EventsPerDay: 3000, Now: func() time.Time { return time.Date(2026, 4, 17, 12, 0, 0, 0, time.UTC) }})
	defer sim.Close()
	ids := func(body map[string]any) []string {
		b, _ := json.Marshal(body)
		events, err := sim.Match(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		out := make([]string, 0, len(events))
		for _, e := range events {
			out = append(out, fmt.Sprint(e))
		}
		slices.Sort(out)
		return out
	}
	matched := 0
	for _, p := range pairs {
		filters := ids(map[string]any{"criteria": p.Criteria, "exclusions": p.Exclusions})
		text := ids(map[string]any{"query": p.Query})
		if !slices.Equal(filters, text) {
			t.Errorf("%q matches %d events, its filters %d", p.Query, len(text), len(filters))
		}
		if len(filters) > 0 {
			matched++
		}
	}
	if matched < len(pairs)-1 {
		t.Errorf("only %d of %d pairs match anything: the test compares empty answers", matched, len(pairs))
	}
}
