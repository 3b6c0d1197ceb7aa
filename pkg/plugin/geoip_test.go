package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/cbcsim"
	"github.com/seed/cbcauditlogs/pkg/cbctest"
	"github.com/seed/cbcauditlogs/pkg/geoip/geoiptest"
)

// geoipDatabases writes a City database in MaxMind's layout and an ASN one that place the simulator's
// attacking addresses; its staff's addresses are documentation ranges, which no database places.
func geoipDatabases(t *testing.T) (city, asn string) {
	dir := t.TempDir()
	city = geoiptest.Write(t, filepath.Join(dir, "city.mmdb"), "GeoLite2-City", []geoiptest.Network{
		{CIDR: "45.155.205.0/24", Record: geoiptest.GeoIP2City("NL", "Netherlands", "Amsterdam", 52.3759, 4.8975)},
		{CIDR: "185.220.101.0/24", Record: geoiptest.GeoIP2City("DE", "Germany", "", 51.2993, 9.491)},
	})
	asn = geoiptest.Write(t, filepath.Join(dir, "asn.mmdb"), "GeoLite2-ASN", []geoiptest.Network{
		{CIDR: "45.155.205.0/24", Record: geoiptest.ASN(49505, "Selectel")},
	})
	return city, asn
}

// placedBy is where the test's own reading of geoipDatabases puts a record's actor_ip: its country, or its
// network as a count names it; "(none)" where neither database places it.
func placedBy(field string) func(cbc.Record) string {
	return func(r cbc.Record) string {
		addr := netip.MustParseAddr(r.ActorIP)
		switch {
		case netip.MustParsePrefix("45.155.205.0/24").Contains(addr) && field == "country":
			return "NL"
		case netip.MustParsePrefix("45.155.205.0/24").Contains(addr):
			return "AS49505 Selectel"
		case netip.MustParsePrefix("185.220.101.0/24").Contains(addr) && field == "country":
			return "DE"
		case addr.IsPrivate() && field == "country":
			return "private"
		}
		return "(none)"
	}
}

// With GeoIP databases, table and logs frames say where each actor_ip is: attackers' addresses get their
// country, city, coordinates and AS; the staff's documentation addresses nothing; without the databases the
// frames are as before.
func TestFramesSayWhereAddressesAre(t *testing.T) {
	city, asn := geoipDatabases(t)
	f := newFixture(t, cbcsim.Config{Seed: 21, EventsPerDay: 3000}, map[string]any{"geoipCityDatabase": city, "geoipAsnDatabase": asn})
	resp := f.run(t,
		dataQuery("T", `{"queryType":"search","format":"table","query":"actor_ip:45.155.205.233 OR actor_ip:203.0.113.10","limit":5000}`),
		dataQuery("L", `{"queryType":"search","format":"logs","query":"actor_ip:45.155.205.233","limit":50}`))
	table := resp.Responses["T"].Frames[0]
	column := func(name string) *data.Field {
		field, i := table.FieldByName(name)
		if i < 0 {
			t.Fatalf("the table has no %s column", name)
		}
		return field
	}
	seen := map[string]bool{}
	for i := range table.Rows() {
		ip := column("actor_ip").At(i).(string)
		country, cityName, asNumber := column("country").At(i).(string), column("city").At(i).(string), column("asn").At(i).(*int64)
		lat := column("latitude").At(i).(*float64)
		switch ip {
		case "45.155.205.233":
			if country != "NL" || cityName != "Amsterdam" || lat == nil || *lat != 52.3759 || asNumber == nil || *asNumber != 49505 || column("as_org").At(i) != "Selectel" {
				t.Fatalf("row %d for %s: %s %s %v %v", i, ip, country, cityName, lat, asNumber)
			}
		case "203.0.113.10":
			if country != "" || lat != nil || asNumber != nil {
				t.Fatalf("row %d for a documentation address: %s %v %v", i, country, lat, asNumber)
			}
		}
		seen[ip] = true
	}
	if !seen["45.155.205.233"] || !seen["203.0.113.10"] {
		t.Fatalf("the table lacks an attacker's or a staff member's rows: %v", seen)
	}
	logs := resp.Responses["L"].Frames[0]
	labels, _ := logs.FieldByName("labels")
	if logs.Rows() == 0 {
		t.Fatal("no log lines")
	}
	var got map[string]any
	if err := json.Unmarshal(labels.At(0).(json.RawMessage), &got); err != nil {
		t.Fatal(err)
	}
	if got["country"] != "NL" || got["country_name"] != "Netherlands" || got["city"] != "Amsterdam" || got["asn"] != "49505" || got["latitude"] != "52.3759" {
		t.Errorf("log labels %v", got)
	}

	plain := newFixture(t, cbcsim.Config{Seed: 21, EventsPerDay: 3000}, nil)
	table = plain.run(t, dataQuery("T", `{"queryType":"search","format":"table","limit":10}`)).Responses["T"].Frames[0]
	if _, i := table.FieldByName("country"); i >= 0 {
		t.Error("a data source without GeoIP databases has a country column")
	}
}

