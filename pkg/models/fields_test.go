package models

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// The editors import src/fields.json; the backend embeds its own copy. They must not drift apart.
func TestFieldVocabularyIsOneFile(t *testing.T) {
	frontend, err := os.ReadFile("../../src/fields.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(frontend, FieldsJSON()) {
		t.Error("src/fields.json and pkg/models/fields.json differ: copy one over the other")
	}
}

// The query model takes exactly the criteria, sort and group-by fields the vocabulary lists.
func TestQueryModelFollowsTheVocabulary(t *testing.T) {
	var filterKeys []string
	ft := reflect.TypeOf(Filters{})
	for i := range ft.NumField() {
		filterKeys = append(filterKeys, strings.Split(ft.Field(i).Tag.Get("json"), ",")[0])
	}
	if !slices.Equal(filterKeys, CriteriaFields()) {
		t.Errorf("Filters has %v, the vocabulary's criteria fields are %v", filterKeys, CriteriaFields())
	}
	parse := func(body string) error {
		_, err := ParseQuery(backend.DataQuery{RefID: "A", JSON: []byte(body)})
		return err
	}
	for _, f := range Fields() {
		value := `["x"]`
		switch f.Name {
		case "country":
			value = `["DE"]`
		case "asn":
			value = `["AS3320"]`
		}
		if f.Type == "boolean" {
			value = "true"
		}
		criteriaErr := parse(fmt.Sprintf(`{"criteria":{%q:%s}}`, f.Name, value))
		if (criteriaErr == nil) != f.Criteria {
			t.Errorf("criteria.%s: error %v, but the vocabulary says criteria %v", f.Name, criteriaErr, f.Criteria)
		}
		sortErr := parse(fmt.Sprintf(`{"sort":{"field":%q,"order":"ASC"}}`, f.Name))
		if (sortErr == nil) != f.Sort {
			t.Errorf("sort by %s: error %v, but the vocabulary says sort %v", f.Name, sortErr, f.Sort)
		}
		groupErr := parse(fmt.Sprintf(`{"queryType":"count","groupBy":%q}`, f.Name))
		if (groupErr == nil) != f.GroupBy {
			t.Errorf("group by %s: error %v, but the vocabulary says groupBy %v", f.Name, groupErr, f.GroupBy)
		}
		if f.Label == "" || f.Description == "" {
			t.Errorf("%s has no label or description for the editors", f.Name)
		}
	}
	// A refused field's message lists what is allowed, from the vocabulary.
	err := parse(`{"criteria":{"nope":["x"]}}`)
	if err == nil || !strings.Contains(err.Error(), strings.Join(CriteriaFields(), ", ")) {
		t.Errorf("unknown criteria field: %v", err)
	}
	var decoded []Field
	if err := json.Unmarshal(FieldsJSON(), &decoded); err != nil || len(decoded) != len(Fields()) {
		t.Errorf("FieldsJSON does not decode to the vocabulary: %v", err)
	}
}
