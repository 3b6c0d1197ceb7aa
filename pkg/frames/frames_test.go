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

// A large frame is built in parts at once; its ids are the records' own, with "-2" for a duplicate, as if
// built one by one.
func TestLargeLogsFrameMatchesIDs(t *testing.T) {
	records := simRecords(t, 30000)
	records = append(records, records[:100]...) // duplicates far apart, in another part
	ids := frames.Logs("A", records, nil).Fields[3]
	for i, r := range records {
		want := r.ID()
		if i >= 30000 {
			want += "-2"
		}
		if ids.At(i).(string) != want {
			t.Fatalf("id %d is %s, want %s", i, ids.At(i), want)
		}
	}
}

// A large answer comes as frames of at most LinesPerFrame lines which, put end to end, are the one frame Logs
// builds: the same lines in the same order, ids unique over all of them. No answer is one empty frame.
func TestLogsFramesSplitALargeAnswer(t *testing.T) {
	records := simRecords(t, 2*frames.LinesPerFrame)
	records = append(records, records[0]) // a duplicate of the first frame's first line, in the last frame
	whole := frames.Logs("A", records, nil)
	parts := frames.LogsFrames("A", records, nil)
	if len(parts) != 3 || parts[0].Rows() != frames.LinesPerFrame || parts[2].Rows() != 1 {
		t.Fatalf("got %d frames, the first of %d lines, want 3 with %d in the first and 1 in the last", len(parts), parts[0].Rows(), frames.LinesPerFrame)
	}
	row := 0
	for _, part := range parts {
		if part.Meta.Type != data.FrameTypeLogLines {
			t.Fatalf("a part is of type %q, not logs", part.Meta.Type)
		}
		for i := range part.Rows() {
			if got, want := part.RowCopy(i), whole.RowCopy(row); !reflect.DeepEqual(got, want) {
				t.Fatalf("line %d is %v, want %v", row, got, want)
			}
			row++
		}
	}
	if row != len(records) {
		t.Fatalf("the frames hold %d lines, want %d", row, len(records))
	}
	if last, first := parts[2].Fields[3].At(0), parts[0].Fields[3].At(0); last != first.(string)+"-2" {
		t.Errorf("the duplicate's id is %v, want %v-2", last, first)
	}
	if empty := frames.LogsFrames("A", nil, nil); len(empty) != 1 || empty[0].Rows() != 0 {
		t.Errorf("no records gave %d frames, want one empty frame", len(empty))
	}
}
