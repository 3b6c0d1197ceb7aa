package plugin

import (
	"fmt"
	"strings"
	"testing"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/cbcsim"
	"github.com/seed/cbcauditlogs/pkg/frames"
)

// A burst reaches a live panel in bounded packets.
func TestStreamPacketsAreBounded(t *testing.T) {
	small := make([]cbc.Record, 1200)
	if sizes := packetSizes(packets(small)); fmt.Sprint(sizes) != "[500 500 200]" {
		t.Errorf("1200 events went out as %v", sizes)
	}
	big := make([]cbc.Record, 40)
	for i := range big {
		big[i].Description = strings.Repeat("x", 64<<10)
	}
	for _, p := range packets(big) {
		bytes := 0
		for _, r := range p {
			bytes += frames.RecordBytes(r)
		}
		if bytes > maxPacketBytes {
			t.Errorf("a packet of %d bytes", bytes)
		}
	}
}

func packetSizes(ps [][]cbc.Record) []int {
	var out []int
	for _, p := range ps {
		out = append(out, len(p))
	}
	return out
}

// A live queue query keeps the search's text and filters (the editor holds them for a switch back) and ignores
// them, saying so.
func TestQueueQueryIgnoresSearchFields(t *testing.T) {
	f := newFixture(t, cbcsim.Config{EventsPerDay: 50}, nil)
	res := f.run(t, dataQuery("Q", `{"queryType":"queue","query":"flagged:true","criteria":{"actor":["a"]}}`)).Responses["Q"]
	if res.Error != nil || len(res.Frames) != 1 || len(res.Frames[0].Meta.Notices) == 0 ||
		!strings.Contains(res.Frames[0].Meta.Notices[0].Text, "ignored here") {
		t.Fatalf("%v %+v", res.Error, res.Frames)
	}
}
