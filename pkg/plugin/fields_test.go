package plugin

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbcsim"
	"github.com/seed/cbcauditlogs/pkg/models"
)

// GET fields serves the vocabulary; GET values, counts and searches accept what it says of each field, and
// the simulator (written from the API contract) takes every criteria and sort field it lists.
func TestResourcesAndQueriesFollowTheVocabulary(t *testing.T) {
	city, asn := geoipDatabases(t) // the vocabulary's country and network need them
	f := newFixture(t, cbcsim.Config{Seed: 2, EventsPerDay: 300}, map[string]any{"geoipCityDatabase": city, "geoipAsnDatabase": asn})
	if res := f.resource(t, "GET", "fields", nil); res.status != http.StatusOK || !bytes.Equal(res.body.Bytes(), models.FieldsJSON()) {
		t.Fatalf("GET fields: %d, and not the vocabulary", res.status)
	}
	from, to := simNow.Add(-24*time.Hour).UnixMilli(), simNow.UnixMilli()
	for _, field := range models.Fields() {
		res := f.resource(t, "GET", fmt.Sprintf("values?field=%s&from=%d&to=%d", field.Name, from, to), nil)
		if (res.status == http.StatusOK) != field.Values {
			t.Errorf("GET values of %s: %d %s, but the vocabulary says values %v", field.Name, res.status, res.body.String(), field.Values)
		}
		if field.GroupBy {
			if res := f.run(t, dataQuery("A", fmt.Sprintf(`{"queryType":"count","groupBy":%q}`, field.Name))).Responses["A"]; res.Error != nil {
				t.Errorf("count grouped by %s: %v", field.Name, res.Error)
			}
		}
		if field.Sort {
			if res := f.run(t, dataQuery("A", fmt.Sprintf(`{"sort":{"field":%q,"order":"ASC"}}`, field.Name))).Responses["A"]; res.Error != nil {
				t.Errorf("search sorted by %s: %v", field.Name, res.Error)
			}
		}
		if field.Criteria {
			value := map[string]string{"country": `["DE"]`, "asn": `["AS3320"]`}[field.Name]
			switch {
			case field.Type == "boolean":
				value = "false"
			case value == "":
				value = `["x"]`
			}
			body := fmt.Sprintf(`{"criteria":{%[1]q:%[2]s},"exclusions":{%[1]q:%[2]s}}`, field.Name, value)
			if res := f.run(t, dataQuery("A", body)).Responses["A"]; res.Error != nil {
				t.Errorf("criteria and exclusions on %s: %v", field.Name, res.Error)
			}
		}
	}
}
