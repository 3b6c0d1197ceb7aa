package cbcsim

import (
	"fmt"
	"slices"
	"time"
)

// Truth is what a scenario must make one detection find: the detection, the actor or address it is about,
// and the span its finding's time falls in.
type Truth struct {
	Scenario  string    `json:"scenario"`
	Detection string    `json:"detection"`
	Entity    string    `json:"entity"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Events    int       `json:"events"`
}

// scenario makes an attack's events from the moment it is asked for, and names what it must be found as.
type scenario struct {
	name, detection string
	make            func(at time.Time) (entity string, events []Event)
}

// Who the scenarios pick, by the index of users.
const (
	alice = iota
	bob
	carol
	dave
	erin
	frank
)

// scenarios are the attacks the simulator can add, one per detection of the security signals. Each stands
// apart from the org traffic (TrafficOrg): an outside address, a country nobody signs in from, a role the
// org never grants, or a time the org does not work.
var scenarios = []scenario{
	{"brute-force", "brute_force", func(at time.Time) (string, []Event) {
		victim := users[carol].email
		return victim, repeated(at, 14, 12*time.Second, func(int) Event { return failedLogin(victim, "185.220.101.4") })
	}},
	{"password-spray", "password_spray", func(at time.Time) (string, []Event) {
		const ip = "45.155.205.233"
		victims := append(slices.Clone(guessedUsers), users[bob].email, users[erin].email, users[frank].email, "backup@acme.example")
		return ip, repeated(at, len(victims), time.Minute, func(i int) Event { return failedLogin(victims[i], ip) })
	}},
	{"success-after-failures", "success_after_failures", func(at time.Time) (string, []Event) {
		const ip = "91.240.118.172"
		victim := users[bob].email
		events := repeated(at, 7, 20*time.Second, func(int) Event { return failedLogin(victim, ip) })
		return victim, append(events, signIn(victim, ip, at.Add(7*20*time.Second+30*time.Second)))
	}},
	{"new-source", "new_source", func(at time.Time) (string, []Event) {
		return users[dave].email, []Event{signIn(users[dave].email, travel[0], at)} // Brazil
	}},
	{"impossible-travel", "impossible_travel", func(at time.Time) (string, []Event) {
		who := users[erin]
		return who.email, []Event{signIn(who.email, who.home, at), signIn(who.email, travel[3], at.Add(10*time.Minute))} // Japan, then Singapore
	}},
	{"administrator-granted", "privilege_granted", func(at time.Time) (string, []Event) {
		return users[frank].email, []Event{{CreateTime: at, Actor: users[frank].email, ActorIP: users[frank].ip, Flagged: true,
			Description: "Added user mallory@acme.example with role Administrator"}}
	}},
	{"policy-purge", "defences_weakened", func(at time.Time) (string, []Event) {
		who := users[dave]
		return who.email, repeated(at, 6, 30*time.Second, func(i int) Event {
			return Event{Actor: who.email, ActorIP: who.ip, Flagged: true, Description: policyDeleted(policies[i%len(policies)])}
		})
	}},
	{"key-change-at-night", "api_credentials", func(at time.Time) (string, []Event) {
		who := users[bob]
		return who.email, []Event{{CreateTime: lastClock(at, 2, 30), Actor: who.email, ActorIP: who.home, Flagged: true,
			Description: "Created API key Backup sync with id QWRT7Y2MZP", RequestURL: "https://defense.conferdeploy.net/settings/api-access"}}
	}},
	{"off-hours-administration", "off_hours_admin", func(at time.Time) (string, []Event) {
		who := users[alice]
		descriptions := []string{"Updated policy 'Standard'", "Updated policy 'Servers - Strict'", "Updated role of user erin.ir@acme.example to Analyst", "Updated policy 'Developers'"}
		return who.email, repeated(lastClock(at, 22, 40), len(descriptions), 5*time.Minute, func(i int) Event {
			return Event{Actor: who.email, ActorIP: who.home, Description: descriptions[i]}
		})
	}},
	{"first-live-response", "first_live_response", func(at time.Time) (string, []Event) {
		who := users[carol]
		return who.email, []Event{{CreateTime: at, Actor: who.email, ActorIP: who.ip, Flagged: true,
			Description: "Started Live Response session 4242 on device SRV-DB-02"}}
	}},
}

// Scenarios names the attacks Attack can add, in order.
func Scenarios() []string {
	out := make([]string, len(scenarios))
	for i, s := range scenarios {
		out[i] = s.name
	}
	return out
}

// Attack adds a scenario's events as if they had happened from at (the night before it, for the scenarios
// of the night), and returns what a detection must find.
func (s *Simulator) Attack(name string, at time.Time) (Truth, error) {
	i := slices.IndexFunc(scenarios, func(sc scenario) bool { return sc.name == name })
	if i < 0 {
		return Truth{}, fmt.Errorf("scenario %q is unknown: use one of %v", name, Scenarios())
	}
	entity, events := scenarios[i].make(at.UTC().Truncate(time.Millisecond))
	for j := range events {
		events[j].OrgKey = s.cfg.OrgKey
	}
	s.Inject(events...)
	return Truth{Scenario: name, Detection: scenarios[i].detection, Entity: entity, Events: len(events),
		From: events[0].CreateTime, To: events[len(events)-1].CreateTime}, nil
}

// repeated makes n events step apart from at.
func repeated(at time.Time, n int, step time.Duration, event func(i int) Event) []Event {
	out := make([]Event, n)
	for i := range out {
		out[i] = event(i)
		out[i].CreateTime = at.Add(time.Duration(i) * step)
	}
	return out
}

func failedLogin(actor, ip string) Event {
	return Event{Actor: actor, ActorIP: ip, Flagged: true, Description: loginFailed(actor)}
}

func signIn(actor, ip string, at time.Time) Event {
	return Event{CreateTime: at, Actor: actor, ActorIP: ip, Description: "Logged in successfully"}
}

// lastClock is the latest time at or before at whose UTC clock reads hour:minute.
func lastClock(at time.Time, hour, minute int) time.Time {
	t := time.Date(at.Year(), at.Month(), at.Day(), hour, minute, 0, 0, time.UTC)
	if t.After(at) {
		t = t.AddDate(0, 0, -1)
	}
	return t
}
