package cbcsim

import (
	"time"
	_ "time/tzdata" // the people's time zones, on machines without a zone database
)

// TrafficOrg is the traffic of an organisation with no attack in it (Config.Traffic): people sign in during
// office hours in their own time zones, from the office or, on set days, from home; administrators change
// policies, roles, API keys and run Live Response only on weekdays between 09:00 and 17:00 in Europe, always
// from the office for API keys; a few passwords are mistyped; connectors sign in around the clock. It is the
// baseline the security signals must stay silent on, and the scenarios (scenarios.go) add attacks to it.
const TrafficOrg = "org"

// people are the users of the org traffic, by the index of users: where each works and whether they administer.
var people = []struct {
	zone  string
	admin bool
}{
	{"Europe/Berlin", true},     // alice
	{"Europe/London", true},     // bob
	{"America/New_York", false}, // carol
	{"Europe/Paris", true},      // dave
	{"Asia/Tokyo", false},       // erin
	{"America/Toronto", false},  // frank
}

var zones = func() []*time.Location {
	out := make([]*time.Location, len(people))
	for i, p := range people {
		loc, err := time.LoadLocation(p.zone)
		if err != nil {
			panic(err) // the embedded zone database has every zone above
		}
		out[i] = loc
	}
	return out
}()

// inHours says whether t is within [from, to) o'clock on a weekday in the user's time zone.
func inHours(user int, t time.Time, from, to int) bool {
	local := t.In(zones[user])
	if local.Weekday() == time.Saturday || local.Weekday() == time.Sunday {
		return false
	}
	return local.Hour() >= from && local.Hour() < to
}

// atHome says whether a user works from home on t's day: every third day, by a rule of the day and the user
// alone, so every home address is used in any two weeks.
func atHome(user int, t time.Time) bool {
	return (t.In(zones[user]).YearDay()+user)%3 == 0
}

func (g *generator) orgAddress(user int, t time.Time) string {
	if atHome(user, t) {
		return users[user].home
	}
	return users[user].ip
}

// orgEventAt is one event of the org traffic at t.
func (g *generator) orgEventAt(t time.Time) Event {
	rec := Event{CreateTime: t.UTC().Truncate(time.Millisecond), OrgKey: g.orgKey}
	var working []int
	for u := range people {
		if inHours(u, t, 8, 18) {
			working = append(working, u)
		}
	}
	if len(working) == 0 || g.rng.IntN(1000) < 350 {
		c := connectors[g.rng.IntN(len(connectors))]
		rec.Actor, rec.ActorIP, rec.Verbose = c.id, c.ip, true
		rec.Description = connectorSignedIn(c.id)
		return g.shaped(rec)
	}
	user := working[g.rng.IntN(len(working))]
	rec.Actor, rec.ActorIP = users[user].email, g.orgAddress(user, t)
	page := func() string { return g.host + consolePages[g.rng.IntN(len(consolePages))] }
	administers := people[user].admin && inHours(user, t, 9, 17)
	switch roll := g.rng.IntN(1000); {
	case roll < 200:
		rec.Description = "Logged out"
	case roll < 230: // a mistyped password, now and then
		rec.Description = loginFailed(users[user].email)
		rec.Flagged = true
	case roll < 300:
		rec.Description = g.reportUpdated()
	case !administers || roll < 900:
		rec.Description = "Logged in successfully"
	case roll < 920: // a routine policy edit: a few a day
		rec.Description = g.policyUpdated()
		rec.RequestURL = page()
	case roll < 935:
		rec.Description = g.roleChanged(ordinaryRoles)
		rec.Flagged = true
	case roll < 940:
		rec.Description = g.userAdded(ordinaryRoles)
	case roll < 960:
		rec.Description = g.liveResponse("Started")
		rec.Flagged = true
	case roll < 980:
		rec.Description = g.liveResponse("Ended")
	default: // API keys and connectors change from the office only
		rec.ActorIP = users[user].ip
		rec.RequestURL = page()
		c := connectors[g.rng.IntN(len(connectors))]
		switch {
		case roll < 990:
			rec.Description = connectorUpdated(c.name, c.id)
		case roll < 997:
			rec.Description = g.keyCreated(c.name)
			rec.Flagged = true
		default:
			rec.Description = g.keyDeleted()
			rec.Flagged = true
		}
	}
	return g.shaped(rec)
}

// ordinaryRoles are the roles the org grants day to day: never Administrator.
var ordinaryRoles = []string{"Analyst", "Live Response Analyst", "Read Only"}
