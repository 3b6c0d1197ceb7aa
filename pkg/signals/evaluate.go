package signals

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/seed/cbcauditlogs/pkg/category"
	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/geoip"
	"github.com/seed/cbcauditlogs/pkg/models"
)

// Event is what the detections keep of an audit event: only events of a category some detection reads.
type Event struct {
	Time        time.Time
	Actor, IP   string
	Category    string
	Kind        string
	Description string
}

// read are the categories some detection looks at; the rest of the audit log is passed over.
var read = map[string]bool{
	category.LoginFailure: true, category.LoginSuccess: true, category.LiveResponse: true,
	category.APIKey: true, category.UserRole: true, category.Policy: true,
}

// Collector keeps the events the detections read, from records visited in any order.
type Collector struct {
	events []Event
	memo   category.Memo
}

// NewCollector starts an empty collection.
func NewCollector() *Collector { return &Collector{memo: category.Memo{}} }

// Add keeps a record when a detection reads its category.
func (c *Collector) Add(r cbc.Record) {
	cat := c.memo.Of(r.Description)
	if !read[cat] {
		return
	}
	e := Event{Time: r.CreateTime, Actor: r.Actor, IP: r.ActorIP, Category: cat}
	if cat != category.LoginSuccess && cat != category.LoginFailure {
		e.Kind = category.KindOf(r.Description)
		e.Description = r.Description
	}
	c.events = append(c.events, e)
}

// Finding is one thing a detection found.
type Finding struct {
	Detection Detection
	Time      time.Time // of the event that completed it
	Entity    string    // the actor or address it is about, named by Detection.Entity
	Summary   string
	Evidence  int       // how many events make it
	From, To  time.Time // the evidence's first and last event
}

// EvidenceQuery is a search that shows the evidence: the entity's events over the evidence's span.
func (f Finding) EvidenceQuery() string {
	return fmt.Sprintf(`%s:"%s" AND create_time:["%s" TO "%s"]`, f.Detection.Entity, luceneQuoted(f.Entity),
		f.From.UTC().Format("2006-01-02T15:04:05.000Z"), f.To.UTC().Format("2006-01-02T15:04:05.000Z"))
}

func luceneQuoted(s string) string { return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) }

// evaluation is one plan's run over the collected events, in time order.
type evaluation struct {
	events   []Event
	from, to time.Time
	profile  models.Profile
	places   *geoip.Memo // nil without GeoIP
	found    []Finding
}

// Evaluate runs the plan over the collected events and returns the findings that happened in [from, to],
// by time. Events before from are the baseline and the windows that reach back before the range.
func (p Plan) Evaluate(c *Collector, from, to time.Time, placer geoip.Placer) []Finding {
	slices.SortStableFunc(c.events, func(a, b Event) int { return a.Time.Compare(b.Time) })
	ev := &evaluation{events: c.events, from: from, to: to, profile: p.Profile}
	if placer != nil {
		ev.places = geoip.NewMemo(placer)
	}
	for _, run := range p.Runs {
		detect[run.ID](ev, run)
	}
	slices.SortStableFunc(ev.found, func(a, b Finding) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.Detection.ID, b.Detection.ID)
	})
	return ev.found
}

var detect = map[string]func(*evaluation, Run){
	"brute_force":            bruteForce,
	"password_spray":         passwordSpray,
	"success_after_failures": successAfterFailures,
	"new_source":             newSource,
	"impossible_travel":      impossibleTravel,
	"privilege_granted":      privilegeGranted,
	"defences_weakened":      defencesWeakened,
	"api_credentials":        apiCredentials,
	"off_hours_admin":        offHoursAdmin,
	"first_live_response":    firstLiveResponse,
}

// add keeps a finding when it happened in the time range.
func (ev *evaluation) add(run Run, f Finding) {
	if f.Time.Before(ev.from) || f.Time.After(ev.to) {
		return
	}
	f.Detection = run.Detection
	if f.From.IsZero() {
		f.From, f.To = f.Time, f.Time
	}
	ev.found = append(ev.found, f)
}

// byKey groups the events that pass keep by key, each group in time order.
func (ev *evaluation) byKey(keep func(Event) bool, key func(Event) string) (keys []string, groups map[string][]Event) {
	groups = map[string][]Event{}
	for _, e := range ev.events {
		if keep(e) {
			k := key(e)
			if _, ok := groups[k]; !ok {
				keys = append(keys, k)
			}
			groups[k] = append(groups[k], e)
		}
	}
	return keys, groups
}