// A missing or wrong GeoIP database is a health-check error naming its path, and never fails a query.
func TestABadGeoIPDatabaseIsAHealthErrorNotAQueryError(t *testing.T) {
	city, asn := geoipDatabases(t)
	missing := filepath.Join(t.TempDir(), "nowhere.mmdb")
	for name, settings := range map[string]map[string]any{
		"missing file":       {"geoipCityDatabase": missing},
		"ASN file as a City": {"geoipCityDatabase": asn, "geoipAsnDatabase": asn},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, cbcsim.Config{Seed: 22, EventsPerDay: 500}, settings)
			health, err := f.ds.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
			if err != nil {
				t.Fatal(err)
			}
			path, _ := settings["geoipCityDatabase"].(string)
			if health.Status != backend.HealthStatusError || !strings.Contains(health.Message, path) || !strings.Contains(health.Message, "GeoIP") {
				t.Errorf("health %v: %s", health.Status, health.Message)
			}
			res := f.run(t, dataQuery("A", `{"queryType":"search","format":"table","limit":10}`)).Responses["A"]
			if res.Error != nil || res.Frames[0].Rows() == 0 {
				t.Errorf("a query failed with the GeoIP database: %v", res.Error)
			}
		})
	}
	good := newFixture(t, cbcsim.Config{Seed: 22, EventsPerDay: 500}, map[string]any{"geoipCityDatabase": city, "geoipAsnDatabase": asn})
	health, _ := good.ds.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if health.Status != backend.HealthStatusOk {
		t.Errorf("with good databases: %v %s", health.Status, health.Message)
	}
}

// Counts by country and by network equal a count straight from the simulator's records, placed by the test's
// own reading of the two test databases; on the history cache's second pass too, and for an alert rule.
func TestCountsByCountryAndNetwork(t *testing.T) {
	city, asn := geoipDatabases(t)
	f := newFixture(t, cbcsim.Config{Seed: 23, EventsPerDay: 4000}, map[string]any{"geoipCityDatabase": city, "geoipAsnDatabase": asn})
	from, to := simNow.Add(-48*time.Hour), simNow
	for _, field := range []string{"country", "asn"} {
		truth := truthCounts(cbctest.Records(f.sim), from, to, time.Hour, placedBy(field))
		if len(truth) < 2 {
			t.Fatalf("the simulator's records make %d %s groups: the test would compare too little", len(truth), field)
		}
		for _, alert := range []bool{false, false, true} {
			req := &backend.QueryDataRequest{Queries: []backend.DataQuery{countQuery(`{"queryType":"count","groupBy":"`+field+`","interval":"1h"}`, from, to)}}
			if alert {
				req.Headers = map[string]string{backend.FromAlertHeaderName: "true"}
			}
			resp, err := f.ds.QueryData(context.Background(), req)
			if err != nil || resp.Responses["A"].Error != nil {
				t.Fatalf("%s: %v %v", field, err, resp.Responses["A"].Error)
			}
			sameCounts(t, seriesCounts(t, resp.Responses["A"].Frames, field, from, to, time.Hour), truth)
		}
	}
	plain := newFixture(t, cbcsim.Config{Seed: 23, EventsPerDay: 500}, nil)
	res := plain.run(t, countQuery(`{"queryType":"count","groupBy":"country"}`, from, to)).Responses["A"]
	if res.Error == nil || !strings.Contains(res.Error.Error(), "GeoIP") || res.Status != backend.StatusBadRequest {
		t.Errorf("a count by country without GeoIP: %v (status %d)", res.Error, res.Status)
	}
}

