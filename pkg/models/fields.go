package models

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

// Field is one entry of the field vocabulary (fields.json): what the query model, the resources and the
// editors accept for each field. src/fields.json is the same file, for the editors.
type Field struct {
	Name        string `json:"name"`
	Label       string `json:"label"`
	Type        string `json:"type"` // date, keyword, text, boolean, or derived (computed by the plugin)
	Description string `json:"description"`
	Criteria    bool   `json:"criteria"` // criteria and exclusions take it: a list of values, or true/false for a boolean
	Sort        bool   `json:"sort"`
	GroupBy     bool   `json:"groupBy"`
	Values      bool   `json:"values"` // GET values lists its distinct values
}

//go:embed fields.json
var fieldsJSON []byte

// FieldsJSON is the vocabulary as the editors read it, served by GET fields.
func FieldsJSON() []byte { return fieldsJSON }

var fields = func() []Field {
	var out []Field
	if err := json.Unmarshal(fieldsJSON, &out); err != nil {
		panic(fmt.Sprintf("fields.json is invalid: %v", err)) // embedded at build time, so this fails every test
	}
	return out
}()

// Fields returns the vocabulary.
func Fields() []Field { return append([]Field(nil), fields...) }

// fieldNames lists the names of the fields for which keep holds, in the vocabulary's order.
func fieldNames(keep func(Field) bool) []string {
	var out []string
	for _, f := range fields {
		if keep(f) {
			out = append(out, f.Name)
		}
	}
	return out
}

// SortableFields are the fields CBC sorts by; FilterFields the ones criteria and exclusions take as lists;
// GroupByFields the ones a count groups by; ValueFields the ones GET values lists.
var (
	SortableFields = fieldNames(func(f Field) bool { return f.Sort })
	FilterFields   = fieldNames(func(f Field) bool { return f.Criteria && f.Type != "boolean" })
	GroupByFields  = fieldNames(func(f Field) bool { return f.GroupBy })
	ValueFields    = fieldNames(func(f Field) bool { return f.Values })
)

// CriteriaFields are the fields criteria and exclusions take, lists and booleans.
func CriteriaFields() []string { return fieldNames(func(f Field) bool { return f.Criteria }) }