func actorOf(e Event) string { return e.Actor }
func ipOf(e Event) string    { return e.IP }
func isFailure(e Event) bool { return e.Category == category.LoginFailure }
func isSignIn(e Event) bool  { return e.Category == category.LoginSuccess }

// burst is a run of events in which at least n fell within w (n distinct values of distinct, unless it is
// nil): fired is the event that reached n, and the burst goes on while events follow within w.
type burst struct{ first, fired, last int }

func bursts(events []Event, n int, w time.Duration, distinct func(Event) string) []burst {
	var out []burst
	inWindow := map[string]int{} // distinct value -> events of it in the window
	reached := func(start, i int) bool {
		if distinct == nil {
			return i-start+1 >= n
		}
		return len(inWindow) >= n
	}
	start := 0
	for i := 0; i < len(events); i++ {
		if distinct != nil {
			inWindow[distinct(events[i])]++
		}
		for events[i].Time.Sub(events[start].Time) > w {
			if distinct != nil {
				if v := distinct(events[start]); inWindow[v] == 1 {
					delete(inWindow, v)
				} else {
					inWindow[v]--
				}
			}
			start++
		}
		if !reached(start, i) {
			continue
		}
		b := burst{first: start, fired: i, last: i}
		for b.last+1 < len(events) && events[b.last+1].Time.Sub(events[b.last].Time) <= w {
			b.last++
		}
		out = append(out, b)
		i, start = b.last, b.last+1
		clear(inWindow)
	}
	return out
}

// findBursts groups the events that pass keep by the entity, and adds a finding for each burst of at least n
// of them (n distinct values of distinct, unless it is nil) within the run's window.
func (ev *evaluation) findBursts(run Run, keep func(Event) bool, entity func(Event) string, n int, distinct func(Event) string,
	summary func(entity string, part []Event) string) {
	keys, groups := ev.byKey(keep, entity)
	for _, key := range keys {
		events := groups[key]
		for _, b := range bursts(events, n, run.duration("window"), distinct) {
			part := events[b.first : b.last+1]
			ev.add(run, Finding{Time: events[b.fired].Time, Entity: key, Evidence: len(part), From: part[0].Time, To: part[len(part)-1].Time,
				Summary: summary(key, part)})
		}
	}
}

func bruteForce(ev *evaluation, run Run) {
	ev.findBursts(run, isFailure, actorOf, run.count("failures"), nil, func(actor string, part []Event) string {
		return fmt.Sprintf("%d failed logins for %s %s in %s", len(part), actor, fromAddresses(part), span(part))
	})
}

func passwordSpray(ev *evaluation, run Run) {
	ev.findBursts(run, isFailure, ipOf, run.count("actors"), actorOf, func(ip string, part []Event) string {
		return fmt.Sprintf("%d failed logins for %d actors from %s in %s", len(part), distinctCount(part, actorOf), ip, span(part))
	})
}

func successAfterFailures(ev *evaluation, run Run) {
	actors, groups := ev.byKey(func(e Event) bool { return isFailure(e) || isSignIn(e) }, actorOf)
	n, w := run.count("failures"), run.duration("window")
	for _, actor := range actors {
		var failures []Event
		for _, e := range groups[actor] {
			if isFailure(e) {
				failures = append(failures, e)
				continue
			}
			failures = slices.DeleteFunc(failures, func(f Event) bool { return e.Time.Sub(f.Time) > w })
			if len(failures) >= n {
				ev.add(run, Finding{Time: e.Time, Entity: actor, Evidence: len(failures) + 1, From: failures[0].Time, To: e.Time,
					Summary: fmt.Sprintf("%d failed logins for %s %s in %s, then a success from %s", len(failures), actor, fromAddresses(failures), span(failures), e.IP)})
			}
			failures = failures[:0]
		}
	}
}

