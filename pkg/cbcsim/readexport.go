package cbcsim

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
)

// ReadExport reads an export file (CSV with the header above, or a JSON list) back into records, so tests can
// compare a download with the ground truth.
func ReadExport(format string, raw []byte) ([]cbc.Record, error) {
	var records []cbc.Record
	if format == cbc.FormatJSON {
		err := json.Unmarshal(raw, &records)
		return records, err
	}
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 || fmt.Sprint(rows[0]) != fmt.Sprint(csvHeader) {
		return nil, fmt.Errorf("CSV header is not %v", csvHeader)
	}
	for _, row := range rows[1:] {
		ts, err := time.Parse(time.RFC3339Nano, row[0])
		if err != nil {
			return nil, err
		}
		flagged, _ := strconv.ParseBool(row[4])
		verbose, _ := strconv.ParseBool(row[5])
		records = append(records, cbc.Record{CreateTime: ts, Actor: row[1], ActorIP: row[2], Description: row[3],
			Flagged: flagged, Verbose: verbose, OrgKey: row[6], RequestURL: row[7]})
	}
	return records, nil
}
