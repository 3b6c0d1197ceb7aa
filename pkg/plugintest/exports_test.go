package plugintest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// An export of over 400000 records streams through the plugin: the file holds exactly the matching records and
// the plugin's peak memory stays far below the file's size.
func TestLargeExportStreamsThroughThePlugin(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("peak memory is read from /proc")
	}
	sim := StartSimulator(t, binaries.sim, "-seed", "5", "-span", "48h", "-per-day", "230000", "-rate", "0", "-job-duration", "1s", "-rate-limit", "0")
	p := StartPlugin(t, binaries.plugin)
	ds := DataSource{UID: "big", Secret: "SIMULATORSECRET0GRAFANA01", JSONData: map[string]any{
		"region": "custom", "url": sim.URL, "allowInsecureHttp": true, "orgKey": "ABCD1234", "apiId": "GRAFANA001",
	}}
	ctx := context.Background()
	now := time.Now()
	body, _ := json.Marshal(map[string]any{"format": "csv", "query": map[string]any{"limit": 100},
		"from": now.Add(-72 * time.Hour).UnixMilli(), "to": now.UnixMilli()})
	status, raw, err := p.CallResource(ctx, ds, "POST", "exports", body)
	if err != nil || status != 201 {
		t.Fatalf("POST exports: %d %s %v", status, raw, err)
	}
	var job struct{ ID int64 }
	_ = json.Unmarshal(raw, &job)
	before, _ := p.PeakRSS()

	var total int64
	for deadline := time.Now().Add(time.Minute); ; {
		_, raw, err = p.CallResource(ctx, ds, "GET", fmt.Sprintf("exports/%d", job.ID), nil)
		var st struct {
			Status   string
			NumTotal int64
		}
		if err != nil || json.Unmarshal(raw, &st) != nil {
			t.Fatalf("status: %s %v", raw, err)
		}
		if st.Status == "COMPLETED" {
			total = st.NumTotal
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("export still %s after a minute", st.Status)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if total < 400000 {
		t.Fatalf("the export holds %d records; the test wants over 400000", total)
	}

	status, file, err := p.CallResource(ctx, ds, "GET", fmt.Sprintf("exports/%d/download", job.ID), nil)
	if err != nil || status != 200 {
		t.Fatalf("download: %d %v", status, err)
	}
	lines := 0
	scanner := bufio.NewScanner(bytes.NewReader(file))
	for scanner.Scan() {
		lines++
	}
	if int64(lines-1) != total {
		t.Errorf("the file has %d records, the job %d", lines-1, total)
	}
	if !strings.HasPrefix(string(file), "create_time,actor,actor_ip,description,flagged,verbose,org_key,request_url\n") {
		t.Errorf("CSV header: %.80q", file)
	}
	peak, err := p.PeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("export of %d records, %d MB file: plugin peak RSS %d MB (%d MB before the download)", total, len(file)>>20, peak>>20, before>>20)
	// Holding the file would add at least its size; streaming adds a few buffers and the garbage collector's slack.
	if grew := peak - before; grew > int64(len(file))*3/4 {
		t.Errorf("the plugin grew by %d MB for a %d MB file: the download is not streamed", grew>>20, len(file)>>20)
	}
}
