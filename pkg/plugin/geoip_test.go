package plugin

import (
	"context"
	"encoding/json"
	"net/netip"
	"path/filepath"
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
	place := func(field string) func(cbc.Record) string {
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
	from, to := simNow.Add(-48*time.Hour), simNow
	for _, field := range []string{"country", "asn"} {
		truth := truthCounts(cbctest.Records(f.sim), from, to, time.Hour, place(field))
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
