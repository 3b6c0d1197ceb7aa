package cbc

import "sort"

// Sort orders, as CBC applies them.

// SortRecords orders records by field as CBC does (byte order for text, false before true), newest first
// among equals.
func SortRecords(records []Record, field, order string) {
	sort.SliceStable(records, func(i, j int) bool {
		a, b := records[i].Text(field), records[j].Text(field)
		if a == b {
			return records[i].CreateTime.After(records[j].CreateTime)
		}
		if order == Asc {
			return a < b
		}
		return a > b
	})
}

func reverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}