// newSource finds sign-ins from an address, country or network the actor did not use over the baseline, for
// actors who signed in over the baseline at all: a new account has no usual to depart from.
func newSource(ev *evaluation, run Run) {
	type seen struct {
		addresses, countries map[string]bool
		networks             map[uint32]bool
	}
	baselineFrom := ev.from.Add(-ev.profile.Baseline)
	actors := map[string]*seen{}
	for _, e := range ev.events {
		if !isSignIn(e) || e.Time.Before(baselineFrom) || ev.profile.Known(e.IP) {
			continue
		}
		s := actors[e.Actor]
		if s == nil {
			if !e.Time.Before(ev.from) {
				continue // no sign-in over the baseline
			}
			s = &seen{map[string]bool{}, map[string]bool{}, map[uint32]bool{}}
			actors[e.Actor] = s
		}
		var news []string
		if run.has("compare", "address") && !s.addresses[e.IP] {
			news = append(news, "address")
		}
		s.addresses[e.IP] = true
		where := e.IP
		if ev.places != nil {
			p := ev.places.Of(e.IP)
			if p.Country != "" && p.Country != geoip.Private {
				where = fmt.Sprintf("%s (%s)", e.IP, p.CountryName)
				if run.has("compare", "country") && !s.countries[p.Country] {
					news = append(news, "country")
				}
				s.countries[p.Country] = true
			}
			if p.ASN != 0 {
				if run.has("compare", "network") && !s.networks[p.ASN] {
					news = append(news, "network")
				}
				s.networks[p.ASN] = true
			}
		}
		if len(news) > 0 && !e.Time.Before(ev.from) {
			ev.add(run, Finding{Time: e.Time, Entity: e.Actor, Evidence: 1,
				Summary: fmt.Sprintf("%s signed in from %s: a new %s for them over %s", e.Actor, where, list(news), days(ev.profile.Baseline))})
		}
	}
}

// impossibleTravel compares each located sign-in of an actor with the one before it.
func impossibleTravel(ev *evaluation, run Run) {
	if ev.places == nil {
		return
	}
	type stop struct {
		e Event
		p geoip.Place
	}
	last := map[string]stop{}
	speed, minDistance := float64(run.count("speed")), float64(run.count("min_distance"))
	for _, e := range ev.events {
		if !isSignIn(e) || ev.profile.Known(e.IP) {
			continue
		}
		p := ev.places.Of(e.IP)
		if !p.Located || p.Country == geoip.Private {
			continue
		}
		before, ok := last[e.Actor]
		last[e.Actor] = stop{e, p}
		if !ok {
			continue
		}
		km := distance(before.p, p)
		hours := e.Time.Sub(before.e.Time).Hours()
		if km < minDistance || (hours > 0 && km/hours <= speed) {
			continue
		}
		ev.add(run, Finding{Time: e.Time, Entity: e.Actor, Evidence: 2, From: before.e.Time, To: e.Time,
			Summary: fmt.Sprintf("%s signed in from %s %s after %s: %.0f km, %s", e.Actor, placeName(p), roundedDuration(e.Time.Sub(before.e.Time)), placeName(before.p), km, kmh(km, hours))})
	}
}

func privilegeGranted(ev *evaluation, run Run) {
	for _, e := range ev.events {
		if e.Kind == category.AdminGranted {
			ev.add(run, Finding{Time: e.Time, Entity: e.Actor, Evidence: 1,
				Summary: fmt.Sprintf("%s from %s: %q", e.Actor, e.IP, e.Description)})
		}
	}
}

func defencesWeakened(ev *evaluation, run Run) {
	isPolicyChange := func(e Event) bool { return e.Kind == category.PolicyDeleted || e.Kind == category.PolicyEdited }
	ev.findBursts(run, isPolicyChange, actorOf, run.count("changes"), nil, func(actor string, part []Event) string {
		deleted := len(slices.DeleteFunc(slices.Clone(part), func(e Event) bool { return e.Kind != category.PolicyDeleted }))
		return fmt.Sprintf("%d policy changes by %s in %s, %d of them deletions", len(part), actor, span(part), deleted)
	})
}

func apiCredentials(ev *evaluation, run Run) {
	for _, e := range ev.events {
		if e.Kind != category.APIKeyCreated && e.Kind != category.APIKeyDeleted && e.Kind != category.ConnectorKeyChanged {
			continue
		}
		var why []string
		if !ev.profile.Hours.Contains(e.Time) {
			why = append(why, "outside working hours ("+e.Time.In(ev.profile.Hours.Location).Format("Mon 15:04 MST")+")")
		}
		if len(ev.profile.KnownRanges) > 0 && !ev.profile.Known(e.IP) {
			why = append(why, "from "+e.IP+", outside the known ranges")
		}
		if len(why) > 0 {
			ev.add(run, Finding{Time: e.Time, Entity: e.Actor, Evidence: 1,
				Summary: fmt.Sprintf("%q by %s, %s", e.Description, e.Actor, strings.Join(why, " and "))})
		}
	}
}