// Filters on country and network, which CBC cannot search, keep exactly the records the test's own placing
// keeps, in the search's order; the limit notice counts what passed the filter, and a count agrees.
func TestFiltersOnCountryAndNetwork(t *testing.T) {
	city, asn := geoipDatabases(t)
	f := newFixture(t, cbcsim.Config{Seed: 24, EventsPerDay: 3000}, map[string]any{"geoipCityDatabase": city, "geoipAsnDatabase": asn})
	from, to := simNow.Add(-24*time.Hour), simNow
	var truth []cbc.Record // newest first, as the search sorts
	for _, r := range cbctest.Records(f.sim) {
		country, network := placedBy("country")(r), placedBy("asn")(r)
		if !r.CreateTime.Before(from) && !r.CreateTime.After(to) && (country == "NL" || country == "private") && network != "AS49505 Selectel" {
			truth = append(truth, r)
		}
	}
	cbc.SortRecords(truth, "create_time", cbc.Desc)
	if len(truth) < 50 {
		t.Fatalf("only %d records pass the filters: the test would compare too little", len(truth))
	}
	filters := `"criteria":{"country":["nl","private"]},"exclusions":{"asn":["AS49505"]}`
	resp := f.run(t,
		dataQuery("ALL", `{"queryType":"search","format":"table","limit":200000,`+filters+`}`),
		dataQuery("FEW", `{"queryType":"search","format":"table","limit":7,`+filters+`}`),
		countQuery(`{"queryType":"count","interval":"1h",`+filters+`}`, from, to))
	for refID, want := range map[string][]cbc.Record{"ALL": truth, "FEW": truth[:7]} {
		res := resp.Responses[refID]
		if res.Error != nil {
			t.Fatalf("%s: %v", refID, res.Error)
		}
		table := res.Frames[0]
		ips, _ := table.FieldByName("actor_ip")
		times, _ := table.FieldByName("create_time")
		var got, wanted []string // records at the same millisecond may come in either order
		for i := range table.Rows() {
			if i > 0 && times.At(i).(time.Time).After(times.At(i-1).(time.Time)) {
				t.Fatalf("%s: row %d is newer than the row before it", refID, i)
			}
			got = append(got, fmt.Sprintf("%v %v", times.At(i).(time.Time).UnixMilli(), ips.At(i)))
		}
		for _, r := range want {
			wanted = append(wanted, fmt.Sprintf("%v %v", r.CreateTime.UnixMilli(), r.ActorIP))
		}
		slices.Sort(got)
		slices.Sort(wanted)
		if !slices.Equal(got, wanted) {
			t.Fatalf("%s: %d rows, want %d, or other records", refID, len(got), len(wanted))
		}
	}
	notices := resp.Responses["FEW"].Frames[0].Meta.Notices
	if wantNotice := fmt.Sprintf("%d records match; showing the first 7", len(truth)); len(notices) == 0 || !strings.Contains(notices[0].Text, wantNotice) {
		t.Errorf("the limit notice %v, want %q", notices, wantNotice)
	}
	var counted int64
	for _, frame := range resp.Responses["A"].Frames {
		values := frame.Fields[1]
		for i := range values.Len() {
			counted += values.At(i).(int64)
		}
	}
	if counted != int64(len(truth)) {
		t.Errorf("the count says %d, the records %d", counted, len(truth))
	}

	// When max records stops the reading, the answer says how much the filters saw.
	capped := newFixture(t, cbcsim.Config{Seed: 24, EventsPerDay: 3000}, map[string]any{"geoipCityDatabase": city, "geoipAsnDatabase": asn, "maxRecords": 500})
	res := capped.run(t, dataQuery("A", `{"format":"table",`+filters+`}`)).Responses["A"]
	if res.Error != nil || len(res.Frames) != 1 || !strings.Contains(fmt.Sprint(res.Frames[0].Meta.Notices), "The country and network filters saw 500 of the") {
		t.Errorf("a filtered search stopped by max records: %v %v", res.Error, res.Frames)
	}

	for name, c := range map[string]struct {
		settings map[string]any
		body     string
		want     string
	}{
		"no databases":  {nil, `{"criteria":{"country":["DE"]}}`, "needs a GeoIP City or Country database"},
		"no ASN":        {map[string]any{"geoipCityDatabase": city}, `{"exclusions":{"asn":["3320"]}}`, "needs a GeoIP ASN database"},
		"not a country": {map[string]any{"geoipCityDatabase": city}, `{"criteria":{"country":["Germany"]}}`, "two-letter ISO code"},
		"not a network": {map[string]any{"geoipAsnDatabase": asn}, `{"criteria":{"asn":["Telekom"]}}`, "such as 3320 or AS3320"},
	} {
		g := newFixture(t, cbcsim.Config{Seed: 24, EventsPerDay: 200}, c.settings)
		res := g.run(t, dataQuery("A", c.body), dataQuery("B", `{"limit":5}`)).Responses
		if res["A"].Error == nil || !strings.Contains(res["A"].Error.Error(), c.want) || res["A"].Status != backend.StatusBadRequest {
			t.Errorf("%s: %v (status %d), want %q", name, res["A"].Error, res["A"].Status, c.want)
		}
		if res["B"].Error != nil {
			t.Errorf("%s: the query beside it failed: %v", name, res["B"].Error)
		}
	}
}
