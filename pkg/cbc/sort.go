package cbc

import (
	"sort"
	"strings"
)

// Sort orders, as CBC applies them.

// explicitSort is req's sort, or create_time DESC when it has none: what CBC does without a sort is not
// documented, so every request the client sends names its order.
func explicitSort(req SearchRequest) []SortField {
	field, order := sortOf(req)
	return []SortField{{Field: field, Order: order}}
}

// sortOf returns the request's sort field and order, CBC's default being create_time DESC.
func sortOf(req SearchRequest) (field, order string) {
	field, order = "create_time", Desc
	if len(req.Sort) > 0 {
		if req.Sort[0].Field != "" {
			field = req.Sort[0].Field
		}
		if strings.EqualFold(req.Sort[0].Order, Asc) {
			order = Asc
		}
	}
	return field, order
}

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
