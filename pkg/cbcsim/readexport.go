package cbcsim

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
)

// ReadExport reads an export file (CSV with the header above, or a JSON list) back into records, so tests can
// compare a download with the ground truth.
func ReadExport(format string, raw []byte) ([]Event, error) {
	var records []Event
	if format == "json" {
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
		ts, err := parseTime(row[0])
		if err != nil {
			return nil, err
		}
		flagged, _ := strconv.ParseBool(row[4])
		verbose, _ := strconv.ParseBool(row[5])
		records = append(records, Event{CreateTime: ts, Actor: row[1], ActorIP: row[2], Description: row[3],
			Flagged: flagged, Verbose: verbose, OrgKey: row[6], RequestURL: row[7]})
	}
	return records, nil
}
