package frames

import "github.com/seed/cbcauditlogs/pkg/cbc"

// MaxResponseBytes is what the frames of one QueryData response may take: room for MaxLimit typical records,
// while records with unusually long fields are cut (with a notice) before Grafana and the browser must hold
// them. The plugin protocol is not the bound: Grafana receives messages of up to 2 GiB from a plugin.
const MaxResponseBytes = 128 << 20

// RecordBytes is an upper bound of what one record adds to an encoded logs or table frame: its text (the
// description twice, as body and in the table), the labels' JSON keys, the id, and Arrow's offsets.
func RecordBytes(r cbc.Record) int {
	return len(r.Actor) + len(r.ActorIP) + len(r.OrgKey) + len(r.RequestURL) + 2*len(r.Description) + 160
}

// Fit returns how many of the first records fit in budget bytes.
func Fit(records []cbc.Record, budget int) int {
	used := 0
	for i, r := range records {
		used += RecordBytes(r)
		if used > budget {
			return i
		}
	}
	return len(records)
}
