package signals

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/cbcsim"
	"github.com/seed/cbcauditlogs/pkg/geoip"
	"github.com/seed/cbcauditlogs/pkg/models"
)

var start = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC) // a Wednesday, within the default working hours

func record(at time.Duration, actor, ip, description string) cbc.Record {
	return cbc.Record{CreateTime: start.Add(at), Actor: actor, ActorIP: ip, Description: description}
}

func failures(from time.Duration, n int, step time.Duration, actor, ip string) []cbc.Record {
	var out []cbc.Record
	for i := range n {
		out = append(out, record(from+time.Duration(i)*step, actor, ip, "Login failed for user "+actor))
	}
	return out
}

// run evaluates one detection over records in [start, start+24h], with the default profile and known ranges.
func run(t *testing.T, detection string, params map[string]string, placer geoip.Placer, records ...cbc.Record) []Finding {
	t.Helper()
	plan, err := NewPlan(detection, params, models.Settings{KnownRanges: "203.0.113.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	c := NewCollector()
	for _, r := range records {
		c.Add(r)
	}
	return plan.Evaluate(c, start, start.Add(24*time.Hour), placer)
}

func TestBruteForceCountsWithinTheWindowOnly(t *testing.T) {
	// Nine failures in 9 minutes, then a tenth 2 minutes later: never ten within 10 minutes.
	spread := append(failures(0, 9, time.Minute, "bob", "198.51.100.9"), failures(11*time.Minute, 1, 0, "bob", "198.51.100.9")...)
	if found := run(t, "brute_force", nil, nil, spread...); len(found) != 0 {
		t.Errorf("fired on failures spread wider than the window: %v", found)
	}
	// Ten within a minute fire once, at the tenth, and the burst goes on while failures follow within the window.
	burst := failures(time.Hour, 25, 5*time.Second, "bob", "198.51.100.9")
	found := run(t, "brute_force", nil, nil, burst...)
	if len(found) != 1 || !found[0].Time.Equal(burst[9].CreateTime) || found[0].Evidence != 25 {
		t.Fatalf("want one finding at the tenth failure with 25 events of evidence, got %+v", found)
	}
	if !strings.HasPrefix(found[0].Summary, "25 failed logins for bob from 198.51.100.9 in 2 min") {
		t.Errorf("summary: %s", found[0].Summary)
	}
	// Another actor's failures never add up with bob's.
	mixed := append(failures(2*time.Hour, 5, time.Second, "bob", "x"), failures(2*time.Hour, 5, time.Second, "carol", "x")...)
	if found := run(t, "brute_force", nil, nil, mixed...); len(found) != 0 {
		t.Errorf("two actors' failures were counted together: %v", found)
	}
}

func TestFindingsBeforeTheRangeAreTheBaselines(t *testing.T) {
	before := failures(-30*time.Minute, 12, time.Second, "bob", "198.51.100.9")
	if found := run(t, "brute_force", nil, nil, before...); len(found) != 0 {
		t.Errorf("a burst before the range was reported: %v", found)
	}
	// A burst that starts before the range and reaches ten within it is found.
	straddling := failures(-30*time.Second, 12, 5*time.Second, "bob", "198.51.100.9")
	if found := run(t, "brute_force", nil, nil, straddling...); len(found) != 1 {
		t.Errorf("a burst reaching ten within the range: %v", found)
	}
}

func TestPasswordSprayCountsDistinctActors(t *testing.T) {
	var sameActor, manyActors []cbc.Record
	for i := range 8 {
		sameActor = append(sameActor, failures(time.Duration(i)*time.Minute, 1, 0, "bob", "45.155.205.233")...)
		manyActors = append(manyActors, failures(time.Duration(i)*time.Minute, 1, 0, fmt.Sprintf("user%d", i), "45.155.205.233")...)
	}
	if found := run(t, "password_spray", nil, nil, sameActor...); len(found) != 0 {
		t.Errorf("eight failures of one actor are not spraying: %v", found)
	}
	found := run(t, "password_spray", nil, nil, manyActors...)
	if len(found) != 1 || found[0].Entity != "45.155.205.233" || !found[0].Time.Equal(manyActors[4].CreateTime) {
		t.Errorf("want one finding for the address at the fifth actor, got %+v", found)
	}
}

func TestSuccessAfterFailuresNeedsTheFailuresWithinTheWindow(t *testing.T) {
	early := append(failures(0, 5, time.Minute, "bob", "x"), record(30*time.Minute, "bob", "x", "Logged in successfully"))
	if found := run(t, "success_after_failures", nil, nil, early...); len(found) != 0 {
		t.Errorf("failures 25 minutes before the success: %v", found)
	}
	recent := append(failures(0, 5, time.Minute, "bob", "x"), record(6*time.Minute, "bob", "y", "Logged in successfully"))
	found := run(t, "success_after_failures", nil, nil, recent...)
	if len(found) != 1 || found[0].Evidence != 6 || !strings.HasSuffix(found[0].Summary, "then a success from y") {
		t.Errorf("want one finding with 6 events, got %+v", found)
	}
	// A success in between resets: the user typed the password right.
	reset := append(failures(0, 3, time.Minute, "bob", "x"), record(4*time.Minute, "bob", "x", "Logged in successfully"))
	reset = append(reset, failures(5*time.Minute, 3, time.Minute, "bob", "x")...)
	reset = append(reset, record(9*time.Minute, "bob", "x", "Logged in successfully"))
	if found := run(t, "success_after_failures", nil, nil, reset...); len(found) != 0 {
		t.Errorf("three failures, a success, three failures, a success: %v", found)
	}
}

// places puts addresses on a map for the tests.
type places map[string]geoip.Place

func (p places) Place(ip string) geoip.Place { return p[ip] }

var world = places{
	"80.133.45.10":  {Country: "DE", CountryName: "Germany", City: "Wuppertal", Latitude: 51.26, Longitude: 7.18, Located: true, ASN: 3320},
	"80.133.45.11":  {Country: "DE", CountryName: "Germany", City: "Wuppertal", Latitude: 51.26, Longitude: 7.18, Located: true, ASN: 3320},
	"89.187.163.5":  {Country: "SG", CountryName: "Singapore", City: "Singapore", Latitude: 1.29, Longitude: 103.85, Located: true, ASN: 60068},
	"10.0.0.1":      {Country: geoip.Private, CountryName: geoip.Private},
	"203.0.113.10":  {Country: "US", CountryName: "United States", Latitude: 40, Longitude: -74, Located: true},
	"153.206.11.5":  {Country: "JP", CountryName: "Japan", City: "Yokohama", Latitude: 35.44, Longitude: 139.64, Located: true, ASN: 4713},
	"73.162.14.20":  {Country: "US", CountryName: "United States", City: "Fairfield", Latitude: 41.14, Longitude: -73.26, Located: true, ASN: 7922},
	"177.92.3.10":   {Country: "BR", CountryName: "Brazil", City: "Curitiba", Latitude: -25.43, Longitude: -49.27, Located: true, ASN: 28573},
	"185.220.101.4": {Country: "DE", CountryName: "Germany", City: "Berlin", Latitude: 52.52, Longitude: 13.4, Located: true, ASN: 60729},
}

func TestNewSourceComparesWithTheActorsBaseline(t *testing.T) {
	signIn := func(at time.Duration, actor, ip string) cbc.Record {
		return record(at, actor, ip, "Logged in successfully")
	}
	records := []cbc.Record{
		signIn(-5*24*time.Hour, "bob", "80.133.45.10"),
		signIn(time.Hour, "bob", "80.133.45.10"),   // usual
		signIn(2*time.Hour, "bob", "80.133.45.11"), // a new address in the same country and network
		signIn(3*time.Hour, "bob", "177.92.3.10"),  // a new address, country and network
		signIn(4*time.Hour, "bob", "177.92.3.10"),  // no longer new
		signIn(5*time.Hour, "bob", "203.0.113.10"), // a known range
		signIn(time.Hour, "newcomer", "177.92.3.10"),
		signIn(-20*24*time.Hour, "returning", "80.133.45.10"), // before the baseline
		signIn(time.Hour, "returning", "177.92.3.10"),
	}
	found := run(t, "new_source", nil, world, records...)
	if len(found) != 2 || found[0].Entity != "bob" || found[1].Entity != "bob" {
		t.Fatalf("want bob's two new sources, got %v", found)
	}
	if !strings.Contains(found[0].Summary, "a new address for them over 14 days") ||
		!strings.Contains(found[1].Summary, "177.92.3.10 (Brazil): a new address, country and network") {
		t.Errorf("summaries: %q, %q", found[0].Summary, found[1].Summary)
	}
	onlyCountries := run(t, "new_source", map[string]string{"compare": "country"}, world, records...)
	if len(onlyCountries) != 1 || !onlyCountries[0].Time.Equal(start.Add(3*time.Hour)) {
		t.Errorf("comparing countries only: %v", onlyCountries)
	}
}

func TestImpossibleTravel(t *testing.T) {
	signIn := func(at time.Duration, ip string) cbc.Record { return record(at, "erin", ip, "Logged in successfully") }
	found := run(t, "impossible_travel", nil, world,
		signIn(0, "153.206.11.5"),
		signIn(time.Minute, "10.0.0.1"),       // private: no place
		signIn(2*time.Minute, "203.0.113.10"), // a known range: the office's VPN, wherever it says it is
		signIn(10*time.Minute, "89.187.163.5"),
		signIn(30*time.Hour, "153.206.11.5"), // 5,300 km in 30 hours: possible
	)
	if len(found) != 1 || !found[0].Time.Equal(start.Add(10*time.Minute)) || found[0].Evidence != 2 {
		t.Fatalf("want one finding at the Singapore sign-in, got %+v", found)
	}
	if !strings.Contains(found[0].Summary, "from Singapore, SG 10 min after Yokohama, JP: 5298 km, 31785 km/h") {
		t.Errorf("summary: %s", found[0].Summary)
	}
	// Within the same city, GeoIP's error is not travel; and without GeoIP the detection finds nothing.
	if near := run(t, "impossible_travel", nil, world, signIn(0, "80.133.45.10"), signIn(time.Second, "80.133.45.11")); len(near) != 0 {
		t.Errorf("the same place: %v", near)
	}
	if blind := run(t, "impossible_travel", nil, nil, signIn(0, "153.206.11.5"), signIn(time.Minute, "89.187.163.5")); len(blind) != 0 {
		t.Errorf("without GeoIP: %v", blind)
	}
}

func TestAdministrationDetections(t *testing.T) {
	night := 14 * time.Hour // 02:00 UTC on Thursday
	records := []cbc.Record{
		record(time.Hour, "alice", "203.0.113.10", "Added user mallory@acme.example with role Administrator"),
		record(time.Hour, "alice", "203.0.113.10", "Updated role of user bob to Read Only"),
		record(2*time.Hour, "alice", "203.0.113.10", "Created API key Backup with id ABCDEFGHJK"), // in hours, from the office
		record(3*time.Hour, "alice", "80.133.45.10", "Deleted API key ABCDEFGHJK"),                // from home
		record(night, "dave", "203.0.113.11", "Updated connector SIEM with api key KX7Q2M9RTA"),   // at night
		record(night+10*time.Minute, "dave", "203.0.113.11", "Started Live Response session 1 on device X"),
		record(night+3*time.Hour, "dave", "203.0.113.11", "Updated policy 'Standard'"),
	}
	cases := map[string][]string{
		"privilege_granted":   {"alice"},
		"api_credentials":     {"alice", "dave"},
		"off_hours_admin":     {"dave", "dave"},
		"first_live_response": {"dave"},
	}
	for detection, want := range cases {
		found := run(t, detection, nil, nil, records...)
		var got []string
		for _, f := range found {
			got = append(got, f.Entity)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s found %v, want %v: %v", detection, got, want, found)
		}
	}
	found := run(t, "off_hours_admin", nil, nil, records...)
	if found[0].Evidence != 2 || !strings.Contains(found[0].Summary, "2 privileged actions by dave outside working hours, from Thu 02:00 UTC: 1 api key or connector change, 1 live response") {
		t.Errorf("off hours: %+v", found[0])
	}
	withDaveAtWork := run(t, "off_hours_admin", map[string]string{"working_hours": "Mon-Sun 00:00-24:00"}, nil, records...)
	if len(withDaveAtWork) != 0 {
		t.Errorf("working around the clock: %v", withDaveAtWork)
	}
}

func TestPlanErrorsNameTheValue(t *testing.T) {
	for params, want := range map[string]string{
		"detection=nope":           `detection "nope" is unknown: use one of brute_force,`,
		"failures=0":               `brute_force failures "0" must be a whole number of at least 1`,
		"window=soon":              `brute_force window "soon" must be a duration`,
		"speed=9":                  `brute_force has no parameter "speed": it takes failures, window, working_hours`,
		"working_hours=nights":     `working hours "nights" are malformed`,
		"time_zone=Mars/Olympus":   `time zone "Mars/Olympus" is unknown`,
		"known_ranges=10.0.0.0/33": `known range "10.0.0.0/33" is malformed`,
		"baseline_days=100":        `baseline_days "100" must be a whole number from 1 to 90`,
		"all:failures=3":           `parameter "failures" needs one detection`,
	} {
		detection := "brute_force"
		if _, rest, ok := strings.Cut(params, ":"); ok {
			detection, params = "", rest
		}
		name, value, _ := strings.Cut(params, "=")
		values := map[string]string{name: value}
		if name == "detection" {
			detection, values = value, nil
		}
		_, err := NewPlan(detection, values, models.Settings{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", params, err, want)
		}
	}
}

func TestWorkingHoursSpanningMidnight(t *testing.T) {
	w, err := models.ParseWorkingHours("Mon-Fri 22:00-06:00", "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	berlin := w.Location
	for at, want := range map[time.Time]bool{
		time.Date(2026, 3, 2, 23, 0, 0, 0, berlin): true,  // Monday night
		time.Date(2026, 3, 3, 5, 0, 0, 0, berlin):  true,  // Tuesday morning: Monday's shift
		time.Date(2026, 3, 2, 5, 0, 0, 0, berlin):  false, // Monday morning: Sunday's shift, not worked
		time.Date(2026, 3, 7, 5, 0, 0, 0, berlin):  true,  // Saturday morning: Friday's shift
		time.Date(2026, 3, 3, 12, 0, 0, 0, berlin): false,
	} {
		if got := w.Contains(at); got != want {
			t.Errorf("%s: %v, want %v", at, got, want)
		}
	}
}

// The query editor reads src/detections.json; the backend embeds its own copy. They must not drift apart.
func TestEditorCatalogueIsTheBackends(t *testing.T) {
	frontend, err := os.ReadFile("../../src/detections.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(frontend, CatalogueJSON()) {
		t.Error("src/detections.json and pkg/signals/detections.json differ: copy one over the other")
	}
	for _, d := range Detections() {
		if detect[d.ID] == nil {
			t.Errorf("the catalogue lists %s, which no code detects", d.ID)
		}
	}
	if len(detect) != len(Detections()) {
		t.Errorf("%d detections in code, %d in the catalogue", len(detect), len(Detections()))
	}
}

// The simulator's org traffic is realistic enough to tempt every detection, and none fires on it at its
// defaults: over 40 weeks, each ending at another time of another weekday, from another seed.
func TestSilentOnWeeksOfOrdinaryWork(t *testing.T) {
	plan, err := NewPlan("", nil, models.Settings{KnownRanges: "192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	for week := range 40 {
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(week) * (24*time.Hour + 137*time.Minute))
		sim := cbcsim.New(cbcsim.Config{Traffic: cbcsim.TrafficOrg, Seed: uint64(week), Span: 21 * 24 * time.Hour, EventsPerDay: 2000,
			Now: func() time.Time { return now }})
		c := NewCollector()
		for _, e := range sim.Records() {
			c.Add(cbc.Record{CreateTime: e.CreateTime, Actor: e.Actor, ActorIP: e.ActorIP, Description: e.Description})
		}
		sim.Close()
		for _, f := range plan.Evaluate(c, now.Add(-7*24*time.Hour), now, world) {
			t.Errorf("the week to %s, seed %d: %s: %s", now.Format("Mon 2006-01-02 15:04"), week, f.Detection.ID, f.Summary)
		}
	}
}

// fixedEvents serves the same records for any range.
type fixedEvents []cbc.Record

func (f fixedEvents) Events(_ context.Context, _, _ time.Time, _ bool, visit func(cbc.Record)) (cbc.ScanResult, error) {
	for _, r := range f {
		visit(r)
	}
	return cbc.ScanResult{NumFound: len(f) + 5, Scanned: len(f)}, nil
}

// Without a City database, impossible travel asked for alone is refused with the setting to fix, and among
// every detection it is left out with a note; a read that max records stopped says so.
func TestAnswerWithoutGeoIPAndWithACutRead(t *testing.T) {
	q := models.Query{QueryType: models.QueryTypeSignals, Format: models.FormatTable, Detection: "impossible_travel",
		TimeRange: models.TimeRange{From: start, To: start.Add(24 * time.Hour)}}
	in := Inputs{Events: fixedEvents(failures(time.Hour, 12, time.Second, "bob", "x"))}
	if _, err := Answer(context.Background(), q, false, models.Settings{}, in); err == nil || !strings.Contains(err.Error(), "needs a GeoIP City database") {
		t.Errorf("impossible travel without GeoIP: %v", err)
	}
	q.Detection = ""
	frames, err := Answer(context.Background(), q, false, models.Settings{}, in)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, n := range frames[0].Meta.Notices {
		texts = append(texts, n.Text)
	}
	if got := strings.Join(texts, " | "); !strings.Contains(got, "Impossible travel did not run") || !strings.Contains(got, "saw 12 of the 17 events") {
		t.Errorf("notices: %s", got)
	}
	if frames[0].Rows() != 1 {
		t.Errorf("%d findings, want the brute force", frames[0].Rows())
	}
}