// privileged are the categories of administration: users and roles, policies, API keys and Live Response.
var privileged = map[string]bool{category.UserRole: true, category.Policy: true, category.APIKey: true, category.LiveResponse: true}

func offHoursAdmin(ev *evaluation, run Run) {
	actors, groups := ev.byKey(func(e Event) bool { return privileged[e.Category] && !ev.profile.Hours.Contains(e.Time) }, actorOf)
	gap := run.duration("gap")
	for _, actor := range actors {
		actions := groups[actor]
		for first := 0; first < len(actions); {
			last := first
			for last+1 < len(actions) && actions[last+1].Time.Sub(actions[last].Time) <= gap {
				last++
			}
			part := actions[first : last+1]
			ev.add(run, Finding{Time: part[0].Time, Entity: actor, Evidence: len(part), From: part[0].Time, To: part[len(part)-1].Time,
				Summary: fmt.Sprintf("%s by %s outside working hours, from %s: %s", plural(len(part), "privileged action"), actor,
					part[0].Time.In(ev.profile.Hours.Location).Format("Mon 15:04 MST"), kinds(part))})
			first = last + 1
		}
	}
}

func firstLiveResponse(ev *evaluation, run Run) {
	baselineFrom := ev.from.Add(-ev.profile.Baseline)
	seen := map[string]bool{}
	for _, e := range ev.events {
		if e.Kind != category.LiveResponseStarted || e.Time.Before(baselineFrom) {
			continue
		}
		if !seen[e.Actor] {
			ev.add(run, Finding{Time: e.Time, Entity: e.Actor, Evidence: 1,
				Summary: fmt.Sprintf("%s started Live Response for the first time over %s: %q", e.Actor, days(ev.profile.Baseline), e.Description)})
		}
		seen[e.Actor] = true
	}
}

// fromAddresses says where events came from: "from 203.0.113.7", or "from 3 addresses".
func fromAddresses(events []Event) string {
	if n := distinctCount(events, ipOf); n > 1 {
		return fmt.Sprintf("from %d addresses", n)
	}
	return "from " + events[0].IP
}

func distinctCount(events []Event, value func(Event) string) int {
	seen := map[string]bool{}
	for _, e := range events {
		seen[value(e)] = true
	}
	return len(seen)
}

// kinds lists the categories of events, most frequent first.
func kinds(events []Event) string {
	counts := map[string]int{}
	var order []string
	for _, e := range events {
		if counts[e.Category] == 0 {
			order = append(order, e.Category)
		}
		counts[e.Category]++
	}
	slices.SortStableFunc(order, func(a, b string) int { return cmp.Compare(counts[b], counts[a]) })
	parts := make([]string, len(order))
	for i, c := range order {
		parts[i] = plural(counts[c], c)
	}
	return strings.Join(parts, ", ")
}

// list joins words as a sentence does: "address", "address and country", "address, country and network".
func list(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// plural writes a count of things: "1 policy change", "3 policy changes".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

func span(events []Event) string {
	return roundedDuration(events[len(events)-1].Time.Sub(events[0].Time))
}

// roundedDuration writes a span as a person would: "40 s", "4 min", "3 h".
func roundedDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Round(time.Second)/time.Second))
	case d < 2*time.Hour:
		return fmt.Sprintf("%d min", int(d.Round(time.Minute)/time.Minute))
	default:
		return fmt.Sprintf("%d h", int(d.Round(time.Hour)/time.Hour))
	}
}

func days(d time.Duration) string { return fmt.Sprintf("%d days", int(d.Hours()/24)) }

func kmh(km, hours float64) string {
	if hours <= 0 {
		return "at the same moment"
	}
	return fmt.Sprintf("%.0f km/h", km/hours)
}

func placeName(p geoip.Place) string {
	if p.City != "" {
		return p.City + ", " + p.Country
	}
	return p.CountryName
}

// distance is the great-circle distance between two places, in km.
func distance(a, b geoip.Place) float64 {
	const earthRadius = 6371.0
	rad := func(deg float64) float64 { return deg * math.Pi / 180 }
	dLat, dLon := rad(b.Latitude-a.Latitude), rad(b.Longitude-a.Longitude)
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(rad(a.Latitude))*math.Cos(rad(b.Latitude))*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadius * math.Asin(math.Min(1, math.Sqrt(h)))
}
