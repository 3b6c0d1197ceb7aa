package frames_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/seed/cbcauditlogs/pkg/category"
	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/cbcsim"
	"github.com/seed/cbcauditlogs/pkg/cbctest"
	"github.com/seed/cbcauditlogs/pkg/frames"
	"github.com/seed/cbcauditlogs/pkg/models"
)

func simRecords(t *testing.T, n int) []cbc.Record {
	t.Helper()
	sim := cbcsim.New(cbcsim.Config{Seed: 1, Records: n, Now: func() time.Time { return time.Date(2024, 1, 8, 0, 0, 0, 0, time.UTC) }})
	defer sim.Close()
	return cbctest.Records(sim)
}

// RecordBytes is an upper bound of the real encoding, and the largest limit a user can set fits the budget.
func TestSizeEstimateBoundsTheEncoding(t *testing.T) {
	records := simRecords(t, models.MaxLimit)
	estimate := 0
	for _, r := range records {
		estimate += frames.RecordBytes(r)
	}
	for name, frame := range map[string]*data.Frame{"logs": frames.Logs("A", records, nil), "table": frames.Table("A", records, nil)} {
		raw, err := frame.MarshalArrow()
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) > estimate {
			t.Errorf("%s frame of %d records is %d bytes, over the estimate %d", name, len(records), len(raw), estimate)
		}
	}
	if fit := frames.Fit(records, frames.MaxResponseBytes); fit != len(records) {
		t.Errorf("only %d of the %d records of a maximal query fit in one response", fit, len(records))
	}
	long := cbc.Record{Description: string(make([]byte, 1<<20))}
	if fit := frames.Fit([]cbc.Record{long, long, long}, 3<<20); fit != 1 {
		t.Errorf("%d records of 1 MiB descriptions fit in 3 MiB, want 1", fit)
	}
}

func TestDuplicateRecordsGetDistinctIDs(t *testing.T) {
	r := cbc.Record{CreateTime: time.Unix(1, 0), Description: "Logged out"}
	ids := frames.IDs([]cbc.Record{r, r, {Description: "other"}})
	if ids[0] == ids[1] || ids[1] != ids[0]+"-2" || ids[2] == ids[0] {
		t.Errorf("ids %v", ids)
	}
	if again := frames.IDs([]cbc.Record{r}); again[0] != ids[0] {
		t.Error("ids are not stable")
	}
}

// Labels of records holding quotes, markup, control characters and non-ASCII text are valid JSON with the
// record's exact values.
func TestLabelsKeepEveryCharacter(t *testing.T) {
	odd := cbc.Record{
		Actor: `eve "the" <admin>`, ActorIP: "2001:db8::1", OrgKey: "ÄBC\u2028", RequestURL: "https://x/?a=1&b=\\2\n",
		Description: "Logged in successfully", Flagged: true,
	}
	for _, r := range []cbc.Record{odd, {Description: "Logged out"}} {
		frame := frames.Logs("A", []cbc.Record{r}, nil)
		raw := frame.Fields[4].At(0).(json.RawMessage)
		var got map[string]any
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("labels %s: %v", raw, err)
		}
		want := map[string]any{"flagged": r.Flagged, "verbose": r.Verbose, "category": category.Of(r.Description)}
		for key, value := range map[string]string{"actor": r.Actor, "actor_ip": r.ActorIP, "org_key": r.OrgKey, "request_url": r.RequestURL} {
			if value != "" {
				want[key] = value
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("labels %s\nread back %v\nwant      %v", raw, got, want)
		}
	}
}

// A large frame is built in parts at once; its ids are the same as built one by one, duplicates included.
func TestLargeLogsFrameMatchesIDs(t *testing.T) {
	records := simRecords(t, 30000)
	records = append(records, records[:100]...) // duplicates far apart, in another part
	ids := frames.Logs("A", records, nil).Fields[3]
	want := frames.IDs(records)
	for i := range want {
		if ids.At(i).(string) != want[i] {
			t.Fatalf("id %d is %s, want %s", i, ids.At(i), want[i])
		}
	}
	if want[30000] != want[0]+"-2" {
		t.Errorf("a duplicate got id %s, want %s-2", want[30000], want[0])
	}
}
